"""Races at the job store's edges: two readers of a result with two reads
allowed, a cancel that lands while the job commits its end, and the memory
a long queue leaves behind."""
# qgate-backends: sqlite pg

import json
import random
import socket
import threading
import time
import unittest

from harness import code_of, FOREVER, ON_PG, SANITIZE, QgateTestCase, SLOW, main
from jobhelp import JobsMixin, job_of, path_of


def rows_stmt(n):
    return ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) "
            "SELECT x, 'row' || x AS s FROM c" % n)


def slow_get(port, path):
    """Starts a GET whose client reads nothing yet; returns the socket and
    what arrived so far (the head)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    s.settimeout(60 * SLOW)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
    return s, s.recv(4096)


def read_all(s, data):
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    return data


def dechunk(body):
    out, pos = b"", 0
    while True:
        end = body.index(b"\r\n", pos)
        size = int(body[pos:end].split(b";")[0], 16)
        if size == 0:
            return out
        out += body[end + 2:end + 2 + size]
        pos = end + 2 + size + 2


class Readers(JobsMixin, QgateTestCase):
    ARGS = ("--drain-timeout", "2s")

    def test_every_counted_read_that_started_completes(self):
        n = 400000
        r = self.q.query(rows_stmt(n), mode="deferred", max_dash_result_dash_reads="2",
                         http_timeout=300)
        self.assertEqual(r.status, 200, r)
        p = path_of(r.json()["handle"])
        # the first reader stalls on a full socket
        s, head = slow_get(self.q.port, p)
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])
        time.sleep(0.3)
        # the second takes the last read, and reads it all while the first waits
        r2 = self.q.request("GET", p, timeout=300)
        self.assertEqual(r2.status, 200)
        self.assertEqual(len(r2.json()["results"]), n)
        # no third
        self.assertEqual(self.q.request("GET", p).status, 404)
        # the first one still gets all of it, and a body that ends
        data = read_all(s, head)
        self.assertTrue(data.endswith(b"0\r\n\r\n"), data[-200:])
        body = dechunk(data.partition(b"\r\n\r\n")[2])
        doc = json.loads(body)
        self.assertEqual(len(doc["results"]), n)
        self.assertEqual(doc["results"][-1], {"x": n, "s": "row%d" % n})
        self.assertNotIn("is gone", self.q.log())
        self.assertEqual(self.q.request("GET", p + "?offset=0&limit=1").status, 404)

    def test_a_window_read_keeps_its_pages_too(self):
        n = 300000
        r = self.q.query(rows_stmt(n), mode="deferred", http_timeout=300)
        p = path_of(r.json()["handle"])
        # a window that stops short of the end takes no read
        s, head = slow_get(self.q.port, p + "?offset=10&limit=%d" % (n - 20))
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])
        time.sleep(0.3)
        self.assertEqual(len(self.q.request("GET", p, timeout=300).json()["results"]), n)
        data = read_all(s, head)
        doc = json.loads(dechunk(data.partition(b"\r\n\r\n")[2]))
        self.assertEqual(len(doc["results"]), n - 20)
        self.assertEqual(doc["results"][0]["x"], 11)


class CancelRace(JobsMixin, QgateTestCase):
    """DELETE /status/N-M while the job ends: a 200 means it ends
    cancelled; otherwise the answer says what happened."""
    ARGS = ("--drain-timeout", "2s", "--workers", "2")

    def test_a_200_cancel_means_cancelled(self):
        rng = random.Random(7)
        outcomes = {}
        for i in range(80):
            rows = rng.choice((200, 2000, 20000))
            h = self.submit(rows_stmt(rows))
            time.sleep(rng.random() * 0.03)
            r = self.q.request("DELETE", path_of(h))
            st = self.wait_status(h)
            key = (r.status, st["status"])
            outcomes[key] = outcomes.get(key, 0) + 1
            if r.status == 200:
                self.assertEqual(st["status"], "failed", (i, st))
                self.assertTrue(st["errors"][0]["msg"].startswith("ASX0041"), st)
            elif r.status == 409:
                # it was committing its own end: that end stands
                doc = r.json()
                self.assertTrue(doc["errors"][0]["msg"].startswith("ASX0917"), doc)
                self.assertIn("finished", doc["errors"][0]["msg"])
                self.assertEqual(st["status"], "success", st)
            else:
                # it had ended before: nothing to cancel
                self.assertEqual((r.status, code_of(r)), (404, "ASX0919"))
                self.assertEqual(st["status"], "success", st)
        print("  (DELETE answer, end state): count = %r" % outcomes)
        # a job that is long gone: 404
        self.assertEqual(self.q.request("DELETE", "/query/service/status/987654-0").status, 404)

    def test_deferred_cancel_by_context_id(self):
        for i in range(30):
            ctx = "race-%d" % i
            out = {}

            def run():
                out["r"] = self.q.query(rows_stmt(20000), mode="deferred",
                                        client_context_id=ctx)
            t = threading.Thread(target=run)
            t.start()
            time.sleep(0.005 * (i % 8))
            d = self.q.request("DELETE", "/admin/requests/running?client_context_id=" + ctx)
            t.join(60)
            r = out["r"]
            if d.status == 200:
                self.assertEqual(r.status, 500, (i, r))
                self.assertTrue(r.json()["errors"][0]["msg"].startswith("ASX0041"), r)
            else:
                self.assertIn(d.status, (404, 409), d)
                self.assertEqual(r.status, 200, r)


class QueueMemory(JobsMixin, QgateTestCase):
    """Thousands of queued jobs, then the queue drains: the memory they
    took goes back to the system. (Anonymous memory: the job store's
    file-backed map is not the queue's.)"""
    ARGS = ("--workers", "4", "--drain-timeout", "2s")

    def rss_kib(self):
        with open("/proc/%d/status" % self.q.proc.pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
        raise AssertionError("no RssAnon")

    def counts(self):
        text = self.q.request("GET", "/metrics").body.decode()
        v = dict(l.split(" ", 1) for l in text.splitlines() if l and l[0] != "#")
        return float(v["qgate_jobs_queued"]), float(v["qgate_jobs_running"])

    def test_a_drained_queue_gives_its_memory_back(self):
        if SANITIZE:
            self.skipTest("RSS says nothing under %s: its allocator keeps freed memory "
                          "in quarantine" % SANITIZE)
        for i in range(50):  # warm up: the demo data, the connections, the store
            self.wait_status(self.submit("SELECT %d AS k" % i))
        base = self.rss_kib()
        busy = [self.submit(FOREVER) for _ in range(4)]
        n = 2000
        errors = []

        def client(k):
            for i in range(n // 2):
                r = self.q.query("SELECT %d AS k, 'some text for the job' AS t" % (k * n + i),
                                 mode="async")
                if r.status != 200:
                    errors.append(r)
        threads = [threading.Thread(target=client, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertGreaterEqual(self.counts()[0], n - 10)
        peak = self.rss_kib()
        for h in busy:
            self.assertEqual(self.q.request("DELETE", path_of(h)).status, 200)
        deadline = time.time() + 240 * SLOW
        while time.time() < deadline and self.counts() != (0.0, 0.0):
            time.sleep(0.1)
        self.assertEqual(self.counts(), (0.0, 0.0))
        time.sleep(0.5)
        after = self.rss_kib()
        print("  RssAnon: %d KiB idle, %d KiB with %d jobs queued (%.1f KiB a job), %d KiB after "
              "the drain" % (base, peak, n, (peak - base) / n, after))
        self.assertGreater(peak - base, 3000)  # the queue did take memory
        self.assertLess(after - base, (peak - base) / 3)


if __name__ == "__main__":
    main()
