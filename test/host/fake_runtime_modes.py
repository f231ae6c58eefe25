#!/usr/bin/env python3
"""Stand-in runtimes for dynamod-init in container mode, chosen by FAKE_MODE (dynamod-init passes its
environment on). Every mode behaves from generation FAKE_GOOD_FROM on: ready, shutdown poweroff, and stopped
once asked to stop_all, so the container ends.

  crash    earlier generations exit with status 1 at once (a crash loop)
  orphans  generation 1 tracks 2000 orphans (its own children, reparented to PID 1), says ready, stops
           reading, lets the orphans exit one by one so that PID 1's orphan_exit messages fill the socket and
           its output buffer, then asks for a shutdown and reads: it answers `stopped` only if PID 1's stop_all
           arrives (else PID 1 waits for its stop timeout and the test sees no "every service stopped")
  give_up  generation 1 sends give_up and exits at once, arranged so that PID 1 sees the exit (SIGCHLD)
           before it reads the message: it and an orphan that exits first run SCHED_FIFO on PID 1's CPU, so
           PID 1 only runs once the runtime is gone, with a SIGCHLD queued ahead of the message
"""
import os
import struct
import sys
import time

from fake_runtime_frames import FD, frame, read_frame


def give_up_after_an_orphan_exit():
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        if os.fork() == 0:
            os._exit(0)  # the orphan: PID 1 gets its SIGCHLD; its end of the pipe closes first
        os._exit(0)
    os.close(w)
    os.waitpid(child, 0)
    while os.read(r, 1):
        pass
    reason = b"fake root supervisor gave up"
    os.write(FD, frame(0x05, struct.pack("<H", len(reason)) + reason))
    os._exit(3)


def orphans_fill_the_channel(count=2000):
    r, w = os.pipe()
    pids_r, pids_w = os.pipe()
    helper = os.fork()
    if helper == 0:
        for _ in range(count):
            pid = os.fork()
            if pid == 0:
                os.read(r, 1)  # one byte per orphan: each exits on its own
                os._exit(0)
            os.write(pids_w, struct.pack("<I", pid))
        os._exit(0)  # the sleepers are now PID 1's
    os.close(pids_w)
    data = b""
    while len(data) < 4 * count:
        chunk = os.read(pids_r, 4 * count - len(data))
        if not chunk:
            break
        data += chunk
    os.waitpid(helper, 0)
    for (pid,) in struct.iter_unpack("<I", data):
        os.write(FD, frame(0x03, struct.pack("<I", pid)))  # track
    os.write(FD, frame(0x01))  # ready: PID 1 forwards orphan exits from now on
    for _ in range(count):
        os.write(w, b"x")
        time.sleep(0.0005)
    time.sleep(1)
    os.write(FD, frame(0x02, bytes([1])))  # shutdown: poweroff
    exits = 0
    while True:
        msg_type, _ = read_frame()
        if msg_type == 0x83:
            exits += 1
        elif msg_type == 0x82:  # stop_all
            sys.stderr.write(f"fake runtime: stop_all after {exits} orphan exits\n")
            os.write(FD, frame(0x06))
            sys.exit(0)


mode = os.environ.get("FAKE_MODE", "")
good_from = int(os.environ.get("FAKE_GOOD_FROM", "2"))
msg_type, payload = read_frame()
assert msg_type == 0x81, msg_type
(generation,) = struct.unpack("<I", payload)
if generation < good_from:
    if mode == "crash":
        os._exit(1)
    if mode == "give_up":
        give_up_after_an_orphan_exit()
    if mode == "orphans":
        orphans_fill_the_channel()
os.write(FD, frame(0x01))               # ready
os.write(FD, frame(0x02, bytes([1])))   # shutdown: poweroff
while True:
    msg_type, payload = read_frame()
    if msg_type == 0x82:                # stop_all
        os.write(FD, frame(0x06))       # stopped
        sys.exit(0)
