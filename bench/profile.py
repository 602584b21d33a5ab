#!/usr/bin/env python3
"""Profile: where qgate's CPU time goes under two loads.

perf record (cpu-clock sampling, DWARF call graphs) on the running daemon
  - while wrk POSTs `SELECT 1` over 64 keep-alive connections;
  - while curl reads 1,000,000-row results (the query of benchmark 4).
Reports, per load: samples per thread (the loop thread vs. the workers), the
functions with the most samples of their own (self), and qgate's own
functions with the most samples including their callees (inclusive). The
full reports are kept in raw/profile_*.txt. Samples are of qgate only: the
client (wrk, curl) is not in them.

Then callgrind (valgrind) counts the user-space instructions per `SELECT 1`
of qgate and of bench/responder (4 connections, after a warm-up): exact
numbers that do not drift with the machine's load, and qgate's functions
with the most instructions per request, including their callees.

No target: this explains the others. A part is skipped (not failed) when
perf cannot sample on this machine or valgrind is missing.
"""

import os
import re
import shutil
import subprocess
import time

import benchlib as b

FREQ = 499  # Hz; DWARF stacks are large


def perf_usable(work):
    try:
        p = b.run(["perf", "record", "-e", "cpu-clock", "-o", os.path.join(work, "probe.data"),
                   "--", "true"], timeout=30, capture_output=True, text=True)
    except OSError as e:
        return str(e)
    return None if p.returncode == 0 else (p.stderr.strip().splitlines() or ["?"])[-1]


def record(pid, seconds, out, load):
    """Samples pid for seconds while load() runs (load is bounded itself)."""
    perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", str(FREQ),
                             "--call-graph", "dwarf,16384", "-p", str(pid), "-o", out,
                             "--", "sleep", str(seconds)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    b.on_exit(lambda: perf.poll() is None and perf.kill())
    time.sleep(0.3)
    load()
    try:
        _, err = perf.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        perf.kill()
        raise b.BenchError("perf record did not end")
    if perf.returncode != 0:
        raise b.BenchError("perf record failed: %s" % err[-500:])


def report(data, args):
    p = b.run(["perf", "report", "-i", data, "--stdio", "-g", "none"] + args, timeout=300,
              capture_output=True, text=True)
    if p.returncode != 0:
        raise b.BenchError("perf report failed: %s" % p.stderr[-500:])
    return p.stdout


LINE = re.compile(r"^\s+([\d.]+)%\s+(?:([\d.]+)%\s+)?(\S+)\s+\[(.)\]\s+(.+?)\s*(?:-\s+-\s*)?$")


def parse(text):
    """perf report lines: (percent, self percent or None, dso, symbol)."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            out.append((float(m.group(1)), float(m.group(2)) if m.group(2) else None,
                        m.group(3), m.group(5).strip()))
    return out


def analyse(s, name, title, data, pid):
    full = []
    threads = report(data, ["--no-children", "--sort", "pid"])
    full.append(threads)
    loop = workers = 0.0
    for line in threads.splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+(\d+):", line)
        if m:
            if int(m.group(2)) == pid:
                loop += float(m.group(1))
            else:
                workers += float(m.group(1))
    kernel = 0.0
    dsos = report(data, ["--no-children", "--sort", "dso"])
    full.append(dsos)
    for line in dsos.splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+\[kernel\.kallsyms\]", line)
        if m:
            kernel += float(m.group(1))
    selfs = report(data, ["--no-children", "--sort", "dso,symbol", "--percent-limit", "0.5"])
    full.append(selfs)
    incl = report(data, ["--children", "--sort", "dso,symbol", "--percent-limit", "0.5"])
    full.append(incl)
    with open(os.path.join(b.RAW, "profile_%s.txt" % name), "w") as f:
        f.write("\n\n".join(full))

    top_self = [r for r in parse(selfs) if not r[3].startswith("0x")][:12]
    skip = {"main", "_start", "run", "serve", "worker_main"}
    top_incl = [r for r in parse(incl) if r[2] == "qgate"
                and r[3].split(" ")[0] not in skip][:12]
    s.raw[name] = {"loop_pct": loop, "workers_pct": workers, "kernel_pct": kernel,
                   "self": top_self, "inclusive": top_incl}
    rows = [["%.1f%%" % pct, "`%s`" % sym, dso] for pct, _, dso, sym in top_self]
    s.extra.append("\n".join(
        ["**%s** — loop thread %.0f%% of qgate's samples, workers %.0f%%; in the kernel "
         "%.0f%%. Most samples of their own:" % (title, loop, workers, kernel), ""] +
        b.table(["self", "function", "object"], rows)))
    rows = [["%.1f%%" % pct, "`%s`" % sym] for pct, _, _, sym in top_incl]
    s.extra.append("\n".join(["qgate's functions, with their callees:", ""] +
                             b.table(["inclusive", "function"], rows)))


CG_SKIP = {"main", "(below main)", "__libc_start_main@@GLIBC_2.34", "event_base_dispatch",
           "event_base_loop", "clone", "start_thread", "worker_main"}
CG_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+?)\s+\[(.+)\]\s*$")


def callgrind(tag, argv, seconds, body):
    """Runs argv under callgrind, loads it with wrk (4 connections) for
    seconds after a warm-up, counting only that part. Returns (requests,
    instructions, [(inclusive instructions, function, object)])."""
    work = b.tempdir("callgrind-" + tag)
    out = os.path.join(work, "callgrind.out")
    d = b.Daemon(tag, ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + argv,
                 os.path.join(work, "log"), timeout=120)
    url = d.url("/query/service")
    b.wrk(url, 4, 2, method="POST", body=body, ctype=b.FORM, threads=1)

    def control(flag):
        p = b.run(["callgrind_control", flag, str(d.pid)], timeout=60, capture_output=True,
                  text=True)
        if p.returncode != 0:
            raise b.BenchError("callgrind_control %s failed: %s" % (flag, p.stderr))
    control("-z")
    r = b.wrk(url, 4, seconds, method="POST", body=body, ctype=b.FORM, threads=1)
    control("-d")
    d.stop(60)
    dump = out + ".1"
    p = b.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", dump], timeout=120,
              capture_output=True, text=True)
    if p.returncode != 0:
        raise b.BenchError("callgrind_annotate failed: %s" % p.stderr[-300:])
    with open(os.path.join(b.RAW, "callgrind_%s.txt" % tag), "w") as f:
        f.write(p.stdout)
    total, funcs = None, []
    for line in p.stdout.splitlines():
        m = CG_LINE.match(line)
        if m:
            ir = int(m.group(1).replace(",", ""))
            where = m.group(2)
            fn = where.split(":", 1)[1] if ":" in where else where
            funcs.append((ir, fn, os.path.basename(m.group(3))))
        elif "PROGRAM TOTALS" in line:
            total = int(line.split()[0].replace(",", ""))
    if not total or r["requests"] == 0:
        raise b.BenchError("no callgrind totals in %s" % dump)
    return r["requests"], total, funcs


def instructions(s, work):
    """Instructions per SELECT 1, qgate and the responder, under callgrind:
    exact counts (user space only), unlike the sampled times above."""
    body = b.form({"statement": "SELECT 1"})
    seconds = max(3, b.SECONDS)
    qn, qi, qf = callgrind("qgate", [b.QGATE, "--listen", "127.0.0.1:0", "--data",
                                     os.path.join(work, "cg-data")], seconds, body)
    # 299 bytes: the size of qgate's SELECT 1 answer (297 to 300, with its times)
    rn, ri, _ = callgrind("responder", [b.RESPONDER, "query", "299"], seconds, body)
    qper, rper = qi / qn, ri / rn
    s.raw["instructions"] = {"qgate_requests": qn, "qgate_ir": qi, "responder_requests": rn,
                             "responder_ir": ri}
    s.row("user-space instructions per `SELECT 1` (callgrind)", "{:,.0f}".format(qper),
          "{:,.0f} (responder)".format(rper), b.fmt_ratio(qper / rper), "(info)",
          "exact counts; kernel time not included")
    rows = []
    for ir, fn, obj in qf:
        if fn in CG_SKIP or fn.startswith("0x") or "???" in fn:
            continue
        rows.append(["{:,.0f}".format(ir / qn), "%.0f%%" % (100.0 * ir / qi), "`%s`" % fn, obj])
        if len(rows) == 20:
            break
    s.extra.append("\n".join(
        ["**Instructions per `SELECT 1`** (callgrind, 4 connections, %d s; qgate %s, responder "
         "%s per request). qgate's largest inclusive costs per request:"
         % (seconds, "{:,.0f}".format(qper), "{:,.0f}".format(rper)), ""] +
        b.table(["instructions", "share", "function", "object"], rows)))


def bench(s):
    work = b.tempdir("profile")
    os.makedirs(b.RAW, exist_ok=True)
    why = perf_usable(work)
    if why:
        s.note("perf profile skipped: perf cannot sample here (%s)" % why)
    else:
        sampled(s, work)
    if shutil.which("valgrind") and shutil.which("callgrind_control"):
        instructions(s, work)
    else:
        s.note("instruction counts skipped: valgrind is not installed")


def sampled(s, work):
    """The perf part: both loads on one daemon."""
    q = b.qgate("profile")
    body = b.form({"statement": "SELECT 1"})
    url = q.url("/query/service")
    b.wrk(url, 64, 1, method="POST", body=body, ctype=b.FORM)
    data = os.path.join(work, "select1.data")
    got = {}
    record(q.pid, b.SECONDS + 1, data,
           lambda: got.update(r=b.wrk(url, 64, method="POST", body=body, ctype=b.FORM)))
    analyse(s, "select1",
            "`SELECT 1`, 64 connections (%s under perf)" % b.fmt_rate(got["r"]["rps"]), data, q.pid)

    stmt = os.path.join(work, "rows.sql")
    with open(stmt, "w") as f:
        f.write(b.rows_query(1000000))
    seconds = b.SECONDS + 1

    def rows_load():
        end = time.monotonic() + seconds - 0.8
        n = 0
        while n == 0 or time.monotonic() < end:
            p = b.run(["curl", "-sS", "-f", "--max-time", "120", "-o", "/dev/null",
                       "--data-urlencode", "statement@" + stmt, url], timeout=180)
            if p.returncode != 0:
                raise b.BenchError("curl failed during the profile")
            n += 1
        got["n"] = n

    data = os.path.join(work, "rows.data")
    record(q.pid, seconds, data, rows_load)
    analyse(s, "rows", "1,000,000-row results, one at a time (%d read)" % got["n"], data, q.pid)
    s.note("perf record -e cpu-clock -F %d --call-graph dwarf on the daemon only; percentages "
           "are of qgate's samples; full reports in raw/profile_*.txt" % FREQ)
    q.stop()


if __name__ == "__main__":
    b.main(b.Section("profile", 8, "Profile",
                     "Where qgate's CPU time goes (perf) under the `SELECT 1` load of "
                     "benchmark 1 and while serving 1,000,000-row results; instructions per "
                     "`SELECT 1` (callgrind), qgate and the responder."), bench)
