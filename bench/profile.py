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


def callgrind(tag, argv, seconds, body, path=None):
    """Runs argv under callgrind, loads it with wrk (4 connections) for
    seconds after a warm-up, counting only that part: POSTs of body to
    /query/service, or GETs of path(daemon) when path is given. Returns
    (requests, instructions, [(inclusive instructions, function, object)])."""
    work = b.tempdir("callgrind-" + tag)
    out = os.path.join(work, "callgrind.out")
    d = b.Daemon(tag, ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + argv,
                 os.path.join(work, "log"), timeout=120)
    if path:
        url, method, body = d.url(path(d)), "GET", None
    else:
        url, method = d.url("/query/service"), "POST"
    b.wrk(url, 4, 2, method=method, body=body, ctype=b.FORM if body else None, threads=1)

    def control(flag):
        p = b.run(["callgrind_control", flag, str(d.pid)], timeout=60, capture_output=True,
                  text=True)
        if p.returncode != 0:
            raise b.BenchError("callgrind_control %s failed: %s" % (flag, p.stderr))
    control("-z")
    r = b.wrk(url, 4, seconds, method=method, body=body, ctype=b.FORM if body else None,
              threads=1)
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


def status_path(d):
    """A finished async job's status path on daemon d (benchmark 2's)."""
    import status_poll
    return status_poll.finished_status_path(d)[0]


# The hot paths: (key, title, qgate's load, the responder's kind and body
# size or None). 299 and 456 bytes: the sizes of qgate's answers (with
# their times and handles, within a few bytes).
PATHS = [
    ("select1", "`SELECT 1`", {"body": b.form({"statement": "SELECT 1"})}, ("query", 299)),
    ("status", "status poll", {"body": None, "path": status_path}, ("status", 456)),
    ("async", "async submission",
     {"body": b.form({"statement": "SELECT 1", "mode": "async"})}, None),
]


def instructions(s, work):
    """Instructions per request of each hot path, qgate and the responder,
    under callgrind: exact counts (user space only), unlike the sampled
    times above."""
    seconds = max(3, b.SECONDS)
    s.raw["instructions"] = {}
    for key, title, load, ref in PATHS:
        qn, qi, qf = callgrind("qgate-" + key, [b.QGATE, "--listen", "127.0.0.1:0", "--data",
                                                 os.path.join(work, "cg-" + key)], seconds,
                               load["body"], path=load.get("path"))
        qper = qi / qn
        raw = {"qgate_requests": qn, "qgate_ir": qi}
        if ref:
            rpath = (lambda d: "/query/service/status/1-0") if load.get("path") else None
            rn, ri, _ = callgrind("responder-" + key, [b.RESPONDER, ref[0], str(ref[1])],
                                  seconds, load["body"], path=rpath)
            rper = ri / rn
            raw.update(responder_requests=rn, responder_ir=ri)
            s.row("user-space instructions per %s (callgrind)" % title, "{:,.0f}".format(qper),
                  "{:,.0f} (responder)".format(rper), b.fmt_ratio(qper / rper), "(info)",
                  "exact counts; kernel time not included")
        else:
            rper = None
            s.row("user-space instructions per %s (callgrind)" % title, "{:,.0f}".format(qper),
                  "", "", "(info)", "the loop's, the workers' and the store writer's")
        s.raw["instructions"][key] = raw
        rows = []
        for ir, fn, obj in qf:
            if fn in CG_SKIP or fn.startswith("0x") or "???" in fn:
                continue
            rows.append(["{:,.0f}".format(ir / qn), "%.0f%%" % (100.0 * ir / qi), "`%s`" % fn,
                         obj])
            if len(rows) == 20:
                break
        s.extra.append("\n".join(
            ["**Instructions per %s** (callgrind, 4 connections, %d s; qgate %s%s per request). "
             "qgate's largest inclusive costs per request:"
             % (title, seconds, "{:,.0f}".format(qper),
                ", responder {:,.0f}".format(rper) if rper else ""), ""] +
            b.table(["instructions", "share", "function", "object"], rows)))


SYSCALL_LINE = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$")


def syscalls(s, work):
    """System calls per request (strace -c on the server under 64
    connections), qgate and the responder: most of a small request's time is
    in the kernel, and each call is an entry into it."""
    for key, title, load, ref in PATHS:
        if not ref:
            continue
        counts = {}
        for side in ("qgate", "responder"):
            if side == "qgate":
                d = b.qgate("strace-" + key, ["--log-level", "warn"])
            else:
                d = b.responder("strace-" + key, ref[0], ref[1])
            if load.get("path"):
                url = d.url(load["path"](d) if side == "qgate" else "/query/service/status/1-0")
                method, body = "GET", None
            else:
                url, method, body = d.url("/query/service"), "POST", load["body"]
            ctype = b.FORM if body else None
            b.wrk(url, 64, 1, method=method, body=body, ctype=ctype)
            out = os.path.join(work, "strace-%s-%s.txt" % (key, side))
            tr = subprocess.Popen(["strace", "-f", "-c", "-o", out, "-p", str(d.pid)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            b.on_exit(lambda tr=tr: tr.poll() is None and tr.kill())
            time.sleep(0.5)
            r = b.wrk(url, 64, 2, method=method, body=body, ctype=ctype)
            tr.send_signal(2)
            tr.wait(60)
            d.stop()
            calls = {}
            with open(out) as f:
                for line in f:
                    m = SYSCALL_LINE.match(line)
                    if m and m.group(2) != "total":
                        calls[m.group(2)] = int(m.group(1)) / max(1, r["requests"])
            counts[side] = calls
        s.raw.setdefault("syscalls", {})[key] = counts
        q, rr = counts["qgate"], counts["responder"]

        def fmt(c):
            main = sorted(((v, k) for k, v in c.items() if v >= 0.05), reverse=True)
            return "%.1f (%s)" % (sum(c.values()), ", ".join("%s %.2f" % (k, v) for v, k in main))
        s.row("system calls per %s (strace -c, 64 conns)" % title, fmt(q), fmt(rr), "", "(info)",
              "under strace, so fewer requests/s than usual")


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
    if shutil.which("strace"):
        syscalls(s, work)
    else:
        s.note("system call counts skipped: strace is not installed")


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
