import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ipc } from "../../ipc";
import { keys } from "../../queryKeys";
import { latestError } from "../../hooks/latestError";
import type { License } from "../../bindings/License";
import type { Product } from "../../bindings/Product";

/** A license made by hand, for a sale outside Envato: product, buyer, e-mail and a note. */
export function NewLicenseForm({ products, onCreated, onCancel }: { products: Product[]; onCreated: (l: License) => void; onCancel: () => void }) {
  const queryClient = useQueryClient();
  const active = products.filter((p) => p.status === "active");
  const [product, setProduct] = useState(active[0] ? String(active[0].id) : "");
  const [buyer, setBuyer] = useState("");
  const [email, setEmail] = useState("");
  const [note, setNote] = useState("");
  const create = useMutation({
    mutationFn: () => ipc.licenseIssue(Number(product), buyer.trim() || null, email.trim() || null, note.trim() || null),
    onSuccess: (l) => {
      void queryClient.invalidateQueries({ queryKey: keys.licenses });
      void queryClient.invalidateQueries({ queryKey: keys.dashboard });
      onCreated(l);
    },
  });
  const error = latestError(create);
  if (active.length === 0) {
    return <div className="banner warn" role="status" data-testid="new-license-no-products">Create a product first (Products page): a license belongs to one.</div>;
  }
  const fieldError = (f: string) => error?.field === f ? <p className="field-error" role="alert" data-testid={`new-license-${f}-error`}>{error.message}</p> : null;
  return (
    <form className="card new-license" data-testid="new-license-form" noValidate onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
      <h3>New license</h3>
      <p className="muted">For a sale outside Envato. It takes the product's activation limit and license type.</p>
      <div className="field">
        <label htmlFor="nl-product" className="field-label">Product</label>
        <select id="nl-product" data-testid="new-license-product" value={product} onChange={(e) => setProduct(e.target.value)}>
          {active.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
        </select>
      </div>
      <div className={error?.field === "buyer" ? "field has-error" : "field"}>
        <label htmlFor="nl-buyer" className="field-label">Buyer</label>
        <input id="nl-buyer" data-testid="new-license-buyer" type="text" value={buyer} onChange={(e) => setBuyer(e.target.value)} autoFocus />
        {fieldError("buyer")}
      </div>
      <div className={error?.field === "buyer_email" ? "field has-error" : "field"}>
        <label htmlFor="nl-email" className="field-label">Buyer e-mail</label>
        <input id="nl-email" data-testid="new-license-email" type="email" value={email} onChange={(e) => { setEmail(e.target.value); create.reset(); }} />
        {fieldError("buyer_email")}
      </div>
      <div className="field">
        <label htmlFor="nl-note" className="field-label">Note</label>
        <textarea id="nl-note" data-testid="new-license-note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
      </div>
      {error && !["buyer", "buyer_email"].includes(error.field ?? "") && <div className="banner error" role="alert">{error.message}</div>}
      <div className="form-actions">
        <button type="submit" className="primary" data-testid="new-license-create" disabled={create.isPending}>Create license</button>
        <button type="button" className="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
