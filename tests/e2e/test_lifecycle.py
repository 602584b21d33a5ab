"""Daemon lifecycle: start-up checks, SIGTERM drain, memory under a slow
reader."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from harness import FOREVER, BIN, SANITIZE, SLOW, Qgate, main

# about a second of work on one core
SECONDISH = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 3000000) "
             "SELECT count(*) AS n FROM c")


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def wait_running(q, timeout=10):
    """Until some request runs on a worker."""
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        if any(e["state"] == "running" for e in q.request("GET", "/admin/requests/running").json()):
            return True
        time.sleep(0.02)
    return False


class Lifecycle(unittest.TestCase):
    def daemon(self, *args):
        q = Qgate(args)
        self.addCleanup(q.cleanup)
        return q.start()

    def test_version_and_help(self):
        out = subprocess.run([BIN, "--version"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout, r"^qgate \d+\.\d+\.\d+")
        out = subprocess.run([BIN, "--help"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0)
        for flag in ("--listen", "--data", "--backend", "--workers", "--public-url"):
            self.assertIn(flag, out.stdout)

    def test_bad_flags_exit_2_with_message(self):
        out = subprocess.run([BIN, "--workers", "zero"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 2)
        self.assertIn("workers", out.stderr)
        data = tempfile.mkdtemp(prefix="qgate-test-")
        self.addCleanup(shutil.rmtree, data, ignore_errors=True)
        out = subprocess.run([BIN, "--backend", "mysql://x"], capture_output=True, text=True,
                             env=dict(os.environ, QGATE_DATA=data))
        self.assertEqual(out.returncode, 2)
        self.assertIn("unknown --backend", out.stderr)

    def test_environment_sets_flags(self):
        q = Qgate(env={"QGATE_WORKERS": "3"})
        self.addCleanup(q.cleanup)
        q.start()
        self.assertIn("3 worker(s)", q.log())
        self.assertEqual(q.stop(), 0)

    def test_port_in_use_fails_clearly(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        d = Qgate()
        self.addCleanup(d.cleanup)
        out = subprocess.run([BIN, "--listen", "127.0.0.1:%d" % port, "--data", d.data],
                             capture_output=True, text=True, timeout=30)
        s.close()
        self.assertEqual(out.returncode, 1)
        self.assertIn("Address already in use", out.stderr)

    def test_sigterm_lets_running_requests_finish(self):
        q = self.daemon()
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", q.query(SECONDISH)))
        t.start()
        self.assertTrue(wait_running(q))
        q.proc.send_signal(signal.SIGTERM)
        t.join(60 * SLOW)
        r = out["r"]
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["results"], [{"n": 3000000}])
        self.assertEqual(q.stop(), 0)
        self.assertIn("draining", q.log())
        self.assertEqual(q.sanitizer_reports(), [])

    def test_sigterm_drain_timeout_cancels(self):
        q = self.daemon("--drain-timeout", "1s")
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", q.query(FOREVER)))
        t.start()
        self.assertTrue(wait_running(q))
        t0 = time.time()
        q.proc.send_signal(signal.SIGTERM)
        # while draining, new work gets 503 + Retry-After, health says so
        deadline = time.time() + 5 * SLOW
        while time.time() < deadline and q.request("GET", "/health").status != 503:
            time.sleep(0.02)
        r = q.query("SELECT 1")
        self.assertEqual(r.status, 503)
        self.assertEqual(r.headers.get("retry-after"), "1")
        self.assertEqual(r.headers.get("connection"), "close")
        self.assertTrue(r.json()["errors"][0]["msg"].startswith("ASX0902"))
        t.join(30 * SLOW)
        self.assertEqual(out["r"].status, 500)
        self.assertTrue(out["r"].json()["errors"][0]["msg"].startswith("ASX0041"))
        self.assertEqual(q.stop(), 0)
        self.assertLess(time.time() - t0, 10 * SLOW)

    def test_draining_answers_503_on_open_connections(self):
        q = self.daemon("--drain-timeout", "20s")
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", q.query(SECONDISH)))
        t.start()
        self.assertTrue(wait_running(q))
        keep = q.conn()
        keep.request("GET", "/health")
        self.assertEqual(keep.getresponse().read(), b'{"status":"ok"}\n')
        q.proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 5 * SLOW
        while time.time() < deadline and "draining" not in q.log():
            time.sleep(0.02)
        # the idle keep-alive connection was closed; a new one is answered
        r = q.request("GET", "/health")
        self.assertEqual((r.status, r.body), (503, b'{"status":"draining"}\n'))
        keep.close()
        t.join(60 * SLOW)
        self.assertEqual(out["r"].status, 200)  # the running one finished
        self.assertEqual(q.stop(), 0)

    def test_sigint_idle_exits_zero(self):
        q = self.daemon()
        self.assertEqual(q.stop(signal.SIGINT), 0)

    @unittest.skipIf(SANITIZE, "sanitizer builds carry their own memory overhead")
    def test_slow_reader_memory_stays_flat(self):
        q = self.daemon()
        stmt = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 3000000) "
                "SELECT x, x * 2 AS y, 'some text for row ' || x AS z FROM c")
        body = urllib.parse.urlencode({"statement": stmt}).encode()
        s = socket.socket()
        # before connect: a window shrunk after the handshake can stall TCP
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(60)
        s.connect(("127.0.0.1", q.port))
        s.sendall(b"POST /query/service HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                  b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body)
                  + body)
        total = 0
        t0 = time.time()
        while time.time() - t0 < 2.0:  # a slow reader for two seconds
            chunk = s.recv(4096)
            total += len(chunk)
            time.sleep(0.01)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            total += len(chunk)
        s.close()
        self.assertGreater(total, 100 << 20)  # the whole result went through
        hwm = vm_hwm_kib(q.proc.pid)
        self.assertLess(hwm, 64 * 1024, "peak RSS %d KiB" % hwm)


if __name__ == "__main__":
    main()
