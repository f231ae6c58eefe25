"""The runtime's D-Bus face under test, without touching the host's /run, system bus or PID 1.

Run as a script, this file is the agent: PID 1 of a fresh mount and pid namespace (`unshare --mount --pid --fork
--mount-proc`). It mounts a tmpfs on /run, starts a private system bus (dbus-daemon --system, which listens on
/run/dbus/system_bus_socket), starts dynamod-runtime --user --dbus, and then runs, one at a time, the commands the
test sends on its stdin (one JSON object a line), answering each on its stdout:

    {"op": "run", "argv": [...], "env": {...}, "user": 65534, "timeout": 30}  -> {"rc": 0, "out": "", "err": ""}
    {"op": "kill_bus"}   -> {"pid": <the killed dbus-daemon's pid>}
    {"op": "start_bus"}  -> {"pid": <the new one's pid>}
    {"op": "spawn", "argv": [...], "out": PATH, "err": PATH, "env": {...}, "user": 0}  -> {"pid": <its pid>}
    {"op": "finish", "pid": N}  -> {"rc": N}   (SIGINT, then SIGKILL after 5 s)

`spawn` starts a client in the background (a bus monitor), writing its output to files the test reads directly
(they are on the host's /tmp, which the namespace shares); `finish` ends it.

When its stdin closes (or the test dies) the agent exits; the namespace ends with its PID 1, and the kernel kills
everything left in it: the runtime, its services, dbus-daemon.

Imported, `DbusRuntime` is runtime_harness.Runtime with that agent in place of the bare runtime process: the config,
state and log directories are on the host's /tmp (dynamodctl reaches the control socket from outside), clients of
the bus run inside through `client()`.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

# The clients' environment: nothing of the caller's (no DBUS_SYSTEM_BUS_ADDRESS, no SYSTEMD_* switches).
CLIENT_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
              "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0", "TERM": "dumb"}
BUS_SOCKET = "/run/dbus/system_bus_socket"


# --- the agent (inside the namespace) -------------------------------------------------------------------------------
class Agent:
    def __init__(self, runtime_cmd, out_path, runtime_umask=None):
        self.runtime_cmd = runtime_cmd
        self.out_path = out_path
        self.runtime_umask = runtime_umask  # the runtime's alone: the bus and the clients keep the agent's
        self.bus = None
        self.runtime = None
        self.spawned = {}  # pid -> Popen, the background clients

    def start_bus(self):
        # --nofork: the pid is ours to kill; --print-address: one line once it listens.
        # --nosyslog: the daemon's own warnings (refused connections, limits) go to the console log, not to a syslog
        # that the namespace does not have.
        with open(self.out_path, "ab") as console:
            self.bus = subprocess.Popen(["dbus-daemon", "--system", "--nofork", "--nopidfile", "--print-address=1",
                                         "--nosyslog"],
                                        stdout=subprocess.PIPE, stderr=console, stdin=subprocess.DEVNULL)
        ready, _, _ = select.select([self.bus.stdout], [], [], 10)
        if not ready or not self.bus.stdout.readline():
            raise RuntimeError("dbus-daemon did not start")
        return {"pid": self.bus.pid}

    def kill_bus(self):
        pid = self.bus.pid
        self.bus.kill()
        self.bus.wait()
        self.bus.stdout.close()
        return {"pid": pid}

    def run(self, argv, env=None, user=None, timeout=30):
        if user is not None:
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
        started = time.monotonic()
        try:
            r = subprocess.run(argv, env=dict(CLIENT_ENV, **(env or {})), capture_output=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
            rc, out, err = r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = None, e.stdout or b"", (e.stderr or b"") + f"\n[agent: timed out after {timeout}s]".encode()
        return {"rc": rc, "out": out.decode(errors="replace"), "err": err.decode(errors="replace"),
                "seconds": round(time.monotonic() - started, 3)}

    def spawn(self, argv, out, err, env=None, user=None):
        if user is not None:
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
        with open(out, "wb") as o, open(err, "wb") as e:
            p = subprocess.Popen(argv, env=dict(CLIENT_ENV, **(env or {})), stdout=o, stderr=e,
                                 stdin=subprocess.DEVNULL)
        self.spawned[p.pid] = p
        return {"pid": p.pid}

    def finish(self, pid):
        p = self.spawned.pop(pid)
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return {"rc": p.returncode}

    def main(self):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run"], check=True)
        os.makedirs("/run/dbus", exist_ok=True)
        self.start_bus()
        with open(self.out_path, "ab") as out:
            umask = self.runtime_umask
            self.runtime = subprocess.Popen(self.runtime_cmd, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=dict(os.environ, NO_COLOR="1"),
                                            preexec_fn=None if umask is None else lambda: os.umask(umask))
        print(json.dumps({"ready": True, "runtime_pid": self.runtime.pid}), flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            op = request.pop("op")
            try:
                if op == "run":
                    answer = self.run(**request)
                elif op == "kill_bus":
                    answer = self.kill_bus()
                elif op == "start_bus":
                    answer = self.start_bus()
                elif op == "spawn":
                    answer = self.spawn(**request)
                elif op == "finish":
                    answer = self.finish(**request)
                else:
                    answer = {"error": f"unknown op {op}"}
            except Exception as e:  # reported to the test, which fails with it
                answer = {"error": f"{type(e).__name__}: {e}"}
            print(json.dumps(answer), flush=True)


# --- the test's side (outside) --------------------------------------------------------------------------------------
if __name__ != "__main__":
    from runtime_harness import RUNTIME, Runtime, Timeout, tree_nodes

    class Result:
        def __init__(self, argv, answer):
            self.argv = argv
            self.rc = answer["rc"]
            self.out = answer["out"]
            self.err = answer["err"]
            self.seconds = answer["seconds"]

        @property
        def text(self):
            return self.out + self.err

        def __str__(self):
            return (f"$ {' '.join(self.argv)}\n-> exit {self.rc} after {self.seconds}s\n--- stdout ---\n{self.out}"
                    f"--- stderr ---\n{self.err}")

    class DbusRuntime(Runtime):
        """A Runtime started by the agent in its own namespaces, with --dbus and a settings root of its own."""

        def __init__(self, services, settings_files=None, runtime_umask=None, **kw):
            super().__init__(services, **kw)
            self.runtime_umask = runtime_umask
            self.root = os.path.join(self.dir, "root")  # --settings-root
            os.makedirs(os.path.join(self.root, "etc/default"))  # as on every Debian system
            for rel, text in (settings_files or {}).items():
                path = os.path.join(self.root, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
            zone = os.path.join(self.root, "usr/share/zoneinfo/Europe/Berlin")
            os.makedirs(os.path.dirname(zone))
            shutil.copyfile("/usr/share/zoneinfo/Europe/Berlin", zone)
            self.agent_out = None

        def start(self, wait=True):
            runtime_cmd = [RUNTIME, "--user", "--dbus", "--config-dir", self.config, "--state-dir", self.state,
                           "--log-dir", self.logs, "--settings-root", self.root, "--log-level", "debug",
                           *self.runtime_args]
            cmd = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc", sys.executable,
                   os.path.abspath(__file__), json.dumps(runtime_cmd), self.out_path, json.dumps(self.runtime_umask)]
            with open(self.out_path, "ab") as out:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=out,
                                             start_new_session=True, text=True, bufsize=1)
            first = self._answer(20)
            if not first.get("ready"):
                raise AssertionError(f"the namespace agent did not start: {first}\n{self.console()[-3000:]}")
            self.runtime_pid = first["runtime_pid"]  # in the namespace
            if wait:
                self.wait_for(lambda: os.path.exists(self.socket) and self.try_list() is not None, 15,
                              "the control socket to answer")
                self.wait_dbus_ready()
            return self

        def _answer(self, timeout):
            ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
            line = self.proc.stdout.readline() if ready else ""
            if not line:
                raise Timeout(f"no answer from the namespace agent within {timeout}s\n{self.console()[-3000:]}")
            return json.loads(line)

        def _request(self, wait, **request):
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            answer = self._answer(wait)
            if "error" in answer:
                raise AssertionError(f"namespace agent: {answer['error']}")
            return answer

        def client(self, *argv, user=None, env=None, timeout=30):
            """Runs a client inside the namespace (as `user`, a uid, through setpriv); never raises on its exit."""
            answer = self._request(timeout + 10, op="run", argv=list(argv), user=user, env=env, timeout=timeout)
            return Result(list(argv), answer)

        def kill_bus(self):
            return self._request(15, op="kill_bus")["pid"]

        def start_bus(self):
            return self._request(15, op="start_bus")["pid"]

        def spawn(self, *argv, out, err, user=None, env=None):
            """Starts a client inside the namespace in the background; its output goes to the files `out`, `err`."""
            return self._request(15, op="spawn", argv=list(argv), out=out, err=err, user=user, env=env)["pid"]

        def finish(self, pid):
            """Ends a client `spawn` started (SIGINT) and answers its exit status."""
            return self._request(15, op="finish", pid=pid)["rc"]

        def tree(self):
            r = self.ctl("--json", "tree")
            if r.returncode != 0:
                raise AssertionError(f"dynamodctl tree failed: {r.stderr}")
            return json.loads(r.stdout)

        def dbus_connections(self):
            return [n for n in tree_nodes(self.tree()) if n.get("kind") == "dbus_connection"]

        def dbus_ready(self):
            names = {}
            for node in self.dbus_connections():
                if node.get("state") == "ready":
                    for name in node.get("bus_names", []):
                        names[name] = node
            return all(n in names for n in ("org.freedesktop.systemd1", "org.freedesktop.hostname1",
                                            "org.freedesktop.timedate1", "org.freedesktop.locale1",
                                            "org.freedesktop.login1"))

        def wait_dbus_ready(self, timeout=15):
            try:
                self.wait_for(self.dbus_ready, timeout, "the five bus connections to be ready")
            except Timeout as e:
                raise Timeout(f"{e}\n--- the bus as root sees it ---\n{self.bus_probe()}") from None

        def bus_probe(self):
            """What a root client gets from the namespace's bus, and the sd-login files that dbus-daemon reads for
            each new connection (its at_console check calls sd_uid_get_seats once /run/systemd/seats exists)."""
            hello = self.client("dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.DBus",
                                "/org/freedesktop/DBus", "org.freedesktop.DBus.GetId", timeout=10)
            files = self.client("sh", "-c", "ls -laR /run/systemd /run/dbus; head -v -n 50 /run/systemd/users/* "
                                "/run/systemd/seats/* 2>&1", timeout=10)
            first = [line for line in self.console().splitlines() if "dbus" in line][:40]
            return f"{hello}\n{files.text}\n--- the first D-Bus lines of the console ---\n" + "\n".join(first)

        def kill(self):
            if self.proc and self.proc.poll() is None:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
            super().kill()


if __name__ == "__main__":
    Agent(json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])).main()
