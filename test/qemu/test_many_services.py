"""Issue 14 §2/§6: under dynamod-init the runtime inherited the kernel's RLIMIT_NOFILE of 4096 and stopped at
about 800 services (every spawn past that failed with EMFILE). PID 1 now raises the hard limit to fs.nr_open;
2000 trivial services (busybox sleep) boot under dynamod-init and all run."""
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
                    f.write(f'[service]\nname = "svc{i:04d}"\nexec = ["/bin/sleep", "100000"]\n')
            guest = self.boot("many-services", SCRIPT, timeout=1500, extra_args=["--etc", etc])
        finally:
            shutil.rmtree(etc)
        self.assertPoweredOff(guest)
        self.assertInLog(guest, r"DYNAMOD-TEST: PASS")
        print(f"\nrunning {guest.check('running')}, runtime limit {guest.check('runtime-nofile')}, "
              f"runtime fds {guest.check('runtime-fds')}, init limit {guest.check('init-nofile')}")
        self.assertInLog(guest, r"dynamod-init: file descriptor hard limit raised from \d+ to \d+ \(fs.nr_open\)")
        self.assertEqual(guest.check("running"), str(COUNT), "every service is up")
        self.assertEqual(guest.check("sleepers"), str(COUNT))
        soft, hard = (guest.check("runtime-nofile") or "0 0").split()
        self.assertGreaterEqual(int(hard), 1048576, "the runtime inherits PID 1's raised hard limit")
        self.assertEqual(soft, hard, "and raises its soft limit to it")
        self.assertEqual(guest.check("service-nofile"), "1024", "services keep the conventional soft limit")
        self.assertNotInLog(guest, r"Too many open files")


if __name__ == "__main__":
    unittest.main(verbosity=2)
