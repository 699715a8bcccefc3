import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ipc } from "../ipc";
import { keys } from "../queryKeys";
import type { KeychainProblem } from "../bindings/KeychainProblem";

/** "Unlock…": the desktop's own unlock prompt; the status that comes back replaces the cached one. */
function useUnlock() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ipc.keychainUnlock,
    onSuccess: (status) => queryClient.setQueryData(keys.tokenStatus, status),
  });
}

/** What is wrong with the system keychain, in plain words, how to fix it on this desktop, and
 * "Try again" (KeyManager also asks again by itself every few seconds). */
export function KeychainNotice({ problem, onRetry, retrying, compact }: {
  problem: KeychainProblem;
  onRetry: () => void;
  retrying: boolean;
  compact?: boolean;
}) {
  const unlock = useUnlock();
  if (compact) {
    return (
      <div className="banner error" role="alert" data-testid="keychain-banner">
        The system keychain is not available, so KeyManager cannot read your Envato token and nothing syncs.{" "}
        {problem.fixes[0] ?? ""}{" "}
        <button type="button" className="secondary" data-testid="keychain-unlock" onClick={() => unlock.mutate()} disabled={unlock.isPending}>
          Unlock…
        </button>{" "}
        <button type="button" className="secondary" data-testid="keychain-retry" onClick={onRetry} disabled={retrying}>
          {retrying ? "Checking…" : "Try again"}
        </button>
      </div>
    );
  }
  return (
    <div className="card wizard" data-testid="keychain-step" role="alert">
      <h2>The system keychain is not available</h2>
      <p data-testid="keychain-cause">{problem.error.message}</p>
      <ol className="fixes" data-testid="keychain-fixes">
        {problem.fixes.map((f) => <li key={f}>{f}</li>)}
      </ol>
      <p className="muted">KeyManager checks again every few seconds and goes on by itself once the keychain answers.</p>
      <div className="form-actions">
        <button type="button" className="primary" data-testid="keychain-unlock" onClick={() => unlock.mutate()} disabled={unlock.isPending} autoFocus>
          {unlock.isPending ? "Waiting for the unlock prompt…" : "Unlock the keyring…"}
        </button>
        <button type="button" className="secondary" data-testid="keychain-retry" onClick={onRetry} disabled={retrying}>
          {retrying ? "Checking…" : "Try again"}
        </button>
      </div>
    </div>
  );
}
