import { useQuery } from "@tanstack/react-query";
import { keys } from "../queryKeys";
import { ipc } from "../ipc";
import { useSyncStatus } from "../hooks/useSyncStatus";
import type { Dashboard as Data } from "../bindings/Dashboard";

const COLORS = ["#2f6fed", "#f5b82e", "#1d8a4c", "#c62f3b", "#8a4bd6", "#0ea5a4", "#e56b1f", "#6b7280"];

/** Where the next-step buttons lead. */
export type NextPage = "settings" | "products" | "licenses";

export function Dashboard({ onNavigate }: { onNavigate?: (page: NextPage) => void }) {
  const data = useQuery({ queryKey: keys.dashboard, queryFn: ipc.dashboard });
  const sync = useSyncStatus();
  const d = data.data;
  const last = d?.last_sync;
  return (
    <section>
      <header className="page-head"><h1>Dashboard</h1></header>
      {data.isError && <div className="banner error" role="alert">{data.error.message}</div>}
      {d && d.licenses.total === 0 && (
        <NextSteps connected={!sync.data?.needs_token} products={d.products} onNavigate={onNavigate} />
      )}
      {d && d.outbox.failing.map((f) => (
        <div key={f.destination} className="banner warn" role="alert" data-testid="outbox-failing">
          Delivery to {f.label} is failing since {new Date(f.since).toLocaleString()}: {f.last_error} Messages are kept and retried.
        </div>
      ))}
      {d && (d.outbox.pending > 0 || d.outbox.failed > 0) && (
        <p className="muted" data-testid="outbox-counts">
          Webhooks and e-mails: {d.outbox.pending} waiting, {d.outbox.failed} failed (see Settings › Webhooks and Email).
        </p>
      )}
      <div className="stats">
        <Stat label="Active licenses" value={d ? String(d.licenses.active) : "…"} testid="stat-active" />
        <Stat label="Suspended / revoked" value={d ? `${d.licenses.suspended} / ${d.licenses.revoked}` : "…"} testid="stat-suspended" />
        <Stat label="Products" value={d ? String(d.products) : "…"} testid="stat-products" />
        <Stat label="Sales, last 30 days" value={d ? `${d.sales_last_30_days} · ${d.revenue_last_30_days} USD` : "…"} testid="stat-sales" />
      </div>
      <div className="card" data-testid="sales-chart-card">
        <h3>Sales per day, by product</h3>
        {d && d.sales_last_30_days === 0 && <p className="muted">No sales in the last 30 days yet.</p>}
        {d && d.sales_last_30_days > 0 && <SalesChart data={d} />}
      </div>
      <div className="card" data-testid="last-sync">
        <h3>Last sync</h3>
        {!last && <p className="muted">{sync.data?.needs_token ? "Add your Envato token under Settings › Envato Integration to start syncing." : "No sync has run yet."}</p>}
        {last && (
          <p className={last.error ? "field-error" : ""}>
            {new Date(last.started_at).toLocaleString()}: {last.status}
            {last.error ? `: ${last.error.message}` : `, ${last.licenses_created} new licenses, ${last.products_created} new products, ${last.sales_queued} sales waiting for review.`}
          </p>
        )}
      </div>
    </section>
  );
}

/** A stacked bar per day; one colour per product (the top seven, the rest together). */
function SalesChart({ data }: { data: Data }) {
  const top = data.series.slice(0, 7);
  const rest = data.series.slice(7);
  const series = rest.length
    ? [...top, { product_id: -1, product_name: "Other products", counts: data.days.map((_, i) => rest.reduce((n, s) => n + s.counts[i], 0)) }]
    : top;
  const totals = data.days.map((_, i) => series.reduce((n, s) => n + s.counts[i], 0));
  const max = Math.max(1, ...totals);
  const W = 720, H = 200, pad = 24, bw = (W - pad) / data.days.length;
  return (
    <div>
      <svg viewBox={`0 0 ${W} ${H + 20}`} className="chart" data-testid="sales-chart" role="img" aria-label="Sales per day by product">
        <line x1={pad} y1={H} x2={W} y2={H} stroke="currentColor" strokeOpacity="0.3" />
        <text x={0} y={12} fontSize="10" fill="currentColor" opacity="0.6">{max}</text>
        {data.days.map((day, i) => {
          let y = H;
          return (
            <g key={day}>
              {series.map((s, k) => {
                const h = (s.counts[i] / max) * (H - 16);
                y -= h;
                return h > 0 ? <rect key={s.product_id} data-testid="chart-bar" x={pad + i * bw + 1} y={y} width={bw - 2} height={h} fill={COLORS[k % COLORS.length]}><title>{`${day}: ${s.product_name}: ${s.counts[i]}`}</title></rect> : null;
              })}
              {i % 5 === 0 && <text x={pad + i * bw} y={H + 14} fontSize="10" fill="currentColor" opacity="0.6">{day.slice(5)}</text>}
            </g>
          );
        })}
      </svg>
      <ul className="legend">
        {series.map((s, k) => <li key={s.product_id}><span className="swatch" style={{ background: COLORS[k % COLORS.length] }} />{s.product_name}</li>)}
      </ul>
    </div>
  );
}

/** Until there is data: what to do next, in order, each step marked done when it is. */
function NextSteps({ connected, products, onNavigate }: { connected: boolean; products: number; onNavigate?: (page: NextPage) => void }) {
  const steps: { id: string; done: boolean; title: string; text: string; action: string; to: NextPage }[] = [
    { id: "connect", done: connected, title: "Connect your Envato account",
      text: "Paste a personal token once: your sales then sync in the background and become licenses.",
      action: "Open Envato settings", to: "settings" },
    { id: "product", done: products > 0, title: "Create a product",
      text: "One per theme or plugin you sell, with its Envato item ID, so sales find their product.",
      action: "Add a product", to: "products" },
    { id: "license", done: false, title: "Make a license by hand",
      text: "For a sale outside Envato, or to try activation with your product before the first sale syncs.",
      action: "Make a license", to: "licenses" },
  ];
  return (
    <div className="card next-steps" data-testid="next-steps">
      <h3>Get started</h3>
      <ol>
        {steps.map((st) => (
          <li key={st.id} data-testid={`next-${st.id}`} className={st.done ? "done" : ""}>
            <strong>{st.done ? "✓ " : ""}{st.title}</strong>
            <p className="muted">{st.text}</p>
            {!st.done && onNavigate && (
              <button type="button" className="secondary" data-testid={`next-${st.id}-go`} onClick={() => onNavigate(st.to)}>{st.action}</button>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}

function Stat({ label, value, testid }: { label: string; value: string; testid: string }) {
  return (
    <div className="stat" data-testid={testid}>
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}
