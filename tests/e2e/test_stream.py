"""mode=stream end to end: typed messages (METADATA, RECORD, STATS, HEARTBEAT,
ERROR, END) as NDJSON and as Server-Sent Events, read message by message as
they arrive; status before and after the stream began; timers; cancel,
timeout and disconnect; memory under a slow reader; through nginx with the
shipped config.

Runs on SQLite and on PostgreSQL (see harness.py); slow statements differ:
SQLite has no sleep, so there a recursive CTE computes for a while."""
# qgate-backends: sqlite pg

import http.client
import json
import re
import socket
import threading
import time
import unittest
import urllib.parse

from harness import ON_PG, SANITIZE, SLOW, QgateTestCase, main, parse_responses
from nginx import Nginx

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# n rows, x = 1..n, three columns
def rows_sql(n):
    return ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) "
            "SELECT x, x * 2 AS y, 'row' || x AS z FROM c" % n)


# rows without end, as fast as the engine makes them (pipelined on both)
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c"
# one row {"n": 3000000} after a second or so
if ON_PG:
    SLOW_ONE = "SELECT 3000000 AS n FROM pg_sleep(1)"
    # 30 rows spread over ~1.2 s
    SLOW_ROWS = "SELECT x, pg_sleep(0.04) AS s FROM generate_series(1, 30) AS g(x)"
    # runs until stopped, no rows
    FOREVER = "SELECT 1 AS n FROM pg_sleep(3600)"
else:
    SLOW_ONE = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 3000000) "
                "SELECT count(*) AS n FROM c")
    SLOW_ROWS = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 3000000) "
                 "SELECT x FROM c WHERE x % 100000 = 0")
    FOREVER = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
               "SELECT count(*) AS n FROM c")
# runs until stopped and has no result set (so no METADATA) on both
QUIET_FOREVER = "CREATE TEMP TABLE st_never AS " + FOREVER


def fails_after(n):
    """A stream of rows x = 1.. that fails at run time at row n: PostgreSQL
    divides by zero, SQLite (which divides by zero to NULL) overflows."""
    boom = "x/0" if ON_PG else "abs(-9223372036854775808)"
    return ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) "
            "SELECT CASE WHEN x < %d THEN x ELSE %s END AS v FROM c" % (n + 10, n, boom))


UNITS = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}


def seconds(text):
    m = re.match(r"^(\d+(?:\.\d+)?)(s|ms|µs|ns)$", text)
    assert m, text
    return float(m.group(1)) * UNITS[m.group(2)]


class StreamReader:
    """One mode=stream request, read message by message as it arrives."""

    def __init__(self, port, fields, sse=False, headers=None, method="POST", http_timeout=60):
        self.t0 = time.time()
        self.sse = sse
        self.arrivals = []  # seconds since the request, per message
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=http_timeout * SLOW)
        f = {"mode": "stream"}
        f.update(fields)
        h = {"Accept": "text/event-stream"} if sse else {}
        h.update(headers or {})
        enc = urllib.parse.urlencode(f)
        if method == "GET":
            self.conn.request("GET", "/query/service?" + enc, headers=h)
        else:
            h["Content-Type"] = "application/x-www-form-urlencoded"
            self.conn.request("POST", "/query/service", body=enc, headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}

    def next(self):
        """The next message (a dict), or None once the stream has ended."""
        if not self.sse:
            line = self.resp.readline()
            if not line:
                return None
            if not line.endswith(b"\n") or line.count(b"\n") != 1:
                raise AssertionError("not one NDJSON line: %r" % line[:200])
            msg = json.loads(line)
        else:
            event = data = None
            while True:
                line = self.resp.readline()
                if not line:
                    if event is not None or data is not None:
                        raise AssertionError("stream ended inside an event")
                    return None
                if not line.endswith(b"\n"):
                    raise AssertionError("unterminated SSE line %r" % line[:200])
                line = line[:-1]
                if line.startswith(b"event: ") and event is None and data is None:
                    event = line[7:].decode()
                elif line.startswith(b"data: ") and event is not None and data is None:
                    data = json.loads(line[6:])
                elif line == b"" and data is not None:
                    break
                else:
                    raise AssertionError("unexpected SSE line %r" % line[:200])
            if data["type"] != event:
                raise AssertionError("event %s carries a %s" % (event, data["type"]))
            msg = data
        if list(msg)[0] != "type":
            raise AssertionError("type is not the first member: %r" % msg)
        self.arrivals.append(time.time() - self.t0)
        return msg

    def until(self, mtype):
        """Reads up to and including the next message of mtype; returns all read."""
        got = []
        while True:
            m = self.next()
            if m is None:
                raise AssertionError("no %s in %r" % (mtype, got[-5:]))
            got.append(m)
            if m["type"] == mtype:
                return got

    def rest(self):
        """Every message left; the connection is closed at the end."""
        msgs = []
        while True:
            m = self.next()
            if m is None:
                self.close()
                return msgs
            msgs.append(m)

    def close(self):
        self.conn.close()


def check_grammar(test, msgs):
    """Checks the rules every stream follows and returns a summary:
    METADATA sets numbered 0, 1, ... and each RECORD in the current set; a
    STATS counts exactly the RECORDs before it; END last, once; ERROR, at
    most once, right before END."""
    sets = []
    records = []  # (set, data)
    stats = []
    beats = []
    error = None
    test.assertTrue(msgs, "empty stream")
    test.assertEqual(msgs[-1]["type"], "END", msgs[-3:])
    for i, m in enumerate(msgs):
        t = m["type"]
        if t == "METADATA":
            test.assertEqual(m["set"], len(sets), m)
            test.assertEqual(list(m["data"])[-1], "columns")
            sets.append(m["data"])
        elif t == "RECORD":
            test.assertTrue(sets, "RECORD before METADATA")
            test.assertEqual(m["set"], len(sets) - 1, m)
            test.assertEqual(list(m["data"]), [c["name"] for c in sets[-1]["columns"]], m)
            records.append((m["set"], m["data"]))
        elif t == "STATS":
            test.assertEqual(m["data"]["resultCount"], len(records), m)
            stats.append(m["data"])
        elif t == "HEARTBEAT":
            beats.append(m["data"])
        elif t == "ERROR":
            test.assertEqual(i, len(msgs) - 2, "ERROR not right before END")
            error = m["data"]
            test.assertTrue(error["msg"].startswith(error["code"] + ": "), error)
        elif t == "END":
            test.assertEqual(i, len(msgs) - 1, "END before the last message")
        else:
            test.fail("unknown message type %r" % t)
    end = msgs[-1]["data"]
    test.assertRegex(end["requestID"], UUID4)
    for meta in sets:
        test.assertEqual(meta["requestID"], end["requestID"])
    test.assertEqual(end["metrics"]["resultCount"], len(records))
    if error is None:
        test.assertEqual(end["status"], "success")
        test.assertNotIn("errorCount", end["metrics"])
    else:
        test.assertIn(end["status"], ("fatal", "timeout"))
        test.assertEqual(end["metrics"]["errorCount"], 1)
    return {"sets": sets, "records": records, "stats": stats, "beats": beats, "error": error,
            "end": end}


def raw_stream_request(port, fields, rcvbuf=None):
    """A stream request on a raw socket (Connection: close): for clients that
    do not read."""
    body = urllib.parse.urlencode(dict(fields, mode="stream")).encode()
    s = socket.socket()
    if rcvbuf:
        # before connect: a window shrunk after the handshake can stall TCP
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(60 * SLOW)
    s.connect(("127.0.0.1", port))
    s.sendall(b"POST /query/service HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
              b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    return s


def read_to_close(s):
    out = b""
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            return out
        out += chunk


def ndjson(body):
    assert body.endswith(b"\n"), body[-100:]
    return [json.loads(l) for l in body.split(b"\n")[:-1]]


class StreamTestCase(QgateTestCase):
    def stream(self, statement, port=None, **kw):
        fields = {"statement": statement}
        for k in list(kw):
            if k not in ("sse", "headers", "method", "http_timeout"):
                fields[k.replace("_dash_", "-")] = kw.pop(k)
        return StreamReader(port or self.q.port, fields, **kw)

    def running(self):
        return {e["clientContextID"]: e for e in
                self.q.request("GET", "/admin/requests/running").json()}

    def wait_running(self, ctx, state="running", timeout=10):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            e = self.running().get(ctx)
            if e and e["state"] == state:
                return e
            time.sleep(0.02)
        self.fail("%s never %s: %r" % (ctx, state, self.running()))

    def wait_gone(self, ctx, timeout=10):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            if ctx not in self.running():
                return
            time.sleep(0.02)
        self.fail("%s still running: %r" % (ctx, self.running()))


class Messages(StreamTestCase):
    def test_hundred_thousand_rows_message_by_message(self):
        n = 100000
        t0 = time.time()
        r = self.stream(rows_sql(n), client_context_id="big")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], "application/x-ndjson")
        self.assertEqual(r.headers["x-accel-buffering"], "no")
        self.assertEqual(r.headers["cache-control"], "no-cache")
        self.assertEqual(r.headers["transfer-encoding"], "chunked")
        first = r.next()
        self.assertEqual(first["type"], "METADATA")
        self.assertEqual([c["name"] for c in first["data"]["columns"]], ["x", "y", "z"])
        self.assertEqual(first["data"]["clientContextID"], "big")
        msgs = [first] + r.rest()
        took = time.time() - t0
        r.close()
        got = check_grammar(self, msgs)
        self.assertIsNone(got["error"])
        self.assertEqual(len(got["records"]), n)
        for i, (s, row) in enumerate(got["records"]):
            x = i + 1
            if row != {"x": x, "y": 2 * x, "z": "row%d" % x}:
                self.fail("record %d is %r" % (i, row))
        end = got["end"]
        self.assertEqual(end["clientContextID"], "big")
        self.assertEqual(end["metrics"]["resultCount"], n)
        self.assertEqual(end["metrics"]["processedObjects"], n)
        # resultSize counts the row objects as the RECORDs carry them
        size = sum(len(json.dumps(row, separators=(",", ":"))) for _, row in got["records"])
        self.assertEqual(end["metrics"]["resultSize"], size)
        print("\n  100k-row stream read message by message in %.2fs" % took)

    def test_multi_statement_sets_and_column_types(self):
        r = self.stream("SELECT id, name FROM customers WHERE id <= 2 ORDER BY id; "
                        "CREATE TEMP TABLE IF NOT EXISTS st_tmp(a INTEGER); "
                        "SELECT count(*) AS n FROM orders")
        self.assertEqual(r.status, 200)
        got = check_grammar(self, r.rest())
        self.assertEqual(len(got["sets"]), 2)
        cols0 = got["sets"][0]["columns"]
        cols1 = got["sets"][1]["columns"]
        if ON_PG:
            self.assertEqual(cols0, [{"name": "id", "type": "int8"},
                                     {"name": "name", "type": "text"}])
            self.assertEqual(cols1, [{"name": "n", "type": "int8"}])
        else:
            # SQLite knows the declared types of table columns only
            self.assertEqual(cols0, [{"name": "id", "type": "INTEGER"},
                                     {"name": "name", "type": "TEXT"}])
            self.assertEqual(cols1, [{"name": "n", "type": None}])
        self.assertEqual(got["records"], [(0, {"id": 1, "name": "Ada Lovelace"}),
                                          (0, {"id": 2, "name": "Grace Hopper"}),
                                          (1, {"n": 250})])
        self.assertEqual(got["end"]["metrics"]["resultCount"], 3)

    def test_no_result_set_is_just_end(self):
        r = self.stream("CREATE TEMP TABLE IF NOT EXISTS st_none(a INTEGER); "
                        "INSERT INTO st_none VALUES (1)")
        msgs = r.rest()
        self.assertEqual([m["type"] for m in msgs], ["END"])
        self.assertEqual(msgs[0]["data"]["status"], "success")

    def test_empty_result_set_has_its_metadata(self):
        r = self.stream("SELECT id, name FROM customers WHERE id < 0")
        msgs = r.rest()
        self.assertEqual([m["type"] for m in msgs], ["METADATA", "END"])
        got = check_grammar(self, msgs)
        self.assertEqual([c["name"] for c in got["sets"][0]["columns"]], ["id", "name"])
        self.assertEqual(got["end"]["metrics"]["resultCount"], 0)

    def test_values_as_immediate_renders_them(self):
        stmt = ("SELECT 9223372036854775807 AS big, %s AS r, NULL AS z, 'a\"\\\n\u00e9' AS t"
                % ("0.1::float8" if ON_PG else "0.1"))
        imm = self.q.query(stmt)
        self.assertEqual(imm.status, 200)
        row_text = re.search(rb'"results":\[(.*?)\],"plans"', imm.body).group(1)
        s = raw_stream_request(self.q.port, {"statement": stmt})
        status, _, body = parse_responses(read_to_close(s))[0]
        s.close()
        self.assertEqual(status, 200)
        record = [l for l in body.split(b"\n") if b'"RECORD"' in l][0]
        # the RECORD's data is the row object, byte for byte
        self.assertEqual(record, b'{"type":"RECORD","set":0,"data":' + row_text + b"}")

    def test_sse_framing(self):
        stmt = "SELECT id FROM customers WHERE id <= 2 ORDER BY id; SELECT 'x\ny' AS t"
        r = self.stream(stmt, sse=True)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], "text/event-stream; charset=utf-8")
        self.assertEqual(r.headers["x-accel-buffering"], "no")
        self.assertEqual(r.headers["cache-control"], "no-cache")
        got = check_grammar(self, r.rest())
        self.assertEqual(got["records"], [(0, {"id": 1}), (0, {"id": 2}), (1, {"t": "x\ny"})])
        # and the bytes: blocks of exactly "event: T" and "data: {..T..}"
        s = socket.create_connection(("127.0.0.1", self.q.port), timeout=30 * SLOW)
        body = urllib.parse.urlencode({"statement": stmt, "mode": "stream"}).encode()
        s.sendall(b"POST /query/service HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Accept: text/event-stream\r\nContent-Type: application/x-www-form-urlencoded"
                  b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        status, _, raw = parse_responses(read_to_close(s))[0]
        s.close()
        self.assertTrue(raw.endswith(b"\n\n"))
        blocks = raw[:-2].split(b"\n\n")
        self.assertEqual(len(blocks), 6)  # 2 METADATA, 3 RECORD, END, and nothing else
        for b in blocks:
            ev, data = b.split(b"\n")
            self.assertTrue(ev.startswith(b"event: "), b)
            self.assertTrue(data.startswith(b"data: {\"type\":\"%s\"" % ev[7:]), b)

    def test_get_event_source_style(self):
        # what a browser's EventSource sends: GET, Accept: text/event-stream
        r = self.stream("SELECT 1 AS one", sse=True, method="GET", headers={
            "Cache-Control": "no-cache"})
        self.assertEqual(r.status, 200)
        got = check_grammar(self, r.rest())
        self.assertEqual(got["records"], [(0, {"one": 1})])

    def test_errors_before_streaming_keep_their_status(self):
        cases = [("SELEC 1", {}, 400, "ASX1001"),
                 ("SELECT * FROM nosuch_table", {}, 400, "ASX1077"),
                 ("INSERT INTO customers(id) VALUES (999)", {"readonly": "true"}, 400, "ASX0044"),
                 ("SELECT 1; SELECT 2", {"multi_dash_statement": "false"}, 400, "ASX0035"),
                 ("SELECT $nope", {}, 400, "ASX1086")]
        for stmt, params, status, code in cases:
            for sse in (False, True):
                r = self.stream(stmt, client_context_id="early", sse=sse, **params)
                self.assertEqual(r.status, status, stmt)
                self.assertTrue(r.headers["content-type"].startswith("application/json"), stmt)
                doc = json.loads(r.resp.read())
                r.close()
                self.assertEqual(list(doc), ["requestID", "clientContextID", "errors", "status",
                                             "metrics"], stmt)
                self.assertRegex(doc["requestID"], UUID4)
                self.assertEqual(doc["status"], "fatal")
                self.assertTrue(doc["errors"][0]["msg"].startswith(code + ": "), doc)

    def test_bad_parameters_are_asx0047(self):
        for params, name, shown in [({"stats": "5"}, "stats", "5"),
                                    ({"stats": "1.5"}, "stats", "1.5"),
                                    ({"heartbeat": "9ms"}, "heartbeat", "9ms"),
                                    ({"heartbeat": "soon"}, "heartbeat", "soon"),
                                    ({"format": "csv"}, "format", "csv")]:
            r = self.stream("SELECT 1", **params)
            self.assertEqual(r.status, 400, params)
            doc = json.loads(r.resp.read())
            r.close()
            self.assertEqual(list(doc), ["errors", "status", "metrics"])
            # AsterixDB's text, then what the parameter takes
            self.assertTrue(doc["errors"][0]["msg"].startswith(
                "ASX0047: Invalid value for parameter '%s': %s. " % (name, shown)), doc)

    def test_error_mid_stream_is_error_then_end(self):
        r = self.stream(fails_after(50000))
        self.assertEqual(r.status, 200)
        got = check_grammar(self, r.rest())
        self.assertIsNotNone(got["error"])
        self.assertEqual(got["error"]["code"], "ASX0901")
        self.assertEqual(got["end"]["status"], "fatal")
        n = len(got["records"])
        self.assertGreater(n, 1000)
        self.assertEqual([row["v"] for _, row in got["records"]], list(range(1, n + 1)))

    def test_compile_error_in_a_later_statement(self):
        # the first statement's messages went out: the error is a message
        r = self.stream("SELECT 1 AS a; SELECT * FROM nosuch_table")
        self.assertEqual(r.status, 200)
        got = check_grammar(self, r.rest())
        self.assertEqual(got["records"], [(0, {"a": 1})])
        self.assertEqual(got["error"]["code"], "ASX1077")
        self.assertEqual(got["end"]["status"], "fatal")

    def raw_requests(self, *reqs):
        s = socket.create_connection(("127.0.0.1", self.q.port), timeout=30 * SLOW)
        out = b""
        for stmt, version, extra in reqs:
            body = urllib.parse.urlencode({"statement": stmt, "mode": "stream"}).encode()
            out += (b"POST /query/service HTTP/%s\r\nHost: x\r\n%sContent-Type: "
                    b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
                    % (version, extra, len(body)) + body)
        s.sendall(out)
        data = read_to_close(s)
        s.close()
        return data

    def test_http10_stream_ends_with_the_connection(self):
        data = self.raw_requests(("SELECT 1 AS a", b"1.0", b""))
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertIn(b"HTTP/1.0 200", head)
        self.assertNotIn(b"chunked", head.lower())
        got = check_grammar(self, ndjson(body))
        self.assertEqual(got["records"], [(0, {"a": 1})])

    def test_pipelined_streams_in_order(self):
        resps = parse_responses(self.raw_requests(
            ("SELECT 1 AS a", b"1.1", b""), ("SELECT 2 AS b", b"1.1", b""),
            ("SELEC 3", b"1.1", b"Connection: close\r\n")))
        self.assertEqual([r[0] for r in resps], [200, 200, 400])
        self.assertEqual(check_grammar(self, ndjson(resps[0][2]))["records"], [(0, {"a": 1})])
        self.assertEqual(check_grammar(self, ndjson(resps[1][2]))["records"], [(0, {"b": 2})])
        self.assertTrue(json.loads(resps[2][2])["errors"][0]["msg"].startswith("ASX1001"))

    def test_listed_while_running_and_logged_as_stream(self):
        r = self.stream(SLOW_ROWS, client_context_id="listed", heartbeat="100ms")
        e = self.wait_running("listed")
        self.assertEqual(e["statement"], SLOW_ROWS)
        check_grammar(self, r.rest())
        r.close()
        self.assertIn("mode=stream", self.q.wait_log("ctx=listed"))
        self.wait_gone("listed")


class Timers(StreamTestCase):
    # a short server default, so the default is seen at work
    ARGS = ("--stream-heartbeat", "300ms")

    def test_stats_at_the_requested_interval(self):
        r = self.stream(SLOW_ROWS, stats="100")
        got = check_grammar(self, r.rest())
        r.close()
        self.assertIsNone(got["error"])
        self.assertEqual(len(got["records"]), 30)
        stats = got["stats"]
        self.assertGreaterEqual(len(stats), 3, stats)
        # the server's own clock: at a fixed rate (a late one does not push
        # the next ones back), so the k-th comes no earlier than k intervals,
        # give or take libevent's coarse clock (a few milliseconds)
        times = [seconds(s["elapsedTime"]) for s in stats]
        for k, t in enumerate(times):
            self.assertGreaterEqual(t, (k + 1) * 0.1 - 0.01, times)
        counts = [s["resultCount"] for s in stats]
        self.assertEqual(counts, sorted(counts))
        if not ON_PG:
            # rows trickle out as they are made, STATS in between (PostgreSQL's
            # server holds small rows in its send buffer until the end)
            self.assertTrue(any(0 < c < 30 for c in counts), counts)

    def test_heartbeat_on_a_slow_query(self):
        r = self.stream(SLOW_ONE, heartbeat="100ms")
        got = check_grammar(self, r.rest())
        self.assertIsNone(got["error"])
        self.assertEqual([row for _, row in got["records"]], [{"n": 3000000}])
        beats = [seconds(b["elapsedTime"]) for b in got["beats"]]
        self.assertGreaterEqual(len(beats), 1, got)
        self.assertGreaterEqual(beats[0], 0.09)
        for a, b in zip(beats, beats[1:]):
            self.assertGreaterEqual(b - a, 0.09, beats)

    def test_heartbeats_until_timeout(self):
        t = 1.0 * SLOW
        r = self.stream(FOREVER, heartbeat="100ms", timeout="%gs" % t)
        got = check_grammar(self, r.rest())
        # the query ran until its deadline: heartbeats all along
        self.assertGreaterEqual(len(got["beats"]), 3, got)
        self.assertEqual(got["error"]["code"], "ASX0030")
        self.assertEqual(got["end"]["status"], "timeout")

    def test_server_default_and_off(self):
        r = self.stream(FOREVER, timeout="%gs" % (1.0 * SLOW))
        got = check_grammar(self, r.rest())
        beats = [seconds(b["elapsedTime"]) for b in got["beats"]]
        self.assertGreaterEqual(len(beats), 1, got)
        self.assertGreaterEqual(beats[0], 0.29)
        r = self.stream(FOREVER, timeout="%gs" % (1.0 * SLOW), heartbeat="0")
        if ON_PG:
            # no row, so no METADATA, and no heartbeat: the stream never began
            self.assertTrue(r.headers["content-type"].startswith("application/json"))
            self.assertEqual(json.loads(r.resp.read())["status"], "timeout")
            r.close()
            return
        got = check_grammar(self, r.rest())  # SQLite: METADATA came first
        self.assertEqual(got["beats"], [])
        self.assertEqual(got["end"]["status"], "timeout")

    def test_stats_and_heartbeats_in_sse(self):
        r = self.stream(SLOW_ONE, sse=True, stats="150ms", heartbeat="100ms")
        got = check_grammar(self, r.rest())
        self.assertGreaterEqual(len(got["stats"]) + len(got["beats"]), 1, got)

    def test_timeout_before_anything_is_the_envelope(self):
        # no result set, no heartbeat, no stats: nothing began the stream
        r = self.stream(QUIET_FOREVER, timeout="300ms", heartbeat="0")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("application/json"))
        doc = json.loads(r.resp.read())
        r.close()
        self.assertEqual(doc["status"], "timeout")
        self.assertTrue(doc["errors"][0]["msg"].startswith("ASX0030"))


class Cancellation(StreamTestCase):
    ARGS = ("--workers", "2")

    def workers_free(self):
        self.assertEqual(self.q.query("SELECT 1 AS a").json()["results"], [{"a": 1}])
        self.assertEqual(self.q.query("SELECT 2 AS a").json()["results"], [{"a": 2}])

    def test_cancel_by_admin_during_a_slow_query(self):
        r = self.stream(FOREVER, client_context_id="st-cancel", heartbeat="100ms")
        self.assertEqual(r.status, 200)
        r.until("HEARTBEAT")  # the stream is live
        self.wait_running("st-cancel")
        d = self.q.request("DELETE", "/admin/requests/running?client_context_id=st-cancel")
        self.assertEqual((d.status, d.body), (200, b""))
        got = check_grammar(self, r.rest())
        r.close()
        self.assertEqual(got["error"]["code"], "ASX0041")
        self.assertEqual(got["error"]["msg"],
                         "ASX0041: Request %s has been cancelled" % got["end"]["requestID"])
        self.assertEqual(got["end"]["status"], "fatal")
        self.wait_gone("st-cancel")
        self.workers_free()

    def test_cancel_while_the_worker_waits_for_the_client(self):
        s = raw_stream_request(self.q.port, {"statement": ENDLESS, "client_context_id": "st-bp"},
                               rcvbuf=16384)
        self.wait_running("st-bp")
        # the client reads nothing: the buffers fill and the worker waits
        time.sleep(0.5)
        d = self.q.request("DELETE", "/admin/requests/running?client_context_id=st-bp")
        self.assertEqual(d.status, 200)
        status, headers, body = parse_responses(read_to_close(s))[0]
        s.close()
        self.assertEqual(status, 200)
        got = check_grammar(self, ndjson(body))
        # nothing lost: every row that was made, in order, then ERROR and END
        xs = [row["x"] for _, row in got["records"]]
        self.assertGreater(len(xs), 1000)
        self.assertEqual(xs, list(range(1, len(xs) + 1)))
        self.assertEqual(got["error"]["code"], "ASX0041")
        self.wait_gone("st-bp")
        self.workers_free()

    def test_disconnect_during_a_slow_query(self):
        r = self.stream(FOREVER, client_context_id="st-gone", heartbeat="100ms")
        r.until("HEARTBEAT")
        self.wait_running("st-gone")
        r.close()
        self.wait_gone("st-gone")
        self.workers_free()

    def test_disconnect_while_the_worker_waits_for_the_client(self):
        s = raw_stream_request(self.q.port, {"statement": ENDLESS, "client_context_id": "st-bp2"},
                               rcvbuf=16384)
        self.wait_running("st-bp2")
        self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200"))
        s.close()
        self.wait_gone("st-bp2")
        self.workers_free()

    def test_disconnect_after_some_messages(self):
        r = self.stream(ENDLESS, client_context_id="st-some")
        for _ in range(1000):
            self.assertIn(r.next()["type"], ("METADATA", "RECORD"))
        r.close()
        self.wait_gone("st-some")
        self.workers_free()


class BusyWorkers(StreamTestCase):
    """One worker, kept busy: a queued stream still gets its heartbeats,
    its cancel and its timeout, from the loop."""
    ARGS = ("--workers", "1")

    def hog(self):
        out = {}
        t = threading.Thread(target=lambda: out.setdefault(
            "r", self.q.query(FOREVER, client_context_id="st-hog", http_timeout=120)))
        t.start()
        self.wait_running("st-hog")
        return t, out

    def release(self, t, out):
        self.q.request("DELETE", "/admin/requests/running?client_context_id=st-hog")
        t.join(30 * SLOW)
        self.assertEqual(out["r"].status, 500)

    def test_queued_stream_heartbeats_then_cancel(self):
        t, out = self.hog()
        try:
            r = self.stream("SELECT 1 AS a", client_context_id="st-queued", heartbeat="100ms")
            self.assertEqual(r.status, 200)
            msgs = r.until("HEARTBEAT") + r.until("HEARTBEAT")
            self.assertEqual([m["type"] for m in msgs], ["HEARTBEAT", "HEARTBEAT"])
            self.assertEqual(self.running()["st-queued"]["state"], "queued")
            d = self.q.request("DELETE", "/admin/requests/running?client_context_id=st-queued")
            self.assertEqual(d.status, 200)
            got = check_grammar(self, msgs + r.rest())
            r.close()
            self.assertEqual(got["records"], [])
            self.assertEqual(got["error"]["code"], "ASX0041")
            self.assertEqual(got["end"]["metrics"]["resultCount"], 0)
            self.wait_gone("st-queued")
        finally:
            self.release(t, out)
        # the worker is free again and streams work
        got = check_grammar(self, self.stream("SELECT 3 AS a").rest())
        self.assertEqual(got["records"], [(0, {"a": 3})])

    def test_queued_stream_times_out(self):
        t, out = self.hog()
        try:
            # heartbeats began the stream: ERROR and END
            r = self.stream("SELECT 1 AS a", heartbeat="100ms", timeout="%gs" % (0.6 * SLOW))
            got = check_grammar(self, r.rest())
            r.close()
            self.assertGreaterEqual(len(got["beats"]), 1)
            self.assertEqual(got["error"]["code"], "ASX0030")
            self.assertEqual(got["end"]["status"], "timeout")
            # nothing began it: the envelope
            r = self.stream("SELECT 1 AS a", heartbeat="0", timeout="300ms")
            self.assertEqual(r.status, 200)
            doc = json.loads(r.resp.read())
            r.close()
            self.assertEqual(doc["status"], "timeout")
        finally:
            self.release(t, out)


class SlowClient(StreamTestCase):
    """A client that reads slowly slows the worker; memory stays flat. (The
    bound is not checked in sanitizer builds: ASan keeps freed memory in its
    quarantine, and immediate mode's 2M rows peak at 240 MiB there too.)"""

    def test_slow_reader_memory_stays_flat(self):
        s = raw_stream_request(self.q.port, {"statement": rows_sql(2000000),
                                             "client_context_id": "st-slow"}, rcvbuf=16384)
        total = 0
        t0 = time.time()
        while time.time() - t0 < 2.0:  # a slow reader for two seconds
            total += len(s.recv(4096))
            time.sleep(0.01)
        # still running: the worker waits for the reader
        self.assertEqual(self.running()["st-slow"]["state"], "running")
        tail = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            tail = (tail + chunk)[-4096:]
        s.close()
        hwm = self.q.vm_hwm_kib()
        self.assertGreater(total, 100 << 20)  # the whole stream went through
        end = [l for l in tail.split(b"\n") if l.startswith(b'{"type":"END"')]
        self.assertEqual(len(end), 1, tail[-500:])
        self.assertEqual(json.loads(end[0])["data"]["metrics"]["resultCount"], 2000000)
        print("\n  2M-row stream under a slow reader: peak RSS %d KiB" % hwm)
        if not SANITIZE:
            self.assertLess(hwm, 64 * 1024, "peak RSS %d KiB" % hwm)


class ViaNginx(StreamTestCase):
    """Through a real nginx with the shipped one-node config."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.nginx = Nginx("qgate.conf", {19002: cls.q.port}).start()
        except BaseException:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        super().tearDownClass()

    def test_hundred_thousand_rows_intact(self):
        n = 100000
        r = self.stream(rows_sql(n), port=self.nginx.port)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], "application/x-ndjson")
        got = check_grammar(self, r.rest())
        r.close()
        self.assertEqual(len(got["records"]), n)
        for i, (_, row) in enumerate(got["records"]):
            if row["x"] != i + 1:
                self.fail("record %d is %r" % (i, row))

    def test_heartbeats_arrive_promptly(self):
        t = 4.0 * SLOW
        r = self.stream(FOREVER, port=self.nginx.port, heartbeat="200ms", timeout="%gs" % t)
        self.assertEqual(r.status, 200)
        msgs = []
        beats = []
        while len(beats) < 3:
            m = r.next()
            msgs.append(m)
            if m["type"] == "HEARTBEAT":
                beats.append(r.arrivals[-1])
        # each arrived as it was sent, long before the statement's end
        self.assertLess(beats[0], t / 2, beats)
        self.assertLess(beats[2], t - 0.5, beats)
        self.assertGreater(beats[2] - beats[0], 0.25, beats)
        print("\n  heartbeat=200ms through nginx: first three arrived at %s s"
              % ", ".join("%.3f" % b for b in beats))
        got = check_grammar(self, msgs + r.rest())
        r.close()
        self.assertEqual(got["error"]["code"], "ASX0030")

    def test_sse_through_nginx(self):
        r = self.stream("SELECT id FROM customers WHERE id <= 3 ORDER BY id", sse=True,
                        port=self.nginx.port)
        self.assertEqual(r.headers["content-type"], "text/event-stream; charset=utf-8")
        got = check_grammar(self, r.rest())
        self.assertEqual([row["id"] for _, row in got["records"]], [1, 2, 3])

    def test_error_before_streaming_keeps_400(self):
        r = self.stream("SELEC 1", port=self.nginx.port)
        self.assertEqual(r.status, 400)
        doc = json.loads(r.resp.read())
        r.close()
        self.assertTrue(doc["errors"][0]["msg"].startswith("ASX1001"))

    def test_disconnect_through_nginx_cancels(self):
        r = self.stream(FOREVER, port=self.nginx.port, client_context_id="st-ngx-gone",
                        heartbeat="100ms")
        r.until("HEARTBEAT")
        self.wait_running("st-ngx-gone")
        r.close()
        self.wait_gone("st-ngx-gone")


if __name__ == "__main__":
    main()
