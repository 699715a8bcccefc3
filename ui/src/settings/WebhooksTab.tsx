import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, type IpcError } from "../ipc";
import { keys } from "../queryKeys";
import type { EventType } from "../bindings/EventType";
import type { NewEndpoint } from "../bindings/NewEndpoint";
import type { WebhookEndpoint } from "../bindings/WebhookEndpoint";
import { CopyButton } from "../components/CopyButton";
import { WEBHOOK_EVENT_CHOICES } from "../options";
import { latestError } from "../hooks/latestError";
import { DeliveryLog, deliveryState } from "./DeliveryLog";

/** Settings > Webhooks: endpoints, their events, the secret shown once, Test, and the delivery log. */
export function WebhooksTab() {
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: keys.webhooks, queryFn: ipc.webhooksList });
  const [url, setUrl] = useState("");
  const [all, setAll] = useState(true);
  const [chosen, setChosen] = useState<EventType[]>(["license.created"]);
  const [secret, setSecret] = useState<NewEndpoint | null>(null);
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: keys.webhooks });
    void queryClient.invalidateQueries({ queryKey: keys.deliveries });
  };
  const add = useMutation({
    mutationFn: () => ipc.webhookAdd(url, all ? "" : chosen.join(",")),
    onSuccess: (n) => { setSecret(n); setUrl(""); refresh(); },
  });
  const error = latestError(add);
  return (
    <div className="webhooks-tab">
      <p className="muted">
        KeyManager sends each event as a signed POST (Standard Webhooks: <span className="mono">webhook-id</span>,{" "}
        <span className="mono">webhook-timestamp</span>, <span className="mono">webhook-signature</span>) to https:// addresses,
        or http:// on this computer. Failed deliveries are retried for about a day; a 410 answer turns the endpoint off.
      </p>
      {secret && (
        <div className="banner ok" role="status" data-testid="webhook-secret">
          <p>Signing secret of <strong>{secret.endpoint.url}</strong>. Copy it into your receiver now: it is not shown again.</p>
          <p className="mono"><span data-testid="webhook-secret-value">{secret.secret}</span> <CopyButton text={secret.secret} testid="copy-secret" /></p>
          <button type="button" className="link" onClick={() => setSecret(null)}>I have copied it</button>
        </div>
      )}
      <form className="settings-form" noValidate onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
        <div className={error?.field === "url" ? "field has-error" : "field"}>
          <label htmlFor="webhook-url" className="field-label">Endpoint URL</label>
          <input id="webhook-url" data-testid="webhook-url" type="url" value={url} spellCheck={false}
            placeholder="https://example.com/hooks/keymanager" aria-invalid={error?.field === "url"}
            onChange={(e) => { setUrl(e.target.value); add.reset(); }} />
          {error?.field === "url" && <p className="field-error" role="alert" data-testid="webhook-url-error">{error.message}</p>}
        </div>
        <fieldset className="field">
          <legend className="field-label">Events</legend>
          <label className="check"><input type="checkbox" data-testid="webhook-all-events" checked={all} onChange={(e) => setAll(e.target.checked)} /> All events</label>
          {!all && WEBHOOK_EVENT_CHOICES.map((t) => (
            <label key={t.value} className="check">
              <input type="checkbox" data-testid={`webhook-event-${t.value}`} checked={chosen.includes(t.value)}
                onChange={(e) => setChosen((c) => e.target.checked ? [...c, t.value] : c.filter((x) => x !== t.value))} />
              {" "}{t.label} <span className="mono muted">{t.value}</span>
            </label>
          ))}
        </fieldset>
        {error && error.field !== "url" && <div className="banner error" role="alert">{error.message}</div>}
        <div className="form-actions">
          <button type="submit" className="primary" data-testid="webhook-add" disabled={add.isPending || !url.trim()}>Add endpoint</button>
        </div>
      </form>
      <h3>Endpoints</h3>
      {list.isError && <div className="banner error" role="alert">{list.error.message}</div>}
      {list.data?.length === 0 && <p className="muted" data-testid="webhooks-empty">No endpoints yet.</p>}
      <ul className="plain endpoints">
        {list.data?.map((ep) => <EndpointRow key={ep.id} ep={ep} onSecret={setSecret} onChanged={refresh} />)}
      </ul>
      <h3>Delivery log</h3>
      <DeliveryLog channel="webhook" />
    </div>
  );
}

function EndpointRow({ ep, onSecret, onChanged }: { ep: WebhookEndpoint; onSecret: (n: NewEndpoint) => void; onChanged: () => void }) {
  const [note, setNote] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const fail = (e: IpcError) => setNote(e.message);
  const test = useMutation({
    mutationFn: () => ipc.webhookTest(ep.id),
    onSuccess: (d) => { setNote(d.status === "delivered" ? `Test delivered (HTTP ${d.last_status ?? "2xx"}).` : `Test not delivered: ${d.last_error ?? deliveryState(d)}`); onChanged(); },
    onError: fail,
  });
  const rotate = useMutation({ mutationFn: () => ipc.webhookRotateSecret(ep.id), onSuccess: (n) => { onSecret(n); onChanged(); }, onError: fail });
  const remove = useMutation({ mutationFn: () => ipc.webhookRemove(ep.id), onSuccess: onChanged, onError: fail });
  const toggle = useMutation({ mutationFn: (enabled: boolean) => ipc.webhookUpdate(ep.id, { enabled }), onSuccess: onChanged, onError: fail });
  const state = !ep.enabled ? `Off${ep.disabled_reason ? `: ${ep.disabled_reason}` : ""}`
    : ep.failing_since ? `Failing since ${new Date(ep.failing_since).toLocaleString()}: ${ep.last_error ?? ""}` : "Working";
  return (
    <li className="card endpoint" data-testid="webhook-endpoint">
      <div className="endpoint-head">
        <span className="mono" data-testid="webhook-endpoint-url">{ep.url}</span>
        <span className={`pill ${!ep.enabled ? "revoked" : ep.failing_since ? "suspended" : "active"}`} data-testid="webhook-endpoint-state">{state}</span>
      </div>
      <p className="muted">{ep.all_events ? "All events" : ep.events.join(", ")} · {ep.pending} waiting · {ep.failed} failed</p>
      <div className="form-actions wrap">
        <button type="button" className="secondary" data-testid="webhook-test" disabled={test.isPending} onClick={() => test.mutate()}>
          {test.isPending ? "Sending…" : "Test"}
        </button>
        <button type="button" className="secondary" data-testid="webhook-toggle" onClick={() => toggle.mutate(!ep.enabled)}>{ep.enabled ? "Turn off" : "Turn on"}</button>
        <button type="button" className="secondary" data-testid="webhook-rotate" onClick={() => rotate.mutate()}>Rotate secret</button>
        {confirming ? (
          <>
            <button type="button" className="danger" data-testid="webhook-remove-confirm" onClick={() => remove.mutate()}>Remove it and its messages</button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>Cancel</button>
          </>
        ) : (
          <button type="button" className="danger" data-testid="webhook-remove" onClick={() => setConfirming(true)}>Remove</button>
        )}
      </div>
      {note && <p role="status" data-testid="webhook-note">{note}</p>}
    </li>
  );
}
