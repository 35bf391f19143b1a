#!/usr/bin/env bash
# Soak (on demand, not part of scripts/test.sh): two nodes write the same hot rows at once under
# last_writer_wins while agents are killed with -9 between rounds, then every row must be the
# same on both nodes. The suite runs the short version (3 rounds of 100 writes per node); this
# runs it longer, in each pair (PostgreSQL <-> PostgreSQL, MariaDB <-> MariaDB, PostgreSQL <->
# MariaDB), and shows each failure with both nodes' rows.
# Usage: bench/soak_master_master.sh [ROUNDS=20] [OPS=500]   (needs a build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-20}
OPS=${2:-500}
TEST="$PWD/build/tests/integration/conflict_resolution_test"
[ -x "$TEST" ] || { echo "build first: scripts/test.sh or cmake --build build" >&2; exit 1; }
echo "soak: $ROUNDS rounds of $OPS writes per node and round, agents killed between rounds"
FERRY_SOAK_ROUNDS=$ROUNDS FERRY_SOAK_OPS=$OPS \
  "$TEST" --gtest_filter='*HotRowsWrittenOnBothNodesWhileAgentsAreKilledConverge*'
