"""qgate behind a real nginx with the shipped deploy/nginx configs."""

import http.client
import json
import unittest
import urllib.parse

from harness import SLOW, Qgate, main
from nginx import Nginx


def via(port, method, path, body=None, headers=None, timeout=120):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout * SLOW)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def form(stmt, **params):
    fields = {"statement": stmt}
    fields.update(params)
    return urllib.parse.urlencode(fields), {"Content-Type": "application/x-www-form-urlencoded"}


class OneNode(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.q = Qgate(("--trusted-proxies", "127.0.0.1/32")).start()
        cls.nginx = Nginx("qgate.conf", {19002: cls.q.port}).start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        rc = cls.q.stop()
        cls.q.cleanup()
        assert rc == 0, rc

    def test_immediate_through_nginx(self):
        body, h = form("SELECT name FROM customers WHERE id = ?", args="[1]")
        st, _, b = via(self.nginx.port, "POST", "/query/service", body, h)
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(b)["results"], [{"name": "Ada Lovelace"}])

    def test_errors_and_health_through_nginx(self):
        body, h = form("SELEC 1")
        st, _, b = via(self.nginx.port, "POST", "/query/service", body, h)
        self.assertEqual(st, 400)
        self.assertTrue(json.loads(b)["errors"][0]["msg"].startswith("ASX1001"))
        st, _, b = via(self.nginx.port, "GET", "/health")
        self.assertEqual((st, json.loads(b)), (200, {"status": "ok"}))

    def test_million_rows_stream_intact(self):
        stmt = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000) "
                "SELECT x, x * 2 AS y, 'row' || x AS z FROM c")
        body, h = form(stmt)
        st, headers, b = via(self.nginx.port, "POST", "/query/service", body, h, timeout=300)
        self.assertEqual(st, 200)
        doc = json.loads(b)
        self.assertEqual(doc["status"], "success")
        rows = doc["results"]
        self.assertEqual(len(rows), 1000000)
        for i in (0, 1, 499999, 999999):
            self.assertEqual(rows[i], {"x": i + 1, "y": 2 * (i + 1), "z": "row%d" % (i + 1)})

    def test_client_address_from_forwarded_for(self):
        body, h = form("SELECT 1", client_context_id="xff-check")
        h["X-Forwarded-For"] = "203.0.113.9"
        via(self.nginx.port, "POST", "/query/service", body, h)
        lines = [l for l in self.q.log_lines if "ctx=xff-check" in l]
        self.assertTrue(lines)
        self.assertIn("client=203.0.113.9", lines[-1])

    def test_pipelined_keepalive_upstream(self):
        # many requests over nginx's kept-alive upstream connections
        for i in range(50):
            body, h = form("SELECT %d AS n" % i)
            st, _, b = via(self.nginx.port, "POST", "/query/service", body, h)
            self.assertEqual(json.loads(b)["results"], [{"n": i}])


if __name__ == "__main__":
    main()
