#!/usr/bin/env python3
"""Benchmark 2: polling a finished job's status.

Submits a `mode=async` job (SELECT 1), polls its status handle
(`GET /query/service/status/N-0`) until it says success, then loads that URL
with wrk over 64 keep-alive connections, against bench/responder answering a
status envelope of the same size. Target: qgate >= 0.9x the responder's
requests/s.

Needs the job store: while `mode=async` or the status route answers 404 or
501, the benchmark reports "not available".
"""

import json
import time
import urllib.parse

import benchlib as b

CONNS = 64
TARGET = 0.9


def finished_status_path(q):
    """Submits an async job and waits for it: the status path and its body.
    Raises NotAvailable when the job store is missing."""
    st, data = b.request(q.port, "POST", "/query/service",
                         b.form({"statement": "SELECT 1", "mode": "async"}))
    if st in (404, 501):
        raise b.NotAvailable("`mode=async` answers %d" % st)
    if st not in (200, 202):
        raise b.BenchError("async submission answered %d: %r" % (st, data[:300]))
    handle = json.loads(data).get("handle")
    if not handle:
        raise b.BenchError("async submission has no handle: %r" % data[:300])
    path = urllib.parse.urlsplit(handle).path
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        st, data = b.request(q.port, "GET", path)
        if st in (404, 501):
            raise b.NotAvailable("`GET %s` answers %d" % (path, st))
        if st != 200:
            raise b.BenchError("status poll answered %d: %r" % (st, data[:300]))
        status = json.loads(data).get("status")
        if status == "success":
            return path, data
        if status not in ("running", "queued"):
            raise b.BenchError("job ended %r: %r" % (status, data[:300]))
        time.sleep(0.05)
    raise b.BenchError("the async job did not finish within 30 s")


def bench(s):
    q = b.qgate("status")
    try:
        path, data = finished_status_path(q)
    except b.NotAvailable as e:
        s.not_available("requests/s, 64 conns", str(e), target=">= %.1fx" % TARGET)
        return
    r = b.responder("status", "status", len(data))
    s.raw["body_bytes"] = len(data)
    qurl, rurl = q.url(path), r.url(path)
    b.wrk(qurl, CONNS, 1)
    b.wrk(rurl, CONNS, 1)
    res = b.interleave([("qgate", lambda: b.cpu_us_per_request(q.pid, lambda: b.wrk(qurl, CONNS))),
                        ("responder",
                         lambda: b.cpu_us_per_request(r.pid, lambda: b.wrk(rurl, CONNS)))])
    for name, runs in res.items():
        for one in runs:
            b.check_wrk(one, name)
    s.raw["results"] = res
    med = {n: {"rps": b.median([x["rps"] for x in v]), "p99": b.median([x["p99_ms"] for x in v]),
               "cpu": b.median([x["cpu_us"] for x in v])}
           for n, v in res.items()}
    s.raw["medians"] = med
    ratio = med["qgate"]["rps"] / med["responder"]["rps"]
    s.row("requests/s, 64 conns", b.fmt_rate(med["qgate"]["rps"]),
          b.fmt_rate(med["responder"]["rps"]), b.fmt_ratio(ratio), ">= %.1fx" % TARGET,
          b.at_least(ratio, TARGET))
    s.row("p99 latency, 64 conns", b.fmt_ms(med["qgate"]["p99"]),
          b.fmt_ms(med["responder"]["p99"]),
          b.fmt_ratio(med["qgate"]["p99"] / med["responder"]["p99"]), "(info)", "")
    s.row("server CPU per request (user + system)", "%.1f µs" % med["qgate"]["cpu"],
          "%.1f µs" % med["responder"]["cpu"],
          b.fmt_ratio(med["qgate"]["cpu"] / med["responder"]["cpu"]), "(info)",
          "what a busy machine moves least")
    s.note("status body %d bytes on both sides; %d runs of %d s, alternating order; medians"
           % (len(data), b.RUNS, b.SECONDS))


if __name__ == "__main__":
    b.main(b.Section("status_poll", 2, "Status poll of a finished job",
                     "`GET /query/service/status/N-0` of a finished async job over 64 "
                     "keep-alive connections (wrk) vs. bench/responder answering a status "
                     "envelope of the same size."), bench)
