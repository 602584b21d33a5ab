"""Batches, result windows and callbacks end to end: per-statement status of
multi-statement jobs, offset/limit and rows=arrays on stored results, and
callback deliveries to a receiver this test runs on loopback (retries,
a daemon restart between attempts, refused hosts)."""
# qgate-backends: sqlite pg

import json
import shutil
import tempfile
import time
import unittest

from harness import ON_PG, Qgate, QgateTestCase, SLOW, main
from jobhelp import BOOM, FOREVER, JobsMixin, Receiver, job_of, path_of, rows_stmt


class Batches(JobsMixin, QgateTestCase):
    ARGS = ("--drain-timeout", "2s")

    def test_second_statement_fails(self):
        h = self.submit("SELECT id, name FROM customers WHERE id <= 3 ORDER BY id; " + BOOM +
                        "; SELECT 3 AS c", client_context_id="batch-1")
        st = self.wait_status(h)
        self.assertEqual(list(st)[:2], ["status", "errors"])
        self.assertEqual(st["status"], "failed")
        self.assertTrue(st["errors"][0]["msg"].startswith("ASX0901"), st)
        self.assertEqual(st["clientContextID"], "batch-1")
        s = st["statements"]
        self.assertEqual([x["state"] for x in s], ["finished", "error", "cancelled"])
        self.assertEqual([x["sequence"] for x in s], [0, 1, 2])
        self.assertEqual(s[0]["statement"],
                         "SELECT id, name FROM customers WHERE id <= 3 ORDER BY id")
        self.assertEqual(s[1]["statement"], BOOM)
        self.assertEqual(s[2]["statement"], "SELECT 3 AS c")
        # times and rows of what ran, nothing for what did not
        self.assertEqual(s[0]["rows"], 3)
        for k in ("startTime", "stopTime", "duration"):
            self.assertIn(k, s[0])
            self.assertIn(k, s[1])
            self.assertNotIn(k, s[2])
        self.assertLessEqual(s[0]["startTime"], s[0]["stopTime"])
        self.assertLessEqual(s[0]["stopTime"], s[1]["startTime"])
        self.assertEqual(s[1]["errors"], st["errors"])
        # a handle for the set that exists, none for the others
        n, _ = job_of(h)
        self.assertTrue(s[0]["handle"].endswith("/query/service/result/%d-0" % n))
        self.assertNotIn("handle", s[1])
        self.assertNotIn("handle", s[2])
        cols = s[0]["columns"]
        self.assertEqual([c["name"] for c in cols], ["id", "name"])
        # the engine's own type names (the PostgreSQL copy of the demo data
        # has bigint ids)
        self.assertIn(cols[0]["type"].lower(), ("int8",) if ON_PG else ("integer",))
        self.assertEqual(cols[1]["type"].lower(), "text")
        self.assertEqual((cols[0]["min"], cols[0]["max"], cols[0]["maxLength"]), (1, 3, 1))
        names = [r["name"] for r in self.q.query(
            "SELECT name FROM customers WHERE id <= 3").json()["results"]]
        self.assertEqual((cols[1]["min"], cols[1]["max"]), (min(names), max(names)))
        self.assertEqual(cols[1]["maxLength"], max(len(x.encode()) for x in names))
        # the completed set is readable; the failed statement's is not there
        r = self.get(path_of(s[0]["handle"]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["id"] for x in r.json()["results"]], [1, 2, 3])
        self.assertEqual(self.get("/query/service/result/%d-1" % n).status, 404)

    def test_success_lists_every_statement_with_its_set(self):
        h = self.submit("SELECT 1 AS a UNION ALL SELECT 2; "
                        "CREATE TEMP TABLE bt (v TEXT); INSERT INTO bt VALUES ('x'), (NULL); "
                        "SELECT v FROM bt ORDER BY v IS NULL, v")
        st = self.wait_status(h)
        self.assertEqual(st["status"], "success", st)
        s = st["statements"]
        self.assertEqual([x["state"] for x in s], ["finished"] * 4)
        n, _ = job_of(h)
        self.assertTrue(s[0]["handle"].endswith("/result/%d-0" % n))
        self.assertNotIn("handle", s[1])
        self.assertNotIn("handle", s[2])
        self.assertTrue(s[3]["handle"].endswith("/result/%d-1" % n))
        self.assertEqual(s[3]["rows"], 2)
        col = s[3]["columns"][0]
        self.assertEqual((col["min"], col["max"], col["nulls"]), ("x", "x", 1))
        self.assertEqual(self.get(path_of(s[3]["handle"])).json()["results"],
                         [{"v": "x"}, {"v": None}])

    def test_statement_texts_leave_comments_and_separators_out(self):
        h = self.submit("SELECT 1 AS a; -- a note\n/* x */ SELECT 'b;' AS b  ;;\n")
        st = self.wait_status(h)
        self.assertEqual([x["statement"] for x in st["statements"]],
                         ["SELECT 1 AS a", "SELECT 'b;' AS b"])

    @unittest.skipIf(ON_PG, "CREATE TRIGGER ... BEGIN ... END is SQLite's")
    def test_trigger_body_with_100000_semicolons_is_one_statement(self):
        # Its ';'s do not end it. Splitting such a text took 12.6 s, on the
        # checker and again on the worker, when the splitter asked
        # sqlite3_complete about the text so far at every ';'. (The trigger
        # never fires: running 100,000 statements is SQLite's time.)
        trigger = ("CREATE TRIGGER lt_t AFTER INSERT ON lt BEGIN\n" + "SELECT 1;\n" * 100000 +
                   "END")
        h = self.submit("CREATE TABLE lt (x); " + trigger + "; SELECT 2 AS b")
        deadline = time.time() + 20 * SLOW
        st = self.status(h)
        while st["status"] not in ("success", "failed") and time.time() < deadline:
            time.sleep(0.05)
            st = self.status(h)
        # the messages stay short: the statement is 1 MB
        states = [(x["state"], len(x["statement"])) for x in st["statements"]]
        self.assertEqual(st["status"], "success", (st["status"], st.get("errors"), states))
        self.assertEqual([x["state"] for x in st["statements"]], ["finished"] * 3, states)
        texts = [x["statement"] for x in st["statements"]]
        self.assertEqual(texts[0], "CREATE TABLE lt (x)")
        self.assertTrue(texts[1] == trigger, states)
        self.assertEqual(texts[2], "SELECT 2 AS b")
        self.assertEqual(self.get(path_of(st["statements"][2]["handle"])).json()["results"],
                         [{"b": 2}])

    def test_running_batch_shows_the_statement_being_run(self):
        h = self.submit("SELECT 1 AS a; " + FOREVER, client_context_id="long-batch")
        deadline = time.time() + 10 * SLOW
        st = None
        while time.time() < deadline:
            st = self.status(h)
            states = [x["state"] for x in st["statements"]]
            if states == ["finished", "started"]:
                break
            time.sleep(0.02)
        self.assertEqual(st["status"], "running")
        self.assertEqual([x["state"] for x in st["statements"]], ["finished", "started"], st)
        self.assertEqual(st["progress"]["state"], "running")
        self.assertEqual(st["progress"]["statement"], 1)
        self.assertNotIn("handle", st["statements"][0])  # not readable before the job ends
        self.assertEqual(self.q.request("DELETE", path_of(h)).status, 200)
        st = self.wait_status(h)
        self.assertEqual(st["status"], "failed")
        self.assertEqual([x["state"] for x in st["statements"]], ["finished", "error"])
        self.assertTrue(st["statements"][1]["errors"][0]["msg"].startswith("ASX0041"))
        # a cancelled batch keeps the set its first statement completed
        self.assertEqual(self.get(path_of(st["statements"][0]["handle"])).json()["results"],
                         [{"a": 1}])

    def test_deferred_failure_points_at_its_status(self):
        r = self.q.query("SELECT 7 AS a; " + BOOM, mode="deferred")
        doc = r.json()
        self.assertEqual(r.status, 500, r)
        self.assertNotIn("handle", doc)
        self.assertEqual(list(doc)[-1], "statusHandle")
        st = self.status(doc["statusHandle"])
        self.assertEqual([x["state"] for x in st["statements"]], ["finished", "error"])
        self.assertEqual(self.get(path_of(st["statements"][0]["handle"])).json()["results"],
                         [{"a": 7}])
        # failed before anything was stored: no job to point at
        doc = self.q.query("SELEC 1", mode="deferred").json()
        self.assertNotIn("statusHandle", doc)


class Windows(JobsMixin, QgateTestCase):
    ARGS = ("--drain-timeout", "2s")
    N = 30000  # several 64 KiB pages

    def stored(self, statement, reads=50, **params):
        r = self.q.query(statement, mode="deferred", max_dash_result_dash_reads=str(reads),
                         http_timeout=120, **params)
        self.assertEqual(r.status, 200, r)
        return path_of(r.json()["handle"])

    def test_offsets_limits_and_arrays(self):
        p = self.stored(rows_stmt(self.N))
        everything = [{"x": i, "s": "row%d" % i} for i in range(1, self.N + 1)]
        for off, lim in ((0, 1), (0, 10), (12345, 7), (self.N - 3, 10), (9999, 4000),
                         (20000, 0)):
            r = self.get("%s?offset=%d&limit=%d" % (p, off, lim))
            self.assertEqual(r.status, 200, r)
            doc = r.json()
            self.assertEqual(list(doc), ["results", "metrics", "offset", "limit", "total",
                                         "more"])
            self.assertEqual(doc["results"], everything[off:off + lim], (off, lim))
            self.assertEqual(doc["metrics"]["resultCount"], len(everything[off:off + lim]))
            self.assertEqual((doc["offset"], doc["limit"], doc["total"]), (off, lim, self.N))
            self.assertEqual(doc["more"], off + lim < self.N)
        # past the end: no rows
        doc = self.get("%s?offset=%d&limit=5" % (p, self.N + 10)).json()
        self.assertEqual((doc["results"], doc["more"]), ([], False))
        # arrays, with the column names once
        doc = self.get("%s?offset=100&limit=3&rows=arrays" % p).json()
        self.assertEqual(doc["results"], [[101, "row101"], [102, "row102"], [103, "row103"]])
        self.assertEqual(doc["columns"], ["x", "s"])
        doc = self.get("%s?rows=arrays" % p).json()
        self.assertEqual(len(doc["results"]), self.N)
        self.assertEqual(doc["results"][-1], [self.N, "row%d" % self.N])
        self.assertEqual(list(doc)[:2], ["results", "metrics"])

    def test_only_reads_that_reach_the_end_count(self):
        p = self.stored(rows_stmt(500), reads=1)
        for _ in range(3):  # windows short of the end take no read
            self.assertEqual(self.get(p + "?offset=10&limit=10").status, 200)
        r = self.get(p + "?offset=490&limit=10")  # reaches the end: the one read
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.json()["results"]), 10)
        self.assertEqual(self.get(p + "?offset=0&limit=1").status, 404)
        self.assertEqual(self.get(p).status, 404)

    def test_pretty_and_csv_windows(self):
        p = self.stored(rows_stmt(300), pretty="true")
        r = self.get(p + "?offset=5&limit=2")
        self.assertIn(b'\n  "x": 6', r.body)
        self.assertEqual(r.json()["results"], [{"x": 6, "s": "row6"}, {"x": 7, "s": "row7"}])
        r = self.get(p + "?offset=5&limit=2&rows=arrays")
        self.assertEqual(r.json()["results"], [[6, "row6"], [7, "row7"]])
        p = self.stored(rows_stmt(300), headers={"Accept": "text/csv; header=present"})
        r = self.get(p + "?offset=5&limit=2")
        self.assertEqual(r.headers["content-type"], "text/csv; header=present")
        self.assertEqual(r.body, b"x,s\r\n6,row6\r\n7,row7\r\n")
        r = self.get(p + "?rows=arrays")
        self.assertEqual(r.status, 400)
        self.assertIn("ASX0047", r.json()["errors"][0]["msg"])
        self.assertEqual(self.get(p).body.count(b"\r\n"), 301)

    def test_bad_values(self):
        p = self.stored("SELECT 1 AS a")
        for q in ("offset=-1", "offset=x", "limit=1.5", "limit=", "rows=tables", "offset=1e3"):
            r = self.get(p + "?" + q)
            self.assertEqual(r.status, 400, q)
            doc = r.json()
            self.assertTrue(doc["errors"][0]["msg"].startswith("ASX0047: Invalid value for "
                                                               "parameter '%s'" % q.split("=")[0]),
                            doc)
        # the first value wins, names are case-sensitive, values not
        doc = self.get(p + "?rows=ARRAYS&rows=objects&Limit=x").json()
        self.assertEqual(doc["results"], [[1]])


class Callbacks(JobsMixin, QgateTestCase):
    ARGS = ("--callback-allow", "127.0.0.1:*, hooks.example.com", "--callback-backoff", "200ms",
            "--callback-retries", "4", "--drain-timeout", "2s")

    def setUp(self):
        self.rx = Receiver()

    def tearDown(self):
        self.rx.close()
        super().tearDown()

    def wait_callback(self, h, state, timeout=20):
        deadline = time.time() + timeout * SLOW
        st = None
        while time.time() < deadline:
            st = self.status(h)
            if st.get("callback", {}).get("state") == state:
                return st
            time.sleep(0.02)
        self.fail("callback of %s stayed %r" % (h, st and st.get("callback")))

    def test_delivers_the_final_status(self):
        h = self.submit("SELECT 42 AS answer", callback_url=self.rx.url("/done?job=a"),
                        client_context_id="cb-1")
        path, headers, body, code = self.rx.wait(1)[0]
        self.assertEqual(path, "/done?job=a")
        doc = json.loads(body)
        self.assertEqual(doc["status"], "success")
        self.assertEqual(doc["handle"], h.replace("/status/", "/result/"))
        self.assertEqual(doc["clientContextID"], "cb-1")
        self.assertEqual(headers["Content-Type"], "application/json; charset=UTF-8")
        self.assertEqual(headers["X-Qgate-Job"], str(job_of(h)[0]))
        self.assertNotIn("X-Qgate-Signature", headers)  # no --callback-secret here
        st = self.wait_callback(h, "delivered")
        self.assertEqual(st["callback"]["attempts"], 1)
        self.assertEqual(st["callback"]["url"], self.rx.url("/done?job=a"))
        self.assertEqual(self.get(path_of(doc["handle"])).json()["results"], [{"answer": 42}])
        # a failed job delivers its errors
        h = self.submit(BOOM, callback_url=self.rx.url())
        doc = json.loads(self.rx.wait(2)[1][2])
        self.assertEqual(doc["status"], "failed")
        self.assertTrue(doc["errors"][0]["msg"].startswith("ASX0901"), doc)
        self.wait_callback(h, "delivered")

    def test_retried_until_accepted(self):
        self.rx.plan = [500, 503]
        h = self.submit("SELECT 1 AS a", callback_url=self.rx.url())
        got = self.rx.wait(3)
        self.assertEqual([g[3] for g in got], [500, 503, 200])
        self.assertEqual([g[1]["X-Qgate-Attempt"] for g in got], ["1", "2", "3"])
        st = self.wait_callback(h, "delivered")
        self.assertEqual(st["callback"]["attempts"], 3)
        self.assertNotIn("lastError", st["callback"])

    def test_retries_run_out(self):
        self.rx.plan = [500] * 10
        h = self.submit("SELECT 1 AS a", callback_url=self.rx.url())
        st = self.wait_callback(h, "failed")
        self.assertEqual(st["callback"]["attempts"], 4)
        self.assertEqual(st["callback"]["lastError"], "HTTP 500")
        time.sleep(0.5 * SLOW)  # and nothing more comes
        self.assertEqual(len(self.rx.got), 4)

    def test_redirects_are_not_followed(self):
        self.rx.plan = [302, 200]
        h = self.submit("SELECT 1 AS a", callback_url=self.rx.url())
        self.wait_callback(h, "delivered")
        self.assertEqual([g[0] for g in self.rx.got], ["/hook", "/hook"])

    def test_refused_at_submission(self):
        for url, code in (("http://evil.example/x", "ASX0922"),
                          ("http://hooks.example.com:8080/x", "ASX0922"),  # port 80 only
                          ("https://127.0.0.1:9/x", "ASX0922"),
                          ("ftp://127.0.0.1/x", "ASX0047"),
                          ("http://user@127.0.0.1/x", "ASX0047"),
                          ("not a url", "ASX0047")):
            r = self.q.query("SELECT 1", mode="async", callback_url=url)
            self.assertEqual(r.status, 400, (url, r))
            doc = r.json()
            self.assertTrue(doc["errors"][0]["msg"].startswith(code), (url, doc))
            self.assertNotIn("handle", doc)
        r = self.q.query("SELECT 1", mode="deferred", callback_url=self.rx.url())
        self.assertEqual(r.status, 400)
        self.assertIn("needs mode=async", r.json()["errors"][0]["msg"])
        self.assertEqual(self.rx.got, [])

    def test_receiver_down_is_an_attempt(self):
        # nothing listens there: refused connections are failed attempts
        dead = Receiver()
        url = dead.url()
        dead.close()
        h = self.submit("SELECT 1 AS a", callback_url=url)
        st = self.wait_callback(h, "failed")
        self.assertEqual(st["callback"]["attempts"], 4)
        self.assertIn("127.0.0.1:%d" % dead.port, st["callback"]["lastError"])


class CallbacksOff(JobsMixin, QgateTestCase):
    def test_callbacks_off_without_an_allow_list(self):
        r = self.q.query("SELECT 1", mode="async", callback_url="http://127.0.0.1:9/x")
        self.assertEqual(r.status, 400)
        self.assertIn("ASX0922: Callback refused: callbacks are off", r.json()["errors"][0]["msg"])


class CallbackRestart(JobsMixin, unittest.TestCase):
    """The delivery resumes after the daemon died between two attempts."""

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="qgate-cb-")
        self.procs = []
        self.rx = Receiver([500])

    def tearDown(self):
        self.rx.close()
        for p in self.procs:
            p.cleanup()
            if p.sanitizer_reports():
                self.fail("sanitizer reports:\n" + p.log()[-8000:])
        shutil.rmtree(self.data, ignore_errors=True)

    def start(self):
        backend = None
        if ON_PG:
            from harness import PgAdmin
            if not hasattr(self, "pg"):
                self.pg = PgAdmin()
                self.db = self.pg.create_db()
                self.addCleanup(self.pg.drop_db, self.db)
            backend = self.pg.uri(self.db)
        q = Qgate(("--callback-allow", "127.0.0.1:*", "--callback-backoff", "2s"),
                  data=self.data, backend=backend).start()
        self.procs.append(q)
        return q

    def test_kill9_between_attempts(self):
        q = self.start()
        h = self.submit("SELECT 'kept' AS v", q=q, callback_url=self.rx.url())
        self.assertEqual(self.rx.wait(1)[0][3], 500)
        # the failed attempt is on disk before the next is planned
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            cb = self.status(h, q=q)["callback"]
            if cb["attempts"] == 1:
                break
            time.sleep(0.02)
        self.assertEqual((cb["state"], cb["attempts"], cb["lastError"]), ("pending", 1, "HTTP 500"))
        self.assertIn("nextAttempt", cb)
        q.kill9()
        self.assertEqual(len(self.rx.got), 1)  # killed before the second attempt
        q = self.start()
        got = self.rx.wait(2, timeout=30)
        self.assertEqual(got[1][1]["X-Qgate-Attempt"], "2")
        self.assertEqual(json.loads(got[1][2])["status"], "success")
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            cb = self.status(h, q=q)["callback"]
            if cb["state"] == "delivered":
                break
            time.sleep(0.02)
        self.assertEqual((cb["state"], cb["attempts"]), ("delivered", 2))
        self.assertIn("pending deliver", q.log())
        self.assertEqual(q.stop(), 0)


if __name__ == "__main__":
    main()
