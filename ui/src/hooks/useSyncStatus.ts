import { useRef } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc } from "../ipc";
import { CHANGED_BY_SYNC, keys } from "../queryKeys";
import { useTauriEvent } from "./useTauriEvent";

/** The background sync's status, as the query cache holds it. Any number of components may
 *  read it; the one event subscription is `useSyncStatusEvents`, mounted once by the App. */
export function useSyncStatus() {
  return useQuery({ queryKey: keys.syncStatus, queryFn: ipc.syncStatus });
}

/** Keeps the sync status live from Rust's `sync-status` events (one listener for the whole
 *  window). When a run starts, the Sync log refetches; when it ends, what it changed does. */
export function useSyncStatusEvents() {
  const queryClient = useQueryClient();
  const wasRunning = useRef(false);
  useTauriEvent(ipc.onSyncStatus, (s) => {
    queryClient.setQueryData(keys.syncStatus, s);
    if (!wasRunning.current && s.running) void queryClient.invalidateQueries({ queryKey: keys.syncRuns });
    if (wasRunning.current && !s.running) {
      for (const key of CHANGED_BY_SYNC) void queryClient.invalidateQueries({ queryKey: key });
    }
    wasRunning.current = s.running;
  });
}
