#!/usr/bin/env python3
"""Benchmark 4: large results.

A 1,000,000-row, 3-column result from SQLite (a recursive CTE producing x,
x*2 and 'row'||x), read over HTTP to the end by curl (output to /dev/null),
against the `sqlite3 -json` command running the same query and writing the
same rows to /dev/null. Timed by hyperfine: a warm-up round, then
BENCH_RUNS rounds of one run each, alternating the order; medians.
Target: qgate's time <= sqlite3's (speed ratio >= 1.0x).

The same for a deferred result read back from the job store
(`mode=deferred`, then `GET` of its result handle): "not available" while
`mode=deferred` answers 404 or 501.
"""

import json
import os
import urllib.parse

import benchlib as b

ROWS = 1000000
TARGET = 1.0


def curl_post(url, stmt_file, extra=()):
    return ["curl", "-sS", "-f", "--max-time", "600", "--data-urlencode",
            "statement@" + stmt_file] + list(extra) + [url]


def bench(s):
    q = b.qgate("large")
    work = b.tempdir("large-q")
    stmt_file = os.path.join(work, "statement.sql")
    sql = b.rows_query(ROWS)
    with open(stmt_file, "w") as f:
        f.write(sql)
    db = os.path.join(work, "empty.db")  # the query reads no table
    url = q.url("/query/service")

    rc, total, tail = b.stream_tail(curl_post(url, stmt_file), 600)
    b.check_envelope("immediate", rc, total, tail, ROWS)
    ref = b.run(["sqlite3", "-json", db, sql], timeout=600, capture_output=True)
    if ref.returncode != 0:
        raise b.BenchError("sqlite3 failed: %s" % ref.stderr.decode()[:300])
    s.raw.update(qgate_bytes=total, sqlite3_bytes=len(ref.stdout))
    del ref

    cmds = {"qgate": curl_post(url, stmt_file, ["-o", "/dev/null"]),
            "sqlite3": ["sqlite3", "-json", db, sql]}

    # Deferred: one stored result, read back warm-up + RUNS times.
    deferred_path, why = None, None
    st, body = b.request(q.port, "POST", "/query/service",
                         b.form({"statement": sql, "mode": "deferred",
                                 "max-result-reads": str(b.RUNS + 2)}), timeout=600)
    if st in (404, 501):
        why = "`mode=deferred` answers %d" % st
    elif st != 200:
        raise b.BenchError("deferred submission answered %d: %r" % (st, body[:300]))
    else:
        handle = json.loads(body).get("handle")
        if not handle:
            raise b.BenchError("deferred answer has no handle: %r" % body[:300])
        deferred_path = urllib.parse.urlsplit(handle).path
        rc, total, tail = b.stream_tail(["curl", "-sS", "-f", "--max-time", "600",
                                     q.url(deferred_path)], 600)
        if rc != 0 or total < ROWS * 10:
            raise b.BenchError("reading the stored result: curl %d, %d bytes" % (rc, total))
        s.raw["deferred_bytes"] = total
        cmds["qgate-deferred"] = ["curl", "-sS", "-f", "--max-time", "600", "-o", "/dev/null",
                                  q.url(deferred_path)]

    t = b.hyperfine(cmds)
    s.raw["times"] = t
    qt, rt = t["qgate"]["median_s"], t["sqlite3"]["median_s"]
    ratio = rt / qt
    mbps = s.raw["qgate_bytes"] / qt / 1e6
    s.row("1M rows, immediate: time", b.fmt_s(qt) + " (%.0f MB/s)" % mbps,
          b.fmt_s(rt) + " (sqlite3 -json)", b.fmt_ratio(ratio), ">= %.1fx" % TARGET,
          b.at_least(ratio, TARGET))
    if deferred_path:
        dt = t["qgate-deferred"]["median_s"]
        s.row("1M rows, deferred read-back: time", b.fmt_s(dt), b.fmt_s(rt) + " (sqlite3 -json)",
              b.fmt_ratio(rt / dt), ">= %.1fx" % TARGET, b.at_least(rt / dt, TARGET))
    else:
        s.not_available("1M rows, deferred read-back: time", why,
                        ref_v=b.fmt_s(rt) + " (sqlite3 -json)", target=">= %.1fx" % TARGET)
    s.note("ratio = sqlite3's time / qgate's time (> 1: qgate is faster); qgate's answer "
           "%d bytes, sqlite3's %d bytes; hyperfine, 1 warm-up + %d rounds in alternating "
           "order, medians"
           % (s.raw["qgate_bytes"], s.raw["sqlite3_bytes"], b.RUNS))


if __name__ == "__main__":
    b.main(b.Section("large_result", 4, "Large results",
                     "A 1,000,000-row, 3-column result (recursive CTE: x, x*2, 'row'||x) "
                     "read to the end over HTTP (curl) vs. `sqlite3 -json` writing the same "
                     "rows to /dev/null."), bench)
