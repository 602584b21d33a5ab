"""Many clients, one gateway: the scheduler's lanes, fair queues and limits.

Principal alice fills the batch lane with async jobs that each run one
second (a CPU-bound statement stopped by its timeout, which for an async
job counts from its start); bob, meanwhile, must be served as if alice
were not there: his immediate, deferred and wait= requests do not queue
behind her backlog, and his async job starts when the next batch worker is
free. The bounds are generous (seconds, where the old single FIFO took
ten); the tight numbers are in bench/sched.py.
"""

import threading
import time

from harness import FOREVER_SQLITE, SLOW, QgateTestCase, auth_file, main
from jobhelp import JobsMixin, path_of

TOKENS = {"alice": "alice-token-1", "bob": "bob-token-2", "carol": "carol-token-3"}
BACKLOG = 20  # alice's one-second jobs: ten seconds of work on two workers


def who(name):
    return {"Authorization": "Bearer " + TOKENS[name]}


def auth_with_options():
    path = auth_file(TOKENS)
    with open(path) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        if line.startswith("carol "):
            line += " max-queued=3 max-running=1 weight=2 max-timeout=5s timeout=2s"
        out.append(line)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


class SchedCase(QgateTestCase, JobsMixin):
    ARGS = ("--auth-file", auth_with_options(), "--workers", "2", "--max-result-ttl", "48h",
            "--max-result-reads", "10", "--max-timeout", "1h")

    def as_(self, name, statement, **params):
        return self.q.query(statement, headers=who(name), **params)

    def backlog(self, name="alice", n=BACKLOG):
        """n async jobs of one second each for name; their handles."""
        handles = []
        for _ in range(n):
            r = self.as_(name, FOREVER_SQLITE, mode="async", timeout="1s")
            self.assertEqual(r.status, 200, r)
            handles.append(r.json()["handle"])
        return handles

    def drop(self, handles, name="alice"):
        for h in handles:
            self.q.request("DELETE", path_of(h), headers=who(name))

    def status_as(self, name, handle):
        r = self.q.request("GET", path_of(handle), headers=who(name))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def state(self, name, handle):
        """queued or running (progress), or the end status."""
        doc = self.status_as(name, handle)
        return doc.get("progress", {}).get("state", doc["status"])

    def metric(self, name, labels):
        text = self.q.request("GET", "/metrics", headers=who("bob")).body.decode()
        for line in text.splitlines():
            if line.startswith(name + "{") and all(l in line for l in labels):
                return float(line.rsplit(" ", 1)[1])
        self.fail("no %s %s in /metrics" % (name, labels))


class Lanes(SchedCase):
    def test_interactive_requests_do_not_wait_behind_a_backlog(self):
        handles = self.backlog()
        try:
            for params in ({}, {"mode": "deferred"}, {"mode": "async", "wait": "30s"}):
                t0 = time.monotonic()
                r = self.as_("bob", "SELECT 1 AS one", **params)
                took = time.monotonic() - t0
                self.assertEqual(r.status, 200, r)
                self.assertLess(took, 3.0 * SLOW, (params, took))
            # a stream, too
            t0 = time.monotonic()
            r = self.as_("bob", "SELECT 1 AS one", stream="true")
            self.assertEqual(r.status, 200, r)
            self.assertLess(time.monotonic() - t0, 3.0 * SLOW)
        finally:
            self.drop(handles)

    def test_a_second_principal_is_not_starved(self):
        handles = self.backlog()
        try:
            mine = self.as_("bob", "SELECT 2 AS two", mode="async")
            self.assertEqual(mine.status, 200, mine)
            t0 = time.monotonic()
            h = mine.json()["handle"]
            while True:
                doc = self.status_as("bob", h)
                if doc["status"] == "success":
                    break
                self.assertLess(time.monotonic() - t0, 4.0 * SLOW, doc)
                time.sleep(0.05)
            # alice's backlog is still there: bob did not wait for it
            queued = self.metric("qgate_sched_queued",
                                 ['pool="workers"', 'lane="batch"', 'principal="alice"'])
            self.assertGreater(queued, 5)
        finally:
            self.drop(handles)

    def test_async_work_progresses_under_an_interactive_flood(self):
        stop = threading.Event()

        def flood():
            while not stop.is_set():
                self.as_("bob", FOREVER_SQLITE, timeout="300ms")

        threads = [threading.Thread(target=flood) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.3)
            r = self.as_("alice", "SELECT 3 AS three", mode="async")
            self.assertEqual(r.status, 200, r)
            h = r.json()["handle"]
            t0 = time.monotonic()
            while self.status_as("alice", h)["status"] != "success":
                self.assertLess(time.monotonic() - t0, 10.0 * SLOW)
                time.sleep(0.05)
        finally:
            stop.set()
            for t in threads:
                t.join()

    def test_metrics_have_lanes_and_principals(self):
        self.as_("bob", "SELECT 1")
        text = self.q.request("GET", "/metrics", headers=who("bob")).body.decode()
        for want in ('qgate_sched_wait_seconds_bucket{pool="workers",lane="interactive",'
                     'principal="bob",le="0.001"}',
                     'qgate_sched_queued{pool="workers",lane="batch",principal="',
                     'qgate_sched_queued{pool="checker",lane="batch",principal="',
                     'qgate_sched_rejected_total{principal="',
                     "# TYPE qgate_sched_wait_seconds histogram"):
            self.assertIn(want, text)


class Limits(SchedCase):
    def test_principal_queue_limit_is_its_own(self):
        # carol may queue 3 (auth file); alice's backlog does not count
        handles = self.backlog(n=4)
        mine = []
        try:
            for _ in range(3):
                r = self.as_("carol", FOREVER_SQLITE, mode="async", timeout="1s")
                self.assertEqual(r.status, 200, r)
                mine.append(r.json()["handle"])
            r = self.as_("carol", "SELECT 1", mode="async")
            doc = self.assertError(r, 429, "ASX0924")
            self.assertIn("carol", doc["errors"][0]["msg"])
            self.assertIn("max-queued", doc["errors"][0]["msg"])
            self.assertEqual(r.headers.get("retry-after"), "1")
            # others still get in
            self.assertEqual(self.as_("bob", "SELECT 1", mode="async").status, 200)
            self.assertGreaterEqual(self.metric("qgate_sched_rejected_total",
                                                ['principal="carol"', 'reason="principal_queued"']),
                                    1)
        finally:
            self.drop(mine, "carol")
            self.drop(handles)

    def test_maxima_are_refused_with_the_limit_named(self):
        cases = [({"result-ttl": "49h", "mode": "async"}, "--max-result-ttl"),
                 ({"max-result-reads": "11", "mode": "async"}, "--max-result-reads"),
                 ({"timeout": "2h"}, "--max-timeout"),
                 ({"timeout": "6s"}, "max-timeout=")]
        for params, named in cases:
            name = "carol" if named == "max-timeout=" else "bob"
            params = {k.replace("-", "_dash_"): v for k, v in params.items()}
            r = self.as_(name, "SELECT 1", **params)
            doc = self.assertError(r, 400, "ASX0923")
            self.assertIn(named, doc["errors"][0]["msg"])
            self.assertIn("ask for at most", doc["errors"][0]["msg"])
        # at the maximum: fine
        r = self.as_("bob", "SELECT 1", mode="async", result_dash_ttl="48h",
                     max_dash_result_dash_reads="10")
        self.assertEqual(r.status, 200, r)

    def test_principal_default_timeout(self):
        # carol's requests without a timeout get hers (2s)
        t0 = time.monotonic()
        r = self.as_("carol", FOREVER_SQLITE)
        self.assertEqual(r.json()["status"], "timeout", r)
        self.assertLess(time.monotonic() - t0, 10 * SLOW)

    def test_principal_running_limit(self):
        # carol may run one async job at a time, however many are free
        mine = []
        try:
            for _ in range(2):
                r = self.as_("carol", FOREVER_SQLITE, mode="async", timeout="2s")
                mine.append(r.json()["handle"])
            deadline = time.monotonic() + 5 * SLOW
            while self.state("carol", mine[0]) == "queued":
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)
            for _ in range(10):
                self.assertEqual(self.metric("qgate_sched_running",
                                             ['pool="workers"', 'lane="batch"',
                                              'principal="carol"']) <= 1, True)
                time.sleep(0.05)
            self.assertEqual(self.state("carol", mine[1]), "queued")
        finally:
            self.drop(mine, "carol")


if __name__ == "__main__":
    main()
