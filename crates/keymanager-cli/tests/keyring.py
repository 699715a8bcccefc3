"""Locks or unlocks the session's login keyring over D-Bus (what a desktop does after an
automatic login, or when the user unlocks it), for the tests: keyring.py lock | unlock PASSWORD.
Unlocking without a prompt uses GNOME Keyring's own UnlockWithMasterPassword."""
import sys

import dbus

LOGIN = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
bus = dbus.SessionBus()
service_object = bus.get_object("org.freedesktop.secrets", "/org/freedesktop/secrets")
service = dbus.Interface(service_object, "org.freedesktop.Secret.Service")
if sys.argv[1] == "lock":
    service.Lock([LOGIN])
else:
    _, session = service.OpenSession("plain", dbus.String("", variant_level=1))
    internal = dbus.Interface(service_object, "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface")
    secret = dbus.Struct((session, dbus.ByteArray(b""), dbus.ByteArray(sys.argv[2].encode()), "text/plain"), signature="oayays")
    internal.UnlockWithMasterPassword(LOGIN, secret)
properties = dbus.Interface(bus.get_object("org.freedesktop.secrets", LOGIN), "org.freedesktop.DBus.Properties")
print("locked" if properties.Get("org.freedesktop.Secret.Collection", "Locked") else "unlocked")
