#!/usr/bin/env python3
"""Benchmark 14: Trino's client protocol.

The 1,000,000-row, 3-column result of benchmark 4 (x, x*2, 'row'||x),
submitted to POST /v1/statement and read with the client's paging: a raw
HTTP client that follows nextUri as Trino's clients do (one keep-alive
connection, each document parsed as JSON), and the official JavaScript
client (trino-client, tests/node/trino_run.js, rows counted). Beside them,
the same result over /query/service, read by the same kind of client:
immediate mode (one response, parsed as JSON), and async (submit, poll the
status, read the stored result). Each time runs from the submission to
the last row; rounds alternate their order; medians of BENCH_RUNS rounds.
rows/s = 1,000,000 / time.
"""

import http.client
import json
import os
import subprocess
import time
import urllib.parse

import benchlib as b

ROWS = 1000000
NODE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "node")


def conn(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=600)


def trino_raw(port, sql):
    c, h, n = conn(port), {"X-Trino-User": "bench"}, 0
    c.request("POST", "/v1/statement", body=sql.encode(), headers=h)
    doc = json.loads(c.getresponse().read())
    while "nextUri" in doc:
        c.request("GET", urllib.parse.urlsplit(doc["nextUri"]).path, headers=h)
        r = c.getresponse()
        doc = json.loads(r.read())
        if r.status != 200 or "error" in doc:
            raise b.BenchError("trino paging: %d %r" % (r.status, doc.get("error")))
        n += len(doc.get("data", ()))
    c.close()
    return n


def trino_js(port, sql):
    arg = json.dumps({"server": "http://127.0.0.1:%d" % port, "user": "bench", "sql": sql,
                      "count": True})
    p = subprocess.run(["node", os.path.join(NODE, "trino_run.js"), arg], capture_output=True,
                       timeout=600)
    out = json.loads(p.stdout.decode().strip().splitlines()[-1])
    if "count" not in out:
        raise b.BenchError("trino-client: %r" % out)
    return out["count"]


def immediate(port, sql):
    c = conn(port)
    c.request("POST", "/query/service", body=b.form({"statement": sql}),
              headers={"Content-Type": b.FORM})
    doc = json.loads(c.getresponse().read())
    c.close()
    return len(doc["results"])


def async_job(port, sql):
    c = conn(port)
    c.request("POST", "/query/service", body=b.form({"statement": sql, "mode": "async"}),
              headers={"Content-Type": b.FORM})
    status = urllib.parse.urlsplit(json.loads(c.getresponse().read())["handle"]).path
    while True:
        c.request("GET", status)
        doc = json.loads(c.getresponse().read())
        if doc["status"] != "running":
            break
        time.sleep(0.005)  # the AsterixDB protocol has no long poll
    c.request("GET", urllib.parse.urlsplit(doc["handle"]).path)
    n = len(json.loads(c.getresponse().read())["results"])
    c.close()
    return n


def bench(s):
    if not os.path.isdir(os.path.join(NODE, "node_modules", "trino-client")):
        raise b.NotAvailable("tests/node has no trino-client: scripts/deps.sh test installs it")
    q = b.qgate("trino")
    sql = b.rows_query(ROWS)
    sides = [("trino raw", trino_raw), ("trino-client", trino_js),
             ("/query/service immediate", immediate), ("/query/service async", async_job)]

    def timed(fn):
        def run():
            t0 = time.monotonic()
            n = fn(q.port, sql)
            if n != ROWS:
                raise b.BenchError("%s read %d rows" % (fn.__name__, n))
            return time.monotonic() - t0
        return run

    for _, fn in sides:  # warm-up
        timed(fn)()
    res = b.interleave([(name, timed(fn)) for name, fn in sides])
    s.raw["times"] = res
    med = {name: b.median(t) for name, t in res.items()}
    ref = med["/query/service immediate"]
    for name in ("trino raw", "trino-client"):
        t = med[name]
        s.row("1M rows, %s: rows/s" % name, b.fmt_rate(ROWS / t) + " (%s)" % b.fmt_s(t),
              b.fmt_rate(ROWS / ref) + " (immediate)", b.fmt_ratio(ref / t), "", "")
    t = med["/query/service async"]
    s.row("1M rows, /query/service async: rows/s", b.fmt_rate(ROWS / t) + " (%s)" % b.fmt_s(t),
          b.fmt_rate(ROWS / ref) + " (immediate)", b.fmt_ratio(ref / t), "", "")
    s.note("ratio = the immediate read's time / this read's time (< 1: slower than one "
           "streamed response); every client parses what it reads as JSON; %d rounds in "
           "alternating order after a warm-up, medians" % b.RUNS)


if __name__ == "__main__":
    b.main(b.Section("trino", 12, "Trino's client protocol",
                     "A 1,000,000-row, 3-column result read with Trino's paging (a raw client "
                     "following nextUri, and the JavaScript client) beside the same result over "
                     "/query/service."), bench)
