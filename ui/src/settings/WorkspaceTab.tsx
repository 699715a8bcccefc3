import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ipc, type IpcError } from "../ipc";
import { keys } from "../queryKeys";
import { useWorkspace } from "../components/WorkspaceBanner";
import type { WorkspaceInfo } from "../bindings/WorkspaceInfo";

/** Settings > Workspace: which data the window works on (this computer, or a KeyManager server
 * it administers), and "Connect to a server" with the pairing code `keymanager admin pair`
 * prints there. */
export function WorkspaceTab() {
  const queryClient = useQueryClient();
  const ws = useWorkspace();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<IpcError | null>(null);
  const [form, setForm] = useState({ name: "", url: "", code: "", fingerprint: "" });
  const run = async (f: () => Promise<WorkspaceInfo>) => {
    setBusy(true);
    setError(null);
    try {
      queryClient.setQueryData(keys.workspace, await f());
      void queryClient.invalidateQueries();
      return true;
    } catch (e) {
      setError(e as IpcError);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const info = ws.data;
  const [moved, setMoved] = useState<string | null>(null);
  const [confirmReplace, setConfirmReplace] = useState<string | null>(null);
  const move = async (name: string, replace: boolean) => {
    setBusy(true);
    setError(null);
    setConfirmReplace(null);
    try {
      const r = await ipc.workspaceMove(name, replace);
      setMoved(`Moved ${r.licenses} licenses and ${r.products} products to “${name}”. This computer's data stays as an archive; its syncing is paused.`);
      void queryClient.invalidateQueries();
    } catch (e) {
      const err = e as IpcError;
      if (err.code === "remote.not_empty") setConfirmReplace(name);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const pull = async () => {
    setBusy(true);
    setError(null);
    try {
      const f = await ipc.workspacePullBackup();
      setMoved(`Pulled a backup of the server to ${f.path} (${Math.round(f.size_bytes / 1024)} KiB, integrity checked).`);
    } catch (e) {
      setError(e as IpcError);
    } finally {
      setBusy(false);
    }
  };
  const connect = async (e: React.FormEvent) => {
    e.preventDefault();
    const ok = await run(() => ipc.workspaceConnect(form.name.trim(), form.url.trim(), form.code.trim(), form.fingerprint.trim() || null));
    if (ok) setForm({ name: "", url: "", code: "", fingerprint: "" });
  };
  const field = (k: keyof typeof form) => ({
    value: form[k],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.value }),
  });
  return (
    <div className="workspace-tab" data-testid="workspace-tab">
      <h2>Workspace</h2>
      <p className="help">
        The window works on one set of data: this computer's, or a KeyManager server's (<code>keymanager serve</code> on
        your VPS). On a server, it does the syncing, e-mail, backups and licensing; this computer runs none of them.
      </p>
      <ul className="workspace-list">
        <li>
          <label>
            <input type="radio" name="workspace" data-testid="workspace-local" checked={!info?.current} disabled={busy}
              onChange={() => void run(() => ipc.workspaceUse(null))} />
            This computer
          </label>
        </li>
        {info?.remotes.map((r) => (
          <li key={r.name}>
            <label>
              <input type="radio" name="workspace" data-testid={`workspace-${r.name}`} checked={info.current === r.name}
                disabled={busy} onChange={() => void run(() => ipc.workspaceUse(r.name))} />
              {r.name} <small>{r.url} · {r.scopes} · paired {r.paired_at.slice(0, 10)}</small>
            </label>{" "}
            <button type="button" className="secondary" data-testid={`workspace-forget-${r.name}`} disabled={busy}
              onClick={() => void run(() => ipc.workspaceForget(r.name))}>Forget</button>{" "}
            {!info.current && (
              <button type="button" data-testid={`workspace-move-${r.name}`} disabled={busy}
                onClick={() => void move(r.name, false)}>Move this computer's data to {r.name}</button>
            )}
            {info.current === r.name && (
              <button type="button" className="secondary" data-testid="workspace-pull" disabled={busy}
                onClick={() => void pull()}>Pull a backup now</button>
            )}
            {confirmReplace === r.name && (
              <div className="banner warn" role="alertdialog" data-testid="move-confirm">
                {r.name} already holds licenses. Replace them with this computer's data? (The server keeps its
                current data aside in its backup folder.){" "}
                <button type="button" className="danger" data-testid="move-replace" onClick={() => void move(r.name, true)}>Replace</button>{" "}
                <button type="button" className="secondary" onClick={() => setConfirmReplace(null)}>Cancel</button>
              </div>
            )}
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => void connect(e)} data-testid="connect-form" className="connect-form">
        <h3>Connect to a server</h3>
        <p className="help">On the server, run <code>sudo -u keymanager keymanager --data-dir /var/lib/keymanager admin pair</code>: it
          prints a code valid for 10 minutes and the server key's fingerprint.</p>
        <label>Name <input {...field("name")} data-testid="connect-name" placeholder="vps" required /></label>
        <label>Address <input {...field("url")} data-testid="connect-url" placeholder="https://licenses.example.com" required /></label>
        <label>Pairing code <input {...field("code")} data-testid="connect-code" placeholder="XXXX-XXXX-XXXX" required /></label>
        <label>Key fingerprint (optional) <input {...field("fingerprint")} data-testid="connect-fingerprint" placeholder="ABCD-EF01-2345-6789" /></label>
        <button type="submit" data-testid="connect-submit" disabled={busy}>{busy ? "Connecting…" : "Connect"}</button>
      </form>
      {moved && <div className="banner ok" role="status" data-testid="workspace-done">{moved}</div>}
      {error && <div className="banner error" role="alert" data-testid="workspace-error" data-code={error.code}>{error.message}</div>}
    </div>
  );
}
