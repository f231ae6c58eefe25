"""Issue item 8: one missing binary must not take the system down. The demo tree plus a permanent service whose
exec does not exist (and one that requires it) boots; the missing one exceeds its max-restarts and stays down as
failed (root's default give-up = "degrade"), its dependent is blocked, everything else runs, and the runtime is
never restarted."""
import os
import tempfile
import unittest

from guest import GuestTestCase

GHOST = """\
[service]
name = "ghost"
exec = ["/usr/sbin/ghostd", "--foreground"]
"""

GHOST_CLIENT = """\
[service]
name = "ghost-client"
exec = ["/bin/sleep", "1000"]

[dependencies]
requires = ["ghost"]
"""

SCRIPT = """
runtime=$(pidof dynamod-runtime)
echo "CHECK runtime-before: $runtime"
# 5 restarts with the default 1 s delay: the sixth failed start gives up on it.
for i in $(seq 300); do dynamodctl list | grep -q "^ghost .*gave up" && break; sleep 0.1; done
for i in $(seq 100); do dynamodctl list | grep -q "^httpd *running" && break; sleep 0.1; done
for i in $(seq 100); do dynamodctl list | grep -q "^ghost-client .*gave up" && break; sleep 0.1; done
dynamodctl list | sed 's/^/LIST /'
for s in syslogd klogd httpd heartbeat console site ghost ghost-client; do
  echo "CHECK state-$s: $(dynamodctl list | awk -v s=$s '$1 == s {print $2}')"
done
rc=0; dynamodctl status ghost > /tmp/status || rc=$?
sed 's/^/STATUS /' /tmp/status
echo "CHECK status-exit: $rc"
echo "CHECK http: $(wget -q -O - http://127.0.0.1:8080/ | head -n 1)"
echo "CHECK runtime-after: $(pidof dynamod-runtime)"
"""


class Degrade(GuestTestCase):
    def test_a_missing_binary_leaves_the_rest_running_and_the_runtime_up(self):
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for name, text in (("ghost", GHOST), ("ghost-client", GHOST_CLIENT)):
                path = os.path.join(tmp, name + ".toml")
                with open(path, "w") as f:
                    f.write(text)
                files += ["--file", f"{path}:/etc/dynamod/services/{name}.toml"]
            guest = self.boot("degrade", SCRIPT, timeout=150, extra_args=files)
        self.assertPoweredOff(guest)
        self.assertInLog(guest, r"DYNAMOD-TEST: PASS")
        for service in ["syslogd", "klogd", "httpd", "heartbeat", "console"]:
            self.assertEqual(guest.check(f"state-{service}"), "running", service)
        self.assertEqual(guest.check("state-site"), "done")
        self.assertEqual(guest.check("http"), "<h1>dynamod demo</h1>")
        # The missing one is failed, says why, and blocks what requires it.
        self.assertEqual(guest.check("state-ghost"), "failed")
        self.assertEqual(guest.check("state-ghost-client"), "failed")
        self.assertInLog(guest, r"^STATUS +Detail: +gave up: exceeded its max-restarts \(5 in 60s\); "
                                r"last: start failed: exec: No such file or directory$")
        self.assertEqual(guest.check("status-exit"), "3")
        self.assertInLog(guest, r"^STATUS .*gave up: exceeded its max-restarts \(5 in 60s\)")
        self.assertInLog(guest, r"FAILED\S*\] ghost: gave up: exceeded its max-restarts \(5 in 60s\); last: start failed")
        self.assertInLog(guest, r"^LIST ghost-client +failed .*dependency failed: ghost: gave up: exceeded its max-restarts")
        # The runtime was never restarted: same pid, one generation, no give-up reported to PID 1.
        self.assertRegex(guest.check("runtime-before") or "", r"^\d+$")
        self.assertEqual(guest.check("runtime-after"), guest.check("runtime-before"))
        self.assertNotInLog(guest, r"generation 2")
        self.assertNotInLog(guest, r"root supervisor gave up")
        self.assertNotInLog(guest, r"exited with status 3")
        self.assertInLog(guest, r"dynamod-init: runtime reports every service stopped")
        self.assertInLog(guest, r"dynamod-init: runtime \(pid \d+\) exited with status 0 after")


if __name__ == "__main__":
    unittest.main(verbosity=2)
