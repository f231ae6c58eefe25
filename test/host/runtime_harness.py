"""Runs dynamod-runtime as an ordinary process (user mode) in a scratch directory for integration tests, and
talks to it with dynamodctl. Tests wait on events (a state, a pid change) with a deadline, never on fixed
sleeps; a missed deadline fails with what was last seen.

    rt = Runtime({"web": WEB_TOML, "db": DB_TOML}, supervisors={"mid": MID_TOML})
    rt.start()
    rt.wait_state("web", "running")
    ...
    rt.shutdown()
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("DYNAMOD_BUILD_DIR", os.path.join(REPO, "build"))
RUNTIME = os.path.join(BUILD, "runtime", "dynamod-runtime")
INIT = os.path.join(BUILD, "pid1", "dynamod-init")
CTL = os.path.join(BUILD, "dynamodctl", "dynamodctl")


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def processes_started_for(directory):
    """Pids whose command line or environment names `directory`: every service a runtime with its state there
    started (NOTIFY_SOCKET points into it) and what they started in turn."""
    marker = directory.encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{entry}/{part}", "rb") as f:
                    if marker in f.read():
                        pids.append(int(entry))
                        break
            except OSError:
                pass
    return pids


def tree_nodes(node):
    """Every node of a `dynamodctl --json tree` answer, depth first."""
    yield node
    for child in node.get("children", []):
        yield from tree_nodes(child)


class Timeout(AssertionError):
    pass


class Runtime:
    def __init__(self, services, supervisors=None, under_init=False, extra_files=None, console_fd=None):
        self.dir = tempfile.mkdtemp(prefix="dynamod-it.")
        os.chmod(self.dir, 0o755)  # unprivileged clients (the permission tests) must reach the socket
        self.config = os.path.join(self.dir, "config")
        self.state = os.path.join(self.dir, "state")
        self.logs = os.path.join(self.dir, "logs")
        self.work = os.path.join(self.dir, "work")  # for the services' own marker files
        for d in ("services", "supervisors"):
            os.makedirs(os.path.join(self.config, d))
        os.makedirs(self.work)
        for name, text in services.items():
            self.write_service(name, text)
        for name, text in (supervisors or {}).items():
            with open(os.path.join(self.config, "supervisors", name + ".toml"), "w") as f:
                f.write(textwrap.dedent(text).replace("@WORK@", self.work))
        self.under_init = under_init
        self.runtime_args = []  # more dynamod-runtime options (user mode only)
        self.proc = None
        self.out_path = os.path.join(self.dir, "console.log")
        self.console_fd = console_fd  # the runtime's stdout and stderr, instead of out_path
        self.socket = os.path.join(self.state, "control.sock")

    def write_service(self, name, text):
        with open(os.path.join(self.config, "services", name + ".toml"), "w") as f:
            f.write(textwrap.dedent(text).replace("@WORK@", self.work))

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self, wait=True):
        env = dict(os.environ, NO_COLOR="1")
        if self.under_init:
            # dynamod-init as PID 1 of a pid namespace (container mode), the runtime as its child.
            env.update(DYNAMOD_CONFIG_DIR=self.config, DYNAMOD_STATE_DIR=self.state, DYNAMOD_LOG_DIR=self.logs)
            cmd = ["unshare", "--pid", "--fork", "--mount-proc", INIT, "--container",
                   f"dynamod.runtime={RUNTIME}", "dynamod.stop_timeout=20s"]
        else:
            cmd = [RUNTIME, "--user", "--config-dir", self.config, "--state-dir", self.state, "--log-dir", self.logs,
                   "--log-level", "debug", *self.runtime_args]
        with open(self.out_path, "ab") as out:
            to = self.console_fd if self.console_fd is not None else out
            self.proc = subprocess.Popen(cmd, stdout=to, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        if wait:
            self.wait_for(lambda: os.path.exists(self.socket) and self.try_list() is not None, 15,
                          "the control socket to answer")
        return self

    def shutdown(self, timeout=30):
        """Stops everything through the control socket and waits for the runtime (or init) to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.ctl("shutdown", "poweroff")
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Timeout(f"runtime did not exit within {timeout}s after shutdown\n{self.console()[-3000:]}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def cleanup(self):
        self.kill()
        # Processes of a killed runtime linger (they are adopted on purpose): end every one started for this test.
        for pid in processes_started_for(self.dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # Records and FIFOs of a state dir on a disk live in a private tmpfs dir it links to (volatile_dir.cpp);
        # a runtime that did not stop everything leaves it, for its successor.
        for part in ("services", "supervisors", "log"):
            link = os.path.join(self.state, part)
            if os.path.islink(link):
                target = os.path.dirname(os.readlink(link))
                if os.path.basename(target).startswith("dynamod-") and os.path.dirname(target) == "/dev/shm":
                    shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- control socket --------------------------------------------------------------------------------------
    def ctl(self, *args, check=False, user=None, env=None):
        """Runs dynamodctl; `user` (a uid) runs it unprivileged through setpriv."""
        cmd = [CTL, "--socket", self.socket, *args]
        if user is not None:
            cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=env)
        if check and r.returncode != 0:
            raise AssertionError(f"dynamodctl {' '.join(args)} -> {r.returncode}: {r.stderr}")
        return r

    def try_list(self):
        r = subprocess.run([CTL, "--socket", self.socket, "--json", "list"], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            return None
        try:
            return {s["name"]: s for s in json.loads(r.stdout)}
        except ValueError:
            return None

    def list(self):
        services = self.try_list()
        if services is None:
            raise AssertionError("dynamodctl list failed")
        return services

    def service(self, name):
        return self.list().get(name)

    # --- waiting ---------------------------------------------------------------------------------------------
    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if predicate():
                    return
            except (AssertionError, OSError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise Timeout(f"timed out after {timeout}s waiting for {what}; services: {self.try_list()}\n"
                              f"--- console ---\n{self.console()[-4000:]}")
            time.sleep(0.05)

    def wait_state(self, name, state, timeout=15):
        self.wait_for(lambda: self.list()[name]["state"] == state, timeout, f"{name} to be {state}")
        return self.list()[name]

    def wait_pid_change(self, name, old_pid, timeout=15):
        def changed():
            s = self.list()[name]
            return s["pid"] not in (0, old_pid) and s["state"] == "running"
        self.wait_for(changed, timeout, f"{name} to run with a new pid (was {old_pid})")
        return self.list()[name]["pid"]

    def wait_file(self, name, timeout=15):
        path = os.path.join(self.work, name)
        self.wait_for(lambda: os.path.exists(path), timeout, f"file {name}")
        return path

    # --- what happened ---------------------------------------------------------------------------------------
    def console(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def runtime_log(self):
        try:
            with open(os.path.join(self.state, "runtime.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def service_log(self, name):
        try:
            with open(os.path.join(self.logs, name + ".log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def read_work(self, name):
        with open(os.path.join(self.work, name)) as f:
            return f.read()

    @staticmethod
    def processes_with(marker):
        """Host pids whose command line contains `marker`."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        pids.append(int(entry))
            except OSError:
                pass
        return pids

    @staticmethod
    def copies_of(marker):
        """Processes whose command line contains `marker`, less those forked by another of them: a shell's
        command substitution runs briefly as a copy of its parent, which is no second copy of a service."""
        pids = Runtime.processes_with(marker)
        return [p for p in pids if parent_of(p) not in pids]

    def runtime_host_pid(self):
        """The host pid of the dynamod-runtime process (under init: the init's child)."""
        for pid in self.processes_with(RUNTIME):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv0 = f.read().split(b"\0")[0].decode()
            except OSError:
                continue
            if argv0 == RUNTIME and self.proc and self._descends_from(pid, self.proc.pid):
                return pid
        return None

    @staticmethod
    def _descends_from(pid, ancestor):
        for _ in range(16):
            if pid == ancestor:
                return True
            pid = parent_of(pid)
            if pid is None or pid <= 1:
                return False
        return False


def sh(script):
    """A TOML exec array running `script` with /bin/sh."""
    return '["/bin/sh", "-c", ' + '"' + script.replace("\\", "\\\\").replace('"', '\\"') + '"]'


class RuntimeTestCase(unittest.TestCase):
    def runtime(self, services, wait=True, **kw):
        rt = Runtime(services, **kw)
        self.addCleanup(rt.cleanup)
        return rt.start(wait=wait)
