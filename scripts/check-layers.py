#!/usr/bin/env python3
"""check-layers: qgate's source folders form a one-way stack; this says so.

    scripts/check-layers.py [ROOT]      (ctest runs it as check/layers)

Reads every `#include "..."` line of the C sources and fails when
  - a folder includes a folder above it, or one on its own level
    (same-level folders never include each other);
  - the headers of one folder include each other in a cycle;
  - a private header (`internal.h`, `*__.h`) or a private name
    (`<prefix>__...`, a `_member` of a struct declared in a folder's
    headers) is used outside the folder that owns it;
and when a function is longer than MAX_LINES lines, counted from the first
line of its definition (the return type) to its closing brace. Tests and
benchmarks may include any folder (they test them) but keep the function
rule. Prints what it found and exits 1, or a summary and 0.
"""

import os
import re
import subprocess
import sys

# The stack, from the ground up: a folder includes only folders on lower
# levels. This is the one place it is written.
STACK = [
    ["core"],                       # pure helpers: no project includes at all
    ["store", "exec", "gateway"],   # the job store; executors and backends; the HTTP transport
    ["modes"],                      # the job engine and the delivery modes
    ["api"],                        # the protocols' endpoints
    ["daemon"],                     # the composition root
]
# Each folder's prefix: its private names are PREFIX__...
PREFIX = {"core": "qg", "store": "store", "exec": "exec", "gateway": "gw", "modes": "mode",
          "api": "api", "daemon": "daemon"}
# Folders of code that sits outside the stack and may use every level.
FREE = ["tests", "bench"]

MAX_LINES = 120
# Functions allowed to be longer, each with its reason. Keep it empty.
LONG_OK = {}

LEVEL = {f: i for i, level in enumerate(STACK) for f in level}


def sources(root):
    """The C files of the stack's folders and of FREE: git's list, or (not
    a checkout: a release tarball) what the folders hold."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "*.c", "*.h"], check=True,
                             capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
        for top in list(LEVEL) + FREE:
            for d, _, names in os.walk(os.path.join(root, top)):
                out += [os.path.relpath(os.path.join(d, n), root) for n in names
                        if n.endswith((".c", ".h"))]
    return sorted(p for p in out if p.split("/")[0] in LEVEL or p.split("/")[0] in FREE)


def strip_comments(text):
    """The text with comments and string literals blanked (lines kept)."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                  blank, text, flags=re.S)


def check_includes(root, files, texts, problems):
    graph = {}
    for path in files:
        folder = path.split("/")[0]
        for n, line in enumerate(texts[path].split("\n"), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            target = inc.split("/")[0]
            if "/" not in inc:
                continue  # a file beside it (tests/fuzz/fuzz.h)
            if target not in LEVEL:
                problems.append("%s:%d: includes %s, which is in no folder of the stack"
                                % (path, n, inc))
                continue
            private = inc.endswith("/internal.h") or inc.endswith("__.h")
            if private and target != folder and folder not in FREE:
                problems.append("%s:%d: includes %s, a private header of %s/"
                                % (path, n, inc, target))
            if folder in FREE or target == folder:
                if target == folder and path.endswith(".h"):
                    graph.setdefault(path, []).append(inc)
                continue
            if LEVEL[target] > LEVEL[folder]:
                problems.append("%s:%d: includes %s: %s/ is above %s/ (an upward include)"
                                % (path, n, inc, target, folder))
            elif LEVEL[target] == LEVEL[folder]:
                problems.append("%s:%d: includes %s: %s/ and %s/ are on one level and never "
                                "include each other" % (path, n, inc, target, folder))
    # cycles among one folder's headers
    state = {}

    def visit(h, stack):
        state[h] = 1
        for nxt in graph.get(h, []):
            if state.get(nxt) == 1:
                cyc = stack[stack.index(nxt):] + [nxt] if nxt in stack else [h, nxt]
                problems.append("include cycle: %s" % " -> ".join(cyc))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[h] = 2

    for h in sorted(graph):
        if h not in state:
            visit(h, [h])


def check_private_names(files, texts, problems):
    # `_member`s declared in a folder's headers are that folder's
    members = {}
    for path in files:
        folder = path.split("/")[0]
        if not path.endswith(".h") or folder in FREE:
            continue
        for m in re.finditer(r"^\s+[A-Za-z_][\w\s\*\(\),]*?[\s\*\(]\b(_[a-z]\w*)\s*[\[;\)]",
                             strip_comments(texts[path]), flags=re.M):
            members[m.group(1)] = folder
    for path in files:
        folder = path.split("/")[0]
        if folder in FREE:
            continue
        code = strip_comments(texts[path])
        for n, line in enumerate(code.split("\n"), 1):
            for m in re.finditer(r"\b([a-z]+)__\w*", line):
                owner = [f for f, p in PREFIX.items() if p == m.group(1)]
                if owner and owner[0] != folder:
                    problems.append("%s:%d: uses %s, private to %s/"
                                    % (path, n, m.group(0), owner[0]))
            for m in re.finditer(r"(?:->|\.)(_[a-z]\w*)\b", line):
                owner = members.get(m.group(1))
                if owner and owner != folder:
                    problems.append("%s:%d: uses the member %s, private to %s/"
                                    % (path, n, m.group(1), owner))


def functions(text):
    """(name, first line, last line) of each function definition: a line
    that starts with its name and '(' after a line that starts with its
    return type, up to the '}' in column 0 that closes it."""
    lines = text.split("\n")
    i = 1
    while i < len(lines):
        m = re.match(r"([A-Za-z_]\w*)\(", lines[i])
        prev = lines[i - 1]
        if m and prev.strip() and not prev[0].isspace() and not prev.startswith(("#", "/", "}")):
            j = i
            while j < len(lines) and not lines[j].startswith("{"):
                if lines[j].rstrip().endswith(";"):
                    break
                j += 1
            if j < len(lines) and lines[j].startswith("{"):
                k = j
                while k < len(lines) and not lines[k].startswith("}"):
                    k += 1
                yield m.group(1), i, k + 1  # i: the return type's line (1-based)
                i = k
        i += 1


def check_lengths(files, texts, problems):
    longest = (0, "")
    for path in files:
        if not path.endswith(".c"):
            continue
        for name, first, last in functions(texts[path]):
            n = last - first + 1
            if n > longest[0]:
                longest = (n, "%s:%d %s" % (path, first, name))
            if n > MAX_LINES and (path, name) not in LONG_OK:
                problems.append("%s:%d: %s() is %d lines (at most %d: split it)"
                                % (path, first, name, n, MAX_LINES))
    return longest


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    files = sources(root)
    texts = {p: open(os.path.join(root, p), encoding="utf-8", errors="replace").read()
             for p in files}
    problems = []
    check_includes(root, files, texts, problems)
    check_private_names(files, texts, problems)
    longest = check_lengths(files, texts, problems)
    for p in problems:
        print(p)
    if problems:
        print("check-layers: %d problem(s)" % len(problems))
        return 1
    stack = " < ".join("/".join(level) for level in STACK)
    print("check-layers: %d files; the stack %s holds; longest function %d lines (%s)"
          % (len(files), stack, longest[0], longest[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
