import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc } from "../ipc";
import { CHANGED_BY_PRODUCTS, keys } from "../queryKeys";
import { latestError } from "../hooks/latestError";
import type { ReviewItem } from "../bindings/ReviewItem";

function when(iso: string | null) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

/** Sales no product matched (Auto-Create off): create the product from the item, or map it.
 *  Shown on the Sync log and the Products page. */
export function ReviewQueue() {
  const queryClient = useQueryClient();
  const queue = useQuery({ queryKey: keys.reviewQueue, queryFn: ipc.reviewQueue });
  const products = useQuery({ queryKey: keys.products, queryFn: ipc.productsList });
  const done = () => {
    for (const key of CHANGED_BY_PRODUCTS) void queryClient.invalidateQueries({ queryKey: key });
  };
  const create = useMutation({ mutationFn: ipc.reviewCreateProduct, onSuccess: done });
  const map = useMutation({
    mutationFn: ({ item, product }: { item: number; product: number }) => ipc.reviewMap(item, product),
    onSuccess: done,
  });
  const error = latestError(create, map)?.message ?? null;
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
