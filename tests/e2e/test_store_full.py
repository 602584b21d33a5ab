"""The job store at its limits: a result that does not fit, a store full of
accepted jobs, a disk that runs out. What must hold: a job that could not be
stored whole fails, claims no rows and leaves no pages behind (the room is
usable again at once); every accepted job reaches an end state a client can
read; qgate always starts on its own store; a full disk is said to be one
and counted."""
# qgate-backends: sqlite pg

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import code_of, FOREVER_SQLITE, ON_PG, PgAdmin, Qgate, QgateTestCase, SLOW, main
from jobhelp import JobsMixin, job_of, path_of


def rows_stmt(n, pad=0):
    """n rows of {"x":..,"s":"row.."} (about 27 bytes each, plus pad)."""
    s = "'row' || x" + (" || '%s'" % ("p" * pad) if pad else "")
    return ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) "
            "SELECT x, %s AS s FROM c" % (n, s))


def metric(q, name):
    text = q.request("GET", "/metrics").body.decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no metric %s" % name)


class FullMixin(JobsMixin):
    def assertStoreFull(self, r):
        self.assertEqual(r.status, 500, r)
        doc = r.json()
        self.assertTrue(doc["errors"][0]["msg"].startswith("ASX0904"), doc)
        return doc

    def assertNothingKept(self, n, q=None):
        """Job n failed for lack of room: its status says so and claims no
        rows and no set; its result (whole, or a window) is not there."""
        q = q or self.q
        st = self.wait_status("/query/service/status/%d-0" % n, q=q)
        self.assertEqual(st["status"], "failed", st)
        self.assertTrue(st["errors"][0]["msg"].startswith("ASX0904"), st)
        self.assertNotIn("handle", st)
        for s in st["statements"]:
            self.assertNotIn("handle", s, st)
            self.assertEqual(s["rows"], 0, st)
            self.assertNotEqual(s["state"], "finished", st)
        for path in ("/query/service/result/%d-0" % n,
                     "/query/service/result/%d-0?offset=0&limit=1" % n):
            r = q.request("GET", path)
            self.assertEqual((r.status, code_of(r)), (404, "ASX0919"), path)

    def assertFits(self, rows, q=None):
        """A deferred job of rows rows is stored and reads back whole."""
        q = q or self.q
        r = q.query(rows_stmt(rows), mode="deferred", http_timeout=120)
        self.assertEqual(r.status, 200, (r, q.log()[-2000:]))
        res = q.request("GET", path_of(r.json()["handle"]), timeout=120)
        self.assertEqual(res.status, 200)
        self.assertEqual(len(res.json()["results"]), rows)


class PartialResult(FullMixin, QgateTestCase):
    """A 1 MiB store (about 800 KB of room for result pages)."""
    ARGS = ("--store-size", "1MiB", "--drain-timeout", "2s")

    def test_a_result_that_does_not_fit_leaves_nothing(self):
        # Sizes around the room: the refused page is sometimes the last
        # one, found by the worker only after its statement has ended.
        for n in (40000, 42000, 44000, 47000, 50000, 55000, 60000, 100000):
            doc = self.assertStoreFull(self.q.query(rows_stmt(n), mode="deferred",
                                                    http_timeout=120))
            self.assertNotIn("handle", doc)
            k, _ = job_of(doc["statusHandle"])
            self.assertNothingKept(k)
            # its room is usable again at once
            self.assertFits(2000)
        h = self.submit(rows_stmt(40000))
        self.assertNothingKept(job_of(h)[0])
        for _ in range(20):
            self.assertFits(2000)
        self.assertEqual(self.q.request("GET", "/health").status, 200)
        self.assertGreaterEqual(metric(self.q, "qgate_store_full_total"), 9)

    def test_a_batch_keeps_the_sets_completed_before(self):
        r = self.q.query("SELECT 7 AS a; " + rows_stmt(60000), mode="deferred")
        doc = self.assertStoreFull(r)
        k, _ = job_of(doc["statusHandle"])
        st = self.wait_status("/query/service/status/%d-0" % k)
        self.assertEqual(st["status"], "failed", st)
        s0, s1 = st["statements"]
        self.assertEqual((s0["state"], s0["rows"]), ("finished", 1))
        self.assertTrue(s0["handle"].endswith("/result/%d-0" % k))
        self.assertEqual((s1["state"], s1["rows"]), ("error", 0))
        self.assertNotIn("handle", s1)
        self.assertEqual(self.q.request("GET", path_of(s0["handle"])).json()["results"],
                         [{"a": 7}])
        self.assertEqual(self.q.request("GET", "/query/service/result/%d-1" % k).status, 404)
        self.assertFits(2000)


class PartialResultLarge(FullMixin, QgateTestCase):
    """The report's case: 8 MiB, a 7 MB result, then a 1.4 MB one."""
    ARGS = ("--store-size", "8MiB", "--drain-timeout", "2s")

    def test_seven_megabytes_in_eight(self):
        for _ in range(3):
            doc = self.assertStoreFull(self.q.query(rows_stmt(100000, pad=44),
                                                    mode="deferred", http_timeout=120))
            self.assertNothingKept(job_of(doc["statusHandle"])[0])
            r = self.q.query(rows_stmt(20000, pad=44), mode="deferred", http_timeout=120)
            self.assertEqual(r.status, 200, r)
            res = self.q.request("GET", path_of(r.json()["handle"]), timeout=120)
            self.assertEqual(len(res.json()["results"]), 20000)



class FullOfJobs(FullMixin, unittest.TestCase):
    """Many clients fill a small store with async jobs: every accepted job
    ends, in a state a client can read, and qgate starts again on the
    store, after SIGTERM or kill -9."""

    SIZE = "1MiB"

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="qgate-full-")
        self.procs = []
        self.backend_uri = None
        if ON_PG:
            pgadmin = PgAdmin()
            db = pgadmin.create_db()
            self.addCleanup(pgadmin.drop_db, db)
            self.backend_uri = pgadmin.uri(db)

    def tearDown(self):
        reports = []
        try:
            for p in self.procs:
                p.cleanup()
                reports += p.sanitizer_reports() and [p.log()[-8000:]]
        finally:
            shutil.rmtree(self.data, ignore_errors=True)
        if reports:
            self.fail("sanitizer reports:\n" + "\n".join(reports))

    def start(self, *args):
        q = Qgate(("--store-size", self.SIZE, "--drain-timeout", "3s") + args, data=self.data,
                  backend=self.backend_uri).start()
        self.procs.append(q)
        return q

    def burst(self, q, clients=4, refusals=40, kill=False):
        """Clients submit async jobs until the store has refused
        `refusals` of them; returns the accepted handles."""
        accepted, refused = [], [0]
        lock = threading.Lock()
        stop = threading.Event()

        def client(t):
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = q.query("SELECT %d AS k, '%s' AS pad" % (t * 100000 + i, "x" * 200),
                                mode="async", http_timeout=30)
                except Exception:
                    return  # killed under us
                with lock:
                    if r.status == 200:
                        accepted.append(r.json()["handle"])
                    else:
                        self.assertEqual(r.status, 500, r)
                        self.assertTrue(r.json()["errors"][0]["msg"].startswith("ASX0904"), r)
                        refused[0] += 1
                        if refused[0] >= refusals:
                            stop.set()

        threads = [threading.Thread(target=client, args=(t,)) for t in range(clients)]
        for t in threads:
            t.start()
        deadline = time.time() + 120 * SLOW
        while not stop.is_set() and time.time() < deadline:
            time.sleep(0.01)
        if kill:
            q.kill9()
        stop.set()
        for t in threads:
            t.join(60)
        self.assertGreater(len(accepted), 50)
        self.assertGreaterEqual(refused[0], 1 if kill else refusals)
        return accepted

    def assertAllEnded(self, q, handles):
        for h in handles:
            st = self.wait_status(path_of(h), q=q, timeout=60)
            self.assertIn(st["status"], ("success", "failed"), st)
            if st["status"] == "failed":
                self.assertTrue(st["errors"][0]["msg"].startswith("ASX0904"), st)

    def test_every_accepted_job_ends_and_qgate_restarts(self):
        q = self.start()
        handles = self.burst(q)
        self.assertAllEnded(q, handles)
        self.assertNotIn("could not be stored", q.log())
        self.assertEqual(q.stop(), 0, q.log()[-3000:])
        # the same size again: it starts, and every job still answers
        q = self.start()
        self.assertAllEnded(q, handles)
        ok = [h for h in handles if self.status(path_of(h), q=q)["status"] == "success"]
        self.assertGreater(len(ok), 0)
        self.assertEqual(self.get(path_of(ok[-1]).replace("/status/", "/result/"), q=q).status,
                         200)
        self.assertEqual(q.stop(), 0, q.log()[-3000:])

    def test_a_store_fuller_than_its_map_still_starts(self):
        """Opened with a smaller --store-size than it holds, with a running
        job that recovery must end: it starts (LMDB keeps the map at least
        as large as what the file holds; should that still be too full,
        it grows by the reserve for this start), and every job ends."""
        self.SIZE = "4MiB"
        q = self.start("--workers", "1")
        # a job that may write, running when the daemon dies
        writer = self.submit("CREATE TABLE IF NOT EXISTS fw(x INTEGER); " + FOREVER_SQLITE
                             if not ON_PG else
                             "CREATE TABLE IF NOT EXISTS fw(x INTEGER); SELECT pg_sleep(3600)",
                             q=q, client_context_id="writer")
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            running = q.request("GET", "/admin/requests/running").json()
            if any(e["clientContextID"] == "writer" and e["state"] == "running" for e in running):
                break
            time.sleep(0.02)
        queued = [self.submit("SELECT %d AS k, '%s' AS pad" % (i, "q" * 2000), q=q)
                  for i in range(300)]
        q.kill9()
        self.SIZE = "256KiB"
        q = self.start("--workers", "1")
        st = self.wait_status(path_of(writer), q=q, want=("failed", "success", "timeout"))
        self.assertTrue(st["errors"][0]["msg"].startswith("ASX0921"), st)
        self.assertAllEnded(q, queued)
        self.assertEqual(q.stop(), 0, q.log()[-3000:])

    def test_kill9_in_a_full_store(self):
        q = self.start("--workers", "1")
        handles = self.burst(q, kill=True)
        q = self.start("--workers", "1")
        self.assertAllEnded(q, handles)
        self.assertNotIn("could not be stored", q.log())
        self.assertEqual(q.stop(), 0, q.log()[-3000:])

def mount_tmpfs(path, size):
    """Mounts a tmpfs of size at path; returns None, or why it cannot."""
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root"
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0750" % size, "tmpfs", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        return "mount -t tmpfs failed: %s" % r.stdout.decode().strip()
    return None


class DiskFull(FullMixin, unittest.TestCase):
    """The job store on a 3 MiB tmpfs with a 64 MiB map: the disk, not the
    map, runs out. Skipped, with the reason, where no tmpfs can be
    mounted."""

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="qgate-disk-")
        self.store = os.path.join(self.data, "store")
        os.mkdir(self.store)
        why = mount_tmpfs(self.store, "3m")
        if why:
            shutil.rmtree(self.data, ignore_errors=True)
            self.skipTest(why)
        self.q = None

    def tearDown(self):
        try:
            if self.q:
                self.q.cleanup()
        finally:
            subprocess.run(["umount", self.store])
            shutil.rmtree(self.data, ignore_errors=True)
        if self.q and self.q.sanitizer_reports():
            self.fail("sanitizer reports:\n" + self.q.log()[-8000:])

    def start(self):
        backend = None
        if ON_PG:
            self.pgadmin = PgAdmin()
            self.pg_db = self.pgadmin.create_db()
            self.addCleanup(self.pgadmin.drop_db, self.pg_db)
            backend = self.pgadmin.uri(self.pg_db)
        self.q = Qgate(("--store-size", "64MiB", "--drain-timeout", "3s"), data=self.data,
                       backend=backend).start()
        return self.q

    def fill(self, leave):
        """Fills the disk with a file of another program, leaving `leave`
        bytes; returns its path."""
        st = os.statvfs(self.store)
        free = st.f_bavail * st.f_frsize
        path = os.path.join(self.store, "filler")
        with open(path, "wb") as f:
            f.write(b"\0" * max(0, free - leave))
        return path

    def test_a_full_disk_is_said_and_counted(self):
        q = self.start()
        r = q.query(rows_stmt(200000), mode="deferred", http_timeout=120)
        doc = self.assertStoreFull(r)
        self.assertIn("disk", doc["errors"][0]["msg"])
        self.assertNotIn("Input/output error", doc["errors"][0]["msg"])
        self.assertNothingKept(job_of(doc["statusHandle"])[0], q=q)
        self.assertGreaterEqual(metric(q, "qgate_store_full_total"), 1)
        for _ in range(5):
            self.assertFits(5000, q=q)
        self.assertNotIn("Input/output error", q.log())
        self.assertEqual(q.stop(), 0, q.log()[-3000:])

    def test_accepted_jobs_end_when_something_else_fills_the_disk(self):
        q = self.start()
        self.assertFits(100, q=q)
        filler = self.fill(0)
        accepted = []
        for i in range(60):
            r = q.query("SELECT %d AS k, '%s' AS pad" % (i, "y" * 300), mode="async")
            if r.status == 200:
                accepted.append(r.json()["handle"])
            else:
                doc = self.assertStoreFull(r)
                self.assertIn("disk", doc["errors"][0]["msg"])
        for h in accepted:
            st = self.wait_status(path_of(h), q=q, timeout=60)
            self.assertIn(st["status"], ("success", "failed"), st)
        self.assertNotIn("could not be stored", q.log())
        self.assertNotIn("Input/output error", q.log())
        os.unlink(filler)
        self.assertFits(2000, q=q)
        self.assertEqual(q.stop(), 0, q.log()[-3000:])


if __name__ == "__main__":
    main()
