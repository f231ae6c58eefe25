"""Issue 4: the demo configuration boots with its whole supervision tree; after kill -9 of the runtime, PID 1
restarts it and the new runtime adopts every service: each keeps its pid, none is started twice."""
import re
import unittest

from guest import GuestTestCase

SCRIPT = """
for i in $(seq 150); do dynamodctl list | grep -q "^httpd *running" && break; sleep 0.1; done
dynamodctl list | awk '{print "BEFORE", $1, $2, $3}'
old=$(pidof dynamod-runtime)
kill -9 "$old"
for i in $(seq 300); do
  new=$(pidof dynamod-runtime || true)
  if [ -n "$new" ] && [ "$new" != "$old" ] && dynamodctl list > /tmp/after 2>/dev/null; then break; fi
  sleep 0.1
done
awk '{print "AFTER", $1, $2, $3}' /tmp/after
echo "CHECK runtime: $old -> $new"
echo "CHECK httpd-processes: $(pidof httpd | wc -w)"
echo "CHECK syslogd-processes: $(pidof syslogd | wc -w)"
echo "CHECK http: $(wget -q -O - http://127.0.0.1:8080/ | head -n 1)"
"""


class Adoption(GuestTestCase):
    def test_every_service_keeps_its_pid_when_the_runtime_is_killed(self):
        guest = self.boot("adoption", SCRIPT, timeout=120)
        self.assertPoweredOff(guest)
        self.assertInLog(guest, r"DYNAMOD-TEST: PASS")
        before = {m[0]: (m[1], m[2]) for m in re.findall(r"BEFORE (\S+) (\S+) (\S+)", guest.log) if m[0] != "SERVICE"}
        after = {m[0]: (m[1], m[2]) for m in re.findall(r"AFTER (\S+) (\S+) (\S+)", guest.log) if m[0] != "SERVICE"}
        for service in ["syslogd", "klogd", "httpd", "heartbeat", "console", "guest-test"]:
            self.assertEqual(before[service][0], "running", service)
            self.assertEqual(after.get(service), before[service], f"{service} keeps its pid and state")
        self.assertEqual(after["site"][0], "done")
        self.assertRegex(guest.check("runtime") or "", r"^\d+ -> \d+$")
        self.assertEqual(guest.check("httpd-processes"), "1", "adopted, not started twice")
        self.assertEqual(guest.check("syslogd-processes"), "1")
        self.assertEqual(guest.check("http"), "<h1>dynamod demo</h1>")
        self.assertInLog(guest, r"dynamod-init: runtime ready \(pid \d+, generation 2,")
        # The adopting runtime then stops everything (the one-shot that finished before it, too) and exits cleanly.
        self.assertInLog(guest, r"dynamod-init: runtime reports every service stopped")
        self.assertInLog(guest, r"dynamod-init: runtime \(pid \d+\) exited with status 0 after")


if __name__ == "__main__":
    unittest.main(verbosity=2)
