"""The console (/console): its files as HTTP serves them, and the page
driven by headless Chromium (tests/e2e/console_browser.mjs, playwright-core
from tests/node) as a person uses it: directly, with --auth-file, through
the shipped nginx config, and through the cluster config behind a path
prefix (/n2/console).

A browser run is skipped, with the reason printed, only when Chromium
cannot start at all; anything else the page does wrong fails the test.
"""

import json
import os
import re
import shutil
import subprocess
import unittest
import urllib.request

from harness import FOREVER_SQLITE, SLOW, Qgate, QgateTestCase, auth_file, main
from nginx import Nginx

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = shutil.which("node")
DRIVER = os.path.join(HERE, "console_browser.mjs")
MODULES = os.path.join(HERE, "..", "node", "node_modules", "playwright-core")
# A stream whose first row comes at once and whose second never does.
LIVE_STREAM = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
               "SELECT 'first' AS x UNION ALL SELECT count(*) FROM c")
ALL_STEPS = ["load", "immediate", "stream", "cancel", "deferred", "csv", "async_job",
             "job_cancel"]


def drive(test, url, steps, **extra):
    """Runs the driver on the page at url; fails the test with the
    driver's words when a step fails, skips it when Chromium cannot
    start."""
    if not NODE:
        test.fail("no node: scripts/deps.sh test installs Node.js")
    if not os.path.isdir(MODULES):
        test.fail("no playwright-core in tests/node: scripts/deps.sh test runs npm ci there")
    cfg = {"url": url, "steps": steps, "forever": FOREVER_SQLITE, "live_stream": LIVE_STREAM}
    cfg.update(extra)
    env = dict(os.environ, QGATE_SLOW=str(SLOW))
    p = subprocess.run([NODE, DRIVER, json.dumps(cfg)], capture_output=True, text=True,
                       timeout=600 * SLOW, env=env)
    out = p.stdout + p.stderr
    if p.returncode == 77:
        print(out.strip())
        test.skipTest(out.strip())
    test.assertEqual(p.returncode, 0, "the console in Chromium:\n" + out)
    for s in steps:
        test.assertIn("ok " + s, out)


class Files(QgateTestCase):
    """What HTTP serves: types, security headers, caching, addresses."""

    def test_page_and_files(self):
        for path, ctype in (("/console", "text/html; charset=utf-8"),
                            ("/console/console.js", "text/javascript; charset=utf-8"),
                            ("/console/console.css", "text/css; charset=utf-8"),
                            ("/console/icon.svg", "image/svg+xml")):
            r = self.q.request("GET", path)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.headers["content-type"], ctype)
            csp = r.headers["content-security-policy"]
            self.assertIn("default-src 'self'", csp)
            self.assertIn("frame-ancestors 'none'", csp)
            self.assertNotIn("unsafe-inline", csp)
            self.assertEqual(r.headers["x-content-type-options"], "nosniff")
            self.assertEqual(r.headers["x-frame-options"], "DENY")
            self.assertEqual(r.headers["cache-control"], "no-cache")
            self.assertRegex(r.headers["etag"], r'^"[0-9a-f]{16}"$')
            # revalidation: the same file is 304 without a body
            again = self.q.request("GET", path, headers={"If-None-Match": r.headers["etag"]})
            self.assertEqual(again.status, 304)
            self.assertEqual(again.body, b"")
            changed = self.q.request("GET", path, headers={"If-None-Match": '"0000000000000000"'})
            self.assertEqual(changed.status, 200)

    def test_page_has_no_inline_script_or_style_and_only_relative_urls(self):
        html = self.q.request("GET", "/console").body.decode()
        self.assertNotRegex(html, r"<script(?![^>]*\bsrc=)")
        self.assertNotRegex(html, r"\sstyle=|<style|\son[a-z]+=")
        for url in re.findall(r'(?:src|href)="([^"]*)"', html):
            self.assertFalse(url.startswith(("/", "http:", "https:", "//")), url)
        js = self.q.request("GET", "/console/console.js").body.decode()
        self.assertNotIn("innerHTML", js)
        for url in re.findall(r'call\("([^"?]*)', js):
            self.assertFalse(url.startswith("/"), url)

    def test_addresses(self):
        r = self.q.request("GET", "/console/")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.headers["location"], "../console")
        for path in ("/console/nope.js", "/console/../console", "/consoles"):
            self.assertEqual(self.q.request("GET", path).status, 404, path)
        self.assertEqual(self.q.request("POST", "/console").status, 405)


class Authenticated(QgateTestCase):
    """With --auth-file the page loads without a token (it holds no data);
    every call it makes needs one, and lists only the caller's jobs."""

    TOKENS = {"alice": "alice-token", "bob": "bob-token"}
    ARGS = ("--auth-file", auth_file(TOKENS))

    def submit(self, who, ccid):
        r = self.q.query("SELECT %r AS who" % who, mode="async", client_context_id=ccid,
                         headers={"Authorization": "Bearer " + self.TOKENS[who]})
        self.assertEqual(r.status, 200, r)

    def test_page_needs_no_token_but_calls_do(self):
        self.assertEqual(self.q.request("GET", "/console").status, 200)
        self.assertEqual(self.q.request("GET", "/console/console.js").status, 200)
        self.assertEqual(self.q.request("GET", "/query/service/jobs").status, 401)

    def test_console_with_a_token(self):
        self.submit("alice", "alice-job-1")
        self.submit("bob", "bob-job-1")
        self.submit("alice", "alice-job-2")
        drive(self, "http://127.0.0.1:%d/console" % self.q.port, ["auth"],
              token=self.TOKENS["alice"],
              ccids={"mine": ["alice-job-2", "alice-job-1"], "theirs": ["bob-job-1"]})


class InChromium(QgateTestCase):
    """Every step, straight to qgate."""

    def test_console(self):
        drive(self, "http://127.0.0.1:%d/console" % self.q.port, ALL_STEPS)
        # nothing the page cancelled is left running
        r = self.q.request("GET", "/admin/requests/running")
        self.assertEqual(r.json(), [])


class ThroughNginx(unittest.TestCase):
    """The shipped nginx configs: one node, and a cluster whose second node
    is reached under /n2 (its --public-url): the page calls that node."""

    @classmethod
    def setUpClass(cls):
        cls.nodes, cls.fronts = [], []

    @classmethod
    def tearDownClass(cls):
        for n in cls.fronts:
            n.stop()
        for q in cls.nodes:
            rc = q.stop()
            q.cleanup()
            assert rc == 0, rc
            assert not q.sanitizer_reports(), q.log()[-4000:]

    def node(self, *args):
        q = Qgate(("--trusted-proxies", "127.0.0.1/32") + args).start()
        self.nodes.append(q)
        return q

    def test_one_node(self):
        q = self.node()
        front = Nginx("qgate.conf", {19002: q.port}).start()
        self.fronts.append(front)
        drive(self, "http://127.0.0.1:%d/console" % front.port,
              ["load", "immediate", "stream", "cancel", "deferred", "async_job"])

    def test_node_behind_a_path_prefix(self):
        n1, n2 = self.node("--public-url", "/n1"), self.node("--public-url", "/n2")
        front = Nginx("qgate-cluster.conf", {19002: n1.port, 19003: n2.port}).start()
        self.fronts.append(front)
        drive(self, "http://127.0.0.1:%d/n2/console" % front.port,
              ["load", "immediate", "deferred", "async_job", "job_cancel"])
        # the page's stored jobs are node 2's, reached through /n2
        def jobs(prefix):
            url = "http://127.0.0.1:%d%s/query/service/jobs" % (front.port, prefix)
            with urllib.request.urlopen(url, timeout=30) as r:
                return json.load(r)["jobs"]
        mine = jobs("/n2")
        self.assertTrue(mine)
        for j in mine:
            self.assertTrue(j["handle"].startswith("http://127.0.0.1:%d/n2/" % front.port), j)
        self.assertEqual(jobs("/n1"), [])


if __name__ == "__main__":
    main()
