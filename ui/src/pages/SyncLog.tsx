import { useState } from "react";
import { keys, CHANGED_BY_PRODUCTS } from "../queryKeys";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, IpcError } from "../ipc";
import { useSyncStatus } from "../useSyncStatus";
import type { SyncStatus } from "../bindings/SyncStatus";
import type { ReviewItem } from "../bindings/ReviewItem";

function when(iso: string | null) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

export function SyncLog() {
  const status = useSyncStatus();
  const runs = useQuery({ queryKey: keys.syncRuns, queryFn: () => ipc.syncRuns(50) });
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const syncNow = useMutation({ mutationFn: ipc.syncNow, onError: (e: IpcError) => setError(e.message), onMutate: () => setError(null) });
  const pause = useMutation({
    mutationFn: (paused: boolean) => ipc.syncSetPaused(paused),
    onSuccess: (s) => queryClient.setQueryData(keys.syncStatus, s),
    onError: (e: IpcError) => setError(e.message),
  });
  const cancel = useMutation({
    mutationFn: ipc.syncCancel,
    onSuccess: (st) => queryClient.setQueryData(keys.syncStatus, st),
    onError: (e: IpcError) => setError(e.message),
  });
  const s = status.data;

  return (
    <section>
      <header className="page-head">
        <h1>Sync log</h1>
        <div className="form-actions">
          {s && (
            <button type="button" className="secondary" data-testid="pause-sync" onClick={() => pause.mutate(!s.paused)}>
              {s.paused ? "Resume syncing" : "Pause syncing"}
            </button>
          )}
          {s?.running && (
            <button type="button" className="secondary" data-testid="sync-cancel" disabled={s.cancelling || cancel.isPending} onClick={() => cancel.mutate()}>
              {s.cancelling ? "Stopping after this page…" : "Cancel sync"}
            </button>
          )}
          <button type="button" className="primary" data-testid="sync-now" disabled={!s || s.running || s.needs_token} onClick={() => syncNow.mutate()}>
            {s?.running ? "Syncing…" : "Sync now"}
          </button>
        </div>
      </header>
      {s && <SyncBanner status={s} />}
      <DeliveryWarnings />
      {error && <div className="banner error" role="alert">{error}</div>}
      <div className="two-columns">
        <div>
          <h2 className="section-title">Runs</h2>
          {runs.data?.length === 0 && <div className="empty"><p className="muted">No syncs yet.</p></div>}
          {runs.data && runs.data.length > 0 && (
            <div className="table-scroll">
            <table className="table" data-testid="sync-runs">
              <thead><tr><th>Started</th><th>Trigger</th><th>Status</th><th>Pages</th><th>Sales</th><th>Licenses</th><th>Products</th><th>Review</th></tr></thead>
              <tbody>
                {runs.data.map((r) => (
                  <tr key={r.id} data-testid="sync-run" data-status={r.status}>
                    <td>{when(r.started_at)}</td>
                    <td>{r.trigger}</td>
                    <td>
                      <span className={`pill ${r.status === "succeeded" ? "active" : r.status === "running" ? "" : "revoked"}`}>{r.status}</span>
                      {r.error && <div className="field-error">{r.error.message}</div>}
                      {r.warnings.map((w, i) => <div key={i} className="warn-text">{w}</div>)}
                    </td>
                    <td>{r.pages_fetched}</td>
                    <td>{r.sales_seen}</td>
                    <td data-testid="run-licenses">{r.licenses_created}</td>
                    <td>{r.products_created}</td>
                    <td>{r.sales_queued}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            </div>
          )}
        </div>
        <ReviewQueue />
      </div>
    </section>
  );
}

function SyncBanner({ status: s }: { status: SyncStatus }) {
  if (s.running) {
    const p = s.progress;
    return (
      <div className="card sync-progress" data-testid="sync-progress" role="status">
        <div>Syncing… {p ? `page ${p.pages_fetched}, ${p.sales_seen} sales seen, ${p.licenses_created} new licenses, ${p.products_created} new products` : "starting"}</div>
        <div className="progress"><div className="bar indeterminate" /></div>
      </div>
    );
  }
  if (s.needs_token) return <div className="banner warn" data-testid="sync-needs-token">Not syncing: add your Envato personal token under Settings › Envato Integration.</div>;
  if (s.auth_failed) return <div className="banner error" data-testid="sync-auth-failed">Not syncing: Envato rejected the token (revoked or deleted). Paste a new token under Settings › Envato Integration.</div>;
  return (
    <p className="muted" data-testid="sync-idle">
      {s.paused ? "Syncing is paused. " : ""}
      {s.last_success_at ? `Last successful sync ${when(s.last_success_at)}. ` : ""}
      {s.next_run_at ? `Next sync ${when(s.next_run_at)}.` : ""}
    </p>
  );
}

export function ReviewQueue() {
  const queryClient = useQueryClient();
  const queue = useQuery({ queryKey: keys.reviewQueue, queryFn: ipc.reviewQueue });
  const products = useQuery({ queryKey: keys.products, queryFn: ipc.productsList });
  const [error, setError] = useState<string | null>(null);
  const done = () => {
    setError(null);
    for (const key of CHANGED_BY_PRODUCTS) void queryClient.invalidateQueries({ queryKey: key });
  };
  const create = useMutation({ mutationFn: ipc.reviewCreateProduct, onSuccess: done, onError: (e: IpcError) => setError(e.message) });
  const map = useMutation({
    mutationFn: ({ item, product }: { item: number; product: number }) => ipc.reviewMap(item, product),
    onSuccess: done,
    onError: (e: IpcError) => setError(e.message),
  });
  return (
    <aside className="review">
      <h2 className="section-title">Review queue</h2>
      <p className="help">Sales no product matched while Auto-Create Products was off. Create the product from the Envato item, or map the item to one of yours: its waiting sales become licenses.</p>
      {error && <div className="banner error" role="alert">{error}</div>}
      {queue.data?.length === 0 && <p className="muted" data-testid="review-empty">Nothing waiting.</p>}
      {queue.data?.map((q) => (
        <ReviewRow key={q.item_id} item={q} products={products.data ?? []}
          onCreate={() => create.mutate(q.item_id)} onMap={(product) => map.mutate({ item: q.item_id, product })} />
      ))}
    </aside>
  );
}

function ReviewRow({ item, products, onCreate, onMap }: {
  item: ReviewItem; products: { id: number; name: string }[]; onCreate: () => void; onMap: (product: number) => void;
}) {
  const [target, setTarget] = useState("");
  return (
    <div className="card review-item" data-testid="review-item">
      <div><strong>{item.item_name}</strong> <span className="muted">#{item.item_id} · {item.marketplace ?? "Envato"}</span></div>
      <div className="muted">{item.waiting_sales} sale{item.waiting_sales === 1 ? "" : "s"} waiting, newest {when(item.newest_sold_at)}</div>
      <div className="form-actions">
        <button type="button" className="secondary" data-testid="review-create" onClick={onCreate}>Create product</button>
        <select aria-label="Map to product" value={target} onChange={(e) => setTarget(e.target.value)}>
          <option value="">Map to…</option>
          {products.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
        <button type="button" className="secondary" disabled={!target} onClick={() => onMap(Number(target))}>Map</button>
      </div>
    </div>
  );
}

/** Webhook endpoints or the mail server that are failing: one line each, until they recover. */
function DeliveryWarnings() {
  const counts = useQuery({ queryKey: keys.outboxCounts, queryFn: ipc.outboxCounts });
  const c = counts.data;
  if (!c || (c.failing.length === 0 && c.failed === 0)) return null;
  return (
    <div className="banner warn" role="alert" data-testid="delivery-warnings">
      {c.failing.map((f) => (
        <div key={f.destination}>Delivery to {f.label} is failing since {when(f.since)}: {f.last_error}</div>
      ))}
      <div>{c.pending} message{c.pending === 1 ? "" : "s"} waiting, {c.failed} failed for good (Settings › Webhooks and Email).</div>
    </div>
  );
}
