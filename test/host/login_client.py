"""What pam_systemd does at a login, as a script run inside the test's namespace (dbus_namespace.py `spawn`):
CreateSession on the system bus, then it stays, holding the session's FIFO, until SIGINT or SIGTERM ends it.

    login_client.py UID TYPE VTNR [--leader-child] [--drop-fifo]

It prints one JSON line with CreateSession's answer (or {"error": name, "message": ...}). --leader-child makes a
child `sleep` the session's leader (its pid in "leader"); --drop-fifo closes the FIFO right after the answer."""
import json
import os
import signal
import subprocess
import sys
import time

import dbus


def main():
    uid, session_type, vtnr = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    leader = 0
    child = None
    if "--leader-child" in sys.argv:
        child = subprocess.Popen(["sleep", "1000"])
        leader = child.pid
    bus = dbus.SystemBus()
    manager = dbus.Interface(bus.get_object("org.freedesktop.login1", "/org/freedesktop/login1"),
                             "org.freedesktop.login1.Manager")
    try:
        sid, path, runtime, fifo, got_uid, seat, vt, existing = manager.CreateSession(
            dbus.UInt32(uid), dbus.UInt32(leader), "login", session_type, "user", "", "seat0" if vtnr else "",
            dbus.UInt32(vtnr), f"tty{vtnr}" if vtnr else "", "", False, "", "", dbus.Array([], signature="(sv)"))
    except dbus.DBusException as e:
        print(json.dumps({"error": e.get_dbus_name(), "message": e.get_dbus_message()}), flush=True)
        return
    fd = fifo.take()
    print(json.dumps({"id": str(sid), "path": str(path), "runtime": str(runtime), "fifo": fd >= 0, "uid": int(got_uid),
                      "seat": str(seat), "vtnr": int(vt), "existing": bool(existing), "leader": leader or os.getpid()}),
          flush=True)
    if "--drop-fifo" in sys.argv:
        os.close(fd)
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
