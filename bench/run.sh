#!/usr/bin/env bash
# qgate's benchmark suite (`make bench`; docs/performance.md explains it).
#
#   bench/run.sh                 every benchmark
#   bench/run.sh select1 memory  only these (names as in the list below)
#
# Builds qgate and the helpers (bench/responder, bench/lmdb_commit,
# bench/micro) in $BENCH_BUILD (build), runs the benchmarks one after
# another, each bounded in time, and writes bench/results/latest.md
# (markdown tables of medians and ratios) with raw data in
# bench/results/raw/. Settings: BENCH_RUNS (5), BENCH_SECONDS (3), see
# bench/benchlib.py. Needs the tools of `scripts/deps.sh bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(select1 status_poll async_submit large_result memory postgres scaling profile mixed_result
     micro jobs_list)
# Reserved: the Trino protocol's row and the scheduler lanes' cost, run
# when their scripts exist (bench/report.py keeps their place otherwise).
for extra in trino lanes; do
  if [ -f "bench/$extra.py" ]; then all+=("$extra"); fi
done
export BENCH_BUILD=${BENCH_BUILD:-build}
export PYTHONDONTWRITEBYTECODE=1
results=${BENCH_RESULTS:-bench/results}

if [ $# -eq 0 ]; then
  selected=("${all[@]}")
else
  selected=("$@")
  for name in "${selected[@]}"; do
    case " ${all[*]} " in
      *" $name "*) ;;
      *) echo "bench: unknown benchmark '$name' (one of: ${all[*]})" >&2; exit 2 ;;
    esac
  done
fi

for tool in cmake python3 wrk hyperfine gnuplot curl sqlite3; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench: $tool is missing: run 'make bench' or 'scripts/deps.sh bench'" >&2
    exit 1
  fi
done

child=""
on_signal() {
  trap - INT TERM HUP
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  echo "bench: interrupted" >&2
  exit 130
}
trap on_signal INT TERM HUP

start=$(date +%s)
echo "== build ($BENCH_BUILD)"
cmake -S . -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQGATE_SANITIZE= \
      -DQGATE_TESTS=ON >/dev/null
cmake --build "$BENCH_BUILD" -j"$(nproc 2>/dev/null || echo 2)" \
  --target qgate bench_responder bench_lmdb_commit bench_micro

mkdir -p "$results/raw"
if [ $# -eq 0 ]; then
  rm -f "$results"/raw/*.json "$results"/raw/*.dat "$results"/raw/*.txt
fi
python3 bench/report.py start

failed=()
for name in "${selected[@]}"; do
  echo "== bench $name"
  t0=$(date +%s)
  # Each benchmark bounds its own loads; this bounds the whole of it.
  timeout -k 30 600 python3 "bench/$name.py" &
  child=$!
  if wait "$child"; then :; else failed+=("$name"); fi
  child=""
  echo "   ($name: $(( $(date +%s) - t0 )) s)"
done

python3 bench/report.py finish
echo "== $(( $(date +%s) - start )) s in all; results in $results/latest.md"
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
