#!/usr/bin/env python3
"""Benchmark 3: durable async submissions.

`mode=async` submissions of `SELECT 1` per second (wrk POST, 64 keep-alive
connections): each accepted submission is a job qgate has made durable in its
LMDB store before answering. The reference is bench/lmdb_commit on the same
disk: one small record per durable LMDB transaction (sync on), which is what
a store without group commit could do at best. Target: qgate >= 8x, with
the submitted jobs running meanwhile: the workers start them as they are
queued, and each one's run commits its result and end state through the
same store writer, so the submissions compete with the jobs' own commits
and CPU. The benchmark checks that jobs did finish during each measured
run (from /metrics: jobs created minus those still queued or running) and
reports how many per second, and the sustained rate: the jobs run to the
end over the run and the wait for its backlog (30 s at most).

Needs the job store: while `mode=async` answers 404 or 501, qgate's side is
"not available" (the reference is still measured).
"""

import os
import re
import time

import benchlib as b

CONNS = 64
TARGET = 8.0
BODY = b.form({"statement": "SELECT 1", "mode": "async"})


def metrics(q):
    """The job counters of qgate's /metrics: created, queued, running."""
    st, data = b.request(q.port, "GET", "/metrics")
    if st != 200:
        raise b.BenchError("/metrics answered %d" % st)
    got = {}
    for line in data.decode().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("qgate_store_jobs_created_total",
                                           "qgate_jobs_queued", "qgate_jobs_running"):
            got[parts[0]] = float(parts[1])
    if len(got) != 3:
        raise b.BenchError("/metrics lacks the job counters: %r" % sorted(got))
    return got


DRAIN_MAX = 30.0  # seconds the sustained rate waits for a run's backlog
SETTLE_MAX = 30.0  # seconds each run first waits for earlier backlogs


def pending(m):
    """Jobs accepted and not ended, from metrics(q)."""
    return m["qgate_jobs_queued"] + m["qgate_jobs_running"]


def measured(q, url):
    """One wrk run of submissions, with the jobs that finished during it,
    then the wait (DRAIN_MAX at most) for the backlog it left, and the jobs
    run to the end over both."""
    before = metrics(q)
    r = b.wrk(url, CONNS, method="POST", body=BODY, ctype=b.FORM)
    after = metrics(q)

    def finished(m):
        created = m["qgate_store_jobs_created_total"] - before["qgate_store_jobs_created_total"]
        return created - (pending(m) - pending(before))
    r["finished_during"] = finished(after)
    r["backlog_after"] = pending(after)
    t0 = time.monotonic()
    while True:
        m = metrics(q)
        if pending(m) <= pending(before) or time.monotonic() - t0 >= DRAIN_MAX:
            break
        time.sleep(0.05)
    r["drain_s"] = time.monotonic() - t0
    r["finished_total"] = finished(m)
    return r


def lmdb_rate(parent):
    """One lmdb_commit run in a fresh directory under parent."""
    if not os.access(b.LMDB_COMMIT, os.X_OK):
        raise b.BenchError("no %s: run bench/run.sh (it builds)" % b.LMDB_COMMIT)
    d = os.path.join(parent, "lmdb-%d" % len(os.listdir(parent)))
    os.mkdir(d)
    p = b.run([b.LMDB_COMMIT, d, str(b.SECONDS)], timeout=b.SECONDS + 60,
              capture_output=True, text=True)
    m = re.search(r"per_second ([0-9.]+)", p.stdout)
    if p.returncode != 0 or not m:
        raise b.BenchError("lmdb_commit failed: %s%s" % (p.stdout, p.stderr))
    return {"rps": float(m.group(1)), "out": p.stdout.strip()}


def bench(s):
    # qgate's data directory and the reference's records share one parent
    # directory: the same file system, the same disk.
    parent = b.tempdir("async")
    data = os.path.join(parent, "qgate")
    os.mkdir(data)
    refdir = os.path.join(parent, "ref")
    os.mkdir(refdir)
    # No queue limit: every submission is accepted and made durable (with
    # the default limit, 503s start once 10,000 jobs wait for a worker).
    q = b.qgate("async", ["--max-queued", "0", "--principal-max-queued", "0"], data=data)
    st, body = b.request(q.port, "POST", "/query/service", BODY)
    available = st not in (404, 501)
    if available and st not in (200, 202):
        raise b.BenchError("async submission answered %d: %r" % (st, body[:300]))

    drained = []

    def settled(fn):
        """Lets the jobs of earlier runs finish first, so that neither side
        competes with qgate's backlog."""
        def run():
            if available:
                # the backlog by qgate's own count: waiting jobs bound by
                # the disk's fsyncs leave the CPU idle
                t0 = time.monotonic()
                while pending(metrics(q)) > 0 and time.monotonic() - t0 < SETTLE_MAX:
                    time.sleep(0.05)
                drained.append(time.monotonic() - t0)
            return fn()
        return run

    sides = [("lmdb", settled(lambda: lmdb_rate(refdir)))]
    if available:
        url = q.url("/query/service")
        sides.insert(0, ("qgate", settled(lambda: measured(q, url))))
        b.wrk(url, CONNS, 1, method="POST", body=BODY, ctype=b.FORM)
    res = b.interleave(sides)
    s.raw["results"] = res
    ref = b.median([x["rps"] for x in res["lmdb"]])
    target = ">= %.0fx" % TARGET
    if not available:
        s.not_available("submissions/s, 64 conns", "`mode=async` answers %d" % st,
                        ref_v=b.fmt_rate(ref) + " (one commit each)", target=target)
        s.note("reference: %d runs of %d s of bench/lmdb_commit, 128-byte records, "
               "on the file system of the temp directory" % (b.RUNS, b.SECONDS))
        return
    # Answers other than 2xx (e.g. 503 when the queue is full) are not
    # accepted submissions: they do not count.
    for one in res["qgate"]:
        one["accepted_rps"] = (one["requests"] - one["errors"]) / one["seconds"]
        if one["accepted_rps"] <= 0:
            raise b.BenchError("no async submission was accepted: %s" % one["detail"])
        if one["finished_during"] <= 0:
            raise b.BenchError("no submitted job ran during the measured run: %s" % one)
        one["finished_rps"] = one["finished_during"] / one["seconds"]
        one["sustained_rps"] = one["finished_total"] / (one["seconds"] + one["drain_s"])
    rate = b.median([x["accepted_rps"] for x in res["qgate"]])
    errors = sum(x["errors"] for x in res["qgate"])
    ratio = rate / ref
    s.row("accepted submissions/s while jobs run, 64 conns", b.fmt_rate(rate),
          b.fmt_rate(ref) + " (one commit each)", b.fmt_ratio(ratio), target,
          b.at_least(ratio, TARGET))
    fin = b.median([x["finished_rps"] for x in res["qgate"]])
    s.row("jobs run to the end meanwhile, per second", b.fmt_rate(fin), "", "", "(info)",
          "backlog at the end of a run: %s jobs (median)"
          % "{:,.0f}".format(b.median([x["backlog_after"] for x in res["qgate"]])))
    sus = b.median([x["sustained_rps"] for x in res["qgate"]])
    s.row("sustained: submitted and run to the end, per second", b.fmt_rate(sus),
          b.fmt_rate(ref) + " (one commit each)", b.fmt_ratio(sus / ref), "(info)",
          "jobs run to the end over the run and the wait for its backlog (%.0f s at most)"
          % DRAIN_MAX)
    s.row("p99 latency, 64 conns", b.fmt_ms(b.median([x["p99_ms"] for x in res["qgate"]])),
          "", "", "(info)", "")
    s.note("`--max-queued 0`; %d runs of %d s each side, alternating, each after qgate's "
           "backlog of jobs has run (up to %.1f s of waiting, %.0f s at most); %d submissions "
           "were refused (non-2xx) and are not counted"
           % (b.RUNS, b.SECONDS, max(drained or [0]), SETTLE_MAX, errors))


if __name__ == "__main__":
    b.main(b.Section("async_submit", 3, "Durable async submissions",
                     "`mode=async` submissions/s (wrk POST, 64 connections) vs. "
                     "bench/lmdb_commit: one 128-byte LMDB record per durable (synced) "
                     "transaction, on the same disk."), bench)
