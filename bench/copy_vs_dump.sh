#!/usr/bin/env bash
# Benchmark (not a test): Ferry's initial copy of a new replica against dump-and-restore,
# measured in the same run on the same machine (machines here are shared and noisy, so only the
# ratio means anything).
#
# A source table t of ROWS rows (with TABLES=N: N tables t1..tN of the same columns, ROWS/N rows
# each, the ids 1..ROWS split between them in order) is copied into empty target tables, one
# method at a time, every method copying all of them:
#   PostgreSQL -> PostgreSQL
#     - dump:    pg_dump --data-only -t t [-t ...] | psql               (COPY out, COPY in)
#     - native:  CREATE SUBSCRIPTION ... WITH (copy_data = true) on a publication FOR the tables,
#                until every table's sync has finished (pg_subscription_rel state f, s or r) and
#                the target holds ROWS rows. Its tables are copied max_sync_workers_per_subscription
#                at a time: left at the server's default, 2.
#     - ferry:   ferry capture + ferry apply (a new subscriber, copy_data: true), once per chunk
#                size in CHUNKS (capture's copy_chunk_rows) and, for each, once per value in
#                PARALLEL (apply's copy_parallel_tables: how many tables are written at once)
#   MariaDB -> MariaDB
#     - dump:    mariadb-dump --no-create-info --single-transaction bench t [...] | mariadb bench
#     - ferry:   as above
# Ferry's time runs from starting the apply agent (the capture agent is already listening) until
# its /status shows streams.<upstream>.copy.state == "done". Every copy is then checked against
# the source (row count and a checksum of the rows, over all the tables) outside the time
# measured.
# Every method writes into its own empty database on one target server (PostgreSQL: CHECKPOINT
# before each method, so that none pays for another's dirty buffers).
#
# Usage: bench/copy_vs_dump.sh [ROWS=1000000] [CHUNKS="10000 50000"]
#   FERRY=/path/to/ferry     the binary to measure (default build/cli/ferry)
#   ENGINES="postgres mariadb"   which pairs to run
#   TABLES=1                 how many tables the ROWS are split into (ROWS must divide by it);
#                            1 copies the one table t, N > 1 the tables t1..tN
#   PARALLEL="2"             the copy_parallel_tables values Ferry runs with (1-16; 2 is the
#                            product's default), each on its own line "ferry, copy_chunk_rows C,
#                            P tables at once" (the suffix is left out with TABLES=1 and one value)
#   TIMEOUT=1800             seconds one copy may take before the benchmark gives up
#   BENCH_PIDS_FILE=FILE     append "ENGINE CHUNK capture PID apply PID parallel P" when the agents
#                            start (to attach a profiler)
#   KEEP_LOGS=DIR            copy the agents' logs (ENGINE-CHUNK-P; log_level warn) into DIR
#                            before the scratch directory is removed
set -euo pipefail
if [ -n "${FERRY:-}" ]; then FERRY=$(realpath "$FERRY"); fi
cd "$(dirname "$0")/.."
source scripts/lib/ports.sh
source scripts/lib/postgres.sh
source scripts/lib/mariadb.sh
ROWS=${1:-1000000}
CHUNKS=${2:-10000 50000}
ENGINES=${ENGINES:-postgres mariadb}
TIMEOUT=${TIMEOUT:-1800}
TABLES=${TABLES:-1}
PARALLEL=${PARALLEL:-2}
FERRY=${FERRY:-$PWD/build/cli/ferry}
[ -x "$FERRY" ] || { echo "build first (scripts/test.sh or cmake --build build), or set FERRY" >&2; exit 1; }
[[ "$TABLES" =~ ^[1-9][0-9]*$ ]] && [ $((ROWS % TABLES)) -eq 0 ] ||
  { echo "TABLES=$TABLES: expected a positive number that ROWS=$ROWS divides by" >&2; exit 1; }
for p in $PARALLEL; do
  [[ "$p" =~ ^[1-9][0-9]*$ ]] && [ "$p" -le 16 ] ||
    { echo "PARALLEL: $p is not a copy_parallel_tables value (1-16)" >&2; exit 1; }
done
PER_TABLE=$((ROWS / TABLES))
# NAMES: the source's tables (t alone, or t1..tN); WHAT: the headings' words for them.
if [ "$TABLES" -eq 1 ]; then
  NAMES=(t)
  WHAT="$ROWS rows of t"
else
  mapfile -t NAMES < <(seq -f 't%g' "$TABLES")
  WHAT="$ROWS rows, $PER_TABLE in each of t1..t$TABLES"
fi
# With one table and one PARALLEL value, Ferry's lines read as before (no "P tables at once").
if [ "$TABLES" -eq 1 ] && [ "$(wc -w <<<"$PARALLEL")" -eq 1 ]; then
  AT_ONCE=false NAME_WIDTH=30
else
  AT_ONCE=true NAME_WIDTH=46
fi

B=$(mktemp -d /tmp/ferry-bench-XXXXXX)
chmod 755 "$B"
stop_agents() {
  local pid
  for f in "$B/apply.pid" "$B/capture.pid"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$f"
  done
}
cleanup() {
  stop_agents
  if [ -n "${KEEP_LOGS:-}" ]; then
    mkdir -p "$KEEP_LOGS" && cp "$B"/*.log "$KEEP_LOGS"/ 2>/dev/null || true
  fi
  for n in pg-source pg-target; do ferry_pg_stop "$B/$n"; done
  for n in maria-source maria-target; do ferry_maria_stop "$B/$n"; done
  rm -rf "$B"
}
trap cleanup EXIT
(umask 077; echo "bench-token-0123456789" >"$B/secret.token")  # private, 16 bytes or more: ferry refuses less

# per_table TEMPLATE [SEPARATOR=newline]: TEMPLATE once per table, joined by SEPARATOR; in it @T
# stands for the table's name and @FIRST, @LAST for its first and last id.
per_table() {
  local sep=${2-$'\n'} out="" i one
  for i in "${!NAMES[@]}"; do
    one=${1//@T/${NAMES[i]}}
    one=${one//@FIRST/$((i * PER_TABLE + 1))}
    out+="${out:+$sep}${one//@LAST/$(((i + 1) * PER_TABLE))}"
  done
  printf '%s' "$out"
}

# ferry_label CHUNK P: the report's name for Ferry's copy with copy_chunk_rows CHUNK and
# copy_parallel_tables P.
ferry_label() {
  if ! $AT_ONCE; then echo "ferry, copy_chunk_rows $1"
  elif [ "$2" -eq 1 ]; then echo "ferry, copy_chunk_rows $1, 1 table at once"
  else echo "ferry, copy_chunk_rows $1, $2 tables at once"; fi
}

# report NAME SHORT SECONDS [BASELINE_SHORT BASELINE_SECONDS]...: one line, rows/s and the time
# ratio SHORT/BASELINE_SHORT for each baseline.
report() {
  local name=$1 short=$2 secs=$3
  shift 3
  awk -v n="$name" -v w="$NAME_WIDTH" -v me="$short" -v t="$secs" -v rows="$ROWS" -v rest="$*" '
  BEGIN {
    line = sprintf("  %-" w "s %8.2f s %9.0f rows/s", n, t, rows / t)
    k = split(rest, r, " ")
    for (i = 1; i + 1 <= k; i += 2) line = line sprintf("   %s/%s time %.2f", me, r[i], t / r[i + 1])
    print line }'
}

# elapsed START: seconds since START (a `date +%s.%N`).
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }'; }

# check_deadline START WHAT: exits when WHAT has taken more than TIMEOUT seconds since START.
check_deadline() {
  if awk -v t="$(elapsed "$1")" -v max="$TIMEOUT" 'BEGIN { exit !(t > max) }'; then
    echo "$2 took more than $TIMEOUT s; giving up" >&2
    exit 1
  fi
}

admin_port() { sed -n 's/^admin: 127.0.0.1://p' "$B/$1.yaml"; }

# start_agent ROLE LOG [START_VAR]: starts `ferry ROLE` on $B/ROLE.yaml, its pid in $B/ROLE.pid,
# and sets START_VAR (if given) to the time it was started. ferry_free_ports finds ports nobody
# listens on, but it draws from the ephemeral range, where an outgoing connection of this machine
# may hold the port (also in TIME_WAIT, which SO_REUSEADDR does not override for a port taken by
# connect()): an agent that cannot bind is started again on other ports.
start_agent() {
  local role=$1 log=$2 var=${3:-} pid ports
  for _ in 1 2 3 4 5; do
    if [ -n "$var" ]; then printf -v "$var" '%s' "$(date +%s.%N)"; fi
    "$FERRY" "$role" --config "$B/$role.yaml" >"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$B/$role.pid"
    # A bind error ends the agent at once; after that the address is its own.
    until curl -fs "http://127.0.0.1:$(admin_port "$role")/status" >/dev/null 2>&1; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.02
    done
    if kill -0 "$pid" 2>/dev/null || ! grep -q "already in use" "$log"; then return 0; fi
    echo "($role: a port was taken meanwhile; trying others)" >&2
    read -r -a ports <<<"$(ferry_free_ports 2)"
    sed -i -e "s/^admin: 127.0.0.1:.*/admin: 127.0.0.1:${ports[0]}/" \
      -e "s/^listen: 127.0.0.1:.*/listen: 127.0.0.1:${ports[1]}/" "$B/$role.yaml"
  done
  echo "ferry $role could not bind its ports:" >&2
  cat "$log" >&2
  exit 1
}

# time_ferry ENGINE CHUNK P SOURCE_DSN TARGET_DSN SOURCE_SCHEMA TARGET_SCHEMA CHECK_CMD...: starts a
# capture agent with copy_chunk_rows CHUNK and waits until it answers; then starts an apply agent
# (a new subscriber, and upstream, named after CHUNK and P) with copy_parallel_tables P, copying
# the tables from SOURCE_SCHEMA into the empty ones of TARGET_SCHEMA, and prints the seconds until
# its copy is done. Then runs CHECK_CMD (which exits on a wrong copy).
time_ferry() {
  local engine=$1 chunk=$2 p=$3 source_dsn=$4 target_dsn=$5 schema=$6 target_schema=$7
  shift 7
  local cap capadm appadm start state secs run="${chunk}_$p" log="$engine-${chunk}-$p.log"
  read -r cap capadm appadm <<<"$(ferry_free_ports 3)"
  cat > "$B/capture.yaml" <<YAML
node: src
source: {engine: $engine, dsn: "$source_dsn", server_id: 100}
listen: 127.0.0.1:$cap
auth_token_file: secret.token
admin: 127.0.0.1:$capadm
tables: [$(per_table "\"$schema.@T\"" ", ")]
copy_chunk_rows: $chunk
log_level: warn
YAML
  if [ "$engine" = postgres ]; then sed -i 's/, server_id: 100//' "$B/capture.yaml"; fi
  start_agent capture "$B/capture-$log"
  kill -0 "$(cat "$B/capture.pid")" 2>/dev/null ||
    { echo "ferry capture exited:" >&2; cat "$B/capture-$log" >&2; exit 1; }
  cap=$(sed -n 's/^listen: 127.0.0.1://p' "$B/capture.yaml")
  cat > "$B/apply.yaml" <<YAML
node: r$run
target: {engine: $engine, dsn: "$target_dsn"}
upstreams: [{name: src$run, address: "127.0.0.1:$cap", auth_token_file: secret.token}]
admin: 127.0.0.1:$appadm
copy_data: true
copy_parallel_tables: $p
log_level: warn
YAML
  if [ "$schema" != "$target_schema" ]; then
    echo "mappings: [$(per_table "{source: $schema.@T, target: $target_schema.@T}" ", ")]" \
      >>"$B/apply.yaml"
  fi
  start_agent apply "$B/apply-$log" start
  appadm=$(admin_port apply)
  if [ -n "${BENCH_PIDS_FILE:-}" ]; then  # for a profiler to attach to
    echo "$engine $chunk capture $(cat "$B/capture.pid") apply $(cat "$B/apply.pid") parallel $p" \
      >>"$BENCH_PIDS_FILE"
  fi
  while :; do
    state=$(curl -fs "http://127.0.0.1:$appadm/status" 2>/dev/null |
      jq -r --arg u "src$run" '.streams[$u].copy.state // ""' 2>/dev/null || true)
    [ "$state" = "done" ] && break
    check_deadline "$start" "ferry's copy (chunk $chunk, $p at once)"
    for f in "$B/capture.pid" "$B/apply.pid"; do
      kill -0 "$(cat "$f")" 2>/dev/null || {
        echo "a ferry agent exited during the copy; logs:" >&2
        tail -n 20 "$B/capture-$log" "$B/apply-$log" >&2; exit 1; }
    done
    sleep 0.1
  done
  secs=$(elapsed "$start")
  stop_agents
  "$@" >&2
  echo "$secs"
}

# run_ferry ENGINE SOURCE_DSN SOURCE_SCHEMA [BASELINE_SHORT BASELINE_SECONDS]...: times Ferry's
# copy once per chunk size in CHUNKS and value in PARALLEL, each into a new target database, and
# reports it against the baselines. Uses the engine's new_target DB, target_dsn DB,
# target_schema DB, check_copy NAME DB and after_ferry.
run_ferry() {
  local engine=$1 source_dsn=$2 schema=$3 chunk p db secs
  shift 3
  for chunk in $CHUNKS; do
    for p in $PARALLEL; do
      db="ferry${chunk}_$p"
      new_target "$db"
      secs=$(time_ferry "$engine" "$chunk" "$p" "$source_dsn" "$(target_dsn "$db")" "$schema" \
        "$(target_schema "$db")" check_copy "ferry, chunk $chunk, $p at once" "$db")
      after_ferry
      report "$(ferry_label "$chunk" "$p")" ferry "$secs" "$@"
    done
  done
}

# ---- PostgreSQL -> PostgreSQL --------------------------------------------------------------------
if [[ " $ENGINES " == *" postgres "* ]]; then
  read -r PGS PGT <<<"$(ferry_free_ports 2)"
  ferry_retry_port PGS ferry_pg_start "$B/pg-source"
  ferry_retry_port PGT ferry_pg_start "$B/pg-target"
  pg() { local port=$1 db=$2; shift 2; psql -qAt -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"; }
  TABLE_PG=$(per_table "CREATE TABLE @T (id bigint PRIMARY KEY, v int, s text, amount numeric(12,2),
  at timestamptz);")
  pg "$PGS" postgres -c "CREATE DATABASE bench"
  pg "$PGS" bench >/dev/null <<SQL
$TABLE_PG
$(per_table "INSERT INTO @T SELECT g, g % 1000, md5(g::text), (g % 100000) / 100.0,
  timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
  FROM generate_series(@FIRST, @LAST) g;")
$(per_table "VACUUM ANALYZE @T;")
CREATE PUBLICATION native_pub FOR TABLE $(per_table @T ", ");
SQL
  # new_target DB: an empty database DB holding the empty tables on the target server.
  new_target() {
    pg "$PGT" postgres -c "CREATE DATABASE $1"
    pg "$PGT" "$1" -c "$TABLE_PG"
    pg "$PGT" postgres -c "CHECKPOINT"
  }
  target_dsn() { echo "host=127.0.0.1 port=$PGT dbname=$1 user=postgres"; }
  target_schema() { echo public; }
  # after_ferry: drops the replication slots Ferry's capture agent made for its subscriber.
  after_ferry() {
    pg "$PGS" bench -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                        WHERE slot_name LIKE 'ferry%'" >/dev/null
  }
  pg_count() { pg "$PGT" "$1" -c "SELECT $(per_table "(SELECT count(*) FROM @T)" " + ")"; }
  # fingerprint PORT DB: the row count and a sum of hashes of the rows' text (and table names).
  fingerprint() {
    pg "$1" "$2" -c "SELECT count(*) || ' ' || coalesce(sum(h), 0) FROM
      ($(per_table "SELECT hashtext('@T' || r::text)::bigint AS h FROM @T r" " UNION ALL ")) u"
  }
  SOURCE_FP=$(fingerprint "$PGS" bench)
  [ "${SOURCE_FP%% *}" = "$ROWS" ] || { echo "the source holds $SOURCE_FP rows" >&2; exit 1; }
  # check_copy NAME DB: exits unless the target database DB holds exactly the source's rows.
  check_copy() {
    local fp
    fp=$(fingerprint "$PGT" "$2")
    [ "$fp" = "$SOURCE_FP" ] || { echo "$1: target (count hash) $fp, source $SOURCE_FP" >&2; exit 1; }
  }
  echo "PostgreSQL -> PostgreSQL, $WHAT (id bigint PK, v int, s text," \
    "amount numeric(12,2), at timestamptz)"

  new_target dump
  start=$(date +%s.%N)
  read -r -a tables <<<"$(per_table "-t @T" " ")"
  pg_dump -h 127.0.0.1 -p "$PGS" -U postgres --data-only "${tables[@]}" bench |
    pg "$PGT" dump >/dev/null
  T_DUMP=$(elapsed "$start")
  check_copy "pg_dump | psql" dump
  report "pg_dump --data-only | psql" dump "$T_DUMP"

  new_target native
  start=$(date +%s.%N)
  pg "$PGT" native -c "CREATE SUBSCRIPTION native_sub
    CONNECTION 'host=127.0.0.1 port=$PGS dbname=bench user=postgres'
    PUBLICATION native_pub WITH (copy_data = true)" 2>/dev/null
  # A sync commits its table's rows with state f; polling the states is cheaper than count(*).
  until [ "$(pg "$PGT" native -c "SELECT count(*) FROM pg_subscription_rel
                                  WHERE srsubstate IN ('f', 's', 'r')")" = "$TABLES" ] &&
        [ "$(pg_count native)" = "$ROWS" ]; do
    check_deadline "$start" "the native subscription's copy"
    sleep 0.1
  done
  T_NATIVE=$(elapsed "$start")
  check_copy "CREATE SUBSCRIPTION" native
  PGOPTIONS="-c client_min_messages=warning" pg "$PGT" native -c "DROP SUBSCRIPTION native_sub"
  report "CREATE SUBSCRIPTION (native)" native "$T_NATIVE" dump "$T_DUMP"

  run_ferry postgres "host=127.0.0.1 port=$PGS dbname=bench user=postgres" public \
    dump "$T_DUMP" native "$T_NATIVE"
  for n in pg-source pg-target; do ferry_pg_stop "$B/$n"; done
fi

# ---- MariaDB -> MariaDB --------------------------------------------------------------------------
if [[ " $ENGINES " == *" mariadb "* ]]; then
  read -r MS MT <<<"$(ferry_free_ports 2)"
  ferry_retry_port MS ferry_maria_start "$B/maria-source" 1
  # The target as in bench/mariadb_vs_native.sh: durable InnoDB commits, no binary log.
  ferry_retry_port MT ferry_maria_start "$B/maria-target" 2 --skip-log-bin
  my() { local port=$1; shift; mariadb --no-defaults -h 127.0.0.1 -P "$port" -u root -N -B "$@"; }
  TABLE_MY=$(per_table "CREATE TABLE @T (id bigint PRIMARY KEY, v int, s varchar(64),
    amount decimal(12,2), at timestamp(6) NULL);")
  my "$MS" >/dev/null <<SQL
CREATE DATABASE bench;
USE bench;
$TABLE_MY
$(per_table "INSERT INTO @T SELECT seq, seq % 1000, md5(seq), (seq % 100000) / 100.0,
  TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_@FIRST_to_@LAST;")
ANALYZE TABLE $(per_table @T ", ");
SQL
  new_target() { my "$MT" -e "CREATE DATABASE $1; USE $1; $TABLE_MY"; }
  target_dsn() { echo "host=127.0.0.1 port=$MT user=root dbname=$1"; }
  target_schema() { echo "$1"; }
  # after_ferry: drops the database where Ferry's apply agent kept its checkpoint and progress.
  after_ferry() { my "$MT" -e "DROP DATABASE IF EXISTS ferry_meta"; }
  # fingerprint PORT DB: the row count and CHECKSUM TABLE of each table (the same table
  # definition on both).
  fingerprint() {
    echo "$(my "$1" "$2" -e "SELECT $(per_table "(SELECT count(*) FROM @T)" " + ")")" \
      "$(my "$1" "$2" -e "CHECKSUM TABLE $(per_table @T ", ")" | cut -f2 | paste -sd ' ')"
  }
  SOURCE_FP=$(fingerprint "$MS" bench)
  [ "${SOURCE_FP%% *}" = "$ROWS" ] || { echo "the source holds $SOURCE_FP rows" >&2; exit 1; }
  check_copy() {
    local fp
    fp=$(fingerprint "$MT" "$2")
    [ "$fp" = "$SOURCE_FP" ] || { echo "$1: target (count checksum) $fp, source $SOURCE_FP" >&2; exit 1; }
  }
  echo "MariaDB -> MariaDB, $WHAT (id bigint PK, v int, s varchar(64)," \
    "amount decimal(12,2), at timestamp(6))"

  new_target dump
  start=$(date +%s.%N)
  read -r -a tables <<<"$(per_table @T " ")"
  mariadb-dump --no-defaults -h 127.0.0.1 -P "$MS" -u root --no-create-info --single-transaction \
    bench "${tables[@]}" | my "$MT" dump
  T_DUMP=$(elapsed "$start")
  check_copy "mariadb-dump | mariadb" dump
  report "mariadb-dump | mariadb" dump "$T_DUMP"

  run_ferry mariadb "host=127.0.0.1 port=$MS user=root dbname=bench" bench dump "$T_DUMP"
fi
