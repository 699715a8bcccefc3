import { useEffect, useState } from "react";
import { keys } from "./queryKeys";
import { useQuery } from "@tanstack/react-query";
import { ipc } from "./ipc";
import { Dashboard } from "./pages/Dashboard";
import { Products } from "./pages/Products";
import { Licenses } from "./pages/Licenses";
import { Lookup } from "./pages/Lookup";
import { SyncLog } from "./pages/SyncLog";
import { SettingsPage } from "./settings/SettingsPage";
import { FirstRun } from "./pages/FirstRun";
import { useSyncStatus, useSyncStatusEvents } from "./useSyncStatus";

export const PAGES = [
  { id: "dashboard", label: "Dashboard", icon: "◧" },
  { id: "products", label: "Products", icon: "▦" },
  { id: "licenses", label: "Licenses", icon: "◈" },
  { id: "lookup", label: "Lookup", icon: "⌕" },
  { id: "sync-log", label: "Sync log", icon: "⟳" },
  { id: "settings", label: "Settings", icon: "⚙" },
] as const;

export type PageId = (typeof PAGES)[number]["id"];

export function App() {
  const [page, setPage] = useState<PageId>("dashboard");
  // A license opened from a lookup result: the Licenses page shows it at once.
  const [openLicense, setOpenLicense] = useState<{ id: number; key: string } | null>(null);
  const [lookupFocus, setLookupFocus] = useState(0);
  // After the first frame is painted, report it (start-up time).
  useEffect(() => {
    requestAnimationFrame(() => requestAnimationFrame(() => void ipc.uiReady().catch(() => {})));
  }, []);
  // Ctrl+K (Cmd+K on macOS) jumps to the lookup from anywhere.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        setPage("lookup");
        setLookupFocus((n) => n + 1);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const info = useQuery({ queryKey: keys.appInfo, queryFn: ipc.appInfo });
  // No token yet: the dashboard is the guided setup (until skipped for this session).
  const token = useQuery({ queryKey: keys.tokenStatus, queryFn: ipc.tokenStatus });
  const [skipped, setSkipped] = useState(false);
  const firstRun = !!token.data && !token.data.configured && !token.data.in_keychain && !skipped;
  // The one listener to the background sync, for every page: lists refresh when a run ends.
  useSyncStatusEvents();
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
                onClick={() => { setOpenLicense(null); setPage(p.id); }}
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
        {info.data?.envato_api_developer_override && (
          <div className="banner warn" role="status" data-testid="api-override-banner">
            Developer mode: Envato requests go to {info.data.envato_api_base}, not to Envato (set by
            KEYMANAGER_ENVATO_API_BASE). Tokens saved now are kept apart from your real one.
          </div>
        )}
        {info.isError && (
          <div className="banner error" role="alert" data-testid="startup-error">
            {info.error.message}
          </div>
        )}
        {page === "dashboard" && firstRun && (
          <FirstRun onDone={() => setPage("sync-log")} onSkip={() => setSkipped(true)} />
        )}
        {page === "dashboard" && !firstRun && <Dashboard />}
        {page === "products" && <Products />}
        {page === "licenses" && <Licenses key={openLicense?.id ?? 0} open={openLicense} />}
        {page === "lookup" && (
          <Lookup focusSignal={lookupFocus} onOpenLicense={(id, key) => { setOpenLicense({ id, key }); setPage("licenses"); }} />
        )}
        {page === "sync-log" && <SyncLog />}
        {page === "settings" && <SettingsPage />}
      </main>
    </div>
  );
}
