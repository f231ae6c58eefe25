"""Issue 5: the control socket under abuse. A thousand clients at once, garbage, half frames, oversized and
wrong-version frames, clients that never read: the runtime keeps serving the others and no service is lost."""
import json
import os
import resource
import selectors
import socket
import struct
import threading
import time
import unittest

from runtime_harness import Runtime


def s16(text):
    data = text.encode()
    return struct.pack("<H", len(data)) + data


def request_frame(rid, command, args=(), flags=0):
    body = struct.pack("<I", rid) + s16(command) + struct.pack("<H", len(args)) + b"".join(s16(a) for a in args)
    body += struct.pack("<I", flags)
    return struct.pack("<IBB", len(body) + 2, 1, 0x01) + body


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_reply(sock):
    (length,) = struct.unpack("<I", read_exact(sock, 4))
    frame = read_exact(sock, length)
    version, ftype = frame[0], frame[1]
    rid, kind, code = struct.unpack("<IBB", frame[2:8])
    (json_len,) = struct.unpack("<I", frame[8:12])
    return {"version": version, "type": ftype, "id": rid, "kind": kind, "code": code,
            "json": json.loads(frame[12:12 + json_len])}


class ControlRobustness(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
        services = {f"svc{i}": f'[service]\nname = "svc{i}"\nexec = ["/bin/sleep", "1000"]\n' for i in range(5)}
        cls.rt = Runtime(services)
        cls.rt.start()
        for name in services:
            cls.rt.wait_state(name, "running")
        cls.pids = {n: s["pid"] for n, s in cls.rt.list().items()}

    @classmethod
    def tearDownClass(cls):
        cls.rt.cleanup()

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(self.rt.socket)
        return s

    def assert_still_serving(self):
        s = self.connect()
        s.sendall(request_frame(7, "status", ["svc0"]))
        r = read_reply(s)
        s.close()
        self.assertEqual(r["id"], 7)
        self.assertEqual(r["json"]["state"], "running")
        self.assertEqual({n: v["pid"] for n, v in self.rt.list().items()}, self.pids, "no service was touched")
        self.assertIsNone(self.rt.proc.poll())

    def test_a_thousand_concurrent_clients_each_get_their_status(self):
        n = 1000
        sel = selectors.DefaultSelector()
        clients = []
        for i in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.rt.socket)
            clients.append(s)
        for i, s in enumerate(clients):  # every request is out before any answer is read
            s.sendall(request_frame(i + 1, "status", [f"svc{i % 5}"]))
        answered = 0
        for s in clients:
            s.setblocking(True)
            s.settimeout(60)
        buffers = {s: b"" for s in clients}
        for s in clients:
            sel.register(s, selectors.EVENT_READ)
        replies = {}
        deadline = time.monotonic() + 120
        while answered < n and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                s = key.fileobj
                buffers[s] += s.recv(65536)
                buf = buffers[s]
                if len(buf) >= 4 and len(buf) >= 4 + struct.unpack("<I", buf[:4])[0]:
                    rid, kind, code = struct.unpack("<IBB", buf[6:12])
                    (json_len,) = struct.unpack("<I", buf[12:16])
                    replies[rid] = json.loads(buf[16:16 + json_len])
                    sel.unregister(s)
                    answered += 1
        for s in clients:
            s.close()
        self.assertEqual(answered, n)
        for i in range(n):
            self.assertEqual(replies[i + 1]["name"], f"svc{i % 5}")
            self.assertEqual(replies[i + 1]["state"], "running")
        self.assert_still_serving()

    def test_garbage_is_answered_with_an_error_and_the_connection_closed(self):
        s = self.connect()
        s.sendall(b"GET / HTTP/1.1\r\nHost: dynamod\r\n\r\n" + os.urandom(512))
        r = read_reply(s)
        self.assertEqual(r["kind"], 1)
        self.assertIn("bad frame", r["json"]["error"])
        self.assertEqual(s.recv(1), b"", "closed")
        s.close()
        self.assert_still_serving()

    def test_oversized_and_wrong_version_frames_are_refused(self):
        s = self.connect()
        s.sendall(struct.pack("<IBB", 1 << 30, 1, 1))
        self.assertIn("oversized frame", read_reply(s)["json"]["error"])
        s.close()
        s = self.connect()
        s.sendall(struct.pack("<IBB", 6, 9, 1) + b"\0" * 4)
        self.assertIn("unsupported protocol version", read_reply(s)["json"]["error"])
        s.close()
        s = self.connect()
        body = struct.pack("<I", 1) + s16("status") + struct.pack("<H", 40000)  # 40000 arguments announced
        s.sendall(struct.pack("<IBB", len(body) + 2, 1, 1) + body)
        self.assertIn("bad request", read_reply(s)["json"]["error"])
        s.close()
        self.assert_still_serving()

    def test_a_client_stopping_mid_frame_blocks_nobody(self):
        stuck = self.connect()
        stuck.sendall(request_frame(1, "status", ["svc1"])[:9])  # and then nothing
        self.assert_still_serving()
        stuck.close()
        self.assert_still_serving()

    def test_a_client_that_never_reads_blocks_nobody(self):
        hog = self.connect()
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sent = [0]

        def flood():
            try:
                while True:
                    hog.sendall(request_frame(sent[0], "tree"))
                    sent[0] += 1
            except OSError:
                pass  # closed under our feet at the end of the test
        t = threading.Thread(target=flood, daemon=True)
        t.start()
        for _ in range(20):
            self.assert_still_serving()
            time.sleep(0.05)
        # Back-pressure: the runtime stopped taking its requests, so the flood itself is stuck in sendall.
        stalled_at = sent[0]
        time.sleep(0.5)
        self.assertEqual(sent[0], stalled_at, "a client that does not read cannot keep sending")
        hog.shutdown(socket.SHUT_RDWR)
        hog.close()
        t.join(10)
        self.assert_still_serving()


if __name__ == "__main__":
    unittest.main(verbosity=2)
