import { useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { ipc } from "../../ipc";
import { latestError } from "../../hooks/latestError";
import type { License } from "../../bindings/License";

/** The buyer's e-mail and the seller's note, edited in place, and "E-mail key to buyer". */
export function LicenseContact({ license: l, onSaved }: { license: License; onSaved: () => void }) {
  const [email, setEmail] = useState(l.buyer_email ?? "");
  const [note, setNote] = useState(l.note ?? "");
  const dirty = email !== (l.buyer_email ?? "") || note !== (l.note ?? "");
  const save = useMutation({
    mutationFn: () => ipc.licenseUpdateDetails(l.id, email, note),
    onSuccess: onSaved,
  });
  const send = useMutation({
    mutationFn: () => ipc.licenseSendKey(l.id, null),
    onSuccess: onSaved,
  });
  const error = latestError(save, send);
  const d = send.isSuccess ? send.data : null;
  const sent = d && (d.status === "delivered" ? `Sent to ${d.destination}.` : `Not sent yet (kept and retried): ${d.last_error ?? "waiting"}`);
  return (
    <form className="contact" noValidate onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <div className={error?.field === "buyer_email" ? "field has-error" : "field"}>
        <label htmlFor="buyer-email" className="field-label">Buyer e-mail</label>
        <input id="buyer-email" data-testid="buyer-email" type="email" value={email} placeholder="Envato does not share it"
          onChange={(e) => { setEmail(e.target.value); save.reset(); send.reset(); }} />
        {error?.field === "buyer_email" && <p className="field-error" role="alert" data-testid="buyer-email-error">{error.message}</p>}
      </div>
      <div className="field">
        <label htmlFor="license-note" className="field-label">Note</label>
        <textarea id="license-note" data-testid="license-note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
      </div>
      <div className="form-actions wrap">
        <button type="submit" className="secondary" data-testid="contact-save" disabled={!dirty || save.isPending}>Save</button>
        <button type="button" className="secondary" data-testid="send-key" disabled={!l.buyer_email || dirty || send.isPending}
          title={l.buyer_email ? undefined : "Add the buyer's e-mail first"} onClick={() => send.mutate()}>
          {send.isPending ? "Sending…" : "E-mail key to buyer"}
        </button>
      </div>
      {sent && <p role="status" data-testid="send-key-result">{sent}</p>}
      {error && error.field !== "buyer_email" && <div className="banner error" role="alert" data-testid="contact-error">{error.message}</div>}
    </form>
  );
}
