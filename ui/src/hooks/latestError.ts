import type { IpcError } from "../ipc";

/** What a mutation knows of its last run (TanStack Query's `UseMutationResult` has these). */
type Attempt = { isError: boolean; error: unknown; submittedAt: number };

/** The error to show for a group of actions: the latest action's, while it stands. A later
 *  action (successful or pending) replaces it, and `reset()` on the mutation clears it. The one
 *  place the UI reads an action's error: no component keeps a copy of it in its own state. */
export function latestError(...attempts: Attempt[]): IpcError | null {
  const last = attempts.reduce<Attempt | null>((a, b) => (a === null || b.submittedAt > a.submittedAt ? b : a), null);
  return last?.isError ? (last.error as IpcError) : null;
}
