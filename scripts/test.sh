#!/usr/bin/env bash
# Installs what is missing (Debian 12 packages), builds Ferry and runs the whole test suite:
#   1. every libFuzzer target (parsers of untrusted bytes) for a short smoke run   (build-fuzz/)
#   2. the unit tests (every parser, the codecs, the config) under AddressSanitizer +
#      UndefinedBehaviorSanitizer; the end-to-end tests are too slow under ASan on 2 cores (build-asan/)
#   3. the whole suite on the normal build: unit tests, and integration tests that start real
#      PostgreSQL 15 / MariaDB 10.11 servers and the ferry binary                 (build/)
# Usage: scripts/test.sh [extra ctest arguments for step 3, e.g. -R PgToPg]
# FERRY_QUICK=1 skips steps 1 and 2.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

FUZZ_SECONDS=${FERRY_FUZZ_SECONDS:-20}
# libFuzzer and the sanitizers come with clang's runtime; only the test suite needs them.
if [ -z "${FERRY_QUICK:-}" ]; then FERRY_PACKAGES+=(clang libclang-rt-14-dev); fi
# systemd-analyze checks the systemd units (SystemdUnitsVerify); nothing is started.
FERRY_PACKAGES+=(systemd)
ferry_install_dependencies

if [ -z "${FERRY_QUICK:-}" ]; then
  echo "==> fuzz smoke: building the libFuzzer targets with clang (build-fuzz/)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DFERRY_FUZZ=ON >/dev/null
  cmake --build build-fuzz --target fuzz -j"$(nproc)"
  for target in $(find build-fuzz -type f -executable -name '*_fuzz' | sort); do
    echo "==> fuzzing $(basename "$target") for ${FUZZ_SECONDS} s"
    "$target" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 2>"$target.log" ||
      { tail -50 "$target.log"; echo "!! $(basename "$target") found a crash" >&2; exit 1; }
  done

  echo "==> building with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
  ferry_build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_SANITIZE=ON
  echo "==> running the unit tests under the sanitizers"
  (cd build-asan && ctest --output-on-failure --timeout 900 -j"$(nproc)" -L unit)
fi

echo "==> building (build/)"
ferry_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "==> running the test suite"
cd build
ctest --output-on-failure --timeout 900 -j"$(nproc)" "$@"
