"""The README's first command (tools/demo), tried as a new user would.

Issue 16: by default it boots the Debian 12 image with dynamod as its init: a login on the console as root,
`dynamodctl list` shows the system's services, `poweroff` ends it.
Issue 3: `tools/demo --busybox` boots to a shell on the console where `ps` shows the demo services, `dynamodctl
list` lists them, and the guest powers off."""
import os
import re
import select
import socket
import subprocess
import time
import unittest

from guest import BUILD, REPO


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Demo(unittest.TestCase):
    def run_demo(self, *args):
        env = dict(os.environ, DYNAMOD_BUILD_DIR=BUILD, DYNAMOD_SSH_PORT=str(free_port()))
        return subprocess.Popen([os.path.join(REPO, "tools", "demo"), *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def test_demo_command_boots_debian_with_dynamod_to_a_login(self):
        proc = self.run_demo("--fresh")
        out = bytearray()
        ansi = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")

        def plain(since=0):
            return ansi.sub(b"", bytes(out[since:])).replace(b"\r", b"")

        def expect(pattern, timeout, since=0):
            deadline = time.monotonic() + timeout
            rx = re.compile(pattern.encode())
            while not rx.search(plain(since)):
                left = deadline - time.monotonic()
                if left <= 0:
                    os.killpg(proc.pid, 9)
                    self.fail(f"timed out waiting for /{pattern}/; output so far:\n{out[-3000:].decode(errors='replace')}")
                ready, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
                if ready:
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        self.fail(f"demo ended before /{pattern}/:\n{out[-3000:].decode(errors='replace')}")
                    out.extend(chunk)

        def type_line(text):
            time.sleep(0.5)
            proc.stdin.write(text.encode() + b"\n")
            proc.stdin.flush()

        try:
            expect(r"Started sshd\.", 1200)  # includes the build and, on a fresh machine, the image
            expect(r"debian-dynamod login: ", 120)
            type_line("root")
            expect(r"Password: ", 30)
            type_line("root")
            expect(r"root@debian-dynamod:~# ", 60)
            mark = len(out)
            type_line("dynamodctl list")
            expect(r"udev +running(.|\n)*root@debian-dynamod:~# ", 60, mark)
            listing = plain(mark).decode(errors="replace")
            for name in ["sshd", "cron", "rsyslog", "dbus", "getty-ttyS0"]:
                self.assertRegex(listing, name + r" +running +\d+")
            mark = len(out)
            type_line("poweroff")
            expect(r"reboot: Power down", 180, mark)
            self.assertEqual(proc.wait(timeout=60), 0)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
            proc.stdin.close()
            proc.stdout.close()

    def test_busybox_demo_boots_to_a_shell_with_the_services_running(self):
        proc = self.run_demo("--busybox")
        out = bytearray()

        ansi = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")

        def plain(since=0):
            # dynamodctl colours its state column on a terminal, and the serial console is one
            return ansi.sub(b"", bytes(out[since:]))

        def expect(pattern, timeout, since=0):
            deadline = time.monotonic() + timeout
            rx = re.compile(pattern.encode())
            while not rx.search(plain(since)):
                left = deadline - time.monotonic()
                if left <= 0:
                    os.killpg(proc.pid, 9)
                    self.fail(f"timed out waiting for /{pattern}/; output so far:\n{out[-3000:].decode(errors='replace')}")
                ready, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
                if ready:
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        self.fail(f"demo ended before /{pattern}/:\n{out[-3000:].decode(errors='replace')}")
                    out.extend(chunk)

        def type_line(text):
            time.sleep(0.3)
            proc.stdin.write(text.encode() + b"\n")
            proc.stdin.flush()

        try:
            expect(r"Started heartbeat\.", 600)  # includes the (incremental) build
            expect(r"/ # ", 60)                   # the console shell's prompt
            mark = len(out)
            type_line("ps")
            expect(r"PID +USER +COMMAND(.|\n)*/ # ", 30, mark)
            ps = plain(mark).decode(errors="replace")
            for service in ["syslogd -n", "httpd -f -p 8080", "echo \"heartbeat", "/usr/lib/dynamod/dynamod-runtime"]:
                self.assertIn(service, ps, f"`ps` in the demo shows {service}")
            mark = len(out)
            type_line("dynamodctl list")
            expect(r"syslogd +running +\d+ +\d+", 30, mark)
            listing = plain(mark).decode(errors="replace")
            for name in ["console", "heartbeat", "httpd", "syslogd"]:
                self.assertRegex(listing, name + r" +running +\d+")
            mark = len(out)
            type_line("dynamodctl status httpd")
            expect(r"Tasks:.*\n(.|\n)*/ # ", 30, mark)
            status = plain(mark).decode(errors="replace")
            self.assertRegex(status, r"CGroup: +/dynamod/web/httpd", "the demo's web server runs in its own cgroup")
            self.assertRegex(status, r"Memory: +[\d.]+[KMB].*max 32\.0M", "with the demo's memory limit")
            type_line("dynamodctl shutdown poweroff")
            expect(r"reboot: Power down", 120, mark)
            self.assertEqual(proc.wait(timeout=60), 0)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
            proc.stdin.close()
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
