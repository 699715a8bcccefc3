import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { ipc } from "../ipc";
import type { LicenseStatus } from "../bindings/LicenseStatus";

export function Licenses() {
  const [status, setStatus] = useState<LicenseStatus | "">("");
  const licenses = useQuery({
    queryKey: ["licenses", status],
    queryFn: () => ipc.licensesList({ status: status || null, limit: 200 }),
  });
  return (
    <section>
      <header className="page-head">
        <h1>Licenses</h1>
        <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value as LicenseStatus | "")}>
          <option value="">All statuses</option>
          <option value="active">Active</option>
          <option value="suspended">Suspended</option>
          <option value="revoked">Revoked</option>
        </select>
      </header>
      {licenses.isError && <div className="banner error" role="alert">{licenses.error.message}</div>}
      {licenses.data && licenses.data.length === 0 && (
        <div className="empty"><p className="muted">No licenses yet. They appear here as sales sync from Envato.</p></div>
      )}
      {licenses.data && licenses.data.length > 0 && (
        <table className="table">
          <thead><tr><th>Key</th><th>Product</th><th>Buyer</th><th>Status</th><th>Activations</th><th>Sold</th></tr></thead>
          <tbody>
            {licenses.data.map((l) => (
              <tr key={l.id}>
                <td className="mono">{l.license_key}</td>
                <td>{l.product_name}</td>
                <td>{l.buyer ?? (l.source === "envato" ? "Guest checkout" : "—")}</td>
                <td><span className={`pill ${l.status}`}>{l.status}</span></td>
                <td>{l.activations_used} / {l.activation_limit}</td>
                <td>{l.sold_at ? new Date(l.sold_at).toLocaleString() : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
