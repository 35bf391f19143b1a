#!/usr/bin/env bash
# Benchmark: Ferry PostgreSQL -> PostgreSQL against PostgreSQL's native logical replication,
# measured in the same run on the same machine (machines here are shared and noisy, so only the
# ratio means anything).
#
# One source server feeds two replicas: "native" through CREATE SUBSCRIPTION and "ferry" through
# ferry capture + ferry apply. Each workload is written once on the source; the time until each
# replica holds the result is measured.
#   - bulk:  one transaction inserting ROWS rows
#   - small: TXNS transactions of one row each, written by pgbench-free plain psql in one session
# Usage: bench/pg_vs_native.sh [ROWS=200000] [TXNS=5000]   (needs a build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ports.sh
source scripts/lib/postgres.sh
ROWS=${1:-200000}
TXNS=${2:-5000}
FERRY="$PWD/build/cli/ferry"
[ -x "$FERRY" ] || { echo "build first: scripts/test.sh or cmake --build build" >&2; exit 1; }

B=$(mktemp -d /tmp/ferry-bench-XXXXXX)
chmod 755 "$B"
cleanup() {
  [ -f "$B/capture.pid" ] && kill "$(cat "$B/capture.pid")" 2>/dev/null || true
  [ -f "$B/apply.pid" ] && kill "$(cat "$B/apply.pid")" 2>/dev/null || true
  sleep 0.3
  for n in source native ferry; do ferry_pg_stop "$B/$n"; done
  rm -rf "$B"
}
trap cleanup EXIT

read -r SRC NAT FER CAP CAPADM APPADM <<<"$(ferry_free_ports 6)"
ferry_retry_port SRC ferry_pg_start "$B/source"
ferry_retry_port NAT ferry_pg_start "$B/native"
ferry_retry_port FER ferry_pg_start "$B/ferry"
sql() { local port=$1; shift; psql -qAt -h 127.0.0.1 -p "$port" -U postgres -d bench "$@"; }
for p in $SRC $NAT $FER; do
  psql -q -h 127.0.0.1 -p "$p" -U postgres -c "CREATE DATABASE bench" >/dev/null
  sql "$p" -c "CREATE TABLE t (id bigint PRIMARY KEY, v int, s text)"
done
sql "$SRC" -c "CREATE PUBLICATION native_pub FOR TABLE t"
sql "$NAT" -c "CREATE SUBSCRIPTION native_sub CONNECTION 'host=127.0.0.1 port=$SRC dbname=bench user=postgres' PUBLICATION native_pub" 2>/dev/null

echo "bench-token" > "$B/secret.token"
cat > "$B/capture.yaml" <<YAML
node: src
source: {engine: postgres, dsn: "host=127.0.0.1 port=$SRC dbname=bench user=postgres"}
listen: 127.0.0.1:$CAP
auth_token_file: secret.token
admin: 127.0.0.1:$CAPADM
tables: ["public.t"]
log_level: warn
YAML
cat > "$B/apply.yaml" <<YAML
node: replica
target: {engine: postgres, dsn: "host=127.0.0.1 port=$FER dbname=bench user=postgres"}
upstreams: [{name: src, address: "127.0.0.1:$CAP", auth_token_file: secret.token}]
admin: 127.0.0.1:$APPADM
log_level: warn
YAML
"$FERRY" capture --config "$B/capture.yaml" >"$B/capture.log" 2>&1 & echo $! > "$B/capture.pid"
"$FERRY" apply --config "$B/apply.yaml" >"$B/apply.log" 2>&1 & echo $! > "$B/apply.pid"

# Warm up: both replicas connected (the Ferry slot exists once apply streams; the native
# subscription created its slot above) and caught up on one row.
ferry_wait_streaming "$APPADM" "$(cat "$B/capture.pid")" "$(cat "$B/apply.pid")" ||
  { tail -n 5 "$B/capture.log" "$B/apply.log" >&2; exit 1; }
sql "$SRC" -c "INSERT INTO t VALUES (0, 0, 'warmup')"
wait_count() {  # wait_count PORT N: until t has N rows; prints elapsed seconds since $start
  until [ "$(sql "$1" -c 'SELECT count(*) FROM t')" = "$2" ]; do sleep 0.05; done
}
wait_count "$NAT" 1; wait_count "$FER" 1

measure() {  # measure NAME EXPECTED_ROWS SQL-FILE
  local name=$1 expected=$2 file=$3
  local start end_native end_ferry
  start=$(date +%s.%N)
  sql "$SRC" -f "$file" >/dev/null
  ( wait_count "$NAT" "$expected"; date +%s.%N > "$B/native.done" ) &
  local native_pid=$!
  wait_count "$FER" "$expected"; end_ferry=$(date +%s.%N)
  wait $native_pid; end_native=$(cat "$B/native.done")
  awk -v n="$name" -v s="$start" -v a="$end_native" -v b="$end_ferry" -v rows="$4" 'BEGIN {
    tn = a - s; tf = b - s;
    printf "%-6s native %7.2f s (%8.0f rows/s)   ferry %7.2f s (%8.0f rows/s)   ferry/native time ratio %.2f\n",
           n, tn, rows / tn, tf, rows / tf, tf / tn }'
}

echo "INSERT INTO t SELECT g, g % 100, md5(g::text) FROM generate_series(1, $ROWS) g;" > "$B/bulk.sql"
measure bulk $((ROWS + 1)) "$B/bulk.sql" "$ROWS"

: > "$B/small.sql"
for i in $(seq 1 "$TXNS"); do echo "INSERT INTO t VALUES ($((ROWS + i)), $i, 'small');" >> "$B/small.sql"; done
measure small $((ROWS + TXNS + 1)) "$B/small.sql" "$TXNS"
