#!/usr/bin/env python3
"""The results file of a benchmark run (bench/run.sh calls both steps).

  python3 bench/report.py start    records the machine facts in raw/machine.json
  python3 bench/report.py finish   writes results/latest.md from results/raw/:
                                   the machine facts, one summary table of every
                                   measure with its ratio, target and verdict,
                                   then each benchmark's details
"""

import json
import os
import sys
import time

import benchlib as b

ORDER = ["select1", "status_poll", "async_submit", "large_result", "memory", "postgres",
         "scaling", "profile", "mixed_result", "micro", "jobs_list", "trino", "lanes"]

# Places kept in the summary for benchmarks whose scripts are not here yet:
# key -> (number, title, what it will measure).
RESERVED = {
    "trino": (12, "Trino protocol", "the Trino protocol's `SELECT 1` and 1M-row result "
              "(bench/trino.py), and what it costs the hot paths above"),
    "lanes": (13, "Scheduler lanes", "the scheduler's lanes and fair queues (bench/lanes.py): "
              "their cost per `SELECT 1` and async submission"),
}


def load(key):
    try:
        with open(os.path.join(b.RAW, key + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def start():
    facts = b.machine()
    facts.update(loadavg_before=loadavg(), runs=b.RUNS, seconds=b.SECONDS,
                 started=time.time())
    os.makedirs(b.RAW, exist_ok=True)
    with open(os.path.join(b.RAW, "machine.json"), "w") as f:
        json.dump(facts, f, indent=1)


def finish():
    facts = load("machine") or {}
    if "started" in facts:
        facts.update(loadavg_after=loadavg(), total_s=round(time.time() - facts["started"]))
    sections = [s for s in (load(k) for k in ORDER) if s]
    out = ["# qgate benchmark results", "",
           "Written by `bench/run.sh` (`make bench`); docs/performance.md explains the "
           "benchmarks. Only the ratios compare across machines and runs.", ""]
    if facts:
        out += ["## Machine", ""]
        out += b.table(["", ""], [
            ["CPUs (nproc / usable)", "%s / %s" % (facts.get("nproc"), facts.get("usable_cpus"))],
            ["CPU", facts.get("cpu")],
            ["kernel", facts.get("kernel")],
            ["memory", facts.get("memory")],
            ["OS", facts.get("os")],
            ["load average before / after", "%s / %s" % (facts.get("loadavg_before", "?"),
                                                         facts.get("loadavg_after", "?"))],
            ["compiler", facts.get("gcc")],
            ["libevhtp / libevent", "%s / %s" % (facts.get("libevhtp"), facts.get("libevent"))],
            ["SQLite / LMDB / PostgreSQL", "%s / %s / %s" % (facts.get("sqlite3"),
                                                             facts.get("lmdb"),
                                                             facts.get("postgresql"))],
            ["wrk / hyperfine", "%s / %s" % (facts.get("wrk"), facts.get("hyperfine"))],
            ["run", "%s, %s runs, %s s per wrk run, %s s in all"
             % (facts.get("date"), facts.get("runs"), facts.get("seconds"),
                facts.get("total_s", "?"))],
        ])
        out.append("")
    out += ["## Summary", ""]
    rows = []
    for s in sections:
        if s.get("failed"):
            rows.append([s["number"], s["title"], "FAILED", "", "", "", "",
                         s["failed"].splitlines()[0][:120]])
        for r in s["rows"]:
            rows.append([s["number"], s["title"], r["measure"], r["qgate"], r["reference"],
                         r["ratio"], r["target"], r["verdict"]])
    for key, (number, title, what) in RESERVED.items():
        if not load(key) and not os.path.exists(os.path.join(b.HERE, key + ".py")):
            rows.append([number, title, what, "", "", "", "", "not built yet"])
    out += b.table(["#", "benchmark", "measure", "qgate", "reference", "ratio", "target",
                    "verdict"], rows)
    out += ["", "## Details", ""]
    for s in sections:
        lines = ["### %s. %s" % (s["number"], s["title"]), "", s["what"], ""]
        for e in s["extra"]:
            lines += [e, ""]
        if s["notes"]:
            lines += ["- " + n for n in s["notes"]] + [""]
        lines.append("(%s s)" % s["raw"].get("elapsed_s", "?"))
        out += lines + [""]
    path = os.path.join(b.RESULTS, "latest.md")
    with open(path, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")
    print("bench: wrote %s" % path)


if __name__ == "__main__":
    if sys.argv[1:] == ["start"]:
        start()
    elif sys.argv[1:] == ["finish"]:
        finish()
    else:
        sys.exit("usage: report.py start|finish")
