"""Immediate mode end to end: docs/api.md's parameter and status tables,
values, streaming, cancellation, pipelining, against the real daemon.

Runs on SQLite and on PostgreSQL (see harness.py); where the engines differ
(error texts, SQL spellings, types) a test branches on ON_PG."""
# qgate-backends: sqlite pg

import json
import re
import socket
import threading
import time
import unittest
import urllib.parse

from harness import FOREVER, ON_PG, QgateTestCase, SLOW, main, parse_responses

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
DURATION = re.compile(r"^(0ns|\d+(\.\d*[1-9])?(s|ms|µs|ns))$")


def typed(expr, sqltype):
    """expr with a type: PostgreSQL parameters are untyped literals that
    take their type from the statement (a bare SELECT $1 is text), SQLite
    binds the JSON type."""
    return "CAST(%s AS %s)" % (expr, sqltype) if ON_PG else expr


def fails_at_run_time(expr_ok, guard, var="1"):
    """An expression that fails while running once guard is false. On
    PostgreSQL the failure is a division of var by zero (with a column for
    var it cannot be folded at plan time); SQLite divides by zero to NULL,
    so there it is an integer overflow."""
    boom = "%s/0" % var if ON_PG else "abs(-9223372036854775808)"
    return "CASE WHEN %s THEN %s ELSE %s END" % (guard, expr_ok, boom)


class Envelope(QgateTestCase):
    def test_select_one_envelope_in_order(self):
        r = self.q.query("SELECT 1 AS one", client_context_id="ctx-1")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("application/json"))
        doc = r.json()
        self.assertEqual(list(doc), ["requestID", "clientContextID", "signature", "results",
                                     "plans", "status", "metrics"])
        self.assertRegex(doc["requestID"], UUID4)
        self.assertEqual(doc["clientContextID"], "ctx-1")
        self.assertEqual(doc["signature"], {"*": "*"})
        self.assertEqual(doc["results"], [{"one": 1}])
        self.assertEqual(doc["plans"], {})
        self.assertEqual(doc["status"], "success")
        m = doc["metrics"]
        self.assertEqual(list(m), ["elapsedTime", "executionTime", "compileTime",
                                   "queueWaitTime", "resultCount", "resultSize",
                                   "processedObjects"])
        for k in ("elapsedTime", "executionTime", "compileTime", "queueWaitTime"):
            self.assertRegex(m[k], DURATION)
        self.assertEqual(m["resultCount"], 1)
        self.assertEqual(m["resultSize"], len('{"one":1}'))

    def test_request_ids_differ_and_empty_context_is_omitted(self):
        a = self.q.query("SELECT 1", client_context_id="").json()
        b = self.q.query("SELECT 1").json()
        self.assertNotIn("clientContextID", a)
        self.assertNotEqual(a["requestID"], b["requestID"])

    def test_demo_database_is_there(self):
        doc = self.assertEnvelopeOk(self.q.query(
            "SELECT count(*) AS n FROM customers; SELECT count(*) AS n FROM orders"))
        self.assertEqual(doc["results"], [{"n": 20}])
        self.assertEqual(doc["results-0"], [{"n": 250}])

    def test_signature_false(self):
        doc = self.assertEnvelopeOk(self.q.query("SELECT 1 AS a", signature="false"))
        self.assertNotIn("signature", doc)

    def test_pretty(self):
        r = self.q.query("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y'", pretty="true")
        doc = self.assertEnvelopeOk(r, [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
        self.assertIn(b'\n  "a": 1', r.body)

    def test_dml_has_no_results(self):
        doc = self.assertEnvelopeOk(self.q.query(
            "CREATE TEMP TABLE IF NOT EXISTS t_dml(a INTEGER); INSERT INTO t_dml VALUES (1)"))
        self.assertNotIn("results", doc)
        self.assertNotIn("signature", doc)


class Parameters(QgateTestCase):
    def test_get_query_string(self):
        r = self.q.query("SELECT 2 AS two", method="GET")
        self.assertEnvelopeOk(r, [{"two": 2}])

    def test_get_forces_readonly(self):
        r = self.q.query("CREATE TABLE get_made(a INTEGER)", method="GET", readonly="false")
        self.assertError(r, 400, "ASX0044")
        self.assertIn("CREATE statement is not supported in read-only mode", r.body.decode())

    def test_json_body(self):
        r = self.q.query_json({"statement": "SELECT %s AS a, $x AS b" % typed("?", "INTEGER"),
                               "args": [7],
                               "$x": "seven", "client_context_id": "j"})
        doc = self.assertEnvelopeOk(r, [{"a": 7, "b": "seven"}])
        self.assertEqual(doc["clientContextID"], "j")

    def test_json_last_key_wins_and_true_as_text(self):
        r = self.q.query_json('{"statement":"SELECT 1 AS a","statement":"SELECT 2 AS b",'
                              '"pretty":false,"signature":false}')
        doc = self.assertEnvelopeOk(r, [{"b": 2}])
        self.assertNotIn("signature", doc)

    def test_form_before_query_string(self):
        r = self.q.request("POST", "/query/service?statement=SELECT%201%20AS%20q&pretty=maybe",
                           body="statement=SELECT+2+AS+f",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        # the form's statement wins; the query string's bad pretty is still checked
        self.assertError(r, 400, "ASX0047")
        r = self.q.request("POST", "/query/service?statement=SELECT%201%20AS%20q",
                           body="statement=SELECT+2+AS+f",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEnvelopeOk(r, [{"f": 2}])

    def test_other_content_type_uses_query_string(self):
        r = self.q.request("POST", "/query/service?statement=SELECT%203%20AS%20x",
                           body="statement=SELECT+4", headers={"Content-Type": "text/plain"})
        self.assertEnvelopeOk(r, [{"x": 3}])

    def test_bad_values_are_asx0047_without_request_id(self):
        cases = [dict(mode="sideways"), dict(readonly="yes"), dict(pretty="1"),
                 dict(timeout="10"), dict(timeout="5x"), dict(format="xml"),
                 dict(max_dash_result_dash_reads="0"), dict(multi_dash_statement="no"),
                 dict(args='{"a":1}'), dict(signature="TRUEISH"), dict(plan_dash_format="pdf")]
        for params in cases:
            r = self.q.query("SELECT 1", **params)
            doc = self.assertError(r, 400, "ASX0047")
            self.assertEqual(list(doc), ["errors", "status", "metrics"], params)
            self.assertEqual(doc["metrics"]["errorCount"], 1)

    def test_message_text(self):
        doc = self.q.query("SELECT 1", mode="sideways").json()
        self.assertEqual(doc["errors"][0]["msg"],
                         "ASX0047: Invalid value for parameter 'mode': sideways. Expected one of "
                         "immediate, deferred, async, stream")
        self.assertEqual(doc["errors"][0]["code"], 1)

    def test_enums_are_case_insensitive(self):
        self.assertEnvelopeOk(self.q.query("SELECT 1 AS a", mode="IMMEDIATE", pretty="False"))

    def test_missing_statement(self):
        self.assertError(self.q.query(None), 400, "ASX0040")
        self.assertError(self.q.query("   "), 400, "ASX0040")

    def test_invalid_json_body(self):
        self.assertError(self.q.query_json('{"statement": "SELECT 1"'), 400, "ASX0048")
        self.assertError(self.q.query_json('[1,2]'), 400, "ASX0048")

    def test_parameter_value_not_json_is_asx0048(self):
        # AsterixDB's own test suite: args=[12,,1] is ASX0048, not ASX0047
        for params in (dict(args="[12,,1]"), dict(args="[1,"), {"$x": '{"a":}'}):
            r = self.q.query("SELECT ? AS a", **params)
            doc = self.assertError(r, 400, "ASX0048")
            self.assertEqual(list(doc), ["errors", "status", "metrics"], params)
            self.assertIn("Unable to process JSON content in request", doc["errors"][0]["msg"])

    def test_args_bound_never_spliced(self):
        evil = "x'); DROP TABLE customers; --"
        r = self.q.query("SELECT ? AS v", args=json.dumps([evil]))
        self.assertEnvelopeOk(r, [{"v": evil}])
        r = self.q.query("SELECT count(*) AS n FROM customers")
        self.assertEnvelopeOk(r, [{"n": 20}])

    def test_named_and_numbered(self):
        r = self.q.query("SELECT $a AS a, $b AS b, %s AS one" % typed("$1", "INTEGER"),
                         args="[10]",
                         **{"$a": '"alpha"', "$b": "[1,2]"})
        self.assertEnvelopeOk(r, [{"a": "alpha", "b": "[1,2]", "one": 10}])

    def test_missing_parameter_value(self):
        self.assertError(self.q.query("SELECT $nope"), 400, "ASX1086")

    def test_int64_args_exact(self):
        r = self.q.query("SELECT %s AS a, %s AS b, %s AS c" % ((typed("?", "BIGINT"),) * 3),
                         args="[9007199254740993, -9223372036854775808, 9223372036854775807]")
        self.assertIn(b'"a":9007199254740993', r.body)
        self.assertIn(b'"b":-9223372036854775808', r.body)
        self.assertIn(b'"c":9223372036854775807', r.body)

    def test_unknown_parameters_ignored(self):
        self.assertEnvelopeOk(self.q.query("SELECT 1 AS a", frobnicate="yes"))


class Statements(QgateTestCase):
    def test_syntax_error_400_with_request_id(self):
        r = self.q.query("SELEC 1", client_context_id="bad")
        doc = self.assertError(r, 400, "ASX1001")
        self.assertRegex(doc["requestID"], UUID4)
        self.assertEqual(doc["clientContextID"], "bad")
        self.assertNotIn("plans", doc)
        self.assertIn("syntax error", doc["errors"][0]["msg"])
        self.assertEqual(doc["metrics"]["errorCount"], 1)

    def test_unknown_table_400(self):
        doc = self.assertError(self.q.query("SELECT * FROM nosuch"), 400, "ASX1077")
        self.assertIn('relation "nosuch" does not exist' if ON_PG else "no such table: nosuch",
                      doc["errors"][0]["msg"])

    def test_runtime_error_500(self):
        self.assertError(self.q.query("SELECT " + fails_at_run_time("1", "1 = 0")), 500, "ASX0901")

    def test_multi_statement_sets(self):
        doc = self.assertEnvelopeOk(self.q.query(
            "SELECT 1 AS a; CREATE TEMP TABLE IF NOT EXISTS ms(x INTEGER); SELECT 2 AS b; "
            "SELECT 3 AS c"))
        self.assertEqual(doc["results"], [{"a": 1}])
        self.assertEqual(doc["results-0"], [{"b": 2}])
        self.assertEqual(doc["results-1"], [{"c": 3}])
        self.assertEqual(doc["metrics"]["resultCount"], 3)

    def test_later_statements_see_earlier_ones(self):
        doc = self.assertEnvelopeOk(self.q.query(
            "CREATE TABLE seq_t(a INTEGER); INSERT INTO seq_t VALUES (5); SELECT a FROM seq_t; "
            "DROP TABLE seq_t"))
        self.assertEqual(doc["results"], [{"a": 5}])

    def test_multi_statement_false(self):
        self.assertError(self.q.query("SELECT 1; SELECT 2", multi_dash_statement="false"),
                         400, "ASX0035")
        self.assertEnvelopeOk(self.q.query("SELECT 1 AS a;  -- done",
                                           multi_dash_statement="false"), [{"a": 1}])

    def test_error_after_results_keeps_them(self):
        r = self.q.query("SELECT 1 AS a; SELECT * FROM nosuch")
        doc = self.assertError(r, 400, "ASX1077")
        self.assertEqual(doc["results"], [{"a": 1}])

    def test_readonly_writes_nothing(self):
        self.assertEnvelopeOk(self.q.query("CREATE TABLE ro_t(a INTEGER)"))
        cases = [("INSERT INTO ro_t VALUES (1)", "INSERT"),
                 ("UPDATE customers SET name = 'x'", "UPDATE"),
                 ("DELETE FROM customers", "DELETE"),
                 ("DROP TABLE ro_t", "DROP"),
                 ("SELECT 1; INSERT INTO ro_t VALUES (2)", "INSERT")]
        if ON_PG:
            cases += [("COMMIT; INSERT INTO ro_t VALUES (3)", "COMMIT"),
                      ("SET default_transaction_read_only = off", "SET"),
                      ("WITH d AS (DELETE FROM customers RETURNING 1) SELECT count(*) FROM d",
                       "DELETE"),
                      ("SELECT * INTO ro_copy FROM customers", "SELECT INTO"),
                      ("SELECT * FROM customers FOR UPDATE", "SELECT FOR UPDATE")]
        else:
            cases += [("PRAGMA query_only=0", "PRAGMA"),
                      ("ATTACH DATABASE '/tmp/qgate-attach.db' AS x", "ATTACH"),
                      ("VACUUM INTO '/tmp/qgate-vacuum.db'", "VACUUM")]
        for stmt, kind in cases:
            r = self.q.query(stmt, readonly="true")
            self.assertEqual(r.status, 400, (stmt, r))
            self.assertIn("ASX0044: %s statement is not supported in read-only mode" % kind,
                          r.body.decode(), stmt)
            self.assertNotIn("results", r.json(), stmt)
        doc = self.assertEnvelopeOk(self.q.query(
            "SELECT count(*) AS n FROM ro_t; SELECT count(*) AS c FROM customers "
            "WHERE name = 'x'"))
        self.assertEqual(doc["results"], [{"n": 0}])
        self.assertEqual(doc["results-0"], [{"c": 0}])
        self.assertEnvelopeOk(self.q.query("SELECT count(*) AS n FROM ro_t", readonly="true"))

    @unittest.skipIf(ON_PG, "ATTACH is SQLite's")
    def test_attach_is_refused_always(self):
        r = self.q.query("ATTACH DATABASE '/tmp/qgate-attach2.db' AS x")
        self.assertEqual(r.status, 400, r)

    def test_timeout(self):
        t0 = time.time()
        r = self.q.query(FOREVER, timeout="300ms")
        took = time.time() - t0
        doc = self.assertError(r, 200, "ASX0030", status="timeout")
        self.assertEqual(doc["errors"][0]["msg"], "ASX0030: Request timed out and will be cancelled")
        self.assertLess(took, 5 * SLOW)

    def test_timeout_zero_is_no_limit(self):
        self.assertEnvelopeOk(self.q.query("SELECT 1 AS a", timeout="0"), [{"a": 1}])


class Values(QgateTestCase):
    def test_integers_exact(self):
        r = self.q.query("SELECT 9223372036854775807 AS mx, -9223372036854775808 AS mn, "
                         "9007199254740993 AS big")
        self.assertIn(b'"mx":9223372036854775807', r.body)
        self.assertIn(b'"mn":-9223372036854775808', r.body)
        self.assertIn(b'"big":9007199254740993', r.body)

    def test_reals_round_trip(self):
        if ON_PG:  # its literals are numeric: make them doubles
            r = self.q.query("SELECT 0.1::float8 AS a, 0.1::float8 + 0.2::float8 AS b, "
                             "3.0::float8 AS c, 1e300::float8 AS d, -0.0::float8 AS e, "
                             "2.5e-310::float8 AS f")
        else:
            r = self.q.query("SELECT 0.1 AS a, 0.1 + 0.2 AS b, 3.0 AS c, 1e300 AS d, -0.0 AS e, "
                             "2.5e-310 AS f")
        doc = self.assertEnvelopeOk(r)
        row = doc["results"][0]
        self.assertEqual(row["a"], 0.1)
        self.assertEqual(row["b"], 0.1 + 0.2)
        self.assertEqual(row["d"], 1e300)
        self.assertEqual(row["f"], 2.5e-310)
        self.assertIn(b'"b":0.30000000000000004', r.body)
        self.assertIn(b'"c":3.0', r.body)

    def test_null_text_blob(self):
        blob = "'\\x00ff10'::bytea" if ON_PG else "x'00ff10'"
        r = self.q.query("SELECT NULL AS n, 'h\u00e9\"\\\n\t' AS t, %s AS b" % blob)
        doc = self.assertEnvelopeOk(r)
        self.assertEqual(doc["results"], [{"n": None, "t": "h\u00e9\"\\\n\t", "b": "AP8Q"}])

    @unittest.skipIf(ON_PG, "PostgreSQL keeps text valid in the database encoding")
    def test_invalid_utf8_from_database_stays_valid_json(self):
        r = self.q.query("SELECT CAST(x'41ff42c3' AS TEXT) AS t, 'ok' AS u")
        doc = self.assertEnvelopeOk(r)
        self.assertEqual(doc["results"][0]["t"], "A\ufffdB\ufffd")
        r.body.decode("utf-8")  # strict

    def test_control_characters_escaped(self):
        if ON_PG:  # text cannot hold NUL
            r = self.q.query("SELECT chr(1) || chr(31) || chr(127) AS c")
            want = "\x01\x1f\x7f"
        else:
            r = self.q.query("SELECT char(0, 1, 31, 127) AS c")
            want = "\x00\x01\x1f\x7f"
        doc = self.assertEnvelopeOk(r)
        self.assertEqual(doc["results"][0]["c"], want)


class Csv(QgateTestCase):
    def test_format_csv(self):
        r = self.q.query("SELECT 1 AS a, 'x,y' AS b, NULL AS c", format="csv")
        doc = self.assertEnvelopeOk(r)
        self.assertEqual(list(doc)[:3], ["requestID", "type", "signature"])
        self.assertEqual(doc["type"], "text/csv; header=absent")
        self.assertEqual(doc["results"], ['1,"x,y",\r\n'])

    def test_accept_header_present(self):
        r = self.q.query("SELECT 1 AS a, 'q\"' AS b UNION ALL SELECT 2, ''",
                         headers={"Accept": "text/csv; header=present"})
        doc = self.assertEnvelopeOk(r)
        self.assertEqual(doc["type"], "text/csv; header=present")
        self.assertEqual(doc["results"], ["a,b\r\n", '1,"q"""\r\n', '2,""\r\n'])

    def test_format_wins_over_accept(self):
        r = self.q.query("SELECT 1 AS a", format="json", headers={"Accept": "text/csv"})
        self.assertEnvelopeOk(r, [{"a": 1}])


class Http(QgateTestCase):
    def test_health(self):
        r = self.q.request("GET", "/health")
        self.assertEqual((r.status, r.json()), (200, {"status": "ok"}))

    def test_no_cors_by_default(self):
        # without --cors-origins no page but qgate's own may use it
        # (tests/e2e/test_cors.py has the rest)
        r = self.q.request("OPTIONS", "/query/service",
                           headers={"Origin": "https://app.example",
                                    "Access-Control-Request-Method": "POST"})
        self.assertEqual(r.status, 403)
        self.assertNotIn("access-control-allow-origin", r.headers)
        r = self.q.query("SELECT 1", headers={"Origin": "https://app.example"})
        self.assertEqual(r.status, 403)
        self.assertNotIn("access-control-allow-origin", r.headers)

    def test_405_text(self):
        # AsterixDB's text, in a JSON error document, with the methods that work
        r = self.q.request("PUT", "/query/service", body="x")
        doc = self.assertError(r, 405, "ASX0930")
        self.assertEqual(doc["errors"][0]["msg"],
                         "ASX0930: Method PUT not allowed for the requested resource. This path "
                         "takes GET, HEAD, POST, OPTIONS")
        self.assertEqual(r.headers["allow"], "GET, HEAD, POST, OPTIONS")
        r = self.q.request("DELETE", "/health")
        self.assertError(r, 405, "ASX0930")
        self.assertEqual(r.headers["allow"], "GET, HEAD, OPTIONS")

    def test_unknown_path(self):
        self.assertEqual(self.q.request("GET", "/nope").status, 404)

    def test_pipelined_requests_in_order(self):
        reqs = b""
        for i in range(20):
            body = ("statement=SELECT+%d+AS+n" % i).encode()
            reqs += (b"POST /query/service HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body)) + body
        reqs += b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        out = self.q.raw(reqs, timeout=20)
        resps = parse_responses(out)
        self.assertEqual(len(resps), 21)
        for i in range(20):
            self.assertEqual(resps[i][0], 200)
            self.assertEqual(json.loads(resps[i][2])["results"], [{"n": i}])
        self.assertEqual(json.loads(resps[20][2]), {"status": "ok"})

    def test_request_line_split_across_reads_arrives_intact(self):
        # evhtp (#128) inserts a junk byte into a request line that arrives
        # in more than one read; intake hands it whole lines only.
        stmt = "SELECT '" + "x" * 3000 + "' AS long"
        path = "/query/service?statement=" + stmt.replace(" ", "%20").replace("'", "%27")
        req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode()
        s = socket.create_connection(("127.0.0.1", self.q.port), timeout=10 * SLOW)
        for i in range(0, len(req), 700):
            s.sendall(req[i:i + 700])
            time.sleep(0.02)
        out = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
        s.close()
        status, _, body = parse_responses(out)[0]
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["results"], [{"long": "x" * 3000}])

    def test_http10_streamed_result_closes(self):
        stmt = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 20000) "
                "SELECT x FROM c")
        body = urllib.parse.urlencode({"statement": stmt}).encode()
        req = (b"POST /query/service HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded"
               b"\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
        out = self.q.raw(req, timeout=30)
        head, _, payload = out.partition(b"\r\n\r\n")
        self.assertIn(b"HTTP/1.0 200", head)
        self.assertNotIn(b"chunked", head.lower())
        self.assertEqual(len(json.loads(payload)["results"]), 20000)


class Streaming(QgateTestCase):
    def test_million_rows(self):
        stmt = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000) "
                "SELECT x, x * 2 AS y, 'row' || x AS z FROM c")
        r = self.q.query(stmt, http_timeout=300)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get("transfer-encoding"), "chunked")
        doc = r.json()
        self.assertEqual(doc["status"], "success")
        rows = doc["results"]
        self.assertEqual(len(rows), 1000000)
        self.assertEqual(rows[0], {"x": 1, "y": 2, "z": "row1"})
        self.assertEqual(rows[-1], {"x": 1000000, "y": 2000000, "z": "row1000000"})
        self.assertEqual(doc["metrics"]["resultCount"], 1000000)

    def test_runtime_error_after_streaming_shows_in_envelope(self):
        stmt = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000) "
                "SELECT %s AS v FROM c" % fails_at_run_time("x", "x < 199999", "x"))
        r = self.q.query(stmt)
        self.assertEqual(r.status, 200)
        doc = r.json()
        self.assertEqual(doc["status"], "fatal")
        self.assertTrue(doc["errors"][0]["msg"].startswith("ASX0901"))
        self.assertGreater(len(doc["results"]), 1000)


class Cancellation(QgateTestCase):
    ARGS = ("--workers", "2")

    def _running(self):
        return self.q.request("GET", "/admin/requests/running").json()

    def _wait_running(self, ctx, present=True, timeout=10):
        """Waits until ctx is running on a worker (or, present=False, gone)."""
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            states = {e["clientContextID"]: e["state"] for e in self._running()}
            if present and states.get(ctx) == "running":
                return True
            if not present and ctx not in states:
                return True
            time.sleep(0.05)
        return False

    def test_free_worker_serves_while_another_is_busy(self):
        """Workers are woken per loop round, not per request: a request
        must still wake the sleeping worker while the other one is busy,
        rather than wait behind the running query."""
        hog = {}
        t = threading.Thread(target=lambda: hog.setdefault(
            "r", self.q.query(FOREVER, client_context_id="busy-hog")))
        t.start()
        self.assertTrue(self._wait_running("busy-hog"))
        for i in range(20):
            r = self.q.query("SELECT %d AS i" % i, timeout="5s")
            self.assertEqual((r.status, r.json()["status"]), (200, "success"))
            self.assertEqual(r.json()["results"], [{"i": i}])
        states = {e["clientContextID"]: e["state"] for e in self._running()}
        self.assertEqual(states.get("busy-hog"), "running")
        r = self.q.request("DELETE", "/admin/requests/running?client_context_id=busy-hog")
        self.assertEqual(r.status, 200)
        t.join(20 * SLOW)
        self.assertError(hog["r"], 500, "ASX0041")

    def test_cancel_by_client_context_id(self):
        out = {}
        t = threading.Thread(target=lambda: out.setdefault(
            "r", self.q.query(FOREVER, client_context_id="cancel-me")))
        t.start()
        self.assertTrue(self._wait_running("cancel-me"))
        listing = [e for e in self._running() if e["clientContextID"] == "cancel-me"][0]
        self.assertRegex(listing["uuid"], UUID4)
        self.assertEqual(listing["statement"], FOREVER)
        self.assertEqual(listing["state"], "running")
        r = self.q.request("DELETE", "/admin/requests/running?client_context_id=cancel-me")
        self.assertEqual((r.status, r.body), (200, b""))
        t.join(20 * SLOW)
        r = out["r"]
        doc = self.assertError(r, 500, "ASX0041")
        self.assertEqual(doc["errors"][0]["msg"],
                         "ASX0041: Request %s has been cancelled" % doc["requestID"])

    def test_cancel_by_request_id_form(self):
        out = {}
        t = threading.Thread(target=lambda: out.setdefault(
            "r", self.q.query(FOREVER, client_context_id="by-uuid")))
        t.start()
        self.assertTrue(self._wait_running("by-uuid"))
        uuid = [e["uuid"] for e in self._running() if e["clientContextID"] == "by-uuid"][0]
        r = self.q.request("DELETE", "/admin/requests/running", body="request_id=" + uuid,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200)
        t.join(20 * SLOW)
        self.assertEqual(out["r"].status, 500)

    def test_cancel_answers(self):
        self.assertEqual(self.q.request("DELETE", "/admin/requests/running").status, 400)
        self.assertEqual(self.q.request(
            "DELETE", "/admin/requests/running?client_context_id=nobody").status, 404)

    def test_client_disconnect_cancels(self):
        body = urllib.parse.urlencode({"statement": FOREVER, "client_context_id": "gone"}).encode()
        s = socket.create_connection(("127.0.0.1", self.q.port))
        s.sendall(b"POST /query/service HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body)
                  + body)
        self.assertTrue(self._wait_running("gone"))
        s.close()
        self.assertTrue(self._wait_running("gone", present=False))
        # both workers are free again
        self.assertEnvelopeOk(self.q.query("SELECT 1 AS a"), [{"a": 1}])
        self.assertEnvelopeOk(self.q.query("SELECT 2 AS a"), [{"a": 2}])


class BusyWorkers(QgateTestCase):
    """One worker, kept busy: queued requests still honour their timeout and
    a cancel at once."""
    ARGS = ("--workers", "1")

    def test_queued_timeout_and_cancel_answer_without_a_worker(self):
        hog = {}
        t = threading.Thread(target=lambda: hog.setdefault(
            "r", self.q.query(FOREVER, client_context_id="hog")))
        t.start()
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and not any(
                e["state"] == "running" for e in self.q.request(
                    "GET", "/admin/requests/running").json()):
            time.sleep(0.05)
        t0 = time.time()
        r = self.q.query("SELECT 1", timeout="500ms")
        self.assertLess(time.time() - t0, 3 * SLOW)
        doc = self.assertError(r, 200, "ASX0030", status="timeout")
        self.assertEqual(doc["metrics"]["resultCount"], 0)

        waiter = {}
        t2 = threading.Thread(target=lambda: waiter.setdefault(
            "r", self.q.query("SELECT 2", client_context_id="queued-one")))
        t2.start()
        time.sleep(0.3 * SLOW)
        states = {e["clientContextID"]: e["state"] for e in self.q.request(
            "GET", "/admin/requests/running").json()}
        self.assertEqual(states.get("queued-one"), "queued")
        r = self.q.request("DELETE", "/admin/requests/running?client_context_id=queued-one")
        self.assertEqual(r.status, 200)
        t2.join(5 * SLOW)
        self.assertError(waiter["r"], 500, "ASX0041")

        self.q.request("DELETE", "/admin/requests/running?client_context_id=hog")
        t.join(10 * SLOW)
        self.assertEqual(hog["r"].status, 500)
        self.assertEnvelopeOk(self.q.query("SELECT 3 AS a"), [{"a": 3}])


if __name__ == "__main__":
    main()
