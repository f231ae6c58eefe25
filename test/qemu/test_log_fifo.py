"""Issue 14 §4: PID 1 holds the services' log FIFOs. A service that writes its last lines and exits while no
runtime runs (the runtime stopped, then killed) leaves them in its FIFO; the next runtime logs every one."""
import unittest

from guest import GuestTestCase

SCRIPT = r"""
cat > /etc/dynamod/services/brief.toml <<'TOML'
[service]
name = "brief"
exec = ["/bin/sh", "-c", "if [ -e /tmp/done ]; then exec sleep 1000; fi; echo started; while [ ! -e /tmp/go ]; do sleep 0.05; done; i=0; while [ $i -lt 500 ]; do i=$((i+1)); echo $i; done; touch /tmp/done; echo last words"]

[restart]
policy = "temporary"
TOML
dynamodctl reload
log=/var/log/dynamod/brief.log
for i in $(seq 150); do grep -q "out| started" $log 2>/dev/null && break; sleep 0.1; done
svc=""
for p in $(pidof sh); do grep -q "echo started" /proc/$p/cmdline 2>/dev/null && svc=$p; done
echo "CHECK brief-found: ${svc:-none}"
[ -n "$svc" ]
old=$(pidof dynamod-runtime)
kill -STOP "$old"
touch /tmp/go
for i in $(seq 150); do [ "$(cut -d' ' -f3 /proc/$svc/stat)" = Z ] && break; sleep 0.1; done
echo "CHECK brief-while-down: $(cut -d' ' -f3 /proc/$svc/stat)"
kill -9 "$old"
for i in $(seq 300); do
  new=$(pidof dynamod-runtime || true)
  if [ -n "$new" ] && [ "$new" != "$old" ] && dynamodctl list > /dev/null 2>&1; then break; fi
  sleep 0.1
done
for i in $(seq 150); do grep -q "out| last words" $log && break; sleep 0.1; done
echo "CHECK brief-last: $(grep -c 'out| last words' $log || true)"
echo "CHECK brief-numbers: $(sed -n 's/.* out| \([0-9][0-9]*\)$/\1/p' $log | wc -l)"
if [ "$(sed -n 's/.* out| \([0-9][0-9]*\)$/\1/p' $log)" = "$(seq 500)" ]; then echo "CHECK brief-in-order: yes"; fi
"""


class LogFifo(GuestTestCase):
    def test_output_written_while_no_runtime_runs_survives_the_service_s_exit(self):
        guest = self.boot("log_fifo", SCRIPT, timeout=180)
        self.assertPoweredOff(guest)
        self.assertInLog(guest, r"DYNAMOD-TEST: PASS")
        self.assertRegex(guest.check("brief-found") or "", r"^\d+$")
        self.assertEqual(guest.check("brief-while-down"), "Z", "it exited (a zombie of the stopped runtime)")
        self.assertEqual(guest.check("brief-last"), "1")
        self.assertEqual(guest.check("brief-numbers"), "500", "every line written while no runtime read")
        self.assertEqual(guest.check("brief-in-order"), "yes")
        self.assertInLog(guest, r"dynamod-init: runtime ready \(pid \d+, generation 2,")
        # PID 1 lets go of the FIFOs before the final unmounts.
        self.assertNotInLog(guest, r"lazily unmounted busy /run\b")
        self.assertInLog(guest, r"dynamod-init: heap allocations after start: 0$")


if __name__ == "__main__":
    unittest.main(verbosity=2)
