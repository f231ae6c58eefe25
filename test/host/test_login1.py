"""Issue 18: org.freedesktop.login1 served by the runtime, driven as pam_systemd drives it (CreateSession, holding the
session's FIFO: login_client.py) and read back with Debian's own loginctl and busctl, and with the files sd-login
reads (/run/systemd/{sessions,users,seats}).

Like test_dbus.py, each class runs one runtime (user mode, --dbus) in its own mount and pid namespace, with a tmpfs
on /run and a private system bus there (dbus_namespace.py); nothing of the host's /run, bus or PID 1 is touched.
Texts and exit codes expected from loginctl are systemd 252's (shared/spec/dbus.md §7).
"""
import json
import os
import pwd
import tempfile
import time
import unittest

from dbus_namespace import DbusRuntime

NOBODY = 65534
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "login_client.py")
LOGIN1 = ["org.freedesktop.login1"]


class Login1TestCase(unittest.TestCase):
    RUNTIME_UMASK = None

    @classmethod
    def setUpClass(cls):
        cls.rt = DbusRuntime({}, runtime_umask=cls.RUNTIME_UMASK)
        cls.addClassCleanup(cls.rt.cleanup)
        cls.rt.start()

    def setUp(self):
        self.rt.wait_dbus_ready(timeout=10)

    def client(self, *argv, **kw):
        return self.rt.client(*argv, **kw)

    def assertExit(self, result, rc):
        self.assertEqual(result.rc, rc, f"unexpected exit status\n{result}\n--- runtime ---\n{self.rt.console()[-2500:]}")

    def wait(self, predicate, what, timeout=10):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail(f"timed out after {timeout}s waiting for {what}\n--- runtime ---\n{self.rt.console()[-3000:]}")
            time.sleep(0.05)

    def login(self, uid=NOBODY, session_type="tty", vtnr=1, *flags, user=None):
        """A pam_systemd-like client in the background; returns (its answer, its pid in the namespace)."""
        fd, out = tempfile.mkstemp(prefix="login.", suffix=".out", dir=self.rt.dir)
        os.close(fd)
        pid = self.rt.spawn("python3", CLIENT, str(uid), session_type, str(vtnr), *flags, out=out, err=out + ".err",
                            user=user)
        self.addCleanup(lambda: self.rt.finish(pid) if self.client("test", "-e", f"/proc/{pid}").rc == 0 else None)

        def answered():
            with open(out) as f:
                return f.readline().endswith("\n")
        self.wait(answered, "CreateSession's answer")
        with open(out) as f:
            return json.loads(f.readline()), pid

    def ended(self, pid):
        """Whether the namespace's process `pid` has exited (gone, or a zombie its spawner has not reaped)."""
        r = self.client("cat", f"/proc/{pid}/stat")
        return r.rc != 0 or r.out.rsplit(")", 1)[1].split()[0] == "Z"

    def file(self, path):
        r = self.client("cat", path)
        return dict(line.split("=", 1) for line in r.out.splitlines() if "=" in line) if r.rc == 0 else None

    def sessions(self):
        r = self.client("busctl", "--json=short", "call", *LOGIN1, "/org/freedesktop/login1",
                        "org.freedesktop.login1.Manager", "ListSessions")
        self.assertExit(r, 0)
        return [row[0] for row in json.loads(r.out)["data"][0]]


class SessionsFromPam(Login1TestCase):
    def test_a_login_makes_its_session_user_and_seat_and_loginctl_shows_them(self):
        answer, pid = self.login()
        self.assertNotIn("error", answer, answer)
        sid = answer["id"]
        self.assertEqual(answer["runtime"], f"/run/user/{NOBODY}")
        self.assertEqual((answer["uid"], answer["seat"], answer["vtnr"], answer["existing"]), (NOBODY, "seat0", 1, False))
        self.assertTrue(answer["fifo"], "pam_systemd gets the session's FIFO")
        # The files sd-login reads.
        session = self.file(f"/run/systemd/sessions/{sid}")
        self.assertEqual(session["UID"], str(NOBODY))
        self.assertEqual(session["USER"], "nobody")
        self.assertEqual(session["ACTIVE"], "1")
        self.assertEqual(session["STATE"], "active")
        self.assertEqual(session["SEAT"], "seat0")
        self.assertEqual(session["TYPE"], "tty")
        self.assertEqual(session["LEADER"], str(answer["leader"]))
        user = self.file(f"/run/systemd/users/{NOBODY}")
        self.assertEqual(user["NAME"], "nobody")
        self.assertIn(sid, user["SESSIONS"].split())
        seat = self.file("/run/systemd/seats/seat0")
        self.assertEqual(seat["ACTIVE"], sid)
        self.assertIn(sid, seat["SESSIONS"].split())
        # The user's runtime directory: theirs alone.
        r = self.client("stat", "-c", "%u %a", f"/run/user/{NOBODY}")
        self.assertExit(r, 0)
        self.assertEqual(r.out.split(), [str(NOBODY), "700"])
        # The user's session bus (what user@UID.service's dbus would be): on the runtime directory's bus socket,
        # reachable by the user.
        bus = f"unix:path=/run/user/{NOBODY}/bus"
        r = self.client("dbus-send", f"--bus={bus}", "--print-reply", "--dest=org.freedesktop.DBus",
                        "/org/freedesktop/DBus", "org.freedesktop.DBus.GetId", user=NOBODY)
        self.assertExit(r, 0)
        self.assertEqual(self.client("pgrep", "-u", str(NOBODY), "-x", "dbus-daemon").rc, 0)
        # loginctl, as on systemd.
        r = self.client("loginctl", "list-sessions", "--no-legend")
        self.assertExit(r, 0)
        self.assertRegex(r.out, rf"(?m)^\s*{sid}\s+{NOBODY}\s+nobody\s+seat0\s+tty1\s*$")
        r = self.client("loginctl", "session-status", sid)
        self.assertExit(r, 0)
        self.assertIn(f"{sid} - nobody ({NOBODY})", r.out)
        self.assertIn("State: active", r.out)
        self.assertIn("Seat: seat0; vc1", r.out)
        r = self.client("loginctl", "show-user", str(NOBODY))
        self.assertExit(r, 0)
        self.assertIn(f"RuntimePath=/run/user/{NOBODY}", r.out)
        self.assertIn("State=active", r.out)
        r = self.client("loginctl", "seat-status", "seat0")
        self.assertExit(r, 0)
        self.assertIn(f"Sessions: *{sid}", r.out)
        r = self.client("loginctl", "list-users", "--no-legend")
        self.assertRegex(r.out, rf"(?m)^\s*{NOBODY}\s+nobody")
        # dynamodctl tree: the login1 actor with what it keeps.
        def login1_node():
            found = [n for n in self.rt.dbus_connections() if n["name"] == "org.freedesktop.login1"]
            self.assertEqual(len(found), 1)
            return found[0]
        # (An earlier test's login may still be ending: its FIFO closes as its client exits.)
        self.wait(lambda: (login1_node()["sessions"], login1_node()["users"]) == (1, 1), "this session alone")
        self.assertIn("org.freedesktop.login1 [ready]", self.rt.ctl("tree").stdout)
        self.assertIn("1 session(s) of 1 user(s)", self.rt.ctl("tree").stdout)
        # The end of the login (pam_systemd's process exits, its FIFO closes): everything goes.
        self.rt.finish(pid)
        self.wait(lambda: sid not in self.sessions(), "the session to end with its login")
        self.assertIsNone(self.file(f"/run/systemd/sessions/{sid}"))
        self.assertIsNone(self.file(f"/run/systemd/users/{NOBODY}"))
        self.assertNotEqual(self.client("test", "-e", f"/run/user/{NOBODY}").rc, 0, "the last logout removes it")
        self.wait(lambda: self.client("pgrep", "-u", str(NOBODY), "-x", "dbus-daemon").rc != 0,
                  "the session bus to stop with the last session")
        self.assertNotIn(sid, self.file("/run/systemd/seats/seat0").get("SESSIONS", "").split())

    def test_the_fifo_closing_ends_the_session_though_the_leader_runs(self):
        answer, pid = self.login(NOBODY, "tty", 2, "--drop-fifo")
        self.wait(lambda: answer["id"] not in self.sessions(), "the session to end when its FIFO closed")
        self.assertEqual(self.client("test", "-e", f"/proc/{pid}").rc, 0, "its leader was not harmed")

    def test_the_leader_exiting_ends_the_session(self):
        answer, pid = self.login(NOBODY, "tty", 3, "--leader-child")
        self.assertIn(answer["id"], self.sessions())
        self.assertExit(self.client("kill", str(answer["leader"])), 0)
        self.wait(lambda: answer["id"] not in self.sessions(), "the session to end with its leader")

    def test_a_leader_already_in_a_session_is_refused_as_busy(self):
        answer, pid = self.login(NOBODY, "tty", 4)
        r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                        "CreateSession", "uusssssussbssa(sv)", str(NOBODY), str(answer["leader"]), "login", "tty", "user",
                        "", "", "0", "", "", "false", "", "", "0")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("Already running in a session", r.err)

    def test_bad_requests_get_logind_errors_and_change_nothing(self):
        before = self.sessions()
        for args, text in [((str(NOBODY), "1", "login", "bogus", "user"), "Invalid session type"),
                           ((str(NOBODY), "1", "login", "tty", "bogus"), "Invalid session class"),
                           (("4000000000", "1", "login", "tty", "user"), "No user with uid"),
                           ((str(NOBODY), "4000000", "login", "tty", "user"), "does not exist")]:
            r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                            "CreateSession", "uusssssussbssa(sv)", *args, "", "", "0", "", "", "false", "", "", "0")
            self.assertNotEqual(r.rc, 0, r)
            self.assertIn(text, r.err)
        r = self.client("loginctl", "session-status", "nosuch")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("No session 'nosuch' known", r.err)
        self.assertEqual(self.sessions(), before)
        self.assertIsNone(self.rt.proc.poll(), "the runtime still runs")


class SeatSwitching(Login1TestCase):
    def test_switching_vts_moves_the_active_session_and_the_files_follow(self):
        # In user mode the foreground VT is simulated (the host's console is not ours): it starts at 1.
        first, _ = self.login(0, "tty", 1)
        second, _ = self.login(0, "tty", 2)
        self.assertEqual(self.file(f"/run/systemd/sessions/{first['id']}")["ACTIVE"], "1")
        self.assertEqual(self.file(f"/run/systemd/sessions/{second['id']}")["ACTIVE"], "0")
        self.assertEqual(self.file(f"/run/systemd/sessions/{second['id']}")["STATE"], "online")
        r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1/seat/seat0", "org.freedesktop.login1.Seat",
                        "SwitchTo", "u", "2")
        self.assertExit(r, 0)
        self.assertEqual(self.file(f"/run/systemd/sessions/{first['id']}")["ACTIVE"], "0")
        self.assertEqual(self.file(f"/run/systemd/sessions/{second['id']}")["ACTIVE"], "1")
        self.assertEqual(self.file("/run/systemd/seats/seat0")["ACTIVE"], second["id"])
        r = self.client("busctl", "get-property", *LOGIN1, "/org/freedesktop/login1/seat/seat0",
                        "org.freedesktop.login1.Seat", "ActiveSession")
        self.assertIn(f'"{second["id"]}"', r.out)
        r = self.client("loginctl", "activate", first["id"])
        self.assertExit(r, 0)
        r = self.client("busctl", "get-property", *LOGIN1, f"/org/freedesktop/login1/session/{AccessControl.escaped(first['id'])}",
                        "org.freedesktop.login1.Session", "Active")
        self.assertEqual(r.out.strip(), "b true")


class BusRestart(Login1TestCase):
    def test_sessions_survive_the_system_bus_restarting(self):
        answer, pid = self.login(NOBODY, "tty", 1)
        self.rt.kill_bus()
        self.rt.start_bus()
        self.rt.wait_dbus_ready(timeout=20)
        # The new connection's login1 took the session over from the files the previous one left.
        self.assertIn(answer["id"], self.sessions())
        r = self.client("loginctl", "show-session", answer["id"], "-p", "Name", "-p", "Leader", "-p", "State")
        self.assertExit(r, 0)
        self.assertEqual(r.out.split(), ["Name=nobody", f"Leader={answer['leader']}", "State=active"])
        # And it still ends with its login.
        self.rt.finish(pid)
        self.wait(lambda: answer["id"] not in self.sessions(), "the carried-over session to end with its login")
        self.assertIsNone(self.file(f"/run/systemd/users/{NOBODY}"))


class AccessControl(Login1TestCase):
    def test_only_root_creates_sessions_and_only_owners_act_on_theirs(self):
        r = self.client("python3", CLIENT, str(NOBODY), "tty", "5", user=NOBODY, timeout=20)
        self.assertIn("org.freedesktop.DBus.Error.AccessDenied", r.out)
        root_session, _ = self.login(0, "tty", 6)
        mine, _ = self.login(NOBODY, "tty", 7)
        # Another's session: no.
        for verb in ("terminate-session", "lock-session", "activate"):
            r = self.client("loginctl", verb, root_session["id"], user=NOBODY)
            self.assertNotEqual(r.rc, 0, r)
            self.assertIn("Access denied", r.err)
        self.assertIn(root_session["id"], self.sessions())
        # Its own: yes.
        r = self.client("loginctl", "lock-session", mine["id"], user=NOBODY)
        self.assertExit(r, 0)
        r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1/session/" + self.escaped(root_session["id"]),
                        "org.freedesktop.login1.Session", "TakeControl", "b", "false", user=NOBODY)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("Access denied", r.err)
        # Devices only through control of one's own session.
        r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1/session/" + self.escaped(mine["id"]),
                        "org.freedesktop.login1.Session", "TakeDevice", "uu", "1", "3", user=NOBODY)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("not in control", r.err)
        # Powering off is root's.
        r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                        "PowerOff", "b", "false", user=NOBODY)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("Access denied", r.err)
        r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                        "CanPowerOff", user=NOBODY)
        self.assertEqual(r.out.strip(), 's "no"')
        r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                        "CanPowerOff")
        self.assertEqual(r.out.strip(), 's "yes"')
        self.assertIsNone(self.rt.proc.poll(), "the runtime still runs")

    def test_terminate_session_ends_its_processes_and_the_session(self):
        answer, pid = self.login(0, "tty", 8)
        r = self.client("loginctl", "terminate-session", answer["id"])
        self.assertExit(r, 0)
        self.wait(lambda: answer["id"] not in self.sessions(), "the session to be gone")
        self.wait(lambda: self.ended(pid), "its leader to be terminated")

    @staticmethod
    def escaped(sid):
        return "".join(c if c.isalnum() and not (i == 0 and c.isdigit()) else f"_{ord(c):02x}" for i, c in enumerate(sid))

class StrictUmask(Login1TestCase):
    """A runtime started with umask 077 still writes the sd-login files for everyone to read: dbus-daemon (as
    messagebus) reads users/UID for each new connection once seats/ exists, and refuses the connections of a user
    whose file it cannot read; sd-login's readers (loginctl, libseat, mutter) run as the user."""
    RUNTIME_UMASK = 0o077

    def test_the_files_are_world_readable_and_the_bus_takes_new_connections(self):
        answer, pid = self.login()
        self.assertNotIn("error", answer, answer)
        sid = answer["id"]
        for path in ("/run/systemd/sessions", "/run/systemd/users", "/run/systemd/seats",
                     f"/run/systemd/sessions/{sid}", f"/run/systemd/users/{NOBODY}", "/run/systemd/seats/seat0"):
            r = self.client("stat", "-c", "%a", path)
            self.assertExit(r, 0)
            self.assertEqual(int(r.out, 8) & 0o044, 0o044, f"{path} is {r.out.strip()}")
        # As the user itself and as messagebus (what dbus-daemon runs as).
        for reader in (NOBODY, pwd.getpwnam("messagebus").pw_uid):
            r = self.client("cat", f"/run/systemd/users/{NOBODY}", user=reader)
            self.assertExit(r, 0)
            self.assertIn("ONLINE_SEATS=seat0", r.out)
        # New connections of root and of the logged-in user are taken (Hello passes dbus-daemon's at_console check).
        for uid in (None, NOBODY):
            r = self.client("dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.DBus",
                            "/org/freedesktop/DBus", "org.freedesktop.DBus.GetId", user=uid)
            self.assertExit(r, 0)
        r = self.client("loginctl", "list-sessions", "--no-legend", user=NOBODY)
        self.assertExit(r, 0)
        self.assertIn(sid, r.out)



class InhibitorTestCase(Login1TestCase):
    def inhibit(self, what, mode, who="tester", why="testing", user=None):
        """Debian's systemd-inhibit holding an inhibitor around a long sleep; returns its pid in the namespace."""
        fd, out = tempfile.mkstemp(prefix="inhibit.", suffix=".out", dir=self.rt.dir)
        os.close(fd)
        pid = self.rt.spawn("systemd-inhibit", f"--what={what}", f"--who={who}", f"--why={why}", f"--mode={mode}",
                            "sleep", "1000", out=out, err=out + ".err", user=user)
        self.addCleanup(lambda: self.rt.finish(pid) if not self.ended(pid) else None)
        return pid, out

    def release(self, pid):
        """Ends a systemd-inhibit (SIGTERM: it lets SIGINT go to its command) and so closes its descriptor."""
        self.client("kill", "-TERM", str(pid))
        self.wait(lambda: self.ended(pid), f"systemd-inhibit {pid} to end")

    def inhibitors(self):
        r = self.client("busctl", "--json=short", "call", *LOGIN1, "/org/freedesktop/login1",
                        "org.freedesktop.login1.Manager", "ListInhibitors")
        self.assertExit(r, 0)
        return json.loads(r.out)["data"][0]

    def manager_property(self, name):
        r = self.client("busctl", "--json=short", "get-property", *LOGIN1, "/org/freedesktop/login1",
                        "org.freedesktop.login1.Manager", name)
        self.assertExit(r, 0)
        return json.loads(r.out)["data"]

    def runtime_runs(self):
        return not self.ended(self.rt.runtime_pid)


class Inhibitors(InhibitorTestCase):
    def test_an_inhibitor_lasts_as_long_as_its_descriptor(self):
        pid, _ = self.inhibit("shutdown:sleep", "delay", who="editor", why="saving files")
        self.wait(lambda: len(self.inhibitors()) == 1, "the inhibitor to be listed")
        what, who, why, mode, uid, holder = self.inhibitors()[0]
        self.assertEqual((what, who, why, mode, uid), ("shutdown:sleep", "editor", "saving files", "delay", 0))
        self.assertEqual(holder, pid, "the pid of the caller")
        self.assertEqual(self.manager_property("DelayInhibited"), "shutdown:sleep")
        self.assertEqual(self.manager_property("BlockInhibited"), "")
        self.assertEqual(self.manager_property("NCurrentInhibitors"), 1)
        r = self.client("systemd-inhibit", "--list", "--no-pager")
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"(?m)^editor\s+0\s+root\s+\d+\s+\S+\s+shutdown:sleep\s+saving files\s+delay$")
        self.assertIn("1 inhibitors listed.", r.out)
        r = self.client("sh", "-c", "cd /run/systemd/inhibit && for f in *; do case $f in *.ref) ;; *) cat $f;; esac; "
                        "done; test -p $f")
        self.assertIn("WHO=editor", r.out)
        self.assertIn("MODE=delay", r.out)
        # Its holder ends: the FIFO hangs up and the inhibitor is gone, files and all.
        self.release(pid)
        self.wait(lambda: self.inhibitors() == [], "the inhibitor to go with its descriptor")
        self.assertEqual(self.manager_property("DelayInhibited"), "")
        self.assertEqual(self.client("sh", "-c", "ls -A /run/systemd/inhibit").out, "")

    def test_blocking_needs_root_or_a_local_session_and_bad_requests_are_refused(self):
        r = self.client("systemd-inhibit", "--what=shutdown", "--mode=block", "true", user=NOBODY)
        self.assertExit(r, 1)
        self.assertIn("Access denied", r.err)
        # Delay is anyone's.
        pid, _ = self.inhibit("sleep", "delay", user=NOBODY)
        self.wait(lambda: [i[4] for i in self.inhibitors()] == [NOBODY], "nobody's delay inhibitor")
        self.release(pid)
        self.wait(lambda: self.inhibitors() == [], "it to go")
        # With a session on seat0, the user may block.
        answer, login_pid = self.login()
        self.assertNotIn("error", answer, answer)
        pid, _ = self.inhibit("handle-power-key", "block", user=NOBODY)
        self.wait(lambda: [(i[0], i[3], i[4]) for i in self.inhibitors()] == [("handle-power-key", "block", NOBODY)],
                  "nobody's block inhibitor")
        self.release(pid)
        self.wait(lambda: self.inhibitors() == [], "it to go")
        for args, error in ((["reboot", "me", "x", "block"], "Invalid what specification."),
                            (["shutdown", "me", "x", "sometimes"], "Invalid mode specification."),
                            (["handle-power-key", "me", "x", "delay"], "Delay inhibitors only supported"),
                            (["shutdown", "me", "x" * 5000, "delay"], "too long")):
            r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                            "Inhibit", "ssss", *args)
            self.assertNotEqual(r.rc, 0, r)
            self.assertIn(error, r.err)
        self.assertEqual(self.inhibitors(), [])

    def test_one_user_cannot_take_every_inhibitor(self):
        # busctl gets the descriptor and exits, so each inhibitor goes at once: hold them in one process instead.
        script = ("import dbus, sys\n"
                  "m = dbus.Interface(dbus.SystemBus().get_object('org.freedesktop.login1', '/org/freedesktop/login1'),"
                  " 'org.freedesktop.login1.Manager')\nfds = []\n"
                  "try:\n    for i in range(200):\n        fds.append(m.Inhibit('sleep', 'hog', str(i), 'delay'))\n"
                  "except dbus.DBusException as e:\n    print(len(fds), e.get_dbus_name())\n")
        r = self.client("python3", "-c", script, user=NOBODY)
        self.assertExit(r, 0)
        self.assertEqual(r.out.split(), ["64", "org.freedesktop.DBus.Error.LimitsExceeded"])
        self.wait(lambda: self.inhibitors() == [], "the hog's inhibitors to go with it")
        pid, _ = self.inhibit("sleep", "delay")
        self.wait(lambda: len(self.inhibitors()) == 1, "root still takes one")

    def test_a_block_inhibitor_holds_root_back_only_when_asked(self):
        # Another user's (logind lets a caller go past their own blocks): nobody, with a session on seat0.
        answer, _ = self.login()
        self.assertNotIn("error", answer, answer)
        pid, _ = self.inhibit("shutdown", "block", who="backup", why="writing the archive", user=NOBODY)
        self.wait(lambda: len(self.inhibitors()) == 1, "the inhibitor")
        # systemctl's own check (client-side, from ListInhibitors), as a non-root user on a tty would get.
        r = self.client("systemctl", "poweroff", "--check-inhibitors=yes")
        self.assertExit(r, 1)
        self.assertIn('Operation inhibited by "backup"', r.err)
        self.assertIn('reason is "writing the archive"', r.err)
        # login1's check: root asks to be held to inhibitors (SD_LOGIND_ROOT_CHECK_INHIBITORS).
        r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                        "PowerOffWithFlags", "t", "1")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("Access denied", r.err)  # busctl prints AccessDenied so, whatever its message
        self.assertIn("refused: Access denied to root due to active block inhibitor", self.rt.console())
        self.assertFalse(self.manager_property("PreparingForShutdown"))
        self.assertTrue(self.runtime_runs())


class InhibitorsOverABusRestart(InhibitorTestCase):
    def test_inhibitors_survive_the_system_bus_restarting(self):
        pid, _ = self.inhibit("shutdown", "block", who="keeper", why="kept")
        self.wait(lambda: len(self.inhibitors()) == 1, "the inhibitor")
        self.rt.kill_bus()
        self.rt.start_bus()
        self.rt.wait_dbus_ready(timeout=20)
        # The new connection's login1 took it over from /run/systemd/inhibit and watches its FIFO again.
        self.assertEqual([(i[0], i[1], i[3], i[5]) for i in self.inhibitors()], [("shutdown", "keeper", "block", pid)])
        self.assertEqual(self.manager_property("BlockInhibited"), "shutdown")
        self.release(pid)
        self.wait(lambda: self.inhibitors() == [], "the carried-over inhibitor to go with its descriptor")


class DelayedShutdown(InhibitorTestCase):
    def test_a_delay_inhibitor_holds_the_shutdown_until_it_lets_go(self):
        monitor_out = os.path.join(self.rt.dir, "monitor.out")
        monitor = self.rt.spawn("gdbus", "monitor", "--system", "--dest", "org.freedesktop.login1", out=monitor_out,
                                err=monitor_out + ".err")
        self.addCleanup(lambda: self.rt.finish(monitor))
        def monitored():
            with open(monitor_out) as f:
                return f.read()
        self.wait(lambda: "is owned by" in monitored(), "the monitor to subscribe")
        pid, _ = self.inhibit("shutdown", "delay", who="db", why="flushing")
        self.wait(lambda: len(self.inhibitors()) == 1, "the inhibitor")
        r = self.client("systemctl", "poweroff")  # as root: logind's PowerOffWithFlags, no client-side check
        self.assertExit(r, 0)
        self.wait(lambda: "PrepareForShutdown (true,)" in monitored(), "PrepareForShutdown(true)")
        self.assertTrue(self.manager_property("PreparingForShutdown"))
        time.sleep(1)
        self.assertTrue(self.runtime_runs(), "held back while the delay inhibitor is held")
        self.assertIn("waits up to 5000 ms for its delay inhibitors", self.rt.console())
        self.release(pid)
        self.wait(lambda: not self.runtime_runs(), "the shutdown to go on once the inhibitor let go", timeout=15)
        self.assertIn("poweroff goes ahead", self.rt.console())
        self.assertNotIn("shutting down anyway", self.rt.console())


class DelayOutlasted(InhibitorTestCase):
    def test_a_delay_inhibitor_that_never_lets_go_holds_the_shutdown_for_five_seconds_at_most(self):
        self.inhibit("shutdown", "delay", who="stuck", why="never done")
        self.wait(lambda: len(self.inhibitors()) == 1, "the inhibitor")
        r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                        "RebootWithFlags", "t", "0")
        self.assertExit(r, 0)
        r = self.client("busctl", "call", *LOGIN1, "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                        "PowerOff", "b", "false")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("already a shutdown", r.err)
        self.wait(lambda: not self.runtime_runs(), "the shutdown after InhibitDelayMaxUSec", timeout=20)
        self.assertIn("delay inhibitors still held after 5000 ms; shutting down anyway", self.rt.console())
        self.assertIn("reboot goes ahead", self.rt.console())

if __name__ == "__main__":
    unittest.main(verbosity=2)
