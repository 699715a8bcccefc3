import { beforeAll, describe, expect, it } from "vitest";
import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { Lookup } from "../pages/Lookup";
import { Licenses } from "../pages/licenses/Licenses";
import { Products } from "../pages/Products";
import type { License } from "../bindings/License";
import type { LookupResult } from "../bindings/LookupResult";

const LICENSE: License = {
  id: 7, license_key: "7KQ2M-XH4TP-9RWC3-NB8FZ", product_id: 1, product_name: "Modern Portfolio Pro", status: "active",
  license_type: "regular", activation_limit: 3, activations_used: 1, source: "envato",
  purchase_code: "a67f4582-95d6-4019-81f3-75d1ebe3a071", envato_item_id: 20929979, marketplace: "themeforest.net",
  buyer: null, purchase_count: 2, envato_license: "Regular License", amount: "41.30", sold_at: "2026-11-01T10:00:00Z",
  supported_until: null, created_at: "2026-11-01T10:05:00Z", envato_checked_at: "2026-11-28T10:00:00Z",
  envato_flag: null, item_name: "Modern Portfolio Pro - WordPress Theme", buyer_email: null, note: null,
  dev_activations_used: 0, shared_suspected_at: null, updates_until: null,
};

function wrap(ui: React.ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}

describe("Lookup page", () => {
  it("shows a valid sale's facts, guest checkout and no support", async () => {
    const result: LookupResult = {
      code: LICENSE.purchase_code!, verdict: "valid", message: "A genuine purchase.", from_envato: true, license: LICENSE,
      sale: null, activations: [], support: { until: null, days_left: null, expired: false }, waiting_for_product: false, stale: false,
    };
    const asked: string[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "lookup_history") return [];
      if (cmd === "lookup") {
        asked.push((args as { code: string }).code);
        return result;
      }
    }, { shouldMockEvents: true });
    const opened: [number, string][] = [];
    wrap(<Lookup focusSignal={0} onOpenLicense={(id, key) => opened.push([id, key])} />);
    await userEvent.type(screen.getByTestId("lookup-input"), " A67F4582-95D6-4019-81F3-75D1EBE3A071 ");
    await userEvent.click(screen.getByTestId("lookup-submit"));
    expect((await screen.findByTestId("lookup-verdict")).textContent).toBe("Valid purchase");
    expect(screen.getByTestId("fact-buyer").textContent).toBe("Guest checkout");
    expect(screen.getByTestId("fact-support").textContent).toBe("No support");
    expect(screen.getByTestId("fact-key").textContent).toBe(LICENSE.license_key);
    expect(screen.getByTestId("fact-purchases").textContent).toContain("2 of this item");
    // Normalising is Rust's job: the text goes as typed.
    expect(asked).toEqual([" A67F4582-95D6-4019-81F3-75D1EBE3A071 "]);
    // The result links to its license.
    await userEvent.click(screen.getByTestId("open-license"));
    expect(opened).toEqual([[LICENSE.id, LICENSE.license_key]]);
  });

  it("shows what was sold when the purchase has no license yet", async () => {
    const result: LookupResult = {
      code: LICENSE.purchase_code!, verdict: "valid", message: "A genuine purchase; it waits in the review queue.",
      from_envato: true, license: null, activations: [], waiting_for_product: true, stale: false,
      support: { until: "2027-05-01T10:00:00Z", days_left: 150, expired: false },
      sale: {
        item_id: 20929979, item_name: "Modern Portfolio Pro", marketplace: "themeforest.net", buyer: "jane_doe",
        envato_license: "Extended License", sold_at: "2026-11-01T10:00:00Z", amount: "-12.50", currency: "USD",
        purchase_count: 1, supported_until: "2027-05-01T10:00:00Z",
      },
    };
    mockIPC((cmd) => {
      if (cmd === "lookup_history") return [];
      if (cmd === "lookup") return result;
    }, { shouldMockEvents: true });
    wrap(<Lookup focusSignal={0} />);
    await userEvent.type(screen.getByTestId("lookup-input"), LICENSE.purchase_code!);
    await userEvent.click(screen.getByTestId("lookup-submit"));
    expect((await screen.findByTestId("sale-buyer")).textContent).toBe("jane_doe");
    expect(screen.getByTestId("sale-type").textContent).toBe("Extended License");
    expect(screen.getByTestId("sale-amount").textContent).toBe("-12.50 USD");
    expect(screen.getByTestId("sale-item").textContent).toContain("#20929979");
    expect(screen.getByTestId("sale-support").textContent).toContain("150 days left");
    expect(screen.getByTestId("sale-license").textContent).toContain("review queue");
    expect(screen.queryByTestId("fact-key")).toBeNull();
  });

  it("explains a missing token instead of showing a raw error", async () => {
    mockIPC((cmd) => {
      if (cmd === "lookup_history") return [];
      if (cmd === "lookup") throw { code: "token.not_configured", message: "No Envato personal token is set." };
    }, { shouldMockEvents: true });
    wrap(<Lookup focusSignal={0} />);
    await userEvent.type(screen.getByTestId("lookup-input"), "a67f4582-95d6-4019-81f3-75d1ebe3a071");
    await userEvent.click(screen.getByTestId("lookup-submit"));
    expect((await screen.findByTestId("lookup-error")).textContent).toContain("Settings › Envato Integration");
  });
});

describe("Licenses page", () => {
  // jsdom has no layout: give elements a viewport-sized box so the virtualised list draws rows.
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 600 });
    Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 900 });
  });

  it("lists a page, opens the detail panel and suspends with a reason", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    let status: License["status"] = "active";
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      switch (cmd) {
        case "products_list": return [];
        case "marketplaces": return ["themeforest.net"];
        case "licenses_page": return { licenses: [{ ...LICENSE, status }], next_cursor: null };
        case "license_detail": return {
          license: { ...LICENSE, status }, activations: [], audit: [], key_history: [],
          support: { until: "2027-03-01T00:00:00Z", days_left: 92, expired: false },
        };
        case "license_change_status": status = "suspended"; return { ...LICENSE, status };
      }
    }, { shouldMockEvents: true });
    wrap(<Licenses />);
    await waitFor(() => expect(screen.getByTestId("licenses-count").textContent).toBe("1 shown"));
    const row = await screen.findByTestId("license-row");
    expect(row.textContent).toContain("Guest checkout");
    // Keyboard only: Tab reaches the row, Enter opens it.
    row.focus();
    await userEvent.keyboard("{Enter}");
    const panel = await screen.findByTestId("license-panel");
    // The purchase code is shown with a copy button (the seed's Testing Step 6).
    expect(within(panel).getByTestId("fact-code").textContent).toBe(LICENSE.purchase_code);
    expect(within(panel).getByTestId("copy-code")).toBeTruthy();
    await userEvent.click(within(panel).getByTestId("action-suspend"));
    await userEvent.type(within(panel).getByTestId("action-reason"), "Chargeback");
    await userEvent.click(within(panel).getByTestId("action-confirm"));
    // The support window is Rust's arithmetic: the panel shows the days it was given.
    expect(within(panel).getByTestId("fact-support").textContent).toContain("92 days left");
    await waitFor(() => expect(within(screen.getByTestId("license-panel")).getByTestId("fact-status").textContent).toBe("suspended"));
    expect(calls.find((c) => c.cmd === "license_change_status")?.args).toEqual({ id: 7, action: "suspend", reason: "Chargeback" });

    await userEvent.type(screen.getByTestId("license-search"), "buyer12");
    await waitFor(() => expect(calls.some((c) => c.cmd === "licenses_page" && (c.args as { filter: { search?: string } }).filter.search === "buyer12")).toBe(true));
  });

  it("groups activations by environment, filters possibly shared licenses and suspends one with the reason filled in", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    const shared = { ...LICENSE, activation_limit: 1, activations_used: 1, dev_activations_used: 2, shared_suspected_at: "2026-11-30T10:00:00Z" };
    const act = (id: number, site: string, environment: "production" | "staging" | "local") => ({
      id, instance_id: `site:${site}`, label: null, activated_at: "2026-11-01T10:00:00Z", last_seen_at: "2026-11-29T10:00:00Z", site, environment,
    });
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      switch (cmd) {
        case "products_list": return [];
        case "marketplaces": return [];
        case "licenses_page": return { licenses: [shared], next_cursor: null };
        case "license_detail": return {
          license: shared, audit: [], key_history: [], support: { until: null, days_left: null, expired: false },
          activations: [act(1, "shop.example.com", "production"), act(2, "staging.shop.example.com", "staging"), act(3, "shop.test", "local")],
        };
        case "license_change_status": return { ...shared, status: "suspended" };
      }
    }, { shouldMockEvents: true });
    wrap(<Licenses />);
    await userEvent.click(await screen.findByTestId("filter-shared"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "licenses_page" && (c.args as { filter: { shared?: boolean } }).filter.shared === true)).toBe(true));
    const row = await screen.findByTestId("license-row");
    expect(within(row).getByTestId("shared-pill")).toBeTruthy();
    await userEvent.click(row);
    const panel = await screen.findByTestId("license-panel");
    expect(within(panel).getByTestId("production-heading").textContent).toBe("Production (1 of 1)");
    expect(within(panel).getByTestId("dev-heading").textContent).toBe("Staging and development (2, not counted)");
    const envs = within(panel).getAllByTestId("activation-environment").map((e) => e.textContent);
    expect(envs).toEqual(["staging, not counted", "local, not counted"]);
    expect(within(panel).getAllByTestId("activation-fingerprint").map((e) => e.textContent)).toEqual(["shop.example.com", "staging.shop.example.com", "shop.test"]);
    // One click fills the reason; Confirm suspends (KeyManager itself never does).
    await userEvent.click(within(panel).getByTestId("shared-suspend"));
    expect(within(panel).getByTestId("action-reason")).toHaveProperty("value", "Purchase code shared: used on too many sites");
    await userEvent.click(within(panel).getByTestId("action-confirm"));
    await waitFor(() => expect(calls.find((c) => c.cmd === "license_change_status")?.args).toEqual({ id: 7, action: "suspend", reason: "Purchase code shared: used on too many sites" }));
  });

  it("closes the detail of a license that a bulk action took out of the filtered list", async () => {
    let suspended = false;
    mockIPC((cmd, args) => {
      switch (cmd) {
        case "products_list": return [];
        case "marketplaces": return [];
        case "licenses_page": {
          const f = (args as { filter: { status?: string } }).filter;
          // Filtered on active: once suspended, the license is no longer in the list.
          return { licenses: f.status === "active" && suspended ? [] : [{ ...LICENSE, status: suspended ? "suspended" : "active" }], next_cursor: null };
        }
        case "license_detail": return {
          license: { ...LICENSE, status: suspended ? "suspended" : "active" }, activations: [], audit: [], key_history: [],
          support: { until: null, days_left: null, expired: false },
        };
        case "licenses_change_status": suspended = true; return { changed: [7], skipped: [] };
      }
    }, { shouldMockEvents: true });
    wrap(<Licenses />);
    await userEvent.selectOptions(await screen.findByTestId("filter-status"), "active");
    const row = await screen.findByTestId("license-row");
    await userEvent.click(row);
    expect(await screen.findByTestId("license-panel")).toBeTruthy();
    await userEvent.click(screen.getByTestId("pick-license"));
    await userEvent.type(await screen.findByTestId("bulk-reason"), "Chargeback");
    await userEvent.click(screen.getByTestId("bulk-apply"));
    await waitFor(() => expect(screen.queryByTestId("license-row")).toBeNull());
    await waitFor(() => expect(screen.queryByTestId("license-panel")).toBeNull());
  });

  it("makes a license by hand, saves the buyer's e-mail and mails the key", async () => {
    const PRODUCT = { id: 3, name: "Desktop App", description: "", sku: null, envato_item_ids: [], activation_limit: 2,
      license_type: "regular", status: "active", license_count: 0, created_at: "2026-12-01T10:00:00Z", updated_at: "2026-12-01T10:00:00Z" };
    let current: License = { ...LICENSE, id: 9, source: "manual", purchase_code: null, envato_item_id: null, marketplace: null,
      buyer: "bank-transfer-buyer", product_id: 3, product_name: "Desktop App" };
    const issued: unknown[] = [];
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      switch (cmd) {
        case "products_list": return [PRODUCT];
        case "marketplaces": return [];
        case "licenses_page": return { licenses: issued.length ? [current] : [], next_cursor: null };
        case "license_issue": {
          const a = args as { buyerEmail: string | null };
          if (a.buyerEmail === "not-an-address") throw { code: "email.invalid_address", message: "not an e-mail address", field: "buyer_email" };
          issued.push(args);
          return current;
        }
        case "license_detail": return { license: current, activations: [], audit: [], key_history: [], support: { until: null, days_left: null, expired: false } };
        case "license_update_details": current = { ...current, buyer_email: (args as { buyerEmail: string }).buyerEmail }; return current;
        case "license_send_key": sent.push(args); return { message_id: "msg_1", channel: "email", endpoint_id: null, destination: "pay@buyer.example",
          event_type: "email.license_key", status: "delivered", attempts: 1, last_status: null, last_error: null, next_attempt_at: null,
          created_at: "2026-12-01T10:00:00Z", delivered_at: "2026-12-01T10:00:01Z" };
      }
    }, { shouldMockEvents: true });
    wrap(<Licenses />);
    await userEvent.click(await screen.findByTestId("new-license"));
    const form = await screen.findByTestId("new-license-form");
    await userEvent.type(within(form).getByTestId("new-license-buyer"), "bank-transfer-buyer");
    await userEvent.type(within(form).getByTestId("new-license-email"), "not-an-address");
    await userEvent.click(within(form).getByTestId("new-license-create"));
    expect((await within(form).findByTestId("new-license-buyer_email-error")).textContent).toContain("not an e-mail address");
    await userEvent.clear(within(form).getByTestId("new-license-email"));
    await userEvent.type(within(form).getByTestId("new-license-note"), "Paid by bank transfer");
    await userEvent.click(within(form).getByTestId("new-license-create"));
    const panel = await screen.findByTestId("license-panel");
    expect(issued).toEqual([{ productId: 3, buyer: "bank-transfer-buyer", buyerEmail: null, note: "Paid by bank transfer" }]);
    expect(within(panel).getByTestId("send-key")).toHaveProperty("disabled", true);
    await userEvent.type(within(panel).getByTestId("buyer-email"), "pay@buyer.example");
    await userEvent.click(within(panel).getByTestId("contact-save"));
    await waitFor(() => expect(within(screen.getByTestId("license-panel")).getByTestId("send-key")).toHaveProperty("disabled", false));
    await userEvent.click(within(screen.getByTestId("license-panel")).getByTestId("send-key"));
    expect((await screen.findByTestId("send-key-result")).textContent).toBe("Sent to pay@buyer.example.");
    expect(sent).toEqual([{ id: 9, to: null }]);
  });
});

describe("Licenses bulk actions", () => {
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 600 });
    Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 900 });
  });

  it("suspends a selection with one reason and says what was skipped", async () => {
    const rows = [1, 2, 3].map((id) => ({ ...LICENSE, id, license_key: `KEY-${id}`, status: id === 3 ? "suspended" as const : "active" as const }));
    const asked: unknown[] = [];
    mockIPC((cmd, args) => {
      switch (cmd) {
        case "products_list": return [];
        case "marketplaces": return [];
        case "licenses_page": return { licenses: rows, next_cursor: null };
        case "licenses_change_status": asked.push(args); return { changed: [1, 2], skipped: [{ id: 3, message: "A suspended license cannot be suspended." }] };
      }
    }, { shouldMockEvents: true });
    wrap(<Licenses />);
    await waitFor(() => expect(screen.getAllByTestId("license-row")).toHaveLength(3));
    await userEvent.click(screen.getByTestId("select-all"));
    expect(screen.getByTestId("bulk-count").textContent).toBe("3 selected");
    await userEvent.click(screen.getAllByTestId("pick-license")[0]);
    expect(screen.getByTestId("bulk-count").textContent).toBe("2 selected");
    expect(screen.queryByTestId("license-panel")).toBeNull();
    await userEvent.click(screen.getAllByTestId("pick-license")[0]);
    await userEvent.type(screen.getByTestId("bulk-reason"), "Chargeback batch");
    await userEvent.click(screen.getByTestId("bulk-apply"));
    expect((await screen.findByTestId("bulk-result")).textContent).toBe("2 licenses changed; 1 left as they were (A suspended license cannot be suspended.).");
    expect(asked).toEqual([{ ids: [2, 3, 1], action: "suspend", reason: "Chargeback batch" }]);
    expect(screen.queryByTestId("bulk-bar")).toBeNull();
  });
});

describe("Refund watch", () => {
  it("re-checks codes with progress pushed by the job, then filters the flagged ones", async () => {
    let statusCalls = 0;
    const pages: unknown[] = [];
    const progress = (checked: number, running: boolean) =>
      ({ total: 4, checked, not_recognised: checked >= 2 ? 1 : 0, failed: 0, running, cancelled: false, last_error: null });
    mockIPC((cmd, args) => {
      switch (cmd) {
        case "products_list": return [];
        case "marketplaces": return [];
        case "licenses_page": pages.push((args as { filter: unknown }).filter); return { licenses: [], next_cursor: null };
        case "recheck_start": return progress(0, true);
        case "recheck_status":
          statusCalls += 1;
          return { total: 0, checked: 0, not_recognised: 0, failed: 0, running: false, cancelled: false, last_error: null };
      }
    }, { shouldMockEvents: true });
    wrap(<Licenses />);
    await userEvent.click(await screen.findByTestId("recheck-start"));
    await act(() => emit("recheck-progress", progress(2, true)));
    expect((await screen.findByTestId("recheck-progress")).textContent).toContain("2 of 4 checked");
    await act(() => emit("recheck-progress", progress(4, false)));
    expect((await screen.findByTestId("recheck-result")).textContent).toContain("4 checked, 1 no longer recognised");
    expect(statusCalls).toBe(1);
    await userEvent.click(screen.getByTestId("filter-flagged"));
    await waitFor(() => expect(pages.some((f) => (f as { flagged?: boolean }).flagged === true)).toBe(true));
  });
});

describe("Products page", () => {
  it("badges auto-created products to review, filters them, and marks one reviewed", async () => {
    const base = { description: "", sku: null, activation_limit: 1, license_type: "regular", status: "active", license_count: 3,
      created_at: "2026-12-01T10:00:00Z", updated_at: "2026-12-01T10:00:00Z" };
    let products = [
      { ...base, id: 1, name: "Hand Made", envato_item_ids: [], auto_created: false, needs_review: false },
      { ...base, id: 2, name: "Synced Theme", envato_item_ids: [111], auto_created: true, needs_review: true },
    ];
    const marked: number[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "products_list") return products;
      if (cmd === "review_queue") return [];
      if (cmd === "product_mark_reviewed") {
        const id = (args as { id: number }).id;
        marked.push(id);
        products = products.map((p) => p.id === id ? { ...p, needs_review: false } : p);
        return products.find((p) => p.id === id);
      }
    });
    wrap(<Products />);
    expect((await screen.findByTestId("review-badge")).textContent).toBe("1 to review");
    await userEvent.click(screen.getByTestId("filter-review"));
    await waitFor(() => expect(screen.getAllByTestId("product-row")).toHaveLength(1));
    expect(screen.getByTestId("product-row").textContent).toContain("Synced Theme");
    await userEvent.click(screen.getByTestId("mark-reviewed"));
    await waitFor(() => expect(screen.queryByTestId("review-badge")).toBeNull());
    expect(marked).toEqual([2]);
  });
});
