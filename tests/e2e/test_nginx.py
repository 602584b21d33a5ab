"""qgate behind a real nginx with the shipped deploy/nginx configs."""

import http.client
import json
import re
import signal
import tempfile
import shutil
import time
import unittest
import urllib.parse

from harness import SLOW, Qgate, main
from nginx import Nginx


def via(port, method, path, body=None, headers=None, timeout=120, source=None):
    """A request to nginx; source: the client's own loopback address."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout * SLOW,
                                   source_address=(source, 0) if source else None)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def path_of(url):
    return urllib.parse.urlparse(url).path


def wait_done(port, status_path, host=None, timeout=30):
    headers = {"Host": host} if host else {}
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        st, _, b = via(port, "GET", status_path, headers=headers)
        assert st == 200, (st, b)
        doc = json.loads(b)
        if doc["status"] != "running":
            return doc
        time.sleep(0.02)
    raise AssertionError("job %s still running" % status_path)


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
        self.assertIn("client=203.0.113.9", self.q.wait_log("ctx=xff-check"))

    def test_every_mode_and_forwarded_host_in_handles(self):
        # deferred
        body, h = form("SELECT 'd' AS m", mode="deferred")
        h["Host"] = "front.example"
        st, _, b = via(self.nginx.port, "POST", "/query/service", body, h)
        doc = json.loads(b)
        self.assertEqual((st, doc["status"]), (200, "success"))
        self.assertRegex(doc["handle"], r"^http://front\.example/query/service/result/\d+-0$")
        st, _, b = via(self.nginx.port, "GET", path_of(doc["handle"]))
        self.assertEqual(json.loads(b)["results"], [{"m": "d"}])
        # async, with a port in the host the client used
        body, h = form("SELECT 'a' AS m", mode="async")
        h["Host"] = "front.example:8080"
        st, _, b = via(self.nginx.port, "POST", "/query/service", body, h)
        doc = json.loads(b)
        self.assertEqual((st, doc["status"]), (200, "running"))
        self.assertRegex(doc["handle"],
                         r"^http://front\.example:8080/query/service/status/\d+-0$")
        done = wait_done(self.nginx.port, path_of(doc["handle"]), host="front.example:8080")
        self.assertEqual(done["status"], "success")
        self.assertTrue(done["handle"].startswith("http://front.example:8080/query/service/result/"))
        st, _, b = via(self.nginx.port, "GET", path_of(done["handle"]))
        self.assertEqual(json.loads(b)["results"], [{"m": "a"}])

    def test_pipelined_keepalive_upstream(self):
        # many requests over nginx's kept-alive upstream connections
        for i in range(50):
            body, h = form("SELECT %d AS n" % i)
            st, _, b = via(self.nginx.port, "POST", "/query/service", body, h)
            self.assertEqual(json.loads(b)["results"], [{"n": i}])


# Headers a client sends to steer the handles qgate hands out or the
# address it logs: the shipped configs overwrite or drop every one.
SPOOFS = [{"Forwarded": "host=evil.example;proto=https"},
          {"Forwarded": 'for=127.0.0.1;host="evil.example";proto=https'},
          {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
          {"X-Forwarded-Host": "evil.example", "Forwarded": "host=evil2.example"},
          {"Forwarded": "host=evil.example", "X-Forwarded-For": "127.0.0.1"}]


class Spoofing(unittest.TestCase):
    """A client that forges forwarding headers, through the shipped config
    to a qgate that trusts nginx (--trusted-proxies 127.0.0.1/32). The
    client connects from 127.0.0.2, which is no trusted proxy, as a real
    client would come from outside."""

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

    def handle(self, host, extra, mode="async"):
        body, h = form("SELECT 1 AS n", mode=mode)
        h["Host"] = host
        h.update(extra)
        st, _, b = via(self.nginx.port, "POST", "/query/service", body, h, source="127.0.0.2")
        self.assertEqual(st, 200, b)
        return json.loads(b)["handle"]

    def test_forged_forwarded_headers_do_not_steer_handles(self):
        for extra in SPOOFS:
            for mode in ("async", "deferred"):
                h = self.handle("front.example:8443", extra, mode)
                self.assertRegex(h, r"^http://front\.example:8443/query/service/", (extra, h))

    def test_forged_forwarded_for_does_not_name_the_client(self):
        for i, extra in enumerate([{"X-Forwarded-For": "203.0.113.66"},
                                   {"X-Forwarded-For": "203.0.113.66, 127.0.0.1"},
                                   {"Forwarded": "for=203.0.113.66"}]):
            body, h = form("SELECT 1", client_context_id="spoof-%d" % i)
            h.update(extra)
            via(self.nginx.port, "POST", "/query/service", body, h, source="127.0.0.2")
            line = self.q.wait_log("ctx=spoof-%d" % i)
            self.assertIn("client=127.0.0.2", line)
            self.assertNotIn("203.0.113.66", line)


class Untrusted(unittest.TestCase):
    """nginx in front of a qgate that trusts no proxy: handles come from
    the Host header nginx passes, which keeps the front door's port."""

    @classmethod
    def setUpClass(cls):
        cls.q = Qgate().start()
        cls.nginx = Nginx("qgate.conf", {19002: cls.q.port}).start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        rc = cls.q.stop()
        cls.q.cleanup()
        assert rc == 0, rc

    def test_handles_keep_the_front_doors_port(self):
        body, h = form("SELECT 1", mode="async")
        st, _, b = via(self.nginx.port, "POST", "/query/service", body, h)
        self.assertEqual(st, 200, b)
        self.assertRegex(json.loads(b)["handle"],
                         r"^http://127\.0\.0\.1:%d/query/service/status/" % self.nginx.port)
        for extra in SPOOFS:
            body, h = form("SELECT 1", mode="async")
            h.update(extra)
            h["Host"] = "front.example:8443"
            st, _, b = via(self.nginx.port, "POST", "/query/service", body, h)
            self.assertRegex(json.loads(b)["handle"],
                             r"^http://front\.example:8443/query/service/", extra)


class TwoNodes(unittest.TestCase):
    """Two qgate nodes behind the shipped cluster config: submissions are
    balanced, every handle routes back to its own node through the front
    door, a stopped node fails only its own handles, and comes back."""

    @classmethod
    def setUpClass(cls):
        cls.data2 = tempfile.mkdtemp(prefix="qgate-n2-")
        cls.n1 = Qgate(("--public-url", "/n1", "--trusted-proxies", "127.0.0.1/32")).start()
        cls.n2 = Qgate(("--public-url", "/n2", "--trusted-proxies", "127.0.0.1/32"),
                       data=cls.data2).start()
        cls.nginx = Nginx("qgate-cluster.conf",
                          {19002: cls.n1.port, 19003: cls.n2.port}).start()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        for q in (cls.n1, cls.n2):
            if q.alive():
                q.stop()
            q.cleanup()
        shutil.rmtree(cls.data2, ignore_errors=True)

    def submit(self, i):
        body, h = form("SELECT %d AS k, 'v%d' AS v" % (i, i), mode="async")
        st, _, b = via(self.nginx.port, "POST", "/query/service", body, h)
        self.assertEqual(st, 200, b)
        return json.loads(b)["handle"]

    def test_balance_route_fail_and_recover(self):
        front = "http://127.0.0.1:%d" % self.nginx.port
        handles = {self.submit(i): i for i in range(40)}
        nodes = {re.match(re.escape(front) + r"/(n\d)/query/service/status/\d+-0$", h).group(1)
                 for h in handles}
        self.assertEqual(nodes, {"n1", "n2"})
        for h, i in handles.items():
            done = wait_done(self.nginx.port, path_of(h))
            self.assertEqual(done["status"], "success")
            self.assertTrue(done["handle"].startswith(front + "/" + path_of(h).split("/")[1]))
            st, _, b = via(self.nginx.port, "GET", path_of(done["handle"]))
            self.assertEqual(json.loads(b)["results"], [{"k": i, "v": "v%d" % i}])

        # fresh jobs on both nodes, results not yet read
        later = {self.submit(i): i for i in range(100, 120)}
        for h in later:
            wait_done(self.nginx.port, path_of(h))
        mine = {h: i for h, i in later.items() if "/n2/" in h}
        theirs = {h: i for h, i in later.items() if "/n1/" in h}
        self.assertTrue(mine and theirs)

        # node 2 goes away: its handles fail (5xx), node 1 and the front door go on
        port2 = self.n2.port
        self.assertEqual(self.n2.stop(), 0)
        for h in mine:
            st, _, _ = via(self.nginx.port, "GET", path_of(h))
            self.assertGreaterEqual(st, 500)
        for h in theirs:
            self.assertEqual(wait_done(self.nginx.port, path_of(h))["status"], "success")
        for i in range(10):
            h = self.submit(200 + i)
            self.assertIn("/n1/", h)
            self.assertEqual(wait_done(self.nginx.port, path_of(h))["status"], "success")

        # node 2 back on its port and data: its handles work again
        self.n2 = Qgate(("--public-url", "/n2", "--trusted-proxies", "127.0.0.1/32",
                         "--listen", "127.0.0.1:%d" % port2), data=self.data2).start()
        type(self).n2 = self.n2
        for h, i in mine.items():
            done = wait_done(self.nginx.port, path_of(h))
            self.assertEqual(done["status"], "success")
            st, _, b = via(self.nginx.port, "GET", path_of(done["handle"]))
            self.assertEqual(json.loads(b)["results"], [{"k": i, "v": "v%d" % i}])


if __name__ == "__main__":
    main()
