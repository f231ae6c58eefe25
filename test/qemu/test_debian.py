"""Issue 16: a real Debian 12 booted from disk with dynamod as its init.

The image comes from tools/mkimage (cached between runs). Each boot runs on a copy of the disk, with the image's
own kernel, under TCG with -smp 1; the tests talk to the guest over its serial console and over ssh through a
QEMU hostfwd, and check the disk after the guest powered itself off.
"""
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import REPO, WORK  # noqa: E402

BOOT_TIMEOUT = 240  # a Debian boot under TCG takes 30-60 s; the hard limit only stops a hung guest
RUNNING = ["udev", "getty-ttyS0", "getty-tty1", "sshd", "cron", "rsyslog", "dbus", "journald"]
DONE = ["fsck-root", "remount-root", "mount-fstab", "swap", "udev-trigger", "udev-settle", "networking", "tmpfiles", "utmp",
        "user-sessions"]
_images = {}


def image(fs, desktop=False):
    """The image directory and its image.env, built (or found in the cache) once per run."""
    key = (fs, desktop)
    if key not in _images:
        cmd = [os.path.join(REPO, "tools", "mkimage"), "--fs", fs] + (["--desktop"] if desktop else [])
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
        with open(os.path.join(out, "image.env")) as f:
            env = dict(line.split("=", 1) for line in f.read().split())
        _images[key] = (out, env)
    return _images[key]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DebianGuest:
    """One boot of a copy of the image's disk."""

    def __init__(self, name, fs="ext4", append="", debian_initrd=False, send_after=(), disk=None, desktop=False,
                 memory=1024, qemu_args=(), timeout=BOOT_TIMEOUT):
        self.dir, self.env = image(fs, desktop)
        os.makedirs(WORK, exist_ok=True)
        self.name = name
        self.log_path = os.path.join(WORK, f"debian-{name}.log")
        if os.path.exists(self.log_path):
            os.unlink(self.log_path)  # a previous run's log must not answer this run's waits
        self.disk = disk or os.path.join(WORK, f"debian-{name}.img")
        if disk is None:
            subprocess.run(["cp", "--sparse=always", os.path.join(self.dir, "disk.img"), self.disk], check=True)
        self.port = free_port()
        initrd = os.path.join(self.dir, "initrd.img" if debian_initrd else "dynamod-initrd.img")
        cmd = [os.path.join(REPO, "qemu", "run-guest"), "--kernel", os.path.join(self.dir, "vmlinuz"),
               "--initrd", initrd, "--log", self.log_path, "--timeout", str(timeout),
               "--append", ("net.ifnames=0 " + append).strip(), "--memory", str(memory),
               "--qemu-arg", f"-drive file={self.disk},if=virtio,format=raw",
               "--qemu-arg", f"-netdev user,id=n0,hostfwd=tcp:127.0.0.1:{self.port}-:22 "
                             "-device virtio-net-pci,netdev=n0"]
        for arg in qemu_args:
            cmd += ["--qemu-arg", arg]
        for pattern, text in send_after:
            cmd += ["--send-after", pattern, text]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace").replace("\r", "")
        except FileNotFoundError:
            return ""

    def tail(self, n=80):
        return "\n".join(self.log().splitlines()[-n:])

    def wait_for(self, pattern, timeout=BOOT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.log(), re.MULTILINE)
            if m:
                return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        raise AssertionError(f"/{pattern}/ not on the console of {self.name} ({self.log_path}):\n{self.tail()}")

    def ssh(self, command, timeout=60, check=True):
        key = os.path.join(self.dir, "id_ed25519")
        r = subprocess.run(["ssh", "-i", key, "-p", str(self.port), "-o", "StrictHostKeyChecking=no",
                            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
                            "-o", "BatchMode=yes", "root@127.0.0.1", command],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"ssh {command!r} failed ({r.returncode}): {r.stderr}\n{self.tail(30)}")
        return r

    def wait_for_ssh(self, timeout=BOOT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.ssh("true", timeout=20, check=False).returncode == 0:
                    return
            except subprocess.TimeoutExpired:
                pass
            time.sleep(2)
        raise AssertionError(f"no ssh into {self.name} within {timeout}s:\n{self.tail()}")

    def wait_exit(self, timeout=BOOT_TIMEOUT):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not power off:\n{self.tail()}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()  # run-guest: its QEMU is in its session and dies with its pipe
            self.proc.wait()
        subprocess.run(["pkill", "-f", f"file={self.disk},"], check=False)

    def remove_disk(self):
        if os.path.exists(self.disk):
            os.unlink(self.disk)


def mib(value):
    return int(value) * 1024 * 1024


class DebianFromDisk(unittest.TestCase):
    maxDiff = None

    def guest(self, *args, **kwargs):
        g = DebianGuest(*args, **kwargs)
        self.addCleanup(g.kill)
        return g

    def assert_system_up(self, g, root_source="/dev/vda1", fs="ext4"):
        self.assertEqual(g.ssh("findmnt -n -o SOURCE,FSTYPE /").stdout.split(), [root_source, fs])
        # mountinfo: / is the disk, and nothing of the initramfs is left mounted
        mountinfo = g.ssh("cat /proc/self/mountinfo").stdout
        root_line = [l for l in mountinfo.splitlines() if l.split()[4] == "/"]
        self.assertEqual(len(root_line), 1, mountinfo)
        self.assertIn(f" - {fs} {root_source} ", root_line[0])
        self.assertNotIn("/newroot", mountinfo)
        # ssh works before the last boot steps are done (udev-settle): wait for the boot to finish, bounded.
        deadline = time.monotonic() + 180
        while True:
            services = {s["name"]: s for s in json.loads(g.ssh("dynamodctl --json list").stdout)}
            if all(s["state"] not in ("waiting", "starting") for s in services.values()):
                break
            if time.monotonic() > deadline:
                self.fail(f"the boot did not finish: {services}")
            time.sleep(1)
        for name in RUNNING:
            self.assertEqual(services[name]["state"], "running", f"{name}: {services.get(name)}")
        for name in DONE:
            self.assertEqual(services[name]["state"], "done", f"{name}: {services.get(name)}")
        by_uuid = g.ssh("ls /dev/disk/by-uuid").stdout.split()
        self.assertIn(g.env["ROOT_UUID"], by_uuid, "udev made the by-uuid links")
        self.assertIn(g.env["DATA_UUID"], by_uuid)
        self.assertEqual(g.ssh("findmnt -n -o SOURCE /srv/data").stdout.strip(), "/dev/vda3", "the fstab mount")
        self.assertEqual(g.ssh("swapon --show=NAME --noheadings").stdout.strip(), "/dev/vda2", "the fstab swap")
        return services

    def assert_disk_clean(self, g):
        offset = mib(g.env["ROOT_OFFSET_MIB"])
        if g.env["FS"] == "ext4":
            r = subprocess.run(["e2fsck", "-fn", f"{g.disk}?offset={offset}"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        else:
            part = g.disk + ".root"
            subprocess.run(["dd", f"if={g.disk}", f"of={part}", "bs=1M", f"skip={g.env['ROOT_OFFSET_MIB']}",
                            f"count={g.env['ROOT_SIZE_MIB']}", "conv=sparse", "status=none"], check=True)
            r = subprocess.run(["btrfs", "check", "--readonly", part], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            os.unlink(part)
        self.assertEqual(r.returncode, 0, f"the root file system after poweroff:\n{r.stdout}")
        data = subprocess.run(["e2fsck", "-fn", f"{g.disk}?offset={mib(g.env['DATA_OFFSET_MIB'])}"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(data.returncode, 0, f"the fstab file system after poweroff:\n{data.stdout}")

    def read_from_disk(self, g, path):
        return subprocess.run(["debugfs", "-R", f"cat {path}", f"{g.disk}?offset={mib(g.env['ROOT_OFFSET_MIB'])}"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout

    def test_ext4_by_device_name_then_by_partuuid_with_a_clean_poweroff_between(self):
        g = self.guest("vda1", append="root=/dev/vda1")
        g.wait_for_ssh()
        self.assert_system_up(g)
        freed = re.search(r"dynamod-init: initramfs freed: (\d+) KiB", g.ssh("dmesg").stdout)
        self.assertIsNotNone(freed, "PID 1 freed the initramfs")
        self.assertGreater(int(freed.group(1)), 1024, "the initramfs' files (PID 1, busybox, modules) are gone")
        tree = json.loads(g.ssh("dynamodctl --json tree").stdout)
        parents = {}

        def walk(node, supervisor):
            if node.get("kind") == "service":
                parents[node["name"]] = supervisor
            for child in node.get("children", []):
                walk(child, node["name"] if node.get("kind") == "supervisor" else supervisor)

        walk(tree, None)
        for name in ["udev", "sshd", "cron", "rsyslog", "dbus"]:
            self.assertEqual(parents.get(name), "system", f"{name} under the system supervisor: {parents}")
        for name in ["getty-ttyS0", "getty-tty1"]:
            self.assertEqual(parents.get(name), "getty", parents)
        self.assertEqual(parents.get("fsck-root"), "boot")
        text_tree = g.ssh("dynamodctl tree").stdout
        self.assertRegex(text_tree, r"supervisor system \[running\]")
        seed_before = g.ssh("sha256sum /var/lib/dynamod/random-seed").stdout.split()[0]
        self.assertEqual(g.ssh("readlink /sbin/poweroff").stdout.strip(), "/usr/bin/dynamodctl")
        g.ssh("poweroff", check=False)  # the connection may drop as sshd stops
        self.assertEqual(g.wait_exit(), 0, "QEMU exits when the guest powers off")
        log = g.log()
        self.assertIn("Stopped sshd", log)
        self.assertRegex(log, r"dynamod-init: remounted / read-only")
        self.assertRegex(log, r"dynamod-init: calling reboot\(2\): poweroff")
        self.assertNotIn("Kernel panic", log)
        self.assert_disk_clean(g)
        seed_after = hashlib.sha256(self.read_from_disk(g, "/var/lib/dynamod/random-seed")).hexdigest()
        self.assertEqual(len(self.read_from_disk(g, "/var/lib/dynamod/random-seed")), 512)
        self.assertNotEqual(seed_after, seed_before, "the random seed was saved at shutdown")

        # The same disk again, named by its GPT partition's GUID: `last -x` shows the shutdown of the first boot.
        g2 = self.guest("partuuid", append=f"root=PARTUUID={g.env['ROOT_PARTUUID']}", disk=g.disk)
        self.addCleanup(g2.remove_disk)
        g2.wait_for_ssh()
        self.assertEqual(g2.ssh("findmnt -n -o SOURCE /").stdout.strip(), "/dev/vda1")
        self.assertIn("kernel random pool seeded with 512 bytes", g2.ssh("dmesg").stdout)
        last = g2.ssh("last -x").stdout
        self.assertRegex(last, r"(?m)^shutdown system down", last)
        self.assertEqual(len(re.findall(r"(?m)^reboot\s+system boot", last)), 2, last)
        g2.ssh("poweroff", check=False)
        self.assertEqual(g2.wait_exit(), 0)
        self.assert_disk_clean(g2)

    def test_serial_console_login_with_root_by_label(self):
        g = self.guest("label", append="root=LABEL=debian-root", send_after=[
            (r"debian-dynamod login: ", "debian\n"),
            (r"Password: ", "debian\n"),
            (r"debian@debian-dynamod:~\$ ", "id; echo LOGGED-IN-$((6*7))\n"),
            (r"LOGGED-IN-42", "exit\n"),
        ])
        self.addCleanup(g.remove_disk)
        g.wait_for(r"LOGGED-IN-42")
        self.assertRegex(g.log(), r"uid=1000\(debian\) gid=1000\(debian\)")
        g.wait_for(r"LOGGED-IN-42(.|\n)*debian-dynamod login: ", timeout=60)  # logged out: a fresh getty
        g.wait_for_ssh()
        self.assert_system_up(g)
        self.assertRegex(g.ssh("last debian").stdout, r"debian\s+ttyS0", "the serial login was a session in wtmp")

    def test_a_failing_fsck_stops_the_boot_in_an_emergency_shell_with_its_output(self):
        # The fstab file system claims a feature no e2fsck knows: preen mode gives up (exit 8).
        g = None
        _, env = image("ext4")
        disk = os.path.join(WORK, "debian-fsck-fails.img")
        subprocess.run(["cp", "--sparse=always", os.path.join(image("ext4")[0], "disk.img"), disk], check=True)
        superblock = mib(env["DATA_OFFSET_MIB"]) + 1024
        with open(disk, "r+b") as f:
            f.seek(superblock + 0x60)  # s_feature_incompat
            value = int.from_bytes(f.read(4), "little") | 0x10000000
            f.seek(superblock + 0x60)
            f.write(value.to_bytes(4, "little"))
        g = self.guest("fsck-fails", append="root=/dev/vda1", disk=disk, send_after=[
            (r"Give root password for maintenance", "root\n"),
            (r"root@debian-dynamod:~# ", "echo RESCUE-$((6*7)); exit\n"),
        ])
        self.addCleanup(g.remove_disk)
        g.wait_for(r"RESCUE-42")
        log = g.log()
        self.assertIn("*** fsck of the file systems in /etc/fstab failed (exit code 8).", log)
        self.assertTrue("The superblock could not be read" in log, "fsck's own output is on the console")
        self.assertNotIn("Started sshd", log, "the boot stopped: nothing that needs the file systems started")
        self.assertEqual(g.wait_exit(), 0, "leaving the shell reboots (QEMU exits with -no-reboot)")

    def test_btrfs_by_uuid(self):
        g = self.guest("btrfs", fs="btrfs", append=f"root=UUID={image('btrfs')[1]['ROOT_UUID']}")
        self.addCleanup(g.remove_disk)
        g.wait_for_ssh()
        self.assert_system_up(g, fs="btrfs")
        g.ssh("poweroff", check=False)
        self.assertEqual(g.wait_exit(), 0)
        self.assert_disk_clean(g)

    def test_debians_own_initrd_with_init_dynamod(self):
        g = self.guest("debian-initrd", debian_initrd=True,
                       append=f"root=UUID={image('ext4')[1]['ROOT_UUID']} ro init=/sbin/dynamod-init")
        self.addCleanup(g.remove_disk)
        g.wait_for_ssh()
        self.assertEqual(g.ssh("tr '\\0' ' ' < /proc/1/cmdline").stdout.split()[0], "/sbin/dynamod-init")
        self.assertNotIn("initramfs freed", g.ssh("dmesg").stdout, "initramfs-tools did the switch, not us")
        self.assert_system_up(g)

    def emergency(self, name, append):
        g = self.guest(name, append=append, send_after=[(r"dynamod-emergency# ", "echo SHELL-$((6*7))\n")])
        self.addCleanup(g.remove_disk)
        g.wait_for(r"SHELL-42", timeout=120)
        log = g.log()
        self.assertFalse("Kernel panic" in log, "no panic")
        self.assertTrue("*** dynamod-init: cannot boot from the root device" in log, g.tail())
        return log

    def test_a_wrong_root_ends_in_the_emergency_shell_within_the_rootwait_bound(self):
        log = self.emergency("wrong-root", "root=UUID=00000000-1111-2222-3333-444444444444 rootwait=5")
        self.assertTrue("*** no root device after 5s: no block device matches "
                        "root=UUID=00000000-1111-2222-3333-444444444444" in log, log[-3000:])
        # The bound holds: the message comes 5 s (plus polling) after the search began, not at the kernel's whim.
        start = float(re.search(r"\[\s*([\d.]+)\] dynamod-init: initramfs: \d+ kernel module", log).group(1))
        end = float(re.search(r"\[\s*([\d.]+)\] dynamod-init: cannot boot from the root device", log).group(1))
        self.assertGreaterEqual(end - start, 5.0)
        self.assertLess(end - start, 5.0 + 10.0)

    def test_an_unmountable_root_ends_in_the_emergency_shell(self):
        log = self.emergency("wrong-fstype", "root=/dev/vda1 rootfstype=xfs")
        self.assertTrue("*** cannot mount /dev/vda1 as the root (rootfstype=xfs): No such device" in log, log[-3000:])


if __name__ == "__main__":
    unittest.main()
