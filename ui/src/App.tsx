import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { keys } from "./queryKeys";
import { useQuery } from "@tanstack/react-query";
import { ipc } from "./ipc";
import { Dashboard } from "./pages/Dashboard";
import { Products } from "./pages/Products";
import { Licenses } from "./pages/licenses/Licenses";
import { Lookup } from "./pages/Lookup";
import { SyncLog } from "./pages/SyncLog";
import { SettingsPage } from "./settings/SettingsPage";
import { FirstRun } from "./pages/FirstRun";
import { KeychainNotice } from "./components/KeychainNotice";
import { WorkspaceBanner, useWorkspace } from "./components/WorkspaceBanner";
import { ArchiveBanner } from "./components/ArchiveBanner";
import { useSyncStatus, useSyncStatusEvents } from "./hooks/useSyncStatus";
import { useDbChanged } from "./hooks/useDbChanged";
import { useTauriEvent } from "./hooks/useTauriEvent";

export const PAGES = [
  { id: "dashboard", label: "Dashboard", icon: "◧" },
  { id: "products", label: "Products", icon: "▦" },
  { id: "licenses", label: "Licenses", icon: "◈" },
  { id: "lookup", label: "Lookup", icon: "⌕" },
  { id: "sync-log", label: "Sync log", icon: "⟳" },
  { id: "settings", label: "Settings", icon: "⚙" },
] as const;

export type PageId = (typeof PAGES)[number]["id"];

/** The page named in the URL's fragment (`#licenses`): a window reopened from the tray is built on
 * the page the seller left, which Rust read from the fragment when the window closed. */
export function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, "");
  return PAGES.find((p) => p.id === id)?.id ?? "dashboard";
}

export function App() {
  const [page, setPage] = useState<PageId>(() => pageFromHash(window.location.hash));
  useEffect(() => { window.history.replaceState(null, "", `#${page}`); }, [page]);
  // Unsaved Settings edits: a page switch or a window close asks first.
  const [unsaved, setUnsaved] = useState(false);
  const [leaving, setLeaving] = useState<PageId | "close" | null>(null);
  useEffect(() => { void ipc.uiSetUnsaved(unsaved).catch(() => {}); }, [unsaved]);
  useTauriEvent(ipc.onCloseBlocked, () => setLeaving("close"));
  // A license opened from a lookup result: the Licenses page shows it at once.
  const [openLicense, setOpenLicense] = useState<{ id: number; key: string } | null>(null);
  const go = (p: PageId) => {
    if (p === page) return;
    if (unsaved) { setLeaving(p); return; }
    setOpenLicense(null);
    setPage(p);
  };
  const discardAndLeave = () => {
    const to = leaving;
    setLeaving(null);
    setUnsaved(false);
    if (to === "close") void ipc.windowClose(true).catch(() => {});
    else if (to) { setOpenLicense(null); setPage(to); }
  };
  const goRef = useRef(go);
  useLayoutEffect(() => { goRef.current = go; });
  const [lookupFocus, setLookupFocus] = useState(0);
  // After the first frame is painted, report it and the page it shows (start-up and reopen time).
  const firstPage = useRef(page);
  useEffect(() => {
    requestAnimationFrame(() => requestAnimationFrame(() => void ipc.uiReady(firstPage.current).catch(() => {})));
  }, []);
  // Ctrl+K (Cmd+K on macOS) jumps to the lookup from anywhere; Ctrl+W closes the window to the
  // tray, as its close button does.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey)) return;
      const key = e.key.toLowerCase();
      if (key === "k") {
        e.preventDefault();
        goRef.current("lookup");
        setLookupFocus((n) => n + 1);
      } else if (key === "w") {
        e.preventDefault();
        void ipc.windowClose(false).catch(() => {});
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const info = useQuery({ queryKey: keys.appInfo, queryFn: ipc.appInfo });
  // No token yet: the dashboard is the guided setup (until skipped for this session).
  // While the keychain does not answer, ask again every few seconds: the window goes on by
  // itself once it is unlocked.
  const token = useQuery({
    queryKey: keys.tokenStatus,
    queryFn: ipc.tokenStatus,
    refetchInterval: (q) => (q.state.data?.keychain_problem ? 3000 : false),
  });
  const [skipped, setSkipped] = useState(false);
  // On a server, its token is set in Settings > Envato Integration (no guided setup there).
  const workspace = useWorkspace();
  const remote = !!workspace.data?.current;
  // This computer's data after a move to a server: an archive (its syncing is paused).
  const settings = useQuery({ queryKey: keys.settings, queryFn: ipc.settingsGet, enabled: workspace.isSuccess && !remote });
  const archivedTo = !remote ? settings.data?.archived_to : "";
  const keychainProblem = token.data?.keychain_problem ?? null;
  // No token yet (or none readable and none ever saved): the guided setup, whose first check is
  // the keychain itself.
  const firstRun = !!token.data && !token.data.configured && !token.data.in_keychain
    && !(keychainProblem && token.data.token_hint) && !skipped && !remote;
  // The one listener to the background sync, for every page: lists refresh when a run ends.
  useSyncStatusEvents();
  useDbChanged();
  const sync = useSyncStatus();

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <img src="/icon.svg" alt="" width={28} height={28} />
          <span>KeyManager</span>
        </div>
        <ul>
          {PAGES.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                data-testid={`nav-${p.id}`}
                className={page === p.id ? "nav-item active" : "nav-item"}
                aria-current={page === p.id ? "page" : undefined}
                onClick={() => go(p.id)}
              >
                <span className="nav-icon" aria-hidden>{p.icon}</span>
                {p.label}
              </button>
            </li>
          ))}
        </ul>
        <div className="sidebar-foot">
          {sync.data?.running && <div data-testid="sidebar-syncing">Syncing…</div>}
          {info.data ? `v${info.data.version}` : ""}
        </div>
      </nav>
      <main className="content" data-testid={`page-${page}`}>
        <WorkspaceBanner info={workspace.data} />
        {archivedTo && <ArchiveBanner text={archivedTo} onChanged={() => void settings.refetch()} />}
        {info.data?.envato_api_developer_override && (
          <div className="banner warn" role="status" data-testid="api-override-banner">
            Developer mode: Envato requests go to {info.data.envato_api_base}, not to Envato (set by
            KEYMANAGER_ENVATO_API_BASE). Tokens saved now are kept apart from your real one.
          </div>
        )}
        {leaving && (
          <div className="banner warn" role="alertdialog" aria-label="Unsaved changes" data-testid="leave-warning">
            {leaving === "close"
              ? "Closing the window drops the Settings changes that are not saved."
              : "You have Settings changes that are not saved. Leave them?"}{" "}
            <button type="button" className="danger" data-testid="leave-discard" onClick={discardAndLeave}>
              {leaving === "close" ? "Discard and close" : "Discard changes"}
            </button>{" "}
            <button type="button" className="secondary" data-testid="leave-stay" autoFocus onClick={() => setLeaving(null)}>
              Keep editing
            </button>
          </div>
        )}
        {keychainProblem && !(page === "dashboard" && firstRun) && (
          <KeychainNotice compact problem={keychainProblem} retrying={token.isFetching} onRetry={() => void token.refetch()} />
        )}
        {info.isError && (
          <div className="banner error" role="alert" data-testid="startup-error">
            {info.error.message}
          </div>
        )}
        {page === "dashboard" && firstRun && (
          <FirstRun onDone={() => setPage("sync-log")} onSkip={() => setSkipped(true)}
            keychain={keychainProblem} retrying={token.isFetching} onRetryKeychain={() => void token.refetch()} />
        )}
        {page === "dashboard" && !firstRun && <Dashboard onNavigate={(p) => go(p)} />}
        {page === "products" && <Products />}
        {page === "licenses" && <Licenses key={openLicense?.id ?? 0} open={openLicense} />}
        {page === "lookup" && (
          <Lookup focusSignal={lookupFocus} onOpenLicense={(id, key) => { setOpenLicense({ id, key }); setPage("licenses"); }} />
        )}
        {page === "sync-log" && <SyncLog />}
        {page === "settings" && <SettingsPage onDirtyChange={setUnsaved} />}
      </main>
    </div>
  );
}
