#!/usr/bin/env python3
"""Benchmark 13: gzip, the level.

Which zlib level qgate compresses answers with (gateway/reply.h,
GW_GZIP_LEVEL): a large result as qgate sends it (the 1,000,000-row,
3-column result of benchmark 4, taken from qgate once) is deflated the way
the server deflates a streamed answer, in 64 KiB pieces with a sync flush
after each, at levels 1, 3 and 6; for each the ratio (raw bytes /
compressed bytes) and the CPU time per MB of raw answer (zlib itself, the
same library the daemon links; BENCH_RUNS rounds in alternating order,
medians). Then the whole path at the chosen level: the same answer read to
the end by curl, plain and with --compressed, interleaved.

Target: the level costs at most 10 ms of CPU per MB (a loopback reader then
gets well over 100 MB/s) with a ratio of at least 4.
"""

import os
import time
import zlib

import benchlib as b

ROWS = 1000000
PIECE = 64 * 1024
WBITS, MEMLEVEL = 13, 6  # gateway/reply.h: GW_GZIP_WBITS, GW_GZIP_MEMLEVEL
LEVELS = (1, 3, 6)
MAX_MS_PER_MB = 10.0
MIN_RATIO = 4.0


def deflate(data, level):
    """Compressed size and CPU seconds: 64 KiB pieces, a sync flush each."""
    z = zlib.compressobj(level, zlib.DEFLATED, 16 + WBITS, MEMLEVEL)
    t0 = time.process_time()
    n = 0
    for i in range(0, len(data), PIECE):
        n += len(z.compress(data[i:i + PIECE]))
        n += len(z.flush(zlib.Z_SYNC_FLUSH))
    n += len(z.flush(zlib.Z_FINISH))
    return n, time.process_time() - t0


def bench(s):
    q = b.qgate("gzip")
    work = b.tempdir("gzip-q")
    stmt_file = os.path.join(work, "statement.sql")
    with open(stmt_file, "w") as f:
        f.write(b.rows_query(ROWS))
    url = q.url("/query/service")
    body_file = os.path.join(work, "answer.json")
    r = b.run(["curl", "-sS", "-f", "--max-time", "600", "--data-urlencode",
               "statement@" + stmt_file, "-o", body_file, url], timeout=600)
    if r.returncode != 0:
        raise b.BenchError("reading the answer: curl %d" % r.returncode)
    with open(body_file, "rb") as f:
        data = f.read()
    mb = len(data) / 1e6

    per = {lv: {"size": 0, "cpu": []} for lv in LEVELS}
    order = list(LEVELS)
    for _ in range(b.RUNS):
        for lv in order:
            size, cpu = deflate(data, lv)
            per[lv]["size"] = size
            per[lv]["cpu"].append(cpu)
        order.reverse()
    s.raw["answer_bytes"] = len(data)
    s.raw["levels"] = {lv: {"bytes": per[lv]["size"], "cpu_s": per[lv]["cpu"]} for lv in LEVELS}
    for lv in LEVELS:
        ratio = len(data) / per[lv]["size"]
        ms_mb = b.median(per[lv]["cpu"]) * 1000 / mb
        ok = ms_mb <= MAX_MS_PER_MB and ratio >= MIN_RATIO
        s.row("level %d: ratio, CPU per MB" % lv,
              "%.2f (%d KB), %.2f ms/MB" % (ratio, per[lv]["size"] // 1000, ms_mb),
              "%d KB raw" % (len(data) // 1000), "%.2fx" % ratio,
              ">= %.0fx, <= %.0f ms/MB" % (MIN_RATIO, MAX_MS_PER_MB),
              "met" if ok else "NOT met")

    cmds = {"plain": ["curl", "-sS", "-f", "--max-time", "600", "--data-urlencode",
                      "statement@" + stmt_file, "-o", "/dev/null", url],
            "gzip": ["curl", "-sS", "-f", "--max-time", "600", "--compressed",
                     "--data-urlencode", "statement@" + stmt_file, "-o", "/dev/null", url],
            # the compressed bytes as they come: the server's side of it alone
            "gzip-raw": ["curl", "-sS", "-f", "--max-time", "600", "-H",
                         "Accept-Encoding: gzip", "--data-urlencode", "statement@" + stmt_file,
                         "-o", "/dev/null", url]}
    t = b.hyperfine(cmds)
    s.raw["times"] = t
    pt, gt, rt = t["plain"]["median_s"], t["gzip"]["median_s"], t["gzip-raw"]["median_s"]
    s.row("1M rows over loopback, gzip'ed, not inflated vs. plain", b.fmt_s(rt), b.fmt_s(pt),
          b.fmt_ratio(pt / rt), "informative", "-")
    s.row("1M rows over loopback, curl --compressed vs. plain", b.fmt_s(gt), b.fmt_s(pt),
          b.fmt_ratio(pt / gt), "informative", "-")
    s.note("deflate as the server does it: %d KiB pieces, Z_SYNC_FLUSH after each, gzip "
           "wrapper, 8 KiB window, memLevel 6; CPU = process time of zlib in this process, "
           "median of %d rounds in alternating level order; the answer is %d bytes"
           % (PIECE // 1024, b.RUNS, len(data)))


if __name__ == "__main__":
    b.main(b.Section("gzip_levels", 12, "gzip level",
                     "A 1,000,000-row result as qgate sends it, deflated in 64 KiB pieces with "
                     "a sync flush each at levels 1, 3, 6: ratio and CPU per MB; then read over "
                     "loopback with and without --compressed."), bench)
