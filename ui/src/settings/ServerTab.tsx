import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, type IpcError } from "../ipc";
import { keys } from "../queryKeys";
import { SettingsForm, type FieldDef } from "./SettingsForm";
import { CopyButton } from "../components/CopyButton";

const FIELDS: FieldDef[] = [
  { key: "server_bind", label: "Listen on", kind: "text", placeholder: "127.0.0.1:8787",
    help: "Address and port on this computer. 127.0.0.1 is this computer only: put a tunnel or reverse proxy in front of it to reach your customers." },
  { key: "public_url", label: "Public address", kind: "text", placeholder: "https://licenses.example.com",
    help: "The address your products and buyers use. Choose one that never has to change once products ship." },
  { key: "store_name", label: "Store name", kind: "text", placeholder: "Acme Themes",
    help: "Shown on the buyer page where customers retrieve their keys." },
  { key: "serve_requests_per_minute", label: "Requests per minute", kind: "number", min: 1, max: 100000, suffix: "per address",
    help: "How many requests one client address may make each minute; more are answered RATE_LIMITED." },
  { key: "deactivations_per_day", label: "Deactivations per day", kind: "number", min: 1, max: 100, suffix: "per license",
    help: "How many activations a license may free in 24 hours (buyers moving to a new site or machine)." },
  { key: "certificate_days", label: "Offline certificate", kind: "number", min: 1, max: 365, suffix: "days",
    help: "How long a product keeps working offline on the certificate of its last activation." },
  { key: "trusted_proxies", label: "Trusted proxies", kind: "text", placeholder: "127.0.0.1",
    help: "The tunnel or reverse proxy on this computer that forwards your customers (cloudflared, Caddy, nginx): its X-Forwarded-For names each buyer, so each gets their own rate limit. Leave empty when nothing is in front of the server." },
  { key: "serve_max_connections", label: "Connections at once", kind: "number", min: 16, max: 100000, suffix: "connections",
    help: "Open connections the server accepts at once (32 per client address); more are closed at once." },
  { key: "staging_hosts", label: "Staging hosts", kind: "text", placeholder: "staging.*, *.wpengine.com",
    help: "Host patterns of staging copies, comma-separated; a * stands for any text within one label, or for whole labels at either end (staging.* matches staging.shop.com, never mystaging.com). Staging sites do not count toward a license's limit." },
  { key: "development_hosts", label: "Development hosts", kind: "text", placeholder: "dev.*",
    help: "Host patterns of development sites. Local addresses (localhost, .test, .local, private networks) are always local." },
  { key: "dev_sites_per_license", label: "Staging and development sites", kind: "number", min: 0, max: 1000, suffix: "per license",
    help: "How many non-production sites a license may activate besides its limit." },
  { key: "trust_reported_environment", label: "Trust what sites report", kind: "toggle",
    help: "Believe the environment a site reports (WordPress's wp_get_environment_type()). Off: only your patterns decide." },
  { key: "stale_activation_days", label: "Replace stale sites after", kind: "number", min: 0, max: 3650, suffix: "days",
    help: "At the limit, a production site not seen for this long makes way for a new one (a moved site). 0 turns it off." },
  { key: "shared_sites_threshold", label: "Possibly shared above", kind: "number", min: 0, max: 10000, suffix: "sites in 30 days",
    help: "A license used on more production sites than this in 30 days is flagged for you (never suspended). 0: its limit plus 3." },
  { key: "buyer_email_form", label: "E-mail keys from the buyer page", kind: "toggle",
    help: "Off by default: it sends mail in your name. When on, a key goes only to the address you have for the license, or to one the buyer confirms by a mailed link; at most 3 a license and 100 a day." },
];

/** Settings > Licensing server: the API your products call and the buyer page, run by the app. */
export function ServerTab() {
  const queryClient = useQueryClient();
  // Polled while the tab is open: the request count is live.
  const status = useQuery({ queryKey: keys.serverStatus, queryFn: ipc.serverStatus, refetchInterval: 2000 });
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => ipc.serverSetEnabled(enabled),
    onSuccess: (s) => {
      queryClient.setQueryData(keys.serverStatus, s);
      void queryClient.invalidateQueries({ queryKey: keys.settings });
    },
  });
  const s = status.data;
  return (
    <div className="server-tab">
      <label className="toggle">
        <input type="checkbox" role="switch" data-testid="server-enabled" checked={!!s?.enabled} disabled={!s || toggle.isPending}
          onChange={(e) => toggle.mutate(e.target.checked)} />
        <span className="track" aria-hidden />
        <span>Run the licensing server while KeyManager is open</span>
      </label>
      {toggle.isError && <div className="banner error" role="alert">{(toggle.error as IpcError).message}</div>}
      {s?.problem && <div className="banner error" role="alert" data-testid="server-problem">{s.problem.message}</div>}
      <dl className="facts" data-testid="server-facts">
        <div className="fact-row"><dt>Status</dt>
          <dd data-testid="server-state">{s?.running ? `Listening on ${s.address}` : s?.enabled ? "Not running" : "Off"}</dd></div>
        <div className="fact-row"><dt>Requests served</dt><dd data-testid="server-served">{s?.requests_served ?? 0}</dd></div>
        <div className="fact-row"><dt>Public key</dt>
          <dd className="mono">{s?.public_key
            ? <><span data-testid="server-public-key">{s.public_key}</span> <CopyButton text={s.public_key} /></>
            : <span className="muted">Made when the server first starts.</span>}</dd></div>
      </dl>
      {!!s?.last_errors.length && (
        <>
          <h3>Last errors</h3>
          <ul className="history" data-testid="server-errors">
            {s.last_errors.map((e, i) => (
              <li key={i}><span className="mono">{e.status} {e.code}</span> {e.path} <span className="muted">{new Date(e.at).toLocaleString()}</span></li>
            ))}
          </ul>
        </>
      )}
      <SettingsForm fields={FIELDS} onSaved={() => { if (s?.enabled) toggle.mutate(true); }} />
      <SiteTester />
    </div>
  );
}

/** Which environment a site gets with the saved patterns, and which pattern decided. */
function SiteTester() {
  const [url, setUrl] = useState("");
  const classify = useMutation({ mutationFn: (u: string) => ipc.sitesClassify(u) });
  const c = classify.data;
  return (
    <form className="site-tester" onSubmit={(e) => { e.preventDefault(); classify.mutate(url); }}>
      <h3>Test a site</h3>
      <div className="inline-form">
        <input aria-label="Site address" data-testid="site-tester-url" placeholder="https://staging.example.com"
          value={url} onChange={(e) => setUrl(e.target.value)} />
        <button type="submit" className="secondary" data-testid="site-tester-go" disabled={!url.trim() || classify.isPending}>Classify</button>
      </div>
      {c && (
        <p data-testid="site-tester-result">
          <span className="mono">{c.site}</span>: <strong>{c.environment}</strong> ({c.reason}).{" "}
          {c.counts_toward_limit ? "Counts toward the activation limit." : "Does not count toward the activation limit."}
        </p>
      )}
      {classify.isError && <p className="field-error" role="alert">{(classify.error as IpcError).message}</p>}
    </form>
  );
}
