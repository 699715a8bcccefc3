import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { keys, keysToRefetch } from "../queryKeys";
import { useDbChanged } from "../hooks/useDbChanged";

describe("db-changed", () => {
  it("maps tables to the queries that read them", () => {
    const refetch = keysToRefetch({ tables: ["outbox", "webhook_endpoints", "no_such_table"], all: false });
    expect(refetch).not.toBe("all");
    const names = (refetch as unknown[][]).map((k) => k[0]);
    expect(names).toContain(keys.outboxCounts[0]);
    expect(names).toContain(keys.deliveries[0]);
    expect(names).toContain(keys.webhooks[0]);
    expect(new Set(names).size).toBe(names.length);
    expect(keysToRefetch({ tables: [], all: true })).toBe("all");
  });

  it("refetches what reads a changed table, and nothing else", async () => {
    const asked: Record<string, number> = {};
    mockIPC((cmd) => {
      asked[cmd] = (asked[cmd] ?? 0) + 1;
      if (cmd === "outbox_counts") return { pending: asked[cmd], failed: 0, failing: [] };
      if (cmd === "products_list") return [];
    }, { shouldMockEvents: true });
    function Root() {
      useDbChanged();
      const counts = useQuery({ queryKey: keys.outboxCounts, queryFn: () => import("../ipc").then((m) => m.ipc.outboxCounts()) });
      useQuery({ queryKey: keys.products, queryFn: () => import("../ipc").then((m) => m.ipc.productsList()) });
      return <span data-testid="pending">{counts.data?.pending ?? "…"}</span>;
    }
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(<QueryClientProvider client={client}><Root /></QueryClientProvider>);
    await waitFor(() => expect(screen.getByTestId("pending").textContent).toBe("1"));
    await waitFor(() => expect(asked["products_list"]).toBe(1));
    await emit("db-changed", { tables: ["outbox"], all: false });
    await waitFor(() => expect(screen.getByTestId("pending").textContent).toBe("2"));
    expect(asked["products_list"]).toBe(1);
  });
});
