"""CORS in a real browser: headless Chromium loads pages from three origins
and each page calls qgate with fetch() and a form POST.

qgate is started with --cors-origins naming one page server's origin. The
listed page must read answers and send a DELETE (which needs a preflight);
an unlisted page and a sandboxed frame (Origin: null) must read nothing,
and their form POSTs of a DELETE statement must not run.

Chromium may reach nothing but this machine's loopback: every host name but
127.0.0.1 resolves to nothing and every proxied request goes to a closed
loopback port; its background services are off.
"""

import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest

from harness import SLOW, Qgate, main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PAGE = """<!doctype html><html><body><script>
const QGATE = "%(qgate)s";
async function attempt(f) {
  try { return await f(); } catch (e) { return "blocked"; }
}
async function run() {
  const out = {};
  out.read = await attempt(async () => {
    const r = await fetch(QGATE + "/query/service", {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({statement: "SELECT count(*) AS n FROM customers"})});
    return (await r.json()).results;
  });
  out.remove = await attempt(async () => {
    const r = await fetch(QGATE + "/query/service/result/999-0", {method: "DELETE"});
    return r.status;
  });
  out.exposed = await attempt(async () => {
    const r = await fetch(QGATE + "/query/service", {method: "POST",
      body: new URLSearchParams({statement: "SELEC 1"})});
    return r.headers.get("Server") ? "visible" : "hidden";
  });
  // a form POST needs no preflight: the browser sends it, the page cannot
  // read the answer; qgate must not run it
  await attempt(async () => fetch(QGATE + "/query/service", {method: "POST", mode: "no-cors",
    body: new URLSearchParams({statement: "DELETE FROM orders WHERE id = %(victim)d"})}));
  return out;
}
%(start)s
</script></body></html>"""

# The page runs itself, or (null origin) inside a sandboxed frame that
# reports to its parent.
REPORT = """function report(text) {
  fetch("/done", {method: "POST", body: text});  /* the page's own server */
}"""
TOP = REPORT + "run().then(o => report(JSON.stringify(o)));"
FRAMED = REPORT + """
if (window.parent !== window) {
  run().then(o => window.parent.postMessage(JSON.stringify(o), "*"));
} else {
  window.addEventListener("message", e => report(e.data));
  const f = document.createElement("iframe");
  f.setAttribute("sandbox", "allow-scripts");
  f.src = location.href;
  document.body.appendChild(f);
}"""


class PageServer:
    """Serves one page, render(), on a loopback port of its own (an
    origin), and takes the page's report of what it saw (POST /done)."""

    def __init__(self, render):
        server = self
        self.done = threading.Event()
        self.report = None

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                server.report = json.loads(self.rfile.read(n))
                self.send_response(204)
                self.end_headers()
                server.done.set()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def browse(page):
    """Has headless Chromium open the page; returns what the page reported."""
    profile = tempfile.mkdtemp(prefix="qgate-chromium-")
    page.done.clear()
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--user-data-dir=" + profile, "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps",
         "--disable-domain-reliability", "--disable-client-side-phishing-detection",
         "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=127.0.0.1", page.origin + "/"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        if not page.done.wait(120 * SLOW):
            raise AssertionError("the page at %s reported nothing" % page.origin)
        return page.report
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


class Browser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not CHROMIUM:
            raise RuntimeError("no chromium: scripts/deps.sh test installs it")
        # the page servers first: qgate must be told the listed origin
        cls.q = None
        cls.listed = cls.page(TOP, 201)
        cls.other = cls.page(TOP, 202)
        cls.sandboxed = cls.page(FRAMED, 203)
        cls.q = Qgate(("--cors-origins", cls.listed.origin)).start()

    @classmethod
    def page(cls, start, victim):
        """A page server whose page attacks order number victim."""
        return PageServer(lambda: PAGE % {"qgate": "http://127.0.0.1:%d" % cls.q.port,
                                          "victim": victim, "start": start})

    @classmethod
    def tearDownClass(cls):
        for p in (cls.listed, cls.other, cls.sandboxed):
            p.close()
        if cls.q:
            rc = cls.q.stop()
            cls.q.cleanup()
            assert rc == 0, rc

    def order_exists(self, oid):
        r = self.q.query("SELECT count(*) AS n FROM orders WHERE id = %d" % oid)
        return r.json()["results"][0]["n"] == 1

    def test_listed_page_reads_and_deletes(self):
        self.assertTrue(self.order_exists(201))
        out = browse(self.listed)
        self.assertEqual(out["read"], [{"n": 20}])
        self.assertEqual(out["remove"], 404)  # the preflight passed; no such result
        self.assertEqual(out["exposed"], "visible")
        # its own form POST ran: the page's origin is listed
        self.assertFalse(self.order_exists(201))

    def test_unlisted_page_reads_nothing_and_runs_nothing(self):
        self.assertTrue(self.order_exists(202))
        out = browse(self.other)
        self.assertEqual(out, {"read": "blocked", "remove": "blocked", "exposed": "blocked"})
        self.assertTrue(self.order_exists(202))
        self.assertIn("403", self.q.wait_log("POST /query/service 403"))

    def test_sandboxed_frame_with_null_origin(self):
        self.assertTrue(self.order_exists(203))
        out = browse(self.sandboxed)
        self.assertEqual(out, {"read": "blocked", "remove": "blocked", "exposed": "blocked"})
        self.assertTrue(self.order_exists(203))


if __name__ == "__main__":
    main()
