"""Issue 4 integration tests: the real runtime in user mode with real processes (no QEMU)."""
import os
import signal
import unittest

from runtime_harness import Runtime, RuntimeTestCase, sh


def sleeper(name, more=""):
    """A service that just runs (/bin/sleep); `more` is TOML that follows its exec line."""
    return f'[service]\nname = "{name}"\nexec = ["/bin/sleep", "1000"]\n{more}'


class Concurrency(RuntimeTestCase):
    def test_two_slow_starting_services_start_concurrently(self):
        # Each one is only ready once the other has started: a sequential start would deadlock (and time out).
        def slow(me, other):
            return f"""
            [service]
            name = "{me}"
            type = "notify"
            exec = {sh(f"touch @WORK@/{me}.started; while [ ! -e @WORK@/{other}.started ]; do sleep 0.05; done; "
                       f"systemd-notify --ready; exec sleep 1000")}
            [readiness]
            timeout = "20s"
            notify-access = "all"  # systemd-notify is the shell's child
            """
        rt = self.runtime({"slow-a": slow("slow-a", "slow-b"), "slow-b": slow("slow-b", "slow-a")})
        rt.wait_state("slow-a", "running")
        rt.wait_state("slow-b", "running")
        self.assertEqual(rt.list()["slow-a"]["restarts"], 0)
        self.assertEqual(rt.list()["slow-b"]["restarts"], 0)

    def test_a_dependent_starts_only_once_its_requirement_is_ready(self):
        rt = self.runtime({
            "db": f"""
                [service]
                name = "db"
                type = "notify"
                exec = {sh("sleep 0.5; touch @WORK@/db.ready; systemd-notify --ready; exec sleep 1000")}
                [readiness]
                notify-access = "all"
                """,
            "app": f"""
                [service]
                name = "app"
                exec = {sh("if [ -e @WORK@/db.ready ]; then echo ok > @WORK@/app.saw; else echo early > @WORK@/app.saw; fi; exec sleep 1000")}
                [dependencies]
                requires = ["db"]
                """,
        })
        rt.wait_file("app.saw")
        self.assertEqual(rt.read_work("app.saw").strip(), "ok")


class OtpStrategies(RuntimeTestCase):
    SUPERVISORS = {
        "ofo": '[supervisor]\nname = "ofo"\nstrategy = "one-for-one"\n',
        "ofa": '[supervisor]\nname = "ofa"\nstrategy = "one-for-all"\n',
        "rfo": '[supervisor]\nname = "rfo"\nstrategy = "rest-for-one"\n',
    }

    def services(self):
        out = {}
        for sup in ("ofo", "ofa", "rfo"):
            for i in (1, 2, 3):
                name = f"{sup}{i}"
                out[name] = f"""
                    [service]
                    name = "{name}"
                    supervisor = "{sup}"
                    exec = ["/bin/sleep", "1000"]
                    [restart]
                    delay = "0"
                    """
        return out

    def test_a_crash_restarts_exactly_the_children_otp_would(self):
        rt = self.runtime(self.services(), supervisors=self.SUPERVISORS)
        for sup in ("ofo", "ofa", "rfo"):
            for i in (1, 2, 3):
                rt.wait_state(f"{sup}{i}", "running")
        before = {name: s["pid"] for name, s in rt.list().items()}
        for sup in ("ofo", "ofa", "rfo"):
            os.kill(before[f"{sup}2"], signal.SIGKILL)
        expected_restarted = {"ofo2", "ofa1", "ofa2", "ofa3", "rfo2", "rfo3"}
        for name in expected_restarted:
            rt.wait_pid_change(name, before[name])
        after = rt.list()
        for name in before:
            if name in expected_restarted:
                self.assertNotEqual(after[name]["pid"], before[name], name)
            else:
                self.assertEqual(after[name]["pid"], before[name], f"{name} must be untouched")
        self.assertEqual(after["ofo2"]["last_exit"], "killed by SIGKILL")


class Escalation(RuntimeTestCase):
    def test_exceeding_the_intensity_escalates_to_the_parent(self):
        rt = self.runtime({
            "crasher": f"""
                [service]
                name = "crasher"
                supervisor = "mid"
                exec = {sh("while [ ! -e @WORK@/go ]; do sleep 0.05; done; "
                           "n=$(cat @WORK@/count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > @WORK@/count; "
                           "[ $n -gt 3 ] && exec sleep 1000; exit 3")}
                [restart]
                delay = "0"
                """,
            "sibling": sleeper("sibling", 'supervisor = "mid"\n'),
            "bystander": sleeper("bystander"),
        }, supervisors={"mid": '[supervisor]\nname = "mid"\n[restart]\nmax-restarts = 2\nmax-restart-window = "60s"\n'})
        # Three crashes: two restarts are allowed, the third exceeds mid's intensity; mid terminates the
        # sibling and exits; root (one-for-one, mid is permanent) restarts mid with fresh children.
        sibling_before = rt.wait_state("sibling", "running")["pid"]
        bystander_before = rt.wait_state("bystander", "running")["pid"]
        open(os.path.join(rt.work, "go"), "w").close()
        rt.wait_for(lambda: "Supervisor mid gave up" in rt.console(), 20, "mid to give up")
        self.assertIn("reached max restart intensity (2 in 60s), last: crasher", rt.console())
        rt.wait_state("crasher", "running")
        rt.wait_pid_change("sibling", sibling_before)
        # "running" comes once the fourth run exists; its shell writes the count a moment later.
        rt.wait_for(lambda: rt.read_work("count").strip() not in ("", "3"), 10, "the fourth run to count itself")
        self.assertEqual(rt.read_work("count").strip(), "4")
        self.assertEqual(rt.list()["bystander"]["pid"], bystander_before, "root's other children are untouched")
        self.assertEqual(rt.list()["bystander"]["restarts"], 0)

    # Crashes at once, always: with max-restarts = 1 the root gives up on its second exit.
    CRASHER = f'[service]\nname = "crasher"\nexec = {sh("exit 1")}\n[restart]\ndelay = "0"\n'

    @staticmethod
    def root_that_gives_up(action):
        return {"root": f'[supervisor]\nname = "root"\ngive-up = "{action}"\n[restart]\nmax-restarts = 1\n'}

    def test_the_root_giving_up_with_give_up_emergency_ends_the_runtime_with_status_3(self):
        rt = self.runtime({"crasher": self.CRASHER}, wait=False, supervisors=self.root_that_gives_up("emergency"))
        self.assertEqual(rt.proc.wait(timeout=30), 3)
        self.assertIn("the root supervisor gave up", rt.runtime_log())
        self.assertIn("(give-up = emergency)", rt.runtime_log())

    def test_the_root_giving_up_with_give_up_poweroff_shuts_the_system_down_through_pid_1(self):
        rt = self.runtime({"crasher": self.CRASHER, "bystander": sleeper("bystander")}, wait=False, under_init=True,
                          supervisors=self.root_that_gives_up("poweroff"))
        self.assertEqual(rt.proc.wait(timeout=60), 0, rt.console()[-3000:])
        out = rt.console()
        pos = 0
        for line in ["the root supervisor gave up: ", "(give-up = poweroff)", "shutdown requested by the runtime: poweroff",
                     "runtime reports every service stopped", "exited with status 0", "container poweroff: exiting"]:
            found = out.find(line, pos)
            self.assertGreaterEqual(found, 0, f"{line!r} after offset {pos}:\n{out[-3000:]}")
            pos = found
        self.assertNotIn("restarting runtime", out)
        self.assertNotIn("emergency", out)
        self.assertIn("bystander: stopped", rt.runtime_log(), "everything was stopped in order first")


class Degrade(RuntimeTestCase):
    """The root's default give-up = "degrade": what made it give up stays down as failed, the rest runs."""

    def test_a_sibling_ordered_after_a_given_up_child_of_a_one_for_all_root_still_starts(self):
        # The group-order rule holds a child back while an `after` sibling of its one_for_all group has failed (the
        # rollback will restart both); a child degrade leaves down will not be rolled back, so nothing waits for it.
        rt = self.runtime({
            "ghost": '[service]\nname = "ghost"\nexec = ["@WORK@/missing"]\n[restart]\ndelay = "0"\nmax-restarts = 1\n',
            "later": sleeper("later", '[dependencies]\nafter = ["ghost"]\n'),
        }, supervisors={"root": '[supervisor]\nname = "root"\nstrategy = "one-for-all"\n'})
        rt.wait_for(lambda: "gave up" in rt.list()["ghost"]["detail"], 20, "ghost to be given up on")
        rt.wait_state("later", "running")
        self.assertEqual(rt.list()["ghost"]["state"], "failed")
        self.assertIsNone(rt.proc.poll(), "the runtime keeps running")

    def test_a_sibling_ordered_after_a_blocked_child_of_a_one_for_all_group_still_starts(self):
        # A blocked child shows failed but has not exited: no rollback follows, so nothing ordered after it waits.
        rt = self.runtime({
            "ghost": '[service]\nname = "ghost"\nexec = ["@WORK@/missing"]\n[restart]\ndelay = "0"\nmax-restarts = 1\n',
            "needs-ghost": sleeper("needs-ghost", '[dependencies]\nrequires = ["ghost"]\n'),
            "later": sleeper("later", '[dependencies]\nafter = ["needs-ghost"]\n'),
        }, supervisors={"root": '[supervisor]\nname = "root"\nstrategy = "one-for-all"\n'})
        rt.wait_for(lambda: "gave up" in rt.list()["ghost"]["detail"], 20, "ghost to be given up on")
        rt.wait_for(lambda: rt.list()["needs-ghost"]["detail"].startswith("dependency failed: ghost"), 10,
                    "needs-ghost to be blocked")
        rt.wait_state("later", "running")
        self.assertIsNone(rt.proc.poll(), "the runtime keeps running")

    def test_a_missing_binary_fails_alone_and_start_retries_it(self):
        rt = self.runtime({
            "ghost": """
                [service]
                name = "ghost"
                exec = ["@WORK@/bin/ghostd"]
                [restart]
                delay = "0"
                max-restarts = 2
                """,
            "ghost-client": sleeper("ghost-client", '[dependencies]\nrequires = ["ghost"]\n'),
            "bystander": sleeper("bystander"),
        })
        bystander = rt.wait_state("bystander", "running")["pid"]
        rt.wait_for(lambda: "gave up" in rt.list()["ghost"]["detail"], 20, "ghost to be given up on")
        ghost = rt.list()["ghost"]
        self.assertEqual(ghost["state"], "failed")
        self.assertRegex(ghost["detail"], r"^gave up: exceeded its max-restarts \(2 in 60s\); last: start failed: ")
        self.assertEqual(ghost["restarts"], 2)
        self.assertIn("[FAILED] ghost: gave up: exceeded its max-restarts (2 in 60s); last: start failed: ", rt.console())
        self.assertIn("system degraded", rt.runtime_log())
        status = rt.ctl("status", "ghost")
        self.assertEqual(status.returncode, 3, status.stderr)
        self.assertIn("gave up: exceeded its max-restarts (2 in 60s)", status.stdout)
        # Its dependent is blocked, and says why the requirement stays down.
        rt.wait_for(lambda: rt.list()["ghost-client"]["detail"].startswith(
            "dependency failed: ghost: gave up: exceeded its max-restarts (2 in 60s)"), 10, "ghost-client to be blocked")
        self.assertEqual(rt.list()["ghost-client"]["state"], "failed")
        # Everything else runs on, untouched, under the same runtime.
        self.assertIsNone(rt.proc.poll(), "the runtime keeps running")
        self.assertNotIn("the root supervisor gave up", rt.runtime_log())
        self.assertEqual(rt.list()["bystander"]["pid"], bystander)
        self.assertEqual(rt.list()["bystander"]["restarts"], 0)
        # It stays down: nothing restarts it on its own.
        self.assertEqual(rt.list()["ghost"]["restarts"], 2)
        # Once the binary exists, `dynamodctl start` retries it with a fresh restart history; its dependent follows.
        os.makedirs(os.path.join(rt.work, "bin"))
        ghostd = os.path.join(rt.work, "bin", "ghostd")
        with open(ghostd, "w") as f:
            f.write("#!/bin/sh\nexec sleep 1000\n")
        os.chmod(ghostd, 0o755)
        r = rt.ctl("start", "ghost", check=True)
        self.assertRegex(r.stdout, r"Started ghost \(pid \d+\)\.")
        rt.wait_state("ghost", "running")
        rt.wait_state("ghost-client", "running")
        self.assertEqual(rt.list()["bystander"]["pid"], bystander)
        self.assertEqual(rt.shutdown(), 0)

    def test_a_sub_supervisor_that_root_gives_up_on_stays_down_with_its_services_until_started(self):
        rt = self.runtime({
            "crasher": f"""
                [service]
                name = "crasher"
                supervisor = "mid"
                exec = {sh("[ -e @WORK@/fixed ] && exec sleep 1000; exit 1")}
                [restart]
                delay = "0"
                """,
            "sibling": sleeper("sibling", 'supervisor = "mid"\n'),
            "bystander": sleeper("bystander"),
        }, supervisors={
            "mid": '[supervisor]\nname = "mid"\n[restart]\nmax-restarts = 0\n',
            "root": '[supervisor]\nname = "root"\n[restart]\nmax-restarts = 0\n',
        })
        bystander = rt.wait_state("bystander", "running")["pid"]
        # mid gives up on crasher's first exit (OTP, escalated); root may not restart it: mid stays down.
        rt.wait_for(lambda: "supervisor mid is down" in rt.list()["sibling"]["detail"], 20, "mid to be given up on")
        services = rt.list()
        for name in ("crasher", "sibling"):
            self.assertEqual(services[name]["state"], "failed", name)
            self.assertRegex(services[name]["detail"], r"^supervisor mid is down: gave up: its supervisor reached max "
                                                       r"restart intensity \(0 in 300s\); last: ")
        self.assertIn("Supervisor mid: gave up:", rt.console())
        status = rt.ctl("status", "sibling")
        self.assertEqual(status.returncode, 3, status.stderr)
        self.assertIn("supervisor mid is down", status.stdout)
        r = rt.ctl("start", "sibling")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("sibling is down with its supervisor mid", r.stderr)
        self.assertIsNone(rt.proc.poll(), "the runtime keeps running")
        self.assertEqual(rt.list()["bystander"]["pid"], bystander)
        # A reload meanwhile reaches it too: a service added under mid is listed with it, and starts with it.
        rt.write_service("newcomer", sleeper("newcomer", 'supervisor = "mid"\n'))
        rt.ctl("reload", check=True)
        self.assertIn("supervisor mid is down", rt.list()["newcomer"]["detail"])
        # Starting the supervisor brings it back with fresh children.
        open(os.path.join(rt.work, "fixed"), "w").close()
        rt.ctl("start", "mid", check=True)
        rt.wait_state("crasher", "running")
        rt.wait_state("sibling", "running")
        rt.wait_state("newcomer", "running")
        self.assertEqual(rt.list()["bystander"]["pid"], bystander)
        self.assertEqual(rt.shutdown(), 0)

    def test_the_roots_own_intensity_fails_the_child_that_exceeded_it_and_later_ones_alike(self):
        crasher = """
            [service]
            name = "{name}"
            exec = {exec}
            [restart]
            delay = "0"
            """
        rt = self.runtime({
            "crash-a": crasher.format(name="crash-a", exec=sh("exit 1")),
            "crash-b": crasher.format(name="crash-b", exec=sh("while [ ! -e @WORK@/go-b ]; do sleep 0.05; done; exit 1")),
            "bystander": sleeper("bystander"),
        }, supervisors={"root": '[supervisor]\nname = "root"\n[restart]\nmax-restarts = 2\nmax-restart-window = "60s"\n'})
        bystander = rt.wait_state("bystander", "running")["pid"]
        rt.wait_for(lambda: "gave up" in rt.list()["crash-a"]["detail"], 20, "crash-a to be given up on")
        self.assertEqual(rt.list()["crash-a"]["state"], "failed")
        self.assertRegex(rt.list()["crash-a"]["detail"],
                         r"^gave up: its supervisor reached max restart intensity \(2 in 60s\); last: exited with status 1$")
        b = rt.wait_state("crash-b", "running")
        open(os.path.join(rt.work, "go-b"), "w").close()
        rt.wait_for(lambda: "gave up" in rt.list()["crash-b"]["detail"], 20, "crash-b to be given up on")
        self.assertEqual(rt.list()["crash-b"]["restarts"], 0, "the intensity is used up: b is not restarted either")
        self.assertIsNone(rt.proc.poll(), "the runtime keeps running")
        self.assertEqual(rt.list()["bystander"]["pid"], bystander)
        self.assertNotEqual(b["pid"], 0)
        self.assertEqual(rt.shutdown(), 0)


class Temporary(RuntimeTestCase):
    def test_a_temporary_service_that_ended_is_not_restarted_but_start_runs_it_again(self):
        # docs/config.md: its supervisor drops it (OTP), its configuration stays.
        rt = self.runtime({"once": f"""
            [service]
            name = "once"
            exec = {sh("echo run >> @WORK@/runs; [ -e @WORK@/runs-twice ] && exec sleep 1000; exit 1")}
            [restart]
            policy = "temporary"
            delay = "0"
            """})
        rt.wait_for(lambda: rt.list()["once"]["state"] == "failed", 10, "once to end")
        self.assertEqual(rt.read_work("runs"), "run\n", "not restarted")
        self.assertEqual(rt.list()["once"]["restarts"], 0)
        open(os.path.join(rt.work, "runs-twice"), "w").close()
        r = rt.ctl("start", "once", check=True)
        self.assertRegex(r.stdout, r"Started once \(pid \d+\)\.")
        # "Started" comes once the process exists (readiness none), maybe before its shell has written.
        rt.wait_for(lambda: rt.read_work("runs") == "run\nrun\n", 10, "the second run to be written")
        self.assertEqual(rt.read_work("runs"), "run\nrun\n")
        self.assertEqual(rt.list()["once"]["state"], "running")
        self.assertEqual(rt.shutdown(), 0)


class Readiness(RuntimeTestCase):
    # Each service creates <name>.ready-cause right before signalling readiness; its dependent checks for it.
    def with_dependent(self, name, toml):
        return {
            name: toml,
            f"{name}-user": f"""
                [service]
                name = "{name}-user"
                exec = {sh(f"[ -e @WORK@/{name}.cause ] && echo ok > @WORK@/{name}.seen || echo early > @WORK@/{name}.seen; exec sleep 1000")}
                [dependencies]
                requires = ["{name}"]
                """,
        }

    def assert_ready_before_dependent(self, rt, name):
        rt.wait_state(name, "running")
        rt.wait_file(f"{name}.seen")
        # The shell creates the file before it writes the word: wait for the word.
        rt.wait_for(lambda: rt.read_work(f"{name}.seen").strip() != "", 10, f"{name}.seen to be written")
        self.assertEqual(rt.read_work(f"{name}.seen").strip(), "ok")

    def test_notify_with_real_systemd_notify(self):
        rt = self.runtime(self.with_dependent("notified", f"""
            [service]
            name = "notified"
            type = "notify"
            exec = {sh("sleep 0.3; touch @WORK@/notified.cause; systemd-notify --ready --status='serving'; exec sleep 1000")}
            [readiness]
            notify-access = "all"
            """))
        self.assert_ready_before_dependent(rt, "notified")
        self.assertEqual(rt.list()["notified"]["status_text"], "serving")

    def test_tcp_port(self):
        port = 20000 + os.getpid() % 20000
        server = (f"import socket,time; time.sleep(0.3); open('@WORK@/porty.cause','w').close(); "
                  f"s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
                  f"s.bind(('127.0.0.1',{port})); s.listen(); time.sleep(1000)")
        rt = self.runtime(self.with_dependent("porty", f"""
            [service]
            name = "porty"
            exec = ["/usr/bin/python3", "-c", "{server}"]
            [readiness]
            type = "tcp-port"
            port = {port}
            """))
        self.assert_ready_before_dependent(rt, "porty")

    def test_exec_health_check(self):
        rt = self.runtime(self.with_dependent("checked", f"""
            [service]
            name = "checked"
            exec = {sh("sleep 0.5; touch @WORK@/checked.cause; exec sleep 1000")}
            [readiness]
            type = "exec"
            check-exec = ["/usr/bin/test", "-e", "@WORK@/checked.cause"]
            interval = "100ms"
            """))
        self.assert_ready_before_dependent(rt, "checked")

    def test_readiness_fd(self):
        rt = self.runtime(self.with_dependent("fdready", f"""
            [service]
            name = "fdready"
            exec = {sh("sleep 0.3; touch @WORK@/fdready.cause; echo >&$DYNAMOD_READY_FD; exec sleep 1000")}
            [readiness]
            type = "fd"
            fd = 5
            """))
        self.assert_ready_before_dependent(rt, "fdready")

    def test_a_start_timeout_fails_the_start(self):
        rt = self.runtime({"mute": f"""
            [service]
            name = "mute"
            type = "notify"
            exec = ["/bin/sleep", "1000"]
            [readiness]
            timeout = "500ms"
            [restart]
            delay = "10s"
            """})
        rt.wait_for(lambda: rt.list()["mute"]["last_exit"].startswith("readiness timeout"), 15, "the start to time out")
        self.assertIn("Failed to start mute: readiness timeout", rt.console())


class Watchdog(RuntimeTestCase):
    def test_a_missed_watchdog_restarts_the_service(self):
        rt = self.runtime({
            "silent": f"""
                [service]
                name = "silent"
                type = "notify"
                exec = {sh("systemd-notify --ready; exec sleep 1000")}
                [readiness]
                watchdog = "500ms"
                notify-access = "all"
                [restart]
                delay = "0"
                """,
            "petted": f"""
                [service]
                name = "petted"
                type = "notify"
                exec = {sh('[ "$WATCHDOG_PID" = "$$" ] || exit 7; systemd-notify --ready; '
                           'while :; do systemd-notify WATCHDOG=1; sleep 0.1; done')}
                [readiness]
                watchdog = "2s"
                notify-access = "all"
                """,
        })
        first = rt.wait_state("silent", "running")["pid"]
        rt.wait_pid_change("silent", first)
        self.assertTrue(rt.list()["silent"]["last_exit"].startswith("watchdog timeout"), rt.list()["silent"])
        self.assertEqual(rt.list()["petted"]["restarts"], 0, "a service that pets its watchdog stays up")


class Stopping(RuntimeTestCase):
    def test_stop_order_is_reverse_dependency_order(self):
        def svc(name, requires):
            return f"""
                [service]
                name = "{name}"
                exec = {sh(f"trap 'echo {name} >> @WORK@/stopped; exit 0' TERM; while :; do sleep 0.05; done")}
                [dependencies]
                requires = {requires}
                """
        # File names are in the opposite order on purpose: the dependencies decide, not the names.
        rt = self.runtime({"a-top": svc("a-top", '["m-middle"]'), "m-middle": svc("m-middle", '["z-base"]'),
                           "z-base": svc("z-base", "[]")})
        for n in ("a-top", "m-middle", "z-base"):
            rt.wait_state(n, "running")
        self.assertEqual(rt.shutdown(), 0)
        self.assertEqual(rt.read_work("stopped").split(), ["a-top", "m-middle", "z-base"])

    def test_a_service_ignoring_sigterm_is_killed_after_its_timeout(self):
        rt = self.runtime({"stubborn": f"""
            [service]
            name = "stubborn"
            exec = {sh("trap '' TERM; while :; do sleep 0.05; done")}
            [shutdown]
            stop-timeout = "1s"
            """})
        rt.wait_state("stubborn", "running")
        self.assertEqual(rt.shutdown(), 0)
        log = rt.runtime_log()
        self.assertRegex(log, r"stubborn: process \d+ killed by SIGKILL")
        self.assertIn("stubborn: stopped (shutdown)", log)


class Adoption(RuntimeTestCase):
    def test_kill_9_of_the_runtime_loses_no_service(self):
        services = {}
        for name in ("alpha", "beta", "gamma"):
            services[name] = f"""
                [service]
                name = "{name}"
                exec = {sh(f"while :; do echo {name} $(date +%s%N); sleep 0.05; done")}
                """
        rt = self.runtime(services, under_init=True)
        for name in services:
            rt.wait_state(name, "running")
        before = {n: s["pid"] for n, s in rt.list().items()}
        old_runtime = rt.runtime_host_pid()
        self.assertIsNotNone(old_runtime)
        os.kill(old_runtime, signal.SIGKILL)
        rt.wait_for(lambda: rt.runtime_host_pid() not in (None, old_runtime), 20, "PID 1 to restart the runtime")
        rt.wait_for(lambda: all(rt.list()[n]["state"] == "running" for n in services), 20, "adoption")
        after = rt.list()
        for name in services:
            self.assertEqual(after[name]["pid"], before[name], f"{name} keeps its pid")
            self.assertEqual(after[name]["restarts"], 0)
            self.assertEqual(len(Runtime.copies_of(f"while :; do echo {name} ")), 1, f"one {name}, not two")
        # Its output still arrives (no SIGPIPE while the runtime was gone) and is logged by the new runtime.
        mark = rt.service_log("alpha").count("\n")
        rt.wait_for(lambda: rt.service_log("alpha").count("\n") > mark + 5, 10, "alpha's log to grow")
        # An adopted service that dies is seen through PID 1's forwarded exit status, and restarted.
        beta_host = Runtime.copies_of("while :; do echo beta ")[0]
        os.kill(beta_host, signal.SIGKILL)
        rt.wait_pid_change("beta", before["beta"])
        self.assertEqual(rt.list()["beta"]["last_exit"], "killed by SIGKILL")
        self.assertEqual(rt.shutdown(), 0)


    def test_a_service_whose_file_broke_while_the_runtime_was_down_keeps_running(self):
        good = '[service]\nname = "keeper"\nexec = ["/bin/sleep", "1000"]\n'
        rt = self.runtime({"keeper": good})
        rt.wait_state("keeper", "running")
        pid = rt.service("keeper")["pid"]
        rt.kill()
        rt.write_service("keeper", '[service]\nname = "keeper"\nexec = "not an array"\n')
        rt.start()
        rt.wait_state("keeper", "disabled")
        self.assertTrue(os.path.exists(f"/proc/{pid}"), "the process is not stopped because its file broke")
        self.assertIn(f"keeper (pid {pid}) keeps running unmanaged", rt.runtime_log())
        # Fixed and reloaded: the same process is managed again, not a second one started.
        rt.write_service("keeper", good)
        self.assertEqual(rt.ctl("reload").returncode, 0)
        rt.wait_state("keeper", "running")
        self.assertEqual(rt.service("keeper")["pid"], pid)
        self.assertEqual(rt.shutdown(), 0)
        rt.wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10, "keeper to be stopped with the rest")


class BadConfiguration(RuntimeTestCase):
    def test_a_broken_file_disables_it_and_its_dependents_only(self):
        rt = self.runtime({
            "fine": '[service]\nname = "fine"\nexec = ["/bin/sleep", "1000"]\n',
            "broken": '[service]\nname = "broken"\nexec = "not an array"\n',
            "needs-broken": '[service]\nname = "needs-broken"\nexec = ["/bin/sleep", "1000"]\n'
                            '[dependencies]\nrequires = ["broken"]\n',
        })
        rt.wait_state("fine", "running")
        services = rt.list()
        self.assertEqual(services["needs-broken"]["state"], "disabled")
        self.assertIn("requires 'broken', which is disabled", services["needs-broken"]["detail"])
        self.assertIn("broken.toml:3:8: service.exec: expected an array of strings, got a string", rt.console())

    def test_check_prints_every_error_and_fails(self):
        rt = Runtime({
            "a": '[service]\nname = "a"\nexec = ["/bin/true"]\n[dependencies]\nrequires = ["b"]\n',
            "b": '[service]\nname = "b"\nexec = ["/bin/true"]\n[dependencies]\nrequires = ["a"]\n',
            "c": '[service]\nname = "c"\nexec = ["/bin/true"]\ntype = "daemon"\n',
        })
        self.addCleanup(rt.cleanup)
        import subprocess
        from runtime_harness import RUNTIME
        r = subprocess.run([RUNTIME, "--check", rt.config], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("dependency cycle of 2 services: a -> b -> a", r.stderr)
        self.assertRegex(r.stderr, r"c\.toml:4:8: service\.type: 'daemon' is not one of")



class SlowStartsAndStops(RuntimeTestCase):
    def test_the_console_says_what_a_slow_start_and_a_slow_stop_wait_on(self):
        rt = self.runtime({
            "slowdb": f"""
                [service]
                name = "slowdb"
                type = "notify"
                exec = {sh("sleep 6.5; systemd-notify --ready; trap '' TERM; while :; do sleep 0.1; done")}
                [readiness]
                notify-access = "all"
                [shutdown]
                stop-timeout = "7s"
                """,
            "webapp": sleeper("webapp", '[dependencies]\nrequires = ["slowdb"]\n'),
        })
        rt.wait_state("webapp", "running", timeout=20)
        self.assertRegex(rt.console(), r"\[ WAIT \] webapp is waiting for slowdb \(starting\)")
        self.assertRegex(rt.console(), r"\[ WAIT \] waiting for slowdb to become ready \(notify \(READY=1\)\), \d+s")
        self.assertEqual(rt.shutdown(timeout=30), 0)
        self.assertRegex(rt.console(), r"\[ WAIT \] waiting for slowdb to stop, \d+s")


if __name__ == "__main__":
    unittest.main(verbosity=2)
