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
source scripts/lib/bench.sh
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

(umask 077; echo "bench-token-0123456789" >"$B/secret.token")  # private, 16 bytes or more: ferry refuses less
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
write_source() { sql "$SRC" < "$1"; }
count_rows() { sql "$1" -e 'SELECT count(*) FROM t'; }
ferry_bench_start_agents "$APPADM"

# Warm up: both replicas streaming and caught up on one row.
sql "$SRC" -e "INSERT INTO t VALUES (0, 0, 'warmup')"
ferry_bench_wait_count "$NAT" 1; ferry_bench_wait_count "$FER" 1

echo "INSERT INTO t SELECT seq, seq % 100, md5(seq) FROM seq_1_to_$ROWS;" > "$B/bulk.sql"
ferry_bench_measure bulk "$NAT" "$FER" $((ROWS + 1)) "$B/bulk.sql" "$ROWS"

: > "$B/small.sql"
for i in $(seq 1 "$TXNS"); do echo "INSERT INTO t VALUES ($((ROWS + i)), $i, 'small');" >> "$B/small.sql"; done
ferry_bench_measure small "$NAT" "$FER" $((ROWS + TXNS + 1)) "$B/small.sql" "$TXNS"
