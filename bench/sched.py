#!/usr/bin/env python3
"""Benchmark 11: many clients, one gateway (the scheduler, exec/sched.h).

Principal alice queues 5,500 async jobs of 100 ms each (a CPU-bound
statement stopped by its timeout) on a daemon with 4 workers; bob then
  - runs immediate `SELECT 1` one after another on a keep-alive connection:
    p50 and p99 latency (target p99 <= 10 ms);
  - submits an async `SELECT 2`, polled every 2 ms until a worker has taken
    it: how long it waited, against one of alice's jobs' run time (100 ms).
Memory: peak RSS (VmHWM) of a fresh daemon holding 10,000 queued jobs
(target <= 64 MiB), and of one with 4,000 pipelined requests for a 30 KB
value on one connection whose client reads nothing (target <= 32 MiB).
The linear statement split of a 4 MiB text with 100,000 `;` comes from
bench/micro (target <= 50 ms).
"""

import hashlib
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse

import benchlib as b

JOB_MS = 100
BACKLOG = 5500
FOREVER = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"
TOKENS = {"alice": "alice-bench-token", "bob": "bob-bench-token"}


def auth_file(d):
    path = os.path.join(d, "auth")
    with open(path, "w") as f:
        for name, tok in TOKENS.items():
            f.write("%s %s\n" % (name, hashlib.sha256(tok.encode()).hexdigest()))
    os.chmod(path, 0o600)
    return path


def hdr(name):
    return {"Authorization": "Bearer " + TOKENS[name],
            "Content-Type": b.FORM}


def submit_many(port, name, n, statement, timeout, threads=8):
    """n async submissions of statement by name over keep-alive connections."""
    body = b.form({"statement": statement, "mode": "async", "timeout": timeout})
    errors = []
    counts = [0] * threads

    def one(i):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(n // threads + (1 if i < n % threads else 0)):
            c.request("POST", "/query/service", body=body, headers=hdr(name))
            r = c.getresponse()
            r.read()
            if r.status != 200:
                errors.append(r.status)
            counts[i] += 1
        c.close()

    ts = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise b.BenchError("%d submissions refused (%s)" % (len(errors), errors[:3]))
    return sum(counts)


def metric(port, name, labels):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics", headers=hdr("bob"))
    text = c.getresponse().read().decode()
    c.close()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(l in line for l in labels):
            total += float(line.rsplit(" ", 1)[1])
    return total


def latencies(port, n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = b.form({"statement": "SELECT 1"})
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.request("POST", "/query/service", body=body, headers=hdr("bob"))
        r = c.getresponse()
        r.read()
        out.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            raise b.BenchError("SELECT 1 answered %d" % r.status)
    c.close()
    out.sort()
    return out


def pct(xs, p):
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def second_principal_wait(port, accept_ms):
    """ms from the answer to bob's submission (his job stored, queued)
    until a worker took it; the submission's own round trip in accept_ms."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    c.request("POST", "/query/service", body=b.form({"statement": "SELECT 2", "mode": "async"}),
              headers=hdr("bob"))
    r = c.getresponse()
    doc = json.loads(r.read())
    path = urllib.parse.urlsplit(doc["handle"]).path
    accept_ms.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    while True:
        c.request("GET", path, headers=hdr("bob"))
        st = json.loads(c.getresponse().read())
        state = st.get("progress", {}).get("state", st["status"])
        if state != "queued":
            c.close()
            return (time.perf_counter() - t0) * 1000
        if time.perf_counter() - t0 > 60:
            raise b.BenchError("bob's job waited more than 60 s")
        time.sleep(0.002)


def backlog_case(s, work):
    d = os.path.join(work, "backlog")
    os.mkdir(d)
    q = b.qgate("sched", ["--auth-file", auth_file(work), "--workers", "4", "--max-queued", "0",
                          "--principal-max-queued", "0", "--log-level", "warn"], data=d)
    idle = latencies(q.port, 300)
    submit_many(q.port, "alice", BACKLOG, FOREVER, "%dms" % JOB_MS)
    queued = metric(q.port, "qgate_sched_queued", ['lane="batch"', 'principal="alice"'])
    if queued < 5000:
        raise b.BenchError("only %d of alice's jobs queued" % queued)
    busy = latencies(q.port, 2000)
    accept = []
    waits = [second_principal_wait(q.port, accept) for _ in range(max(b.RUNS, 5))]
    still = metric(q.port, "qgate_sched_queued", ['lane="batch"', 'principal="alice"'])
    q.stop()
    s.raw["select1_idle_ms"] = idle
    s.raw["select1_backlog_ms"] = busy
    s.raw["second_principal_wait_ms"] = waits
    s.raw["second_principal_accept_ms"] = accept
    s.row("immediate SELECT 1 p99, %d async jobs of another principal queued" % int(queued),
          "%s (p50 %s)" % (b.fmt_ms(pct(busy, 0.99)), b.fmt_ms(pct(busy, 0.5))),
          "idle: p99 %s" % b.fmt_ms(pct(idle, 0.99)), "", "<= 10 ms",
          b.at_most(pct(busy, 0.99), 10, " ms"))
    s.row("second principal's async job: wait for a worker",
          "%s (max %s)" % (b.fmt_ms(b.median(waits)), b.fmt_ms(max(waits))),
          "one job runs %d ms; submission answered in %s (median)"
          % (JOB_MS, b.fmt_ms(b.median(accept))), "", "<= %d ms" % JOB_MS,
          b.at_most(max(waits), JOB_MS, " ms"))
    s.note("4 workers (3 may run batch jobs), 5,500 jobs of alice's submitted first; "
           "%d still queued at the end; 2,000 sequential SELECT 1 from bob on one keep-alive "
           "connection (Python client, its own time included); bob's job polled every 2 ms "
           "from the answer to its submission (a commit, group-committed) until it left the "
           "queue, %d times" % (int(still), len(waits)))


def queued_memory(s, work):
    d = os.path.join(work, "queued")
    os.mkdir(d)
    q = b.qgate("sched-mem", ["--auth-file", auth_file(work), "--workers", "4",
                              "--max-queued", "0", "--principal-max-queued", "0",
                              "--log-level", "warn"], data=d)
    idle = q.status_kib("VmHWM")
    submit_many(q.port, "alice", 10000, FOREVER, "1h")
    queued = metric(q.port, "qgate_sched_queued", ['lane="batch"'])
    peak = q.status_kib("VmHWM")
    q.stop()
    s.raw["queued_jobs_peak_kib"] = peak
    s.row("peak RSS, %d jobs queued" % int(queued), b.fmt_mib(peak),
          "idle: %s" % b.fmt_mib(idle), "", "<= 64 MiB", b.at_most(peak / 1024, 64, " MiB"))


def pipelined_memory(s, work):
    d = os.path.join(work, "pipe")
    os.mkdir(d)
    q = b.qgate("sched-pipe", ["--workers", "4"], data=d)
    idle = q.status_kib("VmHWM")
    stmt = urllib.parse.quote("SELECT hex(randomblob(15000)) AS v")
    req = b"GET /query/service?statement=%s HTTP/1.1\r\nHost: x\r\n\r\n" % stmt.encode()
    sock = socket.create_connection(("127.0.0.1", q.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.sendall(req * 4000)
    last, still = -1, 0
    deadline = time.monotonic() + 120
    while still < 10 and time.monotonic() < deadline:
        now = q.log().count(" GET /query/service 200 ")
        still = still + 1 if now == last else 0
        last = now
        time.sleep(0.1)
    peak = q.status_kib("VmHWM")
    sock.close()
    q.stop()
    s.raw["pipelined_peak_kib"] = peak
    s.row("peak RSS, 4,000 pipelined requests unread (30 KB answers)", b.fmt_mib(peak),
          "idle: %s; %d answered before the watermark held" % (b.fmt_mib(idle), last), "",
          "<= 32 MiB", b.at_most(peak / 1024, 32, " MiB"))


def split(s):
    micro = os.path.join(b.BUILD, "bench", "micro")
    p = b.run([micro, "split"], timeout=120, capture_output=True, text=True)
    m = re.search(r"\{.*\}", p.stdout)
    if p.returncode != 0 or not m:
        raise b.BenchError("micro split: %s%s" % (p.stdout, p.stderr))
    doc = json.loads(m.group(0))
    s.raw["split"] = doc
    s.row("split a 4 MiB statement with 100,000 `;`", b.fmt_ms(doc["split_ms"]), "", "",
          "<= 50 ms", b.at_most(doc["split_ms"], 50, " ms"))


def bench(s):
    work = b.tempdir("sched")
    backlog_case(s, work)
    queued_memory(s, work)
    pipelined_memory(s, work)
    split(s)


if __name__ == "__main__":
    b.main(b.Section("sched", 12, "Many clients, one gateway",
                     "Interactive latency and a second principal's turn beside another "
                     "principal's backlog; memory of a long queue and of unread pipelined "
                     "answers; the statement split."), bench)
