import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { App } from "../App";

const PROBLEM = {
  error: { code: "keychain.unavailable", message: "The system keychain is not available (it is locked or not running)." },
  fixes: ["Unlock your login keyring: open “Passwords and Keys”…", "No keyring running? Install and start one…", "On a server…"],
};

/** The window against a keychain that answers only after `lockedFor` status checks; a token
 * was saved before when `saved`. */
function renderApp(lockedFor: number, saved: boolean, hash = "#dashboard") {
  window.history.replaceState(null, "", hash);
  let checks = 0;
  let unlocks = 0;
  mockIPC((cmd) => {
    if (cmd === "app_info") return { version: "0.1.0", envato_api_base: "https://api.envato.com", envato_api_developer_override: false, data_dir: "/data" };
    if (cmd === "token_status") {
      checks += 1;
      const locked = checks <= lockedFor;
      return {
        configured: saved && !locked, in_keychain: saved && !locked, token_hint: saved ? "••••0001" : null, username: null,
        items_count: null, saved_at: null, validated_at: null, last_check_at: null, last_check_ok: null, last_error: null,
        age_days: null, rotation_due: false, keychain_problem: locked ? PROBLEM : null,
      };
    }
    if (cmd === "settings_get") return { history_days: 90, auto_create_products: false };
    if (cmd === "sync_status") return { running: false, paused: false, needs_token: true, auth_failed: false, cancelling: false, progress: null, last: null, next_run_at: null };
    if (cmd === "dashboard") {
      return { licenses: { total: 0, active: 0, suspended: 0, revoked: 0 }, products: 0, sales_last_30_days: 0, revenue_last_30_days: "0.00",
        days: [], series: [], last_sync: null, outbox: { pending: 0, failed: 0, failing: [] } };
    }
    if (cmd === "lookup_history") return [];
    if (cmd === "keychain_unlock") { unlocks += 1; checks = lockedFor; return null; }
    return null;
  }, { shouldMockEvents: true });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(<QueryClientProvider client={client}><App /></QueryClientProvider>);
  return { checks: () => checks, unlocks: () => unlocks };
}

afterEach(() => cleanup());

describe("a locked or missing keychain", () => {
  it("opens the guided setup on the keychain check, says how to fix it, and goes on once it answers", async () => {
    const { checks, unlocks } = renderApp(2, false);
    const step = await screen.findByTestId("keychain-step");
    expect(step.textContent).toContain("The system keychain is not available");
    expect(screen.getByTestId("keychain-fixes").textContent).toContain("Unlock your login keyring");
    expect(screen.queryByText("1. Create a personal token on Envato")).toBeNull();
    // Try again asks at once; the second answer is still locked, the third (by itself) is not.
    await userEvent.click(screen.getByTestId("keychain-retry"));
    await waitFor(() => expect(checks()).toBeGreaterThanOrEqual(2));
    expect(await screen.findByText("1. Create a personal token on Envato", {}, { timeout: 6000 })).toBeTruthy();
    expect(unlocks()).toBe(0);
    expect(screen.queryByTestId("keychain-step")).toBeNull();
  }, 10000);

  it("shows a banner on every page when a saved token cannot be read, until the keychain answers", async () => {
    const { unlocks } = renderApp(1000, true, "#lookup");
    const banner = await screen.findByTestId("keychain-banner");
    expect(banner.textContent).toContain("nothing syncs");
    await userEvent.click(screen.getByTestId("nav-dashboard"));
    expect(await screen.findByTestId("keychain-banner")).toBeTruthy();
    expect(screen.queryByTestId("first-run")).toBeNull();
    // "Unlock…" asks Rust to show the desktop's unlock prompt.
    await userEvent.click(screen.getByTestId("keychain-unlock"));
    await waitFor(() => expect(unlocks()).toBe(1));
  });
});
