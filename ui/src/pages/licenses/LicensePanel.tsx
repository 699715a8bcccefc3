import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc } from "../../ipc";
import { keys } from "../../queryKeys";
import { latestError } from "../../hooks/latestError";
import { LicenseFacts } from "../../components/LicenseFacts";
import { LICENSE_ACTION_CHOICES } from "../../options";
import type { LicenseAction } from "../../bindings/LicenseAction";
import { ActivationList } from "./ActivationList";
import { LicenseContact } from "./LicenseContact";

/** One license: facts, contact, status actions with a reason, activations, former keys, audit. */
export function LicensePanel({ id, onClose }: { id: number; onClose: () => void }) {
  const queryClient = useQueryClient();
  const detail = useQuery({ queryKey: keys.license(id), queryFn: () => ipc.licenseDetail(id) });
  const [pending, setPending] = useState<LicenseAction | "regenerate" | null>(null);
  const [reason, setReason] = useState("");
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: keys.license(id) });
    void queryClient.invalidateQueries({ queryKey: keys.licenses });
    void queryClient.invalidateQueries({ queryKey: keys.dashboard });
  };
  const act = useMutation({
    mutationFn: () => pending === "regenerate" ? ipc.licenseRegenerateKey(id, reason) : ipc.licenseChangeStatus(id, pending!, reason),
    onSuccess: () => { setPending(null); setReason(""); refresh(); },
  });
  const free = useMutation({
    mutationFn: (activationId: number) => ipc.licenseFreeSlot(id, activationId),
    onSuccess: refresh,
  });
  const error = latestError(act, free)?.message ?? null;
  /** Asks for a reason for `action` (suggesting one), with no earlier failure shown. */
  const ask = (action: LicenseAction | "regenerate", suggested?: string) => {
    setPending(action);
    if (suggested !== undefined) setReason(suggested);
    act.reset();
    free.reset();
  };
  if (!detail.data) return <aside className="panel card">{detail.isError ? detail.error.message : "Loading…"}</aside>;
  const { license: l, support, activations, audit, key_history } = detail.data;
  const production = activations.filter((a) => a.environment === "production");
  const others = activations.filter((a) => a.environment !== "production");
  // Each status action where it applies (the core refuses the others), then a new key.
  const applies: Record<LicenseAction, boolean> = {
    suspend: l.status === "active", revoke: l.status !== "revoked", reactivate: l.status !== "active",
  };
  const actions: { action: LicenseAction | "regenerate"; label: string }[] = [
    ...LICENSE_ACTION_CHOICES.filter((c) => applies[c.value]).map((c) => ({ action: c.value, label: c.label })),
    { action: "regenerate", label: "Regenerate key" },
  ];
  return (
    <aside className="panel card" data-testid="license-panel" onKeyDown={(e) => { if (e.key === "Escape") onClose(); }}>
      <div className="panel-head">
        <h2>License {l.id}</h2>
        <button type="button" className="link" onClick={onClose}>Close</button>
      </div>
      {l.envato_flag === "not_recognised" && (
        <div className="banner warn" data-testid="not-recognised">
          Envato no longer recognises this purchase (refund or reversal?). Decide whether to suspend or revoke it.{" "}
          {l.status === "active" && (
            <button type="button" className="secondary" data-testid="flag-suspend"
              onClick={() => ask("suspend", "Envato no longer recognises the purchase (refund?)")}>
              Suspend…
            </button>
          )}
        </div>
      )}
      {l.shared_suspected_at && (
        <div className="banner warn" data-testid="shared-suspected">
          Possibly shared: this license was used on more production sites in 30 days than expected (since{" "}
          {new Date(l.shared_suspected_at).toLocaleDateString()}). KeyManager never suspends for it.{" "}
          {l.status === "active" && (
            <button type="button" className="secondary" data-testid="shared-suspend"
              onClick={() => ask("suspend", "Purchase code shared: used on too many sites")}>
              Suspend…
            </button>
          )}
        </div>
      )}
      <LicenseFacts license={l} support={support} />
      <LicenseContact key={`${l.id}-${l.buyer_email ?? ""}-${l.note ?? ""}`} license={l} onSaved={refresh} />
      <div className="form-actions wrap">
        {actions.map((a) => (
          <button key={a.action} type="button" className={a.action === "revoke" ? "danger" : "secondary"} data-testid={`action-${a.action}`}
            onClick={() => ask(a.action)}>{a.label}</button>
        ))}
      </div>
      {pending && (
        <form className="reason" onSubmit={(e) => { e.preventDefault(); act.mutate(); }}>
          <label htmlFor="reason" className="field-label">Reason (kept in the audit trail)</label>
          <input id="reason" data-testid="action-reason" value={reason} onChange={(e) => setReason(e.target.value)} autoFocus
            placeholder={pending === "revoke" ? "e.g. Refunded on Envato" : "Why?"} />
          <div className="form-actions">
            <button type="submit" className="primary" data-testid="action-confirm" disabled={act.isPending}>Confirm</button>
            <button type="button" className="secondary" onClick={() => setPending(null)}>Cancel</button>
          </div>
        </form>
      )}
      {error && <div className="banner error" role="alert" data-testid="panel-error">{error}</div>}
      {activations.length === 0 && <><h3>Activations (0 of {l.activation_limit})</h3><p className="muted">Not activated anywhere.</p></>}
      {activations.length > 0 && (
        <>
          <h3 data-testid="production-heading">Production ({production.length} of {l.activation_limit})</h3>
          <ActivationList items={production} onFree={(id) => free.mutate(id)} />
          {others.length > 0 && (
            <>
              <h3 data-testid="dev-heading">Staging and development ({others.length}, not counted)</h3>
              <ActivationList items={others} onFree={(id) => free.mutate(id)} />
            </>
          )}
        </>
      )}
      {key_history.length > 0 && (
        <>
          <h3>Former keys</h3>
          <ul className="plain">{key_history.map((k) => <li key={k.license_key}><span className="mono">{k.license_key}</span> <span className="muted">— {k.reason}</span></li>)}</ul>
        </>
      )}
      <h3>Audit trail</h3>
      <ol className="audit" data-testid="audit-trail">
        {audit.map((a) => (
          <li key={a.id}><span className="muted">{new Date(a.at).toLocaleString()}</span> <strong>{a.action}</strong> {a.message}</li>
        ))}
      </ol>
    </aside>
  );
}
