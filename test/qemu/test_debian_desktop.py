"""Issue 18: sway 1.7 and GNOME Shell 43 on Debian 12 with dynamod as its init, their GPU and input devices opened
through dynamod's login1 (libseat's logind backend with WLR_RENDERER=pixman; mutter's logind path on llvmpipe), in
QEMU (TCG, -smp 1, virtio-gpu, no display).

The image is tools/mkimage --desktop: getty logs `debian` in on tty1 (autologin), pam_systemd creates the session
with login1, and the login shell starts sway. The test checks the session as loginctl shows it, takes a screenshot
with grim and checks its pixels (the bar's colour on top, a terminal below), makes sway exit and checks that it
exited cleanly and gave back every device it took; then an ssh login creates and releases a session of its own, and
an unprivileged user cannot take the desktop session's devices. With dynamod.desktop=gnome the same login starts
GNOME Shell instead; the test waits for "GNOME Shell started" and checks a QEMU screendump of the screen.
"""
import base64
import json
import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from png_check import decode, near  # noqa: E402
from guest import WORK  # noqa: E402
from test_debian import DebianGuest  # noqa: E402

GUEST_LIMIT = 600  # the whole test's hard limit for QEMU: a TCG boot plus sway under pixman
DEBIAN_UID = 1000
RUNTIME_DIR = f"/run/user/{DEBIAN_UID}"
BAR = (0x32, 0x32, 0x32)  # Debian's /etc/sway/config: bar { colors { background #323232 } }
OVERVIEW = (0x23, 0x23, 0x23)  # GNOME Shell 43's overview background, seen through its top bar


# VT_ACTIVATE (0x5606) on /dev/tty0: the kernel's own VT switch, the one login1 did not ask for.
VT_ACTIVATE = "'open(my $t, \"+<\", \"/dev/tty0\") or die $!; ioctl($t, 0x5606, {}) or die $!'"


def as_debian(command):
    """`command` as the desktop's user, in its session's environment (runtime dir, Wayland socket, sway's IPC)."""
    env = (f"export XDG_RUNTIME_DIR={RUNTIME_DIR}; "
           f"export WAYLAND_DISPLAY=$(cd {RUNTIME_DIR} && ls wayland-* | grep -v lock | head -n1); "
           f"export SWAYSOCK=$(ls {RUNTIME_DIR}/sway-ipc.*.sock | head -n1); ")
    return "su debian -s /bin/sh -c " + "'" + (env + command).replace("'", "'\\''") + "'"


def escaped(sid):
    return "".join(c if c.isalnum() and not (i == 0 and c.isdigit()) else f"_{ord(c):02x}" for i, c in enumerate(sid))


class DesktopGuest(unittest.TestCase):
    """What both desktops' tests use; each subclass boots the image its own way."""

    def run_in(self, command, timeout=90):
        r = self.guest.ssh(command, timeout=timeout, check=False)
        return r.returncode, r.stdout + r.stderr

    def check(self, command, *patterns, code=0):
        got, out = self.run_in(command)
        self.assertEqual(got, code, f"{command}: exit {got}, expected {code}:\n{out}\n{self.guest.tail(40)}")
        for p in patterns:
            self.assertRegex(out, p, f"{command}:\n{out}")
        return out

    def wait(self, predicate, what, timeout=240):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(2)
        _, sway_log = self.run_in(f"cat {RUNTIME_DIR}/sway.log; dynamodctl status getty-tty1")
        self.fail(f"timed out waiting for {what}\n--- sway.log and getty-tty1 ---\n{sway_log}\n{self.guest.tail(40)}")

    def login1(self):
        tree = json.loads(self.check("dynamodctl --json tree"))
        found = []

        def walk(n):
            if n.get("kind") == "dbus_connection" and n.get("name") == "org.freedesktop.login1":
                found.append(n)
            for c in n.get("children", []):
                walk(c)
        walk(tree)
        self.assertEqual(len(found), 1, tree)
        return found[0]

    def assert_device_from_login1(self, pid):
        """`pid` holds the GPU open although its user may not open it (root:video 0660, and debian is not in video):
        the descriptor came from login1's TakeDevice."""
        self.check("id -nG debian", code=0)
        self.assertNotIn("video", self.check("id -nG debian").split())
        self.check(f"ls -l /proc/{pid}/fd", r"/dev/dri/card0")

    def desktop_session(self):
        """The id of debian's session on seat0 / tty1, or None."""
        code, out = self.run_in("loginctl list-sessions --no-legend")
        m = re.search(r"^\s*(\S+)\s+1000\s+debian\s+seat0\s+tty1\s*$", out, re.M)
        return m.group(1) if code == 0 and m else None

class SwayOnLogin1(DesktopGuest):
    def setUp(self):
        self.guest = DebianGuest("desktop", append="root=/dev/vda1", desktop=True, memory=1536, timeout=GUEST_LIMIT,
                                 qemu_args=["-vga none -device virtio-gpu-pci"])
        self.addCleanup(self.guest.kill)
        self.addCleanup(self.guest.remove_disk)

    def test_sway_starts_through_login1_draws_its_bar_and_a_terminal_and_gives_its_devices_back(self):
        g = self.guest
        g.wait_for_ssh()
        # --- the autologin's session, and sway up in it ---------------------------------------------------------
        self.wait(lambda: self.run_in(f"test -s {RUNTIME_DIR}/sway-started")[0] == 0, "sway to start")
        started = float(self.check(f"cat {RUNTIME_DIR}/sway-started").strip())
        print(f"\nsway was up {started:.1f} s after the kernel started", file=sys.stderr)
        sid = self.desktop_session()
        self.assertIsNotNone(sid, self.check("loginctl list-sessions"))
        self.check(f"loginctl session-status {sid}", r"State: active", r"Seat: seat0; vc1", r"Service: login")
        self.check("loginctl seat-status seat0", rf"Sessions: \*{sid}")
        self.check(f"cat /run/systemd/seats/seat0", r"CAN_GRAPHICAL=1", rf"ACTIVE={sid}")
        self.check("loginctl show-user debian", rf"RuntimePath={RUNTIME_DIR}", r"State=active")
        # sway's processes are in the session's scope, where sd-login finds them.
        sway_pid = self.check("pgrep -x -u debian sway").split()[0]
        self.assert_device_from_login1(sway_pid)
        self.check(f"cat /proc/{sway_pid}/cgroup", rf"/user\.slice/user-1000\.slice/session-{sid}\.scope")
        # The user's session bus, found by pam_systemd when login1 answered: sway's environment points to it.
        self.check(f"tr '\\0' '\\n' < /proc/{sway_pid}/environ", rf"(?m)^DBUS_SESSION_BUS_ADDRESS=unix:path={RUNTIME_DIR}/bus$")
        self.check(as_debian(f"dbus-send --bus=unix:path={RUNTIME_DIR}/bus --print-reply --dest=org.freedesktop.DBus "
                             "/org/freedesktop/DBus org.freedesktop.DBus.GetId"), r"string \"[0-9a-f]{32}\"")
        # It took the GPU and its input devices from login1, as the session's controller.
        self.wait(lambda: self.run_in(as_debian("swaymsg -t get_tree"))[0] == 0, "sway's IPC", timeout=60)
        self.wait(lambda: '"app_id": "foot"' in self.run_in(as_debian("swaymsg -t get_tree"))[1], "foot's window",
                  timeout=120)
        # --- the screenshot -------------------------------------------------------------------------------------
        self.check(as_debian("grim -t png /tmp/shot.png"))
        png = base64.b64decode(self.check("base64 -w0 /tmp/shot.png"))
        with open(os.path.join(WORK, "desktop-sway.png"), "wb") as f:  # kept for a look when this test fails
            f.write(png)
        image = decode(png)
        self.assertGreaterEqual((image.width, image.height), (640, 480))
        everything = image.colours(step=4)
        self.assertGreater(len(everything), 8, "the screen is not one flat colour")
        top = image.colours(y0=0, y1=4)
        bar = sum(n for c, n in top.items() if near(c, BAR))
        self.assertGreater(bar, 0.6 * sum(top.values()), f"the bar's colour on top: {sorted(top.items(), key=lambda x: -x[1])[:5]}")
        middle = image.colours(y0=image.height // 3, y1=2 * image.height // 3, step=2)
        self.assertLess(sum(n for c, n in middle.items() if near(c, BAR)), 0.5 * sum(middle.values()),
                        "below the bar is the terminal, not more bar")
        self.assertGreater(len(image.colours(y0=30, y1=120, step=1)), 2, "the terminal's first lines hold text")
        # --- an unprivileged user cannot take the desktop's devices ----------------------------------------------
        path = f"/org/freedesktop/login1/session/{escaped(sid)}"
        for call in (f"TakeControl b false", f"TakeDevice uu 226 0"):
            out = self.check(f"setpriv --reuid=65534 --regid=65534 --clear-groups busctl call org.freedesktop.login1 "
                             f"{path} org.freedesktop.login1.Session {call}", code=1)
            self.assertRegex(out, r"Access denied|not in control")
        # --- a VT switch by the kernel (VT_ACTIVATE, as Ctrl-Alt-F2 and chvt do) sends the session to the background
        # and back: login1 watches /sys/class/tty/tty0/active and pauses and resumes sway's devices -----------------
        def active():
            return self.run_in(f"loginctl show-session {sid} -p Active --value")[1].strip()
        self.check(f"perl -e {VT_ACTIVATE.format(2)}")
        self.wait(lambda: active() == "no", "the session to go to the background with VT 2", timeout=60)
        self.check("cat /sys/class/tty/tty0/active", r"^tty2$")
        self.check(f"perl -e {VT_ACTIVATE.format(1)}")
        self.wait(lambda: active() == "yes", "the session to come back with VT 1", timeout=60)
        self.check(f"test -e /proc/{sway_pid}")
        self.wait(lambda: self.run_in(as_debian("swaymsg -t get_version"))[0] == 0, "sway to answer after the switch",
                  timeout=60)
        # --- sway exits cleanly and gives every device back ---------------------------------------------------------
        self.run_in(as_debian("swaymsg exit"))  # sway may end before it answers ("Unable to receive IPC response")
        self.wait(lambda: any(e["session"] == sid for e in self.login1().get("ended_sessions", [])),
                  "the desktop session to end with sway", timeout=120)
        ended = next(e for e in self.login1()["ended_sessions"] if e["session"] == sid)
        self.assertGreaterEqual(ended["devices_taken"], 2, f"the GPU and at least one input device: {ended}")
        self.assertEqual(ended["devices_released"], ended["devices_taken"], f"every device given back: {ended}")
        self.assertEqual(self.check("cat ~debian/.sway-exit-status").strip(), "0", "sway exited cleanly")
        # --- an ssh login is a session of its own, gone when it ends --------------------------------------------
        out = self.check("echo XDG_SESSION_ID=$XDG_SESSION_ID; cat /proc/self/cgroup; loginctl list-sessions --no-legend")
        ssh_session = re.search(r"XDG_SESSION_ID=(\S+)", out).group(1)
        self.assertRegex(out, rf"session-{ssh_session}\.scope")
        self.assertRegex(out, rf"(?m)^\s*{ssh_session}\s+0\s+root\s")
        self.wait(lambda: ssh_session not in self.check("loginctl list-sessions --no-legend").split(),
                  "the ssh login's session to end with it", timeout=60)
        # --- getty logs debian in again; loginctl terminate-session ends that desktop -----------------------------
        self.wait(lambda: self.desktop_session() not in (None, sid), "the next autologin's session", timeout=120)
        again = self.desktop_session()
        self.wait(lambda: self.run_in("pgrep -x -u debian sway")[0] == 0, "sway in the new session", timeout=120)
        sway_again = self.check("pgrep -x -u debian sway").split()[0]
        self.check(f"loginctl terminate-session {again}")
        self.wait(lambda: any(e["session"] == again for e in self.login1().get("ended_sessions", [])),
                  "the terminated session to end", timeout=60)
        self.wait(lambda: self.run_in(f"test -e /proc/{sway_again}")[0] != 0, "its sway to be gone", timeout=60)


class GnomeShellOnLogin1(DesktopGuest):
    def setUp(self):
        self.monitor = os.path.join(WORK, "desktop-gnome.monitor")
        if os.path.exists(self.monitor):
            os.unlink(self.monitor)
        self.guest = DebianGuest("desktop-gnome", append="root=/dev/vda1 dynamod.desktop=gnome", desktop=True,
                                 memory=2048, timeout=GUEST_LIMIT,
                                 qemu_args=["-vga none -device virtio-gpu-pci",
                                            f"-monitor unix:{self.monitor},server=on,wait=off"])
        self.addCleanup(self.guest.kill)
        self.addCleanup(self.guest.remove_disk)

    def screendump(self, path):
        """QEMU's own picture of the guest's screen (the virtio-gpu scanout), as PNG."""
        if os.path.exists(path):
            os.unlink(path)
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.monitor)
            s.sendall(f"screendump {path} -f png\n".encode())
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (os.path.exists(path) and os.path.getsize(path) > 0):
                time.sleep(0.5)
            time.sleep(1)  # QEMU writes the file in one go; let it finish
        with open(path, "rb") as f:
            return f.read()

    def test_gnome_shell_starts_through_login1_and_shows_on_the_screen(self):
        g = self.guest
        g.wait_for_ssh()
        self.wait(lambda: self.run_in(f"test -s {RUNTIME_DIR}/gnome-started")[0] == 0, "GNOME Shell to start",
                  timeout=400)
        started = float(self.check(f"cat {RUNTIME_DIR}/gnome-started").strip())
        print(f"\nGNOME Shell started {started:.1f} s after the kernel started", file=sys.stderr)
        self.check(f"cat {RUNTIME_DIR}/gnome-shell.log", r"GNOME Shell started at", r"GPU /dev/dri/card0 selected")
        sid = self.desktop_session()
        self.assertIsNotNone(sid, self.check("loginctl list-sessions"))
        self.check(f"loginctl session-status {sid}", r"State: active", r"Seat: seat0; vc1")
        shell_pid = self.check("pgrep -x -u debian gnome-shell").split()[0]
        self.check(f"cat /proc/{shell_pid}/cgroup", rf"/user\.slice/user-1000\.slice/session-{sid}\.scope")
        self.assert_device_from_login1(shell_pid)
        png = self.screendump(os.path.join(WORK, "desktop-gnome.png"))
        image = decode(png)
        self.assertGreaterEqual((image.width, image.height), (640, 480))
        self.assertGreater(len(image.colours(step=4)), 8, "the screen is not one flat colour")
        # GNOME 43 starts in the overview: its dark grey (#232323) under the top bar, and the workspace in the middle
        # (its background: the image's wallpaper is webp, which this GNOME cannot load, so its blue default).
        top = image.colours(y0=0, y1=4)
        grey = sum(n for c, n in top.items() if near(c, OVERVIEW, 16))
        self.assertGreater(grey, 0.6 * sum(top.values()), f"the top bar: {sorted(top.items(), key=lambda x: -x[1])[:5]}")
        middle = image.colours(y0=image.height // 3, y1=2 * image.height // 3, x0=image.width // 4,
                               x1=3 * image.width // 4, step=2)
        blue = sum(n for (r, g_, b), n in middle.items() if b > r + 60 and b > g_ + 30)
        self.assertGreater(blue, 0.5 * sum(middle.values()),
                           f"the workspace in the middle: {sorted(middle.items(), key=lambda x: -x[1])[:5]}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
