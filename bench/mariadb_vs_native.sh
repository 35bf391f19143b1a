#!/usr/bin/env bash
# Benchmark: Ferry MariaDB -> MariaDB against MariaDB's native replication (GTID, row format),
# measured in the same run on the same machine (machines here are shared and noisy, so only the
# ratio means anything).
#
# One source server feeds two replicas: "native" through CHANGE MASTER TO ... START SLAVE and
# "ferry" through ferry capture + ferry apply. Each workload is written once on the source; the
# time until each replica holds the result is measured.
#   - bulk:  one transaction inserting ROWS rows
#   - small: TXNS transactions of one row each, written in one client session
# Usage: bench/mariadb_vs_native.sh [ROWS=200000] [TXNS=5000]   (needs a build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ports.sh
source scripts/lib/mariadb.sh
ROWS=${1:-200000}
TXNS=${2:-5000}
FERRY="$PWD/build/cli/ferry"
[ -x "$FERRY" ] || { echo "build first: scripts/test.sh or cmake --build build" >&2; exit 1; }

B=$(mktemp -d /tmp/ferry-bench-XXXXXX)
cleanup() {
  [ -f "$B/capture.pid" ] && kill "$(cat "$B/capture.pid")" 2>/dev/null || true
  [ -f "$B/apply.pid" ] && kill "$(cat "$B/apply.pid")" 2>/dev/null || true
  sleep 0.3
  for n in source native ferry; do ferry_maria_stop "$B/$n"; done
  rm -rf "$B"
}
trap cleanup EXIT

read -r SRC NAT FER CAP CAPADM APPADM <<<"$(ferry_free_ports 6)"
ferry_retry_port SRC ferry_maria_start "$B/source" 1
# Both replicas alike: durable InnoDB commits, no binary log of their own.
ferry_retry_port NAT ferry_maria_start "$B/native" 2 --skip-log-bin
ferry_retry_port FER ferry_maria_start "$B/ferry" 3 --skip-log-bin
sql() { local port=$1; shift; mariadb --no-defaults -h 127.0.0.1 -P "$port" -u root -N -B bench "$@"; }
for p in $SRC $NAT $FER; do
  mariadb --no-defaults -h 127.0.0.1 -P "$p" -u root -e "CREATE DATABASE bench"
  sql "$p" -e "CREATE TABLE t (id bigint PRIMARY KEY, v int, s varchar(64))"
done
sql "$NAT" -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$SRC, MASTER_USER='root',
               MASTER_USE_GTID=current_pos; START SLAVE"

echo "bench-token" > "$B/secret.token"
cat > "$B/capture.yaml" <<YAML
node: src
source: {engine: mariadb, dsn: "host=127.0.0.1 port=$SRC user=root dbname=bench", server_id: 100}
listen: 127.0.0.1:$CAP
auth_token_file: secret.token
admin: 127.0.0.1:$CAPADM
tables: ["bench.t"]
log_level: warn
YAML
cat > "$B/apply.yaml" <<YAML
node: replica
target: {engine: mariadb, dsn: "host=127.0.0.1 port=$FER user=root dbname=bench"}
upstreams: [{name: src, address: "127.0.0.1:$CAP", auth_token_file: secret.token}]
admin: 127.0.0.1:$APPADM
log_level: warn
YAML
"$FERRY" capture --config "$B/capture.yaml" >"$B/capture.log" 2>&1 & echo $! > "$B/capture.pid"
"$FERRY" apply --config "$B/apply.yaml" >"$B/apply.log" 2>&1 & echo $! > "$B/apply.pid"

# Warm up: both replicas streaming and caught up on one row.
ferry_wait_streaming "$APPADM" "$(cat "$B/capture.pid")" "$(cat "$B/apply.pid")" ||
  { tail -n 5 "$B/capture.log" "$B/apply.log" >&2; exit 1; }
sql "$SRC" -e "INSERT INTO t VALUES (0, 0, 'warmup')"
wait_count() {  # wait_count PORT N: until t has N rows
  until [ "$(sql "$1" -e 'SELECT count(*) FROM t' 2>/dev/null)" = "$2" ]; do sleep 0.05; done
}
wait_count "$NAT" 1; wait_count "$FER" 1

measure() {  # measure NAME EXPECTED_ROWS SQL-FILE ROWS-WRITTEN
  local name=$1 expected=$2 file=$3
  local start end_native end_ferry
  start=$(date +%s.%N)
  sql "$SRC" < "$file" >/dev/null
  ( wait_count "$NAT" "$expected"; date +%s.%N > "$B/native.done" ) &
  local native_pid=$!
  wait_count "$FER" "$expected"; end_ferry=$(date +%s.%N)
  wait $native_pid; end_native=$(cat "$B/native.done")
  awk -v n="$name" -v s="$start" -v a="$end_native" -v b="$end_ferry" -v rows="$4" 'BEGIN {
    tn = a - s; tf = b - s;
    printf "%-6s native %7.2f s (%8.0f rows/s)   ferry %7.2f s (%8.0f rows/s)   ferry/native time ratio %.2f\n",
           n, tn, rows / tn, tf, rows / tf, tf / tn }'
}

echo "INSERT INTO t SELECT seq, seq % 100, md5(seq) FROM seq_1_to_$ROWS;" > "$B/bulk.sql"
measure bulk $((ROWS + 1)) "$B/bulk.sql" "$ROWS"

: > "$B/small.sql"
for i in $(seq 1 "$TXNS"); do echo "INSERT INTO t VALUES ($((ROWS + i)), $i, 'small');" >> "$B/small.sql"; done
measure small $((ROWS + TXNS + 1)) "$B/small.sql" "$TXNS"
