import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { WorkspaceTab } from "../settings/WorkspaceTab";
import { WorkspaceBanner } from "../components/WorkspaceBanner";
import type { WorkspaceInfo } from "../bindings/WorkspaceInfo";
import type { Remote } from "../bindings/Remote";

function wrap(ui: React.ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}

const VPS: Remote = {
  name: "vps", url: "https://licenses.example.com/", public_key: "AAAA", device_id: 1,
  device_name: "Laptop", scopes: "owner", paired_at: "2026-12-03T10:00:00Z",
};
const LOCAL: WorkspaceInfo = { current: null, remotes: [], link: { online: true, since: "2026-12-03T10:00:00Z", error: null }, unsent: [] };

describe("Settings > Workspace", () => {
  it("connects with a pairing code, shows the code's error by its code, and switches back", async () => {
    let info = LOCAL;
    const asked: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "workspace_info") return info;
      if (cmd === "workspace_connect") {
        asked.push(args);
        const a = args as { code: string };
        if (a.code !== "ABCD-EFGH-JKLM") throw { code: "admin.pairing_code_invalid", message: "The pairing code is wrong, used, or older than 10 minutes." };
        info = { ...LOCAL, current: "vps", remotes: [VPS] };
        return info;
      }
      if (cmd === "workspace_use") {
        info = { ...info, current: (args as { name: string | null }).name };
        return info;
      }
    });
    wrap(<WorkspaceTab />);
    expect(((await screen.findByTestId("workspace-local")) as HTMLInputElement).checked).toBe(true);
    await userEvent.type(screen.getByTestId("connect-name"), "vps");
    await userEvent.type(screen.getByTestId("connect-url"), "https://licenses.example.com");
    await userEvent.type(screen.getByTestId("connect-code"), "WRONG");
    await userEvent.click(screen.getByTestId("connect-submit"));
    expect((await screen.findByTestId("workspace-error")).dataset.code).toBe("admin.pairing_code_invalid");
    await userEvent.clear(screen.getByTestId("connect-code"));
    await userEvent.type(screen.getByTestId("connect-code"), "ABCD-EFGH-JKLM");
    await userEvent.click(screen.getByTestId("connect-submit"));
    await waitFor(() => expect((screen.getByTestId("workspace-vps") as HTMLInputElement).checked).toBe(true));
    expect(asked[1]).toMatchObject({ name: "vps", url: "https://licenses.example.com", code: "ABCD-EFGH-JKLM", fingerprint: null });
    await userEvent.click(screen.getByTestId("workspace-local"));
    await waitFor(() => expect((screen.getByTestId("workspace-local") as HTMLInputElement).checked).toBe(true));
  });
});

describe("the workspace banner", () => {
  it("says nothing for this computer", () => {
    wrap(<WorkspaceBanner info={LOCAL} />);
    expect(screen.queryByTestId("workspace-banner")).toBeNull();
  });

  it("names the server when offline and offers kept changes again", async () => {
    const sent: string[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "unsent_retry") {
        sent.push((args as { id: string }).id);
        return { ...LOCAL, current: "vps", remotes: [VPS] };
      }
      if (cmd === "unsent_discard") throw { code: "input.invalid", message: "There is no kept change x." };
    });
    const info: WorkspaceInfo = {
      current: "vps", remotes: [VPS],
      link: { online: false, since: "2026-12-03T10:00:00Z", error: { code: "remote.unreachable", message: "connection refused" } },
      unsent: [{ id: "a1", op: "license_change_status", label: "license change status: action suspend, id 7", at: "2026-12-03T10:01:00Z", body: {} }],
    };
    wrap(<WorkspaceBanner info={info} />);
    const banner = screen.getByTestId("workspace-banner");
    expect(banner.dataset.online).toBe("no");
    expect(screen.getByTestId("workspace-offline").textContent).toContain("connection refused");
    expect(screen.getByTestId("unsent-item").textContent).toContain("action suspend, id 7");
    await userEvent.click(screen.getByTestId("unsent-retry"));
    await waitFor(() => expect(sent).toEqual(["a1"]));
    await userEvent.click(screen.getByTestId("unsent-discard"));
    expect((await screen.findByTestId("unsent-error")).textContent).toContain("no kept change");
  });
});
