import { useCallback, useEffect, useState } from "react";
import { DirtyContext, SettingsForm, type FieldDef } from "./SettingsForm";
import { EnvatoTab } from "./EnvatoTab";
import { ServerTab } from "./ServerTab";
import { WebhooksTab } from "./WebhooksTab";
import { EmailTab } from "./EmailTab";
import { Backups } from "./Backups";
import { AutostartSwitch } from "./Autostart";
import { WorkspaceTab } from "./WorkspaceTab";
import { LICENSE_TYPE_CHOICES } from "../options";

const TABS = [
  { id: "general", label: "General" },
  { id: "license", label: "License" },
  { id: "envato", label: "Envato Integration" },
  { id: "server", label: "Licensing server" },
  { id: "webhooks", label: "Webhooks" },
  { id: "email", label: "Email" },
  { id: "workspace", label: "Workspace" },
] as const;
type TabId = (typeof TABS)[number]["id"];

const GENERAL: FieldDef[] = [
  { key: "sync_interval_minutes", label: "Sync interval", kind: "number", min: 15, max: 1440, suffix: "minutes",
    help: "How often KeyManager checks Envato for new sales in the background: 15 to 1440 minutes." },
  { key: "history_days", label: "First sync history", kind: "number", min: 1, max: 365, suffix: "days",
    help: "How far back the first sync reaches for existing sales: 1 to 365 days (30 to 90 is typical)." },
  { key: "backup_folder", label: "Backup folder", kind: "text", placeholder: "The data folder's backups folder",
    help: "Where the daily backups go: a full path, for example a synced or external drive. Empty: inside the data folder." },
];

const LICENSE: FieldDef[] = [
  { key: "default_activation_limit", label: "Default activation limit", kind: "number", min: 1, max: 1000,
    help: "Activations allowed per license for products that do not set their own: 1 to 1000 (typically 1 or 3)." },
  { key: "default_license_type", label: "Default license type", kind: "select",
    options: LICENSE_TYPE_CHOICES,
    help: "The license type given to new products unless you choose another." },
];

/** `onDirtyChange`: told whenever the open tab gains or loses unsaved edits (and false when the
 * page goes away), so the app can ask before a page switch or a window close drops them. */
export function SettingsPage({ onDirtyChange }: { onDirtyChange?: (dirty: boolean) => void } = {}) {
  const [tab, setTab] = useState<TabId>("general");
  const [dirty, setDirty] = useState(false);
  useEffect(() => { onDirtyChange?.(dirty); }, [dirty, onDirtyChange]);
  useEffect(() => () => onDirtyChange?.(false), [onDirtyChange]);
  const [leaving, setLeaving] = useState<TabId | null>(null);
  const report = useCallback((d: boolean) => setDirty(d), []);
  const go = (t: TabId) => {
    if (t === tab) return;
    if (dirty) setLeaving(t);
    else setTab(t);
  };
  return (
    <section>
      <header className="page-head"><h1>Settings</h1></header>
      <div className="tabs" role="tablist">
        {TABS.map((t) => (
          <button key={t.id} type="button" role="tab" aria-selected={tab === t.id} data-testid={`tab-${t.id}`}
            className={tab === t.id ? "tab active" : "tab"} onClick={() => go(t.id)}>
            {t.label}
          </button>
        ))}
      </div>
      {leaving && (
        <div className="banner warn" role="alertdialog" aria-label="Unsaved changes" data-testid="unsaved-warning">
          You have changes on this tab that are not saved. Leave them?{" "}
          <button type="button" className="danger" data-testid="unsaved-discard" onClick={() => { setDirty(false); setTab(leaving); setLeaving(null); }}>Discard changes</button>{" "}
          <button type="button" className="secondary" data-testid="unsaved-stay" autoFocus onClick={() => setLeaving(null)}>Keep editing</button>
        </div>
      )}
      <DirtyContext.Provider value={report}>
      <div className="tab-panel" role="tabpanel" data-testid={`tabpanel-${tab}`}>
        {tab === "general" && <><AutostartSwitch /><SettingsForm key="general" fields={GENERAL} /><Backups /></>}
        {tab === "license" && <SettingsForm key="license" fields={LICENSE} />}
        {tab === "envato" && <EnvatoTab />}
        {tab === "server" && <ServerTab />}
        {tab === "webhooks" && <WebhooksTab />}
        {tab === "email" && <EmailTab />}
        {tab === "workspace" && <WorkspaceTab />}
      </div>
      </DirtyContext.Provider>
    </section>
  );
}
