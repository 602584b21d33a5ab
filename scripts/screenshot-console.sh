#!/usr/bin/env bash
# Takes docs/console.png, the picture of the console in README.md: a qgate
# on the demo database (a temporary data directory, a free loopback port),
# a few stored jobs, and the page in headless Chromium driven by
# tests/e2e/console_browser.mjs (its "shot" step).
#   scripts/screenshot-console.sh [BUILD_DIR] [OUT]   (build-test, docs/console.png)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-test}
out=${2:-docs/console.png}
scripts/deps.sh test
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target qgate >/dev/null

data=$(mktemp -d /tmp/qgate-shot-XXXXXX)
"$build/qgate" --listen 127.0.0.1:0 --data "$data" 2>"$data/log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\)$/\1/p' "$data/log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$data/log" >&2; echo "screenshot: qgate did not start" >&2; exit 1; }
url=http://127.0.0.1:$port

# some history for "My recent jobs"
post() { curl -sf -o /dev/null "$url/query/service" "$@"; }
post --data-urlencode "statement=SELECT country, count(*) AS customers FROM customers GROUP BY country" \
     -d mode=async -d wait=10s -d client_context_id=by-country
post --data-urlencode "statement=SELECT status, count(*) AS n, round(sum(total), 2) AS revenue FROM orders GROUP BY status" \
     -d mode=async -d wait=10s -d client_context_id=revenue
post --data-urlencode "statement=SELECT abs(-9223372036854775808) AS overflow" \
     -d mode=async -d wait=10s -d client_context_id=a-failing-one || true

cfg=$(printf '{"url":"%s/console","steps":["shot"],"shot":"%s"}' "$url" "$(realpath -m "$out")")
if ! node tests/e2e/console_browser.mjs "$cfg"; then
  echo "screenshot: the browser run failed" >&2
  exit 1
fi
echo "screenshot: $out"
