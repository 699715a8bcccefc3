import { useState } from "react";
import { keys } from "../queryKeys";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { AutostartOffer } from "./Autostart";
import { ipc, IpcError } from "../ipc";
import { useTauriEvent } from "../hooks/useTauriEvent";
import type { StepKind } from "../bindings/StepKind";
import type { ValidationReport } from "../bindings/ValidationReport";
import type { ValidationStep } from "../bindings/ValidationStep";
import type { TokenStatus } from "../bindings/TokenStatus";

const STEPS: { kind: StepKind; title: string }[] = [
  { kind: "format", title: "Token format" },
  { kind: "connection", title: "Connection to Envato" },
  { kind: "permissions", title: "Permissions" },
  { kind: "items", title: "Items for sale" },
];

const ICONS = { pending: "○", running: "◌", passed: "✓", failed: "✗", skipped: "–" } as const;

function formatDate(iso: string | null) {
  return iso ? new Date(iso).toLocaleString() : "never";
}

/** Settings > Envato Integration: the personal token (kept in the system keychain) and Auto-Create Products. */
export function EnvatoTab() {
  const queryClient = useQueryClient();
  const status = useQuery({ queryKey: keys.tokenStatus, queryFn: ipc.tokenStatus });
  const settings = useQuery({ queryKey: keys.settings, queryFn: ipc.settingsGet });
  const [token, setToken] = useState("");
  const [show, setShow] = useState(false);
  // The stored value until the seller flips the switch.
  const [chosenAutoCreate, setAutoCreate] = useState<boolean | null>(null);
  const autoCreate = chosenAutoCreate ?? settings.data?.auto_create_products ?? null;
  const [steps, setSteps] = useState<Partial<Record<StepKind, ValidationStep>>>({});
  const [report, setReport] = useState<ValidationReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);

  // Steps stream in from Rust while a validation runs.
  useTauriEvent(ipc.onValidationStep, (s) => setSteps((prev) => ({ ...prev, [s.kind]: s })));

  const begin = () => {
    setSteps({});
    setReport(null);
    setError(null);
    setSaved(false);
  };
  const finish = (r: ValidationReport | null) => {
    if (!r) return;
    setReport(r);
    setSteps(Object.fromEntries(r.steps.map((s) => [s.kind, s])));
  };

  const validate = useMutation({
    mutationFn: () => ipc.tokenValidate(token.trim() ? token : null),
    onMutate: begin,
    onSuccess: (r) => {
      finish(r);
      void queryClient.invalidateQueries({ queryKey: keys.tokenStatus });
    },
    onError: (e: IpcError) => setError(e.message),
  });

  const save = useMutation({
    mutationFn: () => ipc.envatoSettingsSave(token.trim() ? token : null, autoCreate ?? false),
    onMutate: begin,
    onSuccess: (r) => {
      finish(r.report);
      if (!r.saved) {
        setError("Nothing was saved: the token did not pass validation. Fix the step marked ✗ and try again.");
        return;
      }
      setToken("");
      setSaved(true);
      if (r.status) queryClient.setQueryData(keys.tokenStatus, r.status);
      if (r.settings) queryClient.setQueryData(keys.settings, r.settings);
    },
    onError: (e: IpcError) => setError(e.message),
  });

  const remove = useMutation({
    mutationFn: ipc.tokenRemove,
    onSuccess: (s) => {
      queryClient.setQueryData(keys.tokenStatus, s);
      begin();
    },
    onError: (e: IpcError) => setError(e.message),
  });

  const busy = validate.isPending || save.isPending || remove.isPending;
  const ran = Object.keys(steps).length > 0;

  return (
    <div className="settings-form">
      <section className="card" aria-labelledby="token-heading">
        <h3 id="token-heading">Envato Personal Token</h3>
        <p className="help">
          Gives KeyManager read access to your sales. It is kept in your system keychain, never in KeyManager's database, and
          never shown again in full. Needed permissions: “View and search Envato sites”, “View your items' sales history”,
          “Verify purchases of your items” and “View your Envato Account username”.{" "}
          <button type="button" className="link" onClick={() => void ipc.openCreateTokenPage()}>
            Create a token with these permissions ticked
          </button>
        </p>
        {status.data && <TokenSummary status={status.data} />}
        {status.isError && <div className="banner error" role="alert">{status.error.message}</div>}

        <div className="field">
          <label htmlFor="envato-token" className="field-label">
            {status.data?.configured ? "Replace token" : "Token"}
          </label>
          <div className="with-suffix">
            <input
              id="envato-token"
              data-testid="envato-token"
              type={show ? "text" : "password"}
              value={token}
              autoComplete="off"
              spellCheck={false}
              placeholder="Paste your 32-character personal token"
              onChange={(e) => {
                setToken(e.target.value);
                setSaved(false);
              }}
              className="wide"
            />
            <button type="button" className="secondary" data-testid="toggle-token-visibility" aria-pressed={show} onClick={() => setShow((v) => !v)}>
              {show ? "Hide" : "Show"}
            </button>
          </div>
        </div>
        <div className="form-actions">
          <button type="button" className="secondary" data-testid="validate-token" disabled={busy || (!token.trim() && !status.data?.configured)}
            onClick={() => validate.mutate()}>
            {validate.isPending ? "Validating…" : "Validate"}
          </button>
          {status.data?.configured && !confirmRemove && (
            <button type="button" className="danger" data-testid="remove-token" disabled={busy} onClick={() => setConfirmRemove(true)}>
              Remove
            </button>
          )}
          {confirmRemove && (
            <span className="confirm" role="group" aria-label="Confirm removal">
              Remove the token? Syncing stops; every license is kept.
              <button type="button" className="danger" data-testid="confirm-remove-token" disabled={busy}
                onClick={() => {
                  setConfirmRemove(false);
                  remove.mutate();
                }}>
                Yes, remove
              </button>
              <button type="button" className="secondary" onClick={() => setConfirmRemove(false)}>Cancel</button>
            </span>
          )}
        </div>

        {ran && (
          <ol className="steps" data-testid="validation-steps" aria-live="polite">
            {STEPS.map(({ kind, title }) => {
              const s = steps[kind];
              const state = s?.state ?? "pending";
              return (
                <li key={kind} className={`step ${state}`} data-testid={`step-${kind}`} data-state={state}>
                  <span className="step-icon" aria-hidden>{ICONS[state]}</span>
                  <div>
                    <div className="step-title">{s?.title ?? title}</div>
                    {s && <div className="step-detail">{s.detail}</div>}
                    {s?.cause && (
                      <div className="step-fix">
                        <strong>Cause:</strong> {s.cause}. <strong>Solution:</strong> {s.solution}.
                      </div>
                    )}
                  </div>
                </li>
              );
            })}
          </ol>
        )}
        {report && report.missing_scopes.length > 0 && (
          <div className="banner warn" data-testid="missing-scopes">
            Missing permissions: {report.missing_scopes.map((m) => `“${m.label}”`).join(", ")}.{" "}
            <button type="button" className="link" onClick={() => void ipc.openCreateTokenPage()}>
              Open Envato's token page with them ticked
            </button>
          </div>
        )}
        {report?.ok && !saved && token.trim() && (
          <p className="ok-text" data-testid="validation-ok">The token is valid. Click Save Settings to store it.</p>
        )}
      </section>

      <div className="field">
        <span className="field-label">Auto-Create Products</span>
        <label className="toggle" data-testid="toggle-auto_create_products">
          <input type="checkbox" role="switch" data-testid="setting-auto_create_products" checked={autoCreate ?? false}
            onChange={(e) => {
              setAutoCreate(e.target.checked);
              setSaved(false);
            }} />
          <span className="track" aria-hidden />
          <span>{autoCreate ? "On" : "Off"}</span>
        </label>
        <p className="help">
          On: when a synced sale is for an Envato item that no product matches (by item ID, then name, then SKU), KeyManager
          creates the product from the item (name, description, item ID, your default activation limit and license type) and
          issues the license. Off (the default): such sales are skipped, a warning is logged, and they wait in the review queue
          until you create or map the product.
        </p>
      </div>

      {error && <div className="banner error" role="alert" data-testid="form-error">{error}</div>}
      <div className="form-actions">
        <button type="button" className="primary" data-testid="save-settings" disabled={busy || autoCreate === null} onClick={() => save.mutate()}>
          {save.isPending ? "Saving…" : "Save Settings"}
        </button>
        {saved && <span className="saved" role="status" data-testid="saved">Saved</span>}
      </div>
      {saved && <AutostartOffer />}
    </div>
  );
}

function TokenSummary({ status }: { status: TokenStatus }) {
  if (!status.configured) {
    return (
      <p className="muted" data-testid="token-summary">
        {status.token_hint
          ? `The keychain no longer holds the token ${status.token_hint}. Paste it again, or a new one.`
          : "No token yet: syncing and purchase-code lookups are off."}
      </p>
    );
  }
  return (
    <div className="token-summary" data-testid="token-summary">
      <dl>
        <dt>Account</dt><dd data-testid="token-account">{status.username ?? "—"}</dd>
        <dt>Token</dt><dd className="mono" data-testid="token-hint">{status.token_hint}</dd>
        <dt>Saved</dt><dd>{formatDate(status.saved_at)} ({status.age_days ?? 0} days ago)</dd>
        <dt>Last validated</dt><dd>{formatDate(status.validated_at)}</dd>
      </dl>
      {status.last_check_ok === false && status.last_error && (
        <div className="banner error" role="alert" data-testid="token-last-error">Last check failed: {status.last_error.message}</div>
      )}
      {status.rotation_due && (
        <div className="banner warn" data-testid="rotation-reminder">
          This token is over a year old. Envato advises rotating tokens yearly: create a new token, paste it here, and revoke the old one.
        </div>
      )}
    </div>
  );
}
