import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { App, pageFromHash } from "../App";

const SETTINGS = {
  auto_create_products: false, default_activation_limit: 1, default_license_type: "regular",
  sync_interval_minutes: 30, history_days: 90, serve_requests_per_minute: 120, deactivations_per_day: 3,
  certificate_days: 30, store_name: "", server_enabled: false, server_bind: "127.0.0.1:8787", public_url: "",
  smtp_host: "", smtp_port: 587, smtp_security: "starttls", smtp_username: "", smtp_from: "",
  notify_buyers: false, backup_folder: "", autostart_offered: true, serve_max_connections: 1024, trusted_proxies: "", buyer_email_form: false, outbox_keep_days: 30, audit_keep_days: 365, staging_hosts: "staging.*", development_hosts: "dev.*", trust_reported_environment: false, dev_sites_per_license: 5, stale_activation_days: 45, shared_sites_threshold: 0, release_max_mb: 200, download_link_days: 7, downloads_per_day: 30,
};

/** The app's window against a backend that records the window commands. */
function renderApp(hash: string) {
  window.history.replaceState(null, "", hash);
  const calls: { cmd: string; args: unknown }[] = [];
  mockIPC((cmd, args) => {
    if (cmd === "window_close" || cmd === "ui_set_unsaved" || cmd === "ui_ready") calls.push({ cmd, args });
    if (cmd === "app_info") return { version: "0.1.0", envato_api_base: "https://api.envato.com", envato_api_developer_override: false, data_dir: "/data" };
    if (cmd === "token_status") return { configured: true, in_keychain: true };
    if (cmd === "settings_get") return SETTINGS;
    if (cmd === "backups_list") return { folder: "/data/backups", files: [] };
    if (cmd === "autostart_get") return false;
    if (cmd === "sync_status") return { running: false, paused: false, needs_token: false, auth_failed: false, cancelling: false, progress: null, last: null, next_at: null };
    return null;
  }, { shouldMockEvents: true });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(<QueryClientProvider client={client}><App /></QueryClientProvider>);
  return calls;
}

// Unmount while the mocked event plugin is still there (the listeners unsubscribe on unmount).
afterEach(() => cleanup());

describe("the window", () => {
  it("reads its page from the URL fragment and keeps it there", async () => {
    expect(pageFromHash("#licenses")).toBe("licenses");
    expect(pageFromHash("#/sync-log")).toBe("sync-log");
    expect(pageFromHash("#nonsense")).toBe("dashboard");
    expect(pageFromHash("")).toBe("dashboard");
    const calls = renderApp("#settings");
    expect(await screen.findByTestId("page-settings")).toBeTruthy();
    // The first paint is reported with the page it shows (the reopen figure and its e2e test).
    await waitFor(() => expect(calls).toContainEqual({ cmd: "ui_ready", args: { page: "settings" } }));
    await userEvent.click(screen.getByTestId("nav-sync-log"));
    expect(window.location.hash).toBe("#sync-log");
  });

  it("Ctrl+W closes the window to the tray", async () => {
    const calls = renderApp("#sync-log");
    await screen.findByTestId("page-sync-log");
    await userEvent.keyboard("{Control>}w{/Control}");
    await waitFor(() => expect(calls).toContainEqual({ cmd: "window_close", args: { discard: false } }));
  });

  it("asks before a page switch or a close drops unsaved Settings edits", async () => {
    const calls = renderApp("#settings");
    await userEvent.click(await screen.findByRole("tab", { name: "License" }));
    const input = await screen.findByTestId("setting-default_activation_limit");
    await userEvent.clear(input);
    await userEvent.type(input, "7");
    await waitFor(() => expect(calls).toContainEqual({ cmd: "ui_set_unsaved", args: { unsaved: true } }));
    // A page switch waits for the answer; Keep editing keeps the edit.
    await userEvent.click(screen.getByTestId("nav-products"));
    expect(await screen.findByTestId("leave-warning")).toBeTruthy();
    expect(screen.getByTestId("page-settings")).toBeTruthy();
    await userEvent.click(screen.getByTestId("leave-stay"));
    expect((screen.getByTestId("setting-default_activation_limit") as HTMLInputElement).value).toBe("7");
    // The close button was pressed: Rust held the close and said so.
    await emit("close-blocked");
    expect((await screen.findByTestId("leave-warning")).textContent).toContain("Closing the window");
    expect(calls.filter((c) => c.cmd === "window_close")).toEqual([]);
    await userEvent.click(screen.getByTestId("leave-discard"));
    await waitFor(() => expect(calls).toContainEqual({ cmd: "window_close", args: { discard: true } }));
    await waitFor(() => expect(calls.at(-1)).toEqual({ cmd: "ui_set_unsaved", args: { unsaved: false } }));
  });
});
