#!/usr/bin/env python3
"""Benchmark 5: memory while serving huge results.

Peak RSS (VmHWM in /proc/PID/status) of a fresh qgate while it serves a
10,000,000-row immediate result to curl reading at full speed, and while a
10,000,000-row stored (deferred) result is read back. Target: <= 64 MiB
each. min(BENCH_RUNS, 3) runs, a fresh daemon each; medians (and maxima).
The peak covers the read and one second after it (clean-up after the last
byte, such as discarding a stored result that may be read only once, counts).
RssAnon and RssFile are sampled every 50 ms to show what the peak is made of.

The stored case needs the job store: "not available" while `mode=deferred`
answers 404 or 501.
"""

import json
import os
import time
import urllib.parse

import benchlib as b

ROWS = 10000000
LIMIT_MIB = 64
SETTLE = 1.0  # seconds of sampling after the last byte


def one_immediate(stmt_file):
    q = b.qgate("memory")
    idle = q.status_kib("VmHWM")
    sampler = b.RssSampler(q.pid)
    rc, total, tail = b.stream_tail(
        ["curl", "-sS", "-f", "--max-time", "900", "--data-urlencode", "statement@" + stmt_file,
         q.url("/query/service")], 900)
    time.sleep(SETTLE)  # what happens right after the response counts too
    split = sampler.stop()
    b.check_envelope("10M-row immediate result", rc, total, tail, ROWS)
    peak = q.status_kib("VmHWM")
    q.stop()
    return dict(split, idle_kib=idle, peak_kib=peak, bytes=total)


def one_stored(stmt_file, sql):
    """None when deferred mode is missing."""
    q = b.qgate("memory-stored")
    st, body = b.request(q.port, "POST", "/query/service",
                         b.form({"statement": sql, "mode": "deferred"}), timeout=900)
    if st in (404, 501):
        q.stop()
        raise b.NotAvailable("`mode=deferred` answers %d" % st)
    if st != 200:
        raise b.BenchError("deferred submission answered %d: %r" % (st, body[:300]))
    handle = json.loads(body).get("handle")
    if not handle:
        raise b.BenchError("deferred answer has no handle: %r" % body[:300])
    storing = q.status_kib("VmHWM")
    # Forget the peak of storing it: only reading back counts here.
    with open("/proc/%d/clear_refs" % q.pid, "w") as f:
        f.write("5")
    sampler = b.RssSampler(q.pid)
    rc, total, tail = b.stream_tail(["curl", "-sS", "-f", "--max-time", "900",
                                     q.url(urllib.parse.urlsplit(handle).path)], 900)
    time.sleep(SETTLE)  # what happens right after the response counts too
    split = sampler.stop()
    if rc != 0 or total < ROWS * 10:
        raise b.BenchError("reading the stored result: curl %d, %d bytes" % (rc, total))
    peak = q.status_kib("VmHWM")
    q.stop()
    return dict(split, storing_peak_kib=storing, peak_kib=peak, bytes=total)


def split_text(runs):
    """What the peak was made of, from the samples of the largest run."""
    x = max(runs, key=lambda r: r["peak_kib"])
    return "; sampled: anon %s, file %s" % (b.fmt_mib(x["max_anon_kib"]),
                                            b.fmt_mib(x["max_file_kib"]))


def bench(s):
    work = b.tempdir("memory")
    stmt_file = os.path.join(work, "statement.sql")
    sql = b.rows_query(ROWS)
    with open(stmt_file, "w") as f:
        f.write(sql)
    runs = min(b.RUNS, 3)
    target = "<= %d MiB" % LIMIT_MIB

    imm = [one_immediate(stmt_file) for _ in range(runs)]
    s.raw["immediate"] = imm
    peak = b.median([x["peak_kib"] for x in imm])
    worst = max(x["peak_kib"] for x in imm)
    s.row("peak RSS, 10M-row immediate result",
          "%s (max %s)%s" % (b.fmt_mib(peak), b.fmt_mib(worst), split_text(imm)),
          "idle: %s" % b.fmt_mib(b.median([x["idle_kib"] for x in imm])), "", target,
          b.at_most(worst / 1024, LIMIT_MIB))

    try:
        stored = [one_stored(stmt_file, sql) for _ in range(runs)]
    except b.NotAvailable as e:
        s.not_available("peak RSS, reading a 10M-row stored result", str(e), target=target)
    else:
        s.raw["stored"] = stored
        peak = b.median([x["peak_kib"] for x in stored])
        worst = max(x["peak_kib"] for x in stored)
        s.row("peak RSS, reading a 10M-row stored result",
              "%s (max %s)%s" % (b.fmt_mib(peak), b.fmt_mib(worst), split_text(stored)),
              "while storing: %s" % b.fmt_mib(b.median([x["storing_peak_kib"] for x in stored])),
              "", target, b.at_most(worst / 1024, LIMIT_MIB))
    s.note("%d runs, a fresh daemon each (default settings, 4 workers); the result is %.0f MB "
           "of JSON; verdicts use the largest run" % (runs, imm[0]["bytes"] / 1e6))


if __name__ == "__main__":
    b.main(b.Section("memory", 5, "Memory under huge results",
                     "Peak RSS (VmHWM) of the daemon while curl reads a 10,000,000-row "
                     "result to the end."), bench)
