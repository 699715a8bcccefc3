#!/usr/bin/python3
"""Presses a window's close button the way a window manager does: sends WM_DELETE_WINDOW.

Usage: close-window.py TITLE   (exits 1 if no mapped top-level window has that title)

Xvfb runs no window manager, so nothing draws a close button to click; this sends the very
message a window manager sends when the button is pressed. Used by the end-to-end test of
closing to the tray and by the app benchmark (scripts/bench-app.sh).
"""
import sys

from Xlib import X, display, protocol


def windows(d, w):
    yield w
    for child in w.query_tree().children:
        yield from windows(d, child)


def main():
    title = sys.argv[1]
    d = display.Display()
    root = d.screen().root
    wm_protocols = d.intern_atom("WM_PROTOCOLS")
    wm_delete = d.intern_atom("WM_DELETE_WINDOW")
    net_name = d.intern_atom("_NET_WM_NAME")
    utf8 = d.intern_atom("UTF8_STRING")
    for w in windows(d, root):
        try:
            if w.get_attributes().map_state != X.IsViewable:
                continue
            name = w.get_full_property(net_name, utf8)
            name = name.value.decode() if name else w.get_wm_name()
            if name != title or wm_delete not in (w.get_wm_protocols() or []):
                continue
        except Exception:  # a window that went away while we looked
            continue
        event = protocol.event.ClientMessage(window=w, client_type=wm_protocols, data=(32, [wm_delete, X.CurrentTime, 0, 0, 0]))
        w.send_event(event, event_mask=X.NoEventMask)
        d.flush()
        print(f"sent WM_DELETE_WINDOW to 0x{w.id:x}")
        return 0
    print(f"no window titled {title!r}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
