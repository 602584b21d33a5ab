#!/usr/bin/env bash
# Configures and builds one flavour of qgate, then runs every test in it.
#   scripts/test.sh BUILD_DIR SANITIZER     (SANITIZER: "", address, thread)
set -euo pipefail
dir=$1
san=${2:-}
jobs=$(nproc 2>/dev/null || echo 2)
type=RelWithDebInfo

echo "== build $dir${san:+ ($san)}"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=$type -DQGATE_SANITIZE="$san" \
      -DQGATE_TESTS=ON -DQGATE_WERROR=ON >/dev/null
cmake --build "$dir" -j"$jobs"
echo "== test $dir${san:+ ($san)}"
cd "$dir"
ctest --output-on-failure -j"$jobs" ${CTEST_ARGS:-}
