import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { FirstRun } from "../pages/FirstRun";

const SETTINGS = {
  auto_create_products: false, default_activation_limit: 1, default_license_type: "regular", sync_interval_minutes: 30,
  history_days: 90, serve_requests_per_minute: 120, deactivations_per_day: 3, certificate_days: 30, store_name: "",
  server_enabled: false, server_bind: "127.0.0.1:8787", public_url: "", smtp_host: "", smtp_port: 587, smtp_security: "starttls",
  smtp_username: "", smtp_from: "", notify_buyers: false, backup_folder: "", autostart_offered: false, serve_max_connections: 1024, trusted_proxies: "", buyer_email_form: false, outbox_keep_days: 30, audit_keep_days: 365, staging_hosts: "staging.*", development_hosts: "dev.*", trust_reported_environment: false, dev_sites_per_license: 5, stale_activation_days: 45, shared_sites_threshold: 0, release_max_mb: 200, download_link_days: 7, downloads_per_day: 30,
};

const step = (kind: string, title: string) => ({ kind, state: "passed", title, detail: "ok", cause: null, solution: null, code: null });

describe("First run", () => {
  it("goes from token to the first sync with the keyboard alone", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "settings_get") return SETTINGS;
      if (cmd === "token_validate") {
        return { ok: true, steps: [step("format", "Token format"), step("connection", "Connection"), step("permissions", "Permissions"), step("items", "Items for sale")],
          username: "demo-author", user_id: 1, items_count: 3, missing_scopes: [], create_token_url: "", error: null };
      }
      if (cmd === "settings_update") return { ...SETTINGS, history_days: 30 };
      if (cmd === "envato_settings_save") return { saved: true, report: null, status: null, settings: null };
      if (cmd === "sync_now") return null;
    }, { shouldMockEvents: true });
    let done = false;
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(<QueryClientProvider client={client}><FirstRun onDone={() => { done = true; }} onSkip={() => {}} /></QueryClientProvider>);
    await screen.findByText("1. Create a personal token on Envato");
    await userEvent.keyboard("{Enter}");
    await userEvent.keyboard("sandboxSellerToken00000000000001{Enter}");
    await waitFor(() => expect(screen.getByTestId("first-run-check-items").dataset.state).toBe("passed"));
    expect(screen.getByTestId("first-run-check").textContent).toBe("Next");
    await userEvent.keyboard("{Enter}");
    await screen.findByText("3. Products from sales: Auto-Create?");
    await userEvent.keyboard(" ");
    expect(screen.getByTestId("first-run-auto-on")).toHaveProperty("checked", true);
    await userEvent.keyboard("{Enter}");
    const days = await screen.findByTestId("first-run-days");
    await waitFor(() => expect(days).toHaveProperty("value", "90"));
    await userEvent.clear(days);
    await userEvent.keyboard("30{Enter}");
    await screen.findByText("5. Save and sync");
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(done).toBe(true));
    const order = calls.map((c) => c.cmd).filter((c) => ["settings_update", "envato_settings_save", "sync_now"].includes(c));
    expect(order).toEqual(["settings_update", "envato_settings_save", "sync_now"]);
    expect(calls.find((c) => c.cmd === "settings_update")?.args).toEqual({ changes: { history_days: "30" } });
    expect(calls.find((c) => c.cmd === "envato_settings_save")?.args).toEqual({ token: "sandboxSellerToken00000000000001", autoCreateProducts: true });
  });
});
