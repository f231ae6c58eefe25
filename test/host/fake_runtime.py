#!/usr/bin/env python3
"""A stand-in runtime for testing dynamod-init in container mode: reads HELLO from fd 3, then either sends
garbage (generations 1 and 2) or behaves: ready, shutdown poweroff, and stopped once asked to stop_all."""
import os
import struct
import sys

from fake_runtime_frames import FD, frame, read_frame


def send(msg_type, payload=b""):
    os.write(FD, frame(msg_type, payload))


msg_type, payload = read_frame()
assert msg_type == 0x81, msg_type
(generation,) = struct.unpack("<I", payload)
if generation < 3:
    os.write(FD, b"GET / HTTP/1.1\r\nHost: dynamod\r\n\r\n")
    os.read(FD, 1)  # PID 1 closes the channel and sends SIGTERM
    sys.exit(0)
send(0x01)                      # ready
send(0x02, bytes([1]))          # shutdown: poweroff
while True:
    msg_type, payload = read_frame()
    if msg_type == 0x82:        # stop_all
        send(0x06)              # stopped
        sys.exit(0)
