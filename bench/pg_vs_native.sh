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
source scripts/lib/bench.sh
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

(umask 077; echo "bench-token-0123456789" >"$B/secret.token")  # private, 16 bytes or more: ferry refuses less
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
write_source() { sql "$SRC" -f "$1"; }
count_rows() { sql "$1" -c 'SELECT count(*) FROM t'; }
ferry_bench_start_agents "$APPADM"

# Warm up: both replicas connected (the Ferry slot exists once apply streams; the native
# subscription created its slot above) and caught up on one row.
sql "$SRC" -c "INSERT INTO t VALUES (0, 0, 'warmup')"
ferry_bench_wait_count "$NAT" 1; ferry_bench_wait_count "$FER" 1

echo "INSERT INTO t SELECT g, g % 100, md5(g::text) FROM generate_series(1, $ROWS) g;" > "$B/bulk.sql"
ferry_bench_measure bulk "$NAT" "$FER" $((ROWS + 1)) "$B/bulk.sql" "$ROWS"

: > "$B/small.sql"
for i in $(seq 1 "$TXNS"); do echo "INSERT INTO t VALUES ($((ROWS + i)), $i, 'small');" >> "$B/small.sql"; done
ferry_bench_measure small "$NAT" "$FER" $((ROWS + TXNS + 1)) "$B/small.sql" "$TXNS"
