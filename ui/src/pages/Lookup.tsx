import { useEffect, useRef, useState } from "react";
import { keys } from "../queryKeys";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, IpcError } from "../ipc";
import { useTauriEvent } from "../hooks/useTauriEvent";
import type { LookupResult } from "../bindings/LookupResult";
import { LicenseFacts, SaleFacts } from "../components/LicenseFacts";

const HEADS: Record<LookupResult["verdict"], string> = {
  valid: "Valid purchase",
  not_a_sale: "Not a sale of yours",
  no_longer_recognised: "No longer recognised by Envato",
  malformed: "Not a purchase code",
};

/** Support's page: paste a buyer's purchase code, see at once what it is. Ctrl+K focuses it. */
export function Lookup({ focusSignal, onOpenLicense }: { focusSignal: number; onOpenLicense?: (id: number, key: string) => void }) {
  const queryClient = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [code, setCode] = useState("");
  const [result, setResult] = useState<LookupResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const history = useQuery({ queryKey: keys.lookupHistory, queryFn: ipc.lookupHistory });

  useEffect(() => input.current?.focus(), [focusSignal]);
  useTauriEvent(ipc.onLookupRefreshed, (fresh) => setResult((r) => (r && r.code === fresh.code ? fresh : r)));

  const lookup = useMutation({
    mutationFn: (c: string) => ipc.lookup(c),
    onMutate: () => setError(null),
    onSuccess: (r) => {
      setResult(r);
      void queryClient.invalidateQueries({ queryKey: keys.lookupHistory });
    },
    onError: (e: IpcError) => {
      setResult(null);
      setError(e.code === "token.not_configured" ? "This code is not in KeyManager yet, and checking it with Envato needs your token (Settings › Envato Integration)." : e.message);
    },
  });

  return (
    <section>
      <header className="page-head"><h1>Lookup</h1></header>
      <form className="lookup-form" onSubmit={(e) => { e.preventDefault(); if (code.trim()) lookup.mutate(code); }}>
        <input ref={input} data-testid="lookup-input" className="lookup-input" value={code} spellCheck={false} autoComplete="off"
          placeholder="Paste a purchase code, e.g. a67f4582-95d6-4019-81f3-75d1ebe3a071" onChange={(e) => setCode(e.target.value)} />
        <button type="submit" className="primary" data-testid="lookup-submit" disabled={lookup.isPending}>{lookup.isPending ? "Checking…" : "Look up"}</button>
        <span className="muted kbd-hint">Ctrl+K from anywhere</span>
      </form>
      {error && <div className="banner error" role="alert" data-testid="lookup-error">{error}</div>}
      {result && (
        <div className={`card lookup-result ${result.verdict}`} data-testid="lookup-result" data-verdict={result.verdict}>
          <h2 data-testid="lookup-verdict">{HEADS[result.verdict]}</h2>
          <p>{result.message}</p>
          <p className="muted small-text">
            {result.from_envato ? "Checked with Envato just now." : result.stale ? "From KeyManager's records; refreshing from Envato…" : "From KeyManager's records (checked with Envato within 6 hours)."}
          </p>
          {result.license && <LicenseFacts license={result.license} support={result.support} />}
          {result.license && onOpenLicense && (
            <button type="button" className="secondary" data-testid="open-license"
              onClick={() => onOpenLicense(result.license!.id, result.license!.license_key)}>Open in Licenses</button>
          )}
          {!result.license && result.sale && <SaleFacts sale={result.sale} support={result.support} />}
        </div>
      )}
      <h2 className="section-title">Recent lookups</h2>
      {history.data?.length === 0 && <p className="muted">None yet.</p>}
      <ul className="history" data-testid="lookup-history">
        {history.data?.map((h) => (
          <li key={h.id}>
            <button type="button" className="link mono" onClick={() => { setCode(h.code); lookup.mutate(h.code); }}>{h.code}</button>{" "}
            <span className={`pill ${h.verdict === "valid" ? "active" : "revoked"}`}>{h.verdict.replace(/_/g, " ")}</span>{" "}
            <span className="muted">{h.summary} · {new Date(h.at).toLocaleString()}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
