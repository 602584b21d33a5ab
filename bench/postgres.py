#!/usr/bin/env python3
"""Benchmark 6: qgate on PostgreSQL vs. PostgreSQL's own clients.

Starts a throwaway PostgreSQL cluster (initdb as the `postgres` OS user when
run as root, in a temp directory, on a free loopback port; stopped at the
end), then compares
  - immediate `SELECT 1`, 64 keep-alive connections (wrk), with pgbench
    running `SELECT 1;` on 64 connections of its own;
  - a 1,000,000-row, 3-column result read over HTTP (curl to /dev/null) with
    `psql --csv` writing the same rows to /dev/null (hyperfine).
No target is set: the ratios show what the HTTP gateway costs.

While qgate refuses `--backend postgresql://...`, its side is "not
available"; the references are still measured.
"""

import glob
import os
import pwd
import re
import shutil

import benchlib as b

CONNS = 64
ROWS = 1000000
SQL_ROWS = ("SELECT x, x * 2 AS y, 'row' || x AS z FROM generate_series(1, %d) AS g(x)" % ROWS)


def pg_bindir():
    """The newest PostgreSQL server binaries (Debian keeps them per version)."""
    def version(p):
        v = p.split(os.sep)[-3]
        return int(v) if v.isdigit() else 0
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise b.BenchError("no initdb: install postgresql (scripts/deps.sh bench)")


class Cluster:
    """A throwaway cluster; stopped and removed when the benchmark ends."""

    def __init__(self):
        self.bindir = pg_bindir()
        self.as_postgres = os.geteuid() == 0
        self.dir = b.tempdir("pg")
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.port = b.free_port()
        self.user = "bench"
        p = self.pg(["initdb", "-D", self.data, "-U", self.user, "--auth=trust", "-E", "UTF8",
                     "--no-locale", "--no-sync"], timeout=120)
        if p.returncode != 0:
            raise b.BenchError("initdb failed:\n%s" % p.stdout[-2000:])
        opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=300 "
                "-c shared_buffers=64MB" % (self.port, self.dir))
        b.on_exit(self.stop)
        p = self.pg(["pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "server.log"),
                     "-w", "-t", "60", "-o", opts, "start"], timeout=90)
        if p.returncode != 0:
            raise b.BenchError("pg_ctl start failed:\n%s\n%s" % (p.stdout[-2000:], self.log()))

    def pg(self, argv, timeout):
        cmd = [os.path.join(self.bindir, argv[0])] + argv[1:]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return b.run(cmd, timeout=timeout, capture_output=True, text=True, cwd=self.dir)

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            p = self.pg(["pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "30", "stop"], 60)
            if p.returncode != 0:
                self.pg(["pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "30", "stop"],
                        60)

    def uri(self):
        return "postgresql://%s@127.0.0.1:%d/postgres" % (self.user, self.port)

    def client(self, tool):
        return [os.path.join(self.bindir, tool) if os.path.exists(
            os.path.join(self.bindir, tool)) else tool,
            "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]


def pgbench_select1(cluster, work):
    """One pgbench run of SELECT 1 on CONNS connections: rps and p99 from
    its per-transaction log."""
    script = os.path.join(work, "select1.sql")
    with open(script, "w") as f:
        f.write("SELECT 1;\n")
    logdir = b.tempdir("pgbench-log")
    prefix = os.path.join(logdir, "tx")
    p = b.run(cluster.client("pgbench") + ["-n", "-c", str(CONNS), "-j", str(min(CONNS, b.NCPU)),
                                           "-T", str(b.SECONDS), "-f", script, "--log",
                                           "--log-prefix", prefix, "postgres"],
              timeout=b.SECONDS + 120, capture_output=True, text=True)
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", p.stdout)
    if p.returncode != 0 or not m:
        raise b.BenchError("pgbench failed:\n%s%s" % (p.stdout[-1500:], p.stderr[-1500:]))
    lat = []
    for name in glob.glob(prefix + ".*"):
        with open(name) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    lat.append(int(parts[2]))
    shutil.rmtree(logdir, ignore_errors=True)
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1000 if lat else float("nan")
    return {"rps": float(m.group(1)), "p99_ms": p99, "transactions": len(lat)}


def bench(s):
    work = b.tempdir("pg-work")
    cluster = Cluster()
    s.note("PostgreSQL %s (%s), throwaway cluster on 127.0.0.1, default settings but "
           "shared_buffers=64MB, max_connections=300"
           % (cluster.bindir.split(os.sep)[-2], b.pkg_version("postgresql")))

    why = None
    try:
        q = b.qgate("pg", backend=cluster.uri())
    except b.BenchError as e:
        if "unknown --backend" not in str(e):
            raise
        q, why = None, "qgate refuses `--backend postgresql://...`"
    if q:
        st, data = b.request(q.port, "POST", "/query/service", b.form({"statement": "SELECT 1"}))
        if st != 200 or b'"status":"success"' not in data:
            raise b.BenchError("SELECT 1 on PostgreSQL answered %d: %r" % (st, data[:300]))

    body = b.form({"statement": "SELECT 1"})
    sides = [("pgbench", lambda: pgbench_select1(cluster, work))]
    if q:
        url = q.url("/query/service")
        sides.insert(0, ("qgate", lambda: b.wrk(url, CONNS, method="POST", body=body,
                                                 ctype=b.FORM)))
        b.wrk(url, CONNS, 1, method="POST", body=body, ctype=b.FORM)
    res = b.interleave(sides)
    s.raw["select1"] = res
    ref_rps = b.median([x["rps"] for x in res["pgbench"]])
    ref_p99 = b.median([x["p99_ms"] for x in res["pgbench"]])
    if q:
        for one in res["qgate"]:
            b.check_wrk(one, "qgate on PostgreSQL")
        rps = b.median([x["rps"] for x in res["qgate"]])
        p99 = b.median([x["p99_ms"] for x in res["qgate"]])
        s.row("`SELECT 1` requests/s, 64 conns", b.fmt_rate(rps),
              b.fmt_rate(ref_rps) + " (pgbench)",
              b.fmt_ratio(rps / ref_rps), "(none set)", "")
        s.row("`SELECT 1` p99 latency, 64 conns", b.fmt_ms(p99), b.fmt_ms(ref_p99) + " (pgbench)",
              b.fmt_ratio(p99 / ref_p99), "(none set)", "")
    else:
        s.not_available("`SELECT 1` requests/s, 64 conns", why,
                        ref_v=b.fmt_rate(ref_rps) + " (pgbench)", target="(none set)")
        s.not_available("`SELECT 1` p99 latency, 64 conns", why,
                        ref_v=b.fmt_ms(ref_p99) + " (pgbench)", target="(none set)")

    cmds = {"psql": cluster.client("psql") + ["-X", "-q", "--csv", "-d", "postgres",
                                              "-c", SQL_ROWS]}
    if q:
        stmt_file = os.path.join(work, "rows.sql")
        with open(stmt_file, "w") as f:
            f.write(SQL_ROWS)
        argv = ["curl", "-sS", "-f", "--max-time", "600", "--data-urlencode",
                "statement@" + stmt_file, q.url("/query/service")]
        rc, total, tail = b.stream_tail(argv, 600)
        b.check_envelope("1M rows on PostgreSQL", rc, total, tail, ROWS)
        cmds["qgate"] = argv[:-1] + ["-o", "/dev/null", argv[-1]]
    t = b.hyperfine(cmds)
    s.raw["rows"] = t
    rt = t["psql"]["median_s"]
    if q:
        qt = t["qgate"]["median_s"]
        s.row("1M rows: time", b.fmt_s(qt), b.fmt_s(rt) + " (psql --csv)", b.fmt_ratio(rt / qt),
              "(none set)", "")
    else:
        s.not_available("1M rows: time", why, ref_v=b.fmt_s(rt) + " (psql --csv)",
                        target="(none set)")
    s.note("ratios: requests/s qgate/pgbench, p99 qgate/pgbench, time psql/qgate (> 1: qgate "
           "faster); %d runs each, medians" % b.RUNS)


if __name__ == "__main__":
    b.main(b.Section("postgres", 6, "PostgreSQL backend",
                     "qgate with `--backend postgresql://...` vs. pgbench (`SELECT 1`, 64 "
                     "connections) and `psql --csv` (1,000,000 rows of generate_series: x, "
                     "x*2, 'row'||x) on the same throwaway cluster."), bench)
