import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { SettingsPage } from "../settings/SettingsPage";
import type { Settings } from "../bindings/Settings";

const DEFAULTS: Settings = {
  auto_create_products: false,
  default_activation_limit: 1,
  default_license_type: "regular",
  sync_interval_minutes: 30,
  history_days: 90,
  serve_requests_per_minute: 120,
  deactivations_per_day: 3,
  certificate_days: 30,
  store_name: "",
  server_enabled: false,
  server_bind: "127.0.0.1:8787",
  public_url: "",
  smtp_host: "",
  smtp_port: 587,
  smtp_security: "starttls",
  smtp_username: "",
  smtp_from: "",
  notify_buyers: false,
  backup_folder: "",
  autostart_offered: false, archived_to: "",
  serve_max_connections: 1024,
  trusted_proxies: "",
  buyer_email_form: false,
  outbox_keep_days: 30,
  audit_keep_days: 365, staging_hosts: "staging.*", development_hosts: "dev.*", trust_reported_environment: false, dev_sites_per_license: 5, stale_activation_days: 45, shared_sites_threshold: 0, release_max_mb: 200, download_link_days: 7, downloads_per_day: 30,
};

function renderPage() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}><SettingsPage /></QueryClientProvider>);
}

/** A fake backend with the same validation rule for the one field these tests touch. */
function fakeBackend() {
  let stored = { ...DEFAULTS };
  const calls: Record<string, string>[] = [];
  mockIPC((cmd, args) => {
    if (cmd === "settings_get") return stored;
    if (cmd === "settings_update") {
      const changes = (args as { changes: Record<string, string> }).changes;
      calls.push(changes);
      const limit = Number(changes.default_activation_limit);
      if ("default_activation_limit" in changes && !(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) {
        throw { code: "settings.invalid_value", message: "The default activation limit must be a whole number from 1 to 1000.", field: "default_activation_limit" };
      }
      stored = { ...stored, default_activation_limit: limit, default_license_type: changes.default_license_type as Settings["default_license_type"] };
      return stored;
    }
  });
  return { calls, stored: () => stored };
}

describe("Settings page", () => {
  it("shows the four tabs of the admin portal", async () => {
    fakeBackend();
    renderPage();
    for (const name of ["General", "License", "Envato Integration", "Licensing server", "Webhooks", "Email"]) {
      expect(screen.getByRole("tab", { name })).toBeTruthy();
    }
    await waitFor(() => expect(screen.getByTestId("setting-sync_interval_minutes")).toHaveProperty("value", "30"));
  });

  it("switches the licensing server on and shows where it listens, its key and what it served", async () => {
    const status = {
      enabled: false, running: false, address: null as string | null, bind: "127.0.0.1:8787", public_url: "",
      public_key: null as string | null, requests_served: 0,
      last_errors: [] as { at: string; path: string; status: number; code: string }[], problem: null,
    };
    const toggles: boolean[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "settings_get") return DEFAULTS;
      if (cmd === "server_status") return status;
      if (cmd === "server_set_enabled") {
        const on = (args as { enabled: boolean }).enabled;
        toggles.push(on);
        Object.assign(status, on
          ? { enabled: true, running: true, address: "http://127.0.0.1:8787", public_key: "PUBKEY=", requests_served: 7,
              last_errors: [{ at: "2026-11-29T10:00:00Z", path: "/v1/activations", status: 503, code: "ENVATO_UNAVAILABLE" }] }
          : { enabled: false, running: false, address: null });
        return status;
      }
    }, { shouldMockEvents: true });
    renderPage();
    await userEvent.click(screen.getByRole("tab", { name: "Licensing server" }));
    expect((await screen.findByTestId("server-state")).textContent).toBe("Off");
    expect(await screen.findByTestId("setting-server_bind")).toHaveProperty("value", "127.0.0.1:8787");
    await userEvent.click(screen.getByTestId("server-enabled"));
    await waitFor(() => expect(screen.getByTestId("server-state").textContent).toBe("Listening on http://127.0.0.1:8787"));
    expect(screen.getByTestId("server-served").textContent).toBe("7");
    expect(screen.getByTestId("server-public-key").textContent).toBe("PUBKEY=");
    expect(screen.getByTestId("server-errors").textContent).toContain("503 ENVATO_UNAVAILABLE");
    expect(toggles).toEqual([true]);
  });

  it("sets the tunnel as a trusted proxy and leaves buyer-page mail off until switched on", async () => {
    const calls: Record<string, string>[] = [];
    let stored = { ...DEFAULTS };
    mockIPC((cmd, args) => {
      if (cmd === "settings_get") return stored;
      if (cmd === "server_status") {
        return { enabled: false, running: false, address: null, bind: "127.0.0.1:8787", public_url: "", public_key: null,
          requests_served: 0, last_errors: [], problem: null };
      }
      if (cmd === "settings_update") {
        const changes = (args as { changes: Record<string, string> }).changes;
        calls.push(changes);
        stored = { ...stored, trusted_proxies: changes.trusted_proxies ?? stored.trusted_proxies,
          buyer_email_form: changes.buyer_email_form === "true" };
        return stored;
      }
    }, { shouldMockEvents: true });
    renderPage();
    await userEvent.click(screen.getByRole("tab", { name: "Licensing server" }));
    const proxies = await screen.findByTestId("setting-trusted_proxies");
    const mail = screen.getByTestId("setting-buyer_email_form");
    expect(mail).toHaveProperty("checked", false);
    await userEvent.type(proxies, "127.0.0.1");
    await userEvent.click(screen.getByTestId("save-settings"));
    await screen.findByTestId("saved");
    expect(calls.at(-1)).toMatchObject({ trusted_proxies: "127.0.0.1", buyer_email_form: "false" });
  });

  it("tests a site against the host patterns and says which one matched", async () => {
    const asked: string[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "settings_get") return DEFAULTS;
      if (cmd === "server_status") {
        return { enabled: false, running: false, address: null, bind: "127.0.0.1:8787", public_url: "", public_key: null,
          requests_served: 0, last_errors: [], problem: null };
      }
      if (cmd === "sites_classify") {
        const url = (args as { url: string }).url;
        asked.push(url);
        if (url === "nope") throw { code: "input.invalid", message: "“site_url” must be an absolute http or https address.", field: "site_url" };
        return { site: "staging-abc.kinsta.cloud", environment: "staging", reason: "matches the staging pattern staging-*.kinsta.cloud", counts_toward_limit: false };
      }
    }, { shouldMockEvents: true });
    renderPage();
    await userEvent.click(screen.getByRole("tab", { name: "Licensing server" }));
    expect(await screen.findByTestId("setting-staging_hosts")).toBeTruthy();
    await userEvent.type(screen.getByTestId("site-tester-url"), "https://staging-abc.kinsta.cloud");
    await userEvent.click(screen.getByTestId("site-tester-go"));
    const result = await screen.findByTestId("site-tester-result");
    expect(result.textContent).toContain("staging-abc.kinsta.cloud: staging (matches the staging pattern staging-*.kinsta.cloud)");
    expect(result.textContent).toContain("Does not count");
    expect(asked).toEqual(["https://staging-abc.kinsta.cloud"]);
    await userEvent.clear(screen.getByTestId("site-tester-url"));
    await userEvent.type(screen.getByTestId("site-tester-url"), "nope");
    await userEvent.click(screen.getByTestId("site-tester-go"));
    expect((await screen.findByRole("alert")).textContent).toContain("absolute http or https");
  });

  it("saves the License tab through Rust and shows Saved", async () => {
    const backend = fakeBackend();
    renderPage();
    await userEvent.click(screen.getByRole("tab", { name: "License" }));
    const input = await screen.findByTestId("setting-default_activation_limit");
    await userEvent.clear(input);
    await userEvent.type(input, "3");
    await userEvent.click(screen.getByTestId("save-settings"));
    await screen.findByTestId("saved");
    expect(backend.calls).toEqual([{ default_activation_limit: "3", default_license_type: "regular" }]);
    expect(backend.stored().default_activation_limit).toBe(3);
  });

  it("shows Rust's validation error inline under the field, and does not claim Saved", async () => {
    fakeBackend();
    renderPage();
    await userEvent.click(screen.getByRole("tab", { name: "License" }));
    const input = await screen.findByTestId("setting-default_activation_limit");
    await userEvent.clear(input);
    await userEvent.type(input, "0");
    await userEvent.click(screen.getByTestId("save-settings"));
    const error = await screen.findByTestId("setting-default_activation_limit-error");
    expect(error.textContent).toMatch(/1 to 1000/);
    expect(screen.queryByTestId("saved")).toBeNull();
    expect(input.getAttribute("aria-invalid")).toBe("true");
    // Typing again clears the stale error.
    await userEvent.type(input, "5");
    await waitFor(() => expect(screen.queryByTestId("setting-default_activation_limit-error")).toBeNull());
  });

  it("backs up now and restores a backup only after a confirmation", async () => {
    const files = [{ path: "/data/backups/keymanager-20261201-100000.sqlite3", at: "2026-12-01T10:00:00Z", size_bytes: 204800 }];
    const restored: string[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "settings_get") return DEFAULTS;
      if (cmd === "backups_list") return { folder: "/data/backups", files: [...files] };
      if (cmd === "backup_now") {
        const f = { path: "/data/backups/keymanager-20261202-100000.sqlite3", at: "2026-12-02T10:00:00Z", size_bytes: 3 * 1024 * 1024 };
        files.unshift(f);
        return f;
      }
      if (cmd === "backup_restore") {
        restored.push((args as { path: string }).path);
        return { restored_from: files[1].path, kept_aside: "/data/backups/before-restore-keymanager-20261202-100100.sqlite3",
          schema_version: 7, licenses: 42, products: 3, note: "Secrets are not in backups." };
      }
    });
    renderPage();
    expect((await screen.findByTestId("backup-folder")).textContent).toBe("/data/backups");
    await userEvent.click(screen.getByTestId("backup-now"));
    expect((await screen.findByTestId("backup-done")).textContent).toBe("Backed up (3.0 MB)");
    await waitFor(() => expect(screen.getAllByTestId("backup-file")).toHaveLength(2));
    await userEvent.click(screen.getAllByTestId("backup-restore")[1]);
    expect(restored).toEqual([]);
    await userEvent.click(screen.getByTestId("backup-restore-confirm"));
    expect((await screen.findByTestId("restore-done")).textContent).toContain("Restored 42 licenses and 3 products");
    expect(restored).toEqual(["/data/backups/keymanager-20261201-100000.sqlite3"]);
  });

  it("warns before a tab switch drops unsaved edits", async () => {
    const backend = fakeBackend();
    renderPage();
    await userEvent.click(screen.getByRole("tab", { name: "License" }));
    const input = await screen.findByTestId("setting-default_activation_limit");
    // No edits: tabs switch freely.
    await userEvent.click(screen.getByRole("tab", { name: "General" }));
    expect(screen.queryByTestId("unsaved-warning")).toBeNull();
    await userEvent.click(screen.getByRole("tab", { name: "License" }));
    const again = await screen.findByTestId("setting-default_activation_limit");
    await userEvent.clear(again);
    await userEvent.type(again, "7");
    await userEvent.click(screen.getByRole("tab", { name: "General" }));
    expect(await screen.findByTestId("unsaved-warning")).toBeTruthy();
    await userEvent.click(screen.getByTestId("unsaved-stay"));
    expect((screen.getByTestId("setting-default_activation_limit") as HTMLInputElement).value).toBe("7");
    await userEvent.click(screen.getByRole("tab", { name: "General" }));
    await userEvent.click(await screen.findByTestId("unsaved-discard"));
    await screen.findByTestId("setting-sync_interval_minutes");
    expect(backend.calls).toEqual([]);
    void input;
  });

  it("switches start at login from General", async () => {
    let on = false;
    const asked: boolean[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "settings_get") return DEFAULTS;
      if (cmd === "backups_list") return { folder: "/data/backups", files: [] };
      if (cmd === "autostart_get") return on;
      if (cmd === "autostart_set") {
        on = (args as { enabled: boolean }).enabled;
        asked.push(on);
        return on;
      }
    });
    renderPage();
    const toggle = await screen.findByTestId("autostart");
    await waitFor(() => expect(toggle).toHaveProperty("disabled", false));
    expect(toggle).toHaveProperty("checked", false);
    await userEvent.click(toggle);
    await waitFor(() => expect(screen.getByTestId("autostart")).toHaveProperty("checked", true));
    expect(asked).toEqual([true]);
  });
});
