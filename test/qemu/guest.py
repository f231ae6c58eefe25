"""Boots a dynamod guest in QEMU for a test and hands back what it printed.

Every test builds its own initramfs from the build tree (DYNAMOD_BUILD_DIR) with qemu/mkinitramfs and
boots it with qemu/run-guest in batch mode. A guest script runs as the `guest-test` service; it prints
`CHECK name: value` lines that the host-side test asserts on.
"""
import os
import re
import subprocess
import tempfile
import textwrap
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DYNAMOD_BUILD_DIR", os.path.join(REPO, "build"))
WORK = os.path.join(BUILD, "qemu-tests")


class GuestRun:
    def __init__(self, name, rc, log_path):
        self.name = name
        self.rc = rc
        self.log_path = log_path
        with open(log_path, "rb") as f:
            self.log = f.read().decode(errors="replace").replace("\r", "")

    def lines(self, pattern):
        return [m for m in re.findall(pattern, self.log, re.MULTILINE)]

    def check(self, name):
        """The value of the guest's `CHECK name: value` line (None if absent)."""
        # Not anchored: the console shell's prompt may share the line.
        m = re.search(r"CHECK " + re.escape(name) + r": ?(.*)$", self.log, re.MULTILINE)
        return m.group(1).strip() if m else None

    def tail(self, n=60):
        return "\n".join(self.log.splitlines()[-n:])


class GuestTestCase(unittest.TestCase):
    maxDiff = None

    def boot(self, name, script=None, append="", no_runtime=False, send_after=(), timeout=120, extra_args=()):
        os.makedirs(WORK, exist_ok=True)
        initrd = os.path.join(WORK, name + ".initrd.gz")
        log = os.path.join(WORK, name + ".log")
        cmd = [os.path.join(REPO, "qemu", "mkinitramfs"), "--build-dir", BUILD, "--output", initrd]
        cmd += list(extra_args)
        script_file = None
        if script is not None:
            script_file = tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False)
            script_file.write(textwrap.dedent(script))
            script_file.close()
            cmd += ["--test-script", script_file.name]
        if no_runtime:
            cmd += ["--no-runtime"]
        subprocess.run(cmd, check=True)
        if script_file:
            os.unlink(script_file.name)
        run = [os.path.join(REPO, "qemu", "run-guest"), "--initrd", initrd, "--log", log, "--timeout", str(timeout)]
        if append:
            run += ["--append", append]
        for pattern, text in send_after:
            run += ["--send-after", pattern, text]
        rc = subprocess.run(run).returncode
        return GuestRun(name, rc, log)

    def assertInLog(self, guest, pattern, msg=None):
        if not re.search(pattern, guest.log, re.MULTILINE):
            self.fail(f"{msg or 'pattern not found'}: /{pattern}/ in {guest.log_path}\n--- log tail ---\n{guest.tail()}")

    def assertNotInLog(self, guest, pattern):
        m = re.search(pattern, guest.log, re.MULTILINE)
        if m:
            self.fail(f"unexpected /{pattern}/ in {guest.log_path}: {m.group(0)!r}")

    def assertLogOrder(self, guest, patterns):
        """Each pattern appears in the log after the previous one."""
        pos = 0
        for p in patterns:
            m = re.compile(p, re.MULTILINE).search(guest.log, pos)
            if not m:
                self.fail(f"/{p}/ not found after offset {pos} in {guest.log_path}\n{guest.tail()}")
            pos = m.end()

    def assertPoweredOff(self, guest):
        self.assertEqual(guest.rc, 0, f"QEMU did not exit cleanly (run-guest rc {guest.rc}); see {guest.log_path}\n"
                                      f"{guest.tail()}")
        self.assertNotInLog(guest, r"Kernel panic")


def parse_duration_ms(text):
    """'250ms' -> 250, '1.6s' -> 1600, '30s' -> 30000 (the format PID 1 logs)."""
    if text.endswith("ms"):
        return float(text[:-2])
    return float(text[:-1]) * 1000
