"""A stored job's lifecycle end to end: async submissions that wait for
their result (wait=, on_wait_timeout), retry-safe submissions
(Idempotency-Key, also across kill -9), progress of queued and running jobs,
and signed callback deliveries a receiver verifies."""
# qgate-backends: sqlite pg

import atexit
import hashlib
import hmac
import json
import os
import shutil
import socket
import tempfile
import time
import unittest
import urllib.parse
import uuid

from harness import ON_PG, PgAdmin, Qgate, QgateTestCase, SLOW, main
from jobhelp import BOOM, FOREVER, JobsMixin, Receiver, path_of

# rows without end, produced as the statement runs
ENDLESS = ("SELECT generate_series(1, 1000000000000) AS x" if ON_PG else
           "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c")


class Wait(JobsMixin, QgateTestCase):
    ARGS = ("--max-wait", "20s", "--drain-timeout", "2s")

    def test_fast_job_answers_with_its_result(self):
        t0 = time.time()
        r = self.q.query("SELECT 41 + 1 AS answer", mode="async", wait="15s",
                         client_context_id="w-1")
        self.assertLess(time.time() - t0, 10 * SLOW)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(list(doc), ["requestID", "clientContextID", "signature", "handle",
                                     "plans", "status", "metrics"])
        self.assertEqual(doc["status"], "success")
        self.assertRegex(doc["handle"], r"/query/service/result/\d+-0$")
        self.assertEqual(self.get(path_of(doc["handle"])).json()["results"], [{"answer": 42}])
        # the job is a stored async job like any other
        st = self.status(doc["handle"].replace("/result/", "/status/"))
        self.assertEqual((st["status"], st["requestID"]), ("success", doc["requestID"]))

    def test_failure_within_the_wait(self):
        r = self.q.query(BOOM, mode="async", wait="15s")
        doc = r.json()
        self.assertEqual(r.status, 500, r)
        self.assertEqual(doc["status"], "fatal")
        self.assertTrue(doc["errors"][0]["msg"].startswith("ASX0901"), doc)
        self.assertNotIn("handle", doc)
        self.assertEqual(self.status(doc["statusHandle"])["status"], "failed")

    def test_slow_job_answers_with_its_status_handle(self):
        t0 = time.time()
        r = self.q.query(FOREVER, mode="async", wait="300ms", client_context_id="w-slow")
        took = time.time() - t0
        self.assertGreaterEqual(took, 0.29)
        doc = r.json()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(doc["status"], "running")
        self.assertRegex(doc["handle"], r"/query/service/status/\d+-0$")
        st = self.status(doc["handle"])
        self.assertEqual(st["status"], "running")  # it goes on
        self.assertEqual(self.q.request("DELETE", path_of(doc["handle"])).status, 200)
        self.assertEqual(self.wait_status(doc["handle"])["status"], "failed")

    def test_on_wait_timeout_cancel(self):
        r = self.q.query(FOREVER, mode="async", wait="300ms", on_wait_timeout="cancel")
        doc = r.json()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(doc["status"], "timeout")
        self.assertEqual(doc["errors"][0]["msg"], "ASX0030: Request timed out and will be cancelled")
        # answered once the job has stopped: its status says so already
        st = self.status(doc["statusHandle"])
        self.assertEqual(st["status"], "timeout")
        self.assertEqual(st["statements"][0]["state"], "error")
        self.assertEqual([e for e in self.running() if e["uuid"] == doc["requestID"]], [])

    def test_bad_waits(self):
        r = self.q.query("SELECT 1", mode="async", wait="21s")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errors"][0]["msg"],
                         "ASX0047: Invalid value for parameter 'wait': 21s. wait may be at most "
                         "20s (the server's --max-wait); poll the status handle for longer jobs")
        r = self.q.query("SELECT 1", mode="async", wait="1s", on_wait_timeout="abort")
        self.assertEqual(r.status, 400)

    def running(self):
        return self.q.request("GET", "/admin/requests/running").json()


class WaitQueued(JobsMixin, QgateTestCase):
    """One worker: a waiting job that never started is cancelled in the queue."""
    ARGS = ("--workers", "1", "--drain-timeout", "2s")

    def test_queued_job_cancelled_when_the_wait_runs_out(self):
        busy = self.submit(FOREVER, client_context_id="busy")
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            if self.status(busy)["progress"]["state"] == "running":
                break
            time.sleep(0.02)
        r = self.q.query("SELECT 1 AS one", mode="async", wait="300ms", on_wait_timeout="cancel")
        doc = r.json()
        self.assertEqual((r.status, doc["status"]), (200, "timeout"), doc)
        st = self.status(doc["statusHandle"])
        self.assertEqual(st["status"], "timeout")
        self.assertEqual([x["state"] for x in st["statements"]], ["cancelled"])
        self.assertEqual(self.q.request("DELETE", path_of(busy)).status, 200)


class Progress(JobsMixin, QgateTestCase):
    ARGS = ("--workers", "1", "--drain-timeout", "2s")

    def test_progress_of_queued_and_running_jobs(self):
        h = self.submit(ENDLESS, timeout="60s", client_context_id="endless")
        queued = self.submit("SELECT 1 AS a; SELECT 2 AS b", client_context_id="behind")
        seen = []
        deadline = time.time() + 20 * SLOW
        while time.time() < deadline and len(seen) < 3:
            st = self.status(h)
            p = st["progress"]
            if p["state"] == "running" and p["resultCount"] > 0 and \
                    (not seen or p["resultCount"] > seen[-1]["resultCount"]):
                seen.append(p)
            time.sleep(0.05)
        self.assertEqual(len(seen), 3, seen)
        self.assertEqual(st["status"], "running")  # AsterixDB's field stays
        self.assertEqual(list(st)[0], "status")
        self.assertEqual(seen[-1]["statement"], 0)
        self.assertEqual(st["statements"][0]["state"], "started")
        for k in ("elapsedTime", "queueWaitTime", "executionTime"):
            self.assertIn(k, seen[-1])
        # the one behind it waits, and says so
        st = self.status(queued)
        self.assertEqual(st["status"], "running")
        self.assertEqual(st["progress"]["state"], "queued")
        self.assertEqual(st["progress"]["resultCount"], 0)
        self.assertEqual(st["progress"]["executionTime"], "0ns")
        self.assertNotIn("statement", st["progress"])
        self.assertEqual([x["state"] for x in st["statements"]], ["queued", "queued"])
        self.assertEqual([x["statement"] for x in st["statements"]], ["SELECT 1 AS a",
                                                                     "SELECT 2 AS b"])
        self.assertEqual(self.q.request("DELETE", path_of(h)).status, 200)
        st = self.wait_status(queued)
        self.assertEqual(st["status"], "success")
        self.assertNotIn("progress", st)


class Idempotency(JobsMixin, unittest.TestCase):
    """Each test runs its own daemons on one data directory (kill -9)."""

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="qgate-idem-")
        self.procs = []
        self.backend = None
        if ON_PG:
            self.pg = PgAdmin()
            self.db = self.pg.create_db()
            self.addCleanup(self.pg.drop_db, self.db)
            self.backend = self.pg.uri(self.db)

    def tearDown(self):
        for p in self.procs:
            p.cleanup()
            if p.sanitizer_reports():
                self.fail("sanitizer reports:\n" + p.log()[-8000:])
        shutil.rmtree(self.data, ignore_errors=True)

    def start(self):
        q = Qgate(("--drain-timeout", "2s"), data=self.data, backend=self.backend).start()
        self.procs.append(q)
        return q

    def count(self, q, table):
        r = q.query("SELECT count(*) AS n FROM %s" % table)
        self.assertEqual(r.status, 200, r)
        return r.json()["results"][0]["n"]

    def test_one_job_one_execution_also_after_kill9(self):
        q = self.start()
        q.query("CREATE TABLE idem_a (k TEXT)")
        key = str(uuid.uuid4())
        r1 = q.query("INSERT INTO idem_a VALUES ('a')", mode="async",
                     headers={"Idempotency-Key": key}, client_context_id="first")
        self.assertEqual(r1.status, 200, r1)
        self.assertNotIn("idempotent-replayed", r1.headers)
        h = r1.json()["handle"]
        self.assertEqual(self.wait_status(h, q=q)["status"], "success")
        r2 = q.query("INSERT INTO idem_a VALUES ('a')", mode="async",
                     headers={"Idempotency-Key": key}, client_context_id="again")
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.headers.get("idempotent-replayed"), "true")
        d2 = r2.json()
        self.assertEqual((d2["handle"], d2["requestID"]), (h, r1.json()["requestID"]))
        self.assertEqual(d2["clientContextID"], "again")
        self.assertEqual(self.count(q, "idem_a"), 1)
        # the same key for another request: refused, nothing runs
        r3 = q.query("INSERT INTO idem_a VALUES ('b')", mode="async",
                     headers={"Idempotency-Key": key})
        self.assertEqual(r3.status, 409, r3)
        self.assertTrue(r3.json()["errors"][0]["msg"].startswith("ASX0917"), r3)
        r3 = q.query("INSERT INTO idem_a VALUES ('a')", mode="async", readonly="false",
                     max_dash_result_dash_reads="2", idempotency_key=key)
        self.assertEqual(r3.status, 409, r3)  # the options count too
        # after a crash, the key still names the job
        q.kill9()
        q = self.start()
        r4 = q.query("INSERT INTO idem_a VALUES ('a')", mode="async", idempotency_key=key)
        self.assertEqual(r4.status, 200, r4)
        # the same job (its handle built from this request's Host, as any is)
        self.assertEqual(path_of(r4.json()["handle"]), path_of(h))
        self.assertEqual(r4.headers.get("idempotent-replayed"), "true")
        self.assertEqual(self.count(q, "idem_a"), 1)
        self.assertEqual(q.stop(), 0)

    def test_deferred_retry_gets_the_first_answer(self):
        q = self.start()
        q.query("CREATE TABLE idem_d (k TEXT)")
        r1 = q.query("INSERT INTO idem_d VALUES ('d')", mode="deferred", idempotency_key="d-1")
        d1 = r1.json()
        self.assertEqual((r1.status, d1["status"]), (200, "success"), r1)
        self.assertNotIn("signature", d1)
        r2 = q.query("INSERT INTO idem_d VALUES ('d')", mode="deferred", idempotency_key="d-1")
        d2 = r2.json()
        self.assertEqual(r2.headers.get("idempotent-replayed"), "true")
        self.assertEqual((d2["handle"], d2["requestID"], d2["status"]),
                         (d1["handle"], d1["requestID"], "success"))
        self.assertEqual(list(d2), list(d1))
        # a failed first try answers with its failure
        r1 = q.query(BOOM, mode="deferred", idempotency_key="d-2")
        r2 = q.query(BOOM, mode="deferred", idempotency_key="d-2")
        self.assertEqual((r1.status, r2.status), (500, 500))
        self.assertEqual(r2.json()["errors"], r1.json()["errors"])
        self.assertEqual(r2.json()["statusHandle"], r1.json()["statusHandle"])
        # keys are per mode of request too: async under a deferred key conflicts
        r = q.query("INSERT INTO idem_d VALUES ('d')", mode="async", idempotency_key="d-1")
        self.assertEqual(r.status, 409)
        self.assertEqual(self.count(q, "idem_d"), 1)
        self.assertEqual(q.stop(), 0)

    def test_lost_answers_and_racing_retries_run_once(self):
        q = self.start()
        q.query("CREATE TABLE idem_r (k TEXT)")
        body = urllib.parse.urlencode({"statement": "INSERT INTO idem_r VALUES ('r')",
                                       "mode": "async", "idempotency_key": "lost-1"})
        # the first client sends and goes away without reading its answer
        s = socket.create_connection(("127.0.0.1", q.port))
        s.sendall(("POST /query/service HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   "application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
                   % (len(body), body)).encode())
        s.close()
        # retries, several at once
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            rs = list(ex.map(lambda _: q.query("INSERT INTO idem_r VALUES ('r')", mode="async",
                                               idempotency_key="lost-1"), range(8)))
        self.assertEqual({r.status for r in rs}, {200})
        handles = {r.json()["handle"] for r in rs}
        self.assertEqual(len(handles), 1, handles)
        self.assertEqual(self.wait_status(handles.pop(), q=q)["status"], "success")
        self.assertEqual(self.count(q, "idem_r"), 1)
        self.assertEqual(q.stop(), 0)


SECRET = "s3cret-" + uuid.uuid4().hex


def signature_ok(headers, body, secret=SECRET):
    ts = headers.get("X-Qgate-Timestamp", "")
    sig = headers.get("X-Qgate-Signature", "")
    want = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(sig, want)


class SignedCallbacks(JobsMixin, QgateTestCase):
    ARGS = ("--callback-allow", "127.0.0.1:*", "--drain-timeout", "2s")
    ENV = {"QGATE_CALLBACK_SECRET": SECRET}  # from the environment, as the config allows

    def setUp(self):
        self.rx = Receiver()

    def tearDown(self):
        self.rx.close()
        super().tearDown()

    def test_receiver_verifies_the_signature(self):
        h = self.submit("SELECT 'signed' AS v", callback_url=self.rx.url())
        path, headers, body, code = self.rx.wait(1)[0]
        self.assertTrue(signature_ok(headers, body))
        self.assertLessEqual(abs(int(headers["X-Qgate-Timestamp"]) - time.time()), 300)
        self.assertEqual(json.loads(body)["handle"], h.replace("/status/", "/result/"))
        # a tampered body, a wrong secret or another timestamp fail
        tampered = body.replace(b'"success"', b'"failed"')
        self.assertNotEqual(tampered, body)
        self.assertFalse(signature_ok(headers, tampered))
        self.assertFalse(signature_ok(headers, body, secret="other"))
        moved = dict(headers, **{"X-Qgate-Timestamp": str(int(headers["X-Qgate-Timestamp"]) + 1)})
        self.assertFalse(signature_ok(moved, body))



def secret_file(text, mode=0o600):
    """A --callback-secret-file, removed when the test program exits."""
    fd, path = tempfile.mkstemp(prefix="qgate-secret-")
    atexit.register(lambda: os.path.exists(path) and os.unlink(path))
    os.write(fd, text.encode())
    os.close(fd)
    os.chmod(path, mode)
    return path


class SignedFromFile(SignedCallbacks):
    """The same signatures with the key in a file, where ps cannot see it."""
    ARGS = ("--callback-allow", "127.0.0.1:*", "--drain-timeout", "2s",
            "--callback-secret-file", secret_file(SECRET + "\n"))
    ENV = None

    def test_the_file_must_be_private_and_alone(self):
        for args, text in [(("--callback-secret-file", secret_file(SECRET, 0o640)),
                            "may be read by group or others"),
                           (("--callback-secret-file", secret_file("")), "empty"),
                           (("--callback-secret-file", "/nonexistent/qgate-secret"), "cannot read"),
                           (("--callback-secret-file", secret_file(SECRET), "--callback-secret",
                             "x"), "both given")]:
            q = Qgate(args)
            try:
                with self.assertRaises(RuntimeError) as cm:
                    q.start()
                self.assertIn(text, str(cm.exception), args)
            finally:
                q.cleanup()


if __name__ == "__main__":
    main()
