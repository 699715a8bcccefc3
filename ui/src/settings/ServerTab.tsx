import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, type IpcError } from "../ipc";
import { keys } from "../queryKeys";
import { SettingsForm, type FieldDef } from "./SettingsForm";
import { CopyButton } from "../pages/CopyButton";

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
    </div>
  );
}
