"""Hostile and malformed requests, sent as raw bytes over a socket.

Each case is checked for its status code and its body (a JSON error
document with an ASX code wherever the answer is JSON), and is followed by a
normal query that must still succeed: bad input never stops the daemon."""

import json
import socket
import time
import urllib.parse

from harness import SLOW, QgateTestCase, main, parse_responses

FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"
JSONCT = b"Content-Type: application/json\r\n"


def post(body, ctype=FORM, path=b"/query/service", extra=b""):
    if isinstance(body, str):
        body = body.encode()
    return (b"POST " + path + b" HTTP/1.1\r\nHost: t\r\n" + ctype + extra +
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


def get(path, extra=b""):
    return b"GET " + path + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n"


def form(**fields):
    return urllib.parse.urlencode(fields)


# (name, raw bytes, expected status, expected ASX code prefix; None: the body
# is not a JSON error document, "" : the body must be empty)
CASES = [
    ("binary_garbage", bytes(range(256)) * 4, 400, "ASX0909"),
    ("words_not_http", b"HELLO THERE\r\n\r\n", 400, "ASX0909"),
    ("tls_client_hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x01" * 64, 400,
     "ASX0909"),
    ("http09_request", b"GET /health\r\n\r\n", 400, "ASX0909"),
    ("http2_version", b"GET /health HTTP/2.0\r\n\r\n", 505, "ASX0916"),
    ("http12_version", b"GET /health HTTP/1.2\r\n\r\n", 505, "ASX0916"),
    ("double_space", b"GET  /health HTTP/1.1\r\n\r\n", 400, "ASX0909"),
    ("trailing_word", b"GET /health HTTP/1.1 extra\r\n\r\n", 400, "ASX0909"),
    ("long_request_line", b"GET /query/service?statement=" + b"x" * 6000 + b" HTTP/1.1\r\n\r\n",
     414, "ASX0908"),
    ("huge_header_value", b"GET /health HTTP/1.1\r\nX-A: " + b"v" * 40000 + b"\r\n\r\n", 431,
     "ASX0907"),
    ("huge_header_name", b"GET /health HTTP/1.1\r\n" + b"N" * 40000 + b": v\r\n\r\n", 431,
     "ASX0907"),
    ("too_many_headers", b"GET /health HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431,
     "ASX0907"),
    ("header_without_colon", b"GET /health HTTP/1.1\r\nNoColonHere\r\n\r\n", 400, "ASX0909"),
    ("space_before_colon", b"GET /health HTTP/1.1\r\nHost : t\r\n\r\n", 400, "ASX0909"),
    ("obsolete_folding", b"GET /health HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 400, "ASX0909"),
    ("nul_in_header", b"GET /health HTTP/1.1\r\nX-A: a\x00b\r\n\r\n", 400, "ASX0909"),
    ("control_in_header", b"GET /health HTTP/1.1\r\nX-A: a\x01b\r\n\r\n", 400, "ASX0909"),
    ("bare_cr_in_header", b"GET /health HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400, "ASX0909"),
    ("bad_header_name", b"GET /health HTTP/1.1\r\nX(Y: z\r\n\r\n", 400, "ASX0909"),
    ("negative_length", b"POST /query/service HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400,
     "ASX0909"),
    ("letters_length", b"POST /query/service HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400,
     "ASX0909"),
    ("absurd_length", b"POST /query/service HTTP/1.1\r\nContent-Length: " + b"9" * 30 + b"\r\n\r\n",
     400, "ASX0909"),
    ("split_length", b"POST /query/service HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400,
     "ASX0909"),
    ("conflicting_lengths",
     b"POST /query/service HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
     "ASX0909"),
    ("length_and_chunked",
     b"POST /query/service HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0\r\n\r\n", 400, "ASX0909"),
    ("gzip_coding", b"POST /query/service HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
     "ASX0915"),
    ("chunked_twice", b"POST /query/service HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
     501, "ASX0915"),
    ("chunked_in_http10", b"POST /query/service HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
     400, "ASX0909"),
    ("announced_300_mib", b"POST /query/service HTTP/1.1\r\nHost: t\r\n" + FORM +
     b"Content-Length: 314572800\r\n\r\nstatement=", 413, "ASX0906"),
    ("expect_with_huge_body", b"POST /query/service HTTP/1.1\r\nExpect: 100-continue\r\n"
     b"Content-Length: 99999999\r\n\r\n", 413, "ASX0906"),
    ("bad_chunk_size", b"POST /query/service HTTP/1.1\r\nTransfer-Encoding: chunked\r\n" + FORM +
     b"\r\nzz\r\nabc\r\n0\r\n\r\n", 400, "ASX0909"),
    ("chunk_size_overflow", b"POST /query/service HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"ffffffffffffffffffff\r\n", 400, "ASX0909"),
    ("chunk_without_crlf", b"POST /query/service HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"3\r\nabcXX0\r\n\r\n", 400, "ASX0909"),
    ("non_ascii_target", b"GET /query/service?statement=SELECT\xff1 HTTP/1.1\r\n\r\n", 400,
     "ASX0909"),
    ("control_in_target", b"GET /health\x01 HTTP/1.1\r\n\r\n", 400, "ASX0909"),
    ("relative_target", b"GET health HTTP/1.1\r\n\r\n", 400, "ASX0909"),
    ("empty_host_absolute", b"GET http:///health HTTP/1.1\r\n\r\n", 400, "ASX0909"),
    ("bad_method_token", b"G(T /health HTTP/1.1\r\n\r\n", 400, "ASX0909"),
    ("unknown_method_known_path", b"BREW /query/service HTTP/1.1\r\nHost: t\r\n\r\n", 405,
     "ASX0930"),
    ("unknown_method_unknown_path", b"BREW /coffee HTTP/1.1\r\nHost: t\r\n\r\n", 404, "ASX0919"),
    ("put_on_service", b"PUT /query/service HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", 405,
     "ASX0930"),
    # HEAD is a GET without its body: no statement is a 400, its head alone
    ("head_on_service", b"HEAD /query/service HTTP/1.1\r\nHost: t\r\n\r\n", 400, ""),
    ("bad_percent_escape", post("statement=SELECT%zz1"), 400, "ASX0047"),
    ("truncated_percent_escape", post("statement=SELECT+1%4"), 400, "ASX0047"),
    ("nul_in_statement", post("statement=SELECT%001"), 400, "ASX0047"),
    ("invalid_utf8_statement", post("statement=SELECT+%27%FF%FE%27"), 400, "ASX0047"),
    ("invalid_utf8_context_id", post("statement=SELECT+1&client_context_id=%C0%AF"), 400,
     "ASX0047"),
    ("invalid_json_body", post(b'{"statement": "SELECT 1"', JSONCT), 400, "ASX0048"),
    ("json_array_body", post(b'["SELECT 1"]', JSONCT), 400, "ASX0048"),
    ("deeply_nested_json", post(b'{"statement":"SELECT 1","args":' + b"[" * 100000 +
                                b"]" * 100000 + b"}", JSONCT), 400, "ASX0048"),
    ("deep_args_in_form", post("statement=SELECT+1&args=" + "%5B" * 50000), 400, "ASX0048"),
    # a value that must be JSON and is not JSON: ASX0048, as AsterixDB's own tests have it
    ("args_not_json", post(form(statement="SELECT ?", args="[12,,1]")), 400, "ASX0048"),
    ("named_not_json", post(form(**{"statement": "SELECT $x", "$x": '{"a":}'})), 400, "ASX0048"),
    ("args_not_json_in_get", b"GET /query/service?statement=SELECT+%3F&args=%5B12,,1%5D HTTP/1.1"
                             b"\r\nHost: t\r\n\r\n", 400, "ASX0048"),
    ("huge_args_array", post(form(statement="SELECT 1", args="[" + ",".join(["1"] * 20000) + "]")),
     400, "ASX0047"),
    ("args_not_array", post(form(statement="SELECT ?", args='{"a":1}')), 400, "ASX0047"),
    ("bad_mode", post(form(statement="SELECT 1", mode="sideways")), 400, "ASX0047"),
    ("negative_timeout", post(form(statement="SELECT 1", timeout="-1s")), 400, "ASX0047"),
    ("bad_named_value", post(form(**{"statement": "SELECT $x", "$x": "not json"})), 400,
     "ASX0048"),
    ("args_json_string_not_array", post(form(statement="SELECT 1", args='"[1]"')), 400,
     "ASX0047"),
    ("missing_statement", post(form(mode="immediate")), 400, "ASX0040"),
    ("blank_statement", post(form(statement=" \t\n ")), 400, "ASX0040"),
    ("syntax_error", post(form(statement="SELEC 1")), 400, "ASX1001"),
    ("malformed_status_handle", get(b"/query/service/status/abc"), 400, "ASX0909"),
    ("leading_zero_handle", get(b"/query/service/status/01-0"), 400, "ASX0909"),
    ("unknown_result_handle", get(b"/query/service/result/987654-0"), 404, "ASX0919"),
    ("admin_cancel_without_key", b"DELETE /admin/requests/running HTTP/1.1\r\nHost: t\r\n\r\n", 400,
     "ASX0909"),
]


class BadInput(QgateTestCase):
    ARGS = ("--header-timeout", "2s", "--body-timeout", "2s")

    def still_serving(self):
        r = self.q.query("SELECT 42 AS answer")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["results"], [{"answer": 42}])

    def check(self, raw, status, code):
        out = self.q.raw(raw, timeout=10, read_all=False)
        resps = parse_responses(out)
        self.assertTrue(resps, "no answer")
        st, headers, body = resps[0]
        self.assertEqual(st, status, body[:300])
        if code == "":
            self.assertEqual(body, b"")
        else:
            doc = json.loads(body)
            self.assertIn(doc["status"], ("fatal",))
            self.assertTrue(doc["errors"][0]["msg"].startswith(code + ": "), doc)
            body.decode("utf-8")  # the error document itself is valid UTF-8
        self.still_serving()


def _make(raw, status, code):
    return lambda self: self.check(raw, status, code)


for _name, _raw, _status, _code in CASES:
    setattr(BadInput, "test_" + _name, _make(_raw, _status, _code))


class Hostile(QgateTestCase):
    ARGS = ("--header-timeout", "5s", "--body-timeout", "5s", "--max-result-bytes", "1MiB",
            "--max-connections", "400")

    def test_result_over_the_limit_fails_clearly(self):
        big = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000) "
               "SELECT x, 'some padding text' AS pad FROM c")
        r = self.q.query(big)
        self.assertEqual(r.status, 200)  # streaming had begun: the envelope says it
        doc = r.json()
        self.assertEqual(doc["status"], "fatal")
        self.assertEqual(doc["errors"][0]["msg"],
                         "ASX0911: Result exceeds the limit of 1048576 bytes")
        small = self.q.query("SELECT 1 AS a")
        self.assertEqual(small.json()["results"], [{"a": 1}])
        # a stored job fails the same way, and its status says why
        r = self.q.query(big, mode="async")
        path = urllib.parse.urlparse(r.json()["handle"]).path
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline:
            st = self.q.request("GET", path).json()
            if st["status"] != "running":
                break
            time.sleep(0.05)
        self.assertEqual(st["status"], "failed")
        self.assertTrue(st["errors"][0]["msg"].startswith("ASX0911"))

    def test_connection_limit_answers_503(self):
        held = []
        try:
            for _ in range(400):
                held.append(socket.create_connection(("127.0.0.1", self.q.port), timeout=10))
            time.sleep(0.2)
            out = self.q.raw(get(b"/health"), timeout=10, read_all=False)
            st, headers, body = parse_responses(out)[0]
            self.assertEqual(st, 503)
            self.assertEqual(headers.get("retry-after"), "1")
            self.assertTrue(json.loads(body)["errors"][0]["msg"].startswith("ASX0918"))
        finally:
            for s in held:
                s.close()
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            try:
                self.still_serving()
                break
            except AssertionError:
                time.sleep(0.1)
        self.still_serving()

    def still_serving(self):
        r = self.q.query("SELECT 42 AS answer")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["results"], [{"answer": 42}])

    def test_cases_are_fifty_or_more(self):
        self.assertGreaterEqual(len(CASES), 50)

    def test_pipelined_after_a_bad_one_is_not_parsed(self):
        raw = get(b"/health") + b"GARBAGE\r\n\r\n" + get(b"/health")
        resps = parse_responses(self.q.raw(raw, timeout=10))
        self.assertEqual([r[0] for r in resps], [200, 400])

    def test_300_stalled_uploads_do_not_delay_others(self):
        stalled = []
        try:
            for _ in range(300):
                s = socket.create_connection(("127.0.0.1", self.q.port), timeout=10)
                s.sendall(b"POST /query/service HTTP/1.1\r\nHost: t\r\n" + FORM +
                          b"Content-Length: 100000\r\n\r\nstatement=SELE")
                stalled.append(s)
            t0 = time.time()
            for i in range(30):
                r = self.q.query("SELECT %d AS n" % i)
                self.assertEqual(r.json()["results"], [{"n": i}])
            self.assertLess(time.time() - t0, 10 * SLOW)
        finally:
            for s in stalled:
                s.close()

    def test_slowloris_head_is_cut_off(self):
        s = socket.create_connection(("127.0.0.1", self.q.port), timeout=20 * SLOW)
        t0 = time.time()
        out = b""
        try:
            for b in b"GET /health HTTP/1.1\r\nX-Slow: ":
                s.sendall(bytes([b]))
                time.sleep(0.2)
                if time.time() - t0 > 15 * SLOW:
                    break
        except OSError:
            pass
        try:
            out = s.recv(4096)
        except OSError:
            pass
        s.close()
        self.assertTrue(out.startswith(b"HTTP/1.1 408"), out[:80])
        self.assertLess(time.time() - t0, 12 * SLOW)


if __name__ == "__main__":
    main()
