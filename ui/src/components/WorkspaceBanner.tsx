import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ipc, type IpcError } from "../ipc";
import { keys } from "../queryKeys";
import { useTauriEvent } from "../hooks/useTauriEvent";
import type { WorkspaceInfo } from "../bindings/WorkspaceInfo";

/** The workspace in use, kept current by the `workspace-changed` event. */
export function useWorkspace() {
  const queryClient = useQueryClient();
  useTauriEvent(ipc.onWorkspaceChanged, (info) => queryClient.setQueryData(keys.workspace, info));
  return useQuery({ queryKey: keys.workspace, queryFn: ipc.workspaceInfo });
}

function when(at: string): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleTimeString();
}

/** Names the server the window works on; says when it cannot be reached (the pages keep the
 * last data they read, and changes made meanwhile are kept and offered here again). Nothing for
 * this computer. */
export function WorkspaceBanner({ info }: { info: WorkspaceInfo | undefined }) {
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  if (!info?.current) return null;
  const remote = info.remotes.find((r) => r.name === info.current);
  const act = async (f: () => Promise<WorkspaceInfo>) => {
    setError(null);
    try {
      queryClient.setQueryData(keys.workspace, await f());
      void queryClient.invalidateQueries();
    } catch (e) {
      setError((e as IpcError).message);
    }
  };
  const online = info.link.online;
  return (
    <div className={online ? "banner ok workspace-banner" : "banner error workspace-banner"} role="status"
      data-testid="workspace-banner" data-online={online ? "yes" : "no"}>
      {online ? (
        <span>Working on the server <strong>{info.current}</strong> ({remote?.url ?? "?"}): every page shows and changes its data.</span>
      ) : (
        <span data-testid="workspace-offline">
          The server <strong>{info.current}</strong> cannot be reached since {when(info.link.since)}
          {info.link.error ? ` (${info.link.error.message})` : ""}. The pages show the last data read; retrying…
        </span>
      )}
      {info.unsent.length > 0 && (
        <div className="unsent" data-testid="unsent-list">
          <p>{info.unsent.length === 1 ? "1 change was" : `${info.unsent.length} changes were`} not sent yet:</p>
          <ul>
            {info.unsent.map((c) => (
              <li key={c.id} data-testid="unsent-item">
                {c.label} <small>({when(c.at)})</small>{" "}
                <button type="button" data-testid="unsent-retry" onClick={() => void act(() => ipc.unsentRetry(c.id))}>Send again</button>{" "}
                <button type="button" className="secondary" data-testid="unsent-discard" onClick={() => void act(() => ipc.unsentDiscard(c.id))}>Discard</button>
              </li>
            ))}
          </ul>
        </div>
      )}
      {error && <div role="alert" data-testid="unsent-error">{error}</div>}
    </div>
  );
}
