import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, type IpcError } from "../ipc";
import { useTauriEvent } from "../hooks/useTauriEvent";
import { keys } from "../queryKeys";
import type { ValidationStep } from "../bindings/ValidationStep";
import type { KeychainProblem } from "../bindings/KeychainProblem";
import { KeychainNotice } from "../components/KeychainNotice";

const STEPS = ["Create a token", "Paste and check it", "Products from sales", "History", "Start"] as const;

/**
 * The first run, with no token yet: create the token on Envato (the prefilled page), paste it and
 * watch the four checks, choose Auto-Create with the seed's advice, how far back to fetch, and
 * save. The first sync starts at once. Every step is a form: Enter goes on, Tab reaches all.
 */
export function FirstRun({ onDone, onSkip, keychain, retrying, onRetryKeychain }: {
  onDone: () => void;
  onSkip: () => void;
  /** The keychain did not answer: the first check, shown before anything else. */
  keychain?: KeychainProblem | null;
  retrying?: boolean;
  onRetryKeychain?: () => void;
}) {
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: keys.settings, queryFn: ipc.settingsGet });
  const [step, setStep] = useState(0);
  const [token, setToken] = useState("");
  const [checks, setChecks] = useState<ValidationStep[]>([]);
  // The token that passed all four checks (typing another one asks for a new check).
  const [passed, setPassed] = useState<string | null>(null);
  const [autoCreate, setAutoCreate] = useState<boolean | null>(null);
  // Seeded from the setting until the seller types; an emptied field stays empty.
  const [typedDays, setDays] = useState<string | null>(null);
  const days = typedDays ?? (settings.data ? String(settings.data.history_days) : null);
  const [error, setError] = useState<string | null>(null);
  // Each check arrives as it starts and ends.
  useTauriEvent(ipc.onValidationStep, (s) => setChecks((all) => [...all.filter((x) => x.kind !== s.kind), s]));

  const check = useMutation({
    mutationFn: () => { setChecks([]); setError(null); return ipc.tokenValidate(token); },
    onSuccess: (r) => {
      setChecks(r.steps);
      if (r.ok) setPassed(token);
      else setError("The token did not pass: fix what the failed check says, then check again.");
    },
    onError: (e: IpcError) => setError(e.message),
  });
  const save = useMutation({
    mutationFn: async () => {
      await ipc.settingsUpdate({ history_days: (days ?? "").trim() });
      const r = await ipc.envatoSettingsSave(token, autoCreate ?? false);
      if (!r.saved) throw new Error("The token did not pass its checks again; nothing was saved.");
      await ipc.syncNow();
      return r;
    },
    onSuccess: (r) => {
      setToken("");
      if (r.status) queryClient.setQueryData(keys.tokenStatus, r.status);
      void queryClient.invalidateQueries();
      onDone();
    },
    onError: (e: Error) => setError(e.message),
  });

  return (
    <section className="first-run" data-testid="first-run">
      <header className="page-head"><h1>Welcome to KeyManager</h1></header>
      <p className="muted">Connect your Envato account once; your sales then become licenses in the background.</p>
      <ol className="wizard-steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s} className={i === step ? "current" : i < step ? "done" : ""} aria-current={i === step ? "step" : undefined}>{s}</li>
        ))}
      </ol>
      {error && <div className="banner error" role="alert" data-testid="first-run-error">{error}</div>}

      {keychain && <KeychainNotice problem={keychain} retrying={!!retrying} onRetry={() => onRetryKeychain?.()} />}

      {!keychain && step === 0 && (
        <form className="card wizard" onSubmit={(e) => { e.preventDefault(); setStep(1); }}>
          <h2>1. Create a personal token on Envato</h2>
          <p>Envato's token page opens with the permissions KeyManager needs already ticked: view your account, your
            items and their sales, and verify purchases. Name the token “KeyManager”, create it, and copy it.</p>
          <div className="form-actions">
            <button type="button" className="secondary" data-testid="first-run-open-envato" onClick={() => void ipc.openCreateTokenPage()}>Open Envato's token page</button>
            <button type="submit" className="primary" data-testid="first-run-next" autoFocus>I have my token</button>
          </div>
        </form>
      )}

      {step === 1 && (
        <form className="card wizard" onSubmit={(e) => { e.preventDefault(); if (passed === token) setStep(2); else check.mutate(); }}>
          <h2>2. Paste it; KeyManager checks it</h2>
          <label htmlFor="first-run-token" className="field-label">Personal token</label>
          <input id="first-run-token" data-testid="first-run-token" type="password" autoComplete="off" spellCheck={false}
            value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
          <p className="help">It is kept in your system keychain, never in a file, and sent only to Envato.</p>
          <ul className="plain checks" data-testid="first-run-checks">
            {checks.map((c) => (
              <li key={c.kind} data-testid={`first-run-check-${c.kind}`} data-state={c.state}>
                {c.state === "passed" ? "✓" : c.state === "failed" ? "✗" : c.state === "running" ? "…" : "–"} <strong>{c.title}</strong>: {c.detail}
                {c.cause && c.solution && <div className="muted">Cause: {c.cause}. Solution: {c.solution}.</div>}
              </li>
            ))}
          </ul>
          <div className="form-actions">
            <button type="button" className="secondary" onClick={() => setStep(0)}>Back</button>
            <button type="submit" className="primary" data-testid="first-run-check" disabled={!token.trim() || check.isPending}>
              {check.isPending ? "Checking…" : passed === token ? "Next" : "Check token"}
            </button>
          </div>
        </form>
      )}

      {step === 2 && (
        <form className="card wizard" onSubmit={(e) => { e.preventDefault(); if (autoCreate !== null) setStep(3); }}>
          <h2>3. Products from sales: Auto-Create?</h2>
          <fieldset className="choices">
            <legend className="sr-only">Auto-Create Products</legend>
            <label className="choice">
              <input type="radio" name="auto" data-testid="first-run-auto-on" checked={autoCreate === true} onChange={() => setAutoCreate(true)} autoFocus />
              <span><strong>On</strong>: a sale of an item with no product creates the product (Envato's name and description, your default
                limit). Best when you have many products or launch new ones often.</span>
            </label>
            <label className="choice">
              <input type="radio" name="auto" data-testid="first-run-auto-off" checked={autoCreate === false} onChange={() => setAutoCreate(false)} />
              <span><strong>Off</strong>: you create each product; sales of other items wait in the review queue. Best for a
                boutique catalogue, bundles, or custom limits per product.</span>
            </label>
          </fieldset>
          <p className="help">The hybrid path most sellers take: start with On, then review each auto-created product (its badge
            on the Products page) and adjust its limit and type; turn it off later if you want full control.</p>
          <div className="form-actions">
            <button type="button" className="secondary" onClick={() => setStep(1)}>Back</button>
            <button type="submit" className="primary" data-testid="first-run-next" disabled={autoCreate === null}>Next</button>
          </div>
        </form>
      )}

      {step === 3 && (
        <form className="card wizard" onSubmit={(e) => { e.preventDefault(); setStep(4); }}>
          <h2>4. How far back to fetch</h2>
          <label htmlFor="first-run-days" className="field-label">Sales of the last</label>
          <div className="with-suffix">
            <input id="first-run-days" data-testid="first-run-days" type="text" inputMode="numeric" value={days ?? ""} onChange={(e) => setDays(e.target.value)} autoFocus />
            <span className="suffix">days (1 to 365; 30 to 90 is typical)</span>
          </div>
          <div className="form-actions">
            <button type="button" className="secondary" onClick={() => setStep(2)}>Back</button>
            <button type="submit" className="primary" data-testid="first-run-next">Next</button>
          </div>
        </form>
      )}

      {step === 4 && (
        <form className="card wizard" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
          <h2>5. Save and sync</h2>
          <p>Auto-Create Products: <strong>{autoCreate ? "On" : "Off"}</strong>. First sync: the last <strong>{days}</strong> days.
            KeyManager then checks Envato in the background every {settings.data?.sync_interval_minutes ?? 30} minutes, from the tray.</p>
          <div className="form-actions">
            <button type="button" className="secondary" onClick={() => setStep(3)}>Back</button>
            <button type="submit" className="primary" data-testid="first-run-save" disabled={save.isPending} autoFocus>
              {save.isPending ? "Saving…" : "Save and start the first sync"}
            </button>
          </div>
        </form>
      )}
      <p><button type="button" className="link" data-testid="first-run-skip" onClick={onSkip}>Skip for now (set the token later in Settings)</button></p>
    </section>
  );
}
