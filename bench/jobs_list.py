#!/usr/bin/env python3
"""Benchmark 11: the listing of a principal's jobs and its index.

Stores JOBS async jobs (SELECT 1) through HTTP, then:
- loads `GET /query/service/jobs?limit=20` and `?limit=100` with wrk over
  8 keep-alive connections, beside the status poll of one finished job
  (the loop's other read of the store) as the reference;
- measures what the owners index takes in the store (mdb_stat);
- turns the store into what a format-3 qgate left (no owners database,
  format 3: LMDB's own C library through ctypes, as Debian's lmdb-utils
  has no mdb_drop) and starts qgate on it again: the log says how long
  indexing every job took.
"""

import concurrent.futures
import ctypes
import http.client
import json
import os
import re
import subprocess
import urllib.parse

import benchlib as b

JOBS = int(os.environ.get("BENCH_LIST_JOBS", "50000"))
CONNS = 8


def submit_all(port, n):
    """n async jobs over 8 keep-alive connections; returns the last handle."""
    body = b.form({"statement": "SELECT 1 AS x", "mode": "async"})

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        last = None
        for _ in range(k):
            c.request("POST", "/query/service", body=body, headers={"Content-Type": b.FORM})
            r = c.getresponse()
            data = r.read()
            if r.status != 200:
                raise b.BenchError("async submission answered %d: %r" % (r.status, data[:200]))
            last = json.loads(data)["handle"]
        c.close()
        return last

    per = [n // CONNS + (1 if i < n % CONNS else 0) for i in range(CONNS)]
    with concurrent.futures.ThreadPoolExecutor(CONNS) as ex:
        return [h for h in ex.map(worker, per) if h][-1]


def owners_bytes(store):
    p = b.run(["mdb_stat", "-e", "-s", "owners", store], timeout=60, capture_output=True, text=True)
    st = dict(re.findall(r"^\s*([A-Za-z ]+): (\d+)$", p.stdout, re.M))
    psize = int(re.search(r"Page size: (\d+)", p.stdout).group(1))
    pages = sum(int(st.get(k, 0)) for k in ("Branch pages", "Leaf pages", "Overflow pages"))
    return pages * psize, int(st.get("Entries", 0))


class MdbVal(ctypes.Structure):
    _fields_ = [("mv_size", ctypes.c_size_t), ("mv_data", ctypes.c_void_p)]


def make_format_3(store):
    """What a format-3 qgate left in store: no owners database, format 3
    in meta (as tests/unit/test_owners.c makes it)."""
    lib = ctypes.CDLL("liblmdb.so.0")
    lib.mdb_strerror.restype = ctypes.c_char_p

    def ok(rc, what):
        if rc != 0:
            raise b.BenchError("%s: %s" % (what, lib.mdb_strerror(rc).decode()))

    env, txn = ctypes.c_void_p(), ctypes.c_void_p()
    owners, meta = ctypes.c_uint(), ctypes.c_uint()
    ok(lib.mdb_env_create(ctypes.byref(env)), "mdb_env_create")
    try:
        ok(lib.mdb_env_set_maxdbs(env, 16), "mdb_env_set_maxdbs")
        ok(lib.mdb_env_open(env, store.encode(), 0, 0o640), "mdb_env_open")
        ok(lib.mdb_txn_begin(env, None, 0, ctypes.byref(txn)), "mdb_txn_begin")
        ok(lib.mdb_dbi_open(txn, b"owners", 0, ctypes.byref(owners)), "open owners")
        ok(lib.mdb_drop(txn, owners, 1), "mdb_drop owners")
        ok(lib.mdb_dbi_open(txn, b"meta", 0, ctypes.byref(meta)), "open meta")
        key, val = ctypes.create_string_buffer(b"format", 6), ctypes.create_string_buffer(
            b"\x00\x00\x00\x03", 4)
        k = MdbVal(6, ctypes.cast(key, ctypes.c_void_p))
        v = MdbVal(4, ctypes.cast(val, ctypes.c_void_p))
        ok(lib.mdb_put(txn, meta, ctypes.byref(k), ctypes.byref(v), 0), "mdb_put format")
        ok(lib.mdb_txn_commit(txn), "mdb_txn_commit")
    finally:
        lib.mdb_env_close(env)


def bench(s):
    # --max-queued 0: submissions outrun the workers (as in async_submit.py)
    q = b.qgate("jobs_list", args=["--max-queued", "0"])
    data = os.path.dirname(q.log_path)
    store = os.path.join(data, "store")
    last = submit_all(q.port, JOBS)
    status = urllib.parse.urlsplit(last).path
    # every job ended: the listing shows ended jobs, as it mostly will
    while json.loads(b.request(q.port, "GET", status)[1])["status"] == "running":
        pass
    urls = [("list, limit=20", q.url("/query/service/jobs?limit=20")),
            ("list, limit=100", q.url("/query/service/jobs?limit=100")),
            ("status of one job", q.url(status))]
    for _, u in urls:
        b.wrk(u, CONNS, 1)
    res = b.interleave([(name, (lambda u=u: b.wrk(u, CONNS))) for name, u in urls])
    for name, runs in res.items():
        for one in runs:
            b.check_wrk(one, name)
    med = {n: {"rps": b.median([x["rps"] for x in v]), "p99": b.median([x["p99_ms"] for x in v])}
           for n, v in res.items()}
    s.raw["medians"] = med
    ref = med["status of one job"]
    for name in ("list, limit=20", "list, limit=100"):
        s.row("%s: requests/s, %d conns" % (name, CONNS), b.fmt_rate(med[name]["rps"]),
              b.fmt_rate(ref["rps"]), b.fmt_ratio(med[name]["rps"] / ref["rps"]), "(info)", "")
        s.row("%s: p99" % name, b.fmt_ms(med[name]["p99"]), b.fmt_ms(ref["p99"]),
              b.fmt_ratio(med[name]["p99"] / ref["p99"]), "(info)", "")
    if q.stop() != 0:
        raise b.BenchError("qgate did not stop cleanly")

    size, entries = owners_bytes(store)
    s.raw["owners_bytes"], s.raw["owners_entries"] = size, entries
    s.row("owners index, bytes per job", "%.1f" % (size / max(entries, 1)), "", "", "(info)",
          "%d entries" % entries)

    make_format_3(store)
    q2 = b.qgate("jobs_list", data=data)
    m = re.search(r"upgraded from format 3 to 4: (\d+) jobs indexed by principal in ([0-9.]+) ms",
                  q2.log())
    q2.stop()
    if not m:
        raise b.BenchError("no upgrade line in the log:\n" + q2.log()[-2000:])
    s.raw["upgrade"] = {"jobs": int(m.group(1)), "ms": float(m.group(2))}
    s.row("upgrade from format 3: index every job", "%s ms" % m.group(2), "", "", "(info)",
          "%s jobs" % m.group(1))
    s.note("%d async jobs of one principal; wrk %d conns, %d runs of %d s alternating; medians"
           % (JOBS, CONNS, b.RUNS, b.SECONDS))


if __name__ == "__main__":
    b.main(b.Section("jobs_list", 11, "A principal's jobs",
                     "`GET /query/service/jobs` over a store of many jobs, the owners index's "
                     "size, and the one-time upgrade of a format-3 store."), bench)
