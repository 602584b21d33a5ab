"""Deferred and async modes end to end: handles, status, stored results,
reads, TTL, cancellation, limits, and durability across SIGTERM and kill -9,
against the real daemon."""
# qgate-backends: sqlite pg

import json
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest
import urllib.parse

from harness import code_of, FOREVER, FOREVER_SQLITE, auth_file, ON_PG, Qgate, QgateTestCase, SLOW, main

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def rows_stmt(n):
    return ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) "
            "SELECT x, 'row' || x AS s FROM c" % n)


def asterix(status_doc):
    """The AsterixDB part of a status document (qgate's extras dropped)."""
    return {k: v for k, v in status_doc.items() if k in ("status", "handle", "errors")}


def path_of(handle):
    return urllib.parse.urlparse(handle).path


def job_of(handle):
    m = re.search(r"/(\d+)-(\d+)$", handle)
    return int(m.group(1)), int(m.group(2))


class JobsMixin:
    """Helpers shared by the test classes (self.q is the daemon)."""

    def submit(self, statement, q=None, **params):
        q = q or self.q
        r = q.query(statement, mode="async", **params)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["status"], "running", doc)
        return doc["handle"]

    def wait_status(self, handle, want=("success", "failed", "timeout"), timeout=20, q=None):
        q = q or self.q
        deadline = time.time() + timeout * SLOW
        doc = None
        while time.time() < deadline:
            r = q.request("GET", path_of(handle))
            self.assertEqual(r.status, 200, (handle, r))
            doc = r.json()
            if doc["status"] in want:
                return doc
            time.sleep(0.02)
        self.fail("status of %s stayed %r" % (handle, doc))

    def result(self, handle, q=None):
        q = q or self.q
        return q.request("GET", path_of(handle))

    def running(self, q=None):
        q = q or self.q
        return q.request("GET", "/admin/requests/running").json()

    def wait_running(self, pred, timeout=10, q=None):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            hit = [e for e in self.running(q) if pred(e)]
            if hit:
                return hit[0]
            time.sleep(0.02)
        self.fail("no running entry matched")


class Deferred(JobsMixin, QgateTestCase):
    ARGS = ("--drain-timeout", "2s")

    def test_handle_envelope_and_result(self):
        r = self.q.query("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y'", mode="deferred",
                         client_context_id="d-1")
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(list(doc), ["requestID", "clientContextID", "signature", "handle",
                                     "plans", "status", "metrics"])
        self.assertRegex(doc["requestID"], UUID4)
        self.assertEqual(doc["clientContextID"], "d-1")
        self.assertEqual(doc["status"], "success")
        self.assertNotIn("results", doc)
        self.assertEqual(doc["metrics"]["resultCount"], 0)
        self.assertRegex(doc["handle"],
                         r"^http://127\.0\.0\.1:%d/query/service/result/\d+-0$" % self.q.port)
        r = self.result(doc["handle"])
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("application/json"))
        res = r.json()
        self.assertEqual(list(res), ["results", "metrics"])
        self.assertEqual(res["results"], [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
        self.assertEqual(res["metrics"]["resultCount"], 2)
        # one read by default: then it is gone
        self.assertEqual(self.result(doc["handle"]).status, 404)
        # a deferred job reports success on its status too
        n, _ = job_of(doc["handle"])
        st = self.q.request("GET", "/query/service/status/%d-0" % n).json()
        self.assertEqual(st["status"], "success")

    def test_errors_answer_like_immediate(self):
        r = self.q.query("SELEC 1", mode="deferred", client_context_id="bad")
        doc = self.assertError(r, 400, "ASX1001")
        self.assertNotIn("handle", doc)
        self.assertEqual(doc["clientContextID"], "bad")
        self.assertError(self.q.query("SELECT * FROM nosuch", mode="deferred"), 400, "ASX1077")
        self.assertError(self.q.query("SELECT abs(-9223372036854775808)", mode="deferred"),
                         500, "ASX0901")
        doc = self.assertError(self.q.query(FOREVER, mode="deferred", timeout="300ms"), 200,
                               "ASX0030", status="timeout")
        self.assertNotIn("handle", doc)

    def test_multi_statement_sets(self):
        r = self.q.query("SELECT 1 AS a; CREATE TEMP TABLE IF NOT EXISTS dm(x INTEGER); "
                         "SELECT 2 AS b UNION ALL SELECT 3", mode="deferred")
        doc = self.assertEnvelopeOk(r)
        n, m = job_of(doc["handle"])
        self.assertEqual(m, 0)
        st = self.q.request("GET", "/query/service/status/%d-1" % n).json()
        self.assertEqual(st["status"], "success")
        self.assertTrue(st["handle"].endswith("/query/service/result/%d-1" % n))
        self.assertEqual(self.result(st["handle"]).json()["results"], [{"b": 2}, {"b": 3}])
        self.assertEqual(self.result(doc["handle"]).json()["results"], [{"a": 1}])
        self.assertEqual(self.q.request("GET", "/query/service/result/%d-2" % n).status, 404)
        self.assertEqual(self.q.request("GET", "/query/service/status/%d-2" % n).status, 404)

    def test_statement_without_rows_has_an_empty_set(self):
        doc = self.assertEnvelopeOk(self.q.query("CREATE TEMP TABLE IF NOT EXISTS dn(x INTEGER)",
                                                 mode="deferred"))
        self.assertNotIn("signature", doc)
        self.assertEqual(self.result(doc["handle"]).json()["results"], [])

    def test_max_result_reads_two(self):
        doc = self.assertEnvelopeOk(self.q.query("SELECT 7 AS s", mode="deferred",
                                                 max_dash_result_dash_reads="2"))
        for _ in range(2):
            r = self.result(doc["handle"])
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json()["results"], [{"s": 7}])
        r = self.result(doc["handle"])
        self.assertEqual((r.status, code_of(r)), (404, "ASX0919"))

    def test_csv_result_is_raw_lines(self):
        doc = self.assertEnvelopeOk(self.q.query(
            "SELECT 1 AS a, 'x,y' AS b UNION ALL SELECT 2, 'q\"'", mode="deferred",
            format="csv", headers={"Accept": "application/json"}))
        self.assertEqual(doc["type"], "text/csv; header=absent")
        r = self.result(doc["handle"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], "text/csv; header=absent")
        self.assertEqual(r.body, b'1,"x,y"\r\n2,"q"""\r\n')
        doc = self.assertEnvelopeOk(self.q.query(
            "SELECT 1 AS a, 2 AS b", mode="deferred",
            headers={"Accept": "text/csv; header=present"}))
        r = self.result(doc["handle"])
        self.assertEqual(r.headers["content-type"], "text/csv; header=present")
        self.assertEqual(r.body, b"a,b\r\n1,2\r\n")

    def test_pretty_stays_pretty(self):
        doc = self.assertEnvelopeOk(self.q.query("SELECT 1 AS a UNION ALL SELECT 2",
                                                 mode="deferred", pretty="true"))
        r = self.result(doc["handle"])
        self.assertIn(b'\n  "a": 1', r.body)
        self.assertEqual(r.json()["results"], [{"a": 1}, {"a": 2}])

    def test_large_result_streams_back(self):
        n = 200000
        doc = self.assertEnvelopeOk(self.q.query(rows_stmt(n), mode="deferred",
                                                 http_timeout=300))
        r = self.q.request("GET", path_of(doc["handle"]), timeout=300)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get("transfer-encoding"), "chunked")
        res = r.json()
        rows = res["results"]
        self.assertEqual(len(rows), n)
        self.assertEqual(rows[0], {"x": 1, "s": "row1"})
        self.assertEqual(rows[-1], {"x": n, "s": "row%d" % n})
        self.assertEqual(res["metrics"]["resultCount"], n)

    def test_result_gone_mid_stream_breaks_the_body(self):
        doc = self.assertEnvelopeOk(self.q.query(rows_stmt(500000), mode="deferred",
                                                 max_dash_result_dash_reads="2",
                                                 http_timeout=300))
        p = path_of(doc["handle"])
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        s.settimeout(30 * SLOW)
        s.connect(("127.0.0.1", self.q.port))
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p).encode())
        data = s.recv(4096)
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:100])
        time.sleep(0.3)  # the stream stalls on the full socket
        # the other read's pages are deleted under it
        self.assertEqual(self.q.request("DELETE", p).status, 202)
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
        s.close()
        self.assertFalse(data.endswith(b"0\r\n\r\n"), "the body must not end cleanly")
        self.assertGreater(len(data), 100000)
        self.q.wait_log("is gone")  # the log is written in batches

    def test_discard(self):
        doc = self.assertEnvelopeOk(self.q.query("SELECT 1 AS a", mode="deferred",
                                                 max_dash_result_dash_reads="5"))
        p = path_of(doc["handle"])
        self.assertEqual(self.q.request("DELETE", p).status, 202)
        self.assertEqual(self.q.request("DELETE", p).status, 404)
        self.assertEqual(self.q.request("GET", p).status, 404)

    def test_handles_malformed_unknown_and_methods(self):
        for kind in ("status", "result"):
            for bad in ("abc", "1", "0-0", "01-0", "1-x", "1-0-0", "-1-0", "1-", "99999999999999999999-0"):
                for method in ("GET", "DELETE"):
                    r = self.q.request(method, "/query/service/%s/%s" % (kind, bad))
                    self.assertEqual((r.status, code_of(r)), (400, "ASX0909"),
                                     (kind, bad, method))
            r = self.q.request("GET", "/query/service/%s/987654-0" % kind)
            self.assertEqual((r.status, code_of(r)), (404, "ASX0919"), kind)
            self.assertEqual(self.q.request("PUT", "/query/service/%s/1-0" % kind,
                                            body="x").status, 405)
        self.assertEqual(self.q.request("DELETE", "/query/service/status/987654-0").status, 404)
        self.assertEqual(self.q.request("DELETE", "/query/service/result/987654-0").status, 404)

    def test_bad_host_header_is_refused(self):
        for mode in ("deferred", "async"):
            r = self.q.query("SELECT 1", mode=mode, headers={"Host": "evil\"/x"})
            self.assertEqual(r.status, 400, (mode, r))
            self.assertNotIn(b"handle", r.body)
        doc = self.assertEnvelopeOk(self.q.query("SELECT 1", mode="deferred",
                                                 headers={"Host": "db.example:8080"}))
        self.assertTrue(doc["handle"].startswith("http://db.example:8080/query/service/result/"))

    def test_ttl_expiry(self):
        doc = self.assertEnvelopeOk(self.q.query("SELECT 1 AS a", mode="deferred",
                                                 result_dash_ttl="1s"))
        n, _ = job_of(doc["handle"])
        self.assertEqual(self.q.request("GET", "/query/service/status/%d-0" % n).status, 200)
        time.sleep(1.3)
        self.assertEqual(self.result(doc["handle"]).status, 404)
        self.assertEqual(self.q.request("GET", "/query/service/status/%d-0" % n).status, 404)


class Async(JobsMixin, QgateTestCase):
    ARGS = ("--drain-timeout", "2s")

    def test_happy_path(self):
        # PostgreSQL text cannot hold NUL; SQLite's keeps it
        text = "x y" if ON_PG else "x\x00y"
        r = self.q.query("SELECT ? AS a, $n AS b" if not ON_PG else "SELECT ?::bigint AS a, $n AS b",
                         mode="async", client_context_id="a-1", args="[9007199254740993]",
                         **{"$n": json.dumps(text)})
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(list(doc), ["requestID", "clientContextID", "handle", "plans",
                                     "status", "metrics"])
        self.assertEqual(doc["status"], "running")
        self.assertRegex(doc["handle"],
                         r"^http://127\.0\.0\.1:%d/query/service/status/\d+-0$" % self.q.port)
        st = self.wait_status(doc["handle"])
        # AsterixDB's fields first and unchanged; qgate's extras after them
        self.assertEqual(list(st)[:2], ["status", "handle"])
        self.assertEqual(asterix(st), {"status": "success",
                                       "handle": doc["handle"].replace("/status/", "/result/")})
        self.assertEqual(st["requestID"], doc["requestID"])
        self.assertEqual(st["clientContextID"], "a-1")
        r = self.result(st["handle"])
        self.assertEqual(r.status, 200)
        self.assertIn(b'"a":9007199254740993', r.body)
        self.assertEqual(r.json()["results"], [{"a": 9007199254740993, "b": text}])
        self.assertEqual(self.result(st["handle"]).status, 404)

    def test_errors_found_before_accepting(self):
        doc = self.assertError(self.q.query("SELEC 1", mode="async", client_context_id="s"),
                               400, "ASX1001")
        self.assertNotIn("handle", doc)
        self.assertRegex(doc["requestID"], UUID4)
        self.assertError(self.q.query("SELECT * FROM nosuch", mode="async"), 400, "ASX1077")
        self.assertError(self.q.query("SELECT 1; SELECT 2", mode="async",
                                      multi_dash_statement="false"), 400, "ASX0035")
        self.assertError(self.q.query("DELETE FROM customers", mode="async", readonly="true"),
                         400, "ASX0044")
        self.assertError(self.q.query("SELECT $nope", mode="async"), 400, "ASX1086")
        self.assertError(self.q.query("SELECT 1; SELEC 2", mode="async"), 400, "ASX1001")
        # the check never ran anything
        r = self.q.query("SELECT count(*) AS n FROM customers")
        self.assertEnvelopeOk(r, [{"n": 20}])

    def test_later_statement_may_need_an_earlier_one(self):
        h = self.submit("CREATE TABLE IF NOT EXISTS aj(x INTEGER); INSERT INTO aj VALUES (41); "
                        "SELECT max(x) + 1 AS n FROM aj")
        st = self.wait_status(h)
        self.assertEqual(st["status"], "success", st)
        self.assertEqual(self.result(st["handle"]).json()["results"], [{"n": 42}])

    def test_failing_job(self):
        h = self.submit("SELECT abs(-9223372036854775808)")
        st = self.wait_status(h)
        self.assertEqual(st["status"], "failed")
        self.assertTrue(st["errors"][0]["msg"].startswith("ASX0901"), st)
        self.assertEqual(self.result(h.replace("/status/", "/result/")).status, 404)

    def test_timeout_counts_from_start(self):
        h = self.submit(FOREVER, timeout="300ms")
        st = self.wait_status(h)
        self.assertEqual(list(st)[:2], ["status", "errors"])
        self.assertEqual(asterix(st), {"status": "timeout", "errors": [
            {"code": 1, "msg": "ASX0030: Request timed out and will be cancelled"}]})

    def test_cancel_through_delete(self):
        r = self.q.query(FOREVER, mode="async", client_context_id="cancel-job")
        doc = r.json()
        h = doc["handle"]
        n, _ = job_of(h)
        e = self.wait_running(lambda e: e["clientContextID"] == "cancel-job" and
                              e["state"] == "running")
        self.assertEqual(e["jobId"], n)
        self.assertEqual(e["uuid"], doc["requestID"])
        self.assertEqual(self.wait_status(h, want=("running",))["status"], "running")
        self.assertEqual(self.q.request("DELETE", path_of(h)).status, 200)
        st = self.wait_status(h)
        self.assertEqual(st["status"], "failed")
        self.assertEqual(st["errors"][0]["msg"],
                         "ASX0041: Request %s has been cancelled" % doc["requestID"])
        self.assertEqual(self.q.request("DELETE", path_of(h)).status, 404)

    def test_ttl_expiry(self):
        h = self.submit("SELECT 1 AS a", result_dash_ttl="1s")
        st = self.wait_status(h)
        time.sleep(1.3)
        self.assertEqual(self.result(st["handle"]).status, 404)
        self.assertEqual(self.q.request("GET", path_of(h)).status, 404)

    def test_metrics(self):
        self.wait_status(self.submit("SELECT 1"))
        text = self.q.request("GET", "/metrics").body.decode()
        values = dict(l.split(" ", 1) for l in text.splitlines() if l and l[0] != "#")
        self.assertGreaterEqual(float(values["qgate_store_commits_total"]), 2)
        self.assertGreaterEqual(float(values["qgate_store_jobs_created_total"]), 1)
        self.assertEqual(float(values["qgate_jobs_queued"]), 0)
        self.assertGreater(float(values["qgate_store_map_bytes"]), 1e9)

    def test_job_numbers_grow(self):
        a = job_of(self.submit("SELECT 1"))[0]
        b = job_of(self.submit("SELECT 1"))[0]
        self.assertGreater(b, a)


class Queue(JobsMixin, QgateTestCase):
    """One worker: the second job waits, and the queue has a limit."""
    ARGS = ("--workers", "1", "--max-queued", "2", "--drain-timeout", "2s")

    def test_queued_job_cancelled_at_once_and_limit(self):
        busy = self.submit(FOREVER, client_context_id="busy")
        self.wait_running(lambda e: e["clientContextID"] == "busy" and e["state"] == "running")
        q1 = self.submit("SELECT 1 AS one", client_context_id="q1")
        q2 = self.submit("SELECT 2 AS two", client_context_id="q2")
        e = self.wait_running(lambda e: e["clientContextID"] == "q1")
        self.assertEqual(e["state"], "queued")
        self.assertEqual(e["jobId"], job_of(q1)[0])
        # the queue is full: refused whole, with Retry-After
        r = self.q.query("SELECT 3", mode="async")
        doc = self.assertError(r, 503, "ASX0903")
        self.assertEqual(r.headers.get("retry-after"), "1")
        self.assertNotIn("handle", doc)
        # a queued job is failed at once, though no worker is free
        self.assertEqual(self.q.request("DELETE", path_of(q1)).status, 200)
        st = self.wait_status(q1, timeout=2)
        self.assertEqual(st["status"], "failed")
        self.assertTrue(st["errors"][0]["msg"].startswith("ASX0041"))
        # which made room
        q3 = self.submit("SELECT 3 AS three")
        # cancelling by client context id works for queued jobs too
        r = self.q.request("DELETE", "/admin/requests/running?client_context_id=q2")
        self.assertEqual(r.status, 200)
        self.assertEqual(self.wait_status(q2, timeout=2)["status"], "failed")
        self.assertEqual(self.q.request("DELETE", path_of(busy)).status, 200)
        st = self.wait_status(q3)
        self.assertEqual(st["status"], "success")
        self.assertEqual(self.result(st["handle"]).json()["results"], [{"three": 3}])
        self.assertEqual(self.wait_status(busy)["status"], "failed")


class StoreFull(JobsMixin, QgateTestCase):
    ARGS = ("--store-size", "1MiB", "--drain-timeout", "2s")

    def test_full_store_fails_the_job_and_serving_goes_on(self):
        r = self.q.query(rows_stmt(100000), mode="deferred")
        doc = self.assertError(r, 500, "ASX0904")
        self.assertNotIn("handle", doc)
        h = self.submit(rows_stmt(100000))
        st = self.wait_status(h)
        self.assertEqual(st["status"], "failed")
        self.assertTrue(st["errors"][0]["msg"].startswith("ASX0904"), st)
        # the partial pages were freed: a small result fits again, many times
        for i in range(20):
            doc = self.assertEnvelopeOk(self.q.query(rows_stmt(2000), mode="deferred"))
            self.assertEqual(len(self.result(doc["handle"]).json()["results"]), 2000)
        # a submission too big to store is refused whole: an error, no handle
        big = "SELECT '" + "x" * (900 * 1024) + "' AS big"
        doc = self.assertError(self.q.query(big, mode="async"), 500, "ASX0904")
        self.assertNotIn("handle", doc)
        self.assertEqual(self.q.request("GET", "/health").status, 200)
        self.assertEqual(self.wait_status(self.submit("SELECT 1 AS one"))["status"], "success")
        text = self.q.request("GET", "/metrics").body.decode()
        full = [l for l in text.splitlines() if l.startswith("qgate_store_full_total ")]
        self.assertGreaterEqual(float(full[0].split()[1]), 3)


class PublicUrl(JobsMixin, QgateTestCase):
    ARGS = ("--public-url", "https://front.example/n2/", "--drain-timeout", "2s")

    def test_handles_use_the_public_url(self):
        h = self.submit("SELECT 1 AS a", headers={"Host": "ignored:1"})
        self.assertRegex(h, r"^https://front\.example/n2/query/service/status/\d+-0$")
        # the proxy in front strips /n2; here we do
        st = self.wait_status(h.replace("/n2/", "/"))
        self.assertTrue(st["handle"].startswith("https://front.example/n2/query/service/result/"))


class Forwarded(JobsMixin, QgateTestCase):
    ARGS = ("--trusted-proxies", "127.0.0.1", "--drain-timeout", "2s")

    def test_handles_follow_a_trusted_proxy(self):
        # X-Forwarded-*: the last item, the one the nearest proxy wrote
        h = self.submit("SELECT 1", headers={"X-Forwarded-Proto": "http, https",
                                             "X-Forwarded-Host": "spoofed.example, front.example:8443"})
        self.assertRegex(h, r"^https://front\.example:8443/query/service/status/\d+-0$")
        # Forwarded, when the proxy sent no X-Forwarded-*: the element it wrote
        h = self.submit("SELECT 1", headers={
            "Forwarded": 'host=spoofed.example, for=192.0.2.1;proto=https;host="db.example"'})
        self.assertRegex(h, r"^https://db\.example/query/service/status/\d+-0$")
        # one family only: with X-Forwarded-Host there, Forwarded is not read
        h = self.submit("SELECT 1", headers={
            "Forwarded": 'for=192.0.2.1;proto=https;host="spoofed.example"',
            "X-Forwarded-Host": "front.example"})
        self.assertRegex(h, r"^http://front\.example/query/service/status/\d+-0$")
        # a forwarded host that is no host name is not used
        h = self.submit("SELECT 1", headers={"X-Forwarded-Host": "evil/x", "Host": "h:1"})
        self.assertRegex(h, r"^http://h:1/query/service/status/\d+-0$")

    def test_path_only_public_url_is_a_prefix(self):
        q = Qgate(("--trusted-proxies", "127.0.0.1", "--public-url", "/n2/",
                   "--drain-timeout", "2s")).start()
        try:
            h = self.submit("SELECT 1", q=q, headers={"X-Forwarded-Host": "front.example"})
            self.assertRegex(h, r"^http://front\.example/n2/query/service/status/\d+-0$")
            h = self.submit("SELECT 1", q=q, headers={"Host": "direct:9"})
            self.assertRegex(h, r"^http://direct:9/n2/query/service/status/\d+-0$")
            self.assertEqual(q.stop(), 0)
        finally:
            q.cleanup()

    def test_untrusted_peers_are_not_believed(self):
        q = Qgate(("--drain-timeout", "2s")).start()
        try:
            h = self.submit("SELECT 1", q=q, headers={"X-Forwarded-Proto": "https",
                                                      "X-Forwarded-Host": "front.example"})
            self.assertRegex(h, r"^http://127\.0\.0\.1:%d/" % q.port)
            self.assertEqual(q.stop(), 0)
        finally:
            q.cleanup()


TOKENS = {"alice": "alice-token", "bob": "bob-token"}


AUTH_FILE = auth_file(TOKENS)


def bearer(name):
    return {"Authorization": "Bearer " + TOKENS[name]}


class Principals(JobsMixin, QgateTestCase):
    ARGS = ("--auth-file", AUTH_FILE, "--drain-timeout", "2s")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        os.unlink(AUTH_FILE)

    def test_a_job_is_its_principals_alone(self):
        r = self.q.query(FOREVER, mode="async", headers=bearer("alice"),
                         client_context_id="alice-long")
        long_h = path_of(r.json()["handle"])
        r = self.q.query("SELECT 'mine' AS v", mode="async", headers=bearer("alice"),
                         max_dash_result_dash_reads="2")
        h = path_of(r.json()["handle"])
        deadline = time.time() + 20 * SLOW
        while time.time() < deadline:
            st = self.q.request("GET", h, headers=bearer("alice")).json()
            if st["status"] != "running":
                break
            time.sleep(0.02)
        self.assertEqual(st["status"], "success")
        res = path_of(st["handle"])
        # bob sees nothing of it: not the status, not the result, no cancel
        self.assertEqual(self.q.request("GET", h, headers=bearer("bob")).status, 404)
        self.assertEqual(self.q.request("GET", res, headers=bearer("bob")).status, 404)
        self.assertEqual(self.q.request("DELETE", res, headers=bearer("bob")).status, 404)
        self.assertEqual(self.q.request("DELETE", long_h, headers=bearer("bob")).status, 404)
        self.assertEqual(self.q.request("GET", h).status, 401)
        # alice does
        r = self.q.request("GET", res, headers=bearer("alice"))
        self.assertEqual(r.json()["results"], [{"v": "mine"}])
        self.assertEqual(self.q.request("DELETE", long_h, headers=bearer("alice")).status, 200)
        deadline = time.time() + 20 * SLOW
        while time.time() < deadline:
            st = self.q.request("GET", long_h, headers=bearer("alice")).json()
            if st["status"] != "running":
                break
            time.sleep(0.02)
        self.assertEqual(st["status"], "failed")


class Durability(JobsMixin, unittest.TestCase):
    """Each test runs its own daemons on one data directory."""

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="qgate-jobs-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.cleanup()
            reports = p.sanitizer_reports()
            if reports:
                self.fail("sanitizer reports:\n" + p.log()[-8000:])
        shutil.rmtree(self.data, ignore_errors=True)

    def start(self, *args):
        q = Qgate(args, data=self.data).start()
        self.procs.append(q)
        return q

    def stop(self, q):
        rc = q.stop()
        self.assertEqual(rc, 0, q.log()[-3000:])

    def test_sigterm_restart_keeps_status_and_results(self):
        q = self.start()
        ok = self.submit("SELECT 'kept' AS v", q=q, max_dash_result_dash_reads="3")
        bad = self.submit("SELECT abs(-9223372036854775808)", q=q)
        dr = q.query("SELECT 'deferred' AS d", mode="deferred").json()["handle"]
        self.wait_status(ok, q=q)
        self.wait_status(bad, q=q)
        self.assertEqual(self.result(ok.replace("/status/", "/result/"), q=q).status, 200)
        self.stop(q)
        q = self.start()
        st = self.wait_status(path_of(ok), q=q)
        self.assertEqual(st["status"], "success")
        r = self.result(st["handle"], q=q)
        self.assertEqual(r.json()["results"], [{"v": "kept"}])
        self.assertEqual(self.wait_status(path_of(bad), q=q)["status"], "failed")
        self.assertEqual(self.result(path_of(dr), q=q).json()["results"], [{"d": "deferred"}])
        last = max(job_of(ok)[0], job_of(bad)[0], job_of(dr)[0])
        self.assertGreater(job_of(self.submit("SELECT 1", q=q))[0], last)
        self.stop(q)

    def test_one_daemon_per_store(self):
        q = self.start()
        other = Qgate((), data=self.data)
        self.procs.append(other)
        with self.assertRaises(RuntimeError):
            other.start(timeout=10)
        self.assertIn("in use by another qgate process", other.log())
        self.stop(q)

    def test_drain_leaves_queued_jobs_for_the_restart(self):
        q = self.start("--workers", "1", "--drain-timeout", "700ms")
        long_ro = self.submit(FOREVER_SQLITE, q=q, timeout="2s", client_context_id="long")
        self.wait_running(lambda e: e["clientContextID"] == "long" and e["state"] == "running",
                          q=q)
        quick = [self.submit("SELECT %d AS k" % k, q=q) for k in range(3)]
        self.stop(q)  # SIGTERM: the long one is cut after 700ms, the quick ones never ran
        self.assertIn("stay queued", q.log())
        q = self.start("--workers", "2")
        for k, h in enumerate(quick):
            st = self.wait_status(path_of(h), q=q)
            self.assertEqual(st["status"], "success", st)
            self.assertEqual(self.result(st["handle"], q=q).json()["results"], [{"k": k}])
        # the long one was read-only: queued again, run again, and timed out this time
        st = self.wait_status(path_of(long_ro), q=q, timeout=30)
        self.assertEqual(st["status"], "timeout", st)
        self.stop(q)

    def test_kill9_during_a_burst_loses_no_answered_job(self):
        q = self.start("--workers", "2")
        answered = {}
        lock = threading.Lock()
        stop = threading.Event()

        def client(t):
            for i in range(100):
                if stop.is_set():
                    return
                k = t * 1000 + i
                try:
                    r = q.query("SELECT %d AS k, '%d' || 'x' AS s" % (k, k), mode="async",
                                http_timeout=10)
                except Exception:
                    return  # the daemon died under us
                if r.status != 200:
                    return
                with lock:
                    answered[r.json()["handle"]] = k

        threads = [threading.Thread(target=client, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline:
            with lock:
                if len(answered) >= 300:
                    break
            time.sleep(0.005)
        q.kill9()
        stop.set()
        for t in threads:
            t.join(30)
        with lock:
            got = dict(answered)
        self.assertGreaterEqual(len(got), 300)
        self.assertLess(len(got), 800, "the kill should land mid-burst")

        q = self.start("--workers", "2")
        for h, k in sorted(got.items(), key=lambda x: job_of(x[0])[0]):
            st = self.wait_status(path_of(h), q=q, timeout=60)
            self.assertEqual(st["status"], "success", (h, st))
            r = self.result(st["handle"], q=q)
            self.assertEqual(r.status, 200, h)
            self.assertEqual(r.json()["results"], [{"k": k, "s": "%dx" % k}], h)
        last = max(job_of(h)[0] for h in got)
        self.assertGreater(job_of(self.submit("SELECT 1", q=q))[0], last)
        self.stop(q)

    def test_kill9_while_running_fails_writers_and_reruns_readers(self):
        # both jobs must run at once: async jobs may hold every worker here
        q = self.start("--workers", "2", "--batch-workers", "2")
        writer = self.submit("CREATE TABLE IF NOT EXISTS k9w(x INTEGER); " + FOREVER_SQLITE, q=q,
                             client_context_id="writer")
        reader = self.submit(FOREVER_SQLITE, q=q, timeout="1500ms", client_context_id="reader")
        for ctx in ("writer", "reader"):
            self.wait_running(lambda e: e["clientContextID"] == ctx and e["state"] == "running",
                              q=q)
        # the running records must be committed before the kill: a worker
        # shows a job running as soon as it takes it, the store a moment later
        deadline = time.time() + 20 * SLOW
        while True:
            r = q.request("GET", "/query/service/jobs?limit=100")
            self.assertEqual(r.status, 200, r)
            started = {j.get("clientContextID") for j in r.json()["jobs"] if "startTime" in j}
            if {"writer", "reader"} <= started:
                break
            self.assertLess(time.time(), deadline, r.json())
            time.sleep(0.02)
        q.kill9()
        q = self.start("--workers", "2")
        st = self.wait_status(path_of(writer), q=q, want=("failed", "success", "timeout"))
        self.assertEqual(st["status"], "failed")
        self.assertTrue(st["errors"][0]["msg"].startswith("ASX0921"), st)
        self.assertIn("whether its writes took effect is unknown", st["errors"][0]["msg"])
        # the reader runs again (it is running or already timed out again)
        st = self.wait_status(path_of(reader), q=q, timeout=30)
        self.assertEqual(st["status"], "timeout", st)
        self.assertIn("queued again", q.log())
        self.stop(q)


if __name__ == "__main__":
    main()
