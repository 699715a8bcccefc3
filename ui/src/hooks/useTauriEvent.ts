import { useEffect, useLayoutEffect, useRef } from "react";

/** Follows one of Rust's events while the component is mounted. `subscribe` is an `ipc.on…`
 *  function; `handler` gets each payload, always the latest one given (changing it does not
 *  subscribe again). An unmount before the subscription is set up still ends it. The one place
 *  the UI's listen/unlisten dance is written. */
export function useTauriEvent<T>(
  subscribe: (cb: (payload: T) => void) => Promise<() => void>,
  handler: (payload: T) => void,
) {
  const latest = useRef(handler);
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    let unlisten: (() => void) | undefined;
    let cancelled = false;
    subscribe((payload) => latest.current(payload))
      .then((f) => {
        if (cancelled) f();
        else unlisten = f;
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, [subscribe]);
}
