"""Issue 3 (a), (b): the shipped demo config boots to "runtime ready" with its services running, and
shutdown through the control socket -> runtime -> PID 1 IPC path powers off / reboots cleanly."""
import unittest

from guest import GuestTestCase

DEMO_SERVICES = ["syslogd", "klogd", "httpd", "heartbeat", "console"]
WAIT_FOR_DEMO = """
for i in $(seq 100); do dynamodctl list | grep -q "^httpd *running" && break; sleep 0.1; done
dynamodctl list
for s in syslogd klogd httpd heartbeat console site; do
  echo "CHECK state-$s: $(dynamodctl list | awk -v s=$s '$1 == s {print $2}')"
done
ps | grep -q "[s]yslogd -n" && echo "CHECK ps-shows-syslogd: yes"
ps | grep -q "[h]ttpd -f -p 8080" && echo "CHECK ps-shows-httpd: yes"
echo "CHECK http: $(wget -q -O - http://127.0.0.1:8080/ | head -n 1)"
echo "CHECK pid1-rss-kb: $(awk '/VmRSS/ {print $2}' /proc/1/status)"
echo "CHECK hostname: $(hostname)"
echo "CHECK machine-id: $(cat /etc/machine-id)"
mount | grep -q "^cgroup2 on /sys/fs/cgroup" && echo "CHECK cgroup2-mounted: yes"
echo "CHECK cgroup2-options: $(awk '$2 == "/sys/fs/cgroup" {print $4}' /proc/mounts)"
dynamodctl tree | sed 's/^/TREE /'
"""


class BootAndShutdown(GuestTestCase):
    def test_demo_boots_and_powers_off_through_the_ipc_path(self):
        guest = self.boot("boot-poweroff", WAIT_FOR_DEMO + "dynamodctl shutdown poweroff\nsleep 600\n",
                          append="dynamod.bogus=1 dynamod.stop_timeout=banana", timeout=90)
        self.assertPoweredOff(guest)
        self.assertInLog(guest, r"dynamod-init: runtime ready \(pid \d+, generation 1, [\d.]+m?s after kernel start\)")
        # every service of the shipped demo config runs; the oneshot that generates the site is done
        for service in DEMO_SERVICES:
            self.assertEqual(guest.check(f"state-{service}"), "running", service)
        self.assertEqual(guest.check("state-site"), "done")
        self.assertEqual(guest.check("ps-shows-syslogd"), "yes")
        self.assertEqual(guest.check("ps-shows-httpd"), "yes")
        self.assertEqual(guest.check("http"), "<h1>dynamod demo</h1>")
        self.assertEqual(guest.check("hostname"), "dynamod-demo")
        self.assertRegex(guest.check("machine-id") or "", r"^[0-9a-f]{32}$")
        self.assertEqual(guest.check("cgroup2-mounted"), "yes")
        # Debian 12's kernel (6.1) knows favordynmods: joining a service's cgroup waits for no RCU grace period
        self.assertIn("favordynmods", guest.check("cgroup2-options") or "")
        self.assertIn("nsdelegate", guest.check("cgroup2-options") or "")
        # bad kernel command line options are reported, not fatal
        self.assertInLog(guest, r"dynamod-init: command line: unknown option ignored: dynamod\.bogus=1")
        self.assertInLog(guest, r"dynamod-init: command line: bad value, default kept: dynamod\.stop_timeout=banana")
        # the IPC path, step by step, in order
        order = [r"dynamod-init: shutdown requested by the runtime: poweroff",
                 r"dynamod-init: asked the runtime to stop all services",
                 r"Stopped httpd\.",
                 r"dynamod-init: runtime reports every service stopped",
                 r"dynamod-init: sending SIGTERM to all processes",
                 r"dynamod-init: heap allocations after start: 0$",
                 r"dynamod-init: remounted / read-only",
                 r"dynamod-init: calling reboot\(2\): poweroff",
                 r"reboot: Power down"]
        self.assertLogOrder(guest, order)
        # `dynamodctl tree` in the booted demo: PID 1's runtime, the root supervisor, every demo service.
        tree = "\n".join(guest.lines(r"^TREE (.*)$"))
        self.assertRegex(tree, r"^dynamod-runtime \(pid \d+, dynamod-init \(PID 1\), up ")
        self.assertRegex(tree, r"pid1 link: dynamod-init, runtime generation 1")
        self.assertRegex(tree, r"└─ supervisor root \[running\] one-for-one")
        self.assertRegex(tree, r"supervisor system \[running\] one-for-one")
        self.assertRegex(tree, r"supervisor web \[running\] rest-for-one")
        for service in DEMO_SERVICES + ["guest-test"]:
            self.assertRegex(tree, rf"service {service} \[running\] pid \d+", service)
        self.assertRegex(tree, r"service site \[done\]")
        self.assertRegex(tree, r"log sink /var/log/dynamod/heartbeat\.log")
        rss = int(guest.check("pid1-rss-kb") or 0)
        self.assertGreater(rss, 0)
        print(f"\nPID 1 RSS in the guest: {rss} kB")

    def test_reboot_mode_is_honoured(self):
        guest = self.boot("boot-reboot", WAIT_FOR_DEMO + "dynamodctl shutdown reboot\nsleep 600\n", timeout=90)
        self.assertPoweredOff(guest)  # QEMU runs with -no-reboot: a reboot ends it
        self.assertLogOrder(guest, [r"dynamod-init: shutdown requested by the runtime: reboot",
                                    r"dynamod-init: runtime reports every service stopped",
                                    r"dynamod-init: calling reboot\(2\): reboot",
                                    r"reboot: Restarting system"])
        self.assertNotInLog(guest, r"reboot: Power down")


if __name__ == "__main__":
    unittest.main(verbosity=2)
