"""Issue 14 §2/§6: under dynamod-init the runtime inherited the kernel's RLIMIT_NOFILE of 4096 and ran out of
descriptors (issue: spawns failed from about 800 services; at this commit the processes start but the runtime
sits at 4095 descriptors and what it opens per service fails with EMFILE). PID 1 now raises the hard limit to
fs.nr_open; 2000 trivial services (sh, then busybox sleep) boot under dynamod-init, all run, each one's first
line reaches its log, and the runtime logs no EMFILE."""
import os
import shutil
import tempfile
import unittest

from guest import GuestTestCase

COUNT = 2000

SCRIPT = f"""
running() {{ dynamodctl list 2>/dev/null | awk '$1 ~ /^svc/ && $2 == "running"' | wc -l; }}
# Wait until all run, or until the count has not grown for 90 s (the old limit stopped it near 1000).
n=0
last=-1
stalled=0
while [ "$stalled" -lt 90 ]; do
  n=$(running)
  [ "$n" -ge {COUNT} ] && break
  if [ "$n" -gt "$last" ]; then last=$n; stalled=0; else stalled=$((stalled + 1)); fi
  sleep 1
done
echo "CHECK running: $n"
echo "CHECK sleepers: $(pidof sleep | wc -w)"
echo "CHECK init-nofile: $(awk '/^Max open files/ {{print $4, $5}}' /proc/1/limits)"
echo "CHECK runtime-nofile: $(awk '/^Max open files/ {{print $4, $5}}' /proc/$(pidof dynamod-runtime)/limits)"
one=$(pidof sleep | awk '{{print $1}}')
echo "CHECK service-nofile: $(awk '/^Max open files/ {{print $4}}' /proc/$one/limits)"
echo "CHECK runtime-fds: $(ls /proc/$(pidof dynamod-runtime)/fd | wc -l)"
echo "CHECK emfile-lines: $(grep -c 'Too many open files' /run/dynamod/runtime.log)"
# Every service's first line reached its log (the log sink's FIFO was opened and read).
logged=0
for t in $(seq 60); do
  logged=$(grep -l 'up svc' /var/log/dynamod/svc*.log 2>/dev/null | wc -l)
  [ "$logged" -ge {COUNT} ] && break
  sleep 1
done
echo "CHECK logged: $logged"
echo "CHECK logs-svc1999: $(dynamodctl logs svc1999 -n 5 | grep -c 'up svc1999')"
"""


class ManyServices(GuestTestCase):
    def test_two_thousand_services_all_run_under_dynamod_init(self):
        etc = tempfile.mkdtemp(prefix="dynamod-many.")
        try:
            services = os.path.join(etc, "dynamod", "services")
            os.makedirs(services)
            os.makedirs(os.path.join(etc, "dynamod", "supervisors"))
            with open(os.path.join(etc, "dynamod", "supervisors", "root.toml"), "w") as f:
                f.write('[supervisor]\nname = "root"\n[restart]\nmax-restarts = 1000\n')
            for i in range(COUNT):
                with open(os.path.join(services, f"svc{i:04d}.toml"), "w") as f:
                    f.write(f'[service]\nname = "svc{i:04d}"\n'
                            f'exec = ["/bin/sh", "-c", "echo up svc{i:04d}; exec sleep 100000"]\n')
            guest = self.boot("many-services", SCRIPT, timeout=1500, extra_args=["--etc", etc])
        finally:
            shutil.rmtree(etc)
        self.assertPoweredOff(guest)
        self.assertInLog(guest, r"DYNAMOD-TEST: PASS")
        print(f"\nrunning {guest.check('running')}, runtime limit {guest.check('runtime-nofile')}, "
              f"runtime fds {guest.check('runtime-fds')}, init limit {guest.check('init-nofile')}")
        self.assertInLog(guest, r"dynamod-init: file descriptor hard limit raised from \d+ to \d+ \(fs.nr_open\)")
        self.assertEqual(guest.check("running"), str(COUNT), "every service is up")
        self.assertGreaterEqual(int(guest.check("sleepers") or 0), COUNT)
        soft, hard = (guest.check("runtime-nofile") or "0 0").split()
        self.assertGreaterEqual(int(hard), 1048576, "the runtime inherits PID 1's raised hard limit")
        self.assertEqual(soft, hard, "and raises its soft limit to it")
        self.assertEqual(guest.check("service-nofile"), "1024", "services keep the conventional soft limit")
        init_soft = int((guest.check("init-nofile") or "0 0").split()[0])
        self.assertGreaterEqual(init_soft, 2 * COUNT + 64, "PID 1 can hold both log FIFOs of every service")
        self.assertNotInLog(guest, r"not holding a log FIFO")
        self.assertNotInLog(guest, r"Too many open files")
        # A busy boot (2000 spawns under TCG) is not a hung runtime: PID 1's liveness check must not fire.
        self.assertNotInLog(guest, r"did not answer a liveness ping")
        self.assertInLog(guest, r"dynamod-init: runtime ready \(pid \d+, generation 1,")
        self.assertNotInLog(guest, r"dynamod-init: runtime ready \(pid \d+, generation 2,")
        self.assertEqual(guest.check("emfile-lines"), "0", "the runtime never ran out of descriptors")
        self.assertEqual(guest.check("logged"), str(COUNT), "every service's output reached its log")
        self.assertEqual(guest.check("logs-svc1999"), "1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
