import { useState } from "react";
import { ipc, type IpcError } from "../ipc";

/** This computer's data after a move to a server: read-only, its syncing paused. Making it live
 * again is the seller's call, asked twice (both would sync the same sales). */
export function ArchiveBanner({ text, onChanged }: { text: string; onChanged: () => void }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const makeLive = async () => {
    try {
      await ipc.settingsUpdate({ archived_to: "" });
      await ipc.syncSetPaused(false);
      onChanged();
    } catch (e) {
      setError((e as IpcError).message);
    }
  };
  return (
    <div className="banner warn" role="status" data-testid="archive-banner">
      {text} It is read-only here and its syncing is paused, so it issues no license keys of its own; work on the
      server from Settings &gt; Workspace.{" "}
      {!asking ? (
        <button type="button" className="secondary" data-testid="archive-unarchive" onClick={() => setAsking(true)}>
          Make this computer's data live again…
        </button>
      ) : (
        <span data-testid="archive-confirm">
          If the server keeps syncing too, one sale gets two different license keys. Make it live anyway?{" "}
          <button type="button" className="danger" data-testid="archive-confirm-yes" onClick={() => void makeLive()}>Make it live</button>{" "}
          <button type="button" className="secondary" onClick={() => setAsking(false)}>Cancel</button>
        </span>
      )}
      {error && <div role="alert">{error}</div>}
    </div>
  );
}
