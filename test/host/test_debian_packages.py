"""Issue 16: the Debian packages built from the tree, and the Debian service set they ship.

The packages are built with CPack from the build directory under test; their control fields and contents are
checked with dpkg-deb, the service set with the runtime's own configuration check, and dynamodctl's shutdown
names are run against a runtime in user mode.
"""
import os
import subprocess
import tempfile
import unittest

from runtime_harness import BUILD, CTL, Runtime, RuntimeTestCase

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_packages():
    out = tempfile.mkdtemp(prefix="dynamod-debs.")
    subprocess.run(["cpack", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", out], check=True,
                   stdout=subprocess.DEVNULL, cwd=BUILD)
    debs = {}
    for name in os.listdir(out):
        if name.endswith(".deb"):
            debs[name.split("_")[0]] = os.path.join(out, name)
    return out, debs


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


def contents(deb):
    listing = subprocess.run(["dpkg-deb", "-c", deb], check=True, stdout=subprocess.PIPE, text=True).stdout
    entries = {}
    for line in listing.splitlines():
        parts = line.split()
        path = parts[5].lstrip(".")
        entries[path] = parts[7] if len(parts) > 7 and parts[6] == "->" else None
    return entries


class Packages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir, cls.debs = build_packages()

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["rm", "-rf", cls.dir], check=False)

    def test_two_packages(self):
        self.assertEqual(sorted(self.debs), ["dynamod", "dynamod-init"])

    def test_dynamod_installs_beside_the_current_init(self):
        deb = self.debs["dynamod"]
        files = contents(deb)
        for path in ["/usr/sbin/dynamod-init", "/usr/lib/dynamod/dynamod-runtime", "/usr/bin/dynamodctl",
                     "/usr/lib/dynamod/dynamod-utmp", "/etc/dynamod/services/sshd.toml",
                     "/etc/dynamod/supervisors/system.toml", "/usr/lib/dynamod/debian/fsck-root"]:
            self.assertIn(path, files)
        self.assertNotIn("/sbin/init", files, "never takes over by itself")
        self.assertEqual(field(deb, "Conflicts"), "")
        self.assertIn("libcaf-core0.17", field(deb, "Depends"), "shared library dependencies are declared")
        conffiles = subprocess.run(["dpkg-deb", "--info", deb, "conffiles"], check=True, stdout=subprocess.PIPE,
                                   text=True).stdout.split()
        self.assertIn("/etc/dynamod/services/sshd.toml", conffiles, "the administrator's once installed")
        self.assertEqual(sorted(p for p in files if p.startswith("/etc/dynamod/") and not p.endswith("/")),
                         sorted(conffiles))

    def test_dynamod_init_takes_over_like_runit_init(self):
        deb = self.debs["dynamod-init"]
        files = contents(deb)
        self.assertEqual(files.get("/sbin/init"), "/usr/sbin/dynamod-init")
        for command in ["poweroff", "reboot", "halt", "shutdown"]:
            self.assertEqual(files.get(f"/sbin/{command}"), "/usr/bin/dynamodctl", command)
        conflicts = [c.strip() for c in field(deb, "Conflicts").split(",")]
        self.assertIn("systemd-sysv", conflicts)
        self.assertIn("sysvinit-core", conflicts)
        self.assertIn("dynamod (= ", field(deb, "Depends"))


class ServiceSet(RuntimeTestCase):
    def test_the_debian_service_set_passes_the_configuration_check(self):
        runtime = os.path.join(BUILD, "runtime", "dynamod-runtime")
        r = subprocess.run([runtime, "--check", os.path.join(REPO, "etc", "debian", "dynamod")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_shutdown_names_of_dynamodctl(self):
        rt = self.runtime({"idle": '[service]\nname = "idle"\nexec = ["/bin/sleep", "1000"]\n'})
        rt.wait_state("idle", "running")
        links = tempfile.mkdtemp(prefix="dynamod-names.")
        self.addCleanup(subprocess.run, ["rm", "-rf", links])
        for name in ["poweroff", "reboot", "halt", "shutdown"]:
            os.symlink(CTL, os.path.join(links, name))
        env = dict(os.environ, DYNAMOD_SOCKET=rt.socket)
        bad = subprocess.run([os.path.join(links, "shutdown"), "-h", "+5"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("only an immediate shutdown is supported", bad.stderr)
        self.assertEqual(rt.list()["idle"]["state"], "running", "a refused request changes nothing")
        r = subprocess.run([os.path.join(links, "shutdown"), "-r", "now"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Shutting down (reboot)", r.stdout)
        rt.wait_for(lambda: rt.proc.poll() is not None, 30, "the runtime to stop every service and exit")


if __name__ == "__main__":
    unittest.main()
