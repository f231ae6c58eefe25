"""Issue 17: the runtime's D-Bus face, driven by Debian's real client binaries (systemd 252's systemctl, hostnamectl,
timedatectl, localectl, busctl; dbus-send).

Each class runs one runtime (user mode, --dbus) in its own mount and pid namespace with a tmpfs on /run and a
private system bus there (dbus_namespace.py): the host's /run, system bus and PID 1 are never touched. The clients
run inside that namespace; dynamodctl and the settings files under --settings-root are reached from outside.
Signals are watched by a subscriber on that bus (SignalMonitor: gdbus monitor, started in the background there).
Expected texts and exit codes are systemd 252's (shared/spec/dbus.md §7).
"""
import json
import os
import re
import shlex
import tempfile
import textwrap
import time
import unittest

from dbus_namespace import DbusRuntime
from runtime_harness import Runtime, tree_nodes

NOBODY = 65534
FORCE_BUS = {"SYSTEMCTL_FORCE_BUS": "1"}


def sleeper(name, more=""):
    return f'[service]\nname = "{name}"\nexec = ["/bin/sleep", "1000"]\n{textwrap.dedent(more)}'


# Exits 3 at once; one restart allowed, then it stays down: "failed".
FAILER = '[service]\nname = "failer"\nexec = ["/bin/sh", "-c", "exit 3"]\n[restart]\ndelay = "0"\nmax-restarts = 1\n'
# Exits 3 once, never restarted: "failed" with the exit code as its result.
CRASHONCE = '[service]\nname = "crashonce"\nexec = ["/bin/sh", "-c", "exit 3"]\n[restart]\npolicy = "temporary"\n'
# Runs once and ends cleanly: "stopped" (inactive/dead).
IDLE = '[service]\nname = "idle"\nexec = ["/bin/true"]\n[restart]\npolicy = "temporary"\n'
# Takes a second to stop: SIGTERM runs a trap that sleeps first.
SLOWSTOP = """
[service]
name = "slowstop"
exec = ["/bin/sh", "-c", "trap 'sleep 1; exit 0' TERM; while :; do sleep 0.1; done"]
"""
# Ready 2 s after it starts (sd_notify).
SLOWSTART = """
[service]
name = "slowstart"
type = "notify"
exec = ["/bin/sh", "-c", "sleep 2; systemd-notify --ready; exec sleep 1000"]
[readiness]
notify-access = "all"
"""


def unit_row(output, unit):
    """The (load, active, sub) columns of `unit`'s row in a list-units table, or None if it is not listed."""
    m = re.search(r"^[●*\s]*" + re.escape(unit) + r"\s+(\S+)\s+(\S+)\s+(\S+)", output, re.M)
    return m.groups() if m else None


def unit_object_path(unit):
    """systemd's escaping (spec §2): bytes outside [A-Za-z0-9] (and a leading digit) become _xx."""
    return "/org/freedesktop/systemd1/unit/" + "".join(
        c if c.isascii() and (c.isalpha() or (c.isdigit() and i > 0)) else f"_{ord(c):02x}" for i, c in enumerate(unit))


def env_file_value(path, key):
    """The value of KEY= in an env-style file (quotes removed), or None."""
    with open(path) as f:
        for line in f:
            if line.startswith(key + "="):
                return " ".join(shlex.split(line[len(key) + 1:]))
    return None


class SignalMonitor:
    """A subscriber on the namespace's system bus: `gdbus monitor --system --dest org.freedesktop.systemd1`, which
    adds match rules for the signals of the name's owner (AddMatch, as a desktop client does), not an eavesdropper
    (busctl/dbus-monitor become monitors and would also see messages never delivered to a subscriber). python3-dbus
    is no choice here: receiving signals needs a GLib main loop, and python3-gi is not installed.

    gdbus prints one line a signal, e.g.
        /org/freedesktop/systemd1: org.freedesktop.systemd1.Manager.JobNew (uint32 1, objectpath '/org/.../job/1', 'x.service')
    """
    LINE = re.compile(r"^(/\S*): ([\w.]+)\.(\w+) \((.*)\)$")
    JOB_NEW = re.compile(r"^uint32 (\d+), objectpath '([^']*)', '([^']*)'$")
    JOB_REMOVED = re.compile(r"^uint32 (\d+), objectpath '([^']*)', '([^']*)', '([^']*)'$")
    CHANGED = re.compile(r"^'([^']*)', \{(.*)\}, (?:@as \[\]|\[.*\])$")

    def __init__(self, case):
        self.case = case
        self.rt = case.rt
        fd, self.out = tempfile.mkstemp(prefix="monitor.", suffix=".out", dir=self.rt.dir)
        os.close(fd)
        self.err = self.out[:-len(".out")] + ".err"
        self.pid = self.rt.spawn("gdbus", "monitor", "--system", "--dest", "org.freedesktop.systemd1",
                                 out=self.out, err=self.err)
        case.addCleanup(self.stop)
        # Printed once the owner is known, i.e. after the bus daemon has handled the match rules sent before.
        self.wait(lambda: "The name org.freedesktop.systemd1 is owned by" in self.text(), "the monitor to subscribe")

    def stop(self):
        if self.pid is not None:
            pid, self.pid = self.pid, None
            self.rt.finish(pid)

    def text(self):
        with open(self.out, errors="replace") as f:
            return f.read()

    def signals(self):
        """(path, interface, member, arguments as gdbus prints them), in the order received."""
        found = []
        for line in self.text().splitlines():
            m = self.LINE.match(line)
            if m:
                found.append(m.groups())
        return found

    def jobs_new(self):
        return [(int(m[1]), m[2], m[3]) for path, iface, member, args in self.signals()
                if (path, iface, member) == ("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobNew")
                for m in [self.JOB_NEW.match(args)] if m]

    def jobs_removed(self):
        return [(int(m[1]), m[2], m[3], m[4]) for path, iface, member, args in self.signals()
                if (path, iface, member) == ("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                             "JobRemoved")
                for m in [self.JOB_REMOVED.match(args)] if m]

    def unit_changes(self, unit):
        """[(interface, {property: string value})] of PropertiesChanged on `unit`'s object, in order."""
        path = unit_object_path(unit)
        changes = []
        for p, iface, member, args in self.signals():
            if (p, iface, member) != (path, "org.freedesktop.DBus.Properties", "PropertiesChanged"):
                continue
            m = self.CHANGED.match(args)
            self.case.assertIsNotNone(m, f"unparsed PropertiesChanged: {args}")
            changes.append((m[1], dict(re.findall(r"'(\w+)': <'([^']*)'>", m[2]))))
        return changes

    def active_states(self, unit):
        return [props["ActiveState"] for iface, props in self.unit_changes(unit)
                if iface == "org.freedesktop.systemd1.Unit" and "ActiveState" in props]

    def wait(self, predicate, what, timeout=10):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                with open(self.err, errors="replace") as f:
                    err = f.read()
                self.case.fail(f"timed out after {timeout}s waiting for {what}\n--- monitor ---\n{self.text()}"
                               f"--- monitor stderr ---\n{err}--- runtime ---\n{self.rt.console()[-2500:]}")
            time.sleep(0.05)

    def wait_job_removed(self, unit):
        """The JobRemoved of `unit` (the first), once it came."""
        self.wait(lambda: any(r[2] == unit for r in self.jobs_removed()), f"JobRemoved for {unit}")
        return next(r for r in self.jobs_removed() if r[2] == unit)


class DbusTestCase(unittest.TestCase):
    SERVICES = {}
    SETTINGS_FILES = {}
    MANUAL = ()  # services marked disabled (<config>/manual/NAME -> /dev/null) before the runtime starts

    @classmethod
    def setUpClass(cls):
        cls.rt = DbusRuntime(cls.SERVICES, settings_files=cls.SETTINGS_FILES)
        cls.addClassCleanup(cls.rt.cleanup)
        for name in cls.MANUAL:
            os.makedirs(os.path.join(cls.rt.config, "manual"), exist_ok=True)
            os.symlink("/dev/null", os.path.join(cls.rt.config, "manual", name))
        cls.rt.start()

    def setUp(self):
        # Each test starts with every bus connection up (a test that breaks one fails itself, not the next one).
        self.rt.wait_dbus_ready(timeout=10)

    # --- helpers ---------------------------------------------------------------------------------------------------
    def client(self, *argv, **kw):
        return self.rt.client(*argv, **kw)

    def assertExit(self, result, rc):
        self.assertEqual(result.rc, rc, f"unexpected exit status\n{result}\n--- runtime ---\n{self.rt.console()[-2500:]}")

    def alive(self, pid):
        """Whether `pid` (a pid of the namespace, as the runtime reports it) still exists there."""
        return self.client("test", "-e", f"/proc/{pid}").rc == 0

    def running(self, name):
        s = self.rt.wait_state(name, "running")
        self.assertGreater(s["pid"], 0)
        return s["pid"]

    def tree_nodes(self, kind):
        return [n for n in tree_nodes(self.rt.tree()) if n.get("kind") == kind]

    def assert_runtime_unharmed(self, sleeper_pid):
        services = self.rt.try_list()
        self.assertIsNotNone(services, "dynamodctl list must still answer")
        self.assertEqual(services["sleeper"]["state"], "running")
        self.assertEqual(services["sleeper"]["pid"], sleeper_pid, "sleeper must not have been disturbed")
        self.assertIsNone(self.rt.proc.poll(), "the namespace (and the runtime in it) must still run")
        r = self.client("systemctl", "is-active", "sleeper.service", env=FORCE_BUS)
        self.assertExit(r, 0)
        self.assertEqual(r.out, "active\n")


class Systemctl(DbusTestCase):
    """systemctl as root: the private socket /run/systemd/private, and the system bus with SYSTEMCTL_FORCE_BUS=1."""
    SERVICES = {
        "sleeper": sleeper("sleeper"),
        "failer": FAILER,
        "crashonce": CRASHONCE,
        "idle": IDLE,
        "stopper": sleeper("stopper"),
        "restarter": sleeper("restarter"),
        "slowstop": SLOWSTOP,
        "slowstart": SLOWSTART,
        "killme": sleeper("killme", '[restart]\ndelay = "0"\n'),
        "busvictim": sleeper("busvictim"),
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rt.wait_state("failer", "failed")
        cls.rt.wait_state("crashonce", "failed")
        cls.rt.wait_state("idle", "stopped")
        for name in ("sleeper", "stopper", "restarter", "slowstop", "slowstart", "killme", "busvictim"):
            cls.rt.wait_state(name, "running")

    # --- list-units ------------------------------------------------------------------------------------------------
    def test_list_units_all_shows_each_service_with_its_state(self):
        r = self.client("systemctl", "list-units", "--all")
        self.assertExit(r, 0)
        self.assertEqual(unit_row(r.out, "sleeper.service"), ("loaded", "active", "running"), r)
        self.assertEqual(unit_row(r.out, "failer.service"), ("loaded", "failed", "failed"), r)
        self.assertEqual(unit_row(r.out, "idle.service"), ("loaded", "inactive", "dead"), r)
        self.assertEqual(unit_row(r.out, "root.target"), ("loaded", "active", "active"), r)

    def test_list_units_without_all_hides_inactive_units(self):
        r = self.client("systemctl", "list-units")
        self.assertExit(r, 0)
        self.assertEqual(unit_row(r.out, "sleeper.service"), ("loaded", "active", "running"), r)
        self.assertIsNone(unit_row(r.out, "idle.service"), r)

    def test_list_units_state_failed_shows_only_the_failed_service(self):
        r = self.client("systemctl", "list-units", "--state=failed")
        self.assertExit(r, 0)
        self.assertEqual(unit_row(r.out, "failer.service"), ("loaded", "failed", "failed"), r)
        self.assertEqual(unit_row(r.out, "crashonce.service"), ("loaded", "failed", "failed"), r)
        self.assertIsNone(unit_row(r.out, "sleeper.service"), r)
        self.assertIn("2 loaded units listed.", r.out)

    def test_list_units_type_service_leaves_out_targets(self):
        r = self.client("systemctl", "--type=service")
        self.assertExit(r, 0)
        self.assertEqual(unit_row(r.out, "sleeper.service"), ("loaded", "active", "running"), r)
        self.assertIsNone(unit_row(r.out, "root.target"), r)
        self.assertNotIn(".target", r.out)

    def test_list_units_with_a_pattern(self):
        r = self.client("systemctl", "list-units", "sle*")
        self.assertExit(r, 0)
        self.assertEqual(unit_row(r.out, "sleeper.service"), ("loaded", "active", "running"), r)
        for other in ("stopper.service", "failer.service", "slowstop.service", "root.target"):
            self.assertIsNone(unit_row(r.out, other), r)
        self.assertIn("1 loaded units listed.", r.out)

    # --- status, is-active, is-failed, show ------------------------------------------------------------------------
    def test_status_of_a_running_service_shows_its_main_pid(self):
        pid = self.running("sleeper")
        r = self.client("systemctl", "status", "sleeper")
        self.assertExit(r, 0)
        self.assertIn("sleeper.service", r.out)
        self.assertRegex(r.out, r"Active: active \(running\)")
        m = re.search(r"Main PID: (\d+)", r.out)
        self.assertIsNotNone(m, r)
        self.assertEqual(int(m.group(1)), pid)

    def test_status_of_a_stopped_service_exits_3(self):
        r = self.client("systemctl", "status", "idle")
        self.assertExit(r, 3)
        self.assertRegex(r.out, r"Active: inactive \(dead\)")
        self.assertNotIn("Main PID:", r.out)

    def test_status_of_a_failed_service_exits_3_and_says_why(self):
        r = self.client("systemctl", "status", "crashonce")
        self.assertExit(r, 3)
        self.assertRegex(r.out, r"Active: failed \(Result: exit-code\)")
        r = self.client("systemctl", "show", "-p", "Result", "-p", "ExecMainCode", "-p", "ExecMainStatus", "crashonce")
        self.assertExit(r, 0)
        self.assertEqual(sorted(r.out.split()), ["ExecMainCode=1", "ExecMainStatus=3", "Result=exit-code"])
        # Given up after its restarts: systemd's start limit.
        r = self.client("systemctl", "status", "failer")
        self.assertExit(r, 3)
        self.assertRegex(r.out, r"Active: failed \(Result: start-limit-hit\)")

    def test_status_of_a_missing_unit_exits_4(self):
        r = self.client("systemctl", "status", "nosuch")
        self.assertExit(r, 4)
        self.assertEqual(r.err.strip(), "Unit nosuch.service could not be found.")

    def test_is_active(self):
        for unit, out, rc in (("sleeper", "active", 0), ("failer", "failed", 3), ("idle", "inactive", 3),
                              ("nosuch", "inactive", 3)):
            r = self.client("systemctl", "is-active", unit)
            self.assertExit(r, rc)
            self.assertEqual(r.out, out + "\n", r)

    def test_is_failed(self):
        for unit, out, rc in (("failer", "failed", 0), ("sleeper", "active", 1), ("idle", "inactive", 1)):
            r = self.client("systemctl", "is-failed", unit)
            self.assertExit(r, rc)
            self.assertEqual(r.out, out + "\n", r)

    def test_show_main_pid(self):
        pid = self.running("sleeper")
        r = self.client("systemctl", "show", "-p", "MainPID", "sleeper")
        self.assertExit(r, 0)
        self.assertEqual(r.out, f"MainPID={pid}\n")

    def test_show_of_a_missing_unit_says_not_found(self):
        r = self.client("systemctl", "show", "nosuch.service", "-p", "LoadState")
        self.assertExit(r, 0)
        self.assertEqual(r.out, "LoadState=not-found\n")

    # --- jobs: start, stop, restart, kill ----------------------------------------------------------------------------
    def test_stop_blocks_until_stopped_and_start_until_running(self):
        old = self.running("stopper")
        r = self.client("systemctl", "stop", "stopper")
        self.assertExit(r, 0)
        self.assertEqual(self.rt.service("stopper")["state"], "stopped", "stop must return only once it stopped")
        self.assertFalse(self.alive(old), f"pid {old} must be gone")
        r = self.client("systemctl", "is-active", "stopper")
        self.assertExit(r, 3)
        self.assertEqual(r.out, "inactive\n")
        r = self.client("systemctl", "start", "stopper")
        self.assertExit(r, 0)
        s = self.rt.service("stopper")
        self.assertEqual(s["state"], "running", "start must return only once it runs")
        self.assertNotIn(s["pid"], (0, old))
        self.assertTrue(self.alive(s["pid"]))
        r = self.client("systemctl", "is-active", "stopper")
        self.assertExit(r, 0)
        self.assertEqual(r.out, "active\n")

    def test_stop_waits_for_a_service_slow_to_stop(self):
        old = self.running("slowstop")
        r = self.client("systemctl", "stop", "slowstop")
        self.assertExit(r, 0)
        self.assertGreaterEqual(r.seconds, 0.9, f"the service takes 1 s to stop; systemctl did not wait\n{r}")
        self.assertEqual(self.rt.service("slowstop")["state"], "stopped")
        self.assertFalse(self.alive(old))
        self.assertExit(self.client("systemctl", "start", "slowstop"), 0)
        self.assertEqual(self.rt.service("slowstop")["state"], "running")

    def test_start_waits_for_readiness_and_no_block_does_not(self):
        self.running("slowstart")
        self.assertExit(self.client("systemctl", "stop", "slowstart"), 0)
        self.assertEqual(self.rt.service("slowstart")["state"], "stopped")
        # Blocking: the start job ends when the service is ready, 2 s after it started.
        r = self.client("systemctl", "start", "slowstart")
        self.assertExit(r, 0)
        self.assertGreaterEqual(r.seconds, 1.8, f"start returned before the service was ready\n{r}")
        self.assertEqual(self.rt.service("slowstart")["state"], "running")
        self.assertExit(self.client("systemctl", "stop", "slowstart"), 0)
        # --no-block: the call returns at once; the service becomes running afterwards.
        r = self.client("systemctl", "--no-block", "start", "slowstart")
        self.assertExit(r, 0)
        self.assertLess(r.seconds, 1.0, f"--no-block must not wait for the job\n{r}")
        self.assertNotEqual(self.rt.service("slowstart")["state"], "running", "too early to be ready")
        self.rt.wait_state("slowstart", "running", timeout=10)
        r = self.client("systemctl", "is-active", "slowstart")
        self.assertExit(r, 0)

    def test_restart_gives_a_new_pid(self):
        old = self.running("restarter")
        r = self.client("systemctl", "restart", "restarter")
        self.assertExit(r, 0)
        s = self.rt.service("restarter")
        self.assertEqual(s["state"], "running", "restart must return once it runs again")
        self.assertNotIn(s["pid"], (0, old))
        self.assertFalse(self.alive(old))
        r = self.client("systemctl", "show", "-p", "MainPID", "restarter")
        self.assertEqual(r.out, f"MainPID={s['pid']}\n", r)

    def test_start_of_a_missing_unit_exits_5(self):
        r = self.client("systemctl", "start", "nosuch")
        self.assertExit(r, 5)
        self.assertEqual(r.err.strip(), "Failed to start nosuch.service: Unit nosuch.service not found.")

    def test_stop_of_a_missing_unit_exits_5(self):
        r = self.client("systemctl", "stop", "nosuch")
        self.assertExit(r, 5)
        self.assertEqual(r.err.strip(), "Failed to stop nosuch.service: Unit nosuch.service not loaded.")

    def test_kill_sends_sigterm_and_the_service_restarts_per_its_policy(self):
        old = self.running("killme")
        r = self.client("systemctl", "kill", "killme")
        self.assertExit(r, 0)
        new = self.rt.wait_pid_change("killme", old)  # permanent, delay 0: it comes back
        self.assertFalse(self.alive(old), f"pid {old} must be gone")
        self.assertTrue(self.alive(new))
        self.assertEqual(self.rt.service("killme")["last_exit"], "killed by SIGTERM")

    def test_daemon_reload_adds_a_new_service(self):
        pid = self.running("sleeper")
        self.assertIsNone(unit_row(self.client("systemctl", "list-units", "--all").out, "newcomer.service"))
        self.rt.write_service("newcomer", sleeper("newcomer"))
        r = self.client("systemctl", "daemon-reload")
        self.assertExit(r, 0)
        self.rt.wait_state("newcomer", "running", timeout=10)
        r = self.client("systemctl", "list-units", "--all")
        self.assertExit(r, 0)
        self.assertEqual(unit_row(r.out, "newcomer.service"), ("loaded", "active", "running"), r)
        self.assertEqual(self.rt.service("sleeper")["pid"], pid, "a reload must not disturb a running service")

    # --- the same through the system bus -----------------------------------------------------------------------------
    def private_accepted(self):
        listeners = self.tree_nodes("dbus_listener")
        self.assertEqual(len(listeners), 1, listeners)
        return listeners[0]["accepted"]

    def test_status_and_jobs_through_the_system_bus(self):
        pid = self.running("sleeper")
        accepted = self.private_accepted()
        r = self.client("systemctl", "status", "sleeper", env=FORCE_BUS)
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"Active: active \(running\)")
        self.assertIn(f"Main PID: {pid}", r.out)

        old = self.running("busvictim")
        r = self.client("systemctl", "stop", "busvictim", env=FORCE_BUS)
        self.assertExit(r, 0)
        self.assertEqual(self.rt.service("busvictim")["state"], "stopped")
        self.assertFalse(self.alive(old))
        r = self.client("systemctl", "start", "busvictim", env=FORCE_BUS)
        self.assertExit(r, 0)
        self.assertEqual(self.rt.service("busvictim")["state"], "running")
        r = self.client("systemctl", "is-active", "busvictim", env=FORCE_BUS)
        self.assertExit(r, 0)
        self.assertEqual(self.private_accepted(), accepted, "SYSTEMCTL_FORCE_BUS=1 must not use the private socket")
        # ... whereas root's systemctl without it does.
        self.assertExit(self.client("systemctl", "is-active", "busvictim"), 0)
        self.assertEqual(self.private_accepted(), accepted + 1)


class Unprivileged(DbusTestCase):
    """A non-root caller (nobody) reads everything and changes nothing."""
    SERVICES = {"sleeper": sleeper("sleeper")}

    def refused(self, bus_name):
        for node in self.tree_nodes("dbus_connection"):
            if bus_name in node.get("bus_names", []):
                return node["refused"]
        self.fail(f"no connection owns {bus_name}")

    def test_stop_is_denied(self):
        pid = self.running("sleeper")
        before = self.refused("org.freedesktop.systemd1")
        r = self.client("systemctl", "stop", "sleeper", user=NOBODY)
        self.assertExit(r, 4)
        # systemctl adds its "See system logs and 'systemctl status sleeper.service' for details." line.
        self.assertEqual(r.err.splitlines()[0], "Failed to stop sleeper.service: Access denied", r)
        self.assertEqual(self.refused("org.freedesktop.systemd1"), before + 1)
        self.assertEqual(self.rt.service("sleeper")["state"], "running")
        self.assertEqual(self.rt.service("sleeper")["pid"], pid)

    def test_raw_start_unit_is_denied(self):
        r = self.client("dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.systemd1",
                        "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager.StartUnit",
                        "string:sleeper.service", "string:replace", user=NOBODY)
        self.assertExit(r, 1)
        self.assertIn("Error org.freedesktop.DBus.Error.AccessDenied", r.err)

    def test_set_hostname_is_denied(self):
        r = self.client("hostnamectl", "set-hostname", "foo", user=NOBODY)
        self.assertExit(r, 1)
        # The pretty name (cleared) is unchanged, so that passes; the static one is refused (spec §7).
        self.assertEqual(r.err.strip(), "Could not set static hostname: Access denied")
        self.assertFalse(os.path.exists(os.path.join(self.rt.root, "etc/hostname")))
        self.assertFalse(os.path.exists(os.path.join(self.rt.root, "etc/machine-info")))

    def test_set_timezone_is_denied(self):
        r = self.client("timedatectl", "set-timezone", "Europe/Berlin", user=NOBODY)
        self.assertExit(r, 1)
        self.assertEqual(r.err.strip(), "Failed to set time zone: Access denied")
        self.assertFalse(os.path.lexists(os.path.join(self.rt.root, "etc/localtime")))

    def test_set_locale_is_denied(self):
        r = self.client("localectl", "set-locale", "LANG=de_DE.UTF-8", user=NOBODY)
        self.assertExit(r, 1)
        self.assertEqual(r.err.strip(), "Failed to issue method call: Access denied")
        self.assertFalse(os.path.exists(os.path.join(self.rt.root, "etc/default/locale")))

    def test_setting_the_value_in_place_needs_no_privilege(self):
        # spec §7: a setter given the current value succeeds without a permission check.
        r = self.client("localectl", "set-locale", "LANG=C.UTF-8", user=NOBODY)
        self.assertExit(r, 0)
        self.assertFalse(os.path.exists(os.path.join(self.rt.root, "etc/default/locale")))

    def test_a_refused_call_leaves_the_connection_up(self):
        before = self.refused("org.freedesktop.hostname1")
        r = self.client("hostnamectl", "set-hostname", "--static", "foo", user=NOBODY)
        self.assertExit(r, 1)
        self.assertEqual(r.err.strip(), "Could not set static hostname: Access denied")
        # At once, no reconnection in between: the same connection answers.
        r = self.client("hostnamectl", user=NOBODY)
        self.assertExit(r, 0)
        self.assertEqual(self.refused("org.freedesktop.hostname1"), before + 1)

    def test_reading_works(self):
        r = self.client("systemctl", "is-active", "sleeper", user=NOBODY)
        self.assertExit(r, 0)
        self.assertEqual(r.out, "active\n")
        r = self.client("systemctl", "status", "sleeper", user=NOBODY)
        self.assertExit(r, 0)
        self.assertIn(f"Main PID: {self.running('sleeper')}", r.out)
        r = self.client("hostnamectl", user=NOBODY)
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"Static hostname: \(unset\)")
        self.assertRegex(r.out, r"Operating System: ")
        r = self.client("timedatectl", user=NOBODY)
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"Time zone: UTC")
        self.assertRegex(r.out, r"NTP service: n/a")
        r = self.client("localectl", user=NOBODY)
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"System Locale: LANG=C\.UTF-8")


class Settings(DbusTestCase):
    """hostname1, timedate1 and locale1 as root write their files under --settings-root."""
    SERVICES = {"sleeper": sleeper("sleeper")}

    def path(self, rel):
        return os.path.join(self.rt.root, rel)

    def test_static_and_pretty_hostname(self):
        r = self.client("hostnamectl", "set-hostname", "--static", "myhost")
        self.assertExit(r, 0)
        with open(self.path("etc/hostname")) as f:
            self.assertEqual(f.read(), "myhost\n")
        r = self.client("hostnamectl", "set-hostname", "--pretty", "My Host")
        self.assertExit(r, 0)
        self.assertEqual(env_file_value(self.path("etc/machine-info"), "PRETTY_HOSTNAME"), "My Host")
        r = self.client("hostnamectl")
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"Static hostname: myhost\n")
        self.assertRegex(r.out, r"Pretty hostname: My Host\n")
        r = self.client("dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.hostname1",
                        "/org/freedesktop/hostname1", "org.freedesktop.DBus.Properties.Get",
                        "string:org.freedesktop.hostname1", "string:StaticHostname")
        self.assertExit(r, 0)
        self.assertIn('variant       string "myhost"', r.out)

    def test_an_invalid_static_hostname_is_refused(self):
        for bad in ("a/b", "bad name", "-x", "x" * 100):
            r = self.client("busctl", "call", "--", "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                            "org.freedesktop.hostname1", "SetStaticHostname", "sb", bad, "false")
            self.assertNotEqual(r.rc, 0, r)
            self.assertIn("Call failed:", r.err)
            if os.path.exists(self.path("etc/hostname")):
                with open(self.path("etc/hostname")) as f:
                    self.assertNotIn(bad, f.read())

    def test_a_pretty_hostname_cannot_inject_lines(self):
        before = self.client("busctl", "get-property", "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                             "org.freedesktop.hostname1", "PrettyHostname")
        self.assertExit(before, 0)
        # Control characters are refused, as hostnamed does: a newline would start a line of its own in machine-info.
        r = self.client("busctl", "call", "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                        "org.freedesktop.hostname1", "SetPrettyHostname", "sb", "nice\nICON_NAME=evil", "false")
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("Call failed:", r.err)
        if os.path.exists(self.path("etc/machine-info")):
            with open(self.path("etc/machine-info")) as f:
                lines = f.read().splitlines()
            self.assertNotIn("ICON_NAME=evil", lines, f"{r}\nmachine-info: {lines}")
        after = self.client("busctl", "get-property", "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                            "org.freedesktop.hostname1", "PrettyHostname")
        self.assertEqual(after.out, before.out)
        r = self.client("busctl", "get-property", "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                        "org.freedesktop.hostname1", "IconName")
        self.assertExit(r, 0)
        self.assertNotIn("evil", r.out)

    def test_set_timezone_links_localtime_relatively(self):
        r = self.client("timedatectl", "set-timezone", "Europe/Berlin")
        self.assertExit(r, 0)
        self.assertEqual(os.readlink(self.path("etc/localtime")), "../usr/share/zoneinfo/Europe/Berlin")
        r = self.client("timedatectl")
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"Time zone: Europe/Berlin \(")

    def test_an_unknown_timezone_is_refused(self):
        before = os.readlink(self.path("etc/localtime")) if os.path.lexists(self.path("etc/localtime")) else None
        r = self.client("timedatectl", "set-timezone", "Bad/Zone")
        self.assertExit(r, 1)
        self.assertEqual(r.err.strip(), "Failed to set time zone: Invalid or not installed time zone 'Bad/Zone'")
        after = os.readlink(self.path("etc/localtime")) if os.path.lexists(self.path("etc/localtime")) else None
        self.assertEqual(after, before)
        r = self.client("timedatectl", "set-timezone", "../../../etc/passwd")
        self.assertExit(r, 1)
        self.assertIn("Invalid or not installed time zone", r.err)

    def test_ntp_is_not_supported(self):
        r = self.client("timedatectl", "set-ntp", "true")
        self.assertExit(r, 1)
        self.assertEqual(r.err.strip(), "Failed to set ntp: NTP not supported")

    def test_set_locale_writes_default_locale(self):
        r = self.client("localectl", "set-locale", "LANG=de_DE.UTF-8")
        self.assertExit(r, 0)
        self.assertEqual(env_file_value(self.path("etc/default/locale"), "LANG"), "de_DE.UTF-8")
        r = self.client("localectl")
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"System Locale: LANG=de_DE\.UTF-8\n")


class Introspection(DbusTestCase):
    """busctl and dbus-send (the original dynamod's smoke test) see the objects; hostile calls get errors and harm
    nothing."""
    SERVICES = {"sleeper": sleeper("sleeper"), "other": sleeper("other")}

    def introspect(self, service, path):
        r = self.client("busctl", "introspect", service, path)
        self.assertExit(r, 0)
        return r.out

    def members(self, text):
        return {line.split()[0] for line in text.splitlines() if line.strip()}

    def test_introspect_the_manager(self):
        out = self.introspect("org.freedesktop.systemd1", "/org/freedesktop/systemd1")
        found = self.members(out)
        for member in ("org.freedesktop.systemd1.Manager", ".ListUnits", ".ListUnitsByPatterns", ".ListUnitsFiltered",
                       ".GetUnit", ".LoadUnit", ".StartUnit", ".StopUnit", ".RestartUnit", ".KillUnit", ".Reload",
                       ".JobRemoved", ".Version", "org.freedesktop.DBus.Properties"):
            self.assertIn(member, found, out)

    def test_introspect_a_unit(self):
        out = self.introspect("org.freedesktop.systemd1", "/org/freedesktop/systemd1/unit/sleeper_2eservice")
        found = self.members(out)
        for member in ("org.freedesktop.systemd1.Unit", "org.freedesktop.systemd1.Service", ".ActiveState",
                       ".LoadState", ".MainPID"):
            self.assertIn(member, found, out)
        self.assertRegex(out, r'\.Id\s+property\s+s\s+"sleeper\.service"')

    def test_tree_shows_the_unit_objects(self):
        r = self.client("busctl", "tree", "org.freedesktop.systemd1")
        self.assertExit(r, 0)
        for path in ("/org/freedesktop/systemd1", "/org/freedesktop/systemd1/unit/sleeper_2eservice",
                     "/org/freedesktop/systemd1/unit/other_2eservice", "/org/freedesktop/systemd1/unit/root_2etarget"):
            self.assertRegex(r.out, re.escape(path) + r"\n", r)

    def test_introspect_hostname1_timedate1_locale1(self):
        for service, path, iface, wanted in (
                ("org.freedesktop.hostname1", "/org/freedesktop/hostname1", "org.freedesktop.hostname1",
                 (".SetHostname", ".SetStaticHostname", ".SetPrettyHostname", ".Hostname", ".StaticHostname")),
                ("org.freedesktop.timedate1", "/org/freedesktop/timedate1", "org.freedesktop.timedate1",
                 (".SetTimezone", ".SetNTP", ".SetTime", ".Timezone", ".NTP", ".CanNTP")),
                ("org.freedesktop.locale1", "/org/freedesktop/locale1", "org.freedesktop.locale1",
                 (".SetLocale", ".SetVConsoleKeyboard", ".SetX11Keyboard", ".Locale", ".VConsoleKeymap"))):
            found = self.members(self.introspect(service, path))
            for member in (iface,) + wanted:
                self.assertIn(member, found, f"{service}: {member}")

    def test_dbus_send_smoke(self):
        send = ("dbus-send", "--system", "--print-reply")
        r = self.client(*send, "--dest=org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                        "org.freedesktop.systemd1.Manager.ListUnits")
        self.assertExit(r, 0)
        self.assertIn('string "sleeper.service"', r.out)
        self.assertIn('object path "/org/freedesktop/systemd1/unit/sleeper_2eservice"', r.out)
        r = self.client(*send, "--dest=org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                        "org.freedesktop.DBus.Properties.Get", "string:org.freedesktop.systemd1.Manager",
                        "string:Version")
        self.assertExit(r, 0)
        self.assertRegex(r.out, r'variant\s+string "[^"]+"')
        r = self.client(*send, "--dest=org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                        "org.freedesktop.DBus.Properties.Get", "string:org.freedesktop.hostname1", "string:Hostname")
        self.assertExit(r, 0)
        self.assertRegex(r.out, r'variant\s+string "[^"]*"')

    # --- hostile input -----------------------------------------------------------------------------------------------
    MANAGER = ("org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager")

    def hostile(self, *argv, expect):
        pid = self.running("sleeper")
        r = self.client(*argv)
        self.assertNotEqual(r.rc, 0, r)
        self.assertIsNotNone(r.rc, r)
        self.assertIn(expect, r.err, r)
        self.assert_runtime_unharmed(pid)
        return r

    def test_wrong_signature(self):
        self.hostile("busctl", "call", *self.MANAGER, "StartUnit", "s", "foo.service",
                     expect="Invalid arguments 's' to call org.freedesktop.systemd1.Manager.StartUnit(), expecting 'ss'")
        self.hostile("dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.systemd1",
                     "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager.StartUnit", "int32:5",
                     "string:replace", expect="Error org.freedesktop.DBus.Error.InvalidArgs")
        self.hostile("busctl", "call", *self.MANAGER, "KillUnit", "sss", "sleeper.service", "all", "9",
                     expect="Call failed")

    def test_invalid_unit_names(self):
        self.hostile("busctl", "call", *self.MANAGER, "GetUnit", "s", "../../x", expect="not valid")
        self.hostile("busctl", "call", *self.MANAGER, "StartUnit", "ss", "../../x.service", "replace",
                     expect="not valid")
        self.hostile("busctl", "call", *self.MANAGER, "LoadUnit", "s", "", expect="Call failed")
        self.hostile("busctl", "call", *self.MANAGER, "GetUnit", "s", "a" * (100 * 1024), expect="Call failed")
        self.hostile("busctl", "call", *self.MANAGER, "StartUnit", "ss", "x" * (100 * 1024) + ".service", "replace",
                     expect="Call failed")

    def test_huge_arrays_are_refused_before_any_work(self):
        names = [f"u{i}.service" for i in range(2000)]
        self.hostile("busctl", "call", *self.MANAGER, "ListUnitsByNames", "as", str(len(names)), *names,
                     expect="Too many strings: 2000, at most 1024.")
        self.hostile("busctl", "call", *self.MANAGER, "ListUnitsByPatterns", "asas", "0", str(len(names)), *names,
                     expect="Too many strings")
        self.hostile("busctl", "call", *self.MANAGER, "DisableUnitFiles", "asb", str(len(names)), *names, "false",
                     expect="Too many strings")
        self.hostile("busctl", "call", "org.freedesktop.locale1", "/org/freedesktop/locale1",
                     "org.freedesktop.locale1", "SetLocale", "asb", "20", *[f"LANG=C{i}" for i in range(20)], "false",
                     expect="Too many strings")
        r = self.client("busctl", "call", *self.MANAGER, "ListUnitsByNames", "as", "2", "sleeper.service", "nosuch.service")
        self.assertExit(r, 0)
        self.assertIn('"sleeper.service"', r.out)

    def test_an_invalid_job_mode(self):
        self.hostile("busctl", "call", *self.MANAGER, "StartUnit", "ss", "other.service", "no-such-mode",
                     expect="Call failed")
        self.assertEqual(self.rt.service("other")["state"], "running")

    def test_unknown_object_and_method(self):
        self.hostile("busctl", "call", "org.freedesktop.systemd1", "/org/freedesktop/nosuch",
                     "org.freedesktop.DBus.Properties", "GetAll", "s", "", expect="Unknown object")
        self.hostile("busctl", "call", *self.MANAGER, "NoSuchMethod", expect="Unknown method")
        self.hostile("dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.systemd1",
                     "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager.NoSuch",
                     expect="Error org.freedesktop.DBus.Error.UnknownMethod")
        self.hostile("busctl", "call", "org.freedesktop.hostname1", "/org/freedesktop/hostname1",
                     "org.freedesktop.hostname1", "NoSuchMethod", expect="Unknown method")
        self.hostile("busctl", "get-property", "org.freedesktop.systemd1",
                     "/org/freedesktop/systemd1/unit/sleeper_2eservice", "org.freedesktop.systemd1.Unit",
                     "NoSuchProperty", expect="Failed to get property")


# Exits 3 at once, restarted once after 100 ms, then given up: "failed" (start-limit-hit).
def giveup(name):
    return (f'[service]\nname = "{name}"\nexec = ["/bin/sh", "-c", "exit 3"]\n'
            '[restart]\ndelay = "100ms"\nmax-restarts = 1\n')


# How long a test watches a service that must stay down (its restart delay is 100 ms).
STAYS_DOWN = 0.5


class EnableState(DbusTestCase):
    """enable/disable: the service's <config>/manual/NAME marker; a disabled service is not started at boot."""
    SERVICES = {
        "sleeper": sleeper("sleeper"),
        "other": sleeper("other"),
        "offboot": sleeper("offboot"),
        "needsoff": sleeper("needsoff", '[dependencies]\nrequires = ["pulled"]\n'),
        "pulled": sleeper("pulled"),
    }
    MANUAL = ("offboot", "pulled")

    def marker(self, name):
        return os.path.join(self.rt.config, "manual", name)

    def unit_file_state(self, output, unit):
        m = re.search(r"^" + re.escape(unit) + r"\s+(\S+)", output, re.M)
        return m.group(1) if m else None

    def test_disable_and_enable_a_running_service(self):
        pid = self.running("sleeper")
        r = self.client("systemctl", "disable", "sleeper")
        self.assertExit(r, 0)
        self.assertEqual(r.err, f"Created symlink {self.marker('sleeper')} → /dev/null.\n", r)
        self.assertTrue(os.path.islink(self.marker("sleeper")))
        self.assertEqual(os.readlink(self.marker("sleeper")), "/dev/null")
        r = self.client("systemctl", "is-enabled", "sleeper")
        self.assertExit(r, 1)
        self.assertEqual(r.out, "disabled\n")
        r = self.client("systemctl", "list-unit-files")
        self.assertExit(r, 0)
        self.assertEqual(self.unit_file_state(r.out, "sleeper.service"), "disabled", r)
        self.assertEqual(self.unit_file_state(r.out, "other.service"), "enabled", r)
        # Disabling does not stop it (nor does the Reload systemctl sends after it restart it).
        s = self.rt.service("sleeper")
        self.assertEqual((s["state"], s["pid"]), ("running", pid))
        self.assertTrue(self.alive(pid))

        r = self.client("systemctl", "enable", "sleeper")
        self.assertExit(r, 0)
        self.assertEqual(r.err, f'Removed "{self.marker("sleeper")}".\n', r)
        self.assertFalse(os.path.lexists(self.marker("sleeper")))
        r = self.client("systemctl", "is-enabled", "sleeper")
        self.assertExit(r, 0)
        self.assertEqual(r.out, "enabled\n")
        self.assertEqual(self.unit_file_state(self.client("systemctl", "list-unit-files").out, "sleeper.service"),
                         "enabled")
        s = self.rt.service("sleeper")
        self.assertEqual((s["state"], s["pid"]), ("running", pid))

    def test_a_service_disabled_before_boot_is_not_started_until_asked(self):
        self.running("sleeper")  # the boot got that far
        s = self.rt.service("offboot")
        self.assertEqual((s["state"], s["pid"]), ("stopped", 0), s)  # stopped, not waiting for anything
        self.assertFalse(s["enabled"], s)
        r = self.client("systemctl", "is-active", "offboot")
        self.assertExit(r, 3)
        self.assertEqual(r.out, "inactive\n")
        r = self.client("systemctl", "is-enabled", "offboot")
        self.assertExit(r, 1)
        self.assertEqual(r.out, "disabled\n")
        self.assertEqual(self.unit_file_state(self.client("systemctl", "list-unit-files").out, "offboot.service"),
                         "disabled")
        # Asked, it starts; it stays disabled.
        r = self.client("systemctl", "start", "offboot")
        self.assertExit(r, 0)
        s = self.rt.service("offboot")
        self.assertEqual(s["state"], "running", "start must return once it runs")
        self.assertTrue(self.alive(s["pid"]))
        r = self.client("systemctl", "is-active", "offboot")
        self.assertExit(r, 0)
        self.assertEqual(r.out, "active\n")
        r = self.client("systemctl", "is-enabled", "offboot")
        self.assertExit(r, 1)
        self.assertEqual(r.out, "disabled\n")
        self.assertTrue(os.path.islink(self.marker("offboot")))

    def test_a_disabled_service_that_a_started_one_requires_is_pulled_in(self):
        # systemd's Requires= starts a disabled unit: needsoff starts at boot, so pulled starts too, disabled.
        self.rt.wait_state("needsoff", "running", timeout=10)
        s = self.rt.service("pulled")
        self.assertEqual(s["state"], "running", s)
        self.assertFalse(s["enabled"], s)
        r = self.client("systemctl", "is-enabled", "pulled")
        self.assertExit(r, 1)
        self.assertEqual(r.out, "disabled\n")
        self.assertExit(self.client("systemctl", "is-active", "needsoff"), 0)

    def test_enable_and_disable_of_a_missing_unit(self):
        for verb in ("enable", "disable"):
            r = self.client("systemctl", verb, "nosuch")
            self.assertExit(r, 1)
            self.assertEqual(r.err, f"Failed to {verb} unit: Unit file nosuch.service does not exist.\n", r)
        self.assertFalse(os.path.lexists(self.marker("nosuch")))

    def test_unprivileged_enable_and_disable_are_denied(self):
        pid = self.running("other")
        r = self.client("systemctl", "disable", "other", user=NOBODY)
        self.assertExit(r, 1)
        self.assertEqual(r.err, "Failed to disable unit: Access denied\n", r)
        self.assertFalse(os.path.lexists(self.marker("other")))
        r = self.client("systemctl", "enable", "offboot", user=NOBODY)
        self.assertExit(r, 1)
        self.assertEqual(r.err, "Failed to enable unit: Access denied\n", r)
        self.assertTrue(os.path.islink(self.marker("offboot")))
        r = self.client("systemctl", "is-enabled", "other", user=NOBODY)  # reading is anybody's
        self.assertExit(r, 0)
        self.assertEqual(r.out, "enabled\n")
        s = self.rt.service("other")
        self.assertEqual((s["state"], s["pid"]), ("running", pid))


class ResetFailed(DbusTestCase):
    """reset-failed turns a service that gave up stopped, with a fresh history; it is not started again."""
    SERVICES = {"giveup": giveup("giveup")}

    def test_reset_failed_of_a_service_that_gave_up(self):
        self.rt.wait_state("giveup", "failed")
        restarts = self.rt.service("giveup")["restarts"]
        r = self.client("systemctl", "is-failed", "giveup")
        self.assertExit(r, 0)
        self.assertEqual(r.out, "failed\n")
        r = self.client("systemctl", "--state=failed")
        self.assertExit(r, 0)
        self.assertEqual(unit_row(r.out, "giveup.service"), ("loaded", "failed", "failed"), r)
        r = self.client("systemctl", "show", "-p", "Result", "giveup")
        self.assertExit(r, 0)
        self.assertEqual(r.out, "Result=start-limit-hit\n")

        r = self.client("systemctl", "reset-failed", "giveup", user=NOBODY)
        self.assertExit(r, 1)
        self.assertEqual(r.err, "Failed to reset failed state of unit giveup.service: Access denied\n", r)
        self.assertEqual(self.rt.service("giveup")["state"], "failed")
        self.assertExit(self.client("systemctl", "is-failed", "giveup"), 0)

        r = self.client("systemctl", "reset-failed", "giveup")
        self.assertExit(r, 0)
        self.assertEqual(r.text, "")
        r = self.client("systemctl", "is-failed", "giveup")
        self.assertExit(r, 1)
        self.assertEqual(r.out, "inactive\n")
        r = self.client("systemctl", "show", "-p", "Result", "giveup")
        self.assertEqual(r.out, "Result=success\n", r)
        self.assertIsNone(unit_row(self.client("systemctl", "--state=failed").out, "giveup.service"))
        self.assertEqual(self.rt.service("giveup")["state"], "stopped")
        time.sleep(STAYS_DOWN)  # five restart delays: it must not come back by itself
        s = self.rt.service("giveup")
        self.assertEqual((s["state"], s["pid"], s["restarts"]), ("stopped", 0, restarts), s)
        self.assertEqual(self.client("systemctl", "is-active", "giveup").out, "inactive\n")

    def test_reset_failed_of_a_missing_unit(self):
        r = self.client("systemctl", "reset-failed", "nosuch")
        self.assertExit(r, 1)
        self.assertEqual(r.err, "Failed to reset failed state of unit nosuch.service: Unit nosuch.service not loaded.\n")


class ResetFailedAll(DbusTestCase):
    """reset-failed without a unit resets every failed service."""
    SERVICES = {"giveupa": giveup("giveupa"), "giveupb": giveup("giveupb"), "sleeper": sleeper("sleeper")}

    def test_reset_failed_of_all(self):
        pid = self.running("sleeper")
        for name in ("giveupa", "giveupb"):
            self.rt.wait_state(name, "failed")
        r = self.client("systemctl", "reset-failed", user=NOBODY)
        self.assertExit(r, 1)
        self.assertEqual(r.err, "Failed to execute operation: Access denied\n", r)
        r = self.client("systemctl", "--state=failed")
        self.assertEqual(unit_row(r.out, "giveupa.service"), ("loaded", "failed", "failed"), r)
        self.assertEqual(unit_row(r.out, "giveupb.service"), ("loaded", "failed", "failed"), r)

        r = self.client("systemctl", "reset-failed")
        self.assertExit(r, 0)
        r = self.client("systemctl", "--state=failed")
        self.assertExit(r, 0)
        self.assertIn("0 loaded units listed.", r.out)
        for name in ("giveupa", "giveupb"):
            r = self.client("systemctl", "is-failed", name)
            self.assertExit(r, 1)
            self.assertEqual(r.out, "inactive\n")
        time.sleep(STAYS_DOWN)
        for name in ("giveupa", "giveupb"):
            s = self.rt.service(name)
            self.assertEqual((s["state"], s["pid"]), ("stopped", 0), s)
        self.assert_runtime_unharmed(pid)


class Signals(DbusTestCase):
    """JobNew/JobRemoved and PropertiesChanged as a subscriber on the system bus receives them; list-jobs, cancel."""
    SERVICES = {
        "sleeper": sleeper("sleeper"),
        "crashy": sleeper("crashy", '[restart]\ndelay = "300ms"\n'),
        # Disabled, so that nothing ran it before: a start is tried at once (no restart delay of an earlier failure).
        "noexec": '[service]\nname = "noexec"\nexec = ["/nonexistent"]\n[restart]\npolicy = "temporary"\n',
        # Ready 3 s after it starts; disabled, so that it is stopped until a test starts it.
        "slowready": """
            [service]
            name = "slowready"
            type = "notify"
            exec = ["/bin/sh", "-c", "sleep 3; systemd-notify --ready; exec sleep 1000"]
            [readiness]
            notify-access = "all"
            """,
    }
    MANUAL = ("noexec", "slowready")

    def assert_job_pair(self, monitor, unit, result):
        """JobNew(id, path, unit) and then JobRemoved(id, path, unit, result), once each; answers the id."""
        removed = monitor.wait_job_removed(unit)
        new = [j for j in monitor.jobs_new() if j[2] == unit]
        self.assertEqual(len(new), 1, monitor.text())
        job_id, path, _ = new[0]
        self.assertEqual(path, f"/org/freedesktop/systemd1/job/{job_id}")
        self.assertEqual(removed, (job_id, path, unit, result), monitor.text())
        self.assertEqual(len([r for r in monitor.jobs_removed() if r[0] == job_id]), 1, monitor.text())
        sigs = monitor.signals()
        first_new = next(i for i, s in enumerate(sigs) if s[2] == "JobNew" and f"'{unit}'" in s[3])
        first_removed = next(i for i, s in enumerate(sigs) if s[2] == "JobRemoved" and f"'{unit}'" in s[3])
        self.assertLess(first_new, first_removed, monitor.text())
        return job_id

    def test_stop_sends_job_signals_and_property_changes(self):
        pid = self.running("sleeper")
        monitor = SignalMonitor(self)
        r = self.client("systemctl", "stop", "sleeper")  # root: the private socket; the signals go to the bus too
        self.assertExit(r, 0)
        self.assert_job_pair(monitor, "sleeper.service", "done")
        monitor.wait(lambda: "inactive" in monitor.active_states("sleeper.service"), "sleeper to become inactive")
        changes = monitor.unit_changes("sleeper.service")
        self.assertTrue(all(iface == "org.freedesktop.systemd1.Unit" for iface, _ in changes), changes)
        states = monitor.active_states("sleeper.service")
        self.assertEqual(states[-1], "inactive", states)
        self.assertTrue(set(states) <= {"deactivating", "inactive"}, states)
        self.assertFalse(self.alive(pid))
        self.assertExit(self.client("systemctl", "start", "sleeper"), 0)

    def test_a_crash_sends_properties_changed_without_a_job(self):
        old = self.running("crashy")
        monitor = SignalMonitor(self)
        self.assertExit(self.client("kill", "-9", str(old)), 0)  # not through systemctl
        new = self.rt.wait_pid_change("crashy", old)
        monitor.wait(lambda: monitor.active_states("crashy.service")[-1:] == ["active"], "crashy to be active again")
        states = monitor.active_states("crashy.service")
        self.assertGreaterEqual(len(states), 2, monitor.text())
        self.assertIn(states[0], ("failed", "inactive", "activating"), states)  # down first, whichever way it says
        self.assertEqual(states[-1], "active", states)
        self.assertEqual([j for j in monitor.jobs_new() if j[2] == "crashy.service"], [], monitor.text())
        self.assertTrue(self.alive(new))

    def test_a_start_that_cannot_run_the_process_ends_its_job_failed(self):
        self.assertEqual(self.rt.service("noexec")["state"], "stopped")
        monitor = SignalMonitor(self)
        r = self.client("systemctl", "start", "noexec")
        self.assertExit(r, 1)
        self.assertEqual(r.err.splitlines()[0], "Job for noexec.service failed because of unavailable resources or "
                         "another system error.", r)
        self.assertLess(r.seconds, 1.0, r)
        self.assert_job_pair(monitor, "noexec.service", "failed")
        monitor.wait(lambda: "failed" in monitor.active_states("noexec.service"), "noexec to become failed")
        r = self.client("systemctl", "show", "-p", "Result", "noexec")
        self.assertEqual(r.out, "Result=resources\n", r)

    def test_list_jobs_shows_a_pending_start_and_cancel_ends_it(self):
        self.assertEqual(self.rt.service("slowready")["state"], "stopped")
        monitor = SignalMonitor(self)
        r = self.client("systemctl", "--no-block", "start", "slowready")
        self.assertExit(r, 0)
        monitor.wait(lambda: any(j[2] == "slowready.service" for j in monitor.jobs_new()), "JobNew for slowready")
        job_id = next(j[0] for j in monitor.jobs_new() if j[2] == "slowready.service")
        r = self.client("systemctl", "list-jobs")
        self.assertExit(r, 0)
        self.assertRegex(r.out, rf"(?m)^{job_id}\s+slowready\.service\s+start\s+running$")
        self.assertIn("1 jobs listed.", r.out)
        self.assertNotEqual(self.rt.service("slowready")["state"], "running", "too early to be ready")
        # The job is an object while it runs: introspectable, in the tree, with its properties.
        path = f"/org/freedesktop/systemd1/job/{job_id}"
        r = self.client("busctl", "introspect", "org.freedesktop.systemd1", path)
        self.assertExit(r, 0)
        self.assertRegex(r.out, r'\.JobType\s+property\s+s\s+"start"')
        self.assertRegex(r.out, r'\.Unit\s+property\s+\(so\)')
        self.assertRegex(r.out, rf"\.Id\s+property\s+u\s+{job_id}\b")
        r = self.client("busctl", "get-property", "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Job", "Unit")
        self.assertExit(r, 0)
        self.assertEqual(r.out, '(so) "slowready.service" "/org/freedesktop/systemd1/unit/slowready_2eservice"\n')
        r = self.client("busctl", "tree", "org.freedesktop.systemd1")
        self.assertExit(r, 0)
        self.assertIn(path, r.out)

        r = self.client("systemctl", "cancel", str(job_id))
        self.assertExit(r, 0)
        self.assertEqual(monitor.wait_job_removed("slowready.service"),
                         (job_id, f"/org/freedesktop/systemd1/job/{job_id}", "slowready.service", "canceled"))
        r = self.client("systemctl", "list-jobs")
        self.assertExit(r, 0)
        self.assertEqual(r.out, "No jobs running.\n")
        r = self.client("systemctl", "cancel", str(job_id))
        self.assertExit(r, 1)
        self.assertEqual(r.err, f"Failed to cancel job {job_id}: Job {job_id} does not exist.\n", r)
        # The start itself goes on (the runtime carries it out); its job ended once, as canceled.
        r = self.client("busctl", "introspect", "org.freedesktop.systemd1", path)
        self.assertNotEqual(r.rc, 0, "an ended job is no object")
        self.rt.wait_state("slowready", "running", timeout=10)
        self.assertEqual([x for x in monitor.jobs_removed() if x[0] == job_id],
                         [(job_id, f"/org/freedesktop/systemd1/job/{job_id}", "slowready.service", "canceled")])


class SettingsErrors(DbusTestCase):
    """A settings file that cannot be written: the client gets an error that says why; nothing else happens."""
    SERVICES = {"sleeper": sleeper("sleeper")}

    def etc(self, rel=""):
        return os.path.join(self.rt.root, "etc", rel)

    def assert_bus_still_works(self, pid):
        self.assert_runtime_unharmed(pid)
        self.rt.wait_dbus_ready(timeout=5)
        r = self.client("hostnamectl")
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"Static hostname: ")

    def test_static_hostname_on_a_read_only_etc(self):
        pid = self.running("sleeper")
        etc = self.etc().rstrip("/")
        # A read-only bind mount inside the namespace (its mounts are private: the host does not see it).
        self.assertExit(self.client("mount", "--bind", etc, etc), 0)
        self.addCleanup(self.client, "umount", etc)
        self.assertExit(self.client("mount", "-o", "remount,ro,bind", etc), 0)
        with open("/proc/self/mountinfo") as f:
            self.assertNotIn(etc, f.read(), "the bind mount must stay inside the namespace")
        r = self.client("hostnamectl", "set-hostname", "--static", "rohost")
        self.assertExit(r, 1)
        self.assertTrue(r.err.startswith("Could not set static hostname: "), r)
        self.assertIn(f"{etc}/hostname", r.err)
        self.assertIn("Read-only file system", r.err)
        self.assertFalse(os.path.exists(self.etc("hostname")))
        self.assert_bus_still_works(pid)
        # Writable again, the same connection writes it.
        self.assertExit(self.client("umount", etc), 0)
        self.assertExit(self.client("hostnamectl", "set-hostname", "--static", "rwhost"), 0)
        with open(self.etc("hostname")) as f:
            self.assertEqual(f.read(), "rwhost\n")

    def test_settings_whose_directory_is_missing(self):
        pid = self.running("sleeper")
        # etc/default missing: locale1 cannot write etc/default/locale.
        os.rename(self.etc("default"), self.etc("default.away"))
        self.addCleanup(os.rename, self.etc("default.away"), self.etc("default"))
        r = self.client("localectl", "set-locale", "LANG=de_DE.UTF-8")
        self.assertExit(r, 1)
        self.assertTrue(r.err.startswith("Failed to issue method call: "), r)
        self.assertIn(f"{self.etc('default/locale')}", r.err)
        self.assertIn("No such file or directory", r.err)
        self.assertFalse(os.path.exists(self.etc("default")))
        # No etc at all: hostname1 cannot write etc/hostname.
        etc = self.etc().rstrip("/")
        os.rename(etc, etc + ".away")
        self.addCleanup(os.rename, etc + ".away", etc)
        r = self.client("hostnamectl", "set-hostname", "--static", "nohost")
        self.assertExit(r, 1)
        self.assertTrue(r.err.startswith("Could not set static hostname: "), r)
        self.assertIn(f"{etc}/hostname", r.err)
        self.assertIn("No such file or directory", r.err)
        self.assertFalse(os.path.exists(etc))
        self.assert_bus_still_works(pid)


class BusRestart(DbusTestCase):
    """The system bus goes away and comes back: the connection actors reconnect, no service is disturbed."""
    SERVICES = {"sleeper": sleeper("sleeper")}

    def test_the_tree_shows_the_bus_connections(self):
        nodes = self.tree_nodes("dbus_connection")
        by_name = {name: n for n in nodes for name in n.get("bus_names", [])}
        for name in ("org.freedesktop.systemd1", "org.freedesktop.hostname1", "org.freedesktop.timedate1",
                     "org.freedesktop.locale1"):
            self.assertIn(name, by_name, nodes)
            self.assertEqual(by_name[name]["state"], "ready", by_name[name])

    def test_the_actors_reconnect_to_a_new_bus(self):
        pid = self.running("sleeper")
        self.assertExit(self.client("hostnamectl"), 0)
        self.rt.kill_bus()
        # Really gone: the clients cannot reach a bus now.
        self.assertNotEqual(self.client("hostnamectl").rc, 0)
        self.rt.start_bus()
        deadline = time.monotonic() + 10
        while True:
            host = self.client("hostnamectl", timeout=5)
            status = self.client("systemctl", "status", "sleeper", env=FORCE_BUS, timeout=5)
            if host.rc == 0 and status.rc == 0:
                break
            if time.monotonic() > deadline:
                self.fail(f"no reconnection within 10 s\n{host}\n{status}\ntree: "
                          f"{self.tree_nodes('dbus_connection')}\n{self.rt.console()[-3000:]}")
            time.sleep(0.2)
        self.assertRegex(host.out, r"Static hostname: ")
        self.assertIn(f"Main PID: {pid}", status.out)
        self.rt.wait_dbus_ready(timeout=10)
        self.assertEqual(self.rt.service("sleeper")["pid"], pid, "losing the bus must not disturb a service")
        self.assertEqual(self.rt.service("sleeper")["restarts"], 0)
        for cmd in (("timedatectl",), ("localectl",)):
            self.assertExit(self.client(*cmd), 0)


class NotInAContainer(unittest.TestCase):
    """A system runtime in a pid namespace of its own (dynamod-init in container mode, as the other host suites
    run it) serves no D-Bus: its /run and bus are the host's, so it must not create /run/systemd/system or
    /run/systemd/private there, nor take systemd's names on a bus it finds."""

    def test_the_d_bus_face_stays_off_under_a_container_init(self):
        watched = ["/run/systemd/system", "/run/systemd/private"]

        def identity(path):
            try:
                st = os.lstat(path)
                return (st.st_dev, st.st_ino, st.st_mtime_ns)
            except FileNotFoundError:
                return None

        before = {p: identity(p) for p in watched}
        rt = Runtime({"sleeper": '[service]\nname = "sleeper"\nexec = ["/bin/sleep", "600"]\n'}, under_init=True)
        try:
            rt.start()
            rt.wait_state("sleeper", "running", timeout=20)
            tree = json.loads(rt.ctl("--json", "tree", check=True).stdout)
            kinds = {n.get("kind") for n in tree_nodes(tree)}
            self.assertNotIn("dbus_supervisor", kinds, kinds)
            self.assertEqual({p: identity(p) for p in watched}, before, "the host's /run/systemd was touched")
        finally:
            rt.shutdown()
            rt.cleanup()


if __name__ == "__main__":
    unittest.main()
