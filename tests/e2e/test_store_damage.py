"""A damaged job store: data.mdb cut short, zeroed in places, changed,
emptied or replaced by an older copy. What must hold: qgate never dies of
a signal; a store it cannot trust is refused at start with one line and a
non-zero exit; bytes that changed on disk are never served (an error to
the client, with an ASX code and a hint, and a log line); /health says so;
a handle never names another job than the one it was issued for.

The store is the same whatever database runs the statements, so these run
on the demo SQLite database only."""

import json
import os
import shutil
import signal
import tempfile
import time
import unittest

from harness import Qgate, SLOW, main
from jobhelp import JobsMixin, job_of, path_of

PAGE = 4096


def rows_stmt(n):
    return ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) "
            "SELECT x, 'row' || x AS s FROM c" % n)


class Damage(JobsMixin, unittest.TestCase):

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="qgate-damage-")
        self.db = os.path.join(self.data, "store", "data.mdb")
        self.procs = []

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
        q = Qgate(("--drain-timeout", "2s") + args, data=self.data).start()
        self.procs.append(q)
        return q

    def refused(self):
        """Starts qgate on the damaged store: it must exit non-zero, by
        itself, with one line saying so; returns that line."""
        q = Qgate(("--drain-timeout", "2s"), data=self.data)
        self.procs.append(q)
        with self.assertRaises(RuntimeError):
            q.start(timeout=30)
        rc = q.proc.wait(30)
        self.assertGreater(rc, 0, "qgate must exit with an error, not a signal (%d):\n%s"
                           % (rc, q.log()))
        lines = [l for l in q.log_lines if "cannot start" in l]
        self.assertEqual(len(lines), 1, q.log())
        self.assertIn("damaged", lines[0])
        self.assertIn("backup", lines[0])
        return lines[0]

    def fill(self):
        """A store with results and statuses in it; returns (deferred result
        handle, rows, async status handles)."""
        q = self.start()
        r = q.query(rows_stmt(20000), mode="deferred", max_dash_result_dash_reads="50")
        self.assertEqual(r.status, 200, r)
        big = r.json()["handle"]
        small = [self.submit("SELECT %d AS k" % k, q=q, max_dash_result_dash_reads="50")
                 for k in range(30)]
        for h in small:
            self.assertEqual(self.wait_status(h, q=q)["status"], "success")
        self.assertEqual(q.stop(), 0)
        return big, 20000, small

    def zero(self, off, n):
        with open(self.db, "r+b") as f:
            f.seek(off)
            f.write(b"\0" * n)

    # --- cut short (SIGBUS before) ---------------------------------------------

    def test_a_truncated_file_is_refused(self):
        self.fill()
        size = os.path.getsize(self.db)
        with open(self.db, "rb") as f:
            whole = f.read()
        for cut in (size // 2, 8192, 12345, size // 2 + 123):
            with open(self.db, "wb") as f:
                f.write(whole[:cut])
            line = self.refused()
            self.assertIn("data.mdb", line)
        # put back whole, it serves again
        with open(self.db, "wb") as f:
            f.write(whole)
        q = self.start()
        self.assertEqual(q.request("GET", "/health").status, 200)
        self.assertEqual(q.stop(), 0)

    # --- zeroed pages -------------------------------------------------------------

    def test_zeroed_tree_pages_are_refused(self):
        self.fill()
        with open(self.db, "rb") as f:
            whole = f.read()
        # the leaf pages that hold job records (their statement text; old
        # copies of the page may lie in free pages too: all of them)
        at = whole.find(b"SELECT 7 AS k")
        self.assertGreater(at, 0)
        while at >= 0:
            self.zero(at // PAGE * PAGE, PAGE)
            at = whole.find(b"SELECT 7 AS k", at + 1)
        self.refused()
        with open(self.db, "wb") as f:
            f.write(whole)
        self.zero(2 * PAGE, 9 * PAGE)  # pages 2-10
        self.refused()

    def test_damage_anywhere_never_serves_bad_bytes(self):
        """64 KiB zeroed at several places: qgate refuses the store, or
        serves it with every answer either right or an error."""
        big, nrows, small = self.fill()
        size = os.path.getsize(self.db)
        with open(self.db, "rb") as f:
            whole = f.read()
        for frac in (0.25, 0.4, 0.5, 0.6, 0.75, 0.9):
            with open(self.db, "wb") as f:
                f.write(whole)
            off = int(size * frac) // PAGE * PAGE
            self.zero(off, 65536)
            q = Qgate(("--drain-timeout", "2s"), data=self.data)
            self.procs.append(q)
            try:
                q.start(timeout=30)
            except RuntimeError:
                rc = q.proc.wait(30)
                self.assertGreater(rc, 0, (frac, q.log()))
                continue
            damaged = False
            for h in [big] + small:
                for p in (path_of(h), path_of(h).replace("/result/", "/status/"),
                          path_of(h).replace("/status/", "/result/"),
                          path_of(h).replace("/status/", "/result/") + "?offset=1&limit=5"):
                    r = q.request("GET", p)
                    if r.status == 404:
                        continue
                    self.assertIn(r.status, (200, 500), (frac, p, r))
                    doc = json.loads(r.body.decode("utf-8"))  # never bytes that are not JSON
                    self.assertNotIn(b"\0", r.body, (frac, p))
                    if r.status == 500 or doc.get("status") == "fatal":
                        self.assertTrue(doc["errors"][0]["msg"].startswith("ASX0905"), doc)
                        damaged = True
            if damaged:
                self.assertEqual(q.request("GET", "/health").status, 503, frac)
            self.assertTrue(q.alive(), q.log())
            q.stop(signal.SIGKILL)

    def test_a_zeroed_branch_page_is_refused(self):
        """LMDB meets a zeroed branch page with an assertion that aborts
        the process ("IS_LEAF(mp)" in mdb_cursor_next): the check at start
        must catch it and refuse the store, never die of SIGABRT. Every
        page that says it is a branch page (LMDB 0.9's page header: its own
        number first, the flags the 16 bits at offset 10, P_BRANCH = 1),
        one at a time: a page in use is refused; a free one may be zeroed
        harmlessly, and qgate then serves."""
        big, _, small = self.fill()
        with open(self.db, "rb") as f:
            whole = f.read()
        branches = [n for n in range(2, len(whole) // PAGE)
                    if int.from_bytes(whole[n * PAGE + 10:n * PAGE + 12], "little") & 0x01
                    and int.from_bytes(whole[n * PAGE:n * PAGE + 8], "little") == n]
        self.assertTrue(branches, "the filled store has branch pages")
        refused = 0
        for n in branches:
            with open(self.db, "wb") as f:
                f.write(whole)
            self.zero(n * PAGE, PAGE)
            q = Qgate(("--drain-timeout", "2s"), data=self.data)
            self.procs.append(q)
            try:
                q.start(timeout=30)
            except RuntimeError:
                rc = q.proc.wait(30)
                self.assertGreater(rc, 0, "qgate must exit with an error, not a signal (%d):\n%s"
                                   % (rc, q.log()))
                self.assertIn("damaged", q.log())
                refused += 1
                continue
            for h in [big] + small:
                self.assertIn(q.request("GET", path_of(h)).status, (200, 404), (n, h))
            self.assertTrue(q.alive(), q.log())
            q.stop(signal.SIGKILL)
        self.assertGreater(refused, 0, "no branch page in use among %s" % branches)

    # --- changed result bytes ----------------------------------------------------

    def corrupt_text(self, text):
        with open(self.db, "rb") as f:
            whole = f.read()
        at = whole.find(text.encode())
        self.assertGreater(at, 0, text)
        self.assertEqual(whole.find(text.encode(), at + 1), -1, text)
        self.zero(at, len(text))

    def test_changed_result_bytes_are_an_error_never_data(self):
        big, nrows, _ = self.fill()
        # a row on the first page, and one on a later page
        self.corrupt_text('{"x":1234,"s":"row1234"}')
        self.corrupt_text('{"x":15000,"s":"row15000"}')
        q = self.start()
        self.assertEqual(q.request("GET", "/health").status, 200)  # not read yet
        r = q.request("GET", path_of(big))
        self.assertEqual(r.status, 500, r)
        doc = r.json()
        self.assertTrue(doc["errors"][0]["msg"].startswith("ASX0905"), doc)
        self.assertIn("checksum", doc["errors"][0]["msg"])
        self.assertIn("backup", doc["errors"][0]["msg"])
        q.wait_log("does not match its checksum")
        h = q.request("GET", "/health")
        self.assertEqual(h.status, 503)
        self.assertEqual(h.json()["status"], "store damaged")
        # a window in an intact page is served; one in a damaged page is not
        r = q.request("GET", path_of(big) + "?offset=9000&limit=3")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["x"] for x in r.json()["results"]], [9001, 9002, 9003])
        r = q.request("GET", path_of(big) + "?offset=14990&limit=20")
        self.assertEqual(r.status, 500, r)
        self.assertTrue(r.json()["errors"][0]["msg"].startswith("ASX0905"))
        # a read that starts on a good page: whole rows, then the error
        r = q.request("GET", path_of(big) + "?offset=5000")
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["status"], "fatal", doc.keys())
        self.assertTrue(doc["errors"][0]["msg"].startswith("ASX0905"))
        got = [x["x"] for x in doc["results"]]
        self.assertEqual(got, list(range(5001, 5001 + len(got))))
        self.assertLess(got[-1], 15000)
        self.assertTrue(q.alive())
        self.assertEqual(q.stop(), 0)

    # --- store identity ------------------------------------------------------------

    def test_an_emptied_store_never_answers_old_handles(self):
        big, _, small = self.fill()
        old = [big] + small
        last = max(job_of(h)[0] for h in old)
        with open(self.db, "r+b") as f:
            f.truncate(0)
        q = self.start()
        new = [q.query("SELECT 'new' AS v", mode="deferred", max_dash_result_dash_reads="9")
               .json()["handle"] for _ in range(40)]
        for h in old:
            for p in (path_of(h), path_of(h).replace("/result/", "/status/"),
                      path_of(h).replace("/status/", "/result/")):
                self.assertEqual(q.request("GET", p).status, 404, p)
        self.assertGreater(min(job_of(h)[0] for h in new), last)
        self.assertEqual(q.request("GET", path_of(new[0])).json()["results"], [{"v": "new"}])
        self.assertIn("data.mdb is empty", q.log())
        self.assertEqual(q.stop(), 0)

    def test_a_restored_copy_never_answers_later_handles(self):
        q = self.start()
        a = q.query("SELECT 'a' AS v", mode="deferred", max_dash_result_dash_reads="9")
        a = a.json()["handle"]
        self.assertEqual(q.stop(), 0)
        backup = self.db + ".bak"
        shutil.copyfile(self.db, backup)
        q = self.start()
        later = [q.query("SELECT 'later' AS v", mode="deferred").json()["handle"]
                 for _ in range(3)]
        self.assertEqual(q.stop(), 0)
        os.replace(backup, self.db)
        q = self.start()
        self.assertEqual(q.request("GET", path_of(a)).json()["results"], [{"v": "a"}])
        for h in later:
            self.assertEqual(q.request("GET", path_of(h)).status, 404, h)
        # what it hands out now is none of them either
        h = q.query("SELECT 'after' AS v", mode="deferred").json()["handle"]
        self.assertGreater(job_of(h)[0], max(job_of(x)[0] for x in later))
        self.assertEqual(q.stop(), 0)


if __name__ == "__main__":
    main()
