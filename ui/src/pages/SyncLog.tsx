import { keys } from "../queryKeys";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc } from "../ipc";
import { useSyncStatus } from "../hooks/useSyncStatus";
import type { SyncStatus } from "../bindings/SyncStatus";
import { ReviewQueue } from "../components/ReviewQueue";
import { latestError } from "../hooks/latestError";

function when(iso: string | null) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

export function SyncLog() {
  const status = useSyncStatus();
  const runs = useQuery({ queryKey: keys.syncRuns, queryFn: () => ipc.syncRuns(50) });
  const queryClient = useQueryClient();
  const syncNow = useMutation({ mutationFn: ipc.syncNow });
  const pause = useMutation({
    mutationFn: (paused: boolean) => ipc.syncSetPaused(paused),
    onSuccess: (s) => queryClient.setQueryData(keys.syncStatus, s),
  });
  const cancel = useMutation({
    mutationFn: ipc.syncCancel,
    onSuccess: (st) => queryClient.setQueryData(keys.syncStatus, st),
  });
  const error = latestError(syncNow, pause, cancel)?.message ?? null;
  const s = status.data;

  return (
    <section>
      <header className="page-head">
        <h1>Sync log</h1>
        <div className="form-actions">
          {s && (
            <button type="button" className="secondary" data-testid="pause-sync" onClick={() => pause.mutate(!s.paused)}>
              {s.paused ? "Resume syncing" : "Pause syncing"}
            </button>
          )}
          {s?.running && (
            <button type="button" className="secondary" data-testid="sync-cancel" disabled={s.cancelling || cancel.isPending} onClick={() => cancel.mutate()}>
              {s.cancelling ? "Stopping after this page…" : "Cancel sync"}
            </button>
          )}
          <button type="button" className="primary" data-testid="sync-now" disabled={!s || s.running || s.needs_token} onClick={() => syncNow.mutate()}>
            {s?.running ? "Syncing…" : "Sync now"}
          </button>
        </div>
      </header>
      {s && <SyncBanner status={s} />}
      <DeliveryWarnings />
      {error && <div className="banner error" role="alert">{error}</div>}
      <div className="two-columns">
        <div>
          <h2 className="section-title">Runs</h2>
          {runs.data?.length === 0 && <div className="empty"><p className="muted">No syncs yet.</p></div>}
          {runs.data && runs.data.length > 0 && (
            <div className="table-scroll">
            <table className="table" data-testid="sync-runs">
              <thead><tr><th>Started</th><th>Trigger</th><th>Status</th><th>Pages</th><th>Sales</th><th>Licenses</th><th>Products</th><th>Review</th></tr></thead>
              <tbody>
                {runs.data.map((r) => (
                  <tr key={r.id} data-testid="sync-run" data-status={r.status}>
                    <td>{when(r.started_at)}</td>
                    <td>{r.trigger}</td>
                    <td>
                      <span className={`pill ${r.status === "succeeded" ? "active" : r.status === "running" ? "" : "revoked"}`}>{r.status}</span>
                      {r.error && <div className="field-error">{r.error.message}</div>}
                      {r.warnings.map((w, i) => <div key={i} className="warn-text">{w}</div>)}
                    </td>
                    <td>{r.pages_fetched}</td>
                    <td>{r.sales_seen}</td>
                    <td data-testid="run-licenses">{r.licenses_created}</td>
                    <td>{r.products_created}</td>
                    <td>{r.sales_queued}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            </div>
          )}
        </div>
        <ReviewQueue />
      </div>
    </section>
  );
}

function SyncBanner({ status: s }: { status: SyncStatus }) {
  if (s.running) {
    const p = s.progress;
    return (
      <div className="card sync-progress" data-testid="sync-progress" role="status">
        <div>Syncing… {p ? `page ${p.pages_fetched}, ${p.sales_seen} sales seen, ${p.licenses_created} new licenses, ${p.products_created} new products` : "starting"}</div>
        <div className="progress"><div className="bar indeterminate" /></div>
      </div>
    );
  }
  if (s.needs_token) return <div className="banner warn" data-testid="sync-needs-token">Not syncing: add your Envato personal token under Settings › Envato Integration.</div>;
  if (s.auth_failed) return <div className="banner error" data-testid="sync-auth-failed">Not syncing: Envato rejected the token (revoked or deleted). Paste a new token under Settings › Envato Integration.</div>;
  return (
    <p className="muted" data-testid="sync-idle">
      {s.paused ? "Syncing is paused. " : ""}
      {s.last_success_at ? `Last successful sync ${when(s.last_success_at)}. ` : ""}
      {s.next_run_at ? `Next sync ${when(s.next_run_at)}.` : ""}
    </p>
  );
}

/** Webhook endpoints or the mail server that are failing: one line each, until they recover. */
function DeliveryWarnings() {
  const counts = useQuery({ queryKey: keys.outboxCounts, queryFn: ipc.outboxCounts });
  const c = counts.data;
  if (!c || (c.failing.length === 0 && c.failed === 0)) return null;
  return (
    <div className="banner warn" role="alert" data-testid="delivery-warnings">
      {c.failing.map((f) => (
        <div key={f.destination}>Delivery to {f.label} is failing since {when(f.since)}: {f.last_error}</div>
      ))}
      <div>{c.pending} message{c.pending === 1 ? "" : "s"} waiting, {c.failed} failed for good (Settings › Webhooks and Email).</div>
    </div>
  );
}
