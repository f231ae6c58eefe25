"""No actor waits on a disk: the start path's file work (adoption records, restart histories, log FIFOs) is done
by the file I/O actor on its own thread, never on a CAF scheduler thread. The runtime counts every file
operation by the kind of thread that did it (runtime/io/file_io_audit) and shows the counts in `dynamodctl tree`
(the file_io node); these tests start, restart, stop and start again a few dozen services and assert that the
count of operations done elsewhere stays zero, and that the audit is live (the I/O thread's count grows)."""
import fcntl
import json
import os
import signal
import unittest

from runtime_harness import RuntimeTestCase, tree_nodes

N = 40
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ from Python 3.10


def sleeper(name, more=""):
    return f'[service]\nname = "{name}"\nexec = ["/bin/sleep", "1000"]\n[restart]\ndelay = "0"\n{more}'


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


class FileIoOffTheScheduler(RuntimeTestCase):
    def file_io(self, rt):
        tree = json.loads(rt.ctl("--json", "tree", check=True).stdout)
        return next(n for n in tree_nodes(tree) if n.get("kind") == "file_io")

    def assert_nothing_elsewhere(self, node, when):
        self.assertEqual(node["file_ops_elsewhere"], 0,
                         f"{when}: file work on a scheduler thread (first: {node.get('first_elsewhere')})")

    def services(self):
        names = [f"s{i:02d}" for i in range(N)]
        services = {n: sleeper(n) for n in names}
        # readiness by fd and a oneshot that requires everything: the readiness probe and the tracker paths too
        services["fd-ready"] = ('[service]\nname = "fd-ready"\n'
                                'exec = ["/bin/sh", "-c", "echo >&3; exec sleep 1000"]\n'
                                '[readiness]\ntype = "fd"\nfd = 3\n')
        services["all-up"] = ('[service]\nname = "all-up"\ntype = "oneshot"\nexec = ["/bin/true"]\n'
                              '[dependencies]\nrequires = [' + ", ".join(f'"{n}"' for n in names) + ']\n')
        return names, services

    def test_start_restart_and_stop_do_no_file_work_on_scheduler_threads(self):
        names, services = self.services()
        rt = self.runtime(services)
        rt.wait_state("all-up", "done", timeout=60)
        for n in names + ["fd-ready"]:
            rt.wait_state(n, "running", timeout=30)
        started = self.file_io(rt)
        self.assert_nothing_elsewhere(started, "start")
        # every service's record (intent + pid) and both FIFO ends went through the I/O thread
        self.assertGreaterEqual(started["file_ops_on_io_threads"], 4 * N, started)

        # restarts after kill -9: the old record is cleared, the new intent and record written
        for n in names[:5]:
            pid = rt.list()[n]["pid"]
            os.kill(pid, signal.SIGKILL)
            rt.wait_pid_change(n, pid, timeout=30)
        # an operator's stop and start
        rt.ctl("stop", names[5], check=True)
        rt.wait_state(names[5], "stopped", timeout=30)
        rt.ctl("start", names[5], check=True)
        rt.wait_state(names[5], "running", timeout=30)
        after = self.file_io(rt)
        self.assert_nothing_elsewhere(after, "restarts")
        self.assertGreater(after["file_ops_on_io_threads"], started["file_ops_on_io_threads"])

        # the records are kept in place: each restarted service's file names its new pid
        for n in names[:5]:
            path = os.path.join(rt.state, "services", n + ".state")
            rt.wait_for(lambda: f"pid={rt.list()[n]['pid']}\n" in read(path), 15, f"{n}'s record of its new pid")

    def test_records_are_rewritten_in_place(self):
        rt = self.runtime({"web": sleeper("web")})
        rt.wait_state("web", "running")
        path = os.path.join(rt.state, "services", "web.state")
        rt.wait_for(lambda: "pid=" + str(rt.list()["web"]["pid"]) in read(path), 15,
                    "web's record")
        inode = os.stat(path).st_ino
        pid = rt.list()["web"]["pid"]
        os.kill(pid, signal.SIGKILL)
        new = rt.wait_pid_change("web", pid)
        rt.wait_for(lambda: f"pid={new}\n" in read(path), 15, "the new pid in web's record")
        self.assertEqual(os.stat(path).st_ino, inode, "the record was replaced by another file (rename)")
        rt.ctl("stop", "web", check=True)
        rt.wait_state("web", "stopped")
        rt.wait_for(lambda: read(path).strip() == "", 15, "web's record to be cleared")
        self.assertEqual(os.stat(path).st_ino, inode)


def on_tmpfs(path):
    import subprocess
    return subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True).stdout.strip() in ("tmpfs", "ramfs")


class VolatileState(RuntimeTestCase):
    """Records and log FIFOs need to outlive the runtime, not the boot: a state dir on a disk keeps them in a
    private tmpfs dir it links to (runtime/state/volatile_dir), which goes once everything stopped."""

    def test_a_state_dir_on_a_disk_links_to_a_private_tmpfs_dir_removed_after_a_complete_stop(self):
        rt = self.runtime({"web": sleeper("web")})
        rt.wait_state("web", "running")
        links = [os.path.join(rt.state, part) for part in ("services", "supervisors", "log")]
        if on_tmpfs(rt.state):
            self.assertFalse(any(os.path.islink(l) for l in links), "a tmpfs state dir is used as it is")
            return
        for link in links:
            self.assertTrue(os.path.islink(link), link)
        target = os.path.dirname(os.readlink(links[0]))
        self.assertTrue(target.startswith("/dev/shm/dynamod-"), target)
        self.assertEqual(os.stat(target).st_mode & 0o777, 0o700)
        self.assertTrue(on_tmpfs(target))
        self.assertTrue(os.path.exists(os.path.join(target, "log", "web.stdout")))
        rt.wait_for(lambda: "pid=" in read(os.path.join(target, "services", "web.state")), 15, "web's record")
        self.assertEqual(rt.shutdown(), 0)
        self.assertFalse(os.path.exists(target), "left behind after every service stopped")
        self.assertFalse(any(os.path.lexists(l) for l in links))


class ConsoleOffTheScheduler(RuntimeTestCase):
    """Status and log lines on the console must not hold an actor: a serial console takes ~3 ms a line, and a
    console nobody reads (a full pipe here, a stopped terminal) would hold it forever."""

    def test_a_console_nobody_reads_holds_up_neither_start_nor_stop(self):
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        fcntl.fcntl(w, F_SETPIPE_SZ, 4096)  # full after a few dozen lines
        names = [f"console-flood-{i:03d}" for i in range(150)]
        rt = self.runtime({n: sleeper(n) for n in names}, console_fd=w)  # --log-level debug: lines for each
        os.close(w)
        for n in names:
            rt.wait_state(n, "running", timeout=60)
        for n in names[:20]:
            rt.ctl("stop", n, check=True)
            rt.wait_state(n, "stopped", timeout=30)
        self.assertEqual(rt.shutdown(timeout=60), 0)
        # What did not fit was dropped and counted; runtime.log has every line.
        log = rt.runtime_log()
        self.assertRegex(log, r"\d+ console line\(s\) were dropped")
        for n in names:
            self.assertIn(f"{n}: started /bin/sleep", log)


if __name__ == "__main__":
    unittest.main()
