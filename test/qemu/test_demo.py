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


class DemoConsole:
    """tools/demo running with its serial console on our pipes: wait for text, type lines."""

    ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")

    def __init__(self, test, *args):
        self.test = test
        env = dict(os.environ, DYNAMOD_BUILD_DIR=BUILD, DYNAMOD_SSH_PORT=str(free_port()))
        self.proc = subprocess.Popen([os.path.join(REPO, "tools", "demo"), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        self.out = bytearray()

    def mark(self):
        return len(self.out)

    def plain(self, since=0):
        # dynamodctl colours its state column on a terminal, and the serial console is one
        return self.ANSI.sub(b"", bytes(self.out[since:])).replace(b"\r", b"")

    def text(self, since=0):
        return self.plain(since).decode(errors="replace")

    def expect(self, pattern, timeout, since=0):
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern.encode())
        while not rx.search(self.plain(since)):
            left = deadline - time.monotonic()
            if left <= 0:
                os.killpg(self.proc.pid, 9)
                self.test.fail(f"timed out waiting for /{pattern}/; output so far:\n"
                               f"{self.out[-3000:].decode(errors='replace')}")
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    self.test.fail(f"demo ended before /{pattern}/:\n{self.out[-3000:].decode(errors='replace')}")
                self.out.extend(chunk)

    def type_line(self, text):
        time.sleep(0.5)  # let the guest's reader settle on the tty
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


class Demo(unittest.TestCase):
    def demo(self, *args):
        console = DemoConsole(self, *args)
        self.addCleanup(console.close)
        return console

    def test_demo_command_boots_debian_with_dynamod_to_a_login(self):
        c = self.demo("--fresh")
        c.expect(r"Started sshd\.", 1200)  # includes the build and, on a fresh machine, the image
        c.expect(r"debian-dynamod login: ", 120)
        c.type_line("root")
        c.expect(r"Password: ", 30)
        c.type_line("root")
        c.expect(r"root@debian-dynamod:~# ", 60)
        mark = c.mark()
        c.type_line("dynamodctl list")
        c.expect(r"udev +running(.|\n)*root@debian-dynamod:~# ", 60, mark)
        listing = c.text(mark)
        for name in ["sshd", "cron", "rsyslog", "dbus", "getty-ttyS0"]:
            self.assertRegex(listing, name + r" +running +\d+")
        mark = c.mark()
        c.type_line("poweroff")
        c.expect(r"reboot: Power down", 180, mark)
        self.assertEqual(c.proc.wait(timeout=60), 0)

    def test_busybox_demo_boots_to_a_shell_with_the_services_running(self):
        c = self.demo("--busybox")
        c.expect(r"Started heartbeat\.", 600)  # includes the (incremental) build
        c.expect(r"/ # ", 60)                   # the console shell's prompt
        mark = c.mark()
        c.type_line("ps")
        c.expect(r"PID +USER +COMMAND(.|\n)*/ # ", 30, mark)
        ps = c.text(mark)
        for service in ["syslogd -n", "httpd -f -p 8080", "echo \"heartbeat", "/usr/lib/dynamod/dynamod-runtime"]:
            self.assertIn(service, ps, f"`ps` in the demo shows {service}")
        mark = c.mark()
        c.type_line("dynamodctl list")
        c.expect(r"syslogd +running +\d+ +\d+", 30, mark)
        listing = c.text(mark)
        for name in ["console", "heartbeat", "httpd", "syslogd"]:
            self.assertRegex(listing, name + r" +running +\d+")
        mark = c.mark()
        c.type_line("dynamodctl status httpd")
        c.expect(r"Tasks:.*\n(.|\n)*/ # ", 30, mark)
        status = c.text(mark)
        self.assertRegex(status, r"CGroup: +/dynamod/web/httpd", "the demo's web server runs in its own cgroup")
        self.assertRegex(status, r"Memory: +[\d.]+[KMB].*max 32\.0M", "with the demo's memory limit")
        c.type_line("dynamodctl shutdown poweroff")
        c.expect(r"reboot: Power down", 120, mark)
        self.assertEqual(c.proc.wait(timeout=60), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
