"""HTTP framing against the real daemon: each evhtp workaround in
gateway/server.c (see docs/design.md) has a test here or in
test_immediate.py, and malformed input gets a clear 4xx/5xx while the daemon
keeps serving."""

import json
import socket
import time
import urllib.parse

from harness import QgateTestCase, SLOW, main, parse_responses


def form_post(stmt, extra_headers=b"", version=b"1.1"):
    body = urllib.parse.urlencode({"statement": stmt}).encode()
    return (b"POST /query/service HTTP/" + version + b"\r\nHost: t\r\n" + extra_headers +
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
            % len(body) + body)


class Framing(QgateTestCase):
    ARGS = ("--header-timeout", "1s", "--body-timeout", "1s", "--max-body", "1MiB")

    def still_serving(self):
        r = self.q.query("SELECT 42 AS answer")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["results"], [{"answer": 42}])

    def expect(self, raw, status, code=None):
        out = self.q.raw(raw, timeout=10)
        resps = parse_responses(out)
        self.assertTrue(resps, "no answer to %r" % raw[:80])
        st, headers, body = resps[0]
        self.assertEqual(st, status, (raw[:80], body))
        if code:
            doc = json.loads(body)
            self.assertEqual(doc["status"], "fatal")
            self.assertTrue(doc["errors"][0]["msg"].startswith(code), doc)
            self.assertEqual(headers.get("connection"), "close")
        self.still_serving()
        return resps

    def test_garbage(self):
        self.expect(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 50, 400, "ASX0909")
        self.expect(b"HELLO\r\n\r\n", 400, "ASX0909")

    def test_no_version(self):
        self.expect(b"GET /health\r\n\r\n", 400, "ASX0909")

    def test_http2_preface(self):
        self.expect(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "ASX0916")

    def test_long_request_line(self):
        self.expect(b"GET /query/service?statement=" + b"x" * 5000 + b" HTTP/1.1\r\n\r\n", 414,
                    "ASX0908")

    def test_long_request_line_refused_before_it_ends(self):
        # no line end ever comes: the answer must not wait for it
        out = self.q.raw(b"GET /" + b"a" * 9000, timeout=5)
        self.assertTrue(out.startswith(b"HTTP/1.1 414"), out[:100])

    def test_too_many_headers(self):
        self.expect(b"GET /health HTTP/1.1\r\n" + b"X-A: b\r\n" * 150 + b"\r\n", 431, "ASX0907")

    def test_huge_header(self):
        self.expect(b"GET /health HTTP/1.1\r\nX-Big: " + b"y" * 40000 + b"\r\n\r\n", 431, "ASX0907")

    def test_declared_body_too_large_refused_unread(self):
        t0 = time.time()
        self.expect(b"POST /query/service HTTP/1.1\r\nHost: t\r\nContent-Length: 314572800\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n\r\n", 413, "ASX0906")
        self.assertLess(time.time() - t0, 5 * SLOW)

    def test_uploading_client_still_reads_its_413(self):
        # 5 MiB sent into a 1 MiB limit while the answer comes: a plain
        # close would reset the connection and lose the answer
        s = socket.create_connection(("127.0.0.1", self.q.port), timeout=10 * SLOW)
        s.sendall(b"POST /query/service HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
        block = b"10000\r\n" + b"z" * 0x10000 + b"\r\n"
        try:
            for _ in range(80):
                s.sendall(block)
        except OSError:
            pass
        out = b""
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                out += c
        except OSError:
            pass
        s.close()
        self.assertTrue(out.startswith(b"HTTP/1.1 413"), out[:80])
        self.still_serving()

    def test_chunked_body_too_large(self):
        chunk = b"%x\r\n" % (600 * 1024) + b"a" * (600 * 1024) + b"\r\n"
        self.expect(b"POST /query/service HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + chunk * 2, 413,
                    "ASX0906")

    def test_negative_and_absurd_content_length(self):
        self.expect(b"POST /query/service HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "ASX0909")
        self.expect(b"POST /query/service HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                    400, "ASX0909")

    def test_smuggling_shapes(self):
        self.expect(b"POST /query/service HTTP/1.1\r\nContent-Length: 5\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "ASX0909")
        self.expect(b"POST /query/service HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
                    b"\r\nhello!", 400, "ASX0909")
        self.expect(b"POST /query/service HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
                    "ASX0915")

    def test_nul_in_header(self):
        self.expect(b"GET /health HTTP/1.1\r\nX-A: a\x00b\r\n\r\n", 400, "ASX0909")

    def test_header_timeout(self):
        s = socket.create_connection(("127.0.0.1", self.q.port), timeout=10 * SLOW)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: slow")
        t0 = time.time()
        out = s.recv(4096)
        s.close()
        self.assertTrue(out.startswith(b"HTTP/1.1 408"), out[:80])
        self.assertLess(time.time() - t0, 5 * SLOW)
        self.still_serving()

    def test_body_stall_timeout(self):
        s = socket.create_connection(("127.0.0.1", self.q.port), timeout=10 * SLOW)
        s.sendall(b"POST /query/service HTTP/1.1\r\nContent-Length: 100\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n\r\nstatement=")
        out = s.recv(4096)
        s.close()
        self.assertTrue(out.startswith(b"HTTP/1.1 408"), out[:80])

    def test_stalled_clients_do_not_delay_others(self):
        stalled = []
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", self.q.port))
            s.sendall(b"POST /query/service HTTP/1.1\r\nContent-Length: 1000\r\n\r\nstate")
            stalled.append(s)
        t0 = time.time()
        for _ in range(20):
            self.still_serving()
        self.assertLess(time.time() - t0, 5 * SLOW)
        for s in stalled:
            s.close()


class Bodies(QgateTestCase):
    def test_chunked_request_body(self):
        body = urllib.parse.urlencode({"statement": "SELECT 'chunked' AS how"}).encode()
        pieces = [body[:7], body[7:20], body[20:]]
        raw = (b"POST /query/service HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
               b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n")
        for p in pieces:
            raw += b"%x;ext=1\r\n" % len(p) + p + b"\r\n"
        raw += b"0\r\nX-Trailer: yes\r\n\r\n"
        st, _, b = parse_responses(self.q.raw(raw))[0]
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(b)["results"], [{"how": "chunked"}])

    def test_expect_100_continue(self):
        body = urllib.parse.urlencode({"statement": "SELECT 1 AS c"}).encode()
        s = socket.create_connection(("127.0.0.1", self.q.port), timeout=10 * SLOW)
        s.sendall(b"POST /query/service HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        first = s.recv(4096)
        self.assertEqual(first, b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(body)
        out = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
        s.close()
        st, _, b = parse_responses(out)[0]
        self.assertEqual((st, json.loads(b)["results"]), (200, [{"c": 1}]))

    def test_large_form_body(self):
        # evhtp parses url-encoded bodies into stack arrays the size of the
        # body (a 16 MB form crashed it); it never sees bodies here.
        big = "x" * (15 << 20)
        r = self.q.request("POST", "/query/service",
                           body=urllib.parse.urlencode({"statement": "SELECT length(?) AS n",
                                                        "args": json.dumps([big])}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"},
                           timeout=120)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["results"], [{"n": 15 << 20}])

    def test_lowercase_method_is_405(self):
        out = self.q.raw(b"get /health HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 405"), out[:100])
        self.assertIn(b"Method get not allowed", out)

    def test_pipelined_synchronous_answers(self):
        raw = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n" * 200
        raw += b"GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        resps = parse_responses(self.q.raw(raw, timeout=20))
        self.assertEqual(len(resps), 201)
        self.assertTrue(all(r[0] == 200 for r in resps[:200]))
        self.assertEqual(resps[200][0], 404)

    def test_http10_keep_alive(self):
        raw = (b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
               b"GET /health HTTP/1.0\r\n\r\n")
        resps = parse_responses(self.q.raw(raw))
        self.assertEqual([r[0] for r in resps], [200, 200])
        self.assertEqual(resps[0][1].get("connection"), "keep-alive")

    def test_absolute_form_target(self):
        out = self.q.raw(b"GET http://example.com/health HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200"), out[:100])

    def test_head_request(self):
        # HEAD goes where GET does (uptime checkers use it): the head alone
        out = self.q.raw(b"HEAD /health HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200"), out[:100])
        self.assertIn(b"Content-Length: 16\r\n", out)
        self.assertTrue(out.endswith(b"\r\n\r\n"), out)  # no body


if __name__ == "__main__":
    main()
