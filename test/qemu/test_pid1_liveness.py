"""Issue 14 §6 in one boot: 700 mounts whose mount points are longer than 255 bytes and sources longer than 127
(mountinfo over 64 KiB) are all unmounted at shutdown; a hung runtime (SIGSTOP) misses PID 1's liveness ping and is killed and restarted;
a shutdown requested while the runtime is in restart back-off still stops the services in order (PID 1 starts
a runtime at once to do it) instead of going straight to SIGTERM-all."""
import unittest

from guest import GuestTestCase

SCRIPT = """
base=/mnt/long/$(printf 'd%.0s' $(seq 250))
source=src-$(printf 's%.0s' $(seq 150))
for i in $(seq 700); do mkdir -p "$base$i"; mount -t tmpfs "$source-$i" "$base$i"; done
echo "CHECK mountinfo-bytes: $(wc -c < /proc/self/mountinfo)"
echo "CHECK long-mounts: $(grep -c "$source" /proc/self/mountinfo)"
old=$(pidof dynamod-runtime)
kill -STOP "$old"
n=0
while :; do
  new=$(pidof dynamod-runtime || true)
  [ -n "$new" ] && [ "$new" != "$old" ] && break
  n=$((n + 1)); [ "$n" -gt 1200 ] && { echo "CHECK hung-restart: none"; exit 1; }
  sleep 0.1
done
echo "CHECK hung-restart: $old -> $new"
for i in $(seq 600); do dynamodctl list > /dev/null 2>&1 && break; sleep 0.1; done
echo "CHECK new-runtime-answers: $(dynamodctl list | awk '$1 == "guest-test" {print $2}')"
# The next restart waits 6 s (dynamod.backoff=3s,...): ask for a shutdown in that gap.
kill -9 "$new"
while pidof dynamod-runtime > /dev/null; do sleep 0.05; done
echo "CHECK shutdown-in-backoff: requested"
kill -USR2 1
"""


class Liveness(GuestTestCase):
    def test_hung_runtime_is_restarted_and_shutdown_in_backoff_stops_services_in_order(self):
        guest = self.boot("pid1-liveness", SCRIPT, append="dynamod.liveness=2s,4s dynamod.backoff=3s,30s",
                          timeout=300)
        self.assertPoweredOff(guest)
        self.assertRegex(guest.check("hung-restart") or "", r"^\d+ -> \d+$", "PID 1 replaced the stopped runtime")
        self.assertLogOrder(guest, [
            r"dynamod-init: runtime \(pid \d+\) did not answer a liveness ping within 4s; killing it to restart it",
            r"dynamod-init: runtime \(pid \d+\) killed by signal 9 \(Killed\)",
            r"dynamod-init: restarting runtime in 3s \(runtime hung, attempt 1\)",
            r"dynamod-init: runtime ready \(pid \d+, generation 2,",
        ])
        self.assertEqual(guest.check("new-runtime-answers"), "running", "the new runtime adopted the test")
        self.assertEqual(guest.check("shutdown-in-backoff"), "requested")
        self.assertLogOrder(guest, [
            r"dynamod-init: restarting runtime in 6s \(runtime exited, attempt 2\)",
            r"dynamod-init: shutdown requested by SIGUSR2: poweroff",
            r"dynamod-init: no runtime is running; starting one to stop the services in order",
            r"dynamod-init: started runtime \S+ \(pid \d+, generation 3\)",
            r"dynamod-init: runtime reports every service stopped",
            r"dynamod-init: sending SIGTERM to all processes",
            r"reboot: Power down",
        ])
        self.assertEqual(guest.check("long-mounts"), "700")
        self.assertGreater(int(guest.check("mountinfo-bytes") or 0), 65536 * 4)
        unmounted = guest.lines(r"dynamod-init: unmounted (\d+) filesystem\(s\), (\d+) of them lazily")
        self.assertEqual(len(unmounted), 1)
        self.assertGreaterEqual(int(unmounted[0][0]), 700, "every long mount was unmounted")
        self.assertNotInLog(guest, r"dynamod-init: cannot unmount")
        self.assertNotInLog(guest, r"dynamod-init: mountinfo: \d+ unparsable")
        self.assertInLog(guest, r"dynamod-init: heap allocations after start: 0$")
        # Only the one runtime that was hung got killed for it.
        self.assertEqual(len(guest.lines(r"did not answer a liveness ping")), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
