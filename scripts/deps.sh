#!/usr/bin/env bash
# Installs the Debian packages qgate needs that are not installed yet.
#   scripts/deps.sh build    what building and running qgate needs
#   scripts/deps.sh test     that, plus what the test suite needs
#   scripts/deps.sh bench    that, plus what the benchmarks need
#   scripts/deps.sh list SET the package names of SET, one a line (no install)
# Runs apt-get only when something is missing; needs root (or sudo) then.
# test and bench also need Node.js for the browser tests: Debian's nodejs
# and npm are installed when `node` or `npm` is not found (a machine may
# have them from elsewhere), then `npm ci` installs the tests' Node.js
# packages into tests/node/node_modules as tests/node/package-lock.json
# pins them, whenever that lock file is newer than what is installed.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config
            libevhtp-dev libevent-dev libssl-dev libonig-dev
            liblmdb-dev libsqlite3-dev libpq-dev zlib1g-dev)
test_pkgs=(python3 curl sqlite3 libcmocka-dev libcjson-dev clang libclang-rt-14-dev
           postgresql nginx-light lmdb-utils procps chromium)
bench_pkgs=(wrk hyperfine gnuplot-nox valgrind linux-perf strace)

if [ "${1:-}" = list ]; then
  case "${2:-}" in
    build) printf '%s\n' "${build_pkgs[@]}" ;;
    test)  printf '%s\n' "${build_pkgs[@]}" "${test_pkgs[@]}" ;;
    bench) printf '%s\n' "${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}" ;;
    *) echo "usage: $0 list build|test|bench" >&2; exit 2 ;;
  esac
  exit 0
fi

want=("${build_pkgs[@]}")
node=0
case "${1:-build}" in
  build) ;;
  test)  want+=("${test_pkgs[@]}"); node=1 ;;
  bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}"); node=1 ;;
  *) echo "usage: $0 build|test|bench|list SET" >&2; exit 2 ;;
esac
if [ $node = 1 ]; then
  command -v node >/dev/null || want+=(nodejs)
  command -v npm >/dev/null || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo=(sudo); else
      echo "deps: missing packages (${missing[*]}) and not root: install them and retry" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q >&2
  # Debian starts services it installs; the project starts its own instances.
  printf '#!/bin/sh\nexit 101\n' > /tmp/qgate-policy-rc.d && chmod +x /tmp/qgate-policy-rc.d
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    "${sudo[@]}" cp /tmp/qgate-policy-rc.d /usr/sbin/policy-rc.d
    trap '"${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

if [ $node = 1 ]; then
  nodedir=$(cd "$(dirname "$0")/../tests/node" && pwd)
  if [ ! -f "$nodedir/node_modules/.package-lock.json" ] ||
     [ "$nodedir/package-lock.json" -nt "$nodedir/node_modules/.package-lock.json" ]; then
    echo "deps: npm ci in tests/node" >&2
    # Node.js trusts only its own CA list; let it trust the system's too
    # (a registry mirror or proxy whose CA the machine added), as apt does.
    if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
      export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
    fi
    (cd "$nodedir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
fi
