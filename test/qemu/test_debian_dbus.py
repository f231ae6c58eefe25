"""Issue 17: Debian's own systemctl, hostnamectl, timedatectl, localectl, busctl and dbus-send against dynamod's
D-Bus actors, inside the Debian image booted with dynamod as its init (tools/mkimage, TCG, -smp 1).

One boot runs the clients (as root through /run/systemd/private and the bus, and as the unprivileged user
`debian`), kills dbus-daemon, and reboots with `systemctl reboot`; a second boot of the same disk checks what was
set is still there and powers off with `systemctl poweroff`.
"""
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_debian import DebianGuest  # noqa: E402


def as_debian(command):
    """The command as the unprivileged user `debian` (su from root asks no password)."""
    return "su debian -s /bin/sh -c " + "'" + command.replace("'", "'\\''") + "'"


class DebianDBus(unittest.TestCase):
    def setUp(self):
        self.guest = None

    def tearDown(self):
        if self.guest:
            self.guest.kill()

    def run_in(self, g, command, timeout=90):
        r = g.ssh(command, timeout=timeout, check=False)
        return r.returncode, r.stdout + r.stderr

    def pid_of(self, g, service):
        code, out = self.run_in(g, "dynamodctl --json list")
        self.assertEqual(code, 0, out)
        for s in json.loads(out):
            if s["name"] == service:
                return s["pid"], s["state"]
        self.fail(f"{service} not in dynamodctl's list: {out}")

    def wait_state(self, g, service, state, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, now = self.pid_of(g, service)
            if now == state:
                return pid
            time.sleep(1)
        self.fail(f"{service} did not become {state} (is {now})")

    def check(self, g, command, code, *patterns):
        got, out = self.run_in(g, command)
        self.assertEqual(got, code, f"{command}: exit {got}, expected {code}:\n{out}")
        for p in patterns:
            self.assertRegex(out, p, f"{command}:\n{out}")
        return out

    def test_clients_work_unmodified_and_settings_persist_across_a_reboot(self):
        g = self.guest = DebianGuest("dbus", append="root=/dev/vda1")
        g.wait_for_ssh()
        self.wait_state(g, "sshd", "running")

        # --- systemctl, as root: the private socket -------------------------------------------------------
        self.check(g, "test -S /run/systemd/private && test -d /run/systemd/system", 0)
        out = self.check(g, "systemctl", 0, r"sshd\.service\s+loaded active running", r"system\.target\s+loaded active")
        self.assertNotIn("fsck-root.service  loaded inactive", out)
        out = self.check(g, "systemctl list-units --type=service --state=running 'ss*'", 0, r"sshd\.service")
        self.assertNotIn("cron.service", out)
        self.check(g, "systemctl list-units --state=failed", 0, r"0 loaded units listed")
        sshd_pid, _ = self.pid_of(g, "sshd")
        self.check(g, "systemctl status sshd", 0, r"Active: active \(running\)", rf"Main PID: {sshd_pid} \(sshd\)",
                   r"CGroup: /dynamod/system/sshd")
        self.check(g, "systemctl status nosuch", 4, r"Unit nosuch\.service could not be found\.")
        self.check(g, "systemctl show -p MainPID sshd", 0, rf"^MainPID={sshd_pid}$")
        self.check(g, "systemctl show nosuch.service -p LoadState -p ActiveState", 0, r"LoadState=not-found",
                   r"ActiveState=inactive")
        self.check(g, "systemctl is-active sshd", 0, r"^active")
        self.check(g, "systemctl start nosuch", 5, r"Unit nosuch\.service not found\.")

        # stop, start, restart block until done; dynamodctl agrees.
        self.check(g, "systemctl stop cron", 0)
        self.assertEqual(self.pid_of(g, "cron"), (0, "stopped"))
        self.check(g, "systemctl is-active cron", 3, r"^inactive")
        self.check(g, "systemctl status cron", 3, r"Active: inactive")
        self.check(g, "systemctl is-failed cron", 1)
        self.check(g, "systemctl start cron", 0)
        first, state = self.pid_of(g, "cron")
        self.assertEqual(state, "running")
        self.check(g, "systemctl restart cron", 0)
        second, state = self.pid_of(g, "cron")
        self.assertEqual(state, "running")
        self.assertNotEqual(first, second)
        self.check(g, "systemctl --no-block restart cron", 0)
        third = self.wait_state(g, "cron", "running")
        self.assertNotEqual(third, second)
        # kill: SIGKILL to the main process; dynamod restarts it (permanent), systemd's way of saying it is seen.
        self.check(g, f"systemctl kill -s SIGKILL cron", 0)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.pid_of(g, "cron")[0] in (third, 0):
            time.sleep(1)
        self.assertNotEqual(self.pid_of(g, "cron")[0], third)
        self.check(g, "systemctl is-enabled cron", 0, r"enabled")
        self.check(g, "systemctl list-unit-files", 0, r"cron\.service\s+enabled")

        # daemon-reload after a config change: a new service appears and runs.
        self.check(g, "printf '[service]\\nname = \"extra\"\\nexec = [\"/bin/sh\", \"-c\", "
                      "\"echo hello-from-extra; exec sleep 3600\"]\\n' "
                      "> /etc/dynamod/services/extra.toml && systemctl daemon-reload", 0)
        self.check(g, "systemctl list-units --all 'extra*'", 0, r"extra\.service\s+loaded")
        self.wait_state(g, "extra", "running")
        # Its output, copied to journald, is what `systemctl status` shows under the unit (as with systemd).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "hello-from-extra" not in self.run_in(g, "systemctl status extra")[1]:
            time.sleep(1)
        self.check(g, "systemctl status extra", 0, r"extra\[\d+\]: hello-from-extra")

        # --- the system bus: the same calls through dbus-daemon, and busctl / dbus-send ---------------------
        self.check(g, "SYSTEMCTL_FORCE_BUS=1 systemctl status sshd", 0, rf"Main PID: {sshd_pid}")
        self.check(g, "SYSTEMCTL_FORCE_BUS=1 systemctl restart extra", 0)
        self.check(g, "busctl introspect org.freedesktop.systemd1 /org/freedesktop/systemd1", 0, r"\.ListUnits\s+method",
                   r"\.StartUnit\s+method", r"\.JobRemoved\s+signal")
        self.check(g, "busctl introspect org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/sshd_2eservice", 0,
                   r"\.ActiveState\s+property\s+s\s+\"active\"", r"\.MainPID\s+property\s+u\s+" + str(sshd_pid))
        self.check(g, "busctl tree org.freedesktop.systemd1", 0, r"/org/freedesktop/systemd1/unit/sshd_2eservice",
                   r"/org/freedesktop/systemd1/unit/system_2etarget")
        for name in ("hostname1", "timedate1", "locale1"):
            self.check(g, f"busctl introspect org.freedesktop.{name} /org/freedesktop/{name}", 0,
                       rf"org\.freedesktop\.{name}\s+interface")
            self.check(g, f"busctl tree org.freedesktop.{name}", 0, rf"/org/freedesktop/{name}")
        # The calls the original dynamod's D-Bus smoke test (test/alpine/scripts/dbus-smoketest.sh there) makes
        # against systemd1, hostname1, timedate1 and locale1, with its arguments as it forms them: its property
        # reads pass "<interface>.<Property>" as the interface name.
        send = "dbus-send --system --print-reply "
        names = self.check(g, send + "--dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.ListNames", 0)
        for name in ("systemd1", "hostname1", "timedate1", "locale1"):
            self.assertIn(f'string "org.freedesktop.{name}"', names)
        for dest, path, dotted, expected in (
                ("systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager.Version", "dynamod"),
                ("systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager.SystemState", "running"),
                ("hostname1", "/org/freedesktop/hostname1", "org.freedesktop.hostname1.StaticHostname", "dynamod"),
                ("hostname1", "/org/freedesktop/hostname1", "org.freedesktop.hostname1.KernelName", "Linux"),
                ("timedate1", "/org/freedesktop/timedate1", "org.freedesktop.timedate1.Timezone", "string")):
            interface = ".".join(dotted.split(".")[:5])
            prop = dotted.split(".")[-1]
            self.check(g, send + f"--dest=org.freedesktop.{dest} {path} org.freedesktop.DBus.Properties.Get "
                       f"string:{interface} string:{prop}", 0, expected)
        self.check(g, "test $(wc -c < /etc/machine-id) -ge 32", 0)
        self.check(g, send + "--dest=org.freedesktop.systemd1 /org/freedesktop/systemd1 "
                   "org.freedesktop.systemd1.Manager.ListUnits", 0, r'string "sshd\.service"')
        self.check(g, send + "--dest=org.freedesktop.systemd1 /org/freedesktop/systemd1 "
                   "org.freedesktop.systemd1.Manager.GetUnit string:sshd.service", 0,
                   r'object path "/org/freedesktop/systemd1/unit/sshd_2eservice"')
        self.check(g, send + "--dest=org.freedesktop.systemd1 /org/freedesktop/systemd1 "
                   "org.freedesktop.DBus.Properties.Get string:org.freedesktop.systemd1.Manager string:Version", 0,
                   r"variant\s+string")
        self.check(g, send + "--dest=org.freedesktop.hostname1 /org/freedesktop/hostname1 "
                   "org.freedesktop.DBus.Properties.Get string:org.freedesktop.hostname1 string:Hostname", 0,
                   r'variant\s+string "debian-dynamod"')
        # Hostile calls get D-Bus errors; nothing falls over.
        self.check(g, "busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager "
                      "StartUnit s sshd.service", 1, r"[Ii]nvalid")
        self.check(g, "busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager "
                      "GetUnit s ../../etc", 1, r"not valid")
        self.check(g, "busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager "
                      "GetUnit s $(head -c 70000 /dev/zero | tr '\\0' a).service", 1, r"not valid")
        self.check(g, "busctl call org.freedesktop.systemd1 /org/freedesktop/nosuch org.freedesktop.DBus.Peer Ping", 0)
        self.check(g, "busctl call org.freedesktop.hostname1 /org/freedesktop/hostname1 org.freedesktop.hostname1 "
                      "SetStaticHostname sb 'bad name!' false", 1, r"Invalid")
        self.assertEqual(self.pid_of(g, "sshd"), (sshd_pid, "running"))

        # --- hostname1, timedate1, locale1 ------------------------------------------------------------------
        self.check(g, "hostnamectl", 0, r"Static hostname: debian-dynamod", r"Operating System: Debian GNU/Linux 12",
                   r"Virtualization: qemu", r"Architecture: x86-64")
        self.check(g, "timedatectl", 0, r"Time zone: ", r"NTP service: n/a")
        self.check(g, "localectl", 0, r"System Locale: LANG=")

        # --- an unprivileged user: refused on every mutating method, read-only calls work -----------------
        self.check(g, as_debian("systemctl stop cron"), 4, r"Access denied")
        self.check(g, as_debian("systemctl kill cron"), 1, r"Access denied")
        self.check(g, as_debian("systemctl daemon-reload"), 1, r"Access denied")
        self.check(g, as_debian("systemctl restart extra"), 4, r"Access denied")
        self.check(g, as_debian("hostnamectl set-hostname evil"), 1, r"Access denied")
        self.check(g, as_debian("timedatectl set-timezone Europe/Paris"), 1, r"Access denied")
        self.check(g, as_debian("localectl set-locale LANG=fr_FR.UTF-8"), 1, r"Access denied")
        self.check(g, as_debian("busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 "
                                "org.freedesktop.systemd1.Manager PowerOff"), 1, r"Access denied")
        self.check(g, as_debian("systemctl is-active sshd"), 0, r"^active")
        self.check(g, as_debian("systemctl status sshd --no-pager"), 0, r"active \(running\)")
        self.check(g, as_debian("hostnamectl"), 0, r"Static hostname: debian-dynamod")
        self.check(g, as_debian("timedatectl"), 0, r"Time zone")
        self.check(g, as_debian("localectl"), 0, r"System Locale")
        self.assertEqual(self.pid_of(g, "cron")[1], "running")

        # --- root sets; the files are Debian's ----------------------------------------------------------------
        self.check(g, "hostnamectl set-hostname dynhost", 0)
        self.check(g, "cat /etc/hostname; hostname", 0, r"^dynhost\ndynhost$")
        self.check(g, "timedatectl set-timezone Europe/Berlin", 0)
        self.check(g, "readlink /etc/localtime", 0, r"^\.\./usr/share/zoneinfo/Europe/Berlin$")
        self.check(g, "timedatectl set-timezone Bad/Zone", 1, r"Invalid or not installed time zone 'Bad/Zone'")
        self.check(g, "timedatectl set-ntp true", 1, r"NTP not supported")
        self.check(g, "localectl set-locale LANG=de_DE.UTF-8", 0)
        self.check(g, "cat /etc/default/locale", 0, r"LANG=de_DE\.UTF-8")

        # --- dbus-daemon killed: the actors reconnect, no other service is disturbed --------------------
        dbus_pid, _ = self.pid_of(g, "dbus")
        self.check(g, f"kill -9 {dbus_pid}", 0)
        deadline = time.monotonic() + 60
        ok = False
        while time.monotonic() < deadline and not ok:
            time.sleep(2)
            code, out = self.run_in(g, "hostnamectl --static && SYSTEMCTL_FORCE_BUS=1 systemctl is-active sshd")
            ok = code == 0 and "dynhost" in out and "active" in out
        self.assertTrue(ok, f"the clients do not work again after dbus-daemon restarted:\n{out}")
        self.assertNotEqual(self.pid_of(g, "dbus")[0], dbus_pid)
        self.assertEqual(self.pid_of(g, "sshd"), (sshd_pid, "running"))
        tree = json.loads(self.run_in(g, "dynamodctl --json tree")[1])
        connections = []

        def walk(n):
            if n.get("kind") == "dbus_connection":
                connections.append(n)
            for c in n.get("children", []):
                walk(c)
        walk(tree)
        owned = {b for c in connections if c.get("state") == "ready" for b in c.get("bus_names", [])}
        self.assertEqual(owned, {"org.freedesktop.systemd1", "org.freedesktop.hostname1", "org.freedesktop.timedate1",
                                 "org.freedesktop.locale1", "org.freedesktop.login1"}, connections)
        self.check(g, "dynamodctl tree", 0, r"D-Bus org\.freedesktop\.systemd1 \[ready\] owns org\.freedesktop\.systemd1")

        # --- reset-failed: a service that failed (it gave up) becomes inactive and stays down ---------------
        self.check(g, "printf '[service]\\nname = \"flaky\"\\nexec = [\"/bin/sh\", \"-c\", \"exit 3\"]\\n"
                      "[restart]\\ndelay = \"100ms\"\\nmax-restarts = 1\\n' > /etc/dynamod/services/flaky.toml && "
                      "systemctl daemon-reload", 0)
        self.wait_state(g, "flaky", "failed")
        self.check(g, "systemctl is-failed flaky", 0, r"^failed")
        self.check(g, "systemctl list-units --state=failed", 0, r"flaky\.service\s+loaded failed failed")
        self.check(g, "systemctl show -p Result -p ExecMainStatus flaky", 0, r"Result=start-limit-hit",
                   r"ExecMainStatus=3")
        self.check(g, "systemctl reset-failed flaky", 0)
        self.check(g, "systemctl is-failed flaky", 1, r"^inactive")
        self.check(g, "systemctl show -p Result flaky", 0, r"Result=success")
        self.assertEqual(self.pid_of(g, "flaky"), (0, "stopped"))
        self.check(g, "rm /etc/dynamod/services/flaky.toml && systemctl daemon-reload", 0)

        # --- disable: cron will not start at the next boot (it keeps running now); enable undoes it --------
        self.check(g, "systemctl disable extra", 0, r"Created symlink /etc/dynamod/manual/extra")
        self.check(g, "systemctl is-enabled extra", 1, r"^disabled")
        self.check(g, "systemctl disable cron", 0, r"Created symlink /etc/dynamod/manual/cron")
        self.check(g, "systemctl enable extra", 0, r"Removed")
        self.check(g, "systemctl is-enabled extra", 0, r"^enabled")
        self.assertEqual(self.pid_of(g, "cron")[1], "running")
        self.check(g, as_debian("systemctl enable cron"), 1, r"Access denied")

        # --- systemctl reboot does what it says; the settings are still there after it ----------------------
        self.run_in(g, "systemctl reboot", timeout=30)
        self.assertEqual(g.wait_exit(), 0, g.tail())
        self.assertIn("calling reboot(2): reboot", g.log())
        g2 = self.guest = DebianGuest("dbus-2", append="root=/dev/vda1", disk=g.disk)
        g2.wait_for_ssh()
        self.check(g2, "hostnamectl --static; hostname", 0, r"^dynhost\ndynhost$")
        self.check(g2, "timedatectl", 0, r"Time zone: Europe/Berlin")
        self.check(g2, "localectl", 0, r"LANG=de_DE\.UTF-8")
        # Disabled before the reboot: not started at boot, but there to start; `extra` was enabled again.
        self.wait_state(g2, "extra", "running")
        self.assertEqual(self.pid_of(g2, "cron"), (0, "stopped"))
        self.check(g2, "systemctl is-enabled cron", 1, r"^disabled")
        self.check(g2, "systemctl is-active cron", 3, r"^inactive")
        self.check(g2, "systemctl start cron", 0)
        self.assertEqual(self.pid_of(g2, "cron")[1], "running")
        self.check(g2, "systemctl enable cron", 0, r"Removed")
        self.check(g2, "systemctl is-enabled cron", 0, r"^enabled")
        self.run_in(g2, "systemctl poweroff", timeout=30)
        self.assertEqual(g2.wait_exit(), 0, g2.tail())
        self.assertIn("calling reboot(2): poweroff", g2.log())


if __name__ == "__main__":
    unittest.main()
