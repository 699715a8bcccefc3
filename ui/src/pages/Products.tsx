import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, IpcError } from "../ipc";

export function Products() {
  const queryClient = useQueryClient();
  const products = useQuery({ queryKey: ["products"], queryFn: ipc.productsList });
  const [name, setName] = useState("");
  const [sku, setSku] = useState("");
  const [items, setItems] = useState("");
  const [error, setError] = useState<IpcError | null>(null);

  const create = useMutation({
    mutationFn: () => {
      const ids = items.split(/[\s,]+/).filter(Boolean).map(Number);
      if (ids.some((n) => !Number.isInteger(n) || n <= 0)) {
        return Promise.reject(new IpcError("input.invalid", "Envato item IDs are positive whole numbers, separated by commas.", "envato_item_ids"));
      }
      return ipc.productCreate({ name, sku: sku || undefined, envato_item_ids: ids });
    },
    onSuccess: () => {
      setName(""); setSku(""); setItems(""); setError(null);
      void queryClient.invalidateQueries({ queryKey: ["products"] });
    },
    onError: (e: IpcError) => setError(e),
  });

  return (
    <section>
      <header className="page-head"><h1>Products</h1></header>
      <form className="inline-form card" onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
        <input aria-label="Product name" placeholder="Product name" value={name} onChange={(e) => setName(e.target.value)} />
        <input aria-label="SKU" placeholder="SKU (optional)" value={sku} onChange={(e) => setSku(e.target.value)} />
        <input aria-label="Envato item IDs" placeholder="Envato item IDs, e.g. 20929979" value={items} onChange={(e) => setItems(e.target.value)} />
        <button type="submit" className="primary" disabled={create.isPending}>Add product</button>
        {error && <p className="field-error" role="alert">{error.message}</p>}
      </form>
      {products.isError && <div className="banner error" role="alert">{products.error.message}</div>}
      {products.data && products.data.length === 0 && <div className="empty"><p className="muted">No products yet.</p></div>}
      {products.data && products.data.length > 0 && (
        <table className="table">
          <thead><tr><th>Name</th><th>SKU</th><th>Envato items</th><th>Limit</th><th>Type</th><th>Status</th><th>Licenses</th></tr></thead>
          <tbody>
            {products.data.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>{p.sku ?? "—"}</td>
                <td>{p.envato_item_ids.join(", ") || "—"}</td>
                <td>{p.activation_limit}</td>
                <td>{p.license_type}</td>
                <td><span className={`pill ${p.status}`}>{p.status}</span></td>
                <td>{p.license_count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
