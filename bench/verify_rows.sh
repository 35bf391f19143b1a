#!/usr/bin/env bash
# Benchmark (not a test): how fast `ferry verify` compares an equal table, PostgreSQL ->
# PostgreSQL and MariaDB -> MariaDB. Loads the same ROWS rows on a source and a target server
# (no agents run: verify needs only the two databases and the two configs), times
# `ferry verify` and prints source rows per second, twice: with chunk checksums computed in the
# databases (the default between two servers of one engine) and with --row-by-row, which reads
# every row twice on each side (as verify does across engines).
# Usage: bench/verify_rows.sh [ROWS=1000000] [CHUNK_ROWS=1000]   (needs a build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ports.sh
source scripts/lib/postgres.sh
source scripts/lib/mariadb.sh
ROWS=${1:-1000000}
CHUNK=${2:-1000}
FERRY="$PWD/build/cli/ferry"
[ -x "$FERRY" ] || { echo "build first: scripts/test.sh or cmake --build build" >&2; exit 1; }

B=$(mktemp -d /tmp/ferry-bench-XXXXXX)
chmod 755 "$B"
cleanup() {
  for n in pg-source pg-target; do ferry_pg_stop "$B/$n"; done
  for n in maria-source maria-target; do ferry_maria_stop "$B/$n"; done
  rm -rf "$B"
}
trap cleanup EXIT
(umask 077; echo "bench-token-0123456789" >"$B/secret.token")  # private, 16 bytes or more: ferry refuses less

# write_configs ENGINE SOURCE_DSN TARGET_DSN TABLE: capture.yaml and apply.yaml in $B.
write_configs() {
  cat > "$B/capture.yaml" <<YAML
node: src
source: {engine: $1, dsn: "$2"}
auth_token_file: secret.token
tables: ["$4"]
YAML
  cat > "$B/apply.yaml" <<YAML
node: replica
target: {engine: $1, dsn: "$3"}
upstreams: [{name: src, address: "127.0.0.1:1", auth_token_file: secret.token}]
YAML
}

# time_verify NAME [ARGS...]: runs ferry verify on $B's configs and prints its time and rows/s.
time_verify() {
  local name=$1 start end code=0
  shift
  start=$(date +%s.%N)
  "$FERRY" verify --config "$B/apply.yaml" --source "$B/capture.yaml" --chunk-rows "$CHUNK" "$@" \
    >"$B/verify.out" 2>"$B/verify.log" || code=$?
  end=$(date +%s.%N)
  if [ "$code" -ne 0 ]; then
    echo "$name: ferry verify exited $code:" >&2
    cat "$B/verify.out" "$B/verify.log" >&2
    exit 1
  fi
  awk -v n="$name" -v s="$start" -v e="$end" -v rows="$ROWS" -v chunk="$CHUNK" 'BEGIN {
    printf "%-36s %9d rows in %6.2f s: %8.0f rows/s (chunks of %d rows)\n", n, rows, e - s,
           rows / (e - s), chunk }'
}

# ---- PostgreSQL -> PostgreSQL --------------------------------------------------------------------
read -r PGS PGT <<<"$(ferry_free_ports 2)"
ferry_retry_port PGS ferry_pg_start "$B/pg-source"
ferry_retry_port PGT ferry_pg_start "$B/pg-target"
for p in $PGS $PGT; do
  psql -q -h 127.0.0.1 -p "$p" -U postgres -c "CREATE DATABASE bench" >/dev/null
  psql -qAt -h 127.0.0.1 -p "$p" -U postgres -d bench <<SQL >/dev/null
CREATE TABLE t (id bigint PRIMARY KEY, v int, s text, n numeric(12,2), ts timestamp(6));
INSERT INTO t SELECT g, g % 1000, md5(g::text), g / 100.0,
  timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE t;
SQL
done
write_configs postgres "host=127.0.0.1 port=$PGS dbname=bench user=postgres" \
  "host=127.0.0.1 port=$PGT dbname=bench user=postgres" public.t
time_verify "PostgreSQL->PostgreSQL, checksums"
time_verify "PostgreSQL->PostgreSQL, --row-by-row" --row-by-row
for n in pg-source pg-target; do ferry_pg_stop "$B/$n"; done

# ---- MariaDB -> MariaDB --------------------------------------------------------------------------
read -r MS MT <<<"$(ferry_free_ports 2)"
ferry_retry_port MS ferry_maria_start "$B/maria-source" 1
ferry_retry_port MT ferry_maria_start "$B/maria-target" 2 --skip-log-bin
for p in $MS $MT; do
  mariadb --no-defaults -h 127.0.0.1 -P "$p" -u root <<SQL >/dev/null
CREATE DATABASE bench;
USE bench;
SET SESSION sql_log_bin = 0;
CREATE TABLE t (id bigint PRIMARY KEY, v int, s varchar(64), n decimal(12,2), ts datetime(6));
INSERT INTO t SELECT seq, seq % 1000, md5(seq), seq / 100.0,
  TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_$ROWS;
ANALYZE TABLE t;
SQL
done
write_configs mariadb "host=127.0.0.1 port=$MS user=root dbname=bench" \
  "host=127.0.0.1 port=$MT user=root dbname=bench" bench.t
time_verify "MariaDB->MariaDB, checksums"
time_verify "MariaDB->MariaDB, --row-by-row" --row-by-row
