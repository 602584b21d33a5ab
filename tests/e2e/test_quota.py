"""A principal's stored result bytes are bounded by its quota, and the
count survives a kill -9: it is rebuilt from the pages on disk.

dave may keep 10 KiB of results (auth file result-quota=). A job whose
pages would take him over fails with ASX0925; once he stores more than a
(lowered) quota, new stored jobs are refused at submission with 429, and
discarding a result makes room again. Other principals are not affected.
"""

import os
import signal

from harness import Qgate, QgateTestCase, auth_file, main
from jobhelp import path_of

TOKENS = {"dave": "dave-token-1", "erin": "erin-token-2"}
BIG = "SELECT hex(randomblob(4000)) AS v"  # one page of about 8 KB


def who(name):
    return {"Authorization": "Bearer " + TOKENS[name]}


def write_auth(path, quota):
    base = auth_file(TOKENS)
    with open(base) as f:
        lines = f.read().splitlines()
    with open(path, "w") as f:
        for line in lines:
            if line.startswith("dave "):
                line += " result-quota=" + quota
            f.write(line + "\n")
    os.chmod(path, 0o600)


class Quota(QgateTestCase):
    def test_quota_holds_and_survives_a_kill(self):
        auth = os.path.join(self.q.data, "auth")
        write_auth(auth, "10KiB")
        q = Qgate(["--auth-file", auth, "--workers", "2"], data=self.q.data + "/own").start()
        try:
            r = q.query(BIG, headers=who("dave"), mode="deferred")
            self.assertEqual(r.status, 200, r)
            first = r.json()["handle"]
            # the next page would take him over: the job fails
            r = q.query(BIG, headers=who("dave"), mode="deferred")
            doc = r.json()
            self.assertEqual(doc["status"], "fatal", doc)
            msg = doc["errors"][0]["msg"]
            self.assertTrue(msg.startswith("ASX0925"), msg)
            self.assertIn("dave", msg)
            self.assertIn("result-quota=", msg)
            # another principal is not affected
            r = q.query(BIG, headers=who("erin"), mode="deferred")
            self.assertEqual(r.json()["status"], "success", r)

            # kill -9, a lower quota: the count is rebuilt from disk
            q.kill9()
            write_auth(auth, "5KiB")
            q.start()
            for mode in ("deferred", "async"):
                r = q.query("SELECT 1", headers=who("dave"), mode=mode)
                self.assertError(r, 429, "ASX0925")
                self.assertEqual(r.headers.get("retry-after"), "1")
            m = q.request("GET", "/metrics", headers=who("erin")).body.decode()
            self.assertIn('qgate_sched_rejected_total{principal="dave",reason="result_quota"} 2',
                          m)
            # discarding his result makes room
            r = q.request("DELETE", path_of(first), headers=who("dave"))
            self.assertIn(r.status, (200, 202, 204), r)
            r = q.query("SELECT 1", headers=who("dave"), mode="deferred")
            self.assertEqual(r.json()["status"], "success", r)
        finally:
            q.stop()
            q.cleanup()


if __name__ == "__main__":
    main()
