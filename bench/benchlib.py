"""benchlib: what qgate's benchmarks share. Python 3 standard library only.

Every process a benchmark starts (qgate, the responder, PostgreSQL, wrk, ...)
is stopped when the benchmark ends, also on an exception or SIGINT, SIGTERM
or SIGHUP; every temporary directory is removed. Everything listens on
127.0.0.1 only, and every load has a time bound.

Settings (environment):
  BENCH_BUILD    the CMake build directory with qgate and bench/ (build)
  BENCH_QGATE    the qgate binary to measure (BENCH_BUILD/qgate)
  BENCH_RESULTS  where results go (bench/results); raw data in its raw/
  BENCH_RUNS     repetitions of each measurement (5); tables show medians
  BENCH_SECONDS  length of one wrk run in seconds (3)
"""

import atexit
import http.client
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.abspath(os.environ.get("BENCH_BUILD") or os.path.join(ROOT, "build"))
RESULTS = os.path.abspath(os.environ.get("BENCH_RESULTS") or os.path.join(HERE, "results"))
RAW = os.path.join(RESULTS, "raw")
RUNS = max(1, int(os.environ.get("BENCH_RUNS", "5")))
SECONDS = max(1, int(float(os.environ.get("BENCH_SECONDS", "3"))))

QGATE = os.path.abspath(os.environ.get("BENCH_QGATE") or os.path.join(BUILD, "qgate"))
RESPONDER = os.path.join(BUILD, "bench", "responder")
LMDB_COMMIT = os.path.join(BUILD, "bench", "lmdb_commit")
WRK_SCRIPT = os.path.join(HERE, "report.lua")
NCPU = len(os.sched_getaffinity(0))

def rows_query(n):
    """The large-result query (n rows of x, x*2, 'row'||x): the same text
    goes to qgate and to sqlite3."""
    return ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) "
            "SELECT x, x * 2 AS y, 'row' || x AS z FROM c" % n)


class NotAvailable(Exception):
    """The part of qgate a benchmark needs is not there (yet)."""


class BenchError(Exception):
    """A benchmark could not be measured."""


# --- clean-up ------------------------------------------------------------------

_cleanups = []


def on_exit(fn):
    """Runs fn when the benchmark ends, however it ends (last in, first out)."""
    _cleanups.append(fn)
    return fn


def _run_cleanups():
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # keep cleaning up
            print("bench: clean-up: %s" % e, file=sys.stderr)


def _on_signal(sig, frame):
    raise SystemExit(128 + sig)


atexit.register(_run_cleanups)
for _s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_s, _on_signal)

# 1024 connections need more than 1024 descriptors, in wrk and in the servers.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _soft < _hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))


def tempdir(tag):
    d = tempfile.mkdtemp(prefix="qgate-bench-%s-" % tag)
    on_exit(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, timeout, **kw):
    """subprocess.run with a time bound; the child is killed when it is over
    and the benchmark fails."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    try:
        return subprocess.run(cmd, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise BenchError("%s did not finish within %d s" % (cmd[0], timeout)) from None


# --- daemons ---------------------------------------------------------------------

class Daemon:
    """A server process: started, waited for (a line in its log), stopped."""

    READY = re.compile(r"listening on http://[^ ]*:(\d+)\s*$", re.M)

    def __init__(self, name, cmd, log_path, env=None, ready=READY, port=None, timeout=30):
        """Ready when the log has a line matching ready (its group 1 is the
        port) or, when port is given, when that port accepts connections."""
        self.name = name
        self.cmd = cmd
        self.log_path = log_path
        self.port = None
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=env)
        on_exit(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if port is None:
                m = ready.search(self.log())
                if m:
                    self.port = int(m.group(1))
                    return
            elif _accepts(port):
                self.port = port
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise BenchError("%s did not start (exit %s):\n%s"
                         % (name, self.proc.returncode, self.log()[-2000:]))

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def alive(self):
        return self.proc.poll() is None

    def status_kib(self, field):
        """A size from /proc/PID/status (VmHWM, VmRSS) in KiB."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise BenchError("no %s in /proc/%d/status" % (field, self.pid))

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def _accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class RssSampler:
    """Samples a process's RssAnon and RssFile (/proc/PID/status) every
    50 ms in a thread, keeping the largest of each: what a peak is made of
    (VmHWM has no split; file pages are, for instance, an mmap'd store)."""

    def __init__(self, pid):
        self.pid = pid
        self.max_anon = self.max_file = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.05):
            try:
                with open("/proc/%d/status" % self.pid) as f:
                    for line in f:
                        if line.startswith("RssAnon:"):
                            self.max_anon = max(self.max_anon, int(line.split()[1]))
                        elif line.startswith("RssFile:"):
                            self.max_file = max(self.max_file, int(line.split()[1]))
            except OSError:
                return

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        return {"max_anon_kib": self.max_anon, "max_file_kib": self.max_file}


def ctx_switches(pid):
    """Context switches (voluntary and not) of all of a process's threads."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:  # the thread ended
            pass
    return total


def cpu_ticks(pid):
    """User + system CPU time of a process so far, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_us_per_request(pid, fn):
    """Runs fn (a load returning a dict with "requests") and adds to its
    result the process's CPU time (user + system) per request in
    microseconds, "cpu_us": a measure a busy machine moves far less than
    requests/s."""
    hz = os.sysconf("SC_CLK_TCK")
    before = cpu_ticks(pid)
    r = fn()
    r["cpu_us"] = (cpu_ticks(pid) - before) * 1e6 / hz / max(1, r["requests"])
    return r


def wait_idle(pid, timeout=60.0, step=0.25):
    """Waits (at most timeout seconds) until the process uses under 5% of a
    CPU, e.g. until a backlog of jobs has run. Returns the seconds waited."""
    hz = os.sysconf("SC_CLK_TCK")
    start = time.monotonic()
    last = cpu_ticks(pid)
    while time.monotonic() - start < timeout:
        time.sleep(step)
        now = cpu_ticks(pid)
        if (now - last) / hz < 0.05 * step:
            break
        last = now
    return time.monotonic() - start


def qgate(tag, args=(), backend=None, data=None):
    """A qgate on a free loopback port with its own data directory. With
    --log-level warn or error it does not log its port: it gets one then."""
    if not os.access(QGATE, os.X_OK):
        raise BenchError("no %s: run bench/run.sh (it builds)" % QGATE)
    d = data or tempdir(tag)
    args = list(args)
    quiet = any(a == "--log-level" and nxt in ("warn", "error")
                for a, nxt in zip(args, args[1:]))
    port = free_port() if quiet else 0
    cmd = [QGATE, "--listen", "127.0.0.1:%d" % port, "--data", d] + args
    if backend:
        cmd += ["--backend", backend]
    return Daemon("qgate", cmd, os.path.join(d, "qgate.log"), port=port or None)


def responder(tag, kind, body_bytes):
    """The reference libevhtp server answering a body_bytes-long envelope."""
    if not os.access(RESPONDER, os.X_OK):
        raise BenchError("no %s: run bench/run.sh (it builds)" % RESPONDER)
    d = tempdir(tag)
    return Daemon("responder", [RESPONDER, kind, str(body_bytes)],
                  os.path.join(d, "responder.log"))


# --- HTTP ------------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"


def form(fields):
    """A form body from a dict of parameter names and values."""
    return urllib.parse.urlencode(fields)


def request(port, method, path, body=None, ctype=FORM, timeout=60):
    """One request on a fresh connection: (status, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": ctype} if body is not None else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wrk(url, conns, seconds=None, method="GET", body=None, ctype=None, threads=None):
    """One wrk run: keep-alive connections, fixed length. Returns a dict with
    rps, p50/p90/p99 in ms, requests and errors."""
    seconds = seconds or SECONDS
    threads = threads or max(1, min(conns, NCPU))
    env = dict(os.environ, WRK_METHOD=method, WRK_BODY=body or "", WRK_CTYPE=ctype or "")
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "10s",
           "-s", WRK_SCRIPT, url]
    p = run(cmd, timeout=seconds + 60, env=env, capture_output=True, text=True)
    m = re.search(r"^RESULT (\{.*\})$", p.stdout, re.M)
    if p.returncode != 0 or not m:
        raise BenchError("wrk failed (%s):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    r = json.loads(m.group(1))
    secs = r["duration_us"] / 1e6
    errors = sum(v for k, v in r.items() if k.startswith("err_"))
    return {
        "conns": conns, "threads": threads, "seconds": secs,
        "requests": r["requests"], "rps": r["requests"] / secs if secs else 0.0,
        "p50_ms": r["p50_us"] / 1000, "p90_ms": r["p90_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000, "max_ms": r["max_us"] / 1000,
        "errors": errors, "err_status": r["err_status"], "detail": r,
    }


def check_wrk(r, what, max_error_share=0.0):
    """Fails when more than max_error_share of the requests failed."""
    if r["requests"] == 0:
        raise BenchError("%s: no request completed" % what)
    if r["errors"] > max_error_share * r["requests"]:
        raise BenchError("%s: %d errors in %d requests (%s)"
                         % (what, r["errors"], r["requests"], r["detail"]))


def stream_tail(argv, timeout):
    """Runs argv (curl writing a response to stdout) into a pipe, reading it
    all and keeping the end: (exit status, bytes read, last 4 KiB)."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    total, tail = 0, b""
    try:
        while True:
            chunk = p.stdout.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            tail = (tail + chunk)[-4096:]
        rc = p.wait(timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
    return rc, total, tail


def check_envelope(what, rc, total, tail, rows):
    """Fails unless curl succeeded and the envelope ends in success with
    the expected resultCount."""
    if rc != 0:
        raise BenchError("%s: curl exited %d" % (what, rc))
    if b'"status":"success"' not in tail or (b'"resultCount":%d' % rows) not in tail:
        raise BenchError("%s: incomplete or failed result (%d bytes), ends: %r"
                         % (what, total, tail[-300:]))


def hyperfine(commands, runs=None, timeout=600):
    """Times commands (name -> argv) with hyperfine, output to /dev/null:
    one warm-up round, then runs rounds of one run of each command, the
    order alternating between rounds (as interleave() does) so that drift
    hits every command alike. Returns name -> {"median_s", "times"}."""
    runs = runs or RUNS
    d = tempdir("hyperfine")
    out = os.path.join(d, "times.json")
    names = list(commands)
    times = {n: [] for n in names}
    for i in range(runs + 1):
        order = names if i % 2 == 0 else list(reversed(names))
        cmd = ["hyperfine", "-N", "--style", "none", "--runs", "1", "--export-json", out]
        for n in order:
            cmd += ["-n", n, " ".join(shlex.quote(a) for a in commands[n])]
        p = run(cmd, timeout=timeout, capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchError("hyperfine failed:\n%s%s" % (p.stdout, p.stderr))
        with open(out) as f:
            res = json.load(f)["results"]
        if i > 0:  # round 0 is the warm-up
            for n, r in zip(order, res):
                times[n].extend(r["times"])
    return {n: {"median_s": median(t), "times": t} for n, t in times.items()}


# --- repetition and statistics ------------------------------------------------------

def median(xs):
    return statistics.median(xs)


def interleave(sides, runs=None):
    """Runs each side's measurement runs times, alternating the order every
    round (A B, B A, A B, ...) so drift of a shared machine hits both alike.
    sides: list of (name, fn); returns name -> [results]."""
    runs = runs or RUNS
    out = {name: [] for name, _ in sides}
    for i in range(runs):
        order = sides if i % 2 == 0 else list(reversed(sides))
        for name, fn in order:
            out[name].append(fn())
    return out


# --- formatting -------------------------------------------------------------------

def fmt_rate(x):
    return "%s/s" % format(int(round(x)), ",")


def fmt_ms(x):
    return "%.2f ms" % x if x < 100 else "%.0f ms" % x


def fmt_s(x):
    return "%.3f s" % x


def fmt_mib(kib):
    return "%.1f MiB" % (kib / 1024)


def fmt_ratio(x):
    return "%.2fx" % x


def at_least(ratio, target):
    """Verdict for a ratio that must be >= target."""
    if ratio >= target:
        return "met"
    return "NOT met (%.0f%% short)" % ((1 - ratio / target) * 100)


def at_most(value, limit, unit="x"):
    """Verdict for a value that must be <= limit."""
    if value <= limit:
        return "met"
    return "NOT met (%.0f%% over)" % ((value / limit - 1) * 100)


class Section:
    """One benchmark's results: rows for the summary table, notes, extra
    markdown, raw data. save() prints the table and writes raw/KEY.json."""

    def __init__(self, key, number, title, what):
        self.key, self.number, self.title, self.what = key, number, title, what
        self.rows, self.notes, self.extra = [], [], []
        self.raw = {"runs": RUNS, "seconds": SECONDS}
        self.started = time.monotonic()
        self.failed = None

    def row(self, measure, qgate_v, ref_v, ratio, target, verdict):
        self.rows.append({"measure": measure, "qgate": qgate_v, "reference": ref_v,
                          "ratio": ratio, "target": target, "verdict": verdict})

    def not_available(self, measure, reason, ref_v="", target=""):
        self.row(measure, "not available", ref_v, "", target, "not measurable yet: " + reason)

    def note(self, text):
        self.notes.append(text)

    def markdown(self):
        lines = ["### %s. %s" % (self.number, self.title), "", self.what, ""]
        lines += table(["measure", "qgate", "reference", "ratio", "target", "verdict"],
                       [[r["measure"], r["qgate"], r["reference"], r["ratio"], r["target"],
                         r["verdict"]] for r in self.rows])
        for e in self.extra:
            lines += ["", e]
        if self.notes:
            lines.append("")
            lines += ["- " + n for n in self.notes]
        return "\n".join(lines) + "\n"

    def save(self):
        self.raw["elapsed_s"] = round(time.monotonic() - self.started, 1)
        os.makedirs(RAW, exist_ok=True)
        doc = {"key": self.key, "number": self.number, "title": self.title, "what": self.what,
               "rows": self.rows, "notes": self.notes, "extra": self.extra,
               "failed": self.failed, "raw": self.raw}
        with open(os.path.join(RAW, self.key + ".json"), "w") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
        print(self.markdown())


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return out


def main(section, body):
    """Runs body(section), saves the section whatever happens; exit status 1
    when the benchmark failed (not when something is merely not available)."""
    rc = 0
    try:
        body(section)
    except NotAvailable as e:
        section.note("not available: %s" % e)
    except BenchError as e:
        section.failed = str(e)
        section.note("FAILED: " + str(e).splitlines()[0])
        print("bench %s: %s" % (section.key, e), file=sys.stderr)
        rc = 1
    finally:
        section.save()
    sys.exit(rc)


# --- machine facts -----------------------------------------------------------------

def _first_line(cmd):
    try:
        p = run(cmd, timeout=10, capture_output=True, text=True)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def pkg_version(pkg):
    return _first_line(["dpkg-query", "-W", "-f=${Version}", pkg])


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = "%.1f GiB" % (int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    osname = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": NCPU,
        "cpu": cpu,
        "kernel": os.uname().release,
        "memory": mem,
        "os": osname,
        "gcc": _first_line(["cc", "--version"]),
        "libevhtp": pkg_version("libevhtp-dev"),
        "libevent": pkg_version("libevent-dev"),
        "sqlite3": _first_line(["sqlite3", "--version"]).split(" ")[0],
        "lmdb": pkg_version("liblmdb-dev"),
        "postgresql": pkg_version("postgresql"),
        "wrk": _first_line(["wrk", "-v"]).split(" [")[0],
        "hyperfine": _first_line(["hyperfine", "--version"]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
