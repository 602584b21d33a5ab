"""CORS: which web pages may use qgate from a browser (--cors-origins).

A browser shows a page another origin's answer only when the answer names
that origin; it sends a page's form POST to any server without asking. So:
listed origins get CORS headers on every answer and working preflights for
every method a browser client needs; any other Origin, `null` included, is
refused before anything runs; without --cors-origins (the default) no page
but qgate's own may use it and no answer carries a CORS header.
"""

import json
import subprocess
import time
import urllib.parse

from harness import BIN, SLOW, Qgate, QgateTestCase, main

LISTED = "https://app.example"
OTHER = "http://localhost:8080"
ROUTES = {"/query/service": {"GET", "POST"},
          "/query/service/status/1-0": {"GET", "DELETE"},
          "/query/service/result/1-0": {"GET", "DELETE"},
          "/admin/requests/running": {"GET", "DELETE"},
          "/health": {"GET"},
          "/metrics": {"GET"}}
QGATE_HEADERS = {"Retry-After", "WWW-Authenticate", "Idempotent-Replayed"}


def methods(value):
    return {m.strip() for m in value.split(",")}


class Listed(QgateTestCase):
    ARGS = ("--cors-origins", " %s , %s" % (LISTED.upper(), OTHER))

    def count_customers(self):
        return self.q.query("SELECT count(*) AS n FROM customers").json()["results"][0]["n"]

    def assertAllows(self, r, origin):
        self.assertEqual(r.headers.get("access-control-allow-origin"), origin, r)
        # Origin, and Accept-Encoding on a body that could be gzip'ed
        self.assertIn("Origin", methods(r.headers.get("vary", "")))
        self.assertLessEqual(QGATE_HEADERS, methods(r.headers["access-control-expose-headers"]))

    def test_listed_origins_read_answers(self):
        for origin in (LISTED, OTHER):
            r = self.q.query("SELECT 1 AS a", headers={"Origin": origin})
            self.assertEnvelopeOk(r, [{"a": 1}])
            self.assertAllows(r, origin)
        # errors too: the page can show them
        r = self.q.query("SELEC 1", headers={"Origin": LISTED})
        self.assertError(r, 400, "ASX1001")
        self.assertAllows(r, LISTED)
        r = self.q.request("GET", "/no/such/path", headers={"Origin": LISTED})
        self.assertEqual(r.status, 404)
        self.assertAllows(r, LISTED)

    def test_a_browser_client_goes_through_a_job(self):
        h = {"Origin": LISTED}
        r = self.q.query("SELECT 7 AS n", mode="async", headers=h)
        self.assertAllows(r, LISTED)
        status = urllib.parse.urlparse(r.json()["handle"]).path
        deadline = time.time() + 10 * SLOW
        while True:
            r = self.q.request("GET", status, headers=h)
            self.assertAllows(r, LISTED)
            if r.json()["status"] != "running" or time.time() > deadline:
                break
            time.sleep(0.02)
        result = urllib.parse.urlparse(r.json()["handle"]).path
        r = self.q.request("DELETE", result, headers=h)
        self.assertIn(r.status, (200, 202), r)
        self.assertAllows(r, LISTED)
        r = self.q.request("DELETE", "/admin/requests/running?client_context_id=none", headers=h)
        self.assertEqual(r.status, 404)
        self.assertAllows(r, LISTED)

    def test_preflights_for_every_route(self):
        for path, allowed in ROUTES.items():
            for want in sorted(allowed):
                r = self.q.request("OPTIONS", path, headers={
                    "Origin": LISTED, "Access-Control-Request-Method": want,
                    "Access-Control-Request-Headers": "authorization, content-type"})
                self.assertEqual(r.status, 200, (path, want, r))
                self.assertEqual(r.headers["access-control-allow-origin"], LISTED)
                head = {"HEAD"} if "GET" in allowed else set()  # HEAD goes where GET does
                self.assertEqual(methods(r.headers["access-control-allow-methods"]),
                                 allowed | head | {"OPTIONS"}, path)
                self.assertLessEqual({"Authorization", "Content-Type", "Idempotency-Key"},
                                     methods(r.headers["access-control-allow-headers"]))
                self.assertGreater(int(r.headers["access-control-max-age"]), 0)

    def test_foreign_pages_are_refused_before_anything_runs(self):
        before = self.count_customers()
        for origin in ("https://evil.example", "null", "https://app.example.evil.example",
                       "http://app.example", LISTED + ":443", "https://app.example/"):
            # a form POST: browsers send it without a preflight
            r = self.q.query("DELETE FROM customers", headers={"Origin": origin})
            self.assertEqual(r.status, 403, (origin, r))
            self.assertTrue(r.json()["errors"][0]["msg"].startswith("ASX0920"), r)
            self.assertIn("--cors-origins", r.body.decode())
            self.assertNotIn("access-control-allow-origin", r.headers)
            r = self.q.request("OPTIONS", "/query/service/status/1-0", headers={
                "Origin": origin, "Access-Control-Request-Method": "DELETE"})
            self.assertEqual(r.status, 403, (origin, r))
            self.assertNotIn("access-control-allow-origin", r.headers)
            r = self.q.request("GET", "/query/service?statement=SELECT+1", headers={
                "Origin": origin})
            self.assertEqual(r.status, 403, (origin, r))
        self.assertEqual(self.count_customers(), before)

    def test_clients_that_are_no_page_and_qgate_own_pages(self):
        r = self.q.query("SELECT 1 AS a")
        self.assertEnvelopeOk(r, [{"a": 1}])
        self.assertNotIn("access-control-allow-origin", r.headers)
        self.assertEqual(methods(r.headers.get("vary")), {"Origin", "Accept-Encoding"})
        own = "http://127.0.0.1:%d" % self.q.port
        r = self.q.query("SELECT 1 AS a", headers={"Origin": own})
        self.assertEnvelopeOk(r, [{"a": 1}])
        self.assertNotIn("access-control-allow-origin", r.headers)
        r = self.q.request("OPTIONS", "/query/service")
        self.assertEqual(r.status, 200)
        self.assertEqual(methods(r.headers["allow"]), {"GET", "HEAD", "POST", "OPTIONS"})
        self.assertNotIn("access-control-allow-origin", r.headers)


class Default(QgateTestCase):
    """No --cors-origins: no CORS header on any answer."""

    def test_no_cors_headers_at_all(self):
        for origin in (LISTED, "null", None):
            h = {"Origin": origin} if origin else {}
            r = self.q.query("SELECT 1 AS a", headers=h)
            self.assertEqual(r.status, 403 if origin else 200, r)
            for path in ROUTES:
                r = self.q.request("OPTIONS", path, headers=dict(
                    h, **{"Access-Control-Request-Method": "GET"}))
                self.assertEqual(r.status, 403 if origin else 200, (path, r))
                self.assertFalse([k for k in r.headers if k.startswith("access-control-")], r)
                # a JSON body varies by Accept-Encoding (gzip), never by Origin here
                self.assertNotIn("Origin", methods(r.headers.get("vary", "")))


class Settings(QgateTestCase):
    def test_bad_lists_are_refused_at_start(self):
        for value, text in [("null", "Origin: null"), ("*", "every web page"),
                            ("https://app.example/path", "scheme://host[:port]"),
                            ("app.example", "scheme://host[:port]"),
                            ("ftp://app.example", "scheme://host[:port]")]:
            p = subprocess.run([BIN, "--listen", "127.0.0.1:0", "--data", self.q.data,
                                "--cors-origins", value], capture_output=True, text=True,
                               timeout=30 * SLOW)
            self.assertEqual(p.returncode, 2, (value, p.stderr))
            self.assertIn(text, p.stderr, value)

    def test_the_help_names_the_setting(self):
        p = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=30)
        self.assertIn("--cors-origins", p.stdout)


if __name__ == "__main__":
    main()
