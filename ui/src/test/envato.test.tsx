import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { EnvatoTab } from "../settings/EnvatoTab";
import type { ValidationReport } from "../bindings/ValidationReport";
import type { TokenStatus } from "../bindings/TokenStatus";

const NONE: TokenStatus = {
  configured: false, in_keychain: false, token_hint: null, username: null, items_count: null, saved_at: null,
  validated_at: null, last_check_at: null, last_check_ok: null, last_error: null, age_days: null, rotation_due: false, keychain_problem: null,
};

const SETTINGS = {
  auto_create_products: false, default_activation_limit: 1, default_license_type: "regular",
  sync_interval_minutes: 30, history_days: 90, serve_requests_per_minute: 120, deactivations_per_day: 3, certificate_days: 30, store_name: "", server_enabled: false, server_bind: "127.0.0.1:8787", public_url: "",
};

const MISSING: ValidationReport = {
  ok: false,
  steps: [
    { kind: "format", state: "passed", title: "Token format", detail: "32 letters and digits.", cause: null, solution: null, code: null },
    { kind: "connection", state: "passed", title: "Connection to Envato", detail: "Envato accepted the token.", cause: null, solution: null, code: null },
    { kind: "permissions", state: "failed", title: "Unauthorized", detail: "The token lacks “View your items' sales history” (sale:history).",
      cause: "Missing permissions", solution: "Regenerate the token with the correct permissions", code: "envato.missing_permission" },
    { kind: "items", state: "skipped", title: "Items for sale", detail: "Not checked: an earlier step failed.", cause: null, solution: null, code: null },
  ],
  username: null, user_id: 1, items_count: null,
  missing_scopes: [{ scope: "sale:history", label: "View your items' sales history" }],
  create_token_url: "https://build.envato.com/create-token/?sale:history=t",
  error: { code: "envato.missing_permission", message: "The token lacks…" },
};

function renderTab() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}><EnvatoTab /></QueryClientProvider>);
}

describe("Envato Integration tab", () => {
  it("shows each step, the seed's cause and solution, and the missing permission; saves nothing", async () => {
    const calls: string[] = [];
    mockIPC((cmd, args) => {
      calls.push(cmd);
      if (cmd === "token_status") return NONE;
      if (cmd === "settings_get") return SETTINGS;
      if (cmd === "envato_settings_save") {
        expect(args).toMatchObject({ token: "sandboxNoSalesScope0000000000002", autoCreateProducts: true });
        return { saved: false, report: MISSING, status: null, settings: null };
      }
    }, { shouldMockEvents: true });
    renderTab();
    await userEvent.type(await screen.findByTestId("envato-token"), "sandboxNoSalesScope0000000000002");
    expect(screen.getByTestId("envato-token").getAttribute("type")).toBe("password");
    await userEvent.click(screen.getByTestId("toggle-token-visibility"));
    expect(screen.getByTestId("envato-token").getAttribute("type")).toBe("text");
    await userEvent.click(await screen.findByTestId("setting-auto_create_products"));
    await userEvent.click(screen.getByTestId("save-settings"));

    expect((await screen.findByTestId("step-permissions")).dataset.state).toBe("failed");
    expect(screen.getByTestId("step-format").dataset.state).toBe("passed");
    expect(screen.getByTestId("step-items").dataset.state).toBe("skipped");
    expect(screen.getByTestId("step-permissions").textContent).toContain("Missing permissions");
    expect(screen.getByTestId("missing-scopes").textContent).toContain("View your items' sales history");
    expect(screen.getByTestId("form-error").textContent).toContain("Nothing was saved");
    expect(screen.queryByTestId("saved")).toBeNull();
    expect(calls).toContain("envato_settings_save");
  });

  it("shows the masked token, account, age and the yearly rotation reminder", async () => {
    mockIPC((cmd) => {
      if (cmd === "token_status") {
        return { ...NONE, configured: true, in_keychain: true, token_hint: "••••0001", username: "demo-author",
          saved_at: "2025-01-01T00:00:00Z", validated_at: "2025-01-01T00:00:00Z", age_days: 700, rotation_due: true, keychain_problem: null };
      }
      if (cmd === "settings_get") return SETTINGS;
    }, { shouldMockEvents: true });
    renderTab();
    expect((await screen.findByTestId("token-hint")).textContent).toBe("••••0001");
    expect(screen.getByTestId("token-account").textContent).toBe("demo-author");
    expect(screen.getByTestId("rotation-reminder").textContent).toContain("over a year old");
  });

  it("offers start at login once, after the token is saved", async () => {
    let settings = { ...SETTINGS, smtp_host: "", smtp_port: 587, smtp_security: "starttls", smtp_username: "", smtp_from: "",
      notify_buyers: false, backup_folder: "", autostart_offered: false, serve_max_connections: 1024, trusted_proxies: "", buyer_email_form: false, outbox_keep_days: 30, audit_keep_days: 365, staging_hosts: "staging.*", development_hosts: "dev.*", trust_reported_environment: false, dev_sites_per_license: 5, stale_activation_days: 45, shared_sites_threshold: 0 };
    const OK: ValidationReport = { ...MISSING, ok: true, steps: MISSING.steps.map((st) => ({ ...st, state: "passed" as const, cause: null, solution: null, code: null })),
      missing_scopes: [], error: null };
    const asked: string[] = [];
    mockIPC((cmd, args) => {
      asked.push(cmd);
      if (cmd === "token_status") return NONE;
      if (cmd === "settings_get") return settings;
      if (cmd === "envato_settings_save") return { saved: true, report: OK, status: { ...NONE, configured: true }, settings };
      if (cmd === "autostart_set") {
        expect(args).toEqual({ enabled: true });
        settings = { ...settings, autostart_offered: true };
        return true;
      }
    }, { shouldMockEvents: true });
    renderTab();
    await userEvent.type(await screen.findByTestId("envato-token"), "sandboxSellerToken00000000000001");
    await userEvent.click(screen.getByTestId("save-settings"));
    await screen.findByTestId("saved");
    await userEvent.click(await screen.findByTestId("autostart-offer-yes"));
    await waitFor(() => expect(screen.queryByTestId("autostart-offer")).toBeNull());
    expect(asked).toContain("autostart_set");
  });
});
