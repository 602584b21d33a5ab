"""A throwaway PostgreSQL cluster for the test suite (ctest fixture).

    pgcluster.py start STATE_FILE QGATE_BIN   initdb, start, load the demo data
    pgcluster.py stop STATE_FILE              stop the cluster, remove its files

The cluster lives in a fresh temporary directory: data, log and the unix
socket directory. It listens on a free port of 127.0.0.1 only, with trust
authentication for loopback connections (nothing else can reach it). When
the tests run as root, initdb and the server run as the `postgres` OS user
(PostgreSQL refuses to run as root) and the directory is handed to it.

STATE_FILE (JSON) tells the tests where the cluster is: its port, the admin
role (the superuser `postgres`), the role qgate connects as (`qgate`, an
ordinary role that owns its databases), and the template database holding
the demo data. Each test class copies that template into a database of its
own (see harness.PgAdmin), so classes never see each other's tables.

The demo data has one source: qgate builds its SQLite demo database on first
start (exec/demo.c); this script starts the binary once with an empty data
directory, then copies the schema and rows from that file into PostgreSQL.

start first stops a cluster a previous, interrupted run left behind (it is
named in STATE_FILE), so a killed ctest never leaves two running.
"""

import glob
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

TEMPLATE = "qgate_demo"
ROLE = "qgate"
ADMIN = "postgres"


def find_bindir():
    """The directory holding initdb/pg_ctl/psql: Debian keeps the server
    binaries out of PATH under /usr/lib/postgresql/<version>/bin."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                    key=lambda p: int(re.sub(r"\D", "", p.split("/")[-2]) or 0), reverse=True):
        if os.path.exists(os.path.join(d, "initdb")):
            return d
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    sys.exit("pgcluster: no initdb found: install the postgresql package "
             "(scripts/deps.sh test does)")


def as_owner(cmd, owner):
    """cmd run as the cluster's OS user (owner is None: as ourselves)."""
    if owner is None:
        return cmd
    return ["runuser", "-u", owner, "--"] + cmd


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s" % (" ".join(cmd), r.returncode,
                                                    r.stdout.decode(errors="replace")))
    return r.stdout.decode(errors="replace")


def psql(state, sql, user=ADMIN, db="postgres", stdin=None):
    cmd = [os.path.join(state["bindir"], "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
           "-h", "127.0.0.1", "-p", str(state["port"]), "-U", user, "-d", db]
    if sql is not None:
        cmd += ["-c", sql]
    r = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=dict(os.environ, PGCONNECT_TIMEOUT="10"))
    if r.returncode != 0:
        raise RuntimeError("psql failed: %s" % r.stdout.decode(errors="replace"))
    return r.stdout.decode()


# --- demo data ----------------------------------------------------------------

def build_sqlite_demo(qgate_bin, workdir):
    """Starts qgate once with an empty data directory (it creates demo.db),
    stops it, and returns the path of the file."""
    data = os.path.join(workdir, "qgate-data")
    os.mkdir(data)
    proc = subprocess.Popen([qgate_bin, "--listen", "127.0.0.1:0", "--data", data],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        for raw in proc.stderr:
            if b"listening on http://" in raw:
                break
            if time.time() > deadline:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    path = os.path.join(data, "demo.db")
    if not os.path.exists(path):
        raise RuntimeError("qgate did not create %s" % path)
    return path


PG_TYPES = {"INTEGER": "bigint", "TEXT": "text", "REAL": "double precision"}


def copy_value(v):
    """One value in COPY text format."""
    if v is None:
        return "\\N"
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def demo_sql(path):
    """The DDL and COPY script that recreates the SQLite demo database."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")]
        out = ["BEGIN;"]
        for t in tables:
            cols = []
            for _, name, typ, notnull, _, pk in db.execute("PRAGMA table_info(%s)" % t):
                col = "%s %s" % (name, PG_TYPES[typ.upper()])
                if pk:
                    col += " PRIMARY KEY"
                elif notnull:
                    col += " NOT NULL"
                cols.append(col)
            for _, _, ref, frm, to, *_ in db.execute("PRAGMA foreign_key_list(%s)" % t):
                cols.append("FOREIGN KEY (%s) REFERENCES %s(%s)" % (frm, ref, to))
            out.append("CREATE TABLE %s (%s);" % (t, ", ".join(cols)))
        for name, sql in db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"):
            out.append(sql + ";")
        for t in tables:
            out.append("COPY %s FROM STDIN;" % t)
            for row in db.execute("SELECT * FROM %s ORDER BY rowid" % t):
                out.append("\t".join(copy_value(v) for v in row))
            out.append("\\.")
        out.append("COMMIT;")
        return "\n".join(out) + "\n"
    finally:
        db.close()


# --- start / stop ---------------------------------------------------------------

def stop(state_file):
    try:
        with open(state_file) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return
    data = os.path.join(state["dir"], "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        subprocess.run(as_owner([os.path.join(state["bindir"], "pg_ctl"), "-D", data, "-m",
                                 "immediate", "-w", "-t", "60", "stop"], state["owner"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(state["dir"], ignore_errors=True)
    os.unlink(state_file)


def start(state_file, qgate_bin):
    stop(state_file)
    bindir = find_bindir()
    owner = "postgres" if os.geteuid() == 0 else None
    top = tempfile.mkdtemp(prefix="qgate-pg-")
    os.chmod(top, 0o700)
    if owner:
        shutil.chown(top, owner, owner)
    data = os.path.join(top, "data")
    sock = os.path.join(top, "sock")
    state = {"dir": top, "bindir": bindir, "owner": owner, "port": None, "admin": ADMIN,
             "role": ROLE, "template": TEMPLATE}
    os.makedirs(os.path.dirname(os.path.abspath(state_file)), exist_ok=True)
    with open(state_file, "w") as f:
        json.dump(state, f)  # so stop() finds the directory even if start fails

    run(as_owner([os.path.join(bindir, "initdb"), "-D", data, "-U", ADMIN, "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], owner))
    run(as_owner(["mkdir", "-m", "700", sock], owner))
    with open(os.path.join(data, "pg_hba.conf"), "w") as f:
        f.write("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    # Speed over durability: the cluster is thrown away after the run.
    opts = ("-c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c shared_buffers=32MB -c timezone=UTC -c log_min_messages=warning" % sock)
    for attempt in range(5):
        port = free_port()
        r = subprocess.run(as_owner([os.path.join(bindir, "pg_ctl"), "-D", data, "-l",
                                     os.path.join(top, "server.log"), "-w", "-t", "60",
                                     "-o", opts + " -c port=%d" % port, "start"], owner),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode == 0:
            break
        time.sleep(0.2)
    else:
        log = open(os.path.join(top, "server.log")).read()[-3000:]
        raise RuntimeError("pg_ctl start failed:\n%s\n%s" % (r.stdout.decode(), log))
    state["port"] = port
    with open(state_file, "w") as f:
        json.dump(state, f)

    psql(state, "CREATE ROLE %s LOGIN" % ROLE)
    psql(state, "CREATE DATABASE %s OWNER %s" % (TEMPLATE, ROLE))
    work = tempfile.mkdtemp(prefix="qgate-pg-demo-")
    try:
        script = demo_sql(build_sqlite_demo(qgate_bin, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    psql(state, None, user=ROLE, db=TEMPLATE, stdin=script.encode())
    print("pgcluster: PostgreSQL on 127.0.0.1:%d, data in %s" % (port, top))


def main(argv):
    if len(argv) == 4 and argv[1] == "start":
        try:
            start(argv[2], argv[3])
        except Exception:
            stop(argv[2])
            raise
    elif len(argv) == 3 and argv[1] == "stop":
        stop(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
