#!/usr/bin/env bash
# Benchmark (not a test): catch-up. A replica that was stopped while the source kept writing
# drains the backlog; Ferry against the engine's native replication, measured in the same run on
# the same machine (machines here are shared and noisy, so only the ratio means anything).
#
# Per engine pair, one source feeds two replicas: "native" (PostgreSQL: CREATE SUBSCRIPTION;
# MariaDB: GTID replication, replicas with --skip-log-bin and durable commits) and "ferry"
# (ferry capture + ferry apply with their default settings). Each round runs every workload as
# one step:
#   1. prepare (not timed): empty t, load the rows the workload changes, both replicas caught up;
#   2. pause both: the native replica (PostgreSQL: ALTER SUBSCRIPTION ... DISABLE, until its
#      walsender has gone; MariaDB: STOP SLAVE) and Ferry's apply agent (SIGTERM; the capture
#      agent keeps running, and its slot keeps the WAL / it reads the binlog from its position);
#   3. write the backlog on the source;
#   4. resume one replica alone and time until it holds the backlog, then the other (one at a time,
#      so that they do not share the CPU; which one goes first alternates between rounds). After
#      each drain the replica's row count and checksum must equal the source's, or the script fails.
# Workloads:
#   bulk   ROWS rows inserted in transactions of 10,000 rows                        (rows/s)
#   small  TXNS one-row INSERT transactions                                         (txn/s)
#   mixed  MIXED_TXNS transactions, each an UPDATE of one existing row and a DELETE of another
#                                                                                   (txn/s)
# Cross-engine pairs (PAIRS, e.g. "postgres>mariadb mariadb>postgres"): one source of the first
# engine feeds a Ferry replica of the second; there is no native replica, so each step has one
# drain. After the same-engine runs, and with the backlog sizes of the target engine, they report
# Ferry's throughput and, per round, its ratio to the same round's Ferry and native figures of the
# target engine's same-engine run (PostgreSQL → MariaDB against MariaDB → MariaDB): list the
# target engine in ENGINES for those. The gate's checksum is the same on both engines (see
# pg_fingerprint).
# Prints a Markdown table (per engine and workload: median and min-max over the rounds of native
# and Ferry throughput and of their per-round ratio, the Ferry agents' peak RSS during their
# drains, and the median CPU seconds the drains cost each process: where the time goes) and writes
# every round to a CSV file.
#
# Usage: [ROUNDS=3] [ENGINES="postgres mariadb"] [WORKLOADS="bulk small mixed"] [PAIRS=...] bench/catchup.sh
#   ROWS=N              bulk rows (default 1000000)
#   TXNS=N              small transactions (default: PostgreSQL 200000, MariaDB 20000; a pair
#                       takes its target engine's)
#   PG_TXNS=N, MY_TXNS=N  the default of TXNS for one engine (PostgreSQL, MariaDB) only
#   MIXED_TXNS=N        mixed transactions (default: TXNS)
#   FERRY=/path/to/ferry            the binary to measure (default build/cli/ferry)
#   FERRY_APPLY_EXTRA="key: value"  YAML lines appended to apply.yaml (tuning experiments)
#   FERRY_TLS=1         the stream between the agents over mutual TLS (the README's setup), to
#                       measure what TLS costs against a run without it
#   CSV=FILE            where the rounds go (default /tmp/ferry-catchup-DATE.csv; the Markdown
#                       table is written beside it, .md)
#   TIMEOUT=1800        seconds one drain may take before the benchmark gives up
#   REPORT=FILE.csv     runs nothing: prints the Markdown table of an earlier run's CSV
#   PG_NATIVE_SYNCHRONOUS_COMMIT=on  the native subscription's synchronous_commit (default:
#                       PostgreSQL's, off, which does not wait for the disk at each commit; so does
#                       Ferry's apply agent by default: target.synchronous_commit in apply.yaml)
set -euo pipefail
if [ -n "${FERRY:-}" ]; then FERRY=$(realpath "$FERRY"); fi
if [ -n "${CSV:-}" ]; then CSV=$(realpath "$CSV"); fi
if [ -n "${REPORT:-}" ]; then REPORT=$(realpath "$REPORT"); fi
cd "$(dirname "$0")/.."
source scripts/lib/ports.sh
source scripts/lib/postgres.sh
source scripts/lib/mariadb.sh
source scripts/lib/bench.sh
FERRY=${FERRY:-$PWD/build/cli/ferry}
[ -n "${REPORT:-}" ] || [ -x "$FERRY" ] || { echo "build first (scripts/test.sh or cmake --build build), or set FERRY" >&2; exit 1; }
ROUNDS=${ROUNDS:-3}
ENGINES=${ENGINES:-postgres mariadb}
PAIRS=${PAIRS:-}
WORKLOADS=${WORKLOADS:-bulk small mixed}
ROWS=${ROWS:-1000000}
USER_TXNS=${TXNS:-} USER_MIXED_TXNS=${MIXED_TXNS:-}  # the defaults depend on the engine
TIMEOUT=${TIMEOUT:-1800}
CSV=${CSV:-/tmp/ferry-catchup-$(date +%Y%m%d-%H%M%S).csv}
BULK_TXN_ROWS=10000
for e in $ENGINES; do
  case $e in postgres | mariadb) ;; *) echo "unknown engine $e" >&2; exit 2 ;; esac
done
for p in $PAIRS; do
  case $p in postgres\>mariadb | mariadb\>postgres) ;; *) echo "unknown pair $p (postgres>mariadb or mariadb>postgres)" >&2; exit 2 ;; esac
done
for w in $WORKLOADS; do
  case $w in bulk | small | mixed) ;; *) echo "unknown workload $w" >&2; exit 2 ;; esac
done

B=$(mktemp -d /tmp/ferry-bench-XXXXXX)
chmod 755 "$B"  # PostgreSQL runs as the postgres user when we are root
WAITER=
cleanup() {
  local status=$?
  if [ -n "$WAITER" ]; then kill "$WAITER" 2>/dev/null || true; fi
  ferry_bench_cleanup "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
(umask 077; echo "bench-token-0123456789" >"$B/secret.token")  # private, 16 bytes or more: ferry refuses less

die() { echo "FAILED: $*" >&2; exit 1; }
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'; }
cpu_seconds() { awk -v s="$1" -v e="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (e - s) / hz }'; }
# The servers are called source, native and ferry (a cross-engine pair has no native); PORT[name]
# is the TCP port the replication connections use, ENG[name] the prefix (pg, my) of its engine's
# functions below. The script's own SQL goes over Unix sockets (ferry_bench_pg,
# ferry_bench_my): thousands of short TCP connections would leave their ports in TIME_WAIT, where
# the agents' next ports come from.
declare -A PORT ENG sizes
# server_dir NAME: the data directory of server NAME.
server_dir() { echo "$B/${ENG[$1]}-$1"; }

# ---- PostgreSQL ----------------------------------------------------------------------------------
# Each engine provides the functions listed in use_pair, prefixed pg_ or my_. Those whose first
# argument is a server name run on that server; the others on the source, or (settle) on every
# server of the engine (the list: servers_of pg|my).

pg_run() { ferry_bench_pg "$1" -c "$2"; }
# The backlog is written with synchronous_commit off: it only makes the (untimed) writing faster;
# the WAL the replicas read is the same.
pg_feed() { PGOPTIONS="-c synchronous_commit=off" ferry_bench_pg source -f "$1" >/dev/null; }
pg_series_insert() {
  echo "INSERT INTO t SELECT g, g % 100, md5(g::text) FROM generate_series($1, $2) g;"
}
# pg_fingerprint NAME: "COUNT MD5", as my_fingerprint computes it, so that a replica of the other
# engine can be compared: the md5 of the md5s of chunks of 10,000 ids, each of the rows' "id:v:s"
# joined by commas in id order. (In chunks: MariaDB's GROUP_CONCAT is cut at max_allowed_packet,
# 16 MB by default, which a million rows exceed.)
pg_fingerprint() {
  pg_run "$1" "SELECT coalesce(sum(n), 0) || ' ' || coalesce(md5(string_agg(h, ',' ORDER BY c)), '-')
    FROM (SELECT id / 10000 AS c, count(*) AS n,
                 md5(string_agg(id || ':' || v || ':' || s, ',' ORDER BY id)) AS h
          FROM t GROUP BY 1) chunks"
}
# pg_wait_marker NAME N: returns once the marker row holds N, polling inside the server (one
# connection instead of a client process every few milliseconds beside the replica being timed).
# The COMMIT in the loop takes a fresh snapshot each time and holds no lock on t in between (the
# replica must be able to TRUNCATE it).
pg_wait_marker() {
  pg_run "$1" "DO \$\$ BEGIN
    WHILE coalesce((SELECT v FROM t WHERE id = 0), -1) <> $2 LOOP
      COMMIT; PERFORM pg_sleep(0.02);
    END LOOP; END \$\$"
}
pg_native_pause() {
  pg_run native "ALTER SUBSCRIPTION native_sub DISABLE"
  # The apply worker exits at its next look at the subscription; its walsender then frees the slot.
  until [ "$(pg_run source "SELECT active FROM pg_replication_slots WHERE slot_name = 'native_sub'")" = f ]; do
    sleep 0.05
  done
}
pg_native_resume() { pg_run native "ALTER SUBSCRIPTION native_sub ENABLE"; }
# pg_settle: no drain pays for what came before it: VACUUM ANALYZE (autovacuum would otherwise
# run it in the middle of the next drain) and CHECKPOINT (writes the dirty buffers) everywhere.
pg_settle() {
  local n
  for n in $(servers_of pg); do ferry_bench_pg "$n" -c "VACUUM ANALYZE t" -c "CHECKPOINT"; done
}

# pg_start_servers: this engine's servers (servers_of pg), each with table t, and the native
# subscription to t. (Its wal_retrieve_retry_interval of 50 ms: with the default 5 s, every
# resume waited 5 s before a row moved, which is not catch-up speed.)
pg_start_servers() {
  FERRY_BENCH_SERVERS=$(servers_of pg) \
    FERRY_BENCH_SCHEMA="CREATE TABLE t (id bigint PRIMARY KEY, v int, s text)" ferry_bench_pg_servers
  if [ "${ENG[native]:-}" = pg ]; then ferry_bench_pg_subscribe t; fi
}
pg_table() { echo public.t; }
pg_default_txns() { echo "${PG_TXNS:-200000}"; }
pg_describe() {
  echo "native: CREATE SUBSCRIPTION, synchronous_commit ${PG_NATIVE_SYNCHRONOUS_COMMIT:-off};" \
    "ferry: apply with its default configuration (FERRY_APPLY_EXTRA: ${FERRY_APPLY_EXTRA:-none})"
}

# ---- MariaDB -------------------------------------------------------------------------------------

my_run() { ferry_bench_my "$1" -e "$2"; }
my_feed() { ferry_bench_my source <"$1"; }
my_series_insert() { echo "INSERT INTO t SELECT seq, seq % 100, md5(seq) FROM seq_$1_to_$2;"; }
my_fingerprint() {
  my_run "$1" "SET SESSION group_concat_max_len = 16777216;
    SELECT CONCAT(COALESCE(SUM(n), 0), ' ', COALESCE(MD5(GROUP_CONCAT(h ORDER BY c SEPARATOR ',')), '-'))
    FROM (SELECT id DIV 10000 AS c, COUNT(*) AS n,
                 MD5(GROUP_CONCAT(CONCAT(id, ':', v, ':', s) ORDER BY id SEPARATOR ',')) AS h
          FROM t GROUP BY c) chunks"
}
# As pg_wait_marker. Under READ COMMITTED every SELECT sees the latest commits; in autocommit
# mode each statement of the block is its own transaction, so no lock is held in between.
my_wait_marker() {
  ferry_bench_my "$1" <<SQL
SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;
DELIMITER //
BEGIN NOT ATOMIC
  WHILE COALESCE((SELECT v FROM t WHERE id = 0), -1) <> $2 DO DO SLEEP(0.02); END WHILE;
END//
SQL
}
my_native_pause() { my_run native "STOP SLAVE"; }
my_native_resume() { my_run native "START SLAVE"; }
# my_settle: as pg_settle. InnoDB has no CHECKPOINT statement: let the page cleaner write every
# dirty page (innodb_max_dirty_pages_pct 0 meanwhile) and purge catch up, for up to 60 s.
my_settle() {
  local n tries=0 left
  for n in $(servers_of my); do my_run "$n" "SET GLOBAL innodb_max_dirty_pages_pct = 0"; done
  while :; do
    left=0
    for n in $(servers_of my); do
      left=$((left + $(my_run "$n" "SELECT SUM(VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS
        WHERE VARIABLE_NAME IN ('INNODB_BUFFER_POOL_PAGES_DIRTY', 'INNODB_HISTORY_LIST_LENGTH')")))
    done
    [ "$left" -lt 100 ] && break
    tries=$((tries + 1))
    if [ "$tries" -ge 300 ]; then echo "(settle: $left dirty pages and undo logs left after 60 s)" >&2; break; fi
    sleep 0.2
  done
  for n in $(servers_of my); do my_run "$n" "SET GLOBAL innodb_max_dirty_pages_pct = DEFAULT"; done
}

# my_start_servers: this engine's servers, each with table t, the native replica following the source.
# The source does not flush its redo log at every commit: only the (untimed) writing of the
# backlog gets faster; its binary log is the same. Both replicas alike: durable InnoDB commits
# (the default), no binary log of their own.
my_start_servers() {
  FERRY_BENCH_SERVERS=$(servers_of my) \
    FERRY_BENCH_SCHEMA="CREATE TABLE t (id bigint PRIMARY KEY, v int, s varchar(64))" \
    ferry_bench_my_servers --innodb-flush-log-at-trx-commit=2
}
my_table() { echo bench.t; }
my_default_txns() { echo "${MY_TXNS:-20000}"; }
my_describe() { echo "native: GTID replication; both replicas --skip-log-bin, innodb_flush_log_at_trx_commit 1"; }

# prefix postgres|mariadb: pg or my.
prefix() { case $1 in postgres) echo pg ;; mariadb) echo my ;; esac; }

# use_pair SOURCE>TARGET (or one engine, for both): sets ENG, REPLICAS (the replicas each step
# drains: native and ferry, or ferry alone across engines) and TARGET (the target's engine), and
# binds the generic names the steps below use to the engines' functions.
use_pair() {
  local src dst f
  src=$(prefix "${1%%>*}") dst=$(prefix "${1#*>}") TARGET=${1#*>}
  ENG=([source]=$src [ferry]=$dst)
  REPLICAS=ferry
  if [ "$src" = "$dst" ]; then ENG[native]=$src REPLICAS="native ferry"; fi
  for f in run fingerprint wait_marker; do eval "$f() { \"\${ENG[\$1]}_$f\" \"\$@\"; }"; done
  for f in feed series_insert describe native_pause native_resume table; do
    eval "$f() { ${src}_$f \"\$@\"; }"
  done
  eval "target_table() { ${dst}_table; }"
  eval "default_txns() { ${dst}_default_txns; }"
  # The engines' settle and start_servers: each on its own servers (one engine: once).
  for f in settle start_servers; do
    eval "$f() { ${src}_$f; if [ $dst != $src ]; then ${dst}_$f; fi; }"
  done
}

# servers_of pg|my: the names of the servers of that engine.
servers_of() {
  local n names=()
  for n in source native ferry; do [ "${ENG[$n]:-}" != "$1" ] || names+=("$n"); done
  echo "${names[*]}"
}

# ---- one step: prepare, pause, backlog, drains ---------------------------------------------------

# The marker: row id 0 of t, whose v the source sets to a new number MARK as the last transaction
# of every phase. Both kinds of replica apply the source's transactions one by one in commit
# order, so a replica that shows MARK holds everything before it; the count and checksum that
# follow every wait check exactly that.
MARK=0
next_mark() { MARK=$((MARK + 1)); run source "UPDATE t SET v = $MARK WHERE id = 0"; }

# gate NAME: fails the benchmark unless table t on replica NAME has the source's count and
# checksum (EXPECTED).
gate() {
  local got
  got=$(fingerprint "$1")
  [ "$got" = "$EXPECTED" ] ||
    die "$ENGINE: the $1 replica differs from the source: (count checksum) $got, source $EXPECTED"
}

# write_series FILE FROM TO: the bulk insert of ids FROM..TO, in transactions of BULK_TXN_ROWS.
write_series() {
  local file=$1 a=$2 to=$3
  : >"$file"
  for ((; a <= to; a += BULK_TXN_ROWS)); do
    series_insert "$a" $((a + BULK_TXN_ROWS - 1 < to ? a + BULK_TXN_ROWS - 1 : to)) >>"$file"
  done
}

# prepare WORKLOAD: t holds the marker row (and for mixed the rows the workload changes: ids
# 1..2*MIXED_TXNS), on the replicas too. A fresh table each step keeps the rounds alike and the
# checksums small.
prepare() {
  local r
  run source "TRUNCATE t"
  run source "INSERT INTO t VALUES (0, 0, 'marker')"
  if [ "$1" = mixed ]; then
    write_series "$B/seed.sql" 1 $((2 * MIXED_TXNS))
    feed "$B/seed.sql"
  fi
  next_mark
  EXPECTED=$(fingerprint source)
  for r in $REPLICAS; do wait_marker "$r" "$MARK" >/dev/null; done
  for r in $REPLICAS; do gate "$r"; done
}

pause_replicas() {
  if [ -n "${ENG[native]:-}" ]; then native_pause; fi
  ferry_bench_stop_pid "$(cat "$B/apply.pid")"
}

# write_backlog WORKLOAD: writes the workload on the source; sets AMOUNT and UNIT (what the
# throughput counts).
write_backlog() {
  case $1 in
    bulk)
      write_series "$B/backlog.sql" 1 "$ROWS"
      AMOUNT=$ROWS UNIT=rows ;;
    small)  # one autocommit INSERT a line
      awk -v n="$TXNS" 'BEGIN { for (i = 1; i <= n; i++)
        printf "INSERT INTO t VALUES (%d, %d, '\''row-%d'\'');\n", i, i % 100, i }' >"$B/backlog.sql"
      AMOUNT=$TXNS UNIT=txn ;;
    mixed)  # transaction i updates row 2i-1 and deletes row 2i of the seeded rows
      awk -v n="$MIXED_TXNS" 'BEGIN { for (i = 1; i <= n; i++)
        printf "BEGIN; UPDATE t SET v = v + 1, s = '\''updated-%d'\'' WHERE id = %d; DELETE FROM t WHERE id = %d; COMMIT;\n",
               i, 2 * i - 1, 2 * i }' >"$B/backlog.sql"
      AMOUNT=$MIXED_TXNS UNIT=txn ;;
  esac
  feed "$B/backlog.sql"
  next_mark
  EXPECTED=$(fingerprint source)
}

# drain native|ferry: resumes that replica alone and sets SECS to the time until it shows MARK,
# then the gate. For ferry also sets CAPTURE_KB and APPLY_KB, the agents' peak RSS meanwhile, and
# CPU_CAPTURE, CPU_APPLY, CPU_SOURCE and CPU_TARGET, the CPU seconds each used meanwhile (the
# source's and Ferry's target server's; for native, only CPU_SOURCE and CPU_TARGET, its replica's).
drain() {
  local who=$1 start deadline capture_ticks source_ticks target_ticks
  settle
  [ "$who" = ferry ] && ferry_bench_reset_peak_rss "$(cat "$B/capture.pid")"
  [ "$who" = ferry ] && capture_ticks=$(ferry_bench_cpu_ticks "$(cat "$B/capture.pid")")
  source_ticks=$(ferry_bench_server_cpu_ticks "$(server_dir source)")
  target_ticks=$(ferry_bench_server_cpu_ticks "$(server_dir "$who")")
  # The waiter notes the time it saw the marker, so that the checks below cannot add to SECS.
  rm -f "$B/drained"
  (wait_marker "$who" "$MARK" >/dev/null && date +%s.%N >"$B/drained") &
  WAITER=$!
  if [ "$who" = native ]; then
    start=$(date +%s.%N)
    native_resume
  else
    ferry_bench_start_agent apply || exit 1
    start=$FERRY_BENCH_STARTED
  fi
  deadline=$((SECONDS + TIMEOUT))
  while kill -0 "$WAITER" 2>/dev/null; do
    if [ "$who" = ferry ] && ! kill -0 "$(cat "$B/apply.pid")" 2>/dev/null; then
      tail -n 20 "$B/apply.log" >&2
      die "ferry apply exited during the drain"
    fi
    [ "$SECONDS" -le "$deadline" ] || die "the $who drain took more than $TIMEOUT s"
    sleep 0.2
  done
  wait "$WAITER" || die "waiting for the $who replica failed"
  WAITER=
  SECS=$(elapsed "$start" "$(cat "$B/drained")")
  CPU_SOURCE=$(cpu_seconds "$source_ticks" "$(ferry_bench_server_cpu_ticks "$(server_dir source)")")
  CPU_TARGET=$(cpu_seconds "$target_ticks" "$(ferry_bench_server_cpu_ticks "$(server_dir "$who")")")
  if [ "$who" = ferry ]; then
    CAPTURE_KB=$(ferry_bench_peak_rss_kb "$(cat "$B/capture.pid")")
    APPLY_KB=$(ferry_bench_peak_rss_kb "$(cat "$B/apply.pid")")
    CPU_CAPTURE=$(cpu_seconds "$capture_ticks" "$(ferry_bench_cpu_ticks "$(cat "$B/capture.pid")")")
    CPU_APPLY=$(cpu_seconds 0 "$(ferry_bench_cpu_ticks "$(cat "$B/apply.pid")")")
    FERRY_CPU="$CPU_CAPTURE,$CPU_APPLY,$CPU_SOURCE,$CPU_TARGET"
  else
    NATIVE_CPU="$CPU_SOURCE,$CPU_TARGET"
  fi
  gate "$who"
}

# step ROUND WORKLOAD: one measurement of the replicas; appends a line to the CSV and prints it.
step() {
  local round=$1 workload=$2 order who native_s='' ferry_s
  prepare "$workload"
  pause_replicas
  write_backlog "$workload"
  # Odd rounds drain native first, even rounds Ferry first: whatever the first drain leaves
  # behind favours neither side overall.
  order=$REPLICAS NATIVE_CPU=,
  if [ -n "${ENG[native]:-}" ] && [ $((round % 2)) -eq 0 ]; then order="ferry native"; fi
  for who in $order; do
    drain "$who"
    printf -v "${who}_s" '%s' "$SECS"
  done
  record "$round" "$workload" "${order%% *}" "$native_s" "$ferry_s"
}

# target_figure ROUND WORKLOAD N: field N of the CSV line of the target engine's same-engine run
# for that round and workload (empty if there is none).
target_figure() {
  awk -F, -v e="$TARGET" -v r="$1" -v w="$2" -v c="$3" '$1 == e && $2 == w && $3 == r { print $c }' "$CSV"
}

# record ROUND WORKLOAD FIRST NATIVE_S FERRY_S: the CSV line of one step (throughput AMOUNT/s and
# Ferry's over native's; a cross-engine pair has no native figures), appended to the CSV and
# printed. With PAIRS, two more fields: a pair's Ferry throughput over the same round's Ferry and
# native throughput of its target engine (empty on the same-engine lines).
record() {
  local line
  line=$(awk -v OFS=, -v e="$ENGINE" -v w="$2" -v r="$1" -v first="$3" -v u="$UNIT" -v a="$AMOUNT" \
    -v ns="$4" -v fs="$5" -v cap="$CAPTURE_KB" -v app="$APPLY_KB" -v fc="$FERRY_CPU" \
    -v nc="$NATIVE_CPU" 'BEGIN {
      print e, w, r, first, u, a, ns, (ns == "" ? "" : sprintf("%.0f", a / ns)), fs,
            sprintf("%.0f", a / fs), (ns == "" ? "" : sprintf("%.3f", ns / fs)), cap, app, fc, nc }')
  if [ -n "$PAIRS" ]; then
    if [ -n "${ENG[native]:-}" ]; then
      line+=",,"
    else
      line+=$(awk -v a="$AMOUNT" -v fs="$5" -v tf="$(target_figure "$1" "$2" 10)" \
        -v tn="$(target_figure "$1" "$2" 8)" 'function ratio(x) { return x == "" ? "" : sprintf("%.3f", a / fs / x) }
        BEGIN { printf ",%s,%s", ratio(tf), ratio(tn) }')
    fi
  fi
  echo "$line" >>"$CSV"
  awk -F, '$7 != "" { printf "  round %s %-5s native %7.2f s %8s %s/s   ferry %7.2f s %8s %s/s   ferry/native %.2f   peak RSS capture %d MB, apply %d MB\n",
    $3, $2, $7, $8, $5, $9, $10, $5, $11, $12 / 1024, $13 / 1024
    printf "          CPU s: ferry capture %s, apply %s, source %s, target %s; native source %s, replica %s\n",
    $14, $15, $16, $17, $18, $19 }
    $7 == "" { printf "  round %s %-5s ferry %7.2f s %8s %s/s   over the target engine'"'"'s ferry %s, native %s   peak RSS capture %d MB, apply %d MB\n",
    $3, $2, $9, $10, $5, $20 == "" ? "?" : $20, $21 == "" ? "?" : $21, $12 / 1024, $13 / 1024
    printf "          CPU s: ferry capture %s, apply %s, source %s, target %s\n", $14, $15, $16, $17 }' <<<"$line"
}

# ---- report --------------------------------------------------------------------------------------

# column ENGINE WORKLOAD N: field N of that pair's rounds in the CSV, one a line.
column() { awk -F, -v e="$1" -v w="$2" -v c="$3" 'NR > 1 && $1 == e && $2 == w { print $c }' "$CSV"; }

# median ENGINE WORKLOAD N: the median of field N over that pair's rounds ("?" in a CSV without it).
median() { column "$1" "$2" "$3" | grep . | ferry_bench_median_range | awk '{ printf "%.2f", $1 }' || echo "?"; }

# cell KIND: "MEDIAN (MIN–MAX)" of the numbers on stdin (ferry_bench_fmt_range KIND, always with
# the range), "–" when there are none (a pair's native figures).
cell() {
  local numbers
  numbers=$(grep . || true)
  if [ -z "$numbers" ]; then echo "–"; return; fi
  ferry_bench_median_range <<<"$numbers" | ferry_bench_fmt_range "$1" full
}

# summary: the Markdown table of every engine and workload in the CSV.
summary() {
  local engine workload unit amount backlog native ferry ratio rss cpu pairs=
  if [ -n "$PAIRS" ]; then
    pairs=" Ferry / target engine's same-engine Ferry | Ferry / target engine's native |"
  fi
  echo "| | workload | backlog | native | Ferry | Ferry/native throughput | Ferry peak RSS capture / apply | CPU s of a drain: Ferry capture / apply / target; native replica |$pairs"
  echo "|---|---|---|---|---|---|---|---|${pairs:+---|---|}"
  for engine in $ENGINES $PAIRS; do
    for workload in $WORKLOADS; do
      [ -n "$(column "$engine" "$workload" 1)" ] || continue
      unit=$(column "$engine" "$workload" 5 | head -n 1)
      amount=$(column "$engine" "$workload" 6 | head -n 1 | ferry_bench_commas)
      case $workload in
        bulk) backlog="$amount rows, $(ferry_bench_commas <<<"$BULK_TXN_ROWS") a transaction" ;;
        small) backlog="$amount one-row INSERT transactions" ;;
        mixed) backlog="$amount transactions of UPDATE + DELETE" ;;
      esac
      native=$(column "$engine" "$workload" 8 | cell rate)
      if [ "$native" != "–" ]; then native+=" $unit/s"; fi
      ferry=$(column "$engine" "$workload" 10 | cell rate)
      ratio=$(column "$engine" "$workload" 11 | cell ratio)
      rss="$(column "$engine" "$workload" 12 | sort -g | tail -n 1 | awk '{ printf "%d", $1 / 1024 }') / $(
        column "$engine" "$workload" 13 | sort -g | tail -n 1 | awk '{ printf "%d", $1 / 1024 }') MB"
      cpu="$(median "$engine" "$workload" 14) / $(median "$engine" "$workload" 15) / $(
        median "$engine" "$workload" 17); $(if [ "$native" = "–" ]; then echo "–"; else median "$engine" "$workload" 19; fi)"
      if [ -n "$PAIRS" ]; then
        pairs=" $(column "$engine" "$workload" 20 | cell ratio) | $(column "$engine" "$workload" 21 | cell ratio) |"
      fi
      echo "| $(ferry_bench_engine_title "$engine") | $workload | $backlog | $native | $ferry $unit/s | $ratio | $rss | $cpu |$pairs"
    done
  done
}

# ---- run -----------------------------------------------------------------------------------------

if [ -n "${REPORT:-}" ]; then
  CSV=$REPORT
  summary
  exit 0
fi

header="engine,workload,round,first,unit,amount,native_s,native_per_s,ferry_s,ferry_per_s,ferry_native_ratio,ferry_capture_peak_kb,ferry_apply_peak_kb,ferry_capture_cpu_s,ferry_apply_cpu_s,ferry_source_cpu_s,ferry_target_cpu_s,native_source_cpu_s,native_replica_cpu_s"
if [ -n "$PAIRS" ]; then header+=",ferry_target_ferry_ratio,ferry_target_native_ratio"; fi
echo "$header" >"$CSV"
echo "ferry: $FERRY ($("$FERRY" --version)); rounds: $ROUNDS; workloads: $WORKLOADS"
for ENGINE in $ENGINES $PAIRS; do
  use_pair "$ENGINE"
  TXNS=${USER_TXNS:-$(default_txns)}
  MIXED_TXNS=${USER_MIXED_TXNS:-$TXNS}
  start_servers
  apply_extra=${FERRY_APPLY_EXTRA:-}
  # Across engines the table's name changes: public.t on PostgreSQL, bench.t on MariaDB.
  if [ "$(table)" != "$(target_table)" ]; then
    apply_extra=$(printf 'mappings: [{source: %s, target: %s}]\n%s' "$(table)" "$(target_table)" "$apply_extra")
  fi
  FERRY_APPLY_EXTRA=$apply_extra ferry_bench_start_ferry "[\"$(table)\"]"
  sizes=([bulk]="bulk $ROWS rows" [small]="small $TXNS transactions" [mixed]="mixed $MIXED_TXNS transactions")
  echo "$(ferry_bench_engine_title "$ENGINE"): $(for w in $WORKLOADS; do printf '%s; ' "${sizes[$w]}"; done | sed 's/; $//')"
  if [ -n "${ENG[native]:-}" ]; then
    echo "  $(describe)"
  else
    echo "  no native replica; ferry: apply with its default configuration and the mapping" \
      "$(table) -> $(target_table) (FERRY_APPLY_EXTRA: ${FERRY_APPLY_EXTRA:-none})"
  fi
  for round in $(seq 1 "$ROUNDS"); do
    for workload in $WORKLOADS; do step "$round" "$workload"; done
  done
  ferry_bench_stop_ferry
  ferry_bench_stop_servers
  rm -rf "$B"/pg-* "$B"/my-*  # the next run starts its servers afresh, some under the same names
done

summary >"${CSV%.csv}.md"
echo
cat "${CSV%.csv}.md"
echo
echo "every round: $CSV (this table: ${CSV%.csv}.md)"
