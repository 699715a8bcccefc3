import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, type IpcError } from "../ipc";
import { keys } from "../queryKeys";
import type { RestoreReport } from "../bindings/RestoreReport";

function size(bytes: number) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** General > Backups: the daily backups, "Back up now", and Restore (with a confirmation). */
export function Backups() {
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: keys.backups, queryFn: ipc.backupsList });
  const [confirm, setConfirm] = useState<string | null>(null);
  const [restored, setRestored] = useState<RestoreReport | null>(null);
  const now = useMutation({
    mutationFn: ipc.backupNow,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: keys.backups }),
  });
  const restore = useMutation({
    mutationFn: (path: string) => ipc.backupRestore(path),
    onSuccess: (r) => {
      setConfirm(null);
      setRestored(r);
      // Everything on screen came from the data just replaced.
      void queryClient.invalidateQueries();
    },
  });
  const error = (now.error ?? restore.error) as IpcError | null;
  return (
    <section className="backups" data-testid="backups">
      <h3>Backups</h3>
      <p className="help">
        KeyManager backs your data up once a day while it runs and keeps the last 14
        {list.data ? <> in <span className="mono" data-testid="backup-folder">{list.data.folder}</span></> : null}.
        Secrets (your Envato token, signing key, webhook secrets, SMTP password) stay in the system keychain and are not in backups.
      </p>
      <div className="form-actions">
        <button type="button" className="secondary" data-testid="backup-now" disabled={now.isPending} onClick={() => now.mutate()}>
          {now.isPending ? "Backing up…" : "Back up now"}
        </button>
        {now.isSuccess && <span className="saved" role="status" data-testid="backup-done">Backed up ({size(now.data.size_bytes)})</span>}
      </div>
      {error && <div className="banner error" role="alert" data-testid="backup-error">{error.message}</div>}
      {restored && (
        <div className="banner ok" role="status" data-testid="restore-done">
          Restored {restored.licenses} licenses and {restored.products} products. The data from before is kept in{" "}
          <span className="mono">{restored.kept_aside}</span>. {restored.note}
        </div>
      )}
      {list.data && list.data.files.length === 0 && <p className="muted">No backups yet.</p>}
      <ul className="plain backup-list">
        {list.data?.files.map((f) => (
          <li key={f.path} data-testid="backup-file">
            <span>{new Date(f.at).toLocaleString()}</span> <span className="muted">{size(f.size_bytes)}</span>{" "}
            {confirm === f.path ? (
              <span className="confirm">
                Replace all current data with this backup? The current data is kept aside first.{" "}
                <button type="button" className="danger" data-testid="backup-restore-confirm" disabled={restore.isPending}
                  onClick={() => restore.mutate(f.path)}>Restore</button>{" "}
                <button type="button" className="secondary" onClick={() => setConfirm(null)}>Cancel</button>
              </span>
            ) : (
              <button type="button" className="link" data-testid="backup-restore" onClick={() => setConfirm(f.path)}>Restore…</button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
