import { useEffect } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc } from "./ipc";

/** The background sync's status, kept live by Rust's `sync-status` events. When a run starts
 *  or ends, the lists it may have changed are refetched. */
export function useSyncStatus() {
  const queryClient = useQueryClient();
  const status = useQuery({ queryKey: ["sync_status"], queryFn: ipc.syncStatus });
  useEffect(() => {
    let unlisten: (() => void) | undefined;
    let cancelled = false;
    let wasRunning = false;
    void ipc
      .onSyncStatus((s) => {
        queryClient.setQueryData(["sync_status"], s);
        if (!wasRunning && s.running) {
          // The new run appears in the Sync log at once.
          void queryClient.invalidateQueries({ queryKey: ["sync_runs"] });
        }
        if (wasRunning && !s.running) {
          for (const key of ["sync_runs", "review_queue", "licenses", "products", "license_counts", "dashboard", "marketplaces"]) {
            void queryClient.invalidateQueries({ queryKey: [key] });
          }
        }
        wasRunning = s.running;
      })
      .then((f) => {
        if (cancelled) f();
        else unlisten = f;
      });
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, [queryClient]);
  return status;
}
