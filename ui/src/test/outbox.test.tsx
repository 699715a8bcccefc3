import { describe, expect, it } from "vitest";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { WebhooksTab } from "../settings/WebhooksTab";
import { EmailTab } from "../settings/EmailTab";
import type { WebhookEndpoint } from "../bindings/WebhookEndpoint";
import type { Delivery } from "../bindings/Delivery";
import type { Settings } from "../bindings/Settings";

function wrap(ui: React.ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}

const ENDPOINT: WebhookEndpoint = {
  id: 1, url: "https://hooks.example.com/km", all_events: false, events: ["license.created"], enabled: true,
  disabled_reason: null, created_at: "2026-12-01T10:00:00Z", pending: 0, failed: 0, failing_since: null, last_error: null,
};

function delivery(over: Partial<Delivery>): Delivery {
  return {
    message_id: "msg_1", channel: "webhook", endpoint_id: 1, destination: ENDPOINT.url, event_type: "webhook.test",
    status: "delivered", attempts: 1, last_status: 200, last_error: null, next_attempt_at: null,
    created_at: "2026-12-01T10:00:00Z", delivered_at: "2026-12-01T10:00:01Z", ...over,
  };
}

describe("Settings > Webhooks", () => {
  it("adds an endpoint for chosen events, shows its secret once, and tests it", async () => {
    const endpoints: WebhookEndpoint[] = [];
    const log: Delivery[] = [];
    const added: { url: string; events: string }[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "webhooks_list") return [...endpoints];
      if (cmd === "deliveries") return [...log];
      if (cmd === "webhook_add") {
        const a = args as { url: string; events: string };
        if (!a.url.startsWith("https://")) throw { code: "webhook.url_refused", message: "only https:// addresses", field: "url" };
        added.push(a);
        endpoints.push(ENDPOINT);
        return { endpoint: ENDPOINT, secret: "whsec_SECRET" };
      }
      if (cmd === "webhook_test") {
        const d = delivery({});
        log.push(d);
        return d;
      }
    });
    wrap(<WebhooksTab />);
    await screen.findByTestId("webhooks-empty");
    await userEvent.type(screen.getByTestId("webhook-url"), "http://hooks.example.com/km");
    await userEvent.click(screen.getByTestId("webhook-add"));
    expect((await screen.findByTestId("webhook-url-error")).textContent).toContain("https://");

    await userEvent.clear(screen.getByTestId("webhook-url"));
    await userEvent.type(screen.getByTestId("webhook-url"), ENDPOINT.url);
    await userEvent.click(screen.getByTestId("webhook-all-events"));
    await userEvent.click(screen.getByTestId("webhook-event-license.revoked"));
    await userEvent.click(screen.getByTestId("webhook-add"));
    expect((await screen.findByTestId("webhook-secret-value")).textContent).toBe("whsec_SECRET");
    expect(added).toEqual([{ url: ENDPOINT.url, events: "license.created,license.revoked" }]);

    const row = await screen.findByTestId("webhook-endpoint");
    await userEvent.click(within(row).getByTestId("webhook-test"));
    expect((await within(row).findByTestId("webhook-note")).textContent).toContain("Test delivered (HTTP 200)");
    await waitFor(() => expect(screen.getAllByTestId("delivery-row")).toHaveLength(1));
  });

  it("shows a failing endpoint and retries a message from the log", async () => {
    const failing = { ...ENDPOINT, failing_since: "2026-12-01T10:00:00Z", last_error: "The endpoint answered HTTP 500.", pending: 1 };
    let log = [delivery({ status: "pending", attempts: 1, last_status: 500, last_error: "The endpoint answered HTTP 500.", next_attempt_at: "2026-12-01T10:05:00Z" })];
    const replayed: string[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "webhooks_list") return [failing];
      if (cmd === "deliveries") return log;
      if (cmd === "delivery_replay") {
        replayed.push((args as { messageId: string }).messageId);
        log = [delivery({ attempts: 2 })];
        return log[0];
      }
    });
    wrap(<WebhooksTab />);
    expect((await screen.findByTestId("webhook-endpoint-state")).textContent).toContain("Failing since");
    const row = await screen.findByTestId("delivery-row");
    expect(within(row).getByTestId("delivery-status").textContent).toContain("Retrying");
    await userEvent.click(within(row).getByTestId("delivery-replay"));
    await waitFor(() => expect(screen.getByTestId("delivery-status").textContent).toBe("Delivered"));
    expect(replayed).toEqual(["msg_1"]);
  });
});

const SETTINGS: Settings = {
  auto_create_products: false, default_activation_limit: 1, default_license_type: "regular", sync_interval_minutes: 30,
  history_days: 90, serve_requests_per_minute: 120, deactivations_per_day: 3, certificate_days: 30, store_name: "",
  server_enabled: false, server_bind: "127.0.0.1:8787", public_url: "", smtp_host: "smtp.example.com", smtp_port: 587,
  smtp_security: "starttls", smtp_username: "store", smtp_from: "Store <store@example.com>", notify_buyers: false, backup_folder: "", autostart_offered: false, archived_to: "", serve_max_connections: 1024, trusted_proxies: "", buyer_email_form: false, outbox_keep_days: 30, audit_keep_days: 365, staging_hosts: "staging.*", development_hosts: "dev.*", trust_reported_environment: false, dev_sites_per_license: 5, stale_activation_days: 45, shared_sites_threshold: 0, release_max_mb: 200, download_link_days: 7, downloads_per_day: 30,
};

describe("Settings > Email", () => {
  it("stores the password without showing it and sends a test e-mail", async () => {
    let stored = false;
    const passwords: string[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "settings_get") return SETTINGS;
      if (cmd === "deliveries") return [];
      if (cmd === "email_password_set") return stored;
      if (cmd === "email_set_password") {
        passwords.push((args as { password: string }).password);
        stored = true;
        return true;
      }
      if (cmd === "email_send_test") {
        const to = (args as { to: string | null }).to;
        if (to === "bad") throw { code: "email.invalid_address", message: "“bad” is not an e-mail address", field: "to" };
        return to ?? "store@example.com";
      }
    });
    wrap(<EmailTab />);
    expect(await screen.findByTestId("setting-smtp_host")).toHaveProperty("value", "smtp.example.com");
    const pw = screen.getByTestId("smtp-password");
    expect(pw.getAttribute("type")).toBe("password");
    await userEvent.type(pw, "hunter2");
    await userEvent.click(screen.getByTestId("smtp-password-save"));
    expect((await screen.findByTestId("smtp-password-saved")).textContent).toBe("Password stored");
    expect(passwords).toEqual(["hunter2"]);
    expect((pw as HTMLInputElement).value).toBe("");

    await userEvent.type(screen.getByTestId("email-test-to"), "bad");
    await userEvent.click(screen.getByTestId("email-test-send"));
    expect((await screen.findByTestId("email-test-error")).textContent).toContain("not an e-mail address");
    await userEvent.clear(screen.getByTestId("email-test-to"));
    await userEvent.click(screen.getByTestId("email-test-send"));
    expect((await screen.findByTestId("email-test-result")).textContent).toBe("Sent to store@example.com.");
  });
});
