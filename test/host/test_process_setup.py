"""Integration tests of how the runtime sets up a service's process and collects its output: credentials,
environment, descriptors, odd output, forking daemons, logs (user mode, real processes, no QEMU)."""
import os
import re
import signal
import unittest

from runtime_harness import Runtime, RuntimeTestCase, sh


class ProcessSetup(RuntimeTestCase):
    def test_user_group_workdir_umask_and_environment_file(self):
        rt = Runtime({"who": f"""
            [service]
            name = "who"
            exec = {sh("echo uid=$(id -u) gid=$(id -g) dir=$(pwd) umask=$(umask) from_file=$FROM_FILE table=$TABLE "
                       "notify=${NOTIFY_SOCKET:+set} invocation=${#INVOCATION_ID}; exec sleep 1000")}
            workdir = "/tmp"
            environment-file = "@WORK@/env"
            environment = {{ TABLE = "from-table" }}
            [service.user]
            user = "nobody"
            group = "nogroup"
            [security]
            umask = "027"
            """})
        self.addCleanup(rt.cleanup)
        with open(os.path.join(rt.work, "env"), "w") as f:
            f.write("# a comment\nexport FROM_FILE='from file'\n")
        rt.start()
        rt.wait_state("who", "running")
        rt.wait_for(lambda: "uid=" in rt.service_log("who"), 10, "who's output")
        line = rt.service_log("who")
        self.assertRegex(line, r"out\| uid=65534 gid=65534 dir=/tmp umask=0027 from_file=from file table=from-table "
                               r"notify=set invocation=32")

    def test_a_service_gets_exactly_its_descriptors_and_none_of_the_runtimes(self):
        # The runtime holds two log FIFOs per service; a service must see only stdin, stdout, stderr (and its
        # readiness fd), however the spawn hands them over (fd_slots.hpp).
        services = {f"filler{i}": f"""
            [service]
            name = "filler{i}"
            exec = ["/bin/sleep", "1000"]
            """ for i in range(20)}
        services["plain"] = """
            [service]
            name = "plain"
            exec = ["/bin/sleep", "1000"]
            """
        services["withfd"] = f"""
            [service]
            name = "withfd"
            exec = {sh("echo >&5; exec sleep 1000")}
            [readiness]
            type = "fd"
            fd = 5
            """
        rt = self.runtime(services)
        for name, expected in (("plain", ["0", "1", "2"]), ("withfd", ["0", "1", "2", "5"])):
            rt.wait_state(name, "running")
            pid = rt.service(name)["pid"]
            fds = sorted(os.listdir(f"/proc/{pid}/fd"), key=int)
            self.assertEqual(fds, expected, f"{name}: " + ", ".join(f"{fd} -> {os.readlink(f'/proc/{pid}/fd/{fd}')}" for fd in fds))
            self.assertEqual(os.readlink(f"/proc/{pid}/fd/0"), "/dev/null")
            self.assertTrue(os.readlink(f"/proc/{pid}/fd/1").endswith(f"/{name}.stdout"), os.readlink(f"/proc/{pid}/fd/1"))
            self.assertTrue(os.readlink(f"/proc/{pid}/fd/2").endswith(f"/{name}.stderr"), os.readlink(f"/proc/{pid}/fd/2"))

    def test_output_and_status_that_are_not_utf8_break_nothing(self):
        # Latin-1 in its output and in STATUS=: replies replace the bytes; nothing crashes, nothing restarts.
        rt = self.runtime({"latin": r"""
            [service]
            name = "latin"
            exec = ["/usr/bin/python3", "-c", '''
import os, socket, sys
sys.stdout.buffer.write(b"caf\xe9 au lait\n"); sys.stdout.flush()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"STATUS=d\xe9j\xe0 vu", os.environ["NOTIFY_SOCKET"])
os.execv("/bin/sleep", ["sleep", "1000"])
''']
            """})
        rt.wait_state("latin", "running")
        pid = rt.service("latin")["pid"]
        rt.wait_for(lambda: "vu" in (rt.service("latin") or {}).get("status_text", ""), 10, "the STATUS= text")
        for args in (["status", "latin"], ["--json", "status", "latin"], ["list"], ["logs", "latin"], ["tree"]):
            r = rt.ctl(*args)
            self.assertEqual(r.returncode, 0, f"dynamodctl {' '.join(args)}: {r.stderr}")
        self.assertIn("caf\ufffd au lait", rt.ctl("logs", "latin").stdout)
        self.assertEqual(rt.service("latin")["status_text"], "d\ufffdj\ufffd vu")
        self.assertEqual(rt.service("latin")["pid"], pid, "the same process, never restarted")
        self.assertEqual(rt.service("latin")["restarts"], 0)

    def test_a_missing_binary_fails_the_start_with_the_reason(self):
        rt = self.runtime({"ghost": """
            [service]
            name = "ghost"
            exec = ["/nonexistent/daemon"]
            [restart]
            policy = "temporary"
            """})
        rt.wait_for(lambda: "Failed to start ghost: start failed: exec: No such file or directory" in rt.console(), 10,
                    "the start failure")

    def test_forking_daemon_with_a_pid_file(self):
        rt = self.runtime({"forker": f"""
            [service]
            name = "forker"
            type = "forking"
            pid-file = "@WORK@/forker.pid"
            exec = {sh("(setsid sh -c 'echo $$ > @WORK@/forker.pid; exec sleep 1000' &) ; sleep 0.2; exit 0")}
            """})
        s = rt.wait_state("forker", "running")
        with open(os.path.join(rt.work, "forker.pid")) as f:
            self.assertEqual(s["pid"], int(f.read()))
        os.kill(s["pid"], signal.SIGKILL)
        rt.wait_pid_change("forker", s["pid"])

    def test_forking_daemon_found_in_its_session(self):
        rt = self.runtime({"forker2": f"""
            [service]
            name = "forker2"
            type = "forking"
            exec = {sh("(exec sleep 1000 &) ; exit 0")}
            """})
        s = rt.wait_state("forker2", "running")
        with open(f"/proc/{s['pid']}/cmdline", "rb") as f:
            self.assertEqual(f.read().split(b"\0")[0], b"sleep")


class Logs(RuntimeTestCase):
    def test_no_line_is_lost_when_a_service_writes_fast_and_logs_rotate(self):
        rt = self.runtime({"chatty": f"""
            [service]
            name = "chatty"
            exec = ["/usr/bin/python3", "-c", "import sys\\nfor i in range(20000): print(f'line {{i:05d}} ' + 'x' * 60)\\nsys.stdout.flush()\\nprint('to stderr', file=sys.stderr)\\nimport time; time.sleep(1000)"]
            [log]
            max-size = "64K"
            keep = 100
            """})
        rt.wait_state("chatty", "running")
        files = lambda: sorted([f for f in os.listdir(rt.logs) if f.startswith("chatty.log")],
                               key=lambda f: -int(f.rsplit(".", 1)[1]) if f[-1].isdigit() else 0)
        def all_lines():
            text = ""
            for f in files():
                with open(os.path.join(rt.logs, f)) as fh:
                    text += fh.read()
            return text
        rt.wait_for(lambda: "line 19999" in all_lines() and "to stderr" in all_lines(), 30, "all output logged")
        text = all_lines()
        numbers = [int(m) for m in re.findall(r" out\| line (\d{5}) ", text)]
        self.assertEqual(numbers, list(range(20000)), "every line, once, in order")
        self.assertRegex(text, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z err\| to stderr")
        self.assertGreater(len(files()), 10, "rotated by size")


if __name__ == "__main__":
    unittest.main(verbosity=2)
