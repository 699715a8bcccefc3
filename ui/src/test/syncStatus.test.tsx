import { describe, expect, it, vi } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { useSyncStatus, useSyncStatusEvents } from "../hooks/useSyncStatus";
import { ipc } from "../ipc";

function Reader({ id }: { id: string }) {
  const s = useSyncStatus();
  return <span data-testid={id}>{s.data ? (s.data.running ? "running" : "idle") : "…"}</span>;
}

function Root() {
  useSyncStatusEvents();
  return <><Reader id="a" /><Reader id="b" /><Reader id="c" /></>;
}

describe("sync status", () => {
  it("is one event subscription shared by every reader", async () => {
    const subscribe = vi.spyOn(ipc, "onSyncStatus");
    mockIPC((cmd) => {
      if (cmd === "sync_status") {
        return { running: false, progress: null, last: null, last_success_at: null, paused: false, needs_token: false, auth_failed: false, next_run_at: null };
      }
    }, { shouldMockEvents: true });
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(<QueryClientProvider client={client}><Root /></QueryClientProvider>);
    await waitFor(() => expect(screen.getByTestId("c").textContent).toBe("idle"));
    expect(screen.getByTestId("a").textContent).toBe("idle");
    expect(subscribe).toHaveBeenCalledTimes(1);
  });
});

describe("Sync log", () => {
  it("cancels a running sync and says it stops after the current page", async () => {
    const { SyncLog } = await import("../pages/SyncLog");
    const status = { running: true, progress: null, last: null, last_success_at: null, paused: false, needs_token: false,
      auth_failed: false, next_run_at: null, cancelling: false };
    const asked: string[] = [];
    mockIPC((cmd) => {
      if (cmd === "sync_status") return status;
      if (cmd === "sync_runs") return [];
      if (cmd === "review_queue") return [];
      if (cmd === "outbox_counts") return { pending: 0, failed: 0, failing: [] };
      if (cmd === "sync_cancel") {
        asked.push(cmd);
        return { ...status, cancelling: true };
      }
    }, { shouldMockEvents: true });
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(<QueryClientProvider client={client}><SyncLog /></QueryClientProvider>);
    const button = await screen.findByTestId("sync-cancel");
    expect(button.textContent).toBe("Cancel sync");
    button.click();
    await waitFor(() => expect(screen.getByTestId("sync-cancel").textContent).toBe("Stopping after this page…"));
    expect(asked).toEqual(["sync_cancel"]);
  });
});
