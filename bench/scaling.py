#!/usr/bin/env python3
"""Benchmark 7: scaling with connections and worker threads.

Immediate `SELECT 1` (POST, keep-alive, wrk) as
  - connections grow: 1, 16, 64, 256, 1024 (qgate with its default 4
    workers, and bench/responder at each point);
  - worker threads grow: 1, 2, 4, 8 (`--workers`, 64 connections).
min(BENCH_RUNS, 3) runs per point, alternating order; medians. Writes the
tables, the plot data (raw/scaling_*.dat) and results/scaling.png (gnuplot,
bench/plot.gp). No target: the shape is what matters.
"""

import os

import benchlib as b

CONNS = [1, 16, 64, 256, 1024]
WORKERS = [1, 2, 4, 8]
BODY = b.form({"statement": "SELECT 1"})


def load(d, conns):
    url = d.url("/query/service")
    return lambda: b.wrk(url, conns, method="POST", body=BODY, ctype=b.FORM)


def summarize(runs, what):
    for one in runs:
        b.check_wrk(one, what, max_error_share=0.01)
    return {"rps": b.median([x["rps"] for x in runs]),
            "p99": b.median([x["p99_ms"] for x in runs]),
            "errors": sum(x["errors"] for x in runs)}


def bench(s):
    runs = min(b.RUNS, 3)
    q = b.qgate("scaling")
    st, data = b.request(q.port, "POST", "/query/service", BODY)
    if st != 200:
        raise b.BenchError("SELECT 1 answered %d" % st)
    r = b.responder("scaling", "query", len(data))
    for d in (q, r):
        b.wrk(d.url("/query/service"), 64, 1, method="POST", body=BODY, ctype=b.FORM)

    by_conns = {}
    for c in CONNS:
        res = b.interleave([("qgate", load(q, c)), ("responder", load(r, c))], runs)
        by_conns[c] = {n: summarize(v, "%s, %d conns" % (n, c)) for n, v in res.items()}
    q.stop()

    daemons = {w: b.qgate("scaling-w%d" % w, ["--workers", str(w)]) for w in WORKERS}
    for d in daemons.values():
        b.wrk(d.url("/query/service"), 64, 1, method="POST", body=BODY, ctype=b.FORM)
    res = b.interleave([(w, load(d, 64)) for w, d in daemons.items()], runs)
    by_workers = {w: summarize(v, "qgate, %d workers" % w) for w, v in res.items()}
    s.raw.update(by_conns=by_conns, by_workers=by_workers, runs=runs)

    os.makedirs(b.RAW, exist_ok=True)
    conns_dat = os.path.join(b.RAW, "scaling_conns.dat")
    with open(conns_dat, "w") as f:
        f.write("# connections qgate_rps qgate_p99_ms responder_rps responder_p99_ms\n")
        for c in CONNS:
            x = by_conns[c]
            f.write("%d %.1f %.3f %.1f %.3f\n" % (c, x["qgate"]["rps"], x["qgate"]["p99"],
                                                   x["responder"]["rps"], x["responder"]["p99"]))
    workers_dat = os.path.join(b.RAW, "scaling_workers.dat")
    ref64 = by_conns[64]["responder"]
    with open(workers_dat, "w") as f:
        f.write("# workers qgate_rps qgate_p99_ms responder_rps_64 responder_p99_ms_64\n")
        for w in WORKERS:
            x = by_workers[w]
            f.write("%d %.1f %.3f %.1f %.3f\n" % (w, x["rps"], x["p99"], ref64["rps"],
                                                   ref64["p99"]))
    png = os.path.join(b.RESULTS, "scaling.png")
    p = b.run(["gnuplot", "-e", "conns_file='%s'; workers_file='%s'; out_file='%s'"
               % (conns_dat, workers_dat, png), os.path.join(b.HERE, "plot.gp")],
              timeout=60, capture_output=True, text=True)
    if p.returncode != 0:
        raise b.BenchError("gnuplot failed: %s" % p.stderr)

    rows = []
    for c in CONNS:
        x = by_conns[c]
        rows.append([c, b.fmt_rate(x["qgate"]["rps"]), b.fmt_ms(x["qgate"]["p99"]),
                     b.fmt_rate(x["responder"]["rps"]), b.fmt_ms(x["responder"]["p99"]),
                     b.fmt_ratio(x["qgate"]["rps"] / x["responder"]["rps"]),
                     x["qgate"]["errors"] + x["responder"]["errors"]])
    s.extra.append("\n".join(
        ["Connections (qgate with 4 workers):", ""] +
        b.table(["connections", "qgate req/s", "qgate p99", "responder req/s", "responder p99",
                 "req/s ratio", "errors"], rows)))
    rows = []
    for w in WORKERS:
        x = by_workers[w]
        rows.append([w, b.fmt_rate(x["rps"]), b.fmt_ms(x["p99"]),
                     b.fmt_ratio(x["rps"] / ref64["rps"]), x["errors"]])
    s.extra.append("\n".join(
        ["Worker threads (64 connections; ratio to the responder at 64 connections):", ""] +
        b.table(["workers", "qgate req/s", "qgate p99", "req/s ratio", "errors"], rows)))
    s.extra.append("![scaling](scaling.png)")

    best_c = max(CONNS, key=lambda c: by_conns[c]["qgate"]["rps"])
    x1024 = by_conns[1024]
    s.row("requests/s at 1024 conns", b.fmt_rate(x1024["qgate"]["rps"]),
          b.fmt_rate(x1024["responder"]["rps"]),
          b.fmt_ratio(x1024["qgate"]["rps"] / x1024["responder"]["rps"]), "(none set)",
          "qgate peaks at %d conns" % best_c)
    s.row("p99 at 1024 conns", b.fmt_ms(x1024["qgate"]["p99"]), b.fmt_ms(x1024["responder"]["p99"]),
          b.fmt_ratio(x1024["qgate"]["p99"] / x1024["responder"]["p99"]), "(none set)", "")
    best_w = max(WORKERS, key=lambda w: by_workers[w]["rps"])
    s.row("requests/s by workers, 64 conns",
          " / ".join("%d: %s" % (w, b.fmt_rate(by_workers[w]["rps"])) for w in WORKERS),
          b.fmt_rate(ref64["rps"]), "", "(none set)", "best: %d workers" % best_w)
    s.note("%d runs of %d s per point, alternating order, medians; wrk threads = min(conns, "
           "%d CPUs); the client shares the CPUs with the server" % (runs, b.SECONDS, b.NCPU))


if __name__ == "__main__":
    b.main(b.Section("scaling", 7, "Scaling",
                     "Immediate `SELECT 1` requests/s and p99 as connections (1-1024) and "
                     "worker threads (1-8) grow; bench/responder as the reference."), bench)
