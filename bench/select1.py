#!/usr/bin/env python3
"""Benchmark 1: an immediate, tiny query.

`SELECT 1` POSTed as a form over 64 keep-alive connections (wrk), to qgate
and to bench/responder, a minimal libevhtp server answering an envelope of
the same size. Targets: qgate >= 0.8x the responder's requests/s, p99
latency within 2x. An extra line shows qgate with --log-level warn (no
per-request log line): the cost of the access log. Another shows requests
that each make a TEMP table: qgate gives such a request's worker a new
SQLite connection when it ends (nothing it made may reach the next
request), which is what every request would pay if the connection were
reset after each one (docs/security.md).
"""

import benchlib as b

CONNS = 64
BODY = b.form({"statement": "SELECT 1"})
TEMP_BODY = b.form({"statement": "CREATE TEMP TABLE IF NOT EXISTS scratch(a); SELECT 1"})
RPS_TARGET = 0.8
P99_TARGET = 2.0


def load(d, body=BODY):
    """One measured run against daemon d, with the context switches it
    cost the server per request."""
    def run():
        before = b.ctx_switches(d.pid)
        r = b.cpu_us_per_request(d.pid, lambda: b.wrk(d.url("/query/service"), CONNS,
                                                      method="POST", body=body, ctype=b.FORM))
        r["ctx_per_request"] = (b.ctx_switches(d.pid) - before) / max(1, r["requests"])
        return r
    return run


def bench(s):
    q = b.qgate("select1")
    quiet = b.qgate("select1-quiet", ["--log-level", "warn"])
    st, data = b.request(q.port, "POST", "/query/service", BODY)
    if st != 200 or b'"status":"success"' not in data:
        raise b.BenchError("SELECT 1 answered %d: %r" % (st, data[:300]))
    r = b.responder("select1", "query", len(data))
    s.raw["body_bytes"] = len(data)

    st, data = b.request(q.port, "POST", "/query/service", TEMP_BODY)
    if st != 200 or b'"status":"success"' not in data:
        raise b.BenchError("the TEMP table request answered %d: %r" % (st, data[:300]))
    sides = [("qgate", load(q)), ("responder", load(r)), ("qgate-log-warn", load(quiet)),
             ("qgate-temp", load(q, TEMP_BODY))]
    for d in (q, r, quiet):  # warm-up: connections, caches, the workers' statements
        b.wrk(d.url("/query/service"), CONNS, 1, method="POST", body=BODY, ctype=b.FORM)
    res = b.interleave(sides)
    for name, runs in res.items():
        for one in runs:
            b.check_wrk(one, name)
    s.raw["results"] = res

    med = {n: {"rps": b.median([x["rps"] for x in v]), "p99": b.median([x["p99_ms"] for x in v]),
               "ctx": b.median([x["ctx_per_request"] for x in v]),
               "cpu": b.median([x["cpu_us"] for x in v])}
           for n, v in res.items()}
    s.raw["medians"] = med
    rps_ratio = med["qgate"]["rps"] / med["responder"]["rps"]
    p99_ratio = med["qgate"]["p99"] / med["responder"]["p99"]
    s.row("requests/s, 64 conns", b.fmt_rate(med["qgate"]["rps"]),
          b.fmt_rate(med["responder"]["rps"]), b.fmt_ratio(rps_ratio),
          ">= %.1fx" % RPS_TARGET, b.at_least(rps_ratio, RPS_TARGET))
    s.row("p99 latency, 64 conns", b.fmt_ms(med["qgate"]["p99"]),
          b.fmt_ms(med["responder"]["p99"]), b.fmt_ratio(p99_ratio),
          "<= %.0fx" % P99_TARGET, b.at_most(p99_ratio, P99_TARGET))
    quiet_ratio = med["qgate-log-warn"]["rps"] / med["responder"]["rps"]
    s.row("requests/s, `--log-level warn`", b.fmt_rate(med["qgate-log-warn"]["rps"]),
          b.fmt_rate(med["responder"]["rps"]), b.fmt_ratio(quiet_ratio), "(info)",
          "access log costs %.0f%% of requests/s"
          % ((1 - med["qgate"]["rps"] / med["qgate-log-warn"]["rps"]) * 100))
    temp_ratio = med["qgate-temp"]["rps"] / med["qgate"]["rps"]
    s.row("requests/s, a TEMP table each", b.fmt_rate(med["qgate-temp"]["rps"]),
          b.fmt_rate(med["responder"]["rps"]), "%.2fx of `SELECT 1`" % temp_ratio, "(info)",
          "a new SQLite connection after each such request")
    s.row("server CPU per request (user + system)", "%.1f µs" % med["qgate"]["cpu"],
          "%.1f µs" % med["responder"]["cpu"],
          b.fmt_ratio(med["qgate"]["cpu"] / med["responder"]["cpu"]), "(info)",
          "qgate's loop and workers; what a busy machine moves least")
    s.row("server context switches per request", "%.2f" % med["qgate"]["ctx"],
          "%.2f" % med["responder"]["ctx"], "", "(info)",
          "the hand-off to a worker thread and back")
    s.note("answer body %d bytes on both sides; wrk -t%d -c%d, %d runs of %d s, "
           "alternating order; medians" % (len(data), min(CONNS, b.NCPU), CONNS, b.RUNS,
                                           b.SECONDS))
    s.note("per-run requests/s: qgate %s; responder %s"
           % (", ".join("%.0f" % x["rps"] for x in res["qgate"]),
              ", ".join("%.0f" % x["rps"] for x in res["responder"])))


if __name__ == "__main__":
    b.main(b.Section("select1", 1, "Immediate `SELECT 1`",
                     "POST `statement=SELECT 1` over 64 keep-alive connections (wrk) vs. "
                     "bench/responder, a one-thread libevhtp server answering an envelope "
                     "of the same size."), bench)
