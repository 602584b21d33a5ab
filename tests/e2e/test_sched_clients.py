"""Clients that hold on to what they were given: a response nobody reads,
a response read a trickle at a time (--send-deadline adds up the time a
response waits for its client), pipelined requests whose answers are
never read, a body sent a byte at a time. None of them may hold a worker,
a connection slot or memory for longer than the server's bounds say
(--send-deadline, the output watermark, --body-deadline); the daemon goes
on serving everyone else. Bounds here are generous; bench/sched.py has the
tight numbers.
"""

import socket
import threading
import time
import urllib.parse

from harness import SLOW, QgateTestCase, main
from jobhelp import rows_stmt


def post_head(statement, extra=""):
    body = urllib.parse.urlencode({"statement": statement}).encode()
    return (b"POST /query/service HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n" + extra.encode() +
            b"Content-Length: %d\r\n\r\n" % len(body)), body


class SlowReaders(QgateTestCase):
    # one worker: a client holding it would stall everyone
    ARGS = ("--workers", "1", "--send-deadline", "2s", "--send-timeout", "60s")

    def hostage(self, trickle):
        """A client asks for 2M rows and reads nothing (or 4 KiB every
        200 ms); meanwhile another client's SELECT 1 must be answered."""
        head, body = post_head(rows_stmt(2000000))
        s = socket.create_connection(("127.0.0.1", self.q.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(head + body)
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                try:
                    if not s.recv(4096):
                        return
                except OSError:
                    return
                stop.wait(0.2)

        t = threading.Thread(target=reader)
        if trickle:
            t.start()
        try:
            # the big one has the worker and is waiting for its client
            self.q.wait_log("response cut", timeout=15)
            t0 = time.monotonic()
            r = self.q.query("SELECT 1 AS one", http_timeout=60)
            self.assertEqual(r.status, 200, r)
            self.assertLess(time.monotonic() - t0, 10 * SLOW)
        finally:
            stop.set()
            if trickle:
                t.join()
            s.close()

    def test_a_client_that_stops_reading_frees_its_worker(self):
        self.hostage(trickle=False)

    def test_a_client_that_reads_a_trickle_frees_its_worker(self):
        self.hostage(trickle=True)

    def test_a_fast_reader_is_not_cut(self):
        # the deadline counts the time the response waits for its client:
        # a client reading as fast as it can waits next to nothing, however
        # long the whole download takes
        r = self.q.query(rows_stmt(600000), http_timeout=120)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body.rstrip().endswith(b"}"), r.body[-200:])
        self.assertIn(b'"status":"success"', r.body[-1000:])


class Pipelining(QgateTestCase):
    ARGS = ("--workers", "2")

    def served(self):
        return sum(1 for l in self.q.log_lines if " GET /query/service 200 " in l)

    def test_unread_pipelined_answers_stay_bounded(self):
        n = 4000
        stmt = urllib.parse.quote("SELECT hex(randomblob(15000)) AS v")
        req = b"GET /query/service?statement=%s HTTP/1.1\r\nHost: x\r\n\r\n" % stmt.encode()
        base = self.q.vm_hwm_kib()
        before = self.served()
        s = socket.create_connection(("127.0.0.1", self.q.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        try:
            s.sendall(req * n)
            # the daemon answers until the client's unread answers pass the
            # watermark, then waits: the count of answers stops growing
            last, still = -1, 0
            deadline = time.monotonic() + 60 * SLOW
            while still < 10 and time.monotonic() < deadline:
                now = self.served() - before
                still = still + 1 if now == last else 0
                last = now
                time.sleep(0.1)
            grew = (self.q.vm_hwm_kib() - base) / 1024.0
            self.assertLess(grew, 64, "peak RSS grew %.1f MiB with %d answers sent" % (grew, last))
            self.assertLess(last, n)
            # and every answer still arrives, in order, once the client reads (evhtp
            # never sees a client's raw head: it used to, now and then, and closed)
            s.settimeout(60 * SLOW)
            got = 0
            buf = b""
            while got < n:
                chunk = s.recv(1 << 20)
                self.assertTrue(chunk, "connection closed after %d answers" % got)
                buf += chunk
                got += buf.count(b"HTTP/1.1 200 ")
                buf = buf[-16:]
        finally:
            s.close()


class SlowBodies(QgateTestCase):
    ARGS = ("--body-timeout", "1s", "--body-deadline", "2s")

    def test_a_trickled_body_is_cut_at_the_deadline(self):
        head, body = post_head("SELECT 1", "")
        head = head.replace(b"Content-Length: %d" % len(body), b"Content-Length: 1000")
        s = socket.create_connection(("127.0.0.1", self.q.port))
        s.settimeout(30 * SLOW)
        t0 = time.monotonic()
        try:
            s.sendall(head)
            got = b""
            for i in range(1000):
                try:
                    s.sendall(b"x")
                except OSError:
                    break
                s.settimeout(0.3)
                try:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                    if b"\r\n\r\n" in got:
                        break
                except socket.timeout:
                    pass
                self.assertLess(time.monotonic() - t0, 15 * SLOW, "still uploading")
            self.assertTrue(got.startswith(b"HTTP/1.1 408 "), got[:200])
            self.assertIn(b"ASX0914", got + s.recv(4096) if b"ASX0914" not in got else got)
        finally:
            s.close()


if __name__ == "__main__":
    main()
