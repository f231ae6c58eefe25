"""Issue 14 §4: no service runs twice and nothing is forgotten across a runtime restart. The runtime (user mode,
started by root) is killed with SIGKILL at varying moments: while it spawns services, around a reload, between
the crashes of a crash-looping service; a definition changes on disk while no runtime runs. Each service carries
a marker in its argv (`$0` of its shell), so its copies can be counted on the host."""
import json
import os
import random
import signal
import subprocess
import time
import unittest

from runtime_harness import CTL, RuntimeTestCase, parent_of, processes_started_for


def looping(marker, more=""):
    """A service whose shell carries `marker` as its $0 for as long as it runs."""
    return f'exec = ["/bin/sh", "-c", "while :; do sleep 1; done", "{marker}"]\n{more}'


def copies(marker):
    """Running processes whose argv has `marker` as a whole argument, less those forked by another of them (a
    shell runs `sleep` in a fork of itself for an instant before the exec)."""
    return _copies(lambda argv: marker.encode() in argv)


def copies_with_prefix(prefix):
    """Like copies(), for every marker that starts with `prefix` (all versions of a service)."""
    return _copies(lambda argv: any(a.startswith(prefix.encode()) for a in argv))


def _copies(matches):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if matches(argv) and state not in ("Z", "X"):
            pids.append(int(entry))
    return [p for p in pids if parent_of(p) not in pids]


def kill_runtime(rt):
    """SIGKILL of the runtime alone (user mode: it leads its own process group; services have their own)."""
    rt.kill()


class KilledWhileSpawning(RuntimeTestCase):
    SERVICES = 24
    ROUNDS = 30

    def test_a_runtime_killed_while_it_spawns_never_leaves_a_second_copy(self):
        names = [f"s{i:02d}" for i in range(self.SERVICES)]
        services = {n: f'[service]\nname = "{n}"\n' + looping(f"rti-spawn-{n}") for n in names}
        rt = self.runtime(services, wait=False)
        rng = random.Random(14)
        twice = []
        for round_ in range(self.ROUNDS):
            # Killed at a moment somewhere in its start-up, while it spawns the services it finds missing.
            time.sleep(rng.uniform(0.0, 0.35))
            kill_runtime(rt)
            for n in names:
                found = copies(f"rti-spawn-{n}")
                if len(found) > 1:
                    twice.append((round_, n, found))
            # Some services end while no runtime runs: the next one must start them (and may be killed doing so).
            for n in rng.sample(names, self.SERVICES // 3):
                for pid in copies(f"rti-spawn-{n}"):
                    os.kill(pid, signal.SIGKILL)
            rt.start(wait=False)
        self.assertEqual(twice, [], "a service ran twice after a runtime was killed")
        rt.wait_for(lambda: rt.try_list() is not None, 20, "the last runtime to answer")
        rt.wait_for(lambda: all(s["state"] == "running" for s in rt.list().values()), 30, "every service to run")
        listed = rt.list()
        for n in names:
            found = copies(f"rti-spawn-{n}")
            self.assertEqual(len(found), 1, f"{n}: exactly one copy, found {found}")
            self.assertEqual(listed[n]["pid"], found[0], f"{n}: the copy that runs is the managed one")
        self.assertEqual(rt.shutdown(), 0)
        for n in names:
            self.assertEqual(copies(f"rti-spawn-{n}"), [], f"{n} stopped with the rest")


    def test_under_dynamod_init_too(self):
        # The setting: PID 1 restarts the runtime (with its backoff, hence fewer rounds) and reaps the
        # services; the runtime is killed while it spawns the ones that ended meanwhile.
        names = [f"i{i:02d}" for i in range(12)]
        services = {n: f'[service]\nname = "{n}"\n' + looping(f"rti-init-{n}") for n in names}
        rt = self.runtime(services, under_init=True)
        rng = random.Random(41)
        twice = []
        runtime = None
        for round_ in range(8):
            rt.wait_for(lambda: rt.runtime_host_pid() not in (None, runtime), 30, "PID 1 to (re)start the runtime")
            runtime = rt.runtime_host_pid()
            time.sleep(rng.uniform(0.0, 0.3))
            try:
                os.kill(runtime, signal.SIGKILL)
            except ProcessLookupError:
                pass
            for n in names:
                found = copies(f"rti-init-{n}")
                if len(found) > 1:
                    twice.append((round_, n, found))
            for n in rng.sample(names, 4):
                for pid in copies(f"rti-init-{n}"):
                    os.kill(pid, signal.SIGKILL)
        self.assertEqual(twice, [], "a service ran twice after the runtime was killed")
        rt.wait_for(lambda: rt.runtime_host_pid() not in (None, runtime), 60, "PID 1 to restart the runtime")

        def settled():
            listed = rt.list()
            return (all(listed[n]["state"] == "running" for n in names) and
                    all(len(copies(f"rti-init-{n}")) == 1 for n in names))
        rt.wait_for(settled, 30, "every service to run, once")
        self.assertEqual(rt.shutdown(), 0)


class KilledAroundAReload(RuntimeTestCase):
    SERVICES = 10
    ROUNDS = 20

    def test_kills_around_reloads_leave_one_copy_of_each_service_from_the_current_definition(self):
        names = [f"r{i:02d}" for i in range(self.SERVICES)]

        def definition(n, version):
            return f'[service]\nname = "{n}"\n' + looping(f"rti-reload-{n}-v{version}")

        rt = self.runtime({n: definition(n, 0) for n in names})
        rt.wait_for(lambda: all(s["state"] == "running" for s in rt.list().values()), 20, "every service to run")
        rng = random.Random(1414)
        twice = []
        version = 0
        for round_ in range(self.ROUNDS):
            version += 1
            for n in names:
                rt.write_service(n, definition(n, version))
            reload = subprocess.Popen([CTL, "--socket", rt.socket, "reload"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 0.3))
            kill_runtime(rt)
            reload.wait(timeout=30)
            for n in names:
                found = copies_with_prefix(f"rti-reload-{n}-v")
                if len(found) > 1:
                    twice.append((round_, n, found))
            rt.start()
        self.assertEqual(twice, [], "a service ran twice after a runtime was killed around a reload")
        current = f"-v{version}"

        def settled():
            for n in names:
                found = copies_with_prefix(f"rti-reload-{n}-v")
                if len(found) != 1 or found != copies(f"rti-reload-{n}{current}"):
                    return False
            return all(s["state"] == "running" for s in rt.list().values())
        rt.wait_for(settled, 30, f"one copy of each service, all from version {version}")
        listed = rt.list()
        for n in names:
            self.assertEqual(listed[n]["pid"], copies(f"rti-reload-{n}{current}")[0], f"{n} is the managed copy")
        # Nothing is left for a reload to do: what runs is what is on disk.
        diff = json.loads(rt.ctl("--json", "reload", check=True).stdout)
        self.assertEqual(diff["changed"], [], diff)
        self.assertEqual(rt.shutdown(), 0)


class KilledBeforeItRecordedThePid(RuntimeTestCase):
    """A runtime killed between the intent record and the pid leaves only the invocation id; the next one finds the
    main process by it. The main process's descendants carry that id too and may outlive it."""

    def test_a_descendant_that_outlived_the_main_process_is_not_taken_for_the_service(self):
        rt = self.runtime({"lead": '[service]\nname = "lead"\n'
                                   'exec = ["/bin/sh", "-c", "while :; do sleep 60; done", "rti-lead"]\n'})
        rt.wait_state("lead", "running")
        shell = rt.service("lead")["pid"]
        rt.wait_for(lambda: [p for p in processes_started_for(rt.dir) if parent_of(p) == shell], 10, "its sleep")
        stray = [p for p in processes_started_for(rt.dir) if parent_of(p) == shell][0]
        kill_runtime(rt)
        # What a runtime killed just before writing the pid leaves: the intent, with the invocation id alone.
        record = os.path.join(rt.state, "services", "lead.state")
        with open(record) as f:
            lines = [line for line in f.read().splitlines() if not line.startswith(("pid=", "start_time="))]
        with open(record, "w") as f:
            f.write("\n".join(["pid=0", "start_time=0", *lines, "intent=1"]) + "\n")
        os.kill(shell, signal.SIGKILL)  # the main process ends while no runtime runs; its sleep goes on
        rt.wait_for(lambda: copies("rti-lead") == [], 10, "the shell to end")
        self.assertIsNotNone(parent_of(stray), "the stray outlived its shell")
        rt.start()

        def started_anew():
            s = rt.service("lead")
            return s["state"] == "running" and copies("rti-lead") == [s["pid"]]
        rt.wait_for(started_anew, 20, "a new main process (the stray is not the service)")
        self.assertNotEqual(rt.service("lead")["pid"], stray)
        self.assertEqual(rt.shutdown(), 0)


class ChangedWhileDown(RuntimeTestCase):
    def test_a_definition_changed_while_no_runtime_ran_restarts_the_adopted_process(self):
        rt = self.runtime({"edited": '[service]\nname = "edited"\n' + looping("rti-edited-v1")})
        rt.wait_state("edited", "running")
        old = rt.service("edited")["pid"]
        self.assertEqual(copies("rti-edited-v1"), [old])
        kill_runtime(rt)
        rt.write_service("edited", '[service]\nname = "edited"\n' + looping("rti-edited-v2"))
        rt.start()

        def restarted():
            new = copies("rti-edited-v2")
            s = rt.service("edited")
            return copies("rti-edited-v1") == [] and len(new) == 1 and s["state"] == "running" and s["pid"] == new[0]
        rt.wait_for(restarted, 20, "the old process to be replaced by one of the new definition")
        self.assertIn("edited: its definition changed while no runtime ran", rt.runtime_log())
        status = json.loads(rt.ctl("--json", "status", "edited", check=True).stdout)
        self.assertEqual(status["pid"], copies("rti-edited-v2")[0])
        self.assertEqual(json.loads(rt.ctl("--json", "reload", check=True).stdout)["changed"], [])
        # An unchanged definition is adopted as before: same process, no restart.
        pid = rt.service("edited")["pid"]
        kill_runtime(rt)
        rt.start()
        rt.wait_state("edited", "running")
        self.assertEqual(rt.service("edited")["pid"], pid)
        self.assertEqual(copies("rti-edited-v2"), [pid])
        self.assertEqual(rt.shutdown(), 0)


class CrashLoopAcrossRestarts(RuntimeTestCase):
    def test_a_crash_looping_service_reaches_its_limit_though_the_runtime_is_killed_between_crashes(self):
        crashy = ('[service]\nname = "crashy"\n'
                  'exec = ["/bin/sh", "-c", "sleep 0.4; exit 3", "rti-crashy"]\n'
                  '[restart]\ndelay = "50ms"\nmax-restarts = 3\nmax-restart-window = "10s"\n')
        rt = self.runtime({"crashy": crashy, "steady": '[service]\nname = "steady"\n' + looping("rti-steady")})
        runtimes = 1
        for _ in range(12):
            # Wait for this runtime to see one crash (a new pid) or to give up, then kill it.
            first = {}

            def progressed():
                s = rt.service("crashy")
                if s["state"] == "failed":
                    return True
                if s["pid"] and s["state"] == "running":
                    first.setdefault("pid", s["pid"])
                    return s["pid"] != first["pid"]
                return False
            rt.wait_for(progressed, 20, "crashy to crash and be restarted, or to fail")
            if rt.service("crashy")["state"] == "failed":
                break
            kill_runtime(rt)
            rt.start()
            runtimes += 1
        s = rt.service("crashy")
        self.assertEqual(s["state"], "failed", s)
        self.assertIn("max-restarts (3 in 10s)", s["detail"])
        self.assertEqual(s["restarts"], 3, "the restarts of earlier runtimes are counted")
        self.assertGreaterEqual(runtimes, 4, "the runtime was killed between the crashes")
        self.assertEqual(rt.service("steady")["state"], "running")
        self.assertEqual(rt.shutdown(), 0)


class NoLongerConfigured(RuntimeTestCase):
    def test_a_removed_service_that_ignores_sigterm_is_killed_after_the_grace(self):
        rt = self.runtime({
            "stubborn": '[service]\nname = "stubborn"\n'
                        'exec = ["/bin/sh", "-c", "trap \'\' TERM; while :; do sleep 1; done", "rti-stubborn"]\n',
            "keep": '[service]\nname = "keep"\n' + looping("rti-keep"),
        })
        rt.wait_state("stubborn", "running")
        pid = rt.service("stubborn")["pid"]
        kill_runtime(rt)
        os.unlink(os.path.join(rt.config, "services", "stubborn.toml"))
        rt.start()
        rt.wait_for(lambda: f"stubborn (pid {pid}) is no longer configured: stopping it" in rt.runtime_log(), 10,
                    "the runtime to stop what is no longer configured")
        # It ignores SIGTERM: it must not run on unmanaged.
        rt.wait_for(lambda: copies("rti-stubborn") == [], 30, "the stubborn process to be killed")
        self.assertIn("stubborn (pid %d) did not stop within 10000 ms: killing it" % pid, rt.runtime_log())
        self.assertEqual(rt.service("keep")["state"], "running")
        self.assertEqual(rt.shutdown(), 0)


if __name__ == "__main__":
    unittest.main()
