import { useEffect, useRef } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc } from "../../ipc";
import { keys } from "../../queryKeys";
import { useTauriEvent } from "../../hooks/useTauriEvent";
import { latestError } from "../../hooks/latestError";

/** The refund watch: re-check purchase codes with Envato (a product's, or all), with progress. */
export function RefundWatch({ productId, productName }: { productId: number | null; productName: string | null }) {
  const queryClient = useQueryClient();
  const status = useQuery({ queryKey: keys.recheck, queryFn: ipc.recheckStatus });
  // Progress is pushed by the core's refund-watch job, not polled.
  useTauriEvent(ipc.onRecheckProgress, (p) => queryClient.setQueryData(keys.recheck, p));
  const start = useMutation({
    mutationFn: () => ipc.recheckStart(productId),
    onSuccess: (p) => queryClient.setQueryData(keys.recheck, p),
  });
  const cancel = useMutation({ mutationFn: ipc.recheckCancel });
  const p = status.data;
  // When a run ends, the list shows what it flagged.
  const wasRunning = useRef(false);
  useEffect(() => {
    if (p?.running) wasRunning.current = true;
    else if (wasRunning.current && p) {
      wasRunning.current = false;
      void queryClient.invalidateQueries({ queryKey: keys.licenses });
    }
  }, [p, queryClient]);
  return (
    <div className="refund-watch" data-testid="refund-watch">
      {!p?.running && (
        <button type="button" className="secondary" data-testid="recheck-start" disabled={start.isPending} onClick={() => start.mutate()}>
          Re-check purchase codes{productName ? ` of ${productName}` : ""}
        </button>
      )}
      {p?.running && (
        <div className="recheck-progress" role="status" data-testid="recheck-progress">
          <progress max={Math.max(1, Number(p.total))} value={Number(p.checked)} />
          <span>{p.checked} of {p.total} checked, {p.not_recognised} not recognised</span>
          <button type="button" className="link" data-testid="recheck-cancel" onClick={() => cancel.mutate()}>Stop</button>
        </div>
      )}
      {p && !p.running && Number(p.checked) > 0 && (
        <span className="muted" data-testid="recheck-result">
          {p.cancelled ? "Stopped: " : "Done: "}{p.checked} checked, {p.not_recognised} no longer recognised by Envato
          {Number(p.failed) > 0 ? `, ${p.failed} could not be checked (${p.last_error ?? ""})` : ""}. Nothing was suspended: use the filter to review them.
        </span>
      )}
      {start.isError && <span className="field-error" role="alert">{latestError(start)?.message}</span>}
    </div>
  );
}
