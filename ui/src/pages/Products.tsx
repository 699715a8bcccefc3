import { useState } from "react";
import { keys, CHANGED_BY_PRODUCTS } from "../queryKeys";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, IpcError } from "../ipc";
import type { Product } from "../bindings/Product";
import type { LicenseType } from "../bindings/LicenseType";
import type { ProductStatus } from "../bindings/ProductStatus";
import { ReviewQueue } from "../components/ReviewQueue";
import { latestError } from "../hooks/latestError";
import { Choices } from "../components/Choices";
import { LICENSE_TYPE_CHOICES, PRODUCT_STATUS_CHOICES } from "../options";
import { Releases } from "./Releases";

interface Draft {
  name: string;
  description: string;
  sku: string;
  items: string;
  limit: string;
  type: LicenseType;
  status: ProductStatus;
}

const EMPTY: Draft = { name: "", description: "", sku: "", items: "", limit: "", type: "regular", status: "active" };

function fromProduct(p: Product): Draft {
  return { name: p.name, description: p.description, sku: p.sku ?? "", items: p.envato_item_ids.join(", "), limit: String(p.activation_limit), type: p.license_type, status: p.status };
}

export function Products() {
  const queryClient = useQueryClient();
  const products = useQuery({ queryKey: keys.products, queryFn: ipc.productsList });
  const [editing, setEditing] = useState<number | "new" | null>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [onlyReview, setOnlyReview] = useState(false);
  const [releasesOf, setReleasesOf] = useState<number | null>(null);
  const releasesProduct = products.data?.find((p) => p.id === releasesOf);
  const reviewed = useMutation({
    mutationFn: (id: number) => ipc.productMarkReviewed(id),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: keys.products }),
  });
  const toReview = products.data?.filter((p) => p.needs_review).length ?? 0;
  const shown = (products.data ?? []).filter((p) => !onlyReview || p.needs_review);

  const save = useMutation({
    mutationFn: () => {
      const ids = draft.items.split(/[\s,]+/).filter(Boolean).map(Number);
      if (ids.some((n) => !Number.isInteger(n) || n <= 0)) {
        return Promise.reject(new IpcError("input.invalid", "Envato item IDs are positive whole numbers, separated by commas.", "envato_item_ids"));
      }
      const limit = draft.limit.trim() === "" ? undefined : Number(draft.limit);
      if (limit !== undefined && !Number.isInteger(limit)) {
        return Promise.reject(new IpcError("input.invalid", "The activation limit is a whole number from 1 to 1000.", "activation_limit"));
      }
      const body = { name: draft.name, description: draft.description, sku: draft.sku || undefined, envato_item_ids: ids, activation_limit: limit, license_type: draft.type, status: draft.status };
      return editing === "new" ? ipc.productCreate(body) : ipc.productUpdate(editing as number, body);
    },
    onSuccess: () => {
      setEditing(null);
      for (const key of CHANGED_BY_PRODUCTS) void queryClient.invalidateQueries({ queryKey: key });
    },
  });
  const error = latestError(reviewed, save);
  /** Opens the form on `draft`, with no earlier failure shown. */
  const edit = (what: number | "new", d: Draft) => { setEditing(what); setDraft(d); save.reset(); reviewed.reset(); };

  const set = (k: keyof Draft) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) => setDraft((d) => ({ ...d, [k]: e.target.value }));
  const fieldError = (f: string) => error?.field === f ? <p className="field-error" role="alert">{error.message}</p> : null;

  return (
    <section>
      <header className="page-head">
        <h1>Products {toReview > 0 && <span className="badge" data-testid="review-badge" title="Auto-created products not reviewed yet">{toReview} to review</span>}</h1>
        <button type="button" className="primary" data-testid="new-product" onClick={() => edit("new", EMPTY)}>New product</button>
      </header>
      {releasesProduct && (
        <div className="card" data-testid="releases-panel">
          <header className="page-head">
            <h2>{releasesProduct.name} · Releases</h2>
            <button type="button" className="secondary" data-testid="releases-close" onClick={() => setReleasesOf(null)}>Close</button>
          </header>
          <Releases product={releasesProduct} />
        </div>
      )}
      <div className="two-columns">
        <div>
          {editing !== null && (
            <form className="card product-form" data-testid="product-form" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
              <h3>{editing === "new" ? "New product" : "Edit product"}</h3>
              <label className="field">Name<input data-testid="product-name" value={draft.name} onChange={set("name")} />{fieldError("name")}</label>
              <label className="field">Description<textarea rows={3} value={draft.description} onChange={set("description")} /></label>
              <div className="row3">
                <label className="field">SKU<input data-testid="product-sku" value={draft.sku} onChange={set("sku")} placeholder="optional" />{fieldError("sku")}</label>
                <label className="field">Envato item IDs<input data-testid="product-items" value={draft.items} onChange={set("items")} placeholder="e.g. 20929979, 31415926" />{fieldError("envato_item_ids")}</label>
              </div>
              <div className="row3">
                <label className="field">Activation limit<input data-testid="product-limit" value={draft.limit} onChange={set("limit")} placeholder="default from settings" />{fieldError("activation_limit")}</label>
                <label className="field">License type<select value={draft.type} onChange={set("type")}><Choices of={LICENSE_TYPE_CHOICES} /></select></label>
                <label className="field">Status<select value={draft.status} onChange={set("status")}><Choices of={PRODUCT_STATUS_CHOICES} /></select></label>
              </div>
              {error && !error.field && <div className="banner error" role="alert">{error.message}</div>}
              <div className="form-actions">
                <button type="submit" className="primary" data-testid="product-save" disabled={save.isPending}>Save</button>
                <button type="button" className="secondary" onClick={() => setEditing(null)}>Cancel</button>
              </div>
              {typeof editing === "number" && (
                <MergeInto from={editing} products={products.data ?? []} onMerged={() => {
                  setEditing(null);
                  for (const key of CHANGED_BY_PRODUCTS) void queryClient.invalidateQueries({ queryKey: key });
                }} />
              )}
            </form>
          )}
          {products.isError && <div className="banner error" role="alert">{products.error.message}</div>}
          {products.data && products.data.length === 0 && <div className="empty"><p className="muted">No products yet. Create one, or let synced sales create them (Auto-Create Products).</p></div>}
          {products.data && products.data.length > 0 && (
            <label className="check" data-testid="filter-review-label">
              <input type="checkbox" data-testid="filter-review" checked={onlyReview} onChange={(e) => setOnlyReview(e.target.checked)} />
              {" "}Only auto-created products to review (the seed's advice: review them weekly)
            </label>
          )}
          {products.data && products.data.length > 0 && (
            <div className="table-scroll">
              <table className="table" data-testid="products-table">
                <thead><tr><th>Name</th><th>SKU</th><th>Envato items</th><th>Limit</th><th>Type</th><th>Status</th><th>Licenses</th><th></th></tr></thead>
                <tbody>
                  {shown.map((p) => (
                    <tr key={p.id} data-testid="product-row">
                      <td>{p.name} {p.needs_review && <span className="pill suspended" data-testid="needs-review">Auto-created · review</span>}</td>
                      <td>{p.sku ?? "—"}</td>
                      <td>{p.envato_item_ids.join(", ") || "—"}</td>
                      <td>{p.activation_limit}</td>
                      <td>{p.license_type}</td>
                      <td><span className={`pill ${p.status}`}>{p.status}</span></td>
                      <td>{p.license_count}</td>
                      <td>
                        <button type="button" className="link" data-testid="edit-product" onClick={() => { edit(p.id, fromProduct(p)); setReleasesOf(null); }}>Edit</button>
                        {" "}<button type="button" className="link" data-testid="product-releases" onClick={() => { setReleasesOf(p.id); setEditing(null); }}>Releases</button>
                        {p.needs_review && <> <button type="button" className="link" data-testid="mark-reviewed" onClick={() => reviewed.mutate(p.id)}>Mark reviewed</button></>}
                      </td>
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

/** "Merge into…": the same product sold on two marketplaces becomes one (items and licenses move). */
function MergeInto({ from, products, onMerged }: { from: number; products: Product[]; onMerged: () => void }) {
  const others = products.filter((p) => p.id !== from);
  const [into, setInto] = useState(others[0] ? String(others[0].id) : "");
  const [confirming, setConfirming] = useState(false);
  const merge = useMutation({ mutationFn: () => ipc.productMerge(from, Number(into)), onSuccess: onMerged });
  if (others.length === 0) return null;
  const self = products.find((p) => p.id === from);
  const target = others.find((p) => String(p.id) === into);
  return (
    <div className="merge" data-testid="merge">
      <label className="field">Merge into another product
        <select data-testid="merge-into" value={into} onChange={(e) => { setInto(e.target.value); setConfirming(false); }}>
          {others.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
      </label>
      {confirming ? (
        <p>
          {self?.license_count ?? 0} licenses and the Envato items {self?.envato_item_ids.join(", ") || "(none)"} move to “{target?.name}”,
          and “{self?.name}” is removed. Keys and activations stay as they are.{" "}
          <button type="button" className="danger" data-testid="merge-confirm" disabled={merge.isPending} onClick={() => merge.mutate()}>Merge</button>{" "}
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>Cancel</button>
        </p>
      ) : (
        <button type="button" className="secondary" data-testid="merge-start" onClick={() => setConfirming(true)}>Merge…</button>
      )}
      {merge.isError && <div className="banner error" role="alert">{latestError(merge)?.message}</div>}
    </div>
  );
}
