#!/usr/bin/env python3
"""Benchmark 9: large results of mixed types, as real tables look.

1,000,000 rows read over HTTP to the end by curl (output to /dev/null):
  - on SQLite (the recursive CTE of benchmark 4): an integer, text with a
    NULL in every 10th row, x * 0.1 and x / 3.0 (doubles whose shortest
    form has up to 17 digits), NULL in every 7th row; against
    `sqlite3 -json` running the same query into /dev/null;
  - on PostgreSQL (a throwaway cluster, as benchmark 6 starts it): int,
    numeric(12,2), float8 (x / 3.0), timestamptz and text with NULLs;
    against `psql --csv` running the same query into /dev/null.
Timed by hyperfine: a warm-up round, then BENCH_RUNS rounds of one run each,
alternating the order; medians. Target: qgate's time <= the reference's
divided by 1.5 (speed ratio >= 1.5x) on both.
"""

import os

import benchlib as b
import postgres

ROWS = 1000000
TARGET = 1.5

SQLITE_SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) "
              "SELECT x AS id, CASE WHEN x %% 10 = 0 THEN NULL ELSE 'row' || x END AS name, "
              "x * 0.1 AS tenth, CASE WHEN x %% 7 = 0 THEN NULL ELSE x / 3.0 END AS third "
              "FROM c" % ROWS)

PG_SQL = ("SELECT x AS id, (x * 0.01)::numeric(12,2) AS amount, x / 3.0::float8 AS ratio, "
          "timestamptz '2024-01-01 00:00:00+00' + x * interval '1 second' AS at, "
          "CASE WHEN x %% 10 = 0 THEN NULL ELSE 'row' || x END AS name "
          "FROM generate_series(1, %d) AS g(x)" % ROWS)


def curl_post(url, stmt_file, extra=()):
    return ["curl", "-sS", "-f", "--max-time", "600", "--data-urlencode",
            "statement@" + stmt_file] + list(extra) + [url]


def verified_curl(what, url, stmt_file):
    """Reads the whole answer once and checks it, then returns the command
    hyperfine times."""
    rc, total, tail = b.stream_tail(curl_post(url, stmt_file), 600)
    b.check_envelope(what, rc, total, tail, ROWS)
    return curl_post(url, stmt_file, ["-o", "/dev/null"]), total


def sqlite_side(s, work):
    q = b.qgate("mixed")
    stmt_file = os.path.join(work, "sqlite.sql")
    with open(stmt_file, "w") as f:
        f.write(SQLITE_SQL)
    db = os.path.join(work, "empty.db")  # the query reads no table
    cmd, total = verified_curl("mixed, SQLite", q.url("/query/service"), stmt_file)
    ref = b.run(["sqlite3", "-json", db, SQLITE_SQL], timeout=600, capture_output=True)
    if ref.returncode != 0:
        raise b.BenchError("sqlite3 failed: %s" % ref.stderr.decode()[:300])
    s.raw["sqlite"] = {"qgate_bytes": total, "sqlite3_bytes": len(ref.stdout)}
    del ref
    t = b.hyperfine({"qgate": cmd, "sqlite3": ["sqlite3", "-json", db, SQLITE_SQL]})
    s.raw["sqlite"]["times"] = t
    q.stop()
    qt, rt = t["qgate"]["median_s"], t["sqlite3"]["median_s"]
    s.row("1M mixed rows on SQLite: time", b.fmt_s(qt) + " (%.0f MB/s)" % (total / qt / 1e6),
          b.fmt_s(rt) + " (sqlite3 -json)", b.fmt_ratio(rt / qt), ">= %.1fx" % TARGET,
          b.at_least(rt / qt, TARGET))


def pg_side(s, work):
    cluster = postgres.Cluster()
    s.note("PostgreSQL %s, throwaway cluster on 127.0.0.1 (as benchmark 6)"
           % cluster.bindir.split(os.sep)[-2])
    q = b.qgate("mixed-pg", backend=cluster.uri())
    stmt_file = os.path.join(work, "pg.sql")
    with open(stmt_file, "w") as f:
        f.write(PG_SQL)
    cmd, total = verified_curl("mixed, PostgreSQL", q.url("/query/service"), stmt_file)
    psql = cluster.client("psql") + ["-X", "-q", "--csv", "-d", "postgres", "-c", PG_SQL]
    t = b.hyperfine({"qgate": cmd, "psql": psql})
    s.raw["pg"] = {"qgate_bytes": total, "times": t}
    qt, rt = t["qgate"]["median_s"], t["psql"]["median_s"]
    s.row("1M mixed rows on PostgreSQL: time", b.fmt_s(qt) + " (%.0f MB/s)" % (total / qt / 1e6),
          b.fmt_s(rt) + " (psql --csv)", b.fmt_ratio(rt / qt), ">= %.1fx" % TARGET,
          b.at_least(rt / qt, TARGET))


def bench(s):
    work = b.tempdir("mixed")
    sqlite_side(s, work)
    pg_side(s, work)
    s.note("ratio = the reference's time / qgate's time (> 1: qgate is faster); hyperfine, "
           "1 warm-up + %d rounds in alternating order, medians; qgate's answers %d bytes "
           "(SQLite) and %d bytes (PostgreSQL), sqlite3's %d bytes"
           % (b.RUNS, s.raw["sqlite"]["qgate_bytes"], s.raw["pg"]["qgate_bytes"],
              s.raw["sqlite"]["sqlite3_bytes"]))
    s.note("SQLite: `%s`" % SQLITE_SQL)
    s.note("PostgreSQL: `%s`" % PG_SQL)


if __name__ == "__main__":
    b.main(b.Section("mixed_result", 9, "Large results of mixed types",
                     "1,000,000 rows of integers, text, doubles that are not short, "
                     "numeric, timestamptz and NULLs, read to the end over HTTP (curl) vs. "
                     "`sqlite3 -json` and `psql --csv` writing the same rows to /dev/null."),
           bench)
