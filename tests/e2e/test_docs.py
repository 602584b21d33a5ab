"""The examples in README.md and docs/*.md run: every ```sh block that calls
curl is run with bash against a fresh demo database, so an example that no
longer works fails the build.

How a block is read (docs/api.md, "Examples in these pages", says the same
for readers):
  - `http://127.0.0.1:19002` (what `make run` serves) is the test's daemon;
  - a line `qgate --flag ...` is how that block's daemon is started (its
    flags; --listen and --data are the test's own);
  - `/etc/qgate/` is a temp directory, where `cb.key` is a callback secret;
  - `N` in a handle (`/status/N-0`, `/result/N-0`) is the job number of the
    last handle an answer of the block gave;
  - a comment line right after a command that starts with an HTTP status
    (`# 400`, `# 409 ASX0917 ...`) is the status that command answers;
    without one the answer must be a success (2xx) whose JSON status, if
    any, is not "fatal".
Every curl goes through a shell function that records its status, headers
and body; the test compares them with what the block says.
"""

import glob
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Qgate, SLOW

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = ["README.md"] + sorted(os.path.relpath(p, ROOT)
                              for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
MAKE_RUN_URL = "http://127.0.0.1:19002"

# Wraps curl: N-0 handles filled in, every call's status, headers and body
# kept in order (a file per call; $(...) subshells share the directory).
PRELUDE = r'''
curl() {
  local job a args=() hdr body rc j
  job=$(cat "$QG_OUT/job" 2>/dev/null)
  for a in "$@"; do
    if [ -n "$job" ]; then a=${a//\/N-0/\/$job-0}; fi
    args+=("$a")
  done
  hdr=$(mktemp -p "$QG_OUT" hdr.XXXXXX)
  body=$(mktemp -p "$QG_OUT" body.XXXXXX)
  # our -D last: it wins over an example's own -D (which then prints nothing)
  command curl "${args[@]}" -D "$hdr" > "$body"
  rc=$?
  cat "$body"
  printf '%s %s %s\n' "$rc" "$hdr" "$body" >> "$QG_OUT/calls"
  j=$(grep -o '/query/service/\(status\|result\)/[0-9]*-' "$body" | head -n 1 | tr -dc 0-9)
  if [ -n "$j" ]; then echo "$j" > "$QG_OUT/job"; fi
  return $rc
}
'''


class Block:
    def __init__(self, path, line, text):
        self.path, self.line, self.text = path, line, text
        self.flags = []
        self.script = []
        self.expected = []  # one per curl call, in order: None (2xx) or a status

    def __repr__(self):
        return "%s:%d" % (self.path, self.line)


def commands(lines):
    """The block's lines as (command text, comment lines after it): a command
    goes on while a line ends with a backslash or a quote is open."""
    out, cur = [], None
    i = 0
    while i < len(lines):
        line = lines[i]
        if cur is None and (not line.strip() or line.lstrip().startswith("#")):
            if out:
                out[-1][1].append(line.strip())
            i += 1
            continue
        cur = line if cur is None else cur + "\n" + line
        i += 1
        if cur.endswith("\\"):
            continue
        try:
            shlex.split(cur, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        out.append((cur, []))
        cur = None
    if cur is not None:
        out.append((cur, []))
    return out


def read_blocks():
    blocks = []
    for rel in DOCS:
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            text = f.read()
        for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
            if m.group(1) not in ("sh", "bash") or not re.search(r"\bcurl\s", m.group(2)):
                continue
            b = Block(rel, text[:m.start()].count("\n") + 1, m.group(2))
            for cmd, comments in commands(m.group(2).splitlines()):
                if cmd.startswith("qgate "):
                    b.flags += shlex.split(cmd, comments=True)[1:]
                    continue
                b.script.append(cmd)
                want = None
                for c in comments:
                    s = re.match(r"#\s*([1-5]\d\d)\b", c)
                    if s:
                        want = int(s.group(1))
                        break
                b.expected += [want] * len(re.findall(r"(?:^|[\s($;|&])curl\s", cmd))
            blocks.append(b)
    return blocks


def status_of(hdr_path):
    """The final status in a header dump (after any 100 Continue)."""
    status = None
    with open(hdr_path, "rb") as f:
        for line in f:
            m = re.match(rb"HTTP/1\.[01] (\d{3})", line)
            if m and m.group(1) != b"100":
                status = int(m.group(1))
    return status


class DocExamples(unittest.TestCase):
    def test_the_docs_have_examples(self):
        blocks = read_blocks()
        files = {b.path for b in blocks}
        self.assertIn("README.md", files)
        self.assertIn("docs/api.md", files)
        self.assertGreaterEqual(sum(len(b.expected) for b in blocks), 25)

    def test_every_example_runs(self):
        for b in read_blocks():
            with self.subTest(block=repr(b)):
                self.run_block(b)

    def run_block(self, b):
        tmp = tempfile.mkdtemp(prefix="qgate-docs-")
        etc = os.path.join(tmp, "etc")
        os.makedirs(etc)
        key = os.path.join(etc, "cb.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("docs-example-secret\n")
        flags = [a.replace("/etc/qgate/", etc + "/") for a in b.flags]
        q = Qgate(flags).start()
        try:
            base = "http://127.0.0.1:%d" % q.port
            out = os.path.join(tmp, "out")
            os.makedirs(out)
            script = "\n".join(s.replace(MAKE_RUN_URL, base).replace("/etc/qgate/", etc + "/")
                               for s in b.script)
            env = dict(os.environ, QG_OUT=out)
            p = subprocess.run(["bash", "-c", PRELUDE + "\n" + script], env=env, cwd=tmp,
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=120 * SLOW)
            calls = []
            if os.path.exists(os.path.join(out, "calls")):
                with open(os.path.join(out, "calls")) as f:
                    calls = [l.split() for l in f]
            where = "%r\nstdout:\n%s\nstderr:\n%s" % (b, p.stdout.decode(errors="replace")[-3000:],
                                                      p.stderr.decode(errors="replace")[-2000:])
            self.assertEqual(len(calls), len(b.expected), "curl calls made vs. written\n" + where)
            for i, ((rc, hdr, body), want) in enumerate(zip(calls, b.expected)):
                self.assertEqual(rc, "0", "curl %d failed\n%s" % (i, where))
                status = status_of(hdr)
                with open(body, "rb") as f:
                    text = f.read()
                if want is None:
                    self.assertTrue(200 <= status < 300,
                                    "curl %d answered %s\n%s\n%s" % (i, status, text[:600], where))
                    self.assertNotIn(b'"status":"fatal"', text[:200000],
                                     "curl %d: %s\n%s" % (i, text[:600], where))
                else:
                    self.assertEqual(status, want, "curl %d: %s\n%s" % (i, text[:600], where))
            self.assertEqual(p.returncode, 0, where)
        finally:
            q.stop()
            self.assertEqual(q.sanitizer_reports(), [])
            q.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
