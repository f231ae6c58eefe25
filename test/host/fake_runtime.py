#!/usr/bin/env python3
"""A stand-in runtime for testing dynamod-init in container mode: reads HELLO from fd 3, then either sends
garbage (generations 1 and 2) or behaves: ready, shutdown poweroff, and stopped once asked to stop_all."""
import os
import struct
import sys

FD = 3


def read_frame():
    header = b""
    while len(header) < 4:
        chunk = os.read(FD, 4 - len(header))
        if not chunk:
            sys.exit(0)
        header += chunk
    (length,) = struct.unpack("<I", header)
    body = b""
    while len(body) < length:
        chunk = os.read(FD, length - len(body))
        if not chunk:
            sys.exit(0)
        body += chunk
    return body[1], body[2:]  # type, payload (version is body[0])


def send(msg_type, payload=b""):
    os.write(FD, struct.pack("<IBB", len(payload) + 2, 1, msg_type) + payload)


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
