"""Issue 14 §2 and §3: what a local user may take from the runtime through the control socket, and read.
Every attack runs as `nobody` against a runtime started by root: thousands of connections, requests never read,
log followers that never read, descriptor exhaustion. The runtime stays cheap and responsive, drops the slow
clients, root still gets in, and a spawn that fails for lack of descriptors is retried, not held against the
service. Reading a service's log needs root or the log group; `status` stays public without log lines. User
mode refuses a state directory in /tmp that is not its own."""
import grp
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from runtime_harness import CTL, RUNTIME, Runtime, RuntimeTestCase, Timeout

NOBODY = 65534

# The runtime's memory bound under attack. In tools/test's sanitizer pass (DYNAMOD_SANITIZED=1) ASan keeps 256 MB
# of freed memory in quarantine and adds redzones and shadow (measured 600-760 MB where the plain build peaks at
# 100-115 MB): there the bound only says "bounded" (unbounded, the followers reached 2.8 GB in the plain build).
MEMORY_BOUND_MB = 1500 if os.environ.get("DYNAMOD_SANITIZED") == "1" else 300

# Runs as the attacker: opens N connections, sends each its requests, never reads, and holds everything until
# its stdin closes. Prints one JSON line once all are open.
ATTACKER = r'''
import json, resource, socket, struct, sys
path, n, mode, per = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
arg = sys.argv[5] if len(sys.argv) > 5 else ""
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
def s16(t):
    d = t.encode()
    return struct.pack("<H", len(d)) + d
def frame(rid, command, args=(), flags=0):
    body = struct.pack("<I", rid) + s16(command) + struct.pack("<H", len(args)) + b"".join(s16(a) for a in args)
    body += struct.pack("<I", flags)
    return struct.pack("<IBB", len(body) + 2, 1, 0x01) + body
conns, failed = [], 0
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError:
        failed += 1
        s.close()
        continue
    s.setblocking(False)
    try:
        if mode == "tree":
            for j in range(per):
                s.send(frame(j + 1, "tree"))
        elif mode == "follow":
            s.send(frame(1, "logs", [arg, "0"], 2))
        elif mode == "refused":  # requests nobody may make
            s.send(b"".join(frame(j + 1, "logs" if j % 2 else "stop", [arg]) for j in range(per)))
    except OSError:
        pass
    conns.append(s)
print(json.dumps({"connected": len(conns), "failed": failed}), flush=True)
sys.stdin.read()
'''


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, clock ticks


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def find_node(node, kind):
    if node.get("kind") == kind:
        return node
    for child in node.get("children", []):
        found = find_node(child, kind)
        if found:
            return found
    return None


class Attack:
    """`n` connections of `nobody` (or another uid/gid) held open until stop()."""

    def __init__(self, test, rt, n, mode="idle", per=0, arg="", uid=NOBODY, gid=NOBODY):
        self.script = os.path.join(rt.dir, "attacker.py")
        with open(self.script, "w") as f:
            f.write(ATTACKER)
        os.chmod(rt.dir, 0o755)
        os.chmod(self.script, 0o644)
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
               sys.executable, self.script, rt.socket, str(n), mode, str(per), arg]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        test.addCleanup(self.stop)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("the attacker did not start")
        self.result = json.loads(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ClientLimits(RuntimeTestCase):
    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    def sessions(self, rt):
        r = rt.ctl("--json", "tree", check=True)
        return find_node(json.loads(r.stdout), "control_listener")["sessions"]

    def cpu_over(self, pid, seconds=5.0):
        """CPU seconds the process used over `seconds` of wall time."""
        tick = os.sysconf("SC_CLK_TCK")
        before = proc_stat(pid)
        start = time.monotonic()
        time.sleep(seconds)
        used = (proc_stat(pid) - before) / tick
        return used, time.monotonic() - start

    def test_a_thousand_connections_of_one_user_cost_little_and_root_still_gets_in(self):
        rt = self.runtime({"svc": '[service]\nname = "svc"\nexec = ["/bin/sleep", "1000"]\n'})
        rt.wait_state("svc", "running")
        pid = rt.proc.pid
        log_before = len(rt.runtime_log())
        attack = Attack(self, rt, 1100)
        self.assertEqual(attack.result["connected"] + attack.result["failed"], 1100)
        used, wall = self.cpu_over(pid)
        print(f"\n  1100 connections: {used:.2f}s CPU in {wall:.1f}s", file=sys.stderr)
        self.assertLess(used, 0.2 * wall, f"the runtime used {used:.2f}s of CPU in {wall:.1f}s under the attack")
        self.assertLess(len(rt.runtime_log()) - log_before, 64 * 1024, "the runtime log is not flooded")
        r = rt.ctl("status", "svc")
        self.assertEqual(r.returncode, 0, r.stderr)
        # 64 of nobody, our query, perhaps the previous query still ending.
        self.assertLessEqual(self.sessions(rt), 64 + 2, "one uid holds at most 64 sessions")
        self.assertIn("refusing a connection of uid 65534", rt.runtime_log())
        # A refused client is told why.
        r = rt.ctl("list", user=NOBODY)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("too many connections", r.stderr)
        attack.stop()
        rt.wait_for(lambda: self.sessions(rt) == 1, 15, "the attacker's sessions to end")
        self.assertEqual(rt.ctl("list", user=NOBODY).returncode, 0, "room again once they left")

    def test_idle_sessions_cost_little_memory(self):
        rt = self.runtime({"svc": '[service]\nname = "svc"\nexec = ["/bin/sleep", "1000"]\n'})
        rt.wait_state("svc", "running")
        pid = rt.proc.pid
        rt.ctl("list", check=True)
        before = rss_mb(pid)
        # nobody's 64, then root's (an admin may hold up to 1088 in all).
        nobody_idle = Attack(self, rt, 64)
        root_idle = Attack(self, rt, 1000, uid=0, gid=0)
        self.assertEqual(root_idle.result["connected"], 1000)
        rt.wait_for(lambda: self.sessions(rt) >= 1000 + 64, 30, "the idle sessions to be accepted")
        grown = rss_mb(pid) - before
        print(f"\n  1064 idle sessions: +{grown:.1f} MB", file=sys.stderr)
        self.assertLess(grown, 1064 * 24 / 1024, f"1064 idle sessions grew the runtime by {grown:.1f} MB")

    def test_clients_that_send_trees_and_never_read_are_dropped_and_cost_bounded_memory(self):
        services = {f"s{i}": f'[service]\nname = "s{i}"\nexec = ["/bin/sleep", "1000"]\n' for i in range(60)}
        rt = self.runtime(services)
        for name in services:
            rt.wait_state(name, "running", timeout=60)
        pid = rt.proc.pid
        attack = Attack(self, rt, 200, mode="tree", per=32)
        peak, busiest = 0, 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            peak = max(peak, rss_mb(pid))
            # Root's tree is served meanwhile (it waits for no slot), and shows how many the attackers run.
            r = rt.ctl("--json", "tree", check=True)
            busiest = max(busiest, find_node(json.loads(r.stdout), "control_listener")["trees_in_flight"])
            time.sleep(0.2)
        print(f"\n  200 x 32 trees: peak RSS {peak:.0f} MB, at most {busiest} trees at once", file=sys.stderr)
        self.assertLessEqual(busiest, 4, "a few trees at a time for all unprivileged clients")
        self.assertLess(peak, MEMORY_BOUND_MB, f"runtime RSS reached {peak:.0f} MB")
        attack.stop()
        # The runtime answers root within seconds after the clients left (it used to stay busy for minutes).
        start = time.monotonic()
        r = subprocess.run([CTL, "--socket", rt.socket, "list"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        print(f"  answered root {time.monotonic() - start:.2f}s after they left", file=sys.stderr)
        self.assertLess(time.monotonic() - start, 10, "answered within seconds")
        rt.wait_for(lambda: self.sessions(rt) == 1, 15, "the departed clients' sessions to end")
        used, wall = self.cpu_over(pid, 3)
        print(f"  after they left: {used:.2f}s CPU in {wall:.1f}s", file=sys.stderr)
        self.assertLess(used, 0.2 * wall, f"still busy after the clients left: {used:.2f}s CPU in {wall:.1f}s")
        self.assertLess(rss_mb(pid), MEMORY_BOUND_MB)

    def test_log_followers_that_never_read_are_dropped(self):
        chatty = textwrap.dedent('''\
            [service]
            name = "chatty"
            exec = ["/bin/sh", "-c", "while :; do seq -f 'line %g of a chatty service, padded to be a bit longer' 1 3000; sleep 0.02; done"]
            ''')
        rt = Runtime({"chatty": chatty})
        self.addCleanup(rt.cleanup)
        # nobody's own group may read logs here, so its followers are served (and must be dropped).
        rt.runtime_args = ["--log-group", grp.getgrgid(NOBODY).gr_name]
        rt.start()
        rt.wait_state("chatty", "running")
        pid = rt.proc.pid
        attack = Attack(self, rt, 50, mode="follow", arg="chatty")
        self.assertEqual(attack.result["connected"], 50)
        peak, all_dropped = 0, False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all_dropped:
            peak = max(peak, rss_mb(pid))
            # Only our own query's session left (the previous query's may still be ending: 1 suffices once).
            all_dropped = self.sessions(rt) == 1
            time.sleep(0.2)
        print(f"\n  50 followers: peak RSS {peak:.0f} MB", file=sys.stderr)
        self.assertIsNone(rt.proc.poll(), "the runtime is still there")
        self.assertIsNone(attack.proc.poll(), "the attacker still holds its connections")
        self.assertTrue(all_dropped, "every follower that does not read was dropped")
        self.assertLess(peak, MEMORY_BOUND_MB, f"runtime RSS reached {peak:.0f} MB")
        self.assertIn("does not read the log lines it follows", rt.runtime_log(), rt.runtime_log()[-3000:])
        r = rt.ctl("status", "chatty")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_a_spawn_out_of_descriptors_is_retried_not_counted(self):
        victim = textwrap.dedent('''\
            [service]
            name = "victim"
            exec = ["/bin/sh", "-c", "echo run >> @WORK@/runs; exec sleep 1000"]
            [restart]
            delay = "100ms"
            max-restarts = 2
            max-restart-window = "60s"
            ''')
        rt = self.runtime({"victim": victim})
        first = rt.wait_state("victim", "running")["pid"]
        pid = rt.proc.pid
        rt.ctl("list", check=True)
        # A test-only lower descriptor limit (as under a PID 1 that leaves the kernel's 4096, with fewer services):
        # the sessions that 17 unprivileged users may open (1024 in all) then use up what the runtime has left.
        # (Above 1000: the spawn parks descriptors there.)
        limit = max(1010, fd_count(pid) + 1000)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
        log_before = len(rt.runtime_log())
        attacks = [Attack(self, rt, 64, uid=NOBODY - i, gid=NOBODY) for i in range(17)]
        rt.wait_for(lambda: fd_count(pid) >= limit - 1, 30, "the runtime's descriptors to run out")
        used, wall = self.cpu_over(pid)
        print(f"\n  out of descriptors: {used:.2f}s CPU in {wall:.1f}s", file=sys.stderr)
        self.assertLess(used, 0.2 * wall, f"out of descriptors the runtime used {used:.2f}s CPU in {wall:.1f}s")
        os.kill(first, 9)  # its restart now finds no descriptors
        rt.wait_for(lambda: rt.runtime_log().count("short of descriptors: retrying", log_before) +
                    rt.runtime_log().count("short of resources: retrying", log_before) >= 4, 30,
                    "the restart to be retried several times")
        self.assertLess(len(rt.runtime_log()) - log_before, 64 * 1024, "the runtime log is not flooded")
        for attack in attacks:
            attack.stop()
        rt.wait_for(lambda: rt.list()["victim"]["state"] == "running" and rt.list()["victim"]["pid"] != first, 60,
                    "victim to run again once descriptors are back")
        self.assertNotIn("gave up", rt.runtime_log())
        self.assertEqual(rt.read_work("runs").count("run"), 2, "one restart, not one per failed spawn")


def open_files_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    return None


class FileLimits(RuntimeTestCase):
    def test_the_runtime_raises_its_soft_limit_and_services_get_the_inherited_one(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        self.assertGreater(hard, 1024, "the test needs a hard limit above 1024")
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # as systemd and PID 1 leave it
        plain = '[service]\nname = "plain"\nexec = ["/bin/sleep", "1000"]\n'
        own = ('[service]\nname = "own"\nexec = ["/bin/sleep", "1000"]\n'
               '[security]\nrlimits = { nofile = 4096 }\n')
        rt = self.runtime({"plain": plain, "own": own})
        self.assertEqual(open_files_limit(rt.proc.pid), (hard, hard), "the runtime's soft limit is its hard one")
        plain_pid = rt.wait_state("plain", "running")["pid"]
        own_pid = rt.wait_state("own", "running")["pid"]
        self.assertEqual(open_files_limit(plain_pid), (1024, hard), "a service gets the inherited soft limit")
        self.assertEqual(open_files_limit(own_pid)[0], 4096, "unless its configuration sets one")


class WhoReadsWhat(RuntimeTestCase):
    def test_logs_need_root_or_the_log_group_and_status_stays_public_without_lines(self):
        # The line is computed, so that it is not in the (public) definition that `status` shows.
        svc = '[service]\nname = "svc"\nexec = ["/bin/sh", "-c", "echo secret-$((6*7))-line; exec sleep 1000"]\n'
        rt = self.runtime({"svc": svc})
        rt.wait_state("svc", "running")
        rt.wait_for(lambda: "secret-42-line" in rt.ctl("logs", "svc").stdout, 15, "the line in the log")
        r = rt.ctl("logs", "svc", user=NOBODY)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertIn("permission denied", r.stderr)
        self.assertNotIn("secret-42-line", r.stdout + r.stderr)
        r = rt.ctl("logs", "-f", "svc", user=NOBODY)
        self.assertEqual(r.returncode, 4)
        self.assertNotIn("secret-42-line", r.stdout + r.stderr)
        r = rt.ctl("--json", "status", "svc", user=NOBODY)
        self.assertEqual(r.returncode, 0, r.stderr)
        status = json.loads(r.stdout)
        self.assertEqual(status["state"], "running")
        self.assertEqual(status["log"], [])
        self.assertNotIn("secret-42-line", r.stdout)
        r = rt.ctl("--json", "status", "svc")
        self.assertIn("secret-42-line", r.stdout, "root sees the lines")

    def test_refused_requests_do_not_flood_the_runtime_log(self):
        rt = self.runtime({"svc": '[service]\nname = "svc"\nexec = ["/bin/sleep", "1000"]\n'})
        rt.wait_state("svc", "running")
        log_before = len(rt.runtime_log())
        attack = Attack(self, rt, 64, mode="refused", per=200, arg="svc")
        self.assertEqual(attack.result["connected"], 64)
        # Every one of the 12800 requests is refused; the log says so a few times, with counts.
        rt.wait_for(lambda: "may not" in rt.runtime_log()[log_before:], 15, "a refusal in the log")
        attack.stop()
        self.assertEqual(rt.list()["svc"]["state"], "running")
        grown = len(rt.runtime_log()) - log_before
        self.assertLess(grown, 16 * 1024, f"12800 refused requests wrote {grown} bytes of log")

    def test_the_log_group_may_read_logs(self):
        svc = '[service]\nname = "svc"\nexec = ["/bin/sh", "-c", "echo group-readable-line; exec sleep 1000"]\n'
        rt = Runtime({"svc": svc})
        self.addCleanup(rt.cleanup)
        rt.runtime_args = ["--log-group", grp.getgrgid(NOBODY).gr_name]
        rt.start()
        rt.wait_state("svc", "running")
        rt.wait_for(lambda: "group-readable-line" in rt.ctl("logs", "svc", user=NOBODY).stdout, 15,
                    "nobody (in the log group) to read the line")


class UserModeStateDir(unittest.TestCase):
    """The default user-mode directory /tmp/dynamod-<uid> must be the user's own, 0700, no symlink."""

    UID = 64999  # a uid nobody uses: /tmp/dynamod-64999 is ours to make

    def setUp(self):
        self.path = f"/tmp/dynamod-{self.UID}"
        self.assertFalse(os.path.lexists(self.path), f"{self.path} exists already")
        self.addCleanup(self.remove)
        self.home = tempfile.mkdtemp(prefix="dynamod-home.")
        os.chmod(self.home, 0o755)
        self.addCleanup(shutil.rmtree, self.home, True)

    def remove(self):
        if os.path.islink(self.path) or os.path.isfile(self.path):
            os.unlink(self.path)
        elif os.path.isdir(self.path):
            shutil.rmtree(self.path, ignore_errors=True)

    def run_runtime(self, timeout=10):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home}
        cmd = ["setpriv", f"--reuid={self.UID}", f"--regid={self.UID}", "--clear-groups", RUNTIME, "--user"]
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)

    def assert_refused(self, why):
        p = self.run_runtime()
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.communicate()
            raise AssertionError(f"the runtime started in {self.path} instead of refusing")
        self.assertEqual(p.returncode, 1, out)
        self.assertIn("refusing to start", out)
        self.assertIn(why, out)

    def test_a_directory_of_another_user_is_refused(self):
        os.mkdir(self.path, 0o700)  # root's
        self.assert_refused("belongs to uid 0")

    def test_a_directory_open_to_others_is_refused(self):
        os.mkdir(self.path)
        os.chown(self.path, self.UID, self.UID)
        os.chmod(self.path, 0o777)
        self.assert_refused("mode 0777")

    def test_a_symlink_is_refused(self):
        target = os.path.join(self.home, "elsewhere")
        os.mkdir(target, 0o700)
        os.chown(target, self.UID, self.UID)
        os.symlink(target, self.path)
        self.assert_refused("symbolic link")

    def test_a_missing_directory_is_made_private_and_used(self):
        p = self.run_runtime()
        try:
            sock = os.path.join(self.path, "control.sock")
            deadline = time.monotonic() + 15
            while not os.path.exists(sock):
                if p.poll() is not None or time.monotonic() > deadline:
                    raise Timeout(f"the runtime did not start: {p.stdout.read() if p.poll() is not None else ''}")
                time.sleep(0.05)
            st = os.lstat(self.path)
            self.assertEqual(st.st_uid, self.UID)
            self.assertEqual(st.st_mode & 0o7777, 0o700)
        finally:
            os.killpg(p.pid, 15)
            p.wait(timeout=30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
