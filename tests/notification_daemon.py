#!/usr/bin/python3
"""A stand-in desktop notification server on the session bus, for the end-to-end tests.

Usage: notification_daemon.py LOG_FILE

It owns org.freedesktop.Notifications (as GNOME Shell or KDE's Plasma do), writes each
notification it is asked to show to LOG_FILE as one JSON line, and on SIGUSR1 clicks every one
shown so far the way a person clicks a notification's body: it sends ActionInvoked(id, "default").
"""
import json
import signal
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.Notifications"


class Server(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, "/org/freedesktop/Notifications")
        self.log = log
        self.next_id = 1
        self.shown = []

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        nid = self.next_id
        self.next_id += 1
        self.shown.append(nid)
        line = {"id": nid, "app": str(app), "summary": str(summary), "body": str(body),
                "actions": [str(a) for a in actions]}
        with open(self.log, "a") as f:
            f.write(json.dumps(line) + "\n")
        return nid

    @dbus.service.method(IFACE, out_signature="as")
    def GetCapabilities(self):
        return ["actions", "body"]

    @dbus.service.method(IFACE, out_signature="ssss")
    def GetServerInformation(self):
        return ("keymanager-test", "KeyManager", "1.0", "1.2")

    @dbus.service.method(IFACE, in_signature="u")
    def CloseNotification(self, nid):
        self.NotificationClosed(nid, 3)

    @dbus.service.signal(IFACE, signature="us")
    def ActionInvoked(self, nid, key):
        pass

    @dbus.service.signal(IFACE, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass

    def click_all(self):
        for nid in self.shown:
            self.ActionInvoked(nid, "default")
        with open(self.log, "a") as f:
            f.write(json.dumps({"clicked": self.shown}) + "\n")
        return True


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    _name = dbus.service.BusName(IFACE, bus, do_not_queue=True)
    server = Server(bus, sys.argv[1])
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, server.click_all)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: loop.quit() or False)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
