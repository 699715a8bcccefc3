import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { Dashboard, type NextPage } from "../pages/Dashboard";
import type { Dashboard as Data } from "../bindings/Dashboard";

function data(total: number, products: number): Data {
  return {
    licenses: { total, active: total, suspended: 0, revoked: 0 },
    products,
    sales_last_30_days: 0,
    revenue_last_30_days: "0.00",
    days: [],
    series: [],
    last_sync: null,
    outbox: { pending: 0, failed: 0, failing: [] },
  };
}

function show(d: Data, needsToken: boolean, onNavigate: (p: NextPage) => void) {
  mockIPC((cmd) => {
    if (cmd === "dashboard") return d;
    if (cmd === "sync_status") {
      return { running: false, progress: null, last: null, last_success_at: null, paused: false, needs_token: needsToken,
        auth_failed: false, next_run_at: null, cancelling: false };
    }
  }, { shouldMockEvents: true });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}><Dashboard onNavigate={onNavigate} /></QueryClientProvider>);
}

describe("Dashboard for a newcomer", () => {
  it("shows the next steps in order until there is data, and each leads to its page", async () => {
    const went: NextPage[] = [];
    show(data(0, 0), true, (p) => went.push(p));
    const steps = await screen.findByTestId("next-steps");
    expect(steps.textContent).toContain("Connect your Envato account");
    await waitFor(() => expect(screen.getByTestId("next-connect-go")).toBeTruthy());
    await userEvent.click(screen.getByTestId("next-connect-go"));
    await userEvent.click(screen.getByTestId("next-product-go"));
    await userEvent.click(screen.getByTestId("next-license-go"));
    expect(went).toEqual(["settings", "products", "licenses"]);
  });

  it("marks what is done: connected and a product made leave one step to take", async () => {
    show(data(0, 2), false, () => {});
    await screen.findByTestId("next-steps");
    await waitFor(() => expect(screen.getByTestId("next-connect").className).toBe("done"));
    expect(screen.getByTestId("next-product").className).toBe("done");
    expect(screen.queryByTestId("next-connect-go")).toBeNull();
    expect(screen.getByTestId("next-license-go")).toBeTruthy();
  });

  it("is gone once there are licenses", async () => {
    show(data(3, 1), false, () => {});
    await waitFor(() => expect(screen.getByTestId("stat-active").textContent).toContain("3"));
    expect(screen.queryByTestId("next-steps")).toBeNull();
  });
});
