"""GET /query/service/jobs: the caller's recent stored jobs.

Own jobs only (two principals and a readonly one with --auth-file; every
anonymous client is one principal without it), newest first, each state
with what it shows (progress while queued or running, result handles once
ended, errors), limit and paging, bad parameters, statements cut, expired
jobs left out, and the list after a restart.
"""
# qgate-backends: sqlite pg

import time
import urllib.parse

from harness import FOREVER, ON_PG, SLOW, Qgate, QgateTestCase, auth_file, main

FAILS = "SELECT 1/0 AS x" if ON_PG else "SELECT abs(-9223372036854775808) AS x"


def job_id(handle):
    return int(handle.rsplit("/", 1)[1].split("-")[0])


class Listing(QgateTestCase):
    """One principal (no --auth-file), one worker: a long job holds it, so
    the next one stays queued."""

    ARGS = ("--workers", "1")

    def submit(self, statement, mode="async", **params):
        r = self.q.query(statement, mode=mode, **params)
        self.assertIn(r.status, (200, 500), r)
        doc = r.json()
        h = doc.get("handle") or doc.get("statusHandle")
        return job_id(h) if h else None

    def jobs(self, query="", status=200):
        r = self.q.request("GET", "/query/service/jobs" + (("?" + query) if query else ""))
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.headers["content-type"], "application/json; charset=UTF-8")
        return r.json()

    def wait_state(self, jid, state, key=None):
        """Until job jid is in state (and, with key, shows that field)."""
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline:
            for j in self.jobs("limit=100")["jobs"]:
                if j["jobId"] == jid and j["state"] == state and (key is None or key in j):
                    return j
            time.sleep(0.05)
        self.fail("job %d never %s: %s" % (jid, state, self.jobs()))

    def test_states_newest_first(self):
        ok = self.submit("SELECT 1 AS x", client_context_id="ok", wait="10s")
        deferred = self.submit("SELECT 2 AS x", mode="deferred", client_context_id="def")
        bad = self.submit(FAILS, client_context_id="bad", wait="10s")
        slow = self.submit(FOREVER, client_context_id="slow", timeout="300ms", wait="10s")
        self.assertEqual(self.q.query("SELECT 3 AS x", client_context_id="imm").status, 200)
        running = self.submit(FOREVER, client_context_id="run")
        queued = None
        try:
            # state comes from the worker as soon as it takes the job,
            # startTime from the store once the start is committed
            self.wait_state(running, "running", "startTime")
            queued = self.submit("SELECT 4 AS x", client_context_id="queued")
            self.check_states(ok, deferred, bad, slow, running, queued)
        finally:
            for jid in (running, queued):
                if jid:
                    self.q.request("DELETE", "/query/service/status/%d-0" % jid)

    def check_states(self, ok, deferred, bad, slow, running, queued):

        doc = self.jobs("limit=100")
        self.assertEqual(doc["limit"], 100)
        mine = (ok, deferred, bad, slow, running, queued)
        got = [(j["jobId"], j["state"], j.get("clientContextID")) for j in doc["jobs"]
               if j["jobId"] in mine]
        self.assertEqual(got, [(queued, "queued", "queued"), (running, "running", "run"),
                               (slow, "timeout", "slow"), (bad, "failed", "bad"),
                               (deferred, "success", "def"), (ok, "success", "ok")])
        by = {j["clientContextID"]: j for j in doc["jobs"] if j["jobId"] in mine}
        base = "http://127.0.0.1:%d/query/service/" % self.q.port
        for j in doc["jobs"]:
            self.assertEqual(j["handle"], "%sstatus/%d-0" % (base, j["jobId"]))
            self.assertIn("submitTime", j)
            self.assertRegex(j["requestID"], r"^[0-9a-f-]{36}$")
        # queued and running: progress as GET /status shows it, no results yet
        self.assertEqual(by["queued"]["status"], "running")
        self.assertEqual(by["queued"]["progress"]["state"], "queued")
        self.assertNotIn("startTime", by["queued"])
        self.assertEqual(by["run"]["progress"]["state"], "running")
        self.assertIn("startTime", by["run"])
        self.assertNotIn("results", by["run"])
        # ended: times, sets with handles that read, errors when it failed
        self.assertEqual(by["def"]["mode"], "deferred")
        self.assertEqual(by["ok"]["mode"], "async")
        self.assertEqual(by["ok"]["statement"], "SELECT 1 AS x")
        self.assertEqual(by["ok"]["resultCount"], 1)
        for key in ("startTime", "stopTime", "expireTime"):
            self.assertIn(key, by["ok"])
        s = by["ok"]["results"][0]
        self.assertEqual((s["set"], s["rows"], s["readsLeft"]), (0, 1, 1))
        r = self.q.request("GET", urllib.parse.urlparse(s["handle"]).path)
        self.assertEqual(r.json()["results"], [{"x": 1}])
        # a used-up set has no handle left
        used = [x for x in self.jobs()["jobs"] if x["jobId"] == ok][0]["results"][0]
        self.assertEqual(used["readsLeft"], 0)
        self.assertNotIn("handle", used)
        self.assertEqual(by["bad"]["status"], "failed")
        self.assertTrue(by["bad"]["errors"][0]["msg"].startswith("ASX0901"), by["bad"])
        self.assertTrue(by["slow"]["errors"][0]["msg"].startswith("ASX0030"), by["slow"])
        # cancelled through the handle the list gives (the queued one first:
        # the running one holds the only worker until it is cancelled)
        for jid in (queued, running):
            h = urllib.parse.urlparse(by["run" if jid == running else "queued"]["handle"]).path
            self.assertEqual(self.q.request("DELETE", h).status, 200)
            j = self.wait_state(jid, "failed")
            self.assertTrue(j["errors"][0]["msg"].startswith("ASX0041"), j)

    def test_limit_paging_and_bad_values(self):
        ids = [self.submit("SELECT %d AS n" % i, wait="10s") for i in range(25)]
        self.assertEqual(len(self.jobs()["jobs"]), 20)
        seen, before, pages = [], None, 0
        while True:
            doc = self.jobs("limit=7" + ("&before=%d" % before if before else ""))
            self.assertLessEqual(len(doc["jobs"]), 7)
            seen += [j["jobId"] for j in doc["jobs"]]
            pages += 1
            if "nextBefore" not in doc:
                break
            before = doc["nextBefore"]
        mine = [j for j in seen if j in ids]
        self.assertEqual(mine, sorted(ids, reverse=True))
        self.assertEqual(seen, sorted(seen, reverse=True))
        self.assertGreaterEqual(pages, 4)
        self.assertEqual(len(self.jobs("limit=100")["jobs"]), len(seen))
        for q, name, hint in (("limit=0", "limit", "from 1 to 100"), ("limit=101", "limit", "from 1 to 100"),
                              ("limit=-1", "limit", "from 1 to 100"), ("limit=abc", "limit", "e.g. limit=20"),
                              ("limit=1.5", "limit", "from 1 to 100"), ("before=x", "before", "job number"),
                              ("before=0", "before", "nextBefore"), ("limit=%zz", "<query string>", "hex")):
            r = self.q.request("GET", "/query/service/jobs?" + q)
            self.assertEqual(r.status, 400, q)
            msg = r.json()["errors"][0]["msg"]
            self.assertTrue(msg.startswith("ASX0047: Invalid value for parameter '%s'" % name), msg)
            self.assertIn(hint, msg)
        # first value wins, unknown names are ignored
        self.assertEqual(len(self.jobs("limit=2&limit=500&colour=blue")["jobs"]), 2)
        self.assertEqual(self.q.request("POST", "/query/service/jobs").status, 405)

    def test_statement_cut_on_a_character(self):
        long_text = "SELECT '" + "é" * 400 + "' AS s"
        jid = self.submit(long_text, wait="10s", client_context_id="ü" * 300)
        j = [x for x in self.jobs()["jobs"] if x["jobId"] == jid][0]
        self.assertTrue(j["statementTruncated"])
        self.assertTrue(long_text.startswith(j["statement"]))
        self.assertLessEqual(len(j["statement"].encode()), 256)
        self.assertGreaterEqual(len(j["statement"].encode()), 255)
        self.assertTrue(j["clientContextIDTruncated"])
        self.assertEqual(j["clientContextID"], "ü" * 128)

    def test_expired_jobs_are_left_out(self):
        jid = self.submit("SELECT 5 AS x", wait="10s", result_dash_ttl="1s")
        self.assertIn(jid, [j["jobId"] for j in self.jobs()["jobs"]])
        deadline = time.time() + 20 * SLOW
        while jid in [j["jobId"] for j in self.jobs()["jobs"]]:
            self.assertLess(time.time(), deadline, "an expired job is still listed")
            time.sleep(0.1)
        self.assertEqual(self.q.request("GET", "/query/service/status/%d-0" % jid).status, 404)


class Principals(QgateTestCase):
    """With --auth-file a principal lists its own jobs and nobody else's."""

    TOKENS = {"alice": "t-alice", "bob": "t-bob", "reader": "t-reader"}
    ARGS = ("--auth-file", auth_file(TOKENS, readonly=("reader",)))

    def as_(self, who):
        return {"Authorization": "Bearer " + self.TOKENS[who]}

    def submit(self, who, n):
        r = self.q.query("SELECT %d AS n" % n, mode="async", wait="10s",
                         client_context_id="%s-%d" % (who, n), headers=self.as_(who))
        self.assertEqual(r.status, 200, r)
        return job_id(r.json()["handle"])

    def listed(self, who, query="limit=100"):
        r = self.q.request("GET", "/query/service/jobs?" + query, headers=self.as_(who))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_own_jobs_only(self):
        alice = [self.submit("alice", i) for i in range(2)]
        # bob's many newer jobs do not push alice's out of her list: the
        # listing follows her own index entries, it does not scan the store
        bob = [self.submit("bob", i) for i in range(60)]
        reader = [self.submit("reader", 1)]
        for who, ids in (("alice", alice), ("bob", bob), ("reader", reader)):
            got = [j["jobId"] for j in self.listed(who)["jobs"]]
            self.assertEqual(got, sorted(ids, reverse=True), who)
            for j in self.listed(who)["jobs"]:
                self.assertTrue(j["clientContextID"].startswith(who + "-"), j)
        self.assertEqual([j["jobId"] for j in self.listed("alice", "limit=2")["jobs"]],
                         sorted(alice, reverse=True))
        # another principal's job numbers as before= show nothing of theirs
        doc = self.listed("alice", "before=%d" % (max(bob) + 1))
        self.assertEqual([j["jobId"] for j in doc["jobs"]], sorted(alice, reverse=True))
        for headers in ({}, {"Authorization": "Bearer nope"}):
            r = self.q.request("GET", "/query/service/jobs", headers=headers)
            self.assertEqual(r.status, 401)
            self.assertTrue(r.json()["errors"][0]["msg"].startswith("ASX0910"))
        # the handles bob lists are his: alice gets 404 for them
        h = urllib.parse.urlparse(self.listed("bob", "limit=1")["jobs"][0]["handle"]).path
        self.assertEqual(self.q.request("GET", h, headers=self.as_("alice")).status, 404)
        self.assertEqual(self.q.request("DELETE", h, headers=self.as_("alice")).status, 404)


class Restart(QgateTestCase):
    """The list is in the store: the same after a restart, and anonymous
    jobs stored before it are still the anonymous principal's."""

    def test_same_list_after_restart(self):
        q = Qgate(backend=self.backend_uri).start()
        try:
            for i in range(3):
                r = q.query("SELECT %d AS n" % i, mode="async", wait="10s")
                self.assertEqual(r.status, 200, r)
            before = q.request("GET", "/query/service/jobs").json()["jobs"]
            self.assertEqual(len(before), 3)
            self.assertEqual(q.stop(), 0)
            q.start()
            after = q.request("GET", "/query/service/jobs").json()["jobs"]
            strip = lambda js: [(j["jobId"], j["state"], j["statement"], j["resultCount"],
                                 j["results"][0]["readsLeft"]) for j in js]
            self.assertEqual(strip(after), strip(before))
            r = q.query("SELECT 9 AS n", mode="async", wait="10s")
            newest = q.request("GET", "/query/service/jobs?limit=1").json()["jobs"][0]
            self.assertEqual(newest["jobId"], job_id(r.json()["handle"]))
        finally:
            q.stop()
            self.assertEqual(q.sanitizer_reports(), [])
            q.cleanup()


if __name__ == "__main__":
    main()
