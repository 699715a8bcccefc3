import type { Activation } from "../../bindings/Activation";

/** Activations of one group: the site (or the fingerprint a product chose), why it does not
 * count, when it was last seen, and a button to free it. */
export function ActivationList({ items, onFree }: { items: Activation[]; onFree: (id: number) => void }) {
  return (
    <ul className="plain">
      {items.map((a) => (
        <li key={a.id} data-testid="activation">
          <span className="mono" data-testid="activation-fingerprint">{a.site ?? a.instance_id}</span>{" "}
          {a.label && <span className="muted" data-testid="activation-label">({a.label})</span>}{" "}
          {a.environment !== "production" && <span className="pill" data-testid="activation-environment">{a.environment}, not counted</span>}{" "}
          <span className="muted" data-testid="activation-since">since {new Date(a.activated_at).toLocaleString()}, last seen {new Date(a.last_seen_at).toLocaleDateString()}</span>{" "}
          <button type="button" className="link" data-testid="free-slot" onClick={() => onFree(a.id)}>Free slot</button>
        </li>
      ))}
    </ul>
  );
}
