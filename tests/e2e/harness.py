"""End-to-end test harness: runs the real qgate binary and speaks HTTP to it.

Each test class gets its own daemon on a free loopback port (--listen
127.0.0.1:0; the port is read from the start-up log line) with its own temp
data directory, removed afterwards. Standard library only.

Environment:
  QGATE_BIN           the binary under test (set by ctest)
  QGATE_SANITIZE      "address" or "thread" when the binary is instrumented:
                      timeouts stretch, and the daemon's log is checked for
                      sanitizer reports when it stops.
  QGATE_TEST_BACKEND  "sqlite" (default) or "pg": the database the daemons of
                      QgateTestCase classes run on
  QGATE_PG_STATE      with "pg": the state file of the test cluster
                      (tests/e2e/pgcluster.py, started by a ctest fixture)

Backends. A test file opts into running on both databases with a line
`# qgate-backends: sqlite pg` (tests/CMakeLists.txt registers it once per
backend, the PostgreSQL run depending on the cluster fixture). On "pg" each
QgateTestCase class gets a database of its own, a copy of the demo data,
dropped afterwards; ON_PG lets a test branch where the engines differ,
cls.pgadmin runs SQL as the superuser over a connection of its own, and
cls.backend_uri is the class daemon's --backend (None: its demo database),
for a test that starts another daemon on the same data (pass it as
Qgate(..., backend=cls.backend_uri)).
"""

import atexit
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

BIN = os.environ.get("QGATE_BIN", os.path.join(os.path.dirname(__file__), "../../build-test/qgate"))
SANITIZE = os.environ.get("QGATE_SANITIZE", "")
SLOW = 4.0 if SANITIZE else 1.0
BACKEND = os.environ.get("QGATE_TEST_BACKEND", "sqlite")
ON_PG = BACKEND == "pg"
# A statement that runs until it is stopped, at little cost to the machine:
# on PostgreSQL a sleep (a recursive CTE there spills its rows to temp
# files, some 30 MB/s, and the disk traffic stalls the fsyncs of every
# other test running meanwhile); on SQLite a CPU-bound recursive CTE, which
# the progress handler stops.
FOREVER_SQLITE = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"
FOREVER = "SELECT 1 AS n FROM pg_sleep(3600)" if ON_PG else FOREVER_SQLITE


def auth_file(tokens, readonly=(), mode=0o600):
    """An --auth-file for tokens {principal: token} (principals in readonly
    get the readonly flag), removed when the test program exits."""
    fd, path = tempfile.mkstemp(prefix="qgate-auth-")
    atexit.register(lambda: os.path.exists(path) and os.unlink(path))
    lines = ["# test principals"]
    for name, tok in tokens.items():
        line = "%s %s" % (name, hashlib.sha256(tok.encode()).hexdigest())
        lines.append(line + (" readonly" if name in readonly else ""))
    os.write(fd, ("\n".join(lines) + "\n").encode())
    os.close(fd)
    os.chmod(path, mode)
    return path


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer")


class Qgate:
    """One qgate process."""

    def __init__(self, args=(), env=None, data=None, backend=None):
        self.own_data = data is None
        self.data = data or tempfile.mkdtemp(prefix="qgate-test-")
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.update({
            "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:abort_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
            "TSAN_OPTIONS": "halt_on_error=0:second_deadlock_stack=1",
        })
        if env:
            self.env.update(env)
        self.backend = backend
        self.proc = None
        self.port = None
        self.log_lines = []
        self._log_lock = threading.Lock()
        self._ready = threading.Event()

    # --- process -----------------------------------------------------------
    def start(self, timeout=20):
        cmd = [BIN, "--listen", "127.0.0.1:0", "--data", self.data] + self.args
        if self.backend:
            cmd += ["--backend", self.backend]
        # each start has its own event: the reader of a process killed
        # before (still reading its last lines) must not wake this start
        ready = self._ready = threading.Event()
        self.port = None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=self.env)
        self._reader = threading.Thread(target=self._read_log, args=(self.proc, ready),
                                        daemon=True)
        self._reader.start()
        if not ready.wait(timeout * SLOW) or self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("qgate did not start:\n" + self.log())
        return self

    def _read_log(self, proc, ready):
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._log_lock:
                self.log_lines.append(line)
            m = re.search(r"listening on http://[^ ]*:(\d+)$", line)
            if m and not ready.is_set():
                self.port = int(m.group(1))
                ready.set()
        ready.set()

    def log(self):
        with self._log_lock:
            return "\n".join(self.log_lines)

    def wait_log(self, text, timeout=5):
        """Waits until a log line contains text (the access log is written
        in batches every 50 ms); returns the line."""
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            with self._log_lock:
                for line in self.log_lines:
                    if text in line:
                        return line
            time.sleep(0.02)
        raise AssertionError("no log line with %r:\n%s" % (text, self.log()[-3000:]))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the daemon and waits; returns its exit status."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError("qgate did not exit after %s:\n%s" % (sig, self.log()))
        self._reader.join(5)  # the whole log is in
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def vm_hwm_kib(self):
        """The daemon's peak resident set (VmHWM), in KiB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc/%d/status" % self.proc.pid)

    def sanitizer_reports(self):
        return [l for l in self.log_lines if any(m in l for m in SANITIZER_MARKS)]

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc and self.proc.stderr:
            self._reader.join(5)
            self.proc.stderr.close()
        if self.own_data:
            shutil.rmtree(self.data, ignore_errors=True)

    # --- HTTP ----------------------------------------------------------------
    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout * SLOW)

    def request(self, method, path, body=None, headers=None, timeout=30):
        c = self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return Response(r.status, r.getheaders(), data)
        finally:
            c.close()

    def query(self, statement=None, method="POST", path="/query/service", headers=None,
              http_timeout=60, **params):
        """POSTs a form (or GETs a query string) with statement and params."""
        fields = {}
        if statement is not None:
            fields["statement"] = statement
        for k, v in params.items():
            fields[k.replace("_dash_", "-")] = v
        enc = urllib.parse.urlencode(fields)
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        if method == "GET":
            return self.request("GET", path + "?" + enc, headers=headers, timeout=http_timeout)
        return self.request(method, path, body=enc, headers=h, timeout=http_timeout)

    def query_json(self, doc, headers=None, timeout=60):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        body = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
        return self.request("POST", "/query/service", body=body, headers=h, timeout=timeout)

    def raw(self, data, timeout=10, shutdown=False, read_all=True):
        """Sends raw bytes; returns what the server sends until it closes
        (or the timeout, or the first complete response if not read_all)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout * SLOW)
        try:
            if data:
                s.sendall(data)
            if shutdown:
                s.shutdown(socket.SHUT_WR)
            out = b""
            deadline = time.time() + timeout * SLOW
            while time.time() < deadline:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                out += chunk
                if not read_all and complete_response(out):
                    break
            return out
        finally:
            s.close()


def code_of(r):
    """The ASX code of an error answer's JSON body (every error has one):
    "ASX0919" for a 404, ...; None when the body is no error document."""
    try:
        return json.loads(r.body)["errors"][0]["msg"].split(":")[0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def complete_response(data):
    """True when data holds one whole HTTP response (Content-Length or
    chunked), so raw readers can stop without waiting for a close."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    if m:
        return len(body) >= int(m.group(1))
    if re.search(rb"(?i)\r\ntransfer-encoding: *chunked", head):
        return body.endswith(b"0\r\n\r\n")
    return False


def parse_responses(data):
    """Splits raw bytes into [(status, headers dict lower-cased, body)]."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("incomplete response head: %r" % data[:200])
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        if status == 100:
            data = rest
            continue
        if "content-length" in headers:
            n = int(headers["content-length"])
            body, data = rest[:n], rest[n:]
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    _, _, rest = rest.partition(b"\r\n")
                    break
                body += rest[:size]
                rest = rest[size + 2:]
            data = rest
        else:
            body, data = rest, b""
        out.append((status, headers, body))
    return out


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class PgAdmin:
    """The test cluster seen from a test: databases for test classes, and
    SQL run as the superuser through psql, a connection qgate knows nothing
    of."""

    def __init__(self, state_file=None):
        state_file = state_file or os.environ.get("QGATE_PG_STATE")
        if not state_file or not os.path.exists(state_file):
            raise RuntimeError("no PostgreSQL test cluster: QGATE_PG_STATE=%r (ctest starts "
                               "it as the pg/start fixture)" % state_file)
        with open(state_file) as f:
            self.state = json.load(f)
        self.port = self.state["port"]

    def uri(self, db, user=None):
        return "postgresql://%s@127.0.0.1:%d/%s" % (user or self.state["role"], self.port, db)

    def sql(self, text, db="postgres", user=None):
        """Runs text; returns the rows as tuples of strings (NULL: None)."""
        cmd = [os.path.join(self.state["bindir"], "psql"), "-X", "-q", "-A", "-t",
               "-F", "\x1f", "-P", "null=\x1e", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
               "-p", str(self.port), "-U", user or self.state["admin"], "-d", db, "-c", text]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if r.returncode != 0:
            raise AssertionError("psql failed on %r: %s" % (text, r.stderr.decode()))
        rows = []
        for line in r.stdout.decode().split("\n"):
            if line:
                rows.append(tuple(None if v == "\x1e" else v for v in line.split("\x1f")))
        return rows

    def create_db(self):
        name = "qg_" + uuid.uuid4().hex[:16]
        self.sql("CREATE DATABASE %s TEMPLATE %s OWNER %s" % (name, self.state["template"],
                                                           self.state["role"]))
        return name

    def drop_db(self, name):
        self.sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


class QgateTestCase(unittest.TestCase):
    """A test class with one daemon for all its tests (self.q). Subclasses
    set ARGS, ENV or BACKEND; after each test the daemon must still be
    alive, and when it stops its log must hold no sanitizer report. Without
    BACKEND the daemon uses its demo database, or on "pg" a fresh copy of
    the demo data in the test cluster (cls.pgadmin, cls.pg_db)."""

    ARGS = ()
    ENV = None
    BACKEND = None
    pgadmin = None
    pg_db = None
    backend_uri = None

    @classmethod
    def setUpClass(cls):
        backend = cls.BACKEND
        if backend is None and ON_PG:
            cls.pgadmin = PgAdmin()
            cls.pg_db = cls.pgadmin.create_db()
            backend = cls.pgadmin.uri(cls.pg_db)
        cls.backend_uri = backend
        try:
            cls.q = Qgate(cls.ARGS, cls.ENV, backend=backend).start()
        except BaseException:
            cls._drop_db()
            raise

    @classmethod
    def _drop_db(cls):
        if cls.pg_db:
            cls.pgadmin.drop_db(cls.pg_db)
            cls.pg_db = None

    @classmethod
    def tearDownClass(cls):
        q = cls.q
        try:
            if q.alive():
                rc = q.stop()
                if rc != 0:
                    raise AssertionError("qgate exited %s:\n%s" % (rc, q.log()[-4000:]))
            reports = q.sanitizer_reports()
            if reports:
                raise AssertionError("sanitizer reports:\n" + q.log()[-8000:])
        finally:
            q.cleanup()
            cls._drop_db()

    def tearDown(self):
        if not self.q.alive():
            self.fail("qgate died:\n" + self.q.log()[-4000:])

    # helpers
    def assertEnvelopeOk(self, r, rows=None):
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["status"], "success", doc)
        if rows is not None:
            self.assertEqual(doc["results"], rows)
        return doc

    def assertError(self, r, http_status, code, status="fatal"):
        self.assertEqual(r.status, http_status, r)
        doc = r.json()
        self.assertEqual(doc["status"], status, doc)
        self.assertTrue(doc["errors"][0]["msg"].startswith(code), doc)
        return doc


def main():
    unittest.main(verbosity=2)
