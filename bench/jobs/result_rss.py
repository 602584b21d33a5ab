#!/usr/bin/env python3
"""RSS of qgate while it stores a large deferred result and while a client
reads it back (slowly, so backpressure matters).

    bench/jobs/result_rss.py [BUILD_DIR] [ROWS]
"""
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../tests/e2e"))
os.environ.setdefault("QGATE_BIN", os.path.join(sys.argv[1] if len(sys.argv) > 1 else "build",
                                                "qgate"))
from harness import Qgate  # noqa: E402

ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000000


def rss_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """Peak VmRSS, and of it the anonymous (heap) and file-backed (LMDB's
    map) parts."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.anon, self.file, self.stop = pid, 0, 0, 0, False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kib(self.pid))
            self.anon = max(self.anon, rss_kib(self.pid, "RssAnon"))
            self.file = max(self.file, rss_kib(self.pid, "RssFile"))
            time.sleep(0.02)

    def text(self):
        return "peak RSS %.1f MiB (anon %.1f, file %.1f)" % (
            self.peak / 1024, self.anon / 1024, self.file / 1024)


def main():
    q = Qgate(["--workers", "2"]).start()
    try:
        pid = q.proc.pid
        q.query("SELECT 1", mode="deferred")
        idle = rss_kib(pid)
        stmt = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) "
                "SELECT x, x * 2 AS y, 'row' || x AS z FROM c" % ROWS)
        s = Sampler(pid)
        s.start()
        t0 = time.time()
        r = q.query(stmt, mode="deferred", http_timeout=600)
        store_s = time.time() - t0
        s.stop = True
        s.join()
        handle = urllib.parse.urlparse(r.json()["handle"]).path
        store_peak = s.text()

        s = Sampler(pid)
        s.start()
        c = q.conn(600)
        c.request("GET", handle)
        resp = c.getresponse()
        total, t0 = 0, time.time()
        while True:
            chunk = resp.read(65536)
            if not chunk:
                break
            total += len(chunk)
            if total < 32 * 1024 * 1024:
                time.sleep(0.001)  # a slow reader for the first 32 MiB
        read_s = time.time() - t0
        s.stop = True
        s.join()
        print("rows=%d result=%.1f MiB" % (ROWS, total / 1048576))
        print("idle RSS %.1f MiB" % (idle / 1024))
        print("storing: %.2fs, %s" % (store_s, store_peak))
        print("reading back: %.2fs, %s" % (read_s, s.text()))
        q.stop()
        print([l for l in q.log_lines if "job store:" in l][-1].split("info  ")[-1])
    finally:
        q.cleanup()


if __name__ == "__main__":
    main()
