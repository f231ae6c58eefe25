"""Issue 5: every dynamodctl command and its exit code against a user-mode runtime, JSON shapes, reload,
permissions, colour and completion."""
import json
import os
import re
import signal
import subprocess
import time
import unittest

from runtime_harness import CTL, REPO, Runtime


def sh(script):
    return '["/bin/sh", "-c", ' + '"' + script.replace("\\", "\\\\").replace('"', '\\"') + '"]'


def service(name, script="exec sleep 1000", extra=""):
    return f'[service]\nname = "{name}"\nexec = {sh(script)}\n{extra}'


class Ctl(unittest.TestCase):
    def setUp(self):
        self.rt = Runtime({
            "alpha": service("alpha", "echo alpha says hello; exec sleep 1000"),
            "beta": service("beta", "systemd-notify --ready --status='all good'; exec sleep 1000",
                            '[readiness]\ntype = "notify"\nnotify-access = "all"\n'),
            "gamma": service("gamma", extra='supervisor = "grp"\n'.replace("supervisor", "#") + ""),
            "delta": service("delta", extra='[dependencies]\nrequires = ["alpha"]\n'),
        }, supervisors={"grp": '[supervisor]\nname = "grp"\nstrategy = "one-for-all"\n'})
        self.addCleanup(self.rt.cleanup)
        self.rt.start()
        for name in ("alpha", "beta", "gamma", "delta"):
            self.rt.wait_state(name, "running")

    def ctl_json(self, *args):
        r = self.rt.ctl("--json", *args)
        return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None

    def test_list_as_table_and_json(self):
        r = self.rt.ctl("list")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.splitlines()[0], r"^SERVICE\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+SUPERVISOR\s+INFO$")
        self.assertRegex(r.stdout, r"\nbeta\s+running\s+\d+\s+\S+\s+0\s+root\s+all good\n")
        self.assertNotIn("\033[", r.stdout, "no colour when piped")
        code, services = self.ctl_json("list")
        self.assertEqual(code, 0)
        by_name = {s["name"]: s for s in services}
        self.assertEqual(set(by_name), {"alpha", "beta", "gamma", "delta"})
        for s in services:
            for key in ("name", "supervisor", "state", "pid", "restarts", "last_exit", "detail", "status_text", "type",
                        "readiness", "uptime_ms", "since_ms"):
                self.assertIn(key, s)
            self.assertGreater(s["pid"], 0)
        self.assertEqual(by_name["beta"]["readiness"], "notify")

    def test_status_exit_codes_and_details(self):
        r = self.rt.ctl("status", "alpha")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"State:\s+running \(pid \d+\), up")
        self.assertIn("alpha says hello", r.stdout, "the last log lines")
        code, s = self.ctl_json("status", "beta")
        self.assertEqual(code, 0)
        self.assertEqual(s["status_text"], "all good")
        self.assertTrue(s["ready"])
        self.assertEqual(len(s["invocation_id"]), 32)
        self.assertEqual(s["supervisor"], "root")
        self.assertEqual(self.rt.ctl("stop", "gamma").returncode, 0)
        self.assertEqual(self.rt.ctl("status", "gamma").returncode, 3, "not running")
        r = self.rt.ctl("status", "nosuch")
        self.assertEqual(r.returncode, 4)
        self.assertIn("unknown service 'nosuch'", r.stderr)

    def test_start_stop_restart_wait_for_the_outcome(self):
        old = self.rt.list()["alpha"]["pid"]
        r = self.rt.ctl("restart", "alpha")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"Restarted alpha \(pid \d+\)\.")
        new = self.rt.list()["alpha"]
        self.assertNotEqual(new["pid"], old)
        self.assertEqual(new["state"], "running", "restart answers once the service runs again")
        r = self.rt.ctl("stop", "alpha", "beta")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "Stopped alpha.\nStopped beta.\n")
        self.assertEqual(self.rt.list()["alpha"]["state"], "stopped")
        self.assertEqual(self.rt.ctl("stop", "alpha").stdout, "alpha is already stopped.\n")
        r = self.rt.ctl("start", "beta")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"Started beta \(pid \d+\)\.")
        self.assertEqual(self.rt.list()["beta"]["state"], "running", "start answers once ready (READY=1)")
        code, reply = self.ctl_json("--no-block", "start", "alpha")
        self.assertEqual(code, 0)
        self.assertEqual(reply["results"][0]["result"], "requested")
        self.rt.wait_state("alpha", "running")
        r = self.rt.ctl("start", "nosuch", "alpha")
        self.assertEqual(r.returncode, 5, "unknown unit, as systemctl")
        self.assertIn("nosuch: unknown service 'nosuch'", r.stderr)

    def test_a_failing_start_is_reported_with_exit_1(self):
        with open(os.path.join(self.rt.work, "broken"), "w"):
            pass
        self.rt.write_service("flaky", service("flaky", "exit 3", 'type = "oneshot"\n[restart]\npolicy = "temporary"\n'))
        self.assertEqual(self.rt.ctl("reload").returncode, 0)
        self.rt.wait_for(lambda: self.rt.list()["flaky"]["last_exit"] == "exited with status 3", 10, "flaky to fail")
        r = self.rt.ctl("start", "flaky")
        self.assertEqual(r.returncode, 1)
        self.assertIn("flaky: failed to start flaky: exited with status 3", r.stderr)

    def test_tree_shows_every_actor(self):
        r = self.rt.ctl("tree")
        self.assertEqual(r.returncode, 0)
        out = r.stdout
        self.assertRegex(out.splitlines()[0], r"^dynamod-runtime \(pid \d+, user mode, up .*\)  mailbox \d+$")
        for pattern in [r"├─ reaper: \d+ pids watched", r"├─ notify socket .*/notify:", r"├─ dependency tracker: 4/4 ready",
                        r"├─ control listener .*control\.sock: \d+ session", r"└─ supervisor root \[running\] one-for-one",
                        r"supervisor grp \[running\] one-for-all", r"service alpha \[running\] pid \d+",
                        r"log sink .*alpha\.log \(\d+ lines\)"]:
            self.assertRegex(out, pattern)
        code, tree = self.ctl_json("tree")
        self.assertEqual(tree["kind"], "runtime")
        kinds = set()

        def walk(n):
            kinds.add(n["kind"])
            self.assertIn("mailbox", n) if n["kind"] != "service_incarnation" else None
            for c in n.get("children", []):
                walk(c)
        walk(tree)
        self.assertTrue({"runtime", "reaper", "notify_socket", "dependency_tracker", "control_listener", "supervisor",
                         "service", "log_sink"} <= kinds, kinds)

    def test_logs_tail_and_follow(self):
        self.rt.write_service("talker", service("talker", "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done"))
        self.rt.ctl("reload", check=True)
        self.rt.wait_state("talker", "running")
        self.rt.wait_for(lambda: "tick 5" in self.rt.ctl("logs", "talker").stdout, 10, "ticks")
        r = self.rt.ctl("logs", "talker", "-n", "3")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(len(r.stdout.splitlines()), 3)
        follow = subprocess.Popen([CTL, "--socket", self.rt.socket, "logs", "talker", "-f", "-n", "1"],
                                  stdout=subprocess.PIPE, text=True)
        lines = [follow.stdout.readline() for _ in range(5)]
        follow.kill()
        follow.wait()
        numbers = [int(m) for l in lines for m in re.findall(r"out\| tick (\d+)", l)]
        self.assertEqual(len(numbers), 5)
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 5)), "followed lines arrive in order")
        self.assertEqual(self.rt.ctl("logs", "nosuch").returncode, 4)

    def test_reload_applies_the_difference(self):
        before = self.rt.list()
        os.unlink(os.path.join(self.rt.config, "services", "gamma.toml"))                        # removed
        self.rt.write_service("epsilon", service("epsilon"))                                       # added
        self.rt.write_service("delta", service("delta", "exec sleep 2000",
                                               '[dependencies]\nrequires = ["alpha"]\n'))           # changed
        # alpha: same definition, different layout (a comment) -> unchanged
        path = os.path.join(self.rt.config, "services", "alpha.toml")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write("# touched, not changed\n" + text)
        r = self.rt.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("+ epsilon", r.stdout)
        self.assertIn("- gamma", r.stdout)
        self.assertIn("~ delta", r.stdout)
        self.assertIn("= 2 unchanged", r.stdout)
        self.rt.wait_state("epsilon", "running")
        self.rt.wait_for(lambda: "gamma" not in self.rt.list(), 10, "gamma to go")
        self.rt.wait_pid_change("delta", before["delta"]["pid"])
        after = self.rt.list()
        self.assertEqual(after["alpha"]["pid"], before["alpha"]["pid"], "unchanged keeps its process")
        self.assertEqual(after["beta"]["pid"], before["beta"]["pid"])
        with open(f"/proc/{after['delta']['pid']}/cmdline", "rb") as f:
            self.assertIn(b"sleep 2000", f.read().replace(b"\0", b" "))
        self.assertEqual(self.rt.ctl("status", "gamma").returncode, 4)
        code, diff = self.ctl_json("reload")
        self.assertEqual(diff["added"] + diff["removed"] + diff["changed"], [], "a second reload changes nothing")

    def test_reload_with_a_broken_file_reports_it_and_keeps_the_rest(self):
        self.rt.write_service("oops", '[service]\nname = "oops"\n')
        r = self.rt.ctl("reload")
        self.assertEqual(r.returncode, 1)
        self.assertIn("oops.toml:1:1: service.exec: required key is missing", r.stdout)
        self.assertEqual(self.rt.list()["alpha"]["state"], "running")

    def test_reload_never_loses_a_running_service_whose_file_broke(self):
        before = self.rt.list()
        self.rt.write_service("alpha", '[service]\nname = "alpha"\nexec = ["/bin/sleep", "1"]\nrestart = "often"\n')
        code, diff = self.ctl_json("reload")
        self.assertEqual(code, 1)
        self.assertTrue(any("alpha.toml" in e and "service.restart" in e for e in diff["errors"]), diff["errors"])
        self.assertIn("alpha", diff["kept"])
        self.assertNotIn("alpha", diff["removed"] + diff["changed"])
        time.sleep(0.5)
        self.assertEqual(self.rt.list()["alpha"]["pid"], before["alpha"]["pid"], "the running process is untouched")

    def test_check(self):
        r = self.rt.ctl("check")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r": 4 service\(s\), 2 supervisor\(s\), 0 error\(s\)")
        self.rt.write_service("bad", '[service]\nname = "bad"\nexec = ["/bin/true"]\ntype = "sometimes"\n')
        code, result = self.ctl_json("check")
        self.assertEqual(code, 1)
        self.assertEqual(len(result["errors"]), 1)
        self.assertIn("bad.toml:4:8: service.type: 'sometimes' is not one of", result["errors"][0])

    def test_unprivileged_clients_may_read_but_not_change(self):
        r = self.rt.ctl("list", user=65534)
        self.assertEqual(r.returncode, 0, r.stderr)
        for args in (["stop", "alpha"], ["start", "alpha"], ["restart", "alpha"], ["reload"], ["check"],
                     ["shutdown", "poweroff"]):
            r = self.rt.ctl(*args, user=65534)
            self.assertEqual(r.returncode, 4, args)
            self.assertIn(f"permission denied: '{args[0]}' needs root", r.stderr)
        self.assertEqual(self.rt.list()["alpha"]["state"], "running")
        self.assertIsNone(self.rt.proc.poll(), "the runtime is still there")

    def test_colour_only_on_a_terminal_and_never_with_no_color(self):
        def on_tty(env):
            return subprocess.run(["script", "-qec", f"{CTL} --socket {self.rt.socket} list", "/dev/null"],
                                  capture_output=True, text=True, env=env).stdout
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        self.assertIn("\033[0;32m" if False else "\033[32mrunning", on_tty(env))
        self.assertNotIn("\033[", on_tty(dict(env, NO_COLOR="1")))

    def test_bash_completion_offers_commands_and_service_names(self):
        completion = os.path.join(REPO, "dynamodctl", "completion.bash")
        def complete(line):
            words = line.split(" ")
            script = (f"PATH={os.path.dirname(CTL)}:$PATH; source {completion}; COMP_WORDS=({line}); "
                      f"COMP_CWORD={len(words) - 1}; _dynamodctl; echo ${{COMPREPLY[@]}}")
            return subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout.split()
        self.assertEqual(complete("dynamodctl re"), ["restart", "reload"])
        self.assertEqual(sorted(complete(f"dynamodctl --socket {self.rt.socket} status ''")),
                         ["alpha", "beta", "delta", "gamma"])
        self.assertEqual(complete("dynamodctl shutdown p"), ["poweroff"])

    def test_shutdown_stops_everything(self):
        r = self.rt.ctl("shutdown", "poweroff")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(self.rt.proc.wait(timeout=30), 0)
        self.assertIn("Stopped delta.", self.rt.console())

    def test_usage_errors(self):
        r = self.rt.ctl("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", r.stderr)
        r = self.rt.ctl("status")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: status SERVICE", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
