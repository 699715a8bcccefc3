import { describe, expect, it } from "vitest";
import * as generated from "../bindings/options";
import * as choices from "../options";
import { latestError } from "../hooks/latestError";
import { IpcError } from "../ipc";

describe("choice lists", () => {
  it("offer every value Rust's enums have, in Rust's order, each with a label", () => {
    const pairs: [readonly string[], { value: string; label: string }[]][] = [
      [generated.LICENSE_STATUSES, choices.LICENSE_STATUS_CHOICES],
      [generated.SUPPORT_FILTERS, choices.SUPPORT_CHOICES],
      [generated.LICENSE_SORTS, choices.SORT_CHOICES],
      [generated.LICENSE_ACTIONS, choices.LICENSE_ACTION_CHOICES],
      [generated.LICENSE_TYPES, choices.LICENSE_TYPE_CHOICES],
      [generated.PRODUCT_STATUSES, choices.PRODUCT_STATUS_CHOICES],
      [generated.RELEASE_CHANNELS, choices.RELEASE_CHANNEL_CHOICES],
      [generated.UPDATE_KINDS, choices.UPDATE_KIND_CHOICES],
      [generated.SMTP_SECURITIES, choices.SMTP_SECURITY_CHOICES],
      [generated.WEBHOOK_EVENT_TYPES, choices.WEBHOOK_EVENT_CHOICES],
    ];
    for (const [all, list] of pairs) {
      expect(list.map((c) => c.value)).toEqual([...all]);
      expect(list.every((c) => c.label.trim().length > 0)).toBe(true);
    }
    // The events a webhook can subscribe to include the release events, not the test.
    expect(generated.WEBHOOK_EVENT_TYPES).toContain("release.published");
    expect(generated.WEBHOOK_EVENT_TYPES).not.toContain("webhook.test");
  });
});

describe("latestError", () => {
  const attempt = (submittedAt: number, error: IpcError | null) => ({ submittedAt, isError: error !== null, error });
  it("shows the latest action's error while it stands", () => {
    const older = new IpcError("input.invalid", "older");
    const newer = new IpcError("license.not_found", "newer");
    expect(latestError(attempt(1, older), attempt(2, newer))?.message).toBe("newer");
    expect(latestError(attempt(3, older), attempt(2, newer))?.message).toBe("older");
    expect(latestError(attempt(1, older), attempt(2, null)), "a later success clears it").toBeNull();
    expect(latestError(attempt(0, null))).toBeNull();
  });
});
