import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, type IpcError } from "../ipc";
import { keys } from "../queryKeys";

/** General: "Start KeyManager when I log in" (the OS's login items are the truth). */
export function AutostartSwitch() {
  const queryClient = useQueryClient();
  const on = useQuery({ queryKey: keys.autostart, queryFn: ipc.autostartGet });
  const set = useMutation({
    mutationFn: (enabled: boolean) => ipc.autostartSet(enabled),
    onSuccess: (now) => {
      queryClient.setQueryData(keys.autostart, now);
      void queryClient.invalidateQueries({ queryKey: keys.settings });
    },
  });
  return (
    <div className="field autostart">
      <label className="toggle">
        <input type="checkbox" role="switch" data-testid="autostart" checked={!!on.data} disabled={on.isPending || set.isPending}
          onChange={(e) => set.mutate(e.target.checked)} />
        <span className="track" aria-hidden />
        <span>Start KeyManager when I log in</span>
      </label>
      <p className="help">It starts in the tray and keeps syncing sales; the window opens from the tray icon.</p>
      {(on.error || set.error) && <div className="banner error" role="alert">{((on.error ?? set.error) as IpcError).message}</div>}
    </div>
  );
}

/** Offered once, after the token is saved: start at login so sales keep syncing. */
export function AutostartOffer() {
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: keys.settings, queryFn: ipc.settingsGet });
  const answer = useMutation({
    mutationFn: (enabled: boolean) => enabled
      ? ipc.autostartSet(true).then(() => ipc.settingsGet())
      : ipc.settingsUpdate({ autostart_offered: "true" }),
    onSuccess: (s) => {
      queryClient.setQueryData(keys.settings, s);
      void queryClient.invalidateQueries({ queryKey: keys.autostart });
    },
  });
  if (!settings.data || settings.data.autostart_offered) return null;
  return (
    <div className="banner ok" role="status" data-testid="autostart-offer">
      Start KeyManager when you log in, so new sales keep syncing in the tray?{" "}
      <button type="button" className="primary" data-testid="autostart-offer-yes" disabled={answer.isPending} onClick={() => answer.mutate(true)}>Start at login</button>{" "}
      <button type="button" className="secondary" data-testid="autostart-offer-no" disabled={answer.isPending} onClick={() => answer.mutate(false)}>Not now</button>
    </div>
  );
}
