#!/usr/bin/env python3
"""Benchmark 10: inner loops, in CPU time (bench/micro).

  - a double to its shortest round-trip text (core/json, core/dtoa): ns per
    value over 2,000,000 values (x / 3.0 and x * 0.1), beside
    snprintf("%.17g"), which is exact but not shortest;
  - one row of the PostgreSQL mixed benchmark (int, numeric, float8,
    timestamptz, text) rendered as JSON by exec/pgsql_value and exec/rows:
    ns per row, the cost of producing the input texts subtracted;
  - splitting a 4 MiB SQLite text whose CREATE TRIGGER body holds 100,000
    ';' (exec/sqlite_split), beside one sqlite3_complete over the whole
    text (SQLite's own lexer reading it once). Target: <= 50 ms.

CPU time (CLOCK_PROCESS_CPUTIME_ID), medians of BENCH_RUNS runs: a busy
machine changes these much less than wall times.
"""

import json
import os

import benchlib as b

MICRO = os.path.join(b.BUILD, "bench", "micro")
SPLIT_LIMIT_MS = 50.0


def micro(what):
    p = b.run([MICRO, what, str(b.RUNS)], timeout=300, capture_output=True, text=True)
    if p.returncode != 0:
        raise b.BenchError("micro %s failed:\n%s%s" % (what, p.stdout, p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def bench(s):
    if not os.access(MICRO, os.X_OK):
        raise b.BenchError("no %s: run bench/run.sh (it builds)" % MICRO)
    d = micro("doubles")
    s.raw["doubles"] = d
    s.row("double to shortest text: ns per value", "%.1f ns" % d["ns_per_double"],
          "%.1f ns (snprintf %%.17g)" % d["printf_17g_ns"],
          b.fmt_ratio(d["printf_17g_ns"] / d["ns_per_double"]), "(info)",
          "shortest digits, exact")
    r = micro("pgrows")
    s.raw["pgrows"] = r
    s.row("PostgreSQL mixed row to JSON: ns per row", "%.1f ns" % r["ns_per_row"], "", "",
          "(info)", "5 columns, rendering only")
    t = micro("split")
    s.raw["split"] = t
    s.row("split a 4 MiB SQLite text, 100,000 `;` in a trigger", "%.2f ms" % t["split_ms"],
          "%.2f ms (sqlite3_complete once)" % t["complete_ms"],
          b.fmt_ratio(t["complete_ms"] / t["split_ms"]), "<= %.0f ms" % SPLIT_LIMIT_MS,
          b.at_most(t["split_ms"], SPLIT_LIMIT_MS, " ms"))
    s.note("CPU time of one thread, medians of %d runs; ratio = reference / qgate" % b.RUNS)


if __name__ == "__main__":
    b.main(b.Section("micro", 10, "Inner loops",
                     "CPU time of the double printer, of rendering a PostgreSQL row and of "
                     "the SQLite statement splitter, beside plain references."), bench)
