"""GET /metrics: valid Prometheus text exposition, and counters that move
with the requests made."""

import re
import unittest

from harness import QgateTestCase, main

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABELS = r'(\{(%s="(\\.|[^"\\])*")(,%s="(\\.|[^"\\])*")*\})?' % (r"[a-zA-Z_][a-zA-Z0-9_]*",
                                                                 r"[a-zA-Z_][a-zA-Z0-9_]*")
SAMPLE = re.compile(r"^(%s)(%s) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$" % (NAME, LABELS))


def parse(text):
    """Parses the exposition format strictly; returns {(name, labels): value}
    and {family: type}."""
    samples, types, helps = {}, {}, set()
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            fam = line.split(" ")[2]
            assert fam not in helps, "duplicate HELP " + fam
            helps.add(fam)
            continue
        if line.startswith("# TYPE "):
            _, _, fam, typ = line.split(" ")
            assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert fam not in types, "duplicate TYPE " + fam
            types[fam] = typ
            continue
        assert not line.startswith("#"), line
        m = SAMPLE.match(line)
        assert m, "bad sample line: %r" % line
        name, labels, value = m.group(1), m.group(2) or "", m.group(m.lastindex)
        fam = re.sub(r"_(bucket|sum|count)$", "", name)
        assert fam in types or name in types, "sample before TYPE: " + line
        samples[(name, labels)] = float(value)
    return samples, types


class Metrics(QgateTestCase):
    def scrape(self):
        r = self.q.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/plain; version=0.0.4"))
        return parse(r.body.decode())

    def test_format_and_families(self):
        self.q.query("SELECT 1")
        samples, types = self.scrape()
        for fam, typ in [("qgate_requests_total", "counter"),
                         ("qgate_request_duration_seconds", "histogram"),
                         ("qgate_queue_depth", "gauge"), ("qgate_workers", "gauge"),
                         ("qgate_worker_busy_seconds_total", "counter"),
                         ("qgate_connections", "gauge")]:
            self.assertEqual(types.get(fam), typ, fam)

    def test_counters_move(self):
        before, _ = self.scrape()
        key = ("qgate_requests_total", '{mode="immediate",code="200"}')
        bad = ("qgate_requests_total", '{mode="none",code="400"}')
        for _ in range(3):
            self.q.query("SELECT 1")
        self.q.query("SELECT 1", mode="nope")
        after, _ = self.scrape()
        self.assertEqual(after[key] - before.get(key, 0), 3)
        self.assertEqual(after[bad] - before.get(bad, 0), 1)
        cnt = ("qgate_request_duration_seconds_count", '{mode="immediate"}')
        inf = ("qgate_request_duration_seconds_bucket", '{mode="immediate",le="+Inf"}')
        self.assertEqual(after[cnt] - before.get(cnt, 0), 3)
        self.assertEqual(after[inf], after[cnt])
        busy = ("qgate_worker_busy_seconds_total", "")
        self.assertGreater(after[busy], before[busy])

    def test_histogram_buckets_are_cumulative(self):
        self.q.query("SELECT 1")
        samples, _ = self.scrape()
        rows = sorted((float(re.search(r'le="([^"]+)"', l).group(1).replace("+Inf", "inf")), v)
                      for (n, l), v in samples.items()
                      if n == "qgate_request_duration_seconds_bucket" and 'mode="immediate"' in l)
        values = [v for _, v in rows]
        self.assertEqual(values, sorted(values))


if __name__ == "__main__":
    main()
