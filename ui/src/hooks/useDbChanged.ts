import { useQueryClient } from "@tanstack/react-query";
import { ipc } from "../ipc";
import { keysToRefetch } from "../queryKeys";
import { useTauriEvent } from "./useTauriEvent";

/** Refetches what reads the tables Rust's commits changed (`db-changed`), wherever the change
 *  came from: a command, the sync, the outbox, the licensing server's activations. One listener
 *  for the whole window, mounted by the App; it replaces the pages' timed polls. */
export function useDbChanged() {
  const queryClient = useQueryClient();
  useTauriEvent(ipc.onDbChanged, (changed) => {
    const which = keysToRefetch(changed);
    if (which === "all") void queryClient.invalidateQueries();
    else for (const key of which) void queryClient.invalidateQueries({ queryKey: key });
  });
}
