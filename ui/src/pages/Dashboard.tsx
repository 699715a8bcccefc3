import { useQuery } from "@tanstack/react-query";
import { ipc } from "../ipc";
import { useSyncStatus } from "../useSyncStatus";

export function Dashboard() {
  const products = useQuery({ queryKey: ["products"], queryFn: ipc.productsList });
  const counts = useQuery({ queryKey: ["license_counts"], queryFn: ipc.licenseCounts });
  const sync = useSyncStatus();
  const c = counts.data;
  const last = sync.data?.last;
  return (
    <section>
      <header className="page-head"><h1>Dashboard</h1></header>
      <div className="stats">
        <Stat label="Products" value={products.data ? String(products.data.length) : "…"} testid="stat-products" />
        <Stat label="Active licenses" value={c ? String(c.active) : "…"} testid="stat-active" />
        <Stat label="Suspended" value={c ? String(c.suspended) : "…"} testid="stat-suspended" />
        <Stat label="Revoked" value={c ? String(c.revoked) : "…"} testid="stat-revoked" />
      </div>
      <div className="card" data-testid="last-sync">
        <h3>Last sync</h3>
        {!last && <p className="muted">{sync.data?.needs_token ? "Add your Envato token under Settings › Envato Integration to start syncing." : "No sync has run yet."}</p>}
        {last && (
          <p className={last.error ? "field-error" : ""}>
            {new Date(last.finished_at).toLocaleString()}:{" "}
            {last.error ? `failed: ${last.error.message}` : `${last.licenses_created} new licenses, ${last.products_created} new products, ${last.sales_queued} sales waiting for review.`}
          </p>
        )}
      </div>
      {products.data?.length === 0 && !last && (
        <div className="empty">
          <h3>Welcome to KeyManager</h3>
          <p className="muted">Add your products under Products, then your Envato token under Settings › Envato Integration.</p>
        </div>
      )}
    </section>
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
