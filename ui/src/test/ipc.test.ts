import { describe, expect, it } from "vitest";
import { mockIPC } from "@tauri-apps/api/mocks";
import { ipc, IpcError, toIpcError } from "../ipc";

describe("ipc", () => {
  it("passes arguments through and returns the reply", async () => {
    mockIPC((cmd, args) => {
      if (cmd === "settings_update") return { ...(args as { changes: object }).changes, echoed: true };
    });
    await expect(ipc.settingsUpdate({ history_days: "30" })).resolves.toEqual({ history_days: "30", echoed: true });
  });

  it("turns a Rust {code, message, field} rejection into an IpcError the UI can branch on", async () => {
    mockIPC(() => {
      throw { code: "settings.invalid_value", message: "The sync interval must be…", field: "sync_interval_minutes" };
    });
    const err = await ipc.settingsGet().catch((e) => e);
    expect(err).toBeInstanceOf(IpcError);
    expect(err.code).toBe("settings.invalid_value");
    expect(err.field).toBe("sync_interval_minutes");
  });

  it("maps a bare string rejection (Tauri's own) to code internal", () => {
    const err = toIpcError("command not found");
    expect(err.code).toBe("internal");
    expect(err.message).toBe("command not found");
  });
});
