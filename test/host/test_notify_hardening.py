"""Issue 14 §1 and the notify bullet of §2: a service (and everything under it) is untrusted. MAINPID= may name only
a process of the service itself and, by default, only the main process is heard (notify-access); WATCHDOG=trigger
without a watchdog must not abort the runtime; stop-exec and the exec readiness check run as the service, not as
root; descriptors sent to the notify socket by a process that belongs to no service are not kept.
Unprivileged attacks run as nobody against a runtime started by root."""
import json
import os
import signal
import socket
import subprocess
import sys
import unittest

from runtime_harness import RuntimeTestCase, sh

NOBODY = 65534

# Sends each argument as one sd_notify datagram from this very process, then execs the rest after "--" (if any).
SENDER = r'''
import os, socket, sys
args = sys.argv[1:]
rest = args[args.index("--") + 1:] if "--" in args else []
messages = args[:args.index("--")] if "--" in args else args
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for m in messages:
    s.sendto(m.replace("\\n", "\n").encode(), os.environ["NOTIFY_SOCKET"])
if rest:
    os.execvp(rest[0], rest)
# The runtime attributes a datagram by the sender's process ancestry when it reads it: a sender gone by then
# belongs to no service (ignored, not refused). Stay a moment, as a real daemon does, so the test sees the verdict.
import time
time.sleep(1)
'''


def toml_array(items):
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def alive(pid):
    """True while `pid` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class NotifyHardening(RuntimeTestCase):
    def setUp(self):
        # A root-owned process the test started: what a hostile service would like the runtime to signal.
        self.victim = subprocess.Popen(["sleep", "1000"])
        self.addCleanup(self.stop_victim)

    def stop_victim(self):
        if self.victim.poll() is None:
            self.victim.kill()
        self.victim.wait()

    def sender_script(self, rt):
        path = os.path.join(rt.work, "send.py")
        with open(path, "w") as f:
            f.write(SENDER)
        os.chmod(path, 0o755)
        return path

    def prepared(self, services):
        """A runtime with the sender script in place and a work directory nobody can write to."""
        rt = self.runtime(services, wait=False)
        os.chmod(rt.work, 0o777)
        self.sender_script(rt)
        rt.wait_for(lambda: os.path.exists(rt.socket) and rt.try_list() is not None, 15, "the control socket")
        return rt

    def logs(self, rt):
        return rt.console() + rt.runtime_log()

    def hostile(self, name, messages, extra=""):
        """A service running as nobody whose main process sends `messages` itself, then becomes a sleep."""
        exec_ = toml_array(["/usr/bin/python3", "@WORK@/send.py", *messages, "--", "sleep", "1000"])
        return f"""
            [service]
            name = "{name}"
            exec = {exec_}
            [service.user]
            user = "nobody"
            [restart]
            policy = "temporary"
            {extra}
            """

    def test_mainpid_naming_a_root_process_is_refused_and_stop_stops_the_real_service(self):
        v = self.victim.pid
        rt = self.prepared({"hostile": self.hostile("hostile", [f"MAINPID={v}", "STATUS=sent"])})
        rt.wait_for(lambda: rt.service("hostile")["status_text"] == "sent", 15, "the MAINPID= to be handled")
        real = rt.service("hostile")["pid"]
        self.assertNotEqual(real, v, "the runtime must not take the victim as the service's main process")
        self.assertRegex(self.logs(rt), rf"MAINPID={v} refused: the process is not (a descendant|in the service)")
        rt.ctl("stop", "hostile", check=True)
        rt.wait_for(lambda: not alive(real), 15, "the real service process to end")
        self.assertIsNone(self.victim.poll(), "the victim was signalled")
        self.assertNotEqual(rt.service("hostile")["state"], "stopping")
        rt.shutdown()
        self.assertIsNone(self.victim.poll(), "the victim was signalled at shutdown")

    def test_mainpid_with_watchdog_trigger_does_not_kill_the_victim(self):
        v = self.victim.pid
        rt = self.prepared({
            "hostile": self.hostile("hostile", [f"MAINPID={v}\\nWATCHDOG=trigger"]),
            "bystander": '[service]\nname = "bystander"\nexec = ["/bin/sleep", "1000"]\n',
        })
        # The trigger ends the service itself (it has no watchdog: as systemd, it acts as if one expired).
        rt.wait_for(lambda: rt.service("hostile")["last_exit"].startswith("watchdog"), 15, "the watchdog exit")
        self.assertIsNone(self.victim.poll(), "WATCHDOG=trigger after MAINPID=<victim> killed the victim")
        self.assertEqual(rt.wait_state("bystander", "running")["restarts"], 0)

    def test_watchdog_trigger_without_a_watchdog_does_not_abort_the_runtime(self):
        rt = self.prepared({
            "trigger": f"""
                [service]
                name = "trigger"
                exec = {toml_array(["/usr/bin/python3", "@WORK@/send.py", "WATCHDOG=trigger", "--", "sleep", "1000"])}
                [restart]
                policy = "temporary"
                """,
            "bystander": '[service]\nname = "bystander"\nexec = ["/bin/sleep", "1000"]\n',
        })
        rt.wait_for(lambda: rt.service("trigger")["last_exit"].startswith("watchdog"), 15, "the watchdog exit")
        self.assertIsNone(rt.proc.poll(), f"the runtime died:\n{rt.console()[-3000:]}")
        before = rt.wait_state("bystander", "running")["pid"]
        rt.ctl("restart", "bystander", check=True)
        rt.wait_pid_change("bystander", before)

    def grandchild_claim(self, access):
        """The main process (a shell) starts a sleep, and grandchildren (python under a subshell) name the victim,
        then the sleep, as the main process."""
        v = self.victim.pid
        return f"""
            [service]
            name = "claims"
            exec = {sh("sleep 1000 & echo $! > @WORK@/child.pid; "
                       "(python3 @WORK@/send.py MAINPID=" + str(v) + "; python3 @WORK@/send.py MAINPID=$!); "
                       "touch @WORK@/sent; wait")}
            [readiness]
            notify-access = "{access}"
            """

    def test_a_grandchilds_mainpid_is_refused_under_notify_access_main(self):
        rt = self.prepared({"claims": self.grandchild_claim("main")})
        shell = rt.wait_state("claims", "running")["pid"]
        rt.wait_file("sent")
        rt.wait_for(lambda: self.logs(rt).count("not the main process (notify-access = \"main\")") >= 1, 15,
                    "the refusal to be logged")
        self.assertEqual(rt.service("claims")["pid"], shell)
        self.assertIsNone(self.victim.poll())

    def test_a_pid_file_naming_someone_elses_process_is_not_taken(self):
        v = self.victim.pid
        rt = self.prepared({"forker": f'''
            [service]
            name = "forker"
            type = "forking"
            pid-file = "@WORK@/forker.pid"
            exec = {sh(f"echo {v} > @WORK@/forker.pid; exit 0")}
            [service.user]
            user = "nobody"
            [readiness]
            timeout = "1s"
            [restart]
            policy = "temporary"
            '''})
        rt.wait_for(lambda: rt.service("forker")["last_exit"].startswith("start failed"), 15, "the start to fail")
        self.assertIn("did not appear", rt.service("forker")["last_exit"])
        rt.shutdown()
        self.assertIsNone(self.victim.poll(), "the runtime signalled the process the pid file named")

    def test_refused_messages_are_counted_not_logged_each(self):
        rt = self.prepared({"chatty": f'''
            [service]
            name = "chatty"
            exec = {sh("(python3 @WORK@/send.py " + " ".join(f"STATUS={i}" for i in range(200)) + "); "
                       "touch @WORK@/sent; exec sleep 1000")}
            '''})
        rt.wait_file("sent")
        rt.wait_for(lambda: json.loads(rt.ctl("--json", "status", "chatty", check=True).stdout)["notify_refused"] == 200,
                    15, "200 refusals to be counted")
        warnings = [l for l in rt.console().splitlines() if "warning: chatty: notify message" in l]
        self.assertLessEqual(len(warnings), 5, "\n".join(warnings[:10]))
        self.assertEqual(rt.service("chatty")["status_text"], "", "a child's STATUS= was heard under notify-access=main")

    def test_a_descendant_may_be_named_under_notify_access_all_but_not_an_outsider(self):
        rt = self.prepared({"claims": self.grandchild_claim("all")})
        rt.wait_state("claims", "running")
        child = int(rt.wait_file("child.pid") and rt.read_work("child.pid"))
        rt.wait_for(lambda: rt.service("claims")["pid"] == child, 15, "the sleep to become the main process")
        rt.wait_for(lambda: f"MAINPID={self.victim.pid} refused" in self.logs(rt), 15, "the outsider to be refused")
        self.assertEqual(rt.service("claims")["pid"], child)
        rt.ctl("stop", "claims", check=True)
        rt.wait_for(lambda: not alive(child), 15, "the named main process to be stopped")
        self.assertIsNone(self.victim.poll())

    def test_mainpid_may_not_name_the_running_readiness_check(self):
        # The check runs in the service's cgroup (or under it), so "a process of the service" alone would pass;
        # it belongs to the probe, which reaps it: a main pid there would be one whose exit nobody reports.
        rt = self.prepared({"checked": f"""
            [service]
            name = "checked"
            exec = {sh("while [ ! -s @WORK@/check.pid ]; do sleep 0.05; done; "
                       "python3 @WORK@/send.py MAINPID=$(cat @WORK@/check.pid); touch @WORK@/sent; exec sleep 1000")}
            [readiness]
            type = "exec"
            check-exec = ["/bin/sh", "-c", "echo $$ > @WORK@/check.pid; sleep 30"]
            check-timeout = "60s"
            notify-access = "all"
            """})
        rt.wait_file("sent")
        check = int(rt.read_work("check.pid"))
        rt.wait_for(lambda: f"MAINPID={check} refused: it is the readiness check" in self.logs(rt), 15,
                    "the claim on the check to be refused")
        self.assertNotEqual(rt.service("checked")["pid"], check)

    def test_stop_exec_and_exec_check_run_as_the_service_and_under_its_seccomp_filter(self):
        def probe(what):
            return ["/bin/sh", "-c", f"id -u > @WORK@/{what}.uid; mkdir @WORK@/{what}.dir; echo $? > @WORK@/{what}.mkdir"
                    + ("; kill $MAINPID" if what == "stop" else "")]
        rt = self.prepared({"creds": f"""
            [service]
            name = "creds"
            exec = ["/bin/sleep", "1000"]
            [service.user]
            user = "nobody"
            [readiness]
            type = "exec"
            check-exec = {toml_array(probe("check"))}
            interval = "100ms"
            [shutdown]
            stop-exec = {toml_array(probe("stop"))}
            [security]
            seccomp-deny = ["mkdir", "mkdirat"]
            """})
        pid = rt.wait_state("creds", "running")["pid"]
        self.assertEqual(rt.read_work("check.uid").strip(), str(NOBODY), "the readiness check ran as root")
        self.assertNotEqual(rt.read_work("check.mkdir").strip(), "0", "the check escaped the seccomp filter")
        rt.ctl("stop", "creds", check=True)
        rt.wait_for(lambda: not alive(pid), 15, "the stop command to stop the service")
        self.assertEqual(rt.read_work("stop.uid").strip(), str(NOBODY), "the stop command ran as root")
        self.assertNotEqual(rt.read_work("stop.mkdir").strip(), "0", "the stop command escaped the seccomp filter")
        self.assertFalse(os.path.exists(os.path.join(rt.work, "stop.dir")))

    def notify_socket_stats(self, rt):
        tree = json.loads(rt.ctl("--json", "tree", check=True).stdout)
        found = []

        def walk(node):
            if isinstance(node, dict):
                if node.get("kind") == "notify_socket":
                    found.append(node)
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(tree)
        return found[0]

    def test_descriptors_from_a_process_of_no_service_are_not_kept(self):
        rt = self.prepared({"svc": '[service]\nname = "svc"\nexec = ["/bin/sleep", "1000"]\n'})
        first = rt.wait_state("svc", "running")["pid"]
        runtime_pid = rt.proc.pid
        fds_before = len(os.listdir(f"/proc/{runtime_pid}/fd"))
        received_before = self.notify_socket_stats(rt)["received"]
        flood = r'''
import array, os, resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
fd = os.open("/dev/null", os.O_RDONLY)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for i in range(16):
    while True:
        try:
            s.sendmsg([b"READY=1"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd] * 250))], 0,
                      sys.argv[1])
            break
        except OSError as e:  # ETOOMANYREFS: the runtime has not received the previous ones yet
            if e.errno not in (109, 11):
                raise
            time.sleep(0.01)
'''
        r = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                            sys.executable, "-c", flood, os.path.join(rt.state, "notify")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        rt.wait_for(lambda: self.notify_socket_stats(rt)["received"] >= received_before + 16, 15,
                    "the runtime to receive the 16 datagrams")
        fds_after = len(os.listdir(f"/proc/{runtime_pid}/fd"))
        self.assertLess(fds_after, fds_before + 50, f"the runtime holds {fds_after - fds_before} more descriptors")
        self.assertGreaterEqual(self.notify_socket_stats(rt)["fds_closed_unattributed"], 16 * 250)
        rt.ctl("restart", "svc", check=True)
        rt.wait_pid_change("svc", first)


if __name__ == "__main__":
    unittest.main()
