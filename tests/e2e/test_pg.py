"""The PostgreSQL backend end to end: type mapping, parameters, statement
splitting, error mapping, read-only enforcement by the server, session reset
between requests, timeouts and cancellation on the server, reconnecting
after the server drops connections, start-up failures, and a million-row
result at flat memory. The shared protocol suite (test_immediate.py) runs
on PostgreSQL too; this file holds what only PostgreSQL has."""
# qgate-backends: pg

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

from harness import BIN, SANITIZE, SLOW, PgAdmin, Qgate, QgateTestCase, main


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Types(QgateTestCase):
    def one(self, stmt, **params):
        doc = self.assertEnvelopeOk(self.q.query(stmt, **params))
        self.assertEqual(len(doc["results"]), 1, doc)
        return doc["results"][0]

    def test_integers_exact(self):
        r = self.q.query("SELECT (-32768)::int2 AS a, 2147483647::int4 AS b, "
                         "9007199254740993::int8 AS c, (-9223372036854775808)::int8 AS d, "
                         "'pg_class'::regclass::oid AS e")
        self.assertEnvelopeOk(r)
        for text in (b'"a":-32768', b'"b":2147483647', b'"c":9007199254740993',
                     b'"d":-9223372036854775808', b'"e":1259'):
            self.assertIn(text, r.body)

    def test_numeric_exact_from_the_server_text(self):
        r = self.q.query("SELECT 12345678901234567890.000000000000000001::numeric AS a, "
                         "0.1::numeric + 0.2::numeric AS b, 1.50::numeric(5,2) AS c, "
                         "'NaN'::numeric AS d, 'Infinity'::numeric AS e, "
                         "'-Infinity'::numeric AS f")
        self.assertEnvelopeOk(r)
        self.assertIn(b'"a":12345678901234567890.000000000000000001', r.body)
        self.assertIn(b'"b":0.3,', r.body)
        self.assertIn(b'"c":1.50', r.body)
        self.assertIn(b'"d":"NaN","e":"Infinity","f":"-Infinity"', r.body)

    def test_floats(self):
        r = self.q.query("SELECT 0.1::float4 AS a, 0.1::float8 + 0.2::float8 AS b, "
                         "1e300::float8 AS c, 'NaN'::float8 AS d, 'Infinity'::float4 AS e, "
                         "'-Infinity'::float8 AS f, 3::float8 AS g")
        self.assertEnvelopeOk(r)
        self.assertIn(b'"a":0.1,', r.body)
        self.assertIn(b'"b":0.30000000000000004', r.body)
        self.assertIn(b'"c":1e+300', r.body)
        self.assertIn(b'"d":"NaN","e":"Infinity","f":"-Infinity","g":3.0', r.body)

    def test_bool_and_text_types(self):
        row = self.one("SELECT true AS t, false AS f, 'x'::text AS a, 'y'::varchar(5) AS b, "
                       "'z'::char(3) AS c, 'n'::name AS d, 'q'::\"char\" AS e, NULL::int AS n")
        self.assertEqual(row, {"t": True, "f": False, "a": "x", "b": "y", "c": "z  ", "d": "n",
                               "e": "q", "n": None})

    def test_json_embedded(self):
        row = self.one("SELECT '{\"a\": [1, 2.5, null], \"b\": \"\\u00e9\"}'::jsonb AS j, "
                       "'[1, {\"x\": true}]'::json AS k, 'null'::jsonb AS n, NULL::jsonb AS m")
        self.assertEqual(row, {"j": {"a": [1, 2.5, None], "b": "\u00e9"},
                               "k": [1, {"x": True}], "n": None, "m": None})

    def test_dates_and_times_iso8601(self):
        row = self.one("SELECT '2025-01-02'::date AS d, '2025-01-02 03:04:05.25'::timestamp AS ts, "
                       "'2025-01-02 03:04:05+00'::timestamptz AS tz, '03:04:05'::time AS t, "
                       "'03:04:05+02'::timetz AS ttz, 'infinity'::timestamp AS inf")
        self.assertEqual(row, {"d": "2025-01-02", "ts": "2025-01-02T03:04:05.25",
                               "tz": "2025-01-02T03:04:05+00:00", "t": "03:04:05",
                               "ttz": "03:04:05+02:00", "inf": "infinity"})

    def test_timestamptz_in_the_session_time_zone(self):
        doc = self.assertEnvelopeOk(self.q.query(
            "SET TimeZone = 'Asia/Kolkata'; "
            "SELECT '2025-01-02 00:00:00+00'::timestamptz AS tz"))
        self.assertEqual(doc["results"], [{"tz": "2025-01-02T05:30:00+05:30"}])

    def test_bytea_base64(self):
        row = self.one("SELECT '\\x00ff10'::bytea AS b, ''::bytea AS e, "
                       "convert_to('h\u00e9', 'UTF8') AS u")
        self.assertEqual(row, {"b": "AP8Q", "e": "", "u": "aMOp"})

    def test_arrays(self):
        row = self.one(
            "SELECT ARRAY[1, NULL, 3] AS i, ARRAY[['a b', 'c\"d'], ['e\\f', NULL]] AS t, "
            "ARRAY[0.1::float8, 'NaN'] AS f, ARRAY[1.50::numeric, 'NaN'] AS n, "
            "ARRAY[true, false] AS b, ARRAY['2025-01-02 03:04:05+00'::timestamptz] AS ts, "
            "ARRAY['\\x00ff10'::bytea] AS by, ARRAY['{\"a\": 1}'::jsonb, '[2]'] AS j, "
            "'[0:1]={7,8}'::int[] AS lb, '{}'::int[] AS e, ARRAY['NULL', ''] AS q, "
            "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid] AS u")
        self.assertEqual(row, {
            "i": [1, None, 3], "t": [["a b", "c\"d"], ["e\\f", None]], "f": [0.1, "NaN"],
            "n": [1.5, "NaN"], "b": [True, False], "ts": ["2025-01-02T03:04:05+00:00"],
            "by": ["AP8Q"], "j": [{"a": 1}, [2]], "lb": [7, 8], "e": [], "q": ["NULL", ""],
            "u": ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]})

    def test_other_types_as_text(self):
        self.assertEnvelopeOk(self.q.query("CREATE TYPE mood AS ENUM ('ok', 'meh')"))
        row = self.one("SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, "
                       "'192.168.0.1/24'::inet AS i, '1 day 02:00:00'::interval AS v, "
                       "'meh'::mood AS m, '(1,2)'::point AS p, B'101' AS bits")
        self.assertEqual(row, {"u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                               "i": "192.168.0.1/24", "v": "1 day 02:00:00", "m": "meh",
                               "p": "(1,2)", "bits": "101"})

    def test_domain_renders_as_its_base_type(self):
        self.assertEnvelopeOk(self.q.query("CREATE DOMAIN posint AS int CHECK (VALUE > 0)"))
        self.assertEqual(self.one("SELECT 5::posint AS d"), {"d": 5})

    def test_csv(self):
        doc = self.assertEnvelopeOk(self.q.query(
            "SELECT 1::int8 AS i, 1.50::numeric AS n, true AS b, ARRAY[1,2] AS a, "
            "'2025-01-02 03:04:05+00'::timestamptz AS t, NULL AS z", format="csv"))
        self.assertEqual(doc["results"], ['1,1.50,true,"[1,2]",2025-01-02T03:04:05+00:00,\r\n'])


class Parameters(QgateTestCase):
    def test_bigint_and_numeric_keep_their_digits(self):
        r = self.q.query("SELECT $1::bigint AS a, $2::numeric AS b, $3::numeric AS c",
                         args="[9007199254740993, 12345678901234567890.12345, 0.1]")
        self.assertEnvelopeOk(r)
        self.assertIn(b'"a":9007199254740993', r.body)
        self.assertIn(b'"b":12345678901234567890.12345', r.body)
        self.assertIn(b'"c":0.1}', r.body)

    def test_null_bool_json(self):
        r = self.q.query_json({"statement": "SELECT $1::int IS NULL AS n, $2::bool AS b, "
                                            "$3::jsonb AS j, $4::boolean AS f",
                               "args": [None, True, {"a": [1, 2]}, False]})
        self.assertEnvelopeOk(r, [{"n": True, "b": True, "j": {"a": [1, 2]}, "f": False}])

    def test_question_marks_and_the_operator(self):
        r = self.q.query("SELECT '{\"a\": 1}'::jsonb ?? 'a' AS has, ?::int AS v, "
                         "'{\"a\": 1}'::jsonb ??| ARRAY[?] AS any", args='[5, "a"]')
        self.assertEnvelopeOk(r, [{"has": True, "v": 5, "any": True}])

    def test_missing_question_mark_value_explains_the_operator(self):
        r = self.q.query("SELECT '{\"a\": 1}'::jsonb ? 'a'")
        doc = self.assertError(r, 400, "ASX1086")
        self.assertIn("??", doc["errors"][0]["msg"])

    def test_named_repeated_and_mixed(self):
        r = self.q.query_json({"statement": "SELECT $x::int + $x::int AS two_x, $1::text AS one, "
                                            "?::text AS q",
                               "args": ["first"], "$x": 21})
        self.assertEnvelopeOk(r, [{"two_x": 42, "one": "first", "q": "first"}])

    def test_gap_in_numbers(self):
        self.assertEnvelopeOk(self.q.query("SELECT $2::int AS b", args="[1, 2]"), [{"b": 2}])

    def test_values_are_never_spliced(self):
        evil = "x'); DELETE FROM customers; --"
        r = self.q.query("SELECT $1::text AS v, count(*) AS n FROM customers WHERE name = ?",
                         args=json.dumps([evil]))
        self.assertEnvelopeOk(r, [{"v": evil, "n": 0}])
        self.assertEnvelopeOk(self.q.query("SELECT count(*) AS n FROM customers"), [{"n": 20}])
        # and they are not in the statement the server saw
        rows = self.pgadmin.sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                                "'%DELETE FROM customers%' AND pid <> pg_backend_pid()",
                                db=self.pg_db)
        self.assertEqual(rows, [("0",)])

    def test_text_with_nul_is_refused(self):
        r = self.q.query_json({"statement": "SELECT $1::text AS v", "args": ["a\u0000b"]})
        self.assertError(r, 400, "ASX0047")


class Splitting(QgateTestCase):
    def test_quotes_comments_and_dollar_quotes(self):
        doc = self.assertEnvelopeOk(self.q.query(
            "SELECT 'a;b' AS s, E'c\\';d' AS e /* ; /* nested ; */ ; */; -- ;\n"
            "SELECT \"x;y\".v FROM (SELECT 1 AS v) AS \"x;y\";"
            "SELECT $tag$ ; $$ ; $tag$ AS d"))
        self.assertEqual(doc["results"], [{"s": "a;b", "e": "c';d"}])
        self.assertEqual(doc["results-0"], [{"v": 1}])
        self.assertEqual(doc["results-1"], [{"d": " ; $$ ; "}])

    def test_function_bodies(self):
        doc = self.assertEnvelopeOk(self.q.query(
            "CREATE FUNCTION add1(i int) RETURNS int AS $$ SELECT i + 1; $$ LANGUAGE sql; "
            "CREATE FUNCTION two() RETURNS int LANGUAGE sql BEGIN ATOMIC "
            "SELECT CASE WHEN true THEN 1 ELSE 0 END; SELECT 2; END; "
            "SELECT add1(41) AS a, two() AS b"))
        self.assertEqual(doc["results"], [{"a": 42, "b": 2}])

    def test_multi_statement_false_with_nested_comment_tail(self):
        self.assertEnvelopeOk(self.q.query("SELECT 1 AS a; /* /* */ */ ;",
                                           multi_dash_statement="false"), [{"a": 1}])

    def test_one_statement_at_a_time_on_the_server(self):
        # a splitter mistake could never smuggle a second command: each piece
        # is one extended-protocol statement, which refuses two
        r = self.q.query("SELECT 1 AS a; SELECT 2 AS b")
        doc = self.assertEnvelopeOk(r)
        self.assertEqual((doc["results"], doc["results-0"]), ([{"a": 1}], [{"b": 2}]))


class Errors(QgateTestCase):
    def msg(self, doc):
        return doc["errors"][0]["msg"]

    def test_syntax(self):
        doc = self.assertError(self.q.query("SELECT FROM WHERE"), 400, "ASX1001")
        self.assertIn("syntax error at or near", self.msg(doc))

    def test_undefined_objects(self):
        for stmt, text in [("SELECT nosuch FROM customers", 'column "nosuch" does not exist'),
                           ("SELECT nosuch_fn(1)", "function nosuch_fn(integer) does not exist"),
                           ("SELECT * FROM nosuch", 'relation "nosuch" does not exist')]:
            doc = self.assertError(self.q.query(stmt), 400, "ASX1077")
            self.assertIn(text, self.msg(doc))

    def test_other_compile_errors(self):
        doc = self.assertError(self.q.query("CREATE TABLE customers(a int)"), 400, "ASX1079")
        self.assertIn('relation "customers" already exists', self.msg(doc))

    def test_runtime_error_keeps_the_detail(self):
        doc = self.assertError(self.q.query(
            "INSERT INTO products VALUES (1, 'dup', 'x', 1.0)"), 500, "ASX0901")
        self.assertIn("duplicate key value violates unique constraint", self.msg(doc))
        self.assertIn("Key (id)=(1) already exists.", self.msg(doc))

    def test_someone_elses_cancel_is_a_failure(self):
        # statement_timeout of the session, not qgate's timeout: 57014 that
        # qgate did not cause is an ordinary runtime error
        doc = self.assertError(self.q.query(
            "SET statement_timeout = '100ms'; SELECT pg_sleep(5)"), 500, "ASX0901")
        self.assertIn("canceling statement due to statement timeout", self.msg(doc))

    def test_copy_is_refused(self):
        self.assertError(self.q.query("COPY customers TO STDOUT"), 501, "ASX0915")
        self.assertError(self.q.query("COPY products FROM STDIN"), 501, "ASX0915")
        self.assertEnvelopeOk(self.q.query("SELECT count(*) AS n FROM products"), [{"n": 12}])


class ReadOnly(QgateTestCase):
    ARGS = ("--workers", "1")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.q.query("CREATE TABLE ro_log(a int); CREATE SEQUENCE ro_seq; "
                        "CREATE FUNCTION ro_write() RETURNS int VOLATILE LANGUAGE sql AS "
                        "$$ INSERT INTO ro_log VALUES (1); SELECT 1 $$")
        assert r.status == 200, r

    def count(self):
        return self.pgadmin.sql("SELECT count(*) FROM ro_log", db=self.pg_db)[0][0]

    def test_a_write_inside_a_function_is_refused_by_the_server(self):
        for method in ("POST", "GET"):
            r = self.q.query("SELECT ro_write() AS w", method=method, readonly="true")
            self.assertError(r, 400, "ASX0044")
            self.assertIn("ASX0044: INSERT statement is not supported in read-only mode",
                          r.body.decode())
        self.assertEqual(self.count(), "0")
        # without readonly the function writes: the refusal above was readonly's
        self.assertEnvelopeOk(self.q.query("SELECT ro_write() AS w"), [{"w": 1}])
        self.assertEqual(self.count(), "1")
        self.assertEnvelopeOk(self.q.query("DELETE FROM ro_log"))

    def test_nextval_is_refused(self):
        r = self.q.query("SELECT nextval('ro_seq')", readonly="true")
        self.assertError(r, 400, "ASX0044")
        self.assertIn("nextval()", r.body.decode())
        rows = self.pgadmin.sql("SELECT is_called FROM ro_seq", db=self.pg_db)
        self.assertEqual(rows, [("f",)])

    def test_queries_run_and_the_transaction_ends(self):
        doc = self.assertEnvelopeOk(self.q.query(
            "SELECT count(*) AS n FROM customers; SHOW TimeZone; "
            "EXPLAIN SELECT 1; VALUES (1)", readonly="true"))
        self.assertEqual(doc["results"], [{"n": 20}])
        # the one worker is out of its READ ONLY transaction again
        self.assertEnvelopeOk(self.q.query("INSERT INTO ro_log VALUES (7); DELETE FROM ro_log"))


class Session(QgateTestCase):
    ARGS = ("--workers", "1")

    def test_settings_do_not_leak_between_requests(self):
        self.assertEnvelopeOk(self.q.query("SET application_name = 'leaky'; "
                                           "SET TimeZone = 'Asia/Tokyo'"))
        doc = self.assertEnvelopeOk(self.q.query("SHOW application_name; SHOW TimeZone"))
        self.assertEqual(doc["results"], [{"application_name": "qgate"}])
        self.assertEqual(doc["results-0"], [{"TimeZone": "UTC"}])

    def test_an_open_transaction_is_rolled_back(self):
        self.assertEnvelopeOk(self.q.query("CREATE TABLE tx_t(a int)"))
        self.assertEnvelopeOk(self.q.query("BEGIN; INSERT INTO tx_t VALUES (1)"))
        self.assertEnvelopeOk(self.q.query("SELECT count(*) AS n FROM tx_t"), [{"n": 0}])
        self.assertEnvelopeOk(self.q.query("BEGIN; INSERT INTO tx_t VALUES (2); COMMIT"))
        self.assertEnvelopeOk(self.q.query("SELECT count(*) AS n FROM tx_t"), [{"n": 1}])
        # a failed statement inside a transaction leaves nothing behind either
        self.assertError(self.q.query("BEGIN; INSERT INTO tx_t VALUES (3); SELECT 1/0"),
                         500, "ASX0901")
        self.assertEnvelopeOk(self.q.query("SELECT count(*) AS n FROM tx_t"), [{"n": 1}])

    def test_session_functions_in_a_query_do_not_leak(self):
        self.assertEnvelopeOk(self.q.query(
            "SELECT set_config('application_name', 'leaky-too', false) AS v"))
        doc = self.assertEnvelopeOk(self.q.query("SHOW application_name"))
        self.assertEqual(doc["results"], [{"application_name": "qgate"}])
        self.assertEnvelopeOk(self.q.query("SELECT pg_advisory_lock(43)"))
        rows = self.pgadmin.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        self.assertEqual(rows, [("0",)])
        # a timeout's statement_timeout is the request's alone
        self.assertEnvelopeOk(self.q.query("SELECT 1 AS a", timeout="5s"))
        doc = self.assertEnvelopeOk(self.q.query("SHOW statement_timeout"))
        self.assertEqual(doc["results"], [{"statement_timeout": "0"}])

    def test_temp_tables_and_locks_are_per_request(self):
        self.assertEnvelopeOk(self.q.query("CREATE TEMP TABLE tmp_x(a int); "
                                           "SELECT pg_advisory_lock(42)"))
        self.assertError(self.q.query("SELECT * FROM tmp_x"), 400, "ASX1077")
        rows = self.pgadmin.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        self.assertEqual(rows, [("0",)])


def active(pgadmin, db, pattern):
    """Statements matching pattern running on the server for db."""
    return pgadmin.sql("SELECT pid FROM pg_stat_activity WHERE datname = '%s' AND "
                       "state = 'active' AND query LIKE '%s' AND pid <> pg_backend_pid()"
                       % (db, pattern))


class Cancellation(QgateTestCase):
    ARGS = ("--workers", "2")

    def wait_until(self, cond, timeout=10):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            if cond():
                return True
            time.sleep(0.05)
        return False

    def sleeping(self, seconds):
        return active(self.pgadmin, self.pg_db, "%%pg_sleep(%d)%%" % seconds)

    def test_timeout_leaves_nothing_running(self):
        t0 = time.time()
        r = self.q.query("SELECT pg_sleep(61)", timeout="300ms")
        self.assertError(r, 200, "ASX0030", status="timeout")
        self.assertLess(time.time() - t0, 5 * SLOW)
        self.assertTrue(self.wait_until(lambda: not self.sleeping(61), 3),
                        self.sleeping(61))

    def test_readonly_timeout_leaves_nothing_running(self):
        # read-only statements go in a pipeline with their BEGIN READ ONLY
        r = self.q.query("SELECT 1 AS a; SELECT pg_sleep(65)", timeout="300ms", readonly="true")
        doc = self.assertError(r, 200, "ASX0030", status="timeout")
        self.assertEqual(doc["results"], [{"a": 1}])
        self.assertTrue(self.wait_until(lambda: not self.sleeping(65), 3), self.sleeping(65))
        for ro in ("true", "false", "true"):
            self.assertEnvelopeOk(self.q.query("SELECT 2 AS b", readonly=ro), [{"b": 2}])

    def test_cpu_bound_timeout(self):
        stmt = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
                "SELECT count(*) AS n FROM c")
        r = self.q.query(stmt, timeout="400ms")
        self.assertError(r, 200, "ASX0030", status="timeout")
        self.assertTrue(self.wait_until(
            lambda: not active(self.pgadmin, self.pg_db, "%RECURSIVE c(x)%"), 3))

    def test_admin_cancel_stops_the_server_query(self):
        out = {}
        t = threading.Thread(target=lambda: out.setdefault(
            "r", self.q.query("SELECT pg_sleep(62)", client_context_id="pg-cancel")))
        t.start()
        self.assertTrue(self.wait_until(lambda: self.sleeping(62)))
        r = self.q.request("DELETE", "/admin/requests/running?client_context_id=pg-cancel")
        self.assertEqual(r.status, 200)
        t.join(20 * SLOW)
        self.assertError(out["r"], 500, "ASX0041")
        self.assertTrue(self.wait_until(lambda: not self.sleeping(62), 3))

    def test_client_disconnect_stops_the_server_query(self):
        body = urllib.parse.urlencode({"statement": "SELECT pg_sleep(63)"}).encode()
        s = socket.create_connection(("127.0.0.1", self.q.port))
        s.sendall(b"POST /query/service HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body)
                  + body)
        self.assertTrue(self.wait_until(lambda: self.sleeping(63)))
        s.close()
        self.assertTrue(self.wait_until(lambda: not self.sleeping(63), 5))
        for i in range(4):
            self.assertEnvelopeOk(self.q.query("SELECT %d AS i" % i), [{"i": i}])


class Reconnect(QgateTestCase):
    ARGS = ("--workers", "2")

    def backends(self):
        return self.pgadmin.sql("SELECT pid FROM pg_stat_activity WHERE datname = '%s' AND "
                                "application_name = 'qgate'" % self.pg_db)

    def terminate_all(self):
        rows = self.pgadmin.sql("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                                "WHERE datname = '%s' AND application_name = 'qgate'"
                                % self.pg_db)
        return len(rows)

    def concurrently(self, n, stmt):
        out = [None] * n

        def go(i):
            out[i] = self.q.query(stmt % i)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30 * SLOW)
        return out

    def test_terminated_connections_are_replaced(self):
        # (a connection is re-opened when its worker next needs it: use both)
        for r in self.concurrently(2, "SELECT %d AS i, pg_sleep(0.3)"):
            self.assertEqual(r.status, 200, r)
        self.assertEqual(len(self.backends()), 2)
        self.assertEqual(self.terminate_all(), 2)
        self.assertEqual(self.backends(), [])
        # both workers meet their dead connection and replace it
        for r in self.concurrently(6, "SELECT %d AS i, pg_sleep(0.2)"):
            self.assertEqual(r.status, 200, r)
        for i in range(4):
            self.assertEnvelopeOk(self.q.query("SELECT %d AS i" % i), [{"i": i}])
        self.assertEqual(len(self.backends()), 2)
        self.assertIn("closed by the server; reconnecting", self.q.log())

    def test_a_statement_that_was_running_is_not_repeated(self):
        self.assertEnvelopeOk(self.q.query("CREATE TABLE once(a int)"))
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", self.q.query(
            "INSERT INTO once SELECT 1 FROM pg_sleep(30)")))
        t.start()
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and not active(self.pgadmin, self.pg_db, "%pg_sleep(30)%"):
            time.sleep(0.05)
        self.terminate_all()
        t.join(20 * SLOW)
        doc = self.assertError(out["r"], 500, "ASX0901")
        self.assertIn("connection to the database was lost", doc["errors"][0]["msg"])
        self.assertEnvelopeOk(self.q.query("SELECT count(*) AS n FROM once"), [{"n": 0}])


class Drain(QgateTestCase):
    ARGS = ("--drain-timeout", "300ms")

    def test_sigterm_cancels_the_server_query(self):
        out = {}
        t = threading.Thread(target=lambda: out.setdefault(
            "r", self.q.query("SELECT pg_sleep(64)")))
        t.start()
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and not active(self.pgadmin, self.pg_db, "%pg_sleep(64)%"):
            time.sleep(0.05)
        t0 = time.time()
        self.assertEqual(self.q.stop(), 0, self.q.log()[-3000:])
        self.assertLess(time.time() - t0, 5 * SLOW)
        t.join(10 * SLOW)
        self.assertError(out["r"], 500, "ASX0041")
        self.assertEqual(active(self.pgadmin, self.pg_db, "%pg_sleep(64)%"), [])
        self.q.start()  # for the class's own checks


class Relay:
    """A TCP relay from a loopback port to the test cluster that a test can
    cut, to play a database that goes away and comes back: cut() closes
    every relayed connection and hangs up on new ones until resume()."""

    def __init__(self, target_port):
        self.target = target_port
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.open = True
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                down, _ = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                if not self.open:
                    down.close()
                    continue
            try:
                up = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                down.close()
                continue
            with self.lock:
                self.socks += [down, up]
            threading.Thread(target=self._pump, args=(down, up), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, down), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            self.open = False
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def resume(self):
        with self.lock:
            self.open = True

    def close(self):
        self.cut()
        self.lsock.close()


class Outage(QgateTestCase):
    ARGS = ("--workers", "1")

    @classmethod
    def setUpClass(cls):
        cls.pgadmin = PgAdmin()
        cls.pg_db = cls.pgadmin.create_db()
        cls.relay = Relay(cls.pgadmin.port)
        cls.BACKEND = "postgresql://qgate@127.0.0.1:%d/%s" % (cls.relay.port, cls.pg_db)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.relay.close()

    def test_database_away_and_back(self):
        self.assertEnvelopeOk(self.q.query("SELECT 1 AS a"), [{"a": 1}])
        self.relay.cut()
        for _ in range(2):
            doc = self.assertError(self.q.query("SELECT 2 AS a"), 503, "ASX0912")
            self.assertIn("cannot connect to PostgreSQL server 127.0.0.1:%d" % self.relay.port,
                          doc["errors"][0]["msg"])
        self.relay.resume()
        self.assertEnvelopeOk(self.q.query("SELECT 3 AS a"), [{"a": 3}])
        self.assertEnvelopeOk(self.q.query("SELECT 4 AS a"), [{"a": 4}])

    def test_connection_lost_while_running(self):
        out = {}
        t = threading.Thread(target=lambda: out.setdefault(
            "r", self.q.query("SELECT pg_sleep(5)")))
        t.start()
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and not active(self.pgadmin, self.pg_db, "%pg_sleep(5)%"):
            time.sleep(0.05)
        self.relay.cut()
        self.relay.resume()
        t.join(30 * SLOW)
        doc = self.assertError(out["r"], 500, "ASX0901")
        self.assertIn("connection to the database was lost", doc["errors"][0]["msg"])
        self.assertEnvelopeOk(self.q.query("SELECT 5 AS a"), [{"a": 5}])


class Startup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pgadmin = PgAdmin()
        cls.db = cls.pgadmin.create_db()

    @classmethod
    def tearDownClass(cls):
        cls.pgadmin.drop_db(cls.db)

    def fails_to_start(self, backend):
        """Runs the daemon, which must exit non-zero; returns its stderr."""
        data = tempfile.mkdtemp(prefix="qgate-test-")
        try:
            p = subprocess.run([BIN, "--listen", "127.0.0.1:0", "--data", data, "--backend",
                                backend], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=30 * SLOW)
        finally:
            shutil.rmtree(data, ignore_errors=True)
        self.assertNotEqual(p.returncode, 0)
        return p.stderr.decode()

    def run_daemon(self, backend):
        q = Qgate(backend=backend)
        try:
            q.start()
            r = q.query("SELECT current_database() AS db")
            rc = q.stop()
            self.assertEqual(rc, 0, q.log())
            self.assertEqual(q.sanitizer_reports(), [])
            return r, q.log()
        finally:
            q.cleanup()

    def test_unreachable_server_fails_start_with_reason(self):
        port = free_port()
        err = self.fails_to_start("postgresql://qgate@127.0.0.1:%d/x" % port)
        self.assertIn("cannot connect to PostgreSQL server 127.0.0.1:%d" % port, err)
        self.assertIn("Connection refused", err)

    def test_unknown_database_fails_start_with_reason(self):
        err = self.fails_to_start(self.pgadmin.uri("no_such_db"))
        self.assertIn('database "no_such_db" does not exist', err)

    def test_invalid_string_fails_start_without_the_password(self):
        err = self.fails_to_start("postgresql://qgate:sekrit@[::1")
        self.assertIn("invalid connection string", err)
        self.assertIn("qgate:***@", err)
        self.assertNotIn("sekrit", err)

    def test_keyword_string(self):
        r, _ = self.run_daemon("host=127.0.0.1 port=%d dbname=%s user=qgate"
                               % (self.pgadmin.port, self.db))
        self.assertEqual(r.json()["results"], [{"db": self.db}])

    def test_password_is_not_logged(self):
        r, log = self.run_daemon("postgresql://qgate:sekrit@127.0.0.1:%d/%s"
                                 % (self.pgadmin.port, self.db))
        self.assertEqual(r.status, 200)
        self.assertNotIn("sekrit", log)
        self.assertIn("qgate:***@127.0.0.1", log)


class Streaming(QgateTestCase):
    # The quarantine keeps freed blocks around under ASan; a small one keeps
    # the peak about the program rather than the tool.
    ENV = {"ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:quarantine_size_mb=16"}

    def test_million_rows_flat_memory(self):
        stmt = ("SELECT g AS x, g * 2 AS y, 'row' || g AS z FROM generate_series(1, 1000000) g")
        t0 = time.time()
        r = self.q.query(stmt, http_timeout=300)
        took = time.time() - t0
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get("transfer-encoding"), "chunked")
        doc = r.json()
        self.assertEqual(doc["status"], "success")
        rows = doc["results"]
        self.assertEqual(len(rows), 1000000)
        self.assertEqual(rows[0], {"x": 1, "y": 2, "z": "row1"})
        self.assertEqual(rows[-1], {"x": 1000000, "y": 2000000, "z": "row1000000"})
        hwm = self.q.vm_hwm_kib()
        # (ThreadSanitizer's shadow memory alone is bigger than that)
        if SANITIZE != "thread":
            self.assertLess(hwm, 64 * 1024, "VmHWM %d KiB" % hwm)
        print("\n1M rows: %.2fs, %d bytes, VmHWM %.1f MiB" % (took, len(r.body), hwm / 1024.0),
              file=sys.stderr)


if __name__ == "__main__":
    main()
