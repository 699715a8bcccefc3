import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, type IpcError } from "../ipc";
import { keys } from "../queryKeys";
import type { Channel } from "../bindings/Channel";
import type { Delivery } from "../bindings/Delivery";

export function deliveryState(d: Delivery): string {
  if (d.status === "delivered") return "Delivered";
  if (d.status === "failed") return "Failed";
  return d.attempts === 0 ? "Waiting" : `Retrying (attempt ${d.attempts + 1} ${d.next_attempt_at ? `at ${new Date(d.next_attempt_at).toLocaleTimeString()}` : "soon"})`;
}

/** The outbox's log for a channel (or one endpoint): status, attempts, last answer, and Replay. */
export function DeliveryLog({ channel, endpointId = null }: { channel: Channel; endpointId?: number | null }) {
  const queryClient = useQueryClient();
  // Deliveries happen in the background: each one's commit refetches this (`db-changed`).
  const log = useQuery({
    queryKey: keys.deliveriesOf(endpointId, channel),
    queryFn: () => ipc.deliveries(endpointId, channel, 100),
  });
  const replay = useMutation({
    mutationFn: (id: string) => ipc.deliveryReplay(id),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: keys.deliveries });
      void queryClient.invalidateQueries({ queryKey: keys.webhooks });
    },
  });
  if (log.isError) return <div className="banner error" role="alert">{log.error.message}</div>;
  const rows = log.data ?? [];
  return (
    <div className="delivery-log" data-testid={`delivery-log-${channel}`}>
      {replay.isError && <div className="banner error" role="alert">{(replay.error as IpcError).message}</div>}
      {rows.length === 0 ? (
        <p className="muted">Nothing sent yet.</p>
      ) : (
        <table className="table compact">
          <thead>
            <tr><th>When</th><th>Event</th><th>To</th><th>Status</th><th>Last answer</th><th /></tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.message_id} data-testid="delivery-row" data-status={d.status}>
                <td className="muted">{new Date(d.created_at).toLocaleString()}</td>
                <td><span className="mono" title={d.message_id}>{d.event_type}</span></td>
                <td className="clip" title={d.destination}>{d.destination}</td>
                <td data-testid="delivery-status"><span className={`pill ${d.status === "delivered" ? "active" : d.status === "failed" ? "revoked" : "suspended"}`}>{deliveryState(d)}</span></td>
                <td className="clip" title={d.last_error ?? ""}>
                  {d.last_status ? `HTTP ${d.last_status}` : ""} {d.last_error ?? (d.status === "delivered" ? "OK" : "")}
                </td>
                <td>
                  {d.status !== "delivered" || channel === "webhook" ? (
                    <button type="button" className="link" data-testid="delivery-replay" disabled={replay.isPending}
                      onClick={() => replay.mutate(d.message_id)}>{d.status === "delivered" ? "Send again" : "Retry now"}</button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
