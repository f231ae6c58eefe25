"""The init protocol's frames for the stand-in runtimes (fake_runtime.py, fake_runtime_modes.py): PID 1's channel is
fd 3; a frame is u32 LE length, u8 version (1), u8 type, body."""
import os
import struct
import sys

FD = 3


def read_frame():
    """The next frame's (type, body); exits quietly when PID 1 closes the channel."""
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


def frame(msg_type, payload=b""):
    return struct.pack("<IBB", len(payload) + 2, 1, msg_type) + payload
