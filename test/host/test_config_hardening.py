"""Configuration files as a careless or hostile author writes them: none may crash or hang the runtime, be skipped
silently, or print raw control characters; `check` is root's."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runtime_harness import RUNTIME, Runtime, RuntimeTestCase, sh  # noqa: E402

GOOD = '[service]\nname = "good"\nexec = ["/bin/sleep", "1000"]\n'
NOBODY = 65534


def check(config, user=None):
    cmd = [RUNTIME, "--check", config]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, timeout=60)


class UnreadableFiles(RuntimeTestCase):
    def test_every_unreadable_file_or_directory_is_an_error_with_its_reason(self):
        rt = Runtime({"good": GOOD, "secret": GOOD.replace("good", "secret"),
                      "app": '[service]\nname = "app"\nexec = ["/bin/true"]\n[dependencies]\nrequires = ["secret"]\n'})
        self.addCleanup(rt.cleanup)
        for d in (rt.dir, rt.config, os.path.join(rt.config, "services"), os.path.join(rt.config, "supervisors")):
            os.chmod(d, 0o755)
        for f in os.listdir(os.path.join(rt.config, "services")):
            os.chmod(os.path.join(rt.config, "services", f), 0o644)
        secret = os.path.join(rt.config, "services", "secret.toml")
        os.chmod(secret, 0)
        os.chmod(os.path.join(rt.config, "supervisors"), 0)
        r = check(rt.config, user=NOBODY)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err)
        self.assertIn(f"{secret}: cannot read the file: Permission denied", err)
        self.assertIn(f"{rt.config}/supervisors: cannot read the directory: Permission denied", err)
        self.assertIn(f"app: disabled: requires 'secret', which is disabled (its file {secret} cannot be read "
                      "(Permission denied))", err)
        self.assertNotIn("unknown service", err)
        self.assertIn(b"1 service(s)", r.stdout)

    def test_a_typo_in_the_directory_fails_the_check(self):
        r = check("/nonexistent/dynamod-config")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"/nonexistent/dynamod-config: cannot read the configuration directory: No such file or directory",
                      r.stderr)


class FilesThatCrashedTheRuntime(RuntimeTestCase):
    DEEP_KEY = "a" + ".a" * 35000 + " = 1\n"
    DEEP_HEADER = "[" + "a." * 35000 + "a]\n"

    def test_check_boot_and_reload_survive_keys_of_thirty_five_thousand_parts(self):
        rt = Runtime({"good": GOOD, "deep": self.DEEP_KEY})
        self.addCleanup(rt.cleanup)
        r = check(rt.config)
        self.assertEqual(r.returncode, 1, "an error, not a signal")
        self.assertIn(b"deep.toml:1:64: a key or table header has more than 32 dotted parts", r.stderr)
        rt.start()
        rt.wait_state("good", "running")
        rt.write_service("deep", self.DEEP_HEADER)
        reload = rt.ctl("--json", "reload")
        self.assertEqual(json.loads(reload.stdout)["errors"],
                         [f"{rt.config}/services/deep.toml:1:65: a key or table header has more than 32 dotted parts"])
        checked = json.loads(rt.ctl("--json", "check").stdout)
        self.assertEqual(len(checked["errors"]), 1)
        self.assertIsNone(rt.proc.poll(), "the runtime is still running")
        self.assertEqual(rt.service("good")["state"], "running")

    def test_check_over_the_socket_needs_root(self):
        rt = self.runtime({"good": GOOD})
        r = rt.ctl("check", user=NOBODY)
        self.assertEqual(r.returncode, 4)
        self.assertIn("permission denied: 'check' needs root", r.stderr)


class UntrustedText(RuntimeTestCase):
    FORGED = '[service]\nname = "forged"\nexec = ["/bin/true"]\ntype = "x\\n[  OK  ] Started everything.\\u001b[2J"\n'

    def test_control_characters_are_escaped_for_people_and_exact_in_json(self):
        rt = self.runtime({"good": GOOD, "forged": self.FORGED})
        rt.wait_state("good", "running")
        with open(os.path.join(rt.state, "runtime.log")) as f:
            log = f.read()
        for text in (check(rt.config).stderr.decode(), rt.ctl("check").stdout, rt.ctl("reload").stdout,
                     rt.console(), log):
            self.assertNotIn("\033", text)
            self.assertNotIn("\n[  OK  ] Started everything", text)
            self.assertIn("'x\\n[  OK  ] Started everything.\\e[2J' is not one of", text)
        exact = json.loads(rt.ctl("--json", "check").stdout)["errors"][0]
        self.assertIn("'x\n[  OK  ] Started everything.\033[2J'", exact, "JSON carries the exact text")

    def test_a_services_status_text_is_escaped_in_tables_and_exact_in_json(self):
        rt = self.runtime({"chatty": '[service]\nname = "chatty"\ntype = "notify"\nexec = ' + sh(
            "systemd-notify --ready --status=\"$(printf 'up\\033[2Jdown')\"; exec sleep 1000") + "\n[readiness]\nnotify-access = \"all\"\n"})
        rt.wait_for(lambda: "up" in (rt.service("chatty") or {}).get("status_text", ""), 10, "the status text")
        self.assertEqual(rt.service("chatty")["status_text"], "up\033[2Jdown", "JSON is exact")
        for args in (["list"], ["status", "chatty"]):
            out = rt.ctl(*args).stdout
            self.assertNotIn("\033", out)
            self.assertIn("up\\e[2Jdown", out)

    def test_a_client_supplied_name_is_escaped_in_the_error(self):
        rt = self.runtime({"good": GOOD})
        r = rt.ctl("status", "x\n\033[31mFORGED")
        self.assertNotIn("\033", r.stderr)
        self.assertNotIn("\nFORGED", r.stderr)


class Cycles(unittest.TestCase):
    def test_a_ring_of_two_thousand_services_prints_one_bounded_error(self):
        rt = Runtime({f"s{i}": f'[service]\nname = "s{i}"\nexec = ["/bin/true"]\n[dependencies]\n'
                               f'requires = ["s{(i + 1) % 2000}"]\n' for i in range(2000)})
        self.addCleanup(rt.cleanup)
        r = check(rt.config)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.count(b"dependency cycle of 2000 services: s0 -> s1 -> "), 1)
        self.assertLess(len(r.stderr), 300_000, "linear in the number of services, not quadratic")


if __name__ == "__main__":
    unittest.main()
