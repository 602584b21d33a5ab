#!/usr/bin/env python3
"""Trino's client protocol (docs/trino.md): the official JavaScript client
(trino-client, tests/node) and raw HTTP, on both backends; restart in the
middle of paging; two nodes behind nginx."""
# qgate-backends: sqlite pg

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from harness import FOREVER, ON_PG, SLOW, Qgate, QgateTestCase, auth_file, main
from nginx import Nginx, free_port

NODE_DIR = os.path.join(os.path.dirname(__file__), "..", "node")
ROWS_200K = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000) "
             "SELECT x, 'row ' || x AS t FROM c")
if ON_PG:
    ROWS_200K = "SELECT x::bigint AS x, 'row ' || x AS t FROM generate_series(1, 200000) x"


def js(port, sql, user="alice", token=None, timeout=120, **kw):
    """Runs sql with the JavaScript client; its summary (tests/node/trino_run.js)."""
    arg = dict(server="http://127.0.0.1:%d" % port, user=user, sql=sql, **kw)
    if token:
        arg["token"] = token
    out = subprocess.run(["node", os.path.join(NODE_DIR, "trino_run.js"), json.dumps(arg)],
                         capture_output=True, timeout=timeout * SLOW, check=True)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def hreq(port, method, path, body=None, headers=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout * SLOW)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        doc = json.loads(data) if data else None
        return r.status, {k.lower(): v for k, v in r.getheaders()}, doc, len(data)
    finally:
        c.close()


def path_of(uri):
    return urllib.parse.urlparse(uri).path


def follow(port, doc, headers, pages=None):
    """Follows nextUri as the clients do; returns (rows, last document,
    documents read)."""
    rows, n = [], 0
    while "nextUri" in doc:
        st, _, doc, size = hreq(port, "GET", path_of(doc["nextUri"]), headers=headers)
        assert st == 200, (st, doc)
        n += 1
        rows += doc.get("data", [])
        if pages is not None:
            pages.append(size)
    return rows, doc, n


class JsClient(QgateTestCase):
    """The official JavaScript client, unchanged."""

    def test_every_mapped_type(self):
        if ON_PG:
            ddl = ("CREATE TABLE ty(i int4, l int8, r float8, t text, b bytea, d numeric(10,2), "
                   "dt date, ts timestamp, tz timestamptz, j jsonb, bo bool, a int4[])")
            ins = ("INSERT INTO ty VALUES (1, 9007199254740991, 1.5, 'x', '\\x00ff', 12.50, "
                   "'2024-01-02', '2024-01-02 03:04:05.123', '2024-01-02 03:04:05+00', "
                   "'{\"a\": 1}', true, '{1,2}')")
        else:
            ddl = ("CREATE TABLE ty(i INTEGER, l BIGINT, r REAL, t TEXT, b BLOB, d DECIMAL(10,2), "
                   "dt DATE, ts TIMESTAMP, j JSON, bo BOOLEAN)")
            ins = ("INSERT INTO ty VALUES (1, 9007199254740991, 1.5, 'x', x'00ff', 12.5, "
                   "'2024-01-02', '2024-01-02 03:04:05.123', '{\"a\": 1}', 1)")
        self.assertEqual(js(self.q.port, ddl)["state"], "FINISHED")
        w = js(self.q.port, ins)
        self.assertEqual((w["state"], w["updateType"], w["updateCount"]), ("FINISHED", "INSERT", 1), w)
        r = js(self.q.port, "SELECT * FROM ty")
        types = {c["name"]: c["type"] for c in r["columns"]}
        row = dict(zip([c["name"] for c in r["columns"]], r["rows"][0]))
        self.assertEqual((types["i"], row["i"]), ("integer" if ON_PG else "bigint", 1))
        self.assertEqual((types["l"], row["l"]), ("bigint", 9007199254740991))
        self.assertEqual((types["r"], row["r"]), ("double", 1.5))
        self.assertEqual((types["t"], row["t"]), ("varchar", "x"))
        self.assertEqual((types["b"], row["b"]), ("varbinary", "AP8="))
        self.assertEqual(types["d"], "decimal(38,10)" if ON_PG else "decimal(10,2)")
        self.assertEqual(row["d"], "12.50" if ON_PG else "12.5")  # decimals are strings
        self.assertEqual((types["dt"], row["dt"]), ("date", "2024-01-02"))
        self.assertEqual(row["ts"], "2024-01-02 03:04:05.123")
        self.assertEqual(types["j"], "json")
        self.assertEqual(json.loads(row["j"]), {"a": 1})  # json is a string
        self.assertEqual((types["bo"], row["bo"]), ("boolean", True))
        if ON_PG:
            self.assertEqual(types["ts"], "timestamp(6)")
            self.assertEqual((types["tz"], row["tz"]),
                             ("timestamp(6) with time zone", "2024-01-02 03:04:05 +00:00"))
            self.assertEqual((types["a"], row["a"]), ("array(integer)", [1, 2]))
            sig = [c for c in r["columns"] if c["name"] == "a"][0]["typeSignature"]
            self.assertEqual(sig["rawType"], "array")
            self.assertEqual(sig["arguments"][0]["value"]["rawType"], "integer")
            nan = "SELECT 'NaN'::float8 AS n, 'Infinity'::float8 AS p, '-Infinity'::float8 AS m"
        else:
            self.assertEqual(types["ts"], "timestamp(3)")
            nan = "SELECT 1e999 AS p, -1e999 AS m"
        r = js(self.q.port, nan)
        vals = dict(zip([c["name"] for c in r["columns"]], r["rows"][0]))
        self.assertEqual((vals["p"], vals["m"]), ("Infinity", "-Infinity"))
        if ON_PG:
            self.assertEqual(vals["n"], "NaN")

    def test_200000_rows_over_many_pages(self):
        r = js(self.q.port, ROWS_200K, count=True)
        self.assertEqual((r["state"], r["count"]), ("FINISHED", 200000), r)
        self.assertGreater(r["pages"], 20)  # pages are bounded in bytes (~64 KiB)
        self.assertEqual([c["type"] for c in r["columns"]], ["bigint", "varchar"])

    def test_syntax_error(self):
        r = js(self.q.port, "SELEC 1")
        self.assertEqual(r["state"], "FAILED")
        e = r["error"]
        self.assertEqual((e["errorName"], e["errorType"], e["errorCode"]),
                         ("SYNTAX_ERROR", "USER_ERROR", 1))
        self.assertIn("ASX1001", e["message"])

    def test_cancel_a_running_query_by_id(self):
        r = js(self.q.port, FOREVER, cancel=True)
        self.assertEqual(r["stateBeforeCancel"], "RUNNING")
        self.assertEqual(r["state"], "FAILED")
        self.assertEqual(r["error"]["errorName"], "USER_CANCELED")

    def test_write_then_read(self):
        js(self.q.port, "CREATE TABLE w(a INTEGER)")
        r = js(self.q.port, "INSERT INTO w VALUES (1), (2), (3)")
        self.assertEqual((r["state"], r["updateType"], r["updateCount"]), ("FINISHED", "INSERT", 3), r)
        self.assertEqual(js(self.q.port, "SELECT count(*) AS n FROM w")["rows"], [[3]])
        r = js(self.q.port, "UPDATE w SET a = a + 1 WHERE a >= 2")
        self.assertEqual((r["updateType"], r["updateCount"]), ("UPDATE", 2), r)
        r = js(self.q.port, "DELETE FROM w WHERE a > 100")
        self.assertEqual((r["updateType"], r["updateCount"]), ("DELETE", 0), r)
        r = js(self.q.port, "CREATE TABLE w2(a INTEGER)")
        self.assertEqual(r["updateType"], "CREATE TABLE")
        self.assertNotIn("updateCount", r)

    def test_show_statements(self):
        cat = js(self.q.port, "SHOW CATALOGS")
        self.assertEqual(len(cat["rows"]), 1)
        schemas = [r[0] for r in js(self.q.port, "SHOW SCHEMAS")["rows"]]
        self.assertIn("public" if ON_PG else "main", schemas)
        tables = [r[0] for r in js(self.q.port, "show tables")["rows"]]
        self.assertTrue({"customers", "orders", "products"} <= set(tables), tables)
        schema = "public" if ON_PG else "main"
        self.assertEqual([r[0] for r in js(self.q.port, "SHOW TABLES FROM %s" % schema)["rows"]],
                         tables)
        cols = js(self.q.port, "SHOW COLUMNS FROM customers")
        self.assertEqual([c["name"] for c in cols["columns"]], ["Column", "Type", "Extra", "Comment"])
        self.assertEqual(cols["rows"][0][:2], ["id", "bigint"])  # the demo ids: INTEGER, bigint
        self.assertEqual(js(self.q.port, "DESCRIBE %s.customers;" % schema)["rows"], cols["rows"])
        bad = js(self.q.port, "DESCRIBE \"x'y\"")
        self.assertEqual(bad["error"]["errorName"], "SYNTAX_ERROR")


class Raw(QgateTestCase):
    """The documents, the headers, the long poll and the principals, over
    raw HTTP."""

    H = {"X-Trino-User": "alice", "X-Trino-Source": "raw", "X-Trino-Catalog": "c",
         "X-Trino-Schema": "s", "X-Trino-Time-Zone": "UTC", "X-Trino-Session": "a=1",
         "X-Trino-Client-Tags": "t1,t2", "X-Trino-Client-Info": "test",
         "X-Trino-Prepared-Statement": "p=SELECT%201"}

    def submit(self, sql, headers=None):
        st, h, doc, _ = hreq(self.q.port, "POST", "/v1/statement", sql.encode(), headers or self.H)
        self.assertEqual(st, 200, doc)
        return doc

    def test_documents(self):
        doc = self.submit("SELECT id, name FROM customers ORDER BY id LIMIT 2")
        self.assertEqual(doc["stats"]["state"], "QUEUED")
        qid = doc["id"]
        self.assertRegex(qid, r"^[0-9]+_qgate$")
        self.assertTrue(doc["infoUri"].endswith("/v1/query/" + qid))
        self.assertIn("/v1/statement/executing/%s/0" % qid, doc["nextUri"])
        rows, last, _ = follow(self.q.port, doc, self.H)
        self.assertEqual([r[0] for r in rows], [1, 2])
        self.assertNotIn("nextUri", last)
        self.assertEqual(last["stats"]["state"], "FINISHED")
        self.assertEqual(last["stats"]["processedRows"], 2)
        self.assertEqual(last["columns"][1], {"name": "name", "type": "varchar", "typeSignature": {
            "rawType": "varchar", "arguments": [{"kind": "LONG", "value": 2147483647}]}})
        st, _, info, _ = hreq(self.q.port, "GET", path_of(last["infoUri"]), headers=self.H)
        self.assertEqual((st, info["queryId"], info["state"]), (200, qid, "FINISHED"))
        st, _, info, _ = hreq(self.q.port, "GET", "/v1/info")
        self.assertEqual(st, 200)
        self.assertTrue(info["nodeVersion"]["version"].startswith("qgate-"))

    def test_the_curl_session_of_the_docs(self):
        """docs/trino.md's curl session runs as written and prints what it says."""
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "trino.md")) as f:
            doc = f.read()
        part = doc.split("### A curl session", 1)[1]
        script = part.split("```sh\n", 1)[1].split("```", 1)[0]
        shown = part.split("```\n", 2)[2].split("```", 1)[0].strip().splitlines()
        env = dict(os.environ, QG="http://127.0.0.1:%d" % self.q.port)
        out = subprocess.run(["bash", "-c", script], env=env, capture_output=True,
                             timeout=60 * SLOW, check=True).stdout.decode().strip().splitlines()
        self.assertEqual(len(out), len(shown), out)
        self.assertEqual(out[0].split()[0], shown[0].split()[0])  # the id differs
        self.assertRegex(out[0].split()[1], r"^[0-9]+_qgate$")
        self.assertEqual(out[1:], shown[1:])

    def test_the_javascript_example_of_the_docs(self):
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "trino.md")) as f:
            part = f.read().split("### The JavaScript client", 1)[1]
        script = part.split("```js\n", 1)[1].split("```", 1)[0]
        shown = part.split("```\n", 2)[2].split("```", 1)[0].strip()
        env = dict(os.environ, QG="http://127.0.0.1:%d" % self.q.port,
                   NODE_PATH=os.path.join(NODE_DIR, "node_modules"))
        out = subprocess.run(["node", "-e", script], env=env, capture_output=True,
                             timeout=60 * SLOW, check=True).stdout.decode().strip()
        self.assertEqual(out, shown)

    def test_missing_user_is_a_clear_error(self):
        st, _, doc, _ = hreq(self.q.port, "POST", "/v1/statement", b"SELECT 1")
        self.assertEqual(st, 400)
        self.assertEqual(doc["stats"]["state"], "FAILED")
        self.assertEqual(doc["error"]["errorType"], "USER_ERROR")
        self.assertIn("X-Trino-User", doc["error"]["message"])

    def test_empty_body(self):
        st, _, doc, _ = hreq(self.q.port, "POST", "/v1/statement", b"  ", self.H)
        self.assertEqual(st, 400)
        self.assertIn("ASX0040", doc["error"]["message"])

    def test_another_principal_gets_404(self):
        doc = self.submit(FOREVER)
        bob = {"X-Trino-User": "bob"}
        nxt = path_of(doc["nextUri"])
        self.assertEqual(hreq(self.q.port, "GET", nxt, headers=bob)[0], 404)
        self.assertEqual(hreq(self.q.port, "DELETE", nxt, headers=bob)[0], 404)
        self.assertEqual(hreq(self.q.port, "GET", "/v1/query/" + doc["id"], headers=bob)[0], 404)
        self.assertEqual(hreq(self.q.port, "DELETE", "/v1/query/" + doc["id"], headers=bob)[0], 404)
        # still running for its owner, who cancels it
        st, _, info, _ = hreq(self.q.port, "GET", "/v1/query/" + doc["id"], headers=self.H)
        self.assertIn(info["state"], ("QUEUED", "RUNNING"))
        self.assertEqual(hreq(self.q.port, "DELETE", nxt, headers=self.H)[0], 204)
        _, last, _ = follow(self.q.port, {"nextUri": doc["nextUri"]}, self.H)
        self.assertEqual(last["error"]["errorName"], "USER_CANCELED")

    def test_long_poll_waits_instead_of_spinning(self):
        doc = self.submit(FOREVER)
        nxt = path_of(doc["nextUri"])
        polls, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < 2.5:
            st, _, d, _ = hreq(self.q.port, "GET", nxt, headers=self.H)
            self.assertEqual(st, 200)
            self.assertEqual(path_of(d["nextUri"]), nxt)  # no data yet: the same page
            self.assertIn(d["stats"]["state"], ("QUEUED", "RUNNING"))
            polls += 1
        # each GET waited for the query (up to 1 s), so 2.5 s took a few, not hundreds
        self.assertLessEqual(polls, 4)
        self.assertEqual(hreq(self.q.port, "DELETE", "/v1/query/" + doc["id"], headers=self.H)[0],
                         204)
        # an ended query answers at once
        t1 = time.monotonic()
        _, last, _ = follow(self.q.port, {"nextUri": doc["nextUri"]}, self.H)
        self.assertLess(time.monotonic() - t1, 5 * SLOW)
        self.assertEqual(last["stats"]["state"], "FAILED")

    def test_pages_are_bounded_in_bytes(self):
        sizes = []
        rows, _, n = follow(self.q.port, self.submit(ROWS_200K), self.H, sizes)
        self.assertEqual(len(rows), 200000)
        self.assertEqual(rows[-1], [200000, "row 200000"])
        self.assertLess(max(sizes), 80 * 1024)
        self.assertGreater(n, 20)

    def test_a_writes_rows_in_an_asterixdb_status(self):
        """The count behind updateCount shows in /query/service's status too."""
        r = self.q.query("CREATE TABLE ar(a INTEGER); INSERT INTO ar VALUES (1), (2); "
                         "UPDATE ar SET a = 3 WHERE a = 1", mode="async")
        path = path_of(r.json()["handle"])
        while True:
            st = self.q.request("GET", path).json()
            if st["status"] != "running":
                break
        self.assertEqual(st["status"], "success", st)
        self.assertEqual([x["rows"] for x in st["statements"]], [0, 2, 1])

    def test_pages_can_be_read_again(self):
        doc = self.submit("SELECT 7 AS n")
        rows1, _, _ = follow(self.q.port, doc, self.H)
        rows2, _, _ = follow(self.q.port, doc, self.H)  # a client's retry of the same URIs
        self.assertEqual(rows1, rows2)


class WithAuth(QgateTestCase):
    """--auth-file: the bearer token decides the principal, X-Trino-User
    does not."""
    ARGS = ("--auth-file", auth_file({"alice": "tok-a", "bob": "tok-b"}))

    def test_token_is_the_principal(self):
        a = {"Authorization": "Bearer tok-a", "X-Trino-User": "bob"}
        b = {"Authorization": "Bearer tok-b", "X-Trino-User": "alice"}
        st, _, doc, _ = hreq(self.q.port, "POST", "/v1/statement", b"SELECT 1 AS n", a)
        self.assertEqual(st, 200)
        nxt = path_of(doc["nextUri"])
        self.assertEqual(hreq(self.q.port, "GET", nxt, headers=b)[0], 404)
        rows, _, _ = follow(self.q.port, doc, a)
        self.assertEqual(rows, [[1]])
        self.assertEqual(hreq(self.q.port, "POST", "/v1/statement", b"SELECT 1",
                              {"X-Trino-User": "alice"})[0], 401)
        r = js(self.q.port, "SELECT 2 AS n", user="whoever", token="tok-b")
        self.assertEqual(r["rows"], [[2]])

    def test_an_asterixdb_job_is_not_a_query(self):
        """The same principal's /query/service job is not reachable here."""
        a = {"Authorization": "Bearer tok-a"}
        r = self.q.query("SELECT 1 AS n", mode="async", headers=a)
        n = r.json()["handle"].rsplit("/", 1)[1].split("-")[0]
        for method, path in (("GET", "/v1/statement/executing/%s_qgate/0" % n),
                             ("GET", "/v1/query/%s_qgate" % n),
                             ("DELETE", "/v1/query/%s_qgate" % n)):
            self.assertEqual(hreq(self.q.port, method, path, headers=a)[0], 404, path)


class Overload(QgateTestCase):
    """Beyond --max-queued: 503 with Retry-After, a Trino-shaped document;
    the JavaScript client does not retry it, it throws (with the status)."""
    ARGS = ("--workers", "1", "--max-queued", "1", "--drain-timeout", "1s")

    def test_503_with_retry_after(self):
        H = {"X-Trino-User": "alice"}
        ids = []
        for k in range(2):  # one runs (a worker took it), then one waits
            st, _, doc, _ = hreq(self.q.port, "POST", "/v1/statement", FOREVER.encode(), H)
            self.assertEqual(st, 200, doc)
            ids.append(doc["id"])
            while k == 0 and hreq(self.q.port, "GET", "/v1/query/" + doc["id"],
                                  headers=H)[2]["state"] != "RUNNING":
                pass
        st, h, doc, _ = hreq(self.q.port, "POST", "/v1/statement", b"SELECT 1", H)
        self.assertEqual((st, h.get("retry-after")), (503, "1"))
        self.assertEqual((doc["error"]["errorName"], doc["error"]["errorType"]),
                         ("QUERY_QUEUE_FULL", "INSUFFICIENT_RESOURCES"))
        self.assertNotIn("nextUri", doc)
        r = js(self.q.port, "SELECT 1")
        self.assertEqual(r.get("status"), 503, r)
        for i in ids:
            self.assertEqual(hreq(self.q.port, "DELETE", "/v1/query/" + i, headers=H)[0], 204)


class Restart(unittest.TestCase):
    """The query's state and pages are in the job store: nextUri keeps
    working across kill -9 and a restart."""

    @classmethod
    def setUpClass(cls):
        cls.pgadmin = cls.db = None
        backend = None
        if ON_PG:
            from harness import PgAdmin
            cls.pgadmin = PgAdmin()
            cls.db = cls.pgadmin.create_db()
            backend = cls.pgadmin.uri(cls.db)
        cls.data = tempfile.mkdtemp(prefix="qgate-trino-")
        cls.backend = backend

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.data, ignore_errors=True)
        if cls.db:
            cls.pgadmin.drop_db(cls.db)

    def start(self, *args):
        return Qgate(args, data=self.data, backend=self.backend).start()

    def test_kill9_between_pages(self):
        H = {"X-Trino-User": "alice"}
        q = self.start()
        try:
            st, _, doc, _ = hreq(q.port, "POST", "/v1/statement", ROWS_200K.encode(), H)
            rows = []
            while not rows:  # until the first page
                st, _, doc, _ = hreq(q.port, "GET", path_of(doc["nextUri"]), headers=H)
                rows += doc.get("data", [])
            st, _, doc, _ = hreq(q.port, "GET", path_of(doc["nextUri"]), headers=H)
            rows += doc["data"]
            q.kill9()
            q = self.start()
            more, last, _ = follow(q.port, doc, H)
            rows += more
            self.assertEqual(len(rows), 200000)
            self.assertEqual([r[0] for r in rows], list(range(1, 200001)))
            self.assertEqual(last["stats"]["state"], "FINISHED")
        finally:
            if q.alive():
                q.stop()
            q.cleanup()

    def test_js_client_reads_on_across_kill9(self):
        """The JavaScript client, stopped after its first page, follows its
        next nextUri after kill -9 and a restart on the same address."""
        port = free_port()
        q = self.start("--listen", "127.0.0.1:%d" % port)
        arg = json.dumps(dict(server="http://127.0.0.1:%d" % port, user="alice", sql=ROWS_200K,
                              count=True, pause=True))
        p = subprocess.Popen(["node", os.path.join(NODE_DIR, "trino_run.js"), arg],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            first = json.loads(p.stdout.readline())
            self.assertGreater(first["paused"], 0)
            q.kill9()
            q = self.start("--listen", "127.0.0.1:%d" % port)
            p.stdin.write(b"go\n")
            p.stdin.flush()
            out, _ = p.communicate(timeout=120 * SLOW)
            r = json.loads(out.decode().strip().splitlines()[-1])
            self.assertEqual((r.get("state"), r.get("count")), ("FINISHED", 200000), r)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            if q.alive():
                q.stop()
            q.cleanup()

    def test_running_write_fails_as_unknown(self):
        """A write running at kill -9 is not run again: its query fails
        with ASX0921 (whether it took effect is unknown)."""
        H = {"X-Trino-User": "alice"}
        slow = ("CREATE TABLE kw AS SELECT 1 AS a FROM pg_sleep(30)" if ON_PG
                else "CREATE TABLE kw AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                     "SELECT x+1 FROM c WHERE x < 300000000) SELECT count(*) AS n FROM c")
        q = self.start()
        try:
            st, _, doc, _ = hreq(q.port, "POST", "/v1/statement", slow.encode(), H)
            self.assertEqual(st, 200, doc)
            while hreq(q.port, "GET", "/v1/query/" + doc["id"], headers=H)[2]["state"] != "RUNNING":
                pass
            q.kill9()
            q = self.start()
            _, last, _ = follow(q.port, doc, H)
            self.assertEqual(last["stats"]["state"], "FAILED", last)
            self.assertIn("ASX0921", last["error"]["message"])
            self.assertEqual(last["error"]["errorType"], "INTERNAL_ERROR")
        finally:
            if q.alive():
                q.stop()
            q.cleanup()

    def test_running_read_only_query_is_run_again(self):
        H = {"X-Trino-User": "alice"}
        slow = ("SELECT count(*) AS n FROM generate_series(1, 3) x, LATERAL pg_sleep(1) s" if ON_PG
                else "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c "
                     "WHERE x < 30000000) SELECT count(*) AS n FROM c")
        q = self.start()
        try:
            st, _, doc, _ = hreq(q.port, "POST", "/v1/statement", slow.encode(), H)
            while True:
                st, _, info, _ = hreq(q.port, "GET", "/v1/query/" + doc["id"], headers=H)
                if info["state"] == "RUNNING":
                    break
                self.assertEqual(info["state"], "QUEUED")
            q.kill9()
            q = self.start()
            rows, last, _ = follow(q.port, doc, H)
            self.assertEqual(last["stats"]["state"], "FINISHED", last)
            self.assertEqual(rows, [[3 if ON_PG else 30000000]])
        finally:
            if q.alive():
                q.stop()
            q.cleanup()


class TwoNodes(unittest.TestCase):
    """Two nodes behind the shipped cluster config: nextUri and
    /v1/query/ID route to the node that owns the query."""

    @classmethod
    def setUpClass(cls):
        cls.data2 = tempfile.mkdtemp(prefix="qgate-n2-")
        cls.pgadmin = cls.db = None
        backend = None
        if ON_PG:
            from harness import PgAdmin
            cls.pgadmin = PgAdmin()
            cls.db = cls.pgadmin.create_db()
            backend = cls.pgadmin.uri(cls.db)
        trust = ("--trusted-proxies", "127.0.0.1/32")
        cls.n1 = Qgate(("--public-url", "/n1") + trust, backend=backend).start()
        cls.n2 = Qgate(("--public-url", "/n2") + trust, data=cls.data2, backend=backend).start()
        cls.nginx = Nginx("qgate-cluster.conf", {19002: cls.n1.port, 19003: cls.n2.port}).start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        for q in (cls.n1, cls.n2):
            if q.alive():
                q.stop()
            q.cleanup()
        shutil.rmtree(cls.data2, ignore_errors=True)
        if cls.db:
            cls.pgadmin.drop_db(cls.db)

    def test_js_client_through_nginx(self):
        nodes = set()
        for i in range(6):
            r = js(self.nginx.port, "SELECT %d AS k" % i)
            self.assertEqual(r["rows"], [[i]], r)
            nodes.add(r["id"].split("_")[1])
        self.assertEqual(nodes, {"n1", "n2"})  # balanced, and each routed back
        r = js(self.nginx.port, ROWS_200K, count=True)
        self.assertEqual(r["count"], 200000)
        for _ in range(2):  # one on each node, cancelled by id through the front door
            r = js(self.nginx.port, FOREVER, cancel=True)
            self.assertEqual(r["error"]["errorName"], "USER_CANCELED", r)


if __name__ == "__main__":
    main()
