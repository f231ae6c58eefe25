"""Issue 14 §5: every request gets an answer, and nothing leaks or freezes (the real runtime in user mode)."""
import json
import os
import signal
import subprocess
import time
import unittest

from runtime_harness import CTL, Runtime, RuntimeTestCase, sh, tree_nodes

ANSWER_DEADLINE = 20  # seconds; the runtime's own safety net is minutes, every answer here comes from its owner


def sleeper(name, more=""):
    return f'[service]\nname = "{name}"\nexec = ["/bin/sleep", "1000"]\n{more}'


# A requirement that fails at once and is left failed by the root (degrade): its dependents are blocked.
BROKEN = """
    [service]
    name = "broken"
    exec = ["/nonexistent/brokend"]
    [restart]
    delay = "0"
    max-restarts = 0
    """
CLIENT = sleeper("client", '[dependencies]\nrequires = ["broken"]\n')


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def alive(pid):
    return proc_state(pid) not in (None, "Z")


class Answers(RuntimeTestCase):
    def tree(self, rt):
        r = rt.ctl("--json", "tree", check=True)
        return json.loads(r.stdout)

    def node(self, rt, kind):
        return next(n for n in tree_nodes(self.tree(rt)) if n.get("kind") == kind)

    def blocked_runtime(self):
        rt = self.runtime({"broken": BROKEN, "client": CLIENT})
        rt.wait_for(lambda: rt.list()["client"]["detail"].startswith("dependency failed: broken"), 15,
                    "client to be blocked by broken")
        return rt

    def test_start_and_restart_of_a_service_blocked_by_a_failed_requirement_answer_with_the_requirement(self):
        rt = self.blocked_runtime()
        # start of the blocked incarnation; restart (a new incarnation, blocked again); start after a stop.
        for args in (["start", "client"], ["restart", "client"], ["stop", "client"], ["start", "client"]):
            r = subprocess.run([CTL, "--socket", rt.socket, *args], capture_output=True, text=True,
                               timeout=ANSWER_DEADLINE)
            if args[0] == "stop":
                self.assertEqual(r.returncode, 0, r.stderr)
                continue
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(f"failed to {args[0]} client: dependency failed: broken", r.stdout + r.stderr)
        self.assertEqual(rt.list()["client"]["state"], "failed")
        self.assertEqual(rt.shutdown(), 0)

    def test_five_blocked_starts_all_answer_and_leave_no_session_behind(self):
        rt = self.blocked_runtime()
        clients = [subprocess.Popen([CTL, "--socket", rt.socket, "restart", "client"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for _ in range(5)]
        for c in clients:
            out, err = c.communicate(timeout=ANSWER_DEADLINE)
            self.assertNotEqual(c.returncode, 0)
            self.assertIn("dependency failed: broken", out + err)
        # Only the session answering this `tree` is left.
        rt.wait_for(lambda: self.node(rt, "control_listener")["sessions"] == 1, 10, "the sessions to end")
        self.assertEqual(rt.shutdown(), 0)

    def test_a_stopped_blocked_incarnation_leaves_no_subscription_at_the_tracker(self):
        rt = self.blocked_runtime()
        self.assertEqual(self.node(rt, "dependency_tracker")["waiting"], 1)
        rt.ctl("stop", "client", check=True)
        # The tracker monitors the incarnations: one that ended while it waited is no subscriber any more.
        rt.wait_for(lambda: self.node(rt, "dependency_tracker")["waiting"] == 0, 10,
                    "the tracker to drop the stopped incarnation")
        self.assertEqual(rt.shutdown(), 0)

    def test_a_request_for_a_service_that_a_reload_deletes_answers(self):
        rt = self.runtime({
            # Never ready: a restart waits for readiness until the reload removes it.
            "never-ready": f"""
                [service]
                name = "never-ready"
                type = "notify"
                exec = ["/bin/sleep", "1000"]
                [readiness]
                timeout = "120s"
                """,
            "bystander": sleeper("bystander"),
        })
        rt.wait_state("never-ready", "starting")
        waiting = subprocess.Popen([CTL, "--socket", rt.socket, "restart", "never-ready"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        rt.wait_for(lambda: rt.list()["never-ready"]["restarts"] == 1, 15, "the restart to begin")
        os.unlink(os.path.join(rt.config, "services", "never-ready.toml"))
        rt.ctl("reload", check=True)
        out, err = waiting.communicate(timeout=ANSWER_DEADLINE)
        self.assertEqual(waiting.returncode, 1, out + err)
        self.assertIn("never-ready was removed from the configuration by a reload", out + err)
        self.assertNotIn("never-ready", rt.list())
        self.assertEqual(rt.shutdown(), 0)

    def test_a_reload_that_moves_a_running_service_hands_its_process_over(self):
        mid = '[supervisor]\nname = "mid"\n'
        rt = self.runtime({
            "mover": sleeper("mover", 'supervisor = "mid"\n'),
            "sibling": sleeper("sibling", 'supervisor = "mid"\n'),
        }, supervisors={"mid": mid})
        mover = rt.wait_state("mover", "running")["pid"]
        sibling = rt.wait_state("sibling", "running")["pid"]
        # mover leaves mid for the root: the root adopts the process, mid's incarnation leaves it running.
        rt.write_service("mover", sleeper("mover"))
        rt.ctl("reload", check=True)
        rt.wait_for(lambda: rt.list()["mover"]["supervisor"] == "root", 10, "mover to belong to root")
        rt.wait_state("mover", "running")
        self.assertEqual(rt.list()["mover"]["pid"], mover, "the same process, adopted")
        self.assertTrue(alive(mover))
        self.assertEqual(rt.list()["mover"]["restarts"], 0)
        # mid is not frozen: its permanent sibling, SIGKILLed, is restarted.
        os.kill(sibling, signal.SIGKILL)
        rt.wait_pid_change("sibling", sibling)
        # And the moved service obeys its new owner; the shutdown completes.
        rt.ctl("stop", "mover", check=True)
        rt.wait_for(lambda: not alive(mover), 15, "mover's process to end")
        self.assertEqual(rt.shutdown(), 0)

    def test_a_service_that_ignores_sigterm_and_is_removed_by_reload_is_killed_after_its_stop_timeout(self):
        rt = self.runtime({
            "stubborn": f"""
                [service]
                name = "stubborn"
                exec = {sh("trap '' TERM; while :; do sleep 0.1; done")}
                [shutdown]
                stop-timeout = "1s"
                """,
        })
        pid = rt.wait_state("stubborn", "running")["pid"]
        os.unlink(os.path.join(rt.config, "services", "stubborn.toml"))
        rt.ctl("reload", check=True)
        rt.wait_for(lambda: not alive(pid), 15, "stubborn to be killed")
        self.assertNotIn("stubborn", rt.list())
        self.assertEqual(rt.shutdown(), 0)

    def test_a_service_no_longer_configured_when_the_runtime_restarts_is_stopped_like_any_other(self):
        rt = self.runtime({
            "stubborn": f"""
                [service]
                name = "stubborn"
                exec = {sh("trap '' TERM; while :; do sleep 0.1; done")}
                """,
            "bystander": sleeper("bystander"),
        })
        pid = rt.wait_state("stubborn", "running")["pid"]
        rt.kill()  # the runtime dies; its services run on
        self.assertTrue(alive(pid))
        os.unlink(os.path.join(rt.config, "services", "stubborn.toml"))
        rt.start()
        # It ignores SIGTERM: after the default stop timeout (10 s) it is SIGKILLed, not forgotten.
        rt.wait_for(lambda: not alive(pid), 25, "the unconfigured service to be killed")
        self.assertIn(f"stubborn (pid {pid}) is no longer configured: stopping it", rt.runtime_log())
        self.assertIn(f"stubborn (pid {pid}) did not stop within 10000 ms: killing it", rt.runtime_log())
        self.assertFalse(os.path.exists(os.path.join(rt.state, "services", "stubborn.state")))
        self.assertEqual(rt.shutdown(), 0)

    def test_a_stop_whose_incarnation_never_learns_the_exit_completes_by_the_supervisors_shutdown_timer(self):
        # The main process is frozen in a cgroup-v1 freezer (this host's cgroups are v1; a frozen task does not die,
        # even of SIGKILL, until thawed): the incarnation signals it and never gets an exit. OTP's shutdown timer in
        # the supervisor (stop timeout + kShutdownGrace, 15 s) ends the incarnation, and the stop is answered.
        freezer_root = "/sys/fs/cgroup/freezer"
        self.assertTrue(os.path.isdir(freezer_root), "this test needs the cgroup-v1 freezer (the host's cgroups are v1)")
        rt = Runtime({
            "frozen": """
                [service]
                name = "frozen"
                exec = ["/bin/sleep", "1000"]
                [shutdown]
                stop-timeout = "1s"
                """,
        })
        self.addCleanup(rt.cleanup)
        rt.start()
        rt.wait_state("frozen", "running")
        pid = rt.list()["frozen"]["pid"]
        freezer = os.path.join(freezer_root, "dynamod-test-" + os.path.basename(rt.dir))
        os.mkdir(freezer)

        def thaw():
            with open(os.path.join(freezer, "freezer.state"), "w") as f:
                f.write("THAWED")
            with open(os.path.join(freezer, "cgroup.procs")) as f:
                for p in f.read().split():
                    with open(os.path.join(freezer_root, "cgroup.procs"), "w") as root:
                        root.write(p)
            os.rmdir(freezer)
        self.addCleanup(thaw)
        with open(os.path.join(freezer, "cgroup.procs"), "w") as f:
            f.write(str(pid))
        with open(os.path.join(freezer, "freezer.state"), "w") as f:
            f.write("FROZEN")
        def state():
            with open(os.path.join(freezer, "freezer.state")) as f:
                return f.read().strip()
        rt.wait_for(lambda: state() == "FROZEN", 10, "the freeze")
        r = subprocess.run([CTL, "--socket", rt.socket, "stop", "frozen"], capture_output=True, text=True, timeout=40)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("did not stop within its shutdown time; killing it", rt.runtime_log())
        self.assertNotEqual(rt.list()["frozen"]["state"], "stopping")
        self.assertTrue(os.path.exists(f"/proc/{pid}"), "the frozen process was still there: the timer did the work")
        self.assertEqual(rt.shutdown(), 0)

    def test_clean_exits_of_a_restarting_service_leave_descriptors_and_actors_flat(self):
        rt = self.runtime({
            "blinker": f"""
                [service]
                name = "blinker"
                exec = {sh("sleep 0.2; exit 0")}
                [restart]
                delay = "0"
                max-restarts = 1000
                """,
        }, supervisors={"root": '[supervisor]\nname = "root"\n[restart]\nmax-restarts = 1000\n'})
        runtime_pid = rt.proc.pid

        def descriptors():
            # (pidfds, the others): a pidfd is held exactly while a watched process runs (one here, or none
            # between an exit and the next start).
            pidfds = others = 0
            for fd in os.listdir(f"/proc/{runtime_pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{runtime_pid}/fd/{fd}")
                except OSError:
                    continue
                if target == "anon_inode:[pidfd]":
                    pidfds += 1
                else:
                    others += 1
            return pidfds, others

        def counts():
            # The least seen over a few samples: a restart in progress briefly holds a spawn pipe, a client's
            # session its socket. What leaks stays.
            fds, actors = [], []
            for _ in range(20):
                pidfds, others = descriptors()
                self.assertLessEqual(pidfds, 1, "a pidfd outlived its process")
                fds.append(others)
                actors.append(sum(1 for n in tree_nodes(self.tree(rt)) if n.get("kind") != "service_incarnation"))
                time.sleep(0.05)
            return min(fds), min(actors)

        rt.wait_for(lambda: rt.list()["blinker"]["restarts"] >= 2, 20, "two clean exits")
        before = counts()
        rt.wait_for(lambda: rt.list()["blinker"]["restarts"] >= 12, 30, "ten more clean exits")
        after = counts()
        self.assertEqual(after, before, "descriptors and actors (fds, tree nodes) after 10 more clean exits")
        self.assertEqual(rt.shutdown(), 0)


if __name__ == "__main__":
    unittest.main()
