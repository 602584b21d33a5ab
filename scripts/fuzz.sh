#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ and runs each one.
#
#   scripts/fuzz.sh                 (what `make fuzz` runs)
#
#   FUZZ_SECONDS=60       how long each target runs
#   FUZZ_TARGETS="a b"    which targets (default: every tests/fuzz/fuzz_*.c)
#   FUZZ_JOBS=1           how many targets run at the same time
#   FUZZ_BUILD=build-fuzz the build directory (clang, -DQGATE_FUZZ=ON)
#   FUZZ_ARGS=            more libFuzzer flags, e.g. -max_len=65536
#   FUZZ_MERGE=0          1: afterwards, add to the repo corpus only the new
#                         inputs that reach new coverage (-merge=1)
#
# Each target starts from its corpus (tests/fuzz/corpus/<target>/) and
# dictionary (tests/fuzz/<target>.dict). New inputs go to a scratch corpus,
# $FUZZ_BUILD/corpus/<target>/, never into the repo; crashes, leaks and
# timeouts are saved as tests/fuzz/artifacts/<target>-*. Logs are in
# $FUZZ_BUILD/logs/. Exits non-zero when any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
build=${FUZZ_BUILD:-build-fuzz}
extra=${FUZZ_ARGS:-}
merge=${FUZZ_MERGE:-0}
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for f in tests/fuzz/fuzz_*.c; do
    t=${f##*/fuzz_}
    targets+=("${t%.c}")
  done
fi

echo "== build $build (clang, QGATE_FUZZ)"
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DQGATE_FUZZ=ON -DQGATE_TESTS=ON -DQGATE_WERROR=ON >/dev/null
bins=()
for t in "${targets[@]}"; do bins+=(--target "fuzz_$t"); done
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" "${bins[@]}"

mkdir -p tests/fuzz/artifacts "$build/logs"

# Runs one target; its exit status lands in $build/logs/<target>.rc.
run_one() {
  local t=$1
  mkdir -p "$build/corpus/$t"
  rm -f "$build/logs/$t.rc"
  local rc=0
  # shellcheck disable=SC2086
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -dict="tests/fuzz/$t.dict" \
      -artifact_prefix="tests/fuzz/artifacts/$t-" $extra \
      "$build/corpus/$t" "tests/fuzz/corpus/$t" >"$build/logs/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$build/logs/$t.rc"
}

echo "== fuzz ${targets[*]}: ${secs}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
wait || true

failed=0
for t in "${targets[@]}"; do
  rc=$(cat "$build/logs/$t.rc" 2>/dev/null || echo 1)
  log="$build/logs/$t.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corp=$(grep -o 'corp: [0-9]*/[0-9A-Za-z]*' "$log" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  if [ "$rc" = 0 ]; then
    echo "ok    $t: ${execs:-?} runs, ${speed:-?}/s, $cov, $corp"
  else
    failed=1
    echo "FAIL  $t (exit $rc), log $log:"
    grep -E 'ERROR|invariant broken|SUMMARY|Test unit written|runtime error' "$log" | head -20 | sed 's/^/      /'
  fi
done

if [ "$merge" = 1 ]; then
  echo "== merge new coverage into tests/fuzz/corpus/"
  for t in "${targets[@]}"; do
    "$build/tests/fuzz/fuzz_$t" -merge=1 "tests/fuzz/corpus/$t" "$build/corpus/$t" \
        >"$build/logs/$t.merge.log" 2>&1 || { failed=1; echo "merge failed: $t"; }
    echo "      $t: $(find "tests/fuzz/corpus/$t" -type f | wc -l) files"
  done
fi
exit "$failed"
