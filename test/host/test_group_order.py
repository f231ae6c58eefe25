"""Group restarts keep the start order: the real runtime in user mode, real processes.

w1..w4 form a chain, each `after` the one before, readiness `fd`. Each one appends "<name> start" to a log when
its process starts and "<name> ready" just before it signals readiness, so the log of one round must read
w1 start, w1 ready, w2 start, w2 ready, ... : a child starts only once the sibling it is ordered after is ready
in this round (not because the previous incarnation's `stopped` or `failed` still counts as settled), and a
start that fails in a round ends that round before later children start (OTP never starts a child after the
one that failed). Each scenario is repeated, since the bug it guards against is a race. GroupStopOrder checks
the other half of a group restart: a child stops only after everything that depends on it, directly or not
(each one logs "<name> stop" when its stop signal arrives).
"""
import os
import signal
import unittest

from runtime_harness import RuntimeTestCase, sh

REPETITIONS = 20
CHAIN = ("w1", "w2", "w3", "w4")


def chain_service(name, previous, supervisor, fail_flag=False, dependency="after", delay="0"):
    # With fail_flag, the start fails once (exit 1 before readiness) whenever @WORK@/fail-<name> exists.
    fail = (f"if [ -e @WORK@/fail-{name} ]; then rm -f @WORK@/fail-{name}; echo '{name} fail' >> @WORK@/order.log; "
            f"exit 1; fi; ") if fail_flag else ""
    # The stop signal (SIGTERM, to the process group) is logged as "<name> stop".
    script = (f"trap 'echo \"{name} stop\" >> @WORK@/order.log; exit 0' TERM; "
              f"echo '{name} start' >> @WORK@/order.log; {fail}sleep 0.02; echo '{name} ready' >> @WORK@/order.log; "
              f"echo >&3; sleep 1000 & wait")
    deps = f'[dependencies]\n{dependency} = ["{previous}"]\n' if previous else ""
    return f"""
[service]
name = "{name}"
supervisor = "{supervisor}"
exec = {sh(script)}
[readiness]
type = "fd"
fd = 3
timeout = "20s"
[restart]
delay = "{delay}"
max-restarts = 100000
{deps}"""


def chain(supervisor, fail_flag=(), **kw):
    return {name: chain_service(name, CHAIN[i - 1] if i else None, supervisor, name in fail_flag, **kw)
            for i, name in enumerate(CHAIN)}


def supervisor(name, strategy, max_restarts=100000):
    return (f'[supervisor]\nname = "{name}"\nstrategy = "{strategy}"\n'
            f'[restart]\nmax-restarts = {max_restarts}\nmax-restart-window = "1s"\n')


def in_order(names, failing=()):
    out = []
    for n in names:
        out.append(f"{n} start")
        out.append(f"{n} fail" if n in failing else f"{n} ready")
    return out


class ChainTestCase(RuntimeTestCase):
    def log_lines(self, rt, what=("start", "ready", "fail")):
        try:
            lines = rt.read_work("order.log").splitlines()
        except FileNotFoundError:
            return []
        return [line for line in lines if line.split()[-1] in what]

    def wait_all_running(self, rt, old_pids, restarted):
        """Until every service of the chain runs and each one in `restarted` with a pid other than its old one."""
        def done():
            services = rt.list()
            for name in CHAIN:
                s = services[name]
                if s["state"] != "running":
                    return False
                if name in restarted and s["pid"] == old_pids[name]:
                    return False
            return True
        rt.wait_for(done, 20, f"{', '.join(restarted)} to run again")

    def start_chain(self, services, supervisors):
        rt = self.runtime(services, supervisors=supervisors)
        # An orderly shutdown first (cleanups run last-in first-out): killing the runtime would leave the
        # services' sleeps behind (adoption keeps processes alive on purpose).
        self.addCleanup(rt.shutdown)
        self.wait_all_running(rt, {}, ())
        self.assertEqual(self.log_lines(rt), in_order(CHAIN), "boot order")
        return rt

    def repeat_kill(self, rt, victim, restarted, expected, before_kill=None, repetitions=REPETITIONS):
        for rep in range(repetitions):
            pids = {name: s["pid"] for name, s in rt.list().items() if name in CHAIN}
            seen = len(self.log_lines(rt))
            if before_kill:
                before_kill(rt)
            os.killpg(pids[victim], signal.SIGKILL)  # the shell and its sleep (own session)
            self.wait_all_running(rt, pids, restarted)
            new_round = self.log_lines(rt)[seen:]
            self.assertEqual(new_round, expected, f"repetition {rep + 1}: the restarted children's start order")
            untouched = [n for n in CHAIN if n not in restarted]
            for name in untouched:
                self.assertEqual(rt.list()[name]["pid"], pids[name], f"repetition {rep + 1}: {name} is untouched")


class GroupRestartOrder(ChainTestCase):
    def test_one_for_all_restarts_the_group_in_dependency_order(self):
        rt = self.start_chain(chain("ofa"), {"ofa": supervisor("ofa", "one-for-all")})
        self.repeat_kill(rt, "w4", CHAIN, in_order(CHAIN))

    def test_one_for_all_with_the_default_restart_delay(self):
        # The crashed child waits its restart delay (1 s); the others start at once, still in order.
        rt = self.start_chain(chain("ofa", delay="1s"), {"ofa": supervisor("ofa", "one-for-all")})
        self.repeat_kill(rt, "w4", CHAIN, in_order(CHAIN), repetitions=4)

    def test_rest_for_one_restarts_the_rest_in_dependency_order(self):
        rt = self.start_chain(chain("rfo"), {"rfo": supervisor("rfo", "rest-for-one")})
        self.repeat_kill(rt, "w2", ("w2", "w3", "w4"), in_order(("w2", "w3", "w4")))

    def test_the_fresh_children_of_an_escalated_sub_supervisor_start_in_dependency_order(self):
        # mid gives up at the first crash (no restarts allowed); root restarts it with fresh children.
        rt = self.start_chain(chain("mid"), {"mid": supervisor("mid", "one-for-one", max_restarts=0),
                                             "root": supervisor("root", "one-for-one")})
        self.repeat_kill(rt, "w4", CHAIN, in_order(CHAIN))
        self.assertIn("Supervisor mid gave up", rt.console())

    def test_a_start_failing_in_a_round_ends_the_round_before_later_children_start(self):
        # w3 fails once in the round after w4's crash: w4 (after w3) must not start in that round; the group
        # is rolled back and the next round starts everything in order.
        rt = self.start_chain(chain("ofa", fail_flag=("w3",)), {"ofa": supervisor("ofa", "one-for-all")})

        def fail_w3_once(rt):
            open(os.path.join(rt.work, "fail-w3"), "w").close()

        self.repeat_kill(rt, "w4", CHAIN, in_order(("w1", "w2", "w3"), failing=("w3",)) + in_order(CHAIN),
                         before_kill=fail_w3_once)


class GroupStopOrder(ChainTestCase):
    def test_a_child_stops_only_after_everything_that_depends_on_it_even_through_a_dead_sibling(self):
        # w1 <- w2 <- w3 <- w4, each requires the one before. w2 is killed: the one_for_all restart stops w4, then
        # w3, and only then w1, which w3 depends on through the dead w2.
        rt = self.start_chain(chain("ofa", dependency="requires"), {"ofa": supervisor("ofa", "one-for-all")})
        for rep in range(5):
            pids = {name: s["pid"] for name, s in rt.list().items() if name in CHAIN}
            seen = len(self.log_lines(rt, ("stop",)))
            os.killpg(pids["w2"], signal.SIGKILL)
            self.wait_all_running(rt, pids, CHAIN)
            stops = self.log_lines(rt, ("stop",))[seen:]
            self.assertEqual(stops, ["w4 stop", "w3 stop", "w1 stop"], f"repetition {rep + 1}: the stop order")


if __name__ == "__main__":
    unittest.main()
