"""What a person meets: errors that say how to fix them, warnings for what
was ignored, HTTP as clients expect it (HEAD, gzip, JSON error bodies, a
final newline), and the daemon's own flags and environment.
"""

import gzip
import http.client
import json
import os
import subprocess
import time
import urllib.parse
import zlib

from harness import BIN, Qgate, QgateTestCase, SLOW, code_of, main

SERIES = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) "
          "SELECT x, 'row number ' || x AS s FROM c")


def msg(r):
    return r.json()["errors"][0]["msg"]


class Messages(QgateTestCase):
    """A new user's mistakes, one by one: the message names the fix."""

    def test_misspelt_statement(self):
        r = self.q.query(None, statment="SELECT 1")
        self.assertEqual(r.status, 400)
        self.assertEqual(msg(r), "ASX0040: No statement provided: parameter 'statment' is not "
                                 "known; did you mean 'statement'?")

    def test_json_sent_as_a_form_or_text(self):
        for ctype in ("application/x-www-form-urlencoded", "text/plain"):
            r = self.q.request("POST", "/query/service", body='{"statement": "SELECT 1"}',
                               headers={"Content-Type": ctype})
            self.assertEqual(r.status, 400, ctype)
            self.assertTrue(msg(r).startswith("ASX0040: No statement provided: the body looks "
                                              "like JSON"), r)
            self.assertIn("Content-Type: application/json", msg(r))

    def test_a_gets_body_is_ignored(self):
        r = self.q.request("GET", "/query/service", body="statement=SELECT+1",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 400)
        self.assertIn("a GET's body is ignored; put the parameters in the query string, or POST "
                      "the body", msg(r))
        # with a statement in the query string, it runs and says so
        r = self.q.request("GET", "/query/service?statement=SELECT+1+AS+a", body="mode=async",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        doc = self.assertEnvelopeOk(r, [{"a": 1}])
        self.assertIn("ASX0932: Request body ignored: a GET's body",
                      doc["warnings"][0]["msg"])

    def test_values_say_what_they_take(self):
        cases = [
            ({"timeout": "10"}, "'timeout': 10. Expected a duration with a unit",
             "did you mean 10s?"),
            ({"mode": "asnyc", "wait": "1s"}, "'mode': asnyc. Expected one of immediate, "
             "deferred, async, stream", "(did you mean async?)"),
            ({"mode": "async", "wait": "5m"}, "'wait': 5m. wait may be at most 60s",
             "--max-wait"),
            ({"format": "tsv"}, "'format': tsv. Expected json, csv", "header=present"),
        ]
        for params, text, hint in cases:
            r = self.q.query("SELECT 1", **params)
            self.assertEqual(r.status, 400, params)
            self.assertTrue(msg(r).startswith("ASX0047: Invalid value for parameter " + text), r)
            self.assertIn(hint, msg(r))
        r = self.q.query("SELECT $c AS c", **{"$c": "GB"})
        self.assertEqual(r.status, 400)
        self.assertTrue(msg(r).startswith("ASX0048: Unable to process JSON content in request: "
                                          "parameter '$c' is not valid JSON"), r)
        self.assertIn('e.g. $c="GB"', msg(r))

    def test_a_bad_escape_deep_in_a_large_statement(self):
        body = "statement=SELECT+'" + "a" * 200000 + "%G1'"
        r = self.q.request("POST", "/query/service", body=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 400)
        self.assertEqual(msg(r).split(". ")[0], "ASX0047: Invalid value for parameter "
                                                "'statement': malformed %-escape '%G1' at byte "
                                                "200008")
        self.assertIn("write a literal % as %25", msg(r))

    def test_a_get_that_writes(self):
        r = self.q.query("DELETE FROM orders_log", method="GET")
        self.assertEqual(r.status, 400)
        self.assertEqual(msg(r), "ASX0044: DELETE statement is not supported in read-only mode; "
                                 "a GET is always read-only: POST the statement to run it")
        r = self.q.query("DELETE FROM orders_log", readonly="true")
        self.assertIn("readonly=true", msg(r))


class Warnings(QgateTestCase):
    """Unknown parameters: ignored as AsterixDB does, named in warnings."""

    def check(self, doc, names):
        self.assertEqual(doc["metrics"]["warningCount"], len(names), doc)
        self.assertEqual([w["code"] for w in doc["warnings"]], [1] * len(names))
        for w, (name, near) in zip(doc["warnings"], names):
            want = "ASX0931: Unknown parameter '%s' ignored" % name
            if near:
                want += "; did you mean '%s'?" % near
            self.assertEqual(w["msg"], want)

    def test_in_every_mode(self):
        r = self.q.query("SELECT 1 AS a", prety="true", zzzz="1")
        doc = self.assertEnvelopeOk(r, [{"a": 1}])
        self.check(doc, [("prety", "pretty"), ("zzzz", None)])
        # AsterixDB's order: plans, warnings, status
        keys = list(doc)
        self.assertLess(keys.index("plans"), keys.index("warnings"))
        self.assertLess(keys.index("warnings"), keys.index("status"))
        for mode in ("deferred", "async"):
            r = self.q.query("SELECT 1 AS a", mode=mode, timout="1s")
            self.assertEqual(r.status, 200, r)
            self.check(r.json(), [("timout", "timeout")])
        r = self.q.query_json({"statement": "SELECT 1 AS a", "Mode": "async"})
        self.check(r.json(), [("Mode", "mode")])
        # a failed request keeps them, before its errors
        r = self.q.query("SELEC 1", prety="true")
        doc = r.json()
        self.assertEqual(list(doc)[-4:], ["warnings", "errors", "status", "metrics"])

    def test_none_no_field(self):
        doc = self.assertEnvelopeOk(self.q.query("SELECT 1 AS a"), [{"a": 1}])
        self.assertNotIn("warnings", doc)
        self.assertNotIn("warningCount", doc["metrics"])


# Requests that fail, one per route and kind: each answer is a JSON error
# document with an ASX code, ending with a newline.
ERRORS = [
    ("GET", "/nope", None, 404, "ASX0919"),
    ("PUT", "/query/service", "x", 405, "ASX0930"),
    ("POST", "/health", "", 405, "ASX0930"),
    ("DELETE", "/metrics", None, 405, "ASX0930"),
    ("POST", "/admin/requests/running", "", 405, "ASX0930"),
    ("GET", "/query/service/result/abc", None, 400, "ASX0909"),
    ("DELETE", "/query/service/status/1-", None, 400, "ASX0909"),
    ("GET", "/query/service/result/987654-0", None, 404, "ASX0919"),
    ("DELETE", "/query/service/result/987654-0", None, 404, "ASX0919"),
    ("GET", "/query/service/status/987654-0", None, 404, "ASX0919"),
    ("DELETE", "/query/service/status/987654-0", None, 404, "ASX0919"),
    ("DELETE", "/admin/requests/running", None, 400, "ASX0909"),
    ("DELETE", "/admin/requests/running?client_context_id=none", None, 404, "ASX0919"),
    ("GET", "/query/service/result/1-0?offset=x", None, 400, "ASX0047"),
    ("GET", "/query/service", None, 400, "ASX0040"),
]


class Http(QgateTestCase):
    def test_every_error_is_a_json_document(self):
        for method, path, body, status, code in ERRORS:
            r = self.q.request(method, path, body=body)
            self.assertEqual((r.status, code_of(r)), (status, code), (method, path, r.body))
            self.assertTrue(r.headers["content-type"].startswith("application/json"), path)
            self.assertTrue(r.body.endswith(b"}\n"), (path, r.body[-20:]))
            doc = r.json()
            self.assertEqual(doc["status"], "fatal")
            self.assertGreater(len(doc["errors"][0]["msg"]), len(code) + 12, doc)
        r = self.q.request("PUT", "/query/service/result/1-0", body="x")
        self.assertEqual(r.headers["allow"], "GET, HEAD, DELETE, OPTIONS")

    def test_json_answers_end_with_a_newline(self):
        rid = self.q.query("SELECT 1 AS a", mode="async").json()
        answers = [
            self.q.query("SELECT 1 AS a"),
            self.q.query("SELECT 1 AS a", format="csv"),
            self.q.query("SELECT 1 AS a", mode="deferred"),
            self.q.request("GET", "/health"),
            self.q.request("GET", "/admin/requests/running"),
            self.q.request("GET", rid["handle"].split(str(self.q.port))[1]),
        ]
        d = self.q.query("SELECT 1 AS a", mode="deferred", **{"max-result-reads": "2"}).json()
        path = d["handle"].split(str(self.q.port))[1]
        answers.append(self.q.request("GET", path + "?offset=0&limit=1"))
        answers.append(self.q.request("GET", path))
        for r in answers:
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.body.endswith(b"\n"), r.body[-40:])
            json.loads(r.body)

    def assertSameHead(self, path, length=True):
        g = self.q.request("GET", path)
        h = self.q.request("HEAD", path)
        self.assertEqual(h.status, g.status, path)
        self.assertEqual(h.body, b"", path)
        for k in ("content-type", "vary", "transfer-encoding") + (("content-length",) if length
                                                                  else ()):
            self.assertEqual(h.headers.get(k), g.headers.get(k), (path, k))
        return h

    def test_head_wherever_get_is_served(self):
        h = self.assertSameHead("/health")
        self.assertEqual(h.headers["content-length"], "16")
        self.assertSameHead("/metrics", length=False)  # its counters move between the two
        self.assertSameHead("/admin/requests/running")
        self.assertSameHead("/nope")
        job = self.q.query("SELECT 1 AS a", mode="async").json()["handle"]
        status = job.split(str(self.q.port))[1]
        deadline = time.time() + 10 * SLOW
        while self.q.request("GET", status).json()["status"] != "success":
            self.assertLess(time.time(), deadline)
            time.sleep(0.01)
        self.assertSameHead(status)  # its document stays as it is once the job ended
        # a stored result: HEAD takes none of its reads
        d = self.q.query("SELECT 1 AS a", mode="deferred").json()
        path = d["handle"].split(str(self.q.port))[1]
        for _ in range(3):
            h = self.q.request("HEAD", path)
            self.assertEqual((h.status, h.body), (200, b""))
        self.assertEqual(self.q.request("GET", path).json()["results"], [{"a": 1}])
        self.assertEqual(self.q.request("HEAD", path).status, 404)
        # a raw HEAD: the head and nothing after it, the connection still usable
        out = self.q.raw(b"HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n"
                         b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        self.assertEqual(out.count(b"HTTP/1.1 200 OK"), 2, out)
        self.assertTrue(out.endswith(b'{"status":"ok"}\n'), out)


class Gzip(QgateTestCase):
    GZ = {"Accept-Encoding": "gzip"}

    def test_large_immediate_result(self):
        stmt = SERIES % 20000
        plain = self.q.query(stmt)
        r = self.q.query(stmt, headers=self.GZ)
        self.assertEqual(r.headers.get("content-encoding"), "gzip")
        self.assertEqual(r.headers["vary"], "Accept-Encoding")
        body = gzip.decompress(r.body)
        self.assertEqual(json.loads(body)["results"], plain.json()["results"])
        self.assertLess(len(r.body) * 3, len(plain.body))
        self.assertTrue(body.endswith(b"\n"))
        # refused with q=0, or not asked for: as it is
        for h in ({"Accept-Encoding": "gzip;q=0"}, {"Accept-Encoding": "br"}, {}):
            r = self.q.query(stmt, headers=h)
            self.assertNotIn("content-encoding", r.headers, h)
            self.assertEqual(r.headers["vary"], "Accept-Encoding")
            json.loads(r.body)

    def test_tiny_answers_stay_as_they_are(self):
        r = self.q.request("GET", "/health", headers=self.GZ)
        self.assertEqual(r.body, b'{"status":"ok"}\n')
        self.assertNotIn("content-encoding", r.headers)
        r = self.q.query("SELECT 1 AS a", headers=self.GZ)
        self.assertNotIn("content-encoding", r.headers)

    def test_whole_answers(self):
        # a result that fits in one chunk goes out whole, with its compressed length; a
        # HEAD says the same length
        path = "/query/service?" + urllib.parse.urlencode({"statement": SERIES % 200})
        r = self.q.request("GET", path, headers=self.GZ)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get("content-encoding"), "gzip")
        self.assertEqual(int(r.headers["content-length"]), len(r.body))
        self.assertEqual(len(json.loads(gzip.decompress(r.body))["results"]), 200)
        h = self.q.request("HEAD", path, headers=self.GZ)
        self.assertEqual(h.headers.get("content-encoding"), "gzip")
        # the same size give or take its timings' digits (metrics differ from run to run)
        self.assertLess(abs(int(h.headers["content-length"]) - len(r.body)), 40)

    def test_stored_result(self):
        d = self.q.query(SERIES % 20000, mode="deferred", **{"max-result-reads": "3"}).json()
        path = d["handle"].split(str(self.q.port))[1]
        plain = self.q.request("GET", path)
        r = self.q.request("GET", path, headers=self.GZ)
        self.assertEqual(r.headers.get("content-encoding"), "gzip")
        self.assertEqual(gzip.decompress(r.body), plain.body)
        w = self.q.request("GET", path + "?offset=19990&rows=arrays", headers=self.GZ)
        doc = json.loads(gzip.decompress(w.body))
        self.assertEqual(doc["results"][0], [19991, "row number 19991"])

    def test_a_stream_stays_live(self):
        """Each batch is flushed: the first messages of a long query arrive,
        decompressed, while it still runs."""
        c = http.client.HTTPConnection("127.0.0.1", self.q.port, timeout=30 * SLOW)
        stmt = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                "SELECT x FROM c WHERE x = 1 OR x > 1000000000")
        c.request("POST", "/query/service",
                  body=urllib.parse.urlencode({"statement": stmt, "mode": "stream",
                                               "stats": "50ms"}),
                  headers=dict(self.GZ, **{"Content-Type": "application/x-www-form-urlencoded"}))
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("content-encoding"), "gzip")
        z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        text = b""
        deadline = time.time() + 20 * SLOW
        # (a STATS may come first: the query may wait for a worker)
        while not (b'"data":{"x":1}' in text and b'"type":"STATS"' in text) and \
                time.time() < deadline:
            chunk = r.read1(65536)
            if not chunk:
                break
            text += z.decompress(chunk)
        self.assertIn(b'"type":"METADATA"', text)
        self.assertIn(b'"type":"RECORD","set":0,"data":{"x":1}', text)
        self.assertIn(b'"type":"STATS"', text)
        self.assertNotIn(b'"type":"END"', text)  # all this while the query still runs
        c.close()  # the client leaves: the query is cancelled


class Daemon(QgateTestCase):
    """Flags and the environment, run as an operator would."""

    def run_bin(self, *args, env=None):
        e = dict(os.environ, **(env or {}))
        return subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e,
                              timeout=30 * SLOW)

    def test_short_flags(self):
        p = self.run_bin("-h")
        self.assertEqual(p.returncode, 0)
        self.assertIn("-h, --help", p.stdout)
        self.assertIn("Durations take a unit", p.stdout)
        p = self.run_bin("-v")
        self.assertEqual((p.returncode, p.stdout.split()[0]), (0, "qgate"))

    def test_mistakes(self):
        p = self.run_bin("--worker", "3")
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown flag '--worker'; did you mean --workers?", p.stderr)
        p = self.run_bin(env={"QGATE_RESULT_TTL": "10"})
        self.assertEqual(p.returncode, 2)
        self.assertIn("did you mean 10s?", p.stderr)

    def test_unknown_variable_is_warned_about(self):
        q = Qgate(env={"QGATE_MAX_QUEUD": "5"}).start()
        try:
            q.wait_log("environment variable QGATE_MAX_QUEUD is not a qgate setting; ignored; "
                       "did you mean QGATE_MAX_QUEUED?")
        finally:
            q.stop()
            q.cleanup()


if __name__ == "__main__":
    main()
