"""Issue 6: cgroups v2, namespaces, seccomp and credentials, asserted from inside a booted guest.

One boot runs a configuration of misbehaving and sandboxed services (test/qemu/isolation_probe.c); the guest
script collects what they saw and what dynamod reports, and the assertions here check it.
"""
import json
import os
import re
import shutil
import stat
import tempfile
import unittest

from guest import BUILD, GuestTestCase

PROBE = os.path.join(BUILD, "test", "isolation_probe")

SERVICES = {
    "hog": """
[service]
name = "hog"
exec = ["/test/probe", "hog", "/run/hog.runs", "3"]
[cgroup]
memory-max = "24M"
[restart]
delay = "500ms"
max-restarts = 100
""",
    "bomb": """
[service]
name = "bomb"
exec = ["/test/probe", "forkbomb"]
[cgroup]
pids-max = 16
""",
    "spinner": """
[service]
name = "spinner"
exec = ["/test/probe", "spin"]
[cgroup]
cpu-max = "20000 100000"
""",
    "daemon": """
[service]
name = "daemon"
exec = ["/test/probe", "daemonize", "/run/daemon.pid"]
""",
    "sandbox": r"""
[service]
name = "sandbox"
exec = ["/bin/sh", "-c", '''
echo "NS pid=$$"
procs=$(ps -o comm)  # alone, so nothing else of ours is mid-exec while ps looks
echo "NS processes=$(echo "$procs" | tail -n +2 | sort -u | tr '\n' ,)"
echo "NS hostname=$(hostname)"
echo "NS net=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ,)"
touch /tmp/written-inside && echo "NS tmp=$(ls /tmp | tr '\n' ,)"
echo "NS srv-read=$(cat /srv/data.txt)"
touch /srv/new 2>/dev/null && echo "NS srv-write=allowed" || echo "NS srv-write=refused"
echo "NS secret=$(cat /secret/key.txt 2>/dev/null || echo unreadable)"
touch /etc/new 2>/dev/null && echo "NS etc-write=allowed" || echo "NS etc-write=refused"
touch /data/new 2>/dev/null && echo "NS data-write=allowed" || echo "NS data-write=refused"
echo "NS done"
exec sleep 100000''']
[namespace]
enable = ["pid", "mnt", "net", "uts", "ipc"]
hostname = "sandbox"
private-tmp = true
protect-system = "strict"
read-only-paths = ["/srv"]
inaccessible-paths = ["/secret"]
bind-mounts = [{ source = "/var/lib/sandbox-data", target = "/data", writable = true }]
""",
    "badmount": """
[service]
name = "badmount"
exec = ["/bin/sleep", "1000"]
[namespace]
enable = ["mnt"]
bind-mounts = [{ source = "/nonexistent", target = "/srv" }]
[restart]
policy = "temporary"
""",
    "sc-deny": """
[service]
name = "sc-deny"
exec = ["/test/probe", "syscalls"]
[security]
seccomp-deny = ["@mount", "@reboot", "@swap"]
""",
    "sc-allow": """
[service]
name = "sc-allow"
exec = ["/test/probe", "syscalls"]
[security]
seccomp-allow = ["@system-service"]
""",
    "sc-kill": """
[service]
name = "sc-kill"
exec = ["/test/probe", "syscalls"]
[security]
seccomp-deny = ["@mount"]
seccomp-action = "kill"
[restart]
policy = "temporary"
""",
    "unpriv": """
[service]
name = "unpriv"
exec = ["/test/probe", "creds", "/test/probe-suid"]
[service.user]
user = "nobody"
[security]
no-new-privileges = true
capabilities = []
""",
    "unpriv-control": """
[service]
name = "unpriv-control"
exec = ["/test/probe", "creds", "/test/probe-suid"]
[service.user]
user = "nobody"
""",
    # Issue 14 §5: a service that exits cleanly over and over, and one that a reload moves to another supervisor.
    "blinker": """
[service]
name = "blinker"
supervisor = "blinkers"
exec = ["/bin/sh", "-c", "[ -e /run/blink ] || exec sleep 100000; sleep 0.3; exit 0"]
[restart]
delay = "0"
max-restarts = 1000
""",
    "mover": """
[service]
name = "mover"
supervisor = "blinkers"
exec = ["/bin/sleep", "100000"]
""",
    "badlimit": """
[service]
name = "badlimit"
exec = ["/test/probe", "spin"]
[cgroup]
memory-max = "lots"
""",
}

SUPERVISORS = {
    "blinkers": """
[supervisor]
name = "blinkers"
[restart]
max-restarts = 1000
""",
}

SCRIPT = r"""
wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds
  n=$(($1 * 10)); shift
  while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; n=$((n - 1)); done
  echo "TIMEOUT waiting for: $*"; return 1
}
logs_have() { dynamodctl logs "$1" -n 100 | grep -q "$2"; }
json_has() { dynamodctl --json status "$1" | grep -q "$2"; }
json_line() { echo "JSON $1 $(dynamodctl --json status "$1" | tr -d '\n')"; }  # one line for the test to parse
not_running() { ! dynamodctl status "$1"; }
cg=/sys/fs/cgroup/dynamod

# memory.max: OOM-killed, reported as `oom`, restarted per policy (three times, then the probe settles).
wait_for 120 json_has hog '"oom_kills": [2-9]'
wait_for 60 logs_have hog "HOG settled"  # the 4th run stops hogging and stays up
json_line hog
dynamodctl status hog | sed 's/^/HOGSTATUS /'
dynamodctl stop hog

# pids.max: the fork bomb stops at the limit; the system still answers.
wait_for 60 logs_have bomb FORKBOMB
echo "CHECK forkbomb: $(dynamodctl logs bomb | grep -o 'FORKBOMB.*')"
echo "CHECK bomb-pids: $(cat $cg/bomb/pids.current) of $(cat $cg/bomb/pids.max)"
echo "CHECK responsive: $(dynamodctl list > /dev/null && echo yes) $(echo alive)"
json_line bomb
dynamodctl status bomb | sed 's/^/BOMBSTATUS /'
dynamodctl stop bomb

# cpu.max: 20% of a CPU for a busy loop, measured over 4 s.
u0=$(awk '/^usage_usec/ {print $2}' $cg/spinner/cpu.stat); t0=$(cut -d' ' -f1 /proc/uptime)
sleep 4
u1=$(awk '/^usage_usec/ {print $2}' $cg/spinner/cpu.stat); t1=$(cut -d' ' -f1 /proc/uptime)
echo "CHECK cpu: $u0 $t0 $u1 $t1"
dynamodctl stop spinner

# A double-forked daemon (own session, ignores SIGTERM) does not survive `dynamodctl stop`.
wait_for 30 test -s /run/daemon.pid
pid=$(cat /run/daemon.pid)
main=$(dynamodctl --json status daemon | grep -o '"pid": [0-9]*' | head -n 1 | grep -o '[0-9]*$')
echo "CHECK daemon-before: $(kill -0 $pid && echo alive) session=$(cut -d' ' -f6 /proc/$pid/stat) main=$main procs=$(wc -l < $cg/daemon/cgroup.procs)"
dynamodctl stop daemon
left=$(ps -o pid | grep -c "^ *$pid$" || true)
if [ -d $cg/daemon ]; then procs=$(wc -l < $cg/daemon/cgroup.procs); else procs=removed; fi
echo "CHECK daemon-after: $(kill -0 $pid 2>/dev/null && echo alive || echo gone) ps=$left cgroup=$procs"

# Namespaces, seen from inside the sandbox, and from outside.
wait_for 30 logs_have sandbox "NS done"
dynamodctl logs sandbox -n 20 | grep -o "NS .*"
echo "CHECK host-tmp: $(ls /tmp | grep -c written-inside || true)"
echo "CHECK host-hostname: $(hostname)"
echo "CHECK host-secret: $(cat /secret/key.txt)"

echo "CHECK host-data: $(ls /var/lib/sandbox-data)"
wait_for 30 not_running badmount
json_line badmount

# seccomp: deny-list with EPERM, allow-list, and kill.
wait_for 30 logs_have sc-deny "SYSCALLS done"
wait_for 30 logs_have sc-allow "SYSCALLS done"
dynamodctl logs sc-deny | grep -o "SYSCALL .*" | sed 's/^/DENY /'
dynamodctl logs sc-allow | grep -o "SYSCALL .*" | sed 's/^/ALLOW /'
wait_for 30 not_running sc-kill
json_line sc-kill

# Credentials: nobody, no capabilities, no_new_privs: a setuid-root program does not give root back.
wait_for 30 logs_have unpriv EUID
wait_for 30 logs_have unpriv-control EUID
dynamodctl logs unpriv | grep -o "CRED .*\|EUID .*" | sed 's/^/UNPRIV /'
dynamodctl logs unpriv-control | grep -o "CRED .*\|EUID .*" | sed 's/^/CONTROL /'

# A bad limit: a config error naming file, line and key; the service never ran.
dynamodctl check | sed 's/^/CHECKCFG /' || true
echo "CHECK badlimit-status: $(dynamodctl status badlimit > /dev/null 2>&1; echo $?)"
dynamodctl tree | sed 's/^/TREE /'

# Issue 14 §5: clean exits leave no cgroup watcher or descriptor behind, and nothing busy-watches a removed cgroup.
rt=$(pidof dynamod-runtime)
restarts() { dynamodctl --json status blinker | grep -o '"restarts": [0-9]*' | grep -o '[0-9]*$'; }
at_least() { [ "$(restarts)" -ge "$1" ]; }
min_fds() {  # the least over a few samples: a restart in progress briefly holds a spawn pipe
  m=1000000
  for i in 1 2 3 4 5 6 7 8 9 10; do n=$(ls /proc/$rt/fd 2>/dev/null | wc -l); [ "$n" -lt "$m" ] && m=$n; sleep 0.05; done
  echo $m
}
touch /run/blink
dynamodctl restart blinker > /dev/null
wait_for 60 at_least 3
fd0=$(min_fds)
wait_for 120 at_least 13
fd1=$(min_fds)
echo "CHECK blinker-fds: $fd0 $fd1"
echo "CHECK blinker-watchers: $(dynamodctl tree | grep -c 'cgroup watcher /dynamod/blinkers/blinker' || true)"
dynamodctl stop blinker
t0=$(awk '{print $14 + $15}' /proc/$rt/stat); sleep 3; t1=$(awk '{print $14 + $15}' /proc/$rt/stat)
echo "CHECK runtime-ticks-in-3s: $((t1 - t0))"

# A running service that a reload moves to another supervisor keeps its process, now in its new cgroup.
main_pid() { dynamodctl --json status "$1" | grep -o '"pid": [0-9]*' | head -n 1 | grep -o '[0-9]*$'; }
under_root() { dynamodctl --json list | tr -d '\n' | grep -q '"name": "mover"[^}]*"supervisor": "root"'; }
mpid=$(main_pid mover)
sed -i '/^supervisor/d' /etc/dynamod/services/mover.toml
rm /etc/dynamod/services/badlimit.toml  # a broken file makes reload change nothing
dynamodctl reload > /dev/null
wait_for 30 under_root
if [ -d $cg/blinkers/mover ]; then old=present; else old=removed; fi
echo "CHECK mover: before=$mpid after=$(main_pid mover) alive=$(kill -0 $mpid && echo yes) cgroup=$(grep '^0::' /proc/$mpid/cgroup) old=$old"
dynamodctl stop mover
echo "CHECK mover-stopped: $(kill -0 $mpid 2>/dev/null && echo alive || echo gone)"
"""


def guest_json(guest, name):
    m = re.search(r"^JSON " + re.escape(name) + r" (\{.*\})\s*$", guest.log, re.MULTILINE)
    if not m:
        raise AssertionError(f"no JSON line for {name} in {guest.log_path}\n{guest.tail()}")
    return json.loads(m.group(1))


def prefixed(guest, prefix):
    return {k: v.strip() for k, v in re.findall(r"^" + prefix + r" (\S+?)[:=] ?(.*)$", guest.log, re.MULTILINE)}


class Isolation(GuestTestCase):
    @classmethod
    def setUpClass(cls):
        work = tempfile.mkdtemp(prefix="dynamod-isolation.")
        try:
            services = os.path.join(work, "etc", "dynamod", "services")
            os.makedirs(services)
            for name, text in SERVICES.items():
                with open(os.path.join(services, name + ".toml"), "w") as f:
                    f.write(text.lstrip())
            supervisors = os.path.join(work, "etc", "dynamod", "supervisors")
            os.makedirs(supervisors)
            for name, text in SUPERVISORS.items():
                with open(os.path.join(supervisors, name + ".toml"), "w") as f:
                    f.write(text.lstrip())
            tree = os.path.join(work, "tree")
            os.makedirs(os.path.join(tree, "srv"))
            os.makedirs(os.path.join(tree, "secret"))
            os.makedirs(os.path.join(tree, "var", "lib", "sandbox-data"))
            os.makedirs(os.path.join(tree, "data"))
            with open(os.path.join(tree, "srv", "data.txt"), "w") as f:
                f.write("data\n")
            with open(os.path.join(tree, "secret", "key.txt"), "w") as f:
                f.write("hidden\n")
            suid = os.path.join(work, "probe-suid")
            shutil.copy(PROBE, suid)
            os.chown(suid, 0, 0)
            os.chmod(suid, 0o4755 | stat.S_IRUSR)
            cls.guest = GuestTestCase.boot(
                cls(), "isolation", SCRIPT, timeout=420,
                extra_args=["--etc", os.path.join(work, "etc"), "--tree", tree + ":/",
                            "--binary", PROBE + ":/test/probe", "--file", suid + ":/test/probe-suid"])
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_the_guest_script_completed(self):
        self.assertPoweredOff(self.guest)
        self.assertInLog(self.guest, r"DYNAMOD-TEST: PASS")
        self.assertNotInLog(self.guest, r"TIMEOUT waiting for")

    def test_memory_max_oom_kills_and_the_service_is_restarted_with_reason_oom(self):
        hog = guest_json(self.guest, "hog")
        self.assertEqual(hog["last_exit"], "oom")
        self.assertEqual(hog["oom_kills"], 3, "the probe hogs in its first three runs")
        self.assertEqual(hog["restarts"], 3, "restarted per its permanent policy")
        self.assertEqual(hog["state"], "running", "the fourth run settles")
        self.assertInLog(self.guest, r"hog: the OOM killer struck in its cgroup \(memory.max 25165824\)")
        self.assertInLog(self.guest, r"^HOGSTATUS +OOM kills: +3\s*$")
        self.assertInLog(self.guest, r"^HOGSTATUS +Memory: +[\d.]+[KMG] \(peak [\d.]+[KMG], max 24\.0M\)")

    def test_pids_max_stops_a_fork_bomb_and_the_system_stays_responsive(self):
        self.assertRegex(self.guest.check("forkbomb") or "", r"^FORKBOMB forked 15, then EAGAIN$")
        self.assertEqual(self.guest.check("bomb-pids"), "16 of 16")
        self.assertEqual(self.guest.check("responsive"), "yes alive")
        bomb = guest_json(self.guest, "bomb")
        self.assertEqual(bomb["cgroup"]["pids_current"], 16)
        self.assertEqual(bomb["cgroup"]["pids_max"], 16)
        self.assertEqual(bomb["cgroup"]["cgroup"], "/dynamod/bomb")
        self.assertInLog(self.guest, r"BOMBSTATUS +Tasks: +16 \(limit 16\)")
        self.assertInLog(self.guest, r"BOMBSTATUS +Memory: +[\d.]+[KMG] \(peak [\d.]+[KMG]\)")

    def test_cpu_max_caps_a_busy_loop(self):
        u0, t0, u1, t1 = (float(x) for x in self.guest.check("cpu").split())
        share = (u1 - u0) / 1e6 / (t1 - t0)
        self.assertGreater(share, 0.10, "the busy loop ran")
        self.assertLess(share, 0.28, f"cpu.max 20000/100000 holds it near 20% (measured {share:.2%})")

    def test_a_double_forked_daemon_does_not_survive_stop(self):
        before = self.guest.check("daemon-before")
        m = re.match(r"alive session=(\d+) main=(\d+) procs=2$", before or "")
        self.assertIsNotNone(m, before)
        self.assertNotEqual(m.group(1), m.group(2), "the daemon left the service's session and process group")
        self.assertEqual(self.guest.check("daemon-after"), "gone ps=0 cgroup=removed")
        self.assertInLog(self.guest, r"daemon: killing 1 process\(es\) left in its cgroup")

    def test_namespaces_as_the_service_sees_them(self):
        ns = prefixed(self.guest, "NS")
        self.assertEqual(ns["pid"], "2", "a fresh pid namespace, dynamod-nsinit being its PID 1")
        self.assertEqual(ns["processes"], "dynamod-nsinit,ps,sh,", "nothing but the service")
        self.assertEqual(ns["hostname"], "sandbox")
        self.assertEqual(ns["net"], "lo,", "only the loopback device")
        self.assertEqual(ns["tmp"], "written-inside,", "a private, empty /tmp")
        self.assertEqual(ns["srv-read"], "data")
        self.assertEqual(ns["srv-write"], "refused", "read-only-paths are read-only")
        self.assertEqual(ns["secret"], "unreadable", "inaccessible-paths hide what is there")
        self.assertEqual(self.guest.check("host-tmp"), "0", "the host's /tmp is untouched")
        self.assertNotEqual(self.guest.check("host-hostname"), "sandbox")
        self.assertEqual(self.guest.check("host-secret"), "hidden")
        self.assertEqual(ns["etc-write"], "refused", "protect-system = strict")
        self.assertEqual(ns["data-write"], "allowed", "a writable bind mount stays writable under strict")
        self.assertEqual(self.guest.check("host-data"), "new", "written through the bind mount")

    def test_a_failed_mount_step_fails_the_start_naming_the_step(self):
        bad = guest_json(self.guest, "badmount")
        self.assertEqual(bad["last_exit"], "start failed: bind-mount onto /srv: No such file or directory")

    def test_seccomp_deny_list_allow_list_and_kill(self):
        deny = prefixed(self.guest, "DENY SYSCALL")
        self.assertEqual(deny, {"mount": "EPERM", "reboot": "EPERM", "swapon": "EPERM", "ptrace": "ok", "getpid": "ok"})
        allow = prefixed(self.guest, "ALLOW SYSCALL")
        self.assertEqual(allow, {"mount": "EPERM", "reboot": "EPERM", "swapon": "EPERM", "ptrace": "EPERM",
                                 "getpid": "ok"}, "@system-service has no mount, reboot, swap or ptrace")
        self.assertEqual(guest_json(self.guest, "sc-kill")["last_exit"], "killed by SIGSYS")

    def test_a_non_root_service_cannot_regain_capabilities(self):
        unpriv = prefixed(self.guest, "UNPRIV CRED")
        self.assertEqual(unpriv["uid"], "65534 euid=65534")
        for caps in ("CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(unpriv[caps], "0000000000000000", caps)
        self.assertEqual(unpriv["NoNewPrivs"], "1")
        self.assertEqual(unpriv["setuid(0)"], "EPERM")
        self.assertInLog(self.guest, r"^UNPRIV EUID 65534\s*$")
        # The control: the same service without no-new-privileges gets root from the setuid program.
        self.assertInLog(self.guest, r"^CONTROL EUID 0\s*$")

    def test_a_bad_limit_is_a_config_error_and_the_service_never_runs(self):
        self.assertInLog(self.guest, r"CHECKCFG .*badlimit.toml:5:14: cgroup.memory-max: ")
        self.assertInLog(self.guest, r"CHECKCFG badlimit: disabled: its file /etc/dynamod/services/badlimit.toml has errors")
        self.assertEqual(self.guest.check("badlimit-status"), "3", "known, not running")
        self.assertNotInLog(self.guest, r"badlimit: started")

    def test_the_tree_shows_a_cgroup_watcher_per_running_service(self):
        tree = "\n".join(self.guest.lines(r"^TREE (.*)$"))
        for name in ("sandbox", "sc-deny", "unpriv"):
            self.assertRegex(tree, r"cgroup watcher /dynamod/" + name + r" \[populated\]")

    def test_clean_exits_leave_no_watcher_or_descriptor_and_nothing_busy_loops(self):
        before, after = map(int, self.guest.check("blinker-fds").split())
        # A leak is two per exit (20); a restart caught in progress holds a pipe or two.
        self.assertLessEqual(after, before + 4, "the runtime's descriptors after 10 more clean exits")
        self.assertLessEqual(int(self.guest.check("blinker-watchers")), 1, "at most the live incarnation's watcher")
        # Idle, with ten removed cgroups behind it: a watcher re-arming on one would take a CPU (300 ticks).
        self.assertLess(int(self.guest.check("runtime-ticks-in-3s")), 100)

    def test_a_reload_that_moves_a_running_service_keeps_its_process_in_its_new_cgroup(self):
        m = re.match(r"before=(\d+) after=(\d+) alive=(\w+) cgroup=(\S+) old=(\w+)$", self.guest.check("mover") or "")
        self.assertIsNotNone(m, self.guest.check("mover"))
        self.assertEqual(m.group(1), m.group(2), "the same process, adopted by root")
        self.assertEqual(m.group(3), "yes")
        self.assertEqual(m.group(4), "0::/dynamod/mover")
        self.assertEqual(m.group(5), "removed", "the old supervisor's leaf is gone")
        self.assertEqual(self.guest.check("mover-stopped"), "gone")


if __name__ == "__main__":
    unittest.main(verbosity=2)
