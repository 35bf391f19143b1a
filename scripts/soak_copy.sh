#!/usr/bin/env bash
# On demand (not part of scripts/test.sh): the initial copy of a large table in every direction
# while a writer keeps inserting, updating and deleting on the source, then `ferry verify`
# (checksums, then row by row) must report the replica equal. The suite runs the same test with
# 20000 rows (InitialCopyTest.CopiesExistingRowsWhileTheSourceKeepsWriting). The test binary is
# run directly, since ctest would stop it after the suite's per-test timeout.
# Usage: scripts/soak_copy.sh [ROWS=1000000] [DIRECTIONS="postgres_to_postgres ..."]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
DIRECTIONS=${2:-postgres_to_postgres postgres_to_mariadb mariadb_to_postgres mariadb_to_mariadb}
[ -x build/tests/integration/initial_copy_test ] || FERRY_QUICK=1 bash scripts/test.sh -R '^$'
status=0
for direction in $DIRECTIONS; do
  echo "==> $ROWS rows, $direction"
  start=$(date +%s)
  FERRY_COPY_SOAK_ROWS=$ROWS build/tests/integration/initial_copy_test \
    --gtest_filter="AllDirections/InitialCopyTest.CopiesExistingRowsWhileTheSourceKeepsWriting/$direction" ||
    status=1
  echo "==> $direction: $(( $(date +%s) - start )) s"
done
exit $status
