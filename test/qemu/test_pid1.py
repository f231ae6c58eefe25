"""Issue 3 (c), (d), (e): PID 1 keeps the runtime alive with growing delays, leaves no zombie behind,
and survives a missing runtime binary with an emergency shell instead of a kernel panic."""
import re
import unittest

from guest import GuestTestCase, parse_duration_ms



class RuntimeRestarts(GuestTestCase):
    def test_kill_9_ten_times_restarts_with_growing_delays(self):
        script = """
        old=$(pidof dynamod-runtime)
        for i in $(seq 10); do
          kill -9 "$old"
          n=0
          while :; do
            new=$(pidof dynamod-runtime || true)
            [ -n "$new" ] && [ "$new" != "$old" ] && break
            n=$((n + 1)); [ "$n" -gt 600 ] && { echo "CHECK restart-$i: none"; exit 1; }
            sleep 0.1
          done
          echo "CHECK restart-$i: $old -> $new"
          old=$new
        done
        """
        guest = self.boot("runtime-kill-9", script, timeout=240)
        self.assertPoweredOff(guest)
        self.assertInLog(guest, r"DYNAMOD-TEST: PASS")
        for i in range(1, 11):
            self.assertRegex(guest.check(f"restart-{i}") or "", r"^\d+ -> \d+$", f"restart {i}")
        kills = guest.lines(r"dynamod-init: runtime \(pid \d+\) killed by signal 9 \(Killed\)")
        self.assertEqual(len(kills), 10, "PID 1 logs each SIGKILL with its reason")
        delays = [parse_duration_ms(d) for d in
                  guest.lines(r"dynamod-init: restarting runtime in ([\d.]+m?s) \(runtime exited, attempt \d+\)")]
        self.assertEqual(len(delays), 10)
        self.assertEqual(delays[0], 100)
        for a, b in zip(delays, delays[1:]):
            self.assertGreater(b, a, f"delays must grow: {delays}")
        generations = [int(g) for g in guest.lines(r"runtime ready \(pid \d+, generation (\d+),")]
        self.assertEqual(generations[-1], 11, "the 11th runtime came up and reported ready")
        print(f"\nrestart delays (ms): {delays}")


class Zombies(GuestTestCase):
    def test_two_hundred_orphans_leave_no_zombie(self):
        script = """
        zombies() { cat /proc/[0-9]*/stat 2>/dev/null | awk '$3 == "Z"' | wc -l; }
        # Orphans of a service go to the runtime (a child subreaper), which must reap them.
        for i in $(seq 200); do (sleep 1 &); done
        sleep 3
        echo "CHECK zombies-after-runtime: $(zombies)"
        # Orphans whose subreaper dies go to PID 1, the reaper of last resort. They sleep long enough to be
        # counted however slowly the guest forks, then the script ends them and PID 1 must reap them all.
        sleepers() { ps -o pid,ppid,args | awk '$3 == "sleep" && $4 == "41" {print $1, $2}'; }
        for i in $(seq 200); do (sleep 41 &); done
        kill -9 $(pidof dynamod-runtime)
        sleep 1
        echo "CHECK sleepers-owned-by-pid1: $(sleepers | awk '$2 == 1' | wc -l)"
        kill $(sleepers | awk '{print $1}')
        sleep 3
        echo "CHECK zombies-after-pid1: $(zombies)"
        echo "CHECK sleepers-left: $(sleepers | wc -l)"
        """
        guest = self.boot("orphans", script, timeout=120)
        self.assertPoweredOff(guest)
        self.assertInLog(guest, r"DYNAMOD-TEST: PASS")
        self.assertEqual(guest.check("zombies-after-runtime"), "0")
        self.assertEqual(guest.check("sleepers-owned-by-pid1"), "200")
        self.assertEqual(guest.check("zombies-after-pid1"), "0")
        self.assertEqual(guest.check("sleepers-left"), "0")


class MissingRuntime(GuestTestCase):
    def test_missing_runtime_binary_gives_an_emergency_shell_not_a_panic(self):
        guest = self.boot("missing-runtime", append="dynamod.runtime=/nonexistent",
                          send_after=[(r"emergency shell started", r"echo ALIVE-$((6*7))\nkill -USR2 1\n")],
                          timeout=90)
        self.assertPoweredOff(guest)
        self.assertInLog(guest, r"dynamod-init: runtime /nonexistent cannot be executed: No such file or directory")
        self.assertInLog(guest, r"dynamod-init: emergency shell started on the console \(pid \d+\): the runtime is missing")
        self.assertInLog(guest, r"dynamod-init: restarting runtime in 100ms \(runtime missing, attempt 1\)")
        self.assertInLog(guest, r"^ALIVE-42", "the emergency shell ran a command")
        self.assertLogOrder(guest, [r"ALIVE-42", r"dynamod-init: shutdown requested by SIGUSR2: poweroff",
                                    r"reboot: Power down"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
