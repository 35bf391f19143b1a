#!/usr/bin/env bash
# On demand (not part of scripts/test.sh): the initial copy of a large table in every direction
# while a writer keeps inserting, updating and deleting on the source, then `ferry verify`
# (checksums, then row by row) must report the replica equal. The suite runs the same test with
# 20000 rows (InitialCopyTest.CopiesExistingRowsWhileTheSourceKeepsWriting).
# Usage: scripts/soak_copy.sh [ROWS=1000000]     (builds build/ first if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
[ -x build/tests/integration/initial_copy_test ] || FERRY_QUICK=1 bash scripts/test.sh -R '^$'
cd build
FERRY_COPY_SOAK_ROWS=$ROWS ctest --output-on-failure --timeout 7200 \
  -R 'InitialCopyTest.CopiesExistingRowsWhileTheSourceKeepsWriting'
