#!/usr/bin/env bash
# Proves two things about building qgate that a machine with every package
# installed cannot show by itself (part of `make test`, so CI checks them):
#
# 1. The run build (`make run`, `make install`, a plain `cmake`) configures
#    with only the packages `scripts/deps.sh build` installs: CMake is run
#    with a pkg-config search path that holds nothing but those packages'
#    .pc files, so a test-only dependency (cmocka, ...) reached from the
#    run build fails here, not on a newcomer's fresh machine.
# 2. Every CMake build type (Debug, Release, RelWithDebInfo, MinSizeRel)
#    compiles with gcc and with clang, warnings as errors: optimisation
#    levels differ in what they warn about (gcc's -O3 and -Os see
#    maybe-uninitialized and format-truncation cases that -O2 does not).
#    Only the daemon is compiled (the suite builds the tests); gcc's
#    RelWithDebInfo is the test build itself and is not repeated here.
#
#   scripts/check-build.sh          (CHECK_BUILD=build-check: where the builds go)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${CHECK_BUILD:-build-check}
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$out"

echo "== check: the run build configures with the build packages alone"
pc="$out/pkgconfig-build-only"
rm -rf "$pc" "$out/run-config"
mkdir -p "$pc"
while read -r pkg; do
  if ! files=$(dpkg-query -L "$pkg" 2>/dev/null); then
    echo "check-build: package $pkg is not installed (scripts/deps.sh build)" >&2
    exit 1
  fi
  grep '\.pc$' <<<"$files" | while read -r f; do ln -sf "$f" "$pc/"; done || true
done < <(scripts/deps.sh list build)
if ! PKG_CONFIG_LIBDIR="$(pwd)/$pc" PKG_CONFIG_PATH= \
     cmake -S . -B "$out/run-config" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$out/run-config.log" 2>&1; then
  cat "$out/run-config.log" >&2
  echo "check-build: the run build needs more than scripts/deps.sh build installs" \
       "(its .pc files: $pc)" >&2
  exit 1
fi
rm -rf "$out/run-config"

for cc in gcc clang; do
  for type in Debug Release RelWithDebInfo MinSizeRel; do
    [ "$cc/$type" = gcc/RelWithDebInfo ] && continue
    dir="$out/$cc-$type"
    echo "== check: $cc $type"
    CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DQGATE_WERROR=ON >/dev/null
    cmake --build "$dir" -j"$jobs" --target qgate >"$dir.log" 2>&1 || {
      grep -E 'error|warning' "$dir.log" >&2 || cat "$dir.log" >&2
      echo "check-build: $cc $type does not build without warnings" >&2
      exit 1
    }
  done
done
echo "== check: every build type builds with gcc and clang"
