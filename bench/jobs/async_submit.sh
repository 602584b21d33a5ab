#!/usr/bin/env bash
# Async submissions per second against a fresh qgate, for several numbers of
# client connections, and the store writer's jobs per commit (from its log
# line at shutdown). Needs wrk.
#   bench/jobs/async_submit.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
secs=${2:-5}
bin=$build/qgate
for conns in 1 8 64; do
  data=$(mktemp -d)
  log=$data/qgate.log
  "$bin" --listen 127.0.0.1:0 --data "$data" --workers 2 --max-queued 0 2>"$log" &
  pid=$!
  for _ in $(seq 50); do grep -q "listening on" "$log" && break; sleep 0.1; done
  port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\)$/\1/p' "$log")
  threads=$(( conns < 2 ? 1 : 2 ))
  rate=$(wrk -t$threads -c$conns -d${secs}s -s "$here/submit.lua" "http://127.0.0.1:$port" |
         awk '/Requests\/sec/ {print $2}')
  kill -TERM $pid; wait $pid || true
  stats=$(grep "job store:" "$log" | sed 's/.*job store: //')
  echo "connections=$conns submissions/s=$rate  [$stats]"
  rm -rf "$data"
done
