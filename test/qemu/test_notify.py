"""Issue 14 §1 under dynamod-init with cgroups: MAINPID= names only a process in the service's own cgroup (a
double-forked daemon of its own is fine; another service's process, the runtime or PID 1 are not), a hostile
nobody service cannot make the runtime signal another process, and stop-exec and the exec readiness check run as
the service, inside its cgroup."""
import os
import shutil
import tempfile
import unittest

from guest import BUILD, GuestTestCase

PROBE = os.path.join(BUILD, "test", "isolation_probe")

WAIT_PIDS = "while [ ! -s /tmp/pids ]; do sleep 0.1; done; read victim runtime < /tmp/pids; "

SERVICES = {
    "victim": """
[service]
name = "victim"
exec = ["/bin/sleep", "100000"]
""",
    "hostile": f"""
[service]
name = "hostile"
exec = ["/bin/sh", "-c", '{WAIT_PIDS}exec /test/probe notify MAINPID=$victim MAINPID=$runtime MAINPID=1 STATUS=sent']
[service.user]
user = "nobody"
""",
    "trigger": f"""
[service]
name = "trigger"
exec = ["/bin/sh", "-c", '{WAIT_PIDS}exec /test/probe notify "MAINPID=$victim\\\\nWATCHDOG=trigger"']
[service.user]
user = "nobody"
[restart]
policy = "temporary"
""",
    "claimer": """
[service]
name = "claimer"
exec = ["/test/probe", "claim-daemon"]
[service.user]
user = "nobody"
""",
    # The exec check runs in the service's cgroup too, but is the probe's: it may not become the main pid.
    "checkclaim": """
[service]
name = "checkclaim"
exec = ["/bin/sh", "-c", 'while [ ! -s /tmp/checkclaim.pid ]; do sleep 0.1; done; exec /test/probe notify "MAINPID=$(cat /tmp/checkclaim.pid)\\nSTATUS=claimed"']
[service.user]
user = "nobody"
[readiness]
type = "exec"
check-exec = ["/bin/sh", "-c", "echo $$ > /tmp/checkclaim.pid.new && mv /tmp/checkclaim.pid.new /tmp/checkclaim.pid; exec sleep 100"]
check-timeout = "200s"
""",
    "creds": """
[service]
name = "creds"
exec = ["/bin/sleep", "100000"]
[service.user]
user = "nobody"
[readiness]
type = "exec"
check-exec = ["/bin/sh", "-c", "id -u > /tmp/check.uid && cat /proc/self/cgroup > /tmp/check.cgroup"]
interval = "200ms"
[shutdown]
stop-exec = ["/bin/sh", "-c", "id -u > /tmp/stop.uid; cat /proc/self/cgroup > /tmp/stop.cgroup; kill $MAINPID"]
""",
}

SCRIPT = r"""
wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds
  n=$(($1 * 10)); shift
  while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; n=$((n - 1)); done
  echo "TIMEOUT waiting for: $*"; return 1
}
pid_of() { dynamodctl --json status "$1" | grep -o '"pid": [0-9]*' | head -n 1 | grep -o '[0-9]*$'; }
json_has() { dynamodctl --json status "$1" | grep -q "$2"; }
logs_have() { dynamodctl logs "$1" -n 100 | grep -q "$2"; }
running() { dynamodctl status "$1" | grep -q running; }

wait_for 60 running victim
victim=$(pid_of victim)
runtime=$(pidof dynamod-runtime)
echo "$victim $runtime" > /tmp/pids.new && mv /tmp/pids.new /tmp/pids

# A nobody service names another service's process, the runtime and PID 1: all refused; stop stops its own.
wait_for 60 json_has hostile '"status_text": "sent"'
hostile=$(pid_of hostile)
echo "CHECK hostile-main: $([ "$hostile" != "$victim" ] && [ "$hostile" != "$runtime" ] && [ "$hostile" != 1 ] && echo own)"
dynamodctl stop hostile
echo "CHECK hostile-stopped: $(kill -0 $hostile 2>/dev/null && echo alive || echo gone)"

# MAINPID=<victim> with WATCHDOG=trigger: the trigger ends the service itself.
wait_for 60 json_has trigger '"last_exit": "watchdog'
echo "CHECK victim: $([ "$(pid_of victim)" = "$victim" ] && kill -0 $victim && echo alive) restarts=$(dynamodctl --json status victim | grep -o '"restarts": [0-9]*' | grep -o '[0-9]*$')"

# A double-forked daemon of its own, in its cgroup though not its descendant, may be named.
wait_for 60 logs_have claimer CLAIMED
daemon=$(dynamodctl logs claimer | grep -o 'CLAIMED [0-9]*' | grep -o '[0-9]*$')
wait_for 30 json_has claimer "\"pid\": $daemon"
echo "CHECK claimer-main: $([ "$(pid_of claimer)" = "$daemon" ] && echo daemon)"
dynamodctl stop claimer
echo "CHECK claimer-stopped: $(kill -0 $daemon 2>/dev/null && echo alive || echo gone)"

# MAINPID= naming the running readiness check (in the cgroup, but the probe's) is refused.
wait_for 60 json_has checkclaim '"status_text": "claimed"'
echo "CHECK checkclaim-main: $([ "$(pid_of checkclaim)" != "$(cat /tmp/checkclaim.pid)" ] && kill -0 $(cat /tmp/checkclaim.pid) && echo own)"

# The readiness check and the stop command run as nobody, in the service's cgroup.
wait_for 60 running creds
dynamodctl stop creds
echo "CHECK check-creds: $(cat /tmp/check.uid) $(cat /tmp/check.cgroup)"
echo "CHECK stop-creds: $(cat /tmp/stop.uid) $(cat /tmp/stop.cgroup)"
"""


class NotifyUnderInit(GuestTestCase):
    @classmethod
    def setUpClass(cls):
        work = tempfile.mkdtemp(prefix="dynamod-notify.")
        try:
            services = os.path.join(work, "etc", "dynamod", "services")
            os.makedirs(services)
            for name, text in SERVICES.items():
                with open(os.path.join(services, name + ".toml"), "w") as f:
                    f.write(text.lstrip())
            tree = os.path.join(work, "tree")  # copied onto /: its 0755 lets nobody reach /bin
            os.makedirs(tree)
            os.chmod(tree, 0o755)
            cls.guest = GuestTestCase.boot(cls(), "notify", SCRIPT, timeout=300,
                                           extra_args=["--etc", os.path.join(work, "etc"), "--tree", tree + ":/",
                                                       "--binary", PROBE + ":/test/probe"])
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def check(self, name):
        value = self.guest.check(name)
        self.assertIsNotNone(value, f"no CHECK {name} in {self.guest.log_path}\n{self.guest.tail()}")
        return value

    def test_a_foreign_mainpid_is_refused_and_stop_stops_the_service_itself(self):
        self.assertEqual(self.check("hostile-main"), "own")
        self.assertEqual(self.check("hostile-stopped"), "gone")
        self.assertRegex(self.guest.log, r"MAINPID=\d+ refused: the process is not in the service's cgroup")
        self.assertRegex(self.guest.log, r"MAINPID=\d+ refused: the runtime is not the service's")
        self.assertRegex(self.guest.log, r"MAINPID=1 refused: pid 1 is not the service's")

    def test_watchdog_trigger_after_a_foreign_mainpid_spares_the_victim(self):
        self.assertEqual(self.check("victim"), "alive restarts=0")

    def test_a_double_forked_daemon_in_the_cgroup_may_be_named(self):
        self.assertEqual(self.check("claimer-main"), "daemon")
        self.assertEqual(self.check("claimer-stopped"), "gone")

    def test_mainpid_may_not_name_the_running_readiness_check(self):
        self.assertEqual(self.check("checkclaim-main"), "own")

    def test_check_exec_and_stop_exec_run_as_the_service_in_its_cgroup(self):
        self.assertEqual(self.check("check-creds"), "65534 0::/dynamod/creds")
        self.assertEqual(self.check("stop-creds"), "65534 0::/dynamod/creds")

    def test_the_guest_script_completed(self):
        self.assertNotIn("TIMEOUT", self.guest.log)
        self.assertIn("CHECK stop-creds", self.guest.log)


if __name__ == "__main__":
    unittest.main()
