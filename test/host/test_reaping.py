"""Reaping without a scan per exit: every process the runtime spawns is watched through its pidfd and reaped with
one wait of its own, so the exits of many services at once do not each cost a waitid(P_ALL) walk over every
child (quadratic in a stop of them all). SIGCHLD still triggers a scan, rate-limited, for what the runtime did
not spawn: orphans it inherits as subreaper must not stay zombies. `dynamodctl tree` shows the reaper's counts."""
import json
import os
import signal
import time
import unittest

from runtime_harness import RuntimeTestCase, tree_nodes

N = 40


def sleeper(name):
    return f'[service]\nname = "{name}"\nexec = ["/bin/sleep", "1000"]\n[restart]\ndelay = "0"\n'


def zombie_children_of(pid):
    zombies = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == pid:
            zombies.append(int(entry))
    return zombies


class Reaping(RuntimeTestCase):
    def reaper(self, rt):
        tree = json.loads(rt.ctl("--json", "tree", check=True).stdout)
        return next(n for n in tree_nodes(tree) if n.get("kind") == "reaper")

    def test_spawned_services_are_watched_by_pidfd_and_a_mass_kill_is_not_a_scan_per_exit(self):
        names = [f"s{i:02d}" for i in range(N)]
        rt = self.runtime({n: sleeper(n) for n in names}, supervisors={
            "root": '[supervisor]\nname = "root"\n[restart]\nmax-restarts = 1000\nmax-restart-window = "60s"\n'})
        pids = {n: rt.wait_state(n, "running", timeout=30)["pid"] for n in names}
        before = self.reaper(rt)
        self.assertEqual(before["pidfds"], N, before)
        self.assertEqual(before["watched_pids"], N, before)

        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)
        for n in names:
            rt.wait_for(lambda n=n: rt.list()[n]["pid"] not in (0, pids[n]) and rt.list()[n]["state"] == "running",
                        30, f"{n} to run again")
        after = self.reaper(rt)
        self.assertGreaterEqual(after["reaped"] - before["reaped"], N, after)
        # Each exit is reaped through its own pidfd; SIGCHLD scans are rate-limited, not one per exit.
        self.assertLessEqual(after["scans"] - before["scans"], N // 2, after)
        self.assertEqual(after["pidfds"], N, after)
        self.assertEqual(rt.shutdown(), 0)

    def test_an_orphan_the_runtime_inherits_is_reaped(self):
        # The oneshot's shell exits at once; its background child is reparented to the runtime (a subreaper).
        rt = self.runtime({
            "parent": '[service]\nname = "parent"\ntype = "oneshot"\n'
                      'exec = ["/bin/sh", "-c", "/bin/sleep 0.5 & exit 0"]\n',
            "keeper": sleeper("keeper"),
        })
        rt.wait_state("parent", "done", timeout=30)
        rt.wait_state("keeper", "running", timeout=30)
        runtime_pid = rt.proc.pid
        rt.wait_for(lambda: not any(self.is_sleep_child(p, runtime_pid) for p in os.listdir("/proc") if p.isdigit()),
                    10, "the orphaned sleep to end")
        rt.wait_for(lambda: not zombie_children_of(runtime_pid), 10, "no zombie left under the runtime")
        self.assertGreaterEqual(self.reaper(rt)["scans"], 1)
        self.assertEqual(rt.shutdown(), 0)

    @staticmethod
    def is_sleep_child(entry, parent):
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            return False
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        return name == "sleep" and int(fields[1]) == parent and fields[0] != "Z" and \
            "0.5" in open(f"/proc/{entry}/cmdline").read().replace("\0", " ")


if __name__ == "__main__":
    unittest.main(verbosity=2)
