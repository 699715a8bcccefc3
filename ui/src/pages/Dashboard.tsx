import { useQuery } from "@tanstack/react-query";
import { ipc } from "../ipc";

export function Dashboard() {
  const products = useQuery({ queryKey: ["products"], queryFn: ipc.productsList });
  const licenses = useQuery({ queryKey: ["licenses", "dashboard"], queryFn: () => ipc.licensesList({ limit: 1000 }) });
  const counts = { active: 0, suspended: 0, revoked: 0 };
  for (const l of licenses.data ?? []) counts[l.status] += 1;
  const capped = (licenses.data?.length ?? 0) >= 1000 ? "+" : "";
  return (
    <section>
      <header className="page-head"><h1>Dashboard</h1></header>
      <div className="stats">
        <Stat label="Products" value={products.data ? String(products.data.length) : "…"} testid="stat-products" />
        <Stat label="Active licenses" value={licenses.data ? counts.active + capped : "…"} testid="stat-active" />
        <Stat label="Suspended" value={licenses.data ? String(counts.suspended) : "…"} testid="stat-suspended" />
        <Stat label="Revoked" value={licenses.data ? String(counts.revoked) : "…"} testid="stat-revoked" />
      </div>
      {products.data?.length === 0 && (
        <div className="empty">
          <h3>Welcome to KeyManager</h3>
          <p className="muted">Add your products under Products, then review your defaults under Settings.</p>
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
