import { describe, expect, it } from "vitest";
import { act, render } from "@testing-library/react";
import { useTauriEvent } from "../hooks/useTauriEvent";

/** A stand-in for an `ipc.on…` function whose subscription resolves when told to. */
function source<T>() {
  const s = { cb: null as ((p: T) => void) | null, ended: 0, resolve: null as (() => void) | null };
  const subscribe = (cb: (p: T) => void) =>
    new Promise<() => void>((resolve) => {
      s.cb = cb;
      s.resolve = () => resolve(() => { s.ended += 1; s.cb = null; });
    });
  return { s, subscribe };
}

describe("useTauriEvent", () => {
  it("gives each payload to the latest handler and ends the subscription on unmount", async () => {
    const { s, subscribe } = source<number>();
    const seen: string[] = [];
    function Probe({ label }: { label: string }) {
      useTauriEvent(subscribe, (n) => seen.push(`${label}:${n}`));
      return null;
    }
    const view = render(<Probe label="a" />);
    await act(async () => s.resolve?.());
    s.cb?.(1);
    view.rerender(<Probe label="b" />);
    s.cb?.(2);
    expect(seen).toEqual(["a:1", "b:2"]);
    view.unmount();
    expect(s.ended).toBe(1);
  });

  it("ends a subscription that was still being set up when the component went away", async () => {
    const { s, subscribe } = source<number>();
    function Probe() {
      useTauriEvent(subscribe, () => undefined);
      return null;
    }
    const view = render(<Probe />);
    view.unmount();
    expect(s.ended).toBe(0);
    await act(async () => s.resolve?.());
    expect(s.ended).toBe(1);
  });
});
