"""Authentication (--auth-file): bearer tokens, per-principal requests,
read-only principals, an open health check."""

import os
import subprocess
import threading
import time

from harness import FOREVER, auth_file as harness_auth_file, BIN, SLOW, QgateTestCase, main

TOKENS = {"alice": "alice-s3cret", "bob": "bob-s3cret", "reader": "read-only-s3cret"}


def auth_file(mode=0o600):
    return harness_auth_file(TOKENS, readonly=("reader",), mode=mode)


def bearer(name):
    return {"Authorization": "Bearer " + TOKENS[name]}


AUTH_FILE = auth_file()


class Auth(QgateTestCase):
    ARGS = ("--auth-file", AUTH_FILE, "--workers", "2", "--cors-origins", "https://x.example")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        os.unlink(AUTH_FILE)

    def test_missing_or_wrong_token_is_401(self):
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
            r = self.q.query("SELECT 1", headers=headers)
            self.assertError(r, 401, "ASX0910")
            self.assertEqual(r.headers["www-authenticate"], 'Bearer realm="qgate"')
        self.assertEqual(self.q.request("GET", "/admin/requests/running").status, 401)
        self.assertEqual(self.q.request("GET", "/metrics").status, 401)

    def test_valid_token(self):
        self.assertEnvelopeOk(self.q.query("SELECT 1 AS a", headers=bearer("alice")), [{"a": 1}])

    def test_health_and_preflight_need_no_token(self):
        self.assertEqual(self.q.request("GET", "/health").status, 200)
        r = self.q.request("OPTIONS", "/query/service", headers={
            "Origin": "https://x.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["access-control-allow-origin"], "https://x.example")
        self.assertIn("Authorization", r.headers["access-control-allow-headers"])

    def test_readonly_principal_runs_queries_only(self):
        self.assertEnvelopeOk(self.q.query("SELECT count(*) AS n FROM customers",
                                           headers=bearer("reader")), [{"n": 20}])
        r = self.q.query("CREATE TABLE reader_made(a)", headers=bearer("reader"), readonly="false")
        self.assertError(r, 400, "ASX0044")

    def test_requests_are_their_principals(self):
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", self.q.query(
            FOREVER, client_context_id="bobs", headers=bearer("bob"))))
        t.start()
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            mine = self.q.request("GET", "/admin/requests/running", headers=bearer("bob")).json()
            if mine and mine[0]["state"] == "running":
                break
            time.sleep(0.05)
        self.assertEqual([e["clientContextID"] for e in mine], ["bobs"])
        theirs = self.q.request("GET", "/admin/requests/running", headers=bearer("alice")).json()
        self.assertEqual(theirs, [])
        r = self.q.request("DELETE", "/admin/requests/running?client_context_id=bobs",
                           headers=bearer("alice"))
        self.assertEqual(r.status, 404)
        r = self.q.request("DELETE", "/admin/requests/running?client_context_id=bobs",
                           headers=bearer("bob"))
        self.assertEqual(r.status, 200)
        t.join(10 * SLOW)
        self.assertError(out["r"], 500, "ASX0041")


class AuthFile(QgateTestCase):
    def test_world_readable_file_is_refused(self):
        path = auth_file(0o644)
        try:
            out = subprocess.run([BIN, "--auth-file", path, "--data", self.q.data, "--listen",
                                  "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
        finally:
            os.unlink(path)
        self.assertEqual(out.returncode, 2)
        self.assertIn("chmod 600", out.stderr)


if __name__ == "__main__":
    main()
