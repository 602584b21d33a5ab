"""PostgreSQL away while async jobs wait in the queue: a job that never
reached the server waits for it and runs when it is back, within its
timeout; one whose timeout runs out first fails saying the database was
away. (The database is played by a relay to the test cluster that the
test cuts and resumes: test_pg.Relay.)"""
# qgate-backends: pg

import time

from harness import PgAdmin, QgateTestCase, SLOW, main
from jobhelp import JobsMixin, path_of
from test_pg import Relay, active


class QueuedWhileAway(JobsMixin, QgateTestCase):
    ARGS = ("--workers", "1", "--drain-timeout", "2s")

    @classmethod
    def setUpClass(cls):
        cls.pgadmin = PgAdmin()
        cls.pg_db = cls.pgadmin.create_db()
        cls.relay = Relay(cls.pgadmin.port)
        cls.BACKEND = "postgresql://qgate@127.0.0.1:%d/%s" % (cls.relay.port, cls.pg_db)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.relay.close()

    def test_queued_jobs_wait_for_the_database(self):
        # the one worker is busy; three jobs queue behind it
        busy = self.submit("SELECT 1 AS n FROM pg_sleep(2)", client_context_id="busy")
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and not active(self.pgadmin, self.pg_db, "%pg_sleep(2)%"):
            time.sleep(0.05)
        hurried = self.submit("SELECT 'hurried' AS v", timeout="1500ms")
        patient = self.submit("SELECT 'patient' AS v")
        later = self.submit("SELECT 'later' AS v", timeout="60s")
        t0 = time.time()
        self.relay.cut()
        # the running one lost its connection: its outcome is unknown
        st = self.wait_status(busy)
        self.assertEqual(st["status"], "failed", st)
        # the queued ones wait instead of failing at once
        time.sleep(1.0)
        for h in (patient, later):
            self.assertEqual(self.status(h)["status"], "running", self.status(h))
        # the hurried one runs out of time first, and says why
        st = self.wait_status(hurried, timeout=30)
        self.assertEqual(st["status"], "failed", st)
        msg = st["errors"][0]["msg"]
        self.assertTrue(msg.startswith("ASX0912"), msg)
        self.assertEqual(msg.count("the job waited for it until its timeout"), 1, msg)
        self.assertGreaterEqual(time.time() - t0, 1.4)
        self.assertEqual(self.status(patient)["status"], "running")
        self.relay.resume()
        for h, v in ((patient, "patient"), (later, "later")):
            st = self.wait_status(h, timeout=30)
            self.assertEqual(st["status"], "success", st)
            r = self.get(path_of(st["handle"]))
            self.assertEqual(r.json()["results"], [{"v": v}])
        self.assertIn("waits in the queue for the database", self.q.log())

    def test_a_waiting_job_can_be_cancelled(self):
        busy = self.submit("SELECT 1 AS n FROM pg_sleep(1)")
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and not active(self.pgadmin, self.pg_db, "%pg_sleep(1)%"):
            time.sleep(0.05)
        waiting = self.submit("SELECT 'w' AS v")
        self.relay.cut()
        self.wait_status(busy)
        time.sleep(0.5)
        self.assertEqual(self.q.request("DELETE", path_of(waiting)).status, 200)
        st = self.wait_status(waiting, timeout=10)
        self.assertEqual(st["status"], "failed", st)
        self.assertTrue(st["errors"][0]["msg"].startswith("ASX0041"), st)
        self.relay.resume()


if __name__ == "__main__":
    main()
