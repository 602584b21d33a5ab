"""Helpers shared by the stored-job tests: submitting and polling jobs, and
a callback receiver on loopback. Standard library only."""

import http.server
import re
import socketserver
import threading
import time
import urllib.parse

from harness import FOREVER, ON_PG, SLOW

# a runtime failure on both engines (SQLite's 1/0 is NULL)
BOOM = "SELECT 1/0 AS boom" if ON_PG else "SELECT abs(-9223372036854775808) AS boom"


def rows_stmt(n):
    return ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) "
            "SELECT x, 'row' || x AS s FROM c" % n)


def path_of(handle):
    return urllib.parse.urlparse(handle).path


def job_of(handle):
    m = re.search(r"/(\d+)-(\d+)$", handle)
    return int(m.group(1)), int(m.group(2))


class JobsMixin:
    def submit(self, statement, q=None, **params):
        q = q or self.q
        r = q.query(statement, mode="async", **params)
        self.assertEqual(r.status, 200, r)
        return r.json()["handle"]

    def status(self, handle, q=None):
        r = (q or self.q).request("GET", path_of(handle))
        self.assertEqual(r.status, 200, (handle, r))
        return r.json()

    def wait_status(self, handle, want=("success", "failed", "timeout"), timeout=20, q=None):
        deadline = time.time() + timeout * SLOW
        doc = None
        while time.time() < deadline:
            doc = self.status(handle, q)
            if doc["status"] in want:
                return doc
            time.sleep(0.02)
        self.fail("status of %s stayed %r" % (handle, doc))

    def get(self, path, q=None):
        return (q or self.q).request("GET", path)


class Receiver:
    """An HTTP server on loopback that records callback deliveries and
    answers each with the next status of its plan (then 200)."""

    def __init__(self, plan=()):
        self.plan = list(plan)
        self.got = []
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.cond:
                    code = outer.plan.pop(0) if outer.plan else 200
                    outer.got.append((self.path, dict(self.headers), body, code))
                    outer.cond.notify_all()
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def wait(self, n, timeout=20):
        deadline = time.time() + timeout * SLOW
        with self.cond:
            while len(self.got) < n:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("%d deliveries, wanted %d" % (len(self.got), n))
                self.cond.wait(left)
            return list(self.got)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
