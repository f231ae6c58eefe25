"""dynamod-init as PID 1 of a pid namespace (container mode) on the host: garbage on the IPC channel makes it log,
drop the channel and restart the runtime with backoff, never die; a well-behaved runtime then shuts it down."""
import os
import re
import subprocess
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DYNAMOD_BUILD_DIR", os.path.join(REPO, "build"))


class ContainerModeInit(unittest.TestCase):
    def test_garbage_from_the_runtime_is_survived_and_the_runtime_restarted(self):
        fake = os.path.join(REPO, "test", "host", "fake_runtime.py")
        proc = subprocess.run(
            ["unshare", "--pid", "--fork", "--mount-proc", os.path.join(BUILD, "pid1", "dynamod-init"), "--container",
             f"dynamod.runtime={fake}"],
            capture_output=True, text=True, timeout=60)
        log = proc.stderr
        self.assertEqual(proc.returncode, 0, log)
        self.assertIn("dynamod-init starting in container mode", log)
        garbage = re.findall(r"garbage on the IPC channel \(oversized frame\); closing it and stopping runtime pid \d+",
                             log)
        self.assertEqual(len(garbage), 2, log)
        self.assertIn("restarting runtime in 100ms (runtime exited, attempt 1)", log)
        self.assertIn("restarting runtime in 200ms (runtime exited, attempt 2)", log)
        self.assertRegex(log, r"runtime ready \(pid \d+, generation 3,")
        order = ["shutdown requested by the runtime: poweroff", "runtime reports every service stopped",
                 "all processes exited", "heap allocations after start: 0", "container poweroff: exiting"]
        pos = 0
        for line in order:
            found = log.find(line, pos)
            self.assertGreaterEqual(found, 0, f"{line!r} after offset {pos}:\n{log}")
            pos = found

    def test_refuses_to_run_when_not_pid_1(self):
        proc = subprocess.run([os.path.join(BUILD, "pid1", "dynamod-init")], capture_output=True, text=True, timeout=10)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("must run as PID 1", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
