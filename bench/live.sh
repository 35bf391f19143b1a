#!/usr/bin/env bash
# Benchmark (not a test): live replication under a real client's load. Ferry against the engine's
# native replication, both replicating the same source at the same time on the same machine
# (machines here are shared and noisy: compare the two columns of one run, not runs).
#
# Per engine pair, one source feeds two replicas at once: "native" (PostgreSQL: CREATE
# SUBSCRIPTION, synchronous_commit off as its default; MariaDB: GTID replication, one SQL thread
# as the default) and "ferry" (ferry capture + ferry apply with their default settings). Both
# replicas keep the engine's defaults (MariaDB: durable InnoDB commits, no binary log of their own).
#   PostgreSQL  pgbench -i -s PG_SCALE, then `pgbench -n -c CLIENTS -j 2 -T DURATION` (TPC-B-like).
#               Replicated: pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history.
#               pgbench_history has no primary key, and a keyless table replicates only with
#               REPLICA IDENTITY FULL (and Ferry copies it in one chunk): the script gives it one on
#               the source before the replicas are made, `ALTER TABLE pgbench_history ADD COLUMN
#               id bigserial PRIMARY KEY`; the replicas' tables are the source's (pg_dump
#               --schema-only). pgbench's INSERT names its columns, so the load is unchanged.
#               `-n`: pgbench's own pre-run VACUUM and TRUNCATE pgbench_history are left out.
#   MariaDB     sysbench oltp_write_only prepared with SB_TABLES tables of SB_TABLE_SIZE rows
#               (the native replica gets them through the binary log, Ferry by its initial copy),
#               then run with --threads=CLIENTS --time=DURATION. Replicated: every sbtest table.
# The true lag of each replica is measured apart from Ferry, as pt-heartbeat does: a heartbeat
# table ferry_hb (one row: id 1, ts) that a loop inside the source server sets to its clock every
# 100 ms, replicated to both replicas like the load's tables. A replica's true lag is its clock
# (the same machine's) minus the ts it holds: 0.0–0.1 s when it keeps up.
#
# Each round: the load runs DURATION seconds; meanwhile and after it, every 0.5 s, a sampler
# records both replicas' true lag and Ferry's own figure (the apply agent's GET /lag,
# streams.src.lag_seconds). When the load stops, a replica counts as caught up at the first
# look (every 0.1 s) at which it holds a heartbeat written after the load's end (so every
# transaction of the load, since both replicas apply in the source's commit order) and its true
# lag is under 1 s. Then the gate: each replicated table's row count and checksum must equal the
# source's on both replicas, or the benchmark fails.
# Reported per engine and replica: the load's throughput (tps from pgbench/sysbench; one load
# feeds both replicas), the true lag when the load stopped, the time from the load's end until
# caught up, the true lag's p50/p99/max during the load (samples every 0.5 s), and for Ferry the
# largest difference between its reported lag and the true lag (for the lag-reporting issue).
# Prints a Markdown table (median and min–max over the rounds when there are several) and
# writes OUT.md, OUT-rounds.csv (one line per engine and round), OUT-samples.csv (every sample:
# engine, round, seconds since the load started, phase, native true lag, Ferry true lag, Ferry
# reported lag) and OUT-ENGINE-rROUND.png (gnuplot: the three series over time).
#
# Usage: [ENGINES="postgres mariadb"] [DURATION=30] [CLIENTS=8] [ROUNDS=1] bench/live.sh
#   FERRY=/path/to/ferry            the binary to measure (default build/cli/ferry)
#   FERRY_APPLY_EXTRA="key: value"  YAML lines appended to apply.yaml (tuning experiments)
#   FERRY_TLS=1         the stream between the agents over mutual TLS (the README's setup), to
#                       measure what TLS costs against a run without it
#   PG_SCALE=8                      pgbench scale (100,000 pgbench_accounts rows each)
#   SB_TABLES=4 SB_TABLE_SIZE=100000  sysbench tables and rows per table
#   RATE=                           the load's rate in transactions/s, all clients together:
#                                   empty (default) as fast as the clients go; N: N tps
#                                   (pgbench -R, sysbench --rate); P%: P % of what the source
#                                   sustains, measured per engine by one unthrottled calibration
#                                   load of DURATION before the rounds (replicas caught up and
#                                   gated after it, not reported). RATE=80% is the steady load
#                                   of issue 9's p99 goal.
#   OUT=/tmp/ferry-live-DATE        prefix of the files written
#   CATCHUP_TIMEOUT=900             seconds a replica may take to catch up after the load
# Installs what is missing of pgbench's and sysbench's Debian packages, gnuplot-nox and jq.
set -euo pipefail
if [ -n "${FERRY:-}" ]; then FERRY=$(realpath "$FERRY"); fi
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
source scripts/lib/ports.sh
source scripts/lib/postgres.sh
source scripts/lib/mariadb.sh
source scripts/lib/bench.sh
FERRY=${FERRY:-$PWD/build/cli/ferry}
[ -x "$FERRY" ] || { echo "build first (scripts/test.sh or cmake --build build), or set FERRY" >&2; exit 1; }
ENGINES=${ENGINES:-postgres mariadb}
DURATION=${DURATION:-30}
CLIENTS=${CLIENTS:-8}
ROUNDS=${ROUNDS:-1}
PG_SCALE=${PG_SCALE:-8}
SB_TABLES=${SB_TABLES:-4}
SB_TABLE_SIZE=${SB_TABLE_SIZE:-100000}
CATCHUP_TIMEOUT=${CATCHUP_TIMEOUT:-900}
RATE=${RATE:-}
[[ -z $RATE || $RATE =~ ^[1-9][0-9]*%?$ ]] || { echo "RATE: a number of tps, or a percentage such as 80%" >&2; exit 2; }
OUT=${OUT:-/tmp/ferry-live-$(date +%Y%m%d-%H%M%S)}
OUT=$(realpath -m "$OUT")
mkdir -p "$(dirname "$OUT")"
SAMPLES=$OUT-samples.csv ROUNDS_CSV=$OUT-rounds.csv
SAMPLE_EVERY=0.5
for e in $ENGINES; do
  case $e in postgres | mariadb) ;; *) echo "unknown engine $e" >&2; exit 2 ;; esac
done

packages=(gnuplot-nox jq)
case " $ENGINES " in *" mariadb "*) packages+=(sysbench) ;; esac
ferry_install_packages "${packages[@]}"

B=$(mktemp -d /tmp/ferry-bench-XXXXXX)
chmod 755 "$B"  # PostgreSQL runs as the postgres user when we are root
# The background jobs: the load, the sampler, the heartbeat's client, the catch-up waiters.
LOADER='' SAMPLER='' HEARTBEAT='' WAITERS=''
cleanup() {
  local status=$? f
  if [ -n "$LOADER" ]; then pkill -TERM -P "$LOADER" 2>/dev/null || true; fi  # pgbench or sysbench
  for f in $SAMPLER $HEARTBEAT $WAITERS; do kill "$f" 2>/dev/null || true; done
  ferry_bench_cleanup "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
(umask 077; echo "bench-token-0123456789" >"$B/secret.token")  # private, 16 bytes or more: ferry refuses less

die() { echo "FAILED: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'; }
declare -A PORT

# ---- PostgreSQL ----------------------------------------------------------------------------------
# Each engine provides the functions listed in use_engine, prefixed pg_ or my_.

PG_TABLES="pgbench_accounts pgbench_branches pgbench_tellers pgbench_history"

# pg_setup: the servers, pgbench's tables on the source, the same (empty) tables on the replicas,
# the native subscription (which copies the rows). Sets LOAD_TABLES and FERRY_TABLES.
pg_setup() {
  LOAD_TABLES=$PG_TABLES
  ferry_bench_pg_servers
  # Without the TCP port: pgbench's connections also go over the Unix socket.
  "$PG_BIN/pgbench" -i -q -s "$PG_SCALE" -h "$B/pg-source" -p "${PORT[source]}" -U postgres bench 2>"$B/load-init.log" ||
    { cat "$B/load-init.log" >&2; die "pgbench -i failed"; }
  ferry_bench_pg source -c "ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY" \
    -c "CREATE TABLE ferry_hb (id int PRIMARY KEY, ts timestamptz NOT NULL)" \
    -c "INSERT INTO ferry_hb VALUES (1, clock_timestamp())"
  local n dump=() t
  for t in $PG_TABLES ferry_hb; do dump+=(-t "$t"); done
  for n in native ferry; do
    "$PG_BIN/pg_dump" --schema-only "${dump[@]}" -h "$B/pg-source" -p "${PORT[source]}" -U postgres bench |
      ferry_bench_pg "$n" >/dev/null
  done
  # shellcheck disable=SC2086  # one argument a table
  ferry_bench_pg_subscribe $PG_TABLES ferry_hb
  FERRY_TABLES=$(table_list public)
}

# pg_heartbeat_start: the heartbeat loop, one session on the source that commits a new ts every
# 100 ms until pg_heartbeat_stop (or, should nothing stop it, for a day).
pg_heartbeat_start() {
  PGAPPNAME=ferry_hb ferry_bench_pg source -c "DO \$\$ BEGIN
    FOR i IN 1 .. 864000 LOOP
      UPDATE ferry_hb SET ts = clock_timestamp() WHERE id = 1; COMMIT; PERFORM pg_sleep(0.1);
    END LOOP; END \$\$" >/dev/null 2>&1 &
  HEARTBEAT=$!
}
pg_heartbeat_stop() {
  ferry_bench_pg source -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE application_name = 'ferry_hb'" >/dev/null
}
# pg_heartbeat NAME: "TRUE_LAG HEARTBEAT_EPOCH" of server NAME (both in seconds).
pg_heartbeat() {
  ferry_bench_pg "$1" -F ' ' -c "SELECT round(extract(epoch FROM clock_timestamp() - ts), 3),
    extract(epoch FROM ts) FROM ferry_hb WHERE id = 1"
}
# pg_sql NAME SQL: runs SQL on server NAME.
pg_sql() { ferry_bench_pg "$1" -c "$2"; }
# pg_table_fingerprint TABLE: the SQL of TABLE's "count:sum" (for fingerprint). The sum of the
# rows' 64-bit hashes needs no sort (an ordered md5 of 800,000 rows would cost the replica more
# while it catches up).
pg_table_fingerprint() { echo "(SELECT count(*) || ':' || coalesce(sum(hashtextextended(x::text, 0)), 0) FROM $1 x)"; }
# pg_load: the load; prints its throughput (transactions/s).
pg_load() {
  "$PG_BIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$DURATION" ${LOAD_RATE:+-R "$LOAD_RATE"} -h "$B/pg-source" -p "${PORT[source]}" -U postgres bench \
    >"$B/load.log" 2>&1 || { cat "$B/load.log" >&2; die "pgbench failed"; }
  sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$B/load.log" | head -n 1
}
# pg_settle: no round pays for the one before (pgbench -n does not vacuum): VACUUM ANALYZE, and
# CHECKPOINT writes the dirty buffers, everywhere.
pg_settle() {
  local n
  for n in source native ferry; do ferry_bench_pg "$n" -c "VACUUM ANALYZE" -c "CHECKPOINT"; done
}
pg_describe() {
  echo "pgbench scale $PG_SCALE, -c $CLIENTS -j 2 -T $DURATION;" \
    "native: CREATE SUBSCRIPTION, synchronous_commit ${PG_NATIVE_SYNCHRONOUS_COMMIT:-off}"
}

# ---- MariaDB -------------------------------------------------------------------------------------

# sysbench ARGS...: sysbench's oltp_write_only against the source, over its Unix socket.
my_sysbench() {
  sysbench oltp_write_only --db-driver=mysql --mysql-socket="$B/my-source/mysqld.sock" \
    --mysql-user=root --mysql-db=bench --tables="$SB_TABLES" --table-size="$SB_TABLE_SIZE" "$@"
}

# my_setup: as pg_setup; sysbench's tables reach the native replica through the binary log.
my_setup() {
  # shellcheck disable=SC2119  # the source keeps the default settings
  ferry_bench_my_servers
  LOAD_TABLES=$(seq -f 'sbtest%g' 1 "$SB_TABLES" | paste -sd ' ')
  my_sysbench prepare >"$B/load-init.log" 2>&1 || { cat "$B/load-init.log" >&2; die "sysbench prepare failed"; }
  ferry_bench_my source -e "CREATE TABLE ferry_hb (id int PRIMARY KEY, ts datetime(6) NOT NULL);
    INSERT INTO ferry_hb VALUES (1, NOW(6))"
  # The native replica got the tables through the binary log; Ferry's gets them empty, as the
  # source defines them, and its apply agent copies the rows.
  local t
  for t in $LOAD_TABLES ferry_hb; do
    ferry_bench_my source -e "SHOW CREATE TABLE $t" | cut -f 2 | sed 's/\\n/\n/g' | ferry_bench_my ferry
  done
  FERRY_TABLES=$(table_list bench)
}

# As pg_heartbeat_start. Each statement of the block commits by itself (autocommit). A user of
# its own lets my_heartbeat_stop find the session (KILL CONNECTION USER).
my_heartbeat_start() {
  ferry_bench_my source -e "CREATE USER IF NOT EXISTS ferry_hb@localhost;
    GRANT ALL ON bench.ferry_hb TO ferry_hb@localhost"
  mariadb --no-defaults --socket="$B/my-source/mysqld.sock" -u ferry_hb bench >/dev/null 2>&1 <<'SQL' &
DELIMITER //
BEGIN NOT ATOMIC
  DECLARE i INT DEFAULT 0;
  WHILE i < 864000 DO REPLACE INTO ferry_hb VALUES (1, NOW(6)); DO SLEEP(0.1); SET i = i + 1; END WHILE;
END//
SQL
  HEARTBEAT=$!
}
my_heartbeat_stop() { ferry_bench_my source -e "KILL CONNECTION USER ferry_hb@localhost"; }
my_heartbeat() {
  ferry_bench_my "$1" -e "SELECT ROUND(TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) / 1e6, 3),
    UNIX_TIMESTAMP(ts) FROM ferry_hb WHERE id = 1" | tr '\t' ' '
}
# As pg_sql and pg_table_fingerprint.
my_sql() { ferry_bench_my "$1" -e "$2"; }
# my_table_fingerprint TABLE: "count:checksum" (sysbench's columns id, k, c, pad).
my_table_fingerprint() { echo "(SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(CRC32(CONCAT_WS('#', id, k, c, pad))), 0)) FROM $1)"; }
my_load() {
  my_sysbench --threads="$CLIENTS" --time="$DURATION" --rate="${LOAD_RATE:-0}" --report-interval=0 run >"$B/load.log" 2>&1 ||
    { cat "$B/load.log" >&2; die "sysbench failed"; }
  sed -n 's/^ *transactions: *[0-9]* *(\([0-9.]*\) per sec.).*/\1/p' "$B/load.log" | head -n 1
}
my_settle() { :; }
my_describe() {
  echo "sysbench oltp_write_only, $SB_TABLES tables of $SB_TABLE_SIZE rows, --threads=$CLIENTS" \
    "--time=$DURATION; native: GTID replication; both replicas --skip-log-bin, durable commits"
}

# use_engine pg|my: binds the generic names the steps below use to that engine's functions.
use_engine() {
  local f
  for f in setup heartbeat_start heartbeat_stop heartbeat sql table_fingerprint load settle describe; do
    eval "$f() { ${1}_$f \"\$@\"; }"
  done
  case $1 in pg) LOAD_NAME=pgbench ;; my) LOAD_NAME=sysbench ;; esac
}

# table_list SCHEMA: the YAML list of the replicated tables (LOAD_TABLES and ferry_hb) in
# SCHEMA, for capture.yaml.
table_list() {
  local t list=
  for t in $LOAD_TABLES ferry_hb; do
    list+="${list:+, }\"$1.$t\""
  done
  echo "[$list]"
}

# fingerprint NAME: "count:checksum" of each replicated table (LOAD_TABLES) on server NAME,
# space-separated.
fingerprint() {
  local t parts=()
  for t in $LOAD_TABLES; do parts+=("$(table_fingerprint "$t")"); done
  sql "$1" "SELECT $(IFS=,; echo "concat_ws(' ', ${parts[*]})")"
}

# ---- lag -----------------------------------------------------------------------------------------

true_lag() { heartbeat "$1" | cut -d' ' -f1; }
reported_lag() {
  curl -fs "http://127.0.0.1:$APPLY_ADMIN/lag" | jq -r '.streams.src.lag_seconds // empty' 2>/dev/null || true
}

# sampler ENGINE ROUND T0: until $B/sampler.stop exists, every SAMPLE_EVERY seconds appends a line
# to $B/samples: seconds since T0, phase (load, or after once $B/load.done exists), native true lag,
# Ferry true lag, Ferry reported lag (empty when a look failed).
sampler() {
  local engine=$1 round=$2 t0=$3 t phase n f r
  until [ -f "$B/sampler.stop" ]; do
    t=$(now)
    if [ -f "$B/load.done" ]; then phase=after; else phase=load; fi
    n=$(true_lag native 2>/dev/null || true)
    f=$(true_lag ferry 2>/dev/null || true)
    r=$(reported_lag)
    echo "$engine,$round,$(elapsed "$t0" "$t"),$phase,$n,$f,$r" >>"$B/samples"
    # The next look on the grid of SAMPLE_EVERY from T0, however long this one took.
    sleep "$(awk -v t0="$t0" -v t="$(now)" -v s="$SAMPLE_EVERY" 'BEGIN {
      d = s - (t - t0) % s; printf "%.3f", (d < 0.05 ? d + s : d) }')"
  done
}

# wait_caught_up NAME SINCE: returns once replica NAME holds a heartbeat written after SINCE
# (epoch seconds) and its true lag is under 1 s; prints the time that took, from SINCE. Fails
# after CATCHUP_TIMEOUT.
wait_caught_up() {
  local name=$1 since=$2 lag hb t
  while :; do
    t=$(now)
    read -r lag hb <<<"$(heartbeat "$name" 2>/dev/null || echo "- 0")"
    # awk exits 0: caught up, 1: not yet, 2: given up.
    case $(awk -v l="$lag" -v h="$hb" -v s="$since" -v t="$t" -v m="$CATCHUP_TIMEOUT" 'BEGIN {
             r = (l != "-" && h > s && l < 1) ? 0 : (t - s > m ? 2 : 1); print r }') in
      0) elapsed "$since" "$t"; return 0 ;;
      1) ;;
      *) echo "the $name replica did not catch up within $CATCHUP_TIMEOUT s" >&2; return 1 ;;
    esac
    sleep 0.1
  done
}

# gate NAME: fails the benchmark unless replica NAME's tables have the source's row counts and
# checksums (EXPECTED).
gate() {
  local got
  got=$(fingerprint "$1")
  [ "$got" = "$EXPECTED" ] ||
    die "$ENGINE: the $1 replica differs from the source. (count:checksum per table: $LOAD_TABLES)
  $1:     $got
  source: $EXPECTED"
}

# wait_same NAME: until replica NAME's tables have the source's row counts and checksums
# (EXPECTED); fails after CATCHUP_TIMEOUT.
wait_same() {
  local deadline=$((SECONDS + CATCHUP_TIMEOUT))
  until [ "$(fingerprint "$1")" = "$EXPECTED" ]; do
    [ "$SECONDS" -le "$deadline" ] || gate "$1"  # fails, showing the difference
    sleep 0.5
  done
}

# catch_up SINCE: waits for both replicas at once (neither waits for the other's checks); sets
# CAUGHT[native] and CAUGHT[ferry] to their times from SINCE; then the gate on both. The source's
# checksums come after the waits: they take a second or so, which the first look must not wait
# for, and the load's tables do not change any more.
declare -A CAUGHT
catch_up() {
  local since=$1 n
  for n in native ferry; do
    (wait_caught_up "$n" "$since" >"$B/caught.$n") &
    WAITERS+=" $!"
  done
  for n in $WAITERS; do wait "$n" || die "$ENGINE: a replica did not catch up (see above)"; done
  WAITERS=''
  EXPECTED=$(fingerprint source)
  for n in native ferry; do
    CAUGHT[$n]=$(cat "$B/caught.$n")
    gate "$n"
  done
}

# ---- one engine ----------------------------------------------------------------------------------

# prepare_engine: servers, the load's tables, the replicas made and caught up, the heartbeat on.
prepare_engine() {
  setup
  heartbeat_start
  ferry_bench_start_ferry "$FERRY_TABLES"
  # Not catch_up: while the replicas copy, the heartbeat row may arrive before another table's rows.
  EXPECTED=$(fingerprint source)
  wait_same native
  wait_same ferry
  echo "  both replicas hold the source's tables ($LOAD_TABLES); native copy and Ferry's copy done"
}

# run_load: the load, its throughput in $B/tps. It runs in the background: a signal then ends the
# benchmark at once (bash runs a trap only once the foreground command is done), and cleanup
# stops the load.
run_load() {
  load >"$B/tps" &
  LOADER=$!
  wait "$LOADER" || die "the load failed"
  LOADER=''
}

# set_rate: LOAD_RATE, the rate the rounds' load runs at (empty: unthrottled). For RATE=P%, one
# unthrottled load measures what the source sustains; the replicas catch up and are gated after
# it like after a round, so the first round does not pay for its backlog.
declare -A RATE_USED
set_rate() {
  local tps
  LOAD_RATE=${RATE%\%}
  if [ "$RATE" = "$LOAD_RATE" ]; then RATE_USED[$ENGINE]=${RATE:+$RATE tps}; return; fi
  LOAD_RATE=
  settle
  run_load
  tps=$(cat "$B/tps")
  catch_up "$(now)"
  LOAD_RATE=$(awk -v t="$tps" -v p="${RATE%\%}" 'BEGIN { printf "%d", t * p / 100 }')
  RATE_USED[$ENGINE]="$LOAD_RATE tps, $RATE of $(printf '%.0f' "$tps") tps unthrottled"
  echo "  calibration: unthrottled $(printf '%.0f' "$tps") tps; the rounds run at $LOAD_RATE tps"
}

# round ROUND: one load and its catch-up; appends the round's line to ROUNDS_CSV and its samples
# to SAMPLES, draws the plot, prints the round.
round() {
  local round=$1 t0 t_end tps lag_n lag_f
  settle
  rm -f "$B/samples" "$B/load.done" "$B/sampler.stop"
  t0=$(now)
  # set +e: one failed look must not end the sampling.
  (set +e; sampler "$ENGINE" "$round" "$t0") &
  SAMPLER=$!
  run_load
  t_end=$(now)
  tps=$(cat "$B/tps")
  touch "$B/load.done"
  lag_n=$(true_lag native) lag_f=$(true_lag ferry)
  catch_up "$t_end"
  # Two more seconds of samples show both replicas settled in the plot.
  sleep 2
  touch "$B/sampler.stop"
  wait "$SAMPLER" || true
  SAMPLER=
  cat "$B/samples" >>"$SAMPLES"
  record "$round" "$tps" "$lag_n" "$lag_f" "$(elapsed "$t0" "$t_end")"
  plot "$round" "$(elapsed "$t0" "$t_end")"
}

# record ROUND TPS LAG_NATIVE LAG_FERRY LOAD_SECS: the round's CSV line (from $B/samples: the true
# lags' p50/p99/max during the load, and the largest |Ferry reported - Ferry true| of any sample).
record() {
  local round=$1 stats_n stats_f diff line
  stats_n=$(awk -F, '$4 == "load" && $5 != "" { print $5 }' "$B/samples" | ferry_bench_percentiles 50 99 max || echo "- - -")
  stats_f=$(awk -F, '$4 == "load" && $6 != "" { print $6 }' "$B/samples" | ferry_bench_percentiles 50 99 max || echo "- - -")
  diff=$(awk -F, '$6 != "" && $7 != "" { d = $7 - $6; if (d < 0) d = -d; if (d > m) m = d; k = 1 }
    END { if (k) printf "%.3f", m; else print "-" }' "$B/samples")
  line="$ENGINE,$round,$LOAD_NAME,$CLIENTS,$5,$2,$3,${CAUGHT[native]},${stats_n// /,},$4,${CAUGHT[ferry]},${stats_f// /,},$diff"
  echo "$line" >>"$ROUNDS_CSV"
  awk -F, '{ printf "  round %s: %s %.0f tps over %.0f s | lag at its end: native %s s, Ferry %s s | caught up after: native %s s, Ferry %s s\n" \
    "           true lag during the load p50/p99/max: native %s/%s/%s s, Ferry %s/%s/%s s | Ferry reported - true: max %s s\n",
    $2, $3, $6, $5, $7, $12, $8, $13, $9, $10, $11, $14, $15, $16, $17 }' <<<"$line"
}

# plot ROUND LOAD_SECS: the round's three series against time, the load's end marked.
plot() {
  local png="$OUT-$ENGINE-r$1.png"
  gnuplot 2>"$B/gnuplot.log" <<GP || { cat "$B/gnuplot.log" >&2; echo "(no plot)" >&2; return 0; }
set terminal pngcairo size 1000,500 noenhanced
set output "$png"
set datafile separator ","
set title "$(ferry_bench_engine_title "$ENGINE"): $LOAD_NAME, $CLIENTS clients, $DURATION s (round $1)"
set xlabel "seconds since the load started"
set ylabel "lag (s)"
set key outside below horizontal
set grid
set arrow from $2, graph 0 to $2, graph 1 nohead dashtype 2 lc rgb "gray40"
set label "load ends" at $2, graph 0.95 offset 0.5, 0 tc rgb "gray40"
plot "$B/samples" using 3:5 with lines lw 2 title "native: true lag", \
     "" using 3:6 with lines lw 2 title "Ferry: true lag", \
     "" using 3:7 with lines lw 1.5 dashtype 2 lc rgb "#d95f02" title "Ferry: reported lag (GET /lag)"
GP
  PLOTS+=("$png")
}

# ---- report --------------------------------------------------------------------------------------

# column ENGINE N: field N of that engine's rounds, one a line.
column() { awk -F, -v e="$1" -v c="$2" 'NR > 1 && $1 == e && $c != "-" { print $c }' "$ROUNDS_CSV"; }
# ratio_column ENGINE A B: field A over field B of each round. Rounds where B is under 0.1 s are
# left out: the heartbeat's period, so below it a lag is noise and a ratio to it means nothing.
ratio_column() {
  awk -F, -v e="$1" -v a="$2" -v b="$3" 'NR > 1 && $1 == e && $a != "-" && $b != "-" && $b >= 0.1 { print $a / $b }' "$ROUNDS_CSV"
}
# cell KIND: "median (min–max)" of the numbers on stdin, "—" when there are none.
cell() {
  local r
  r=$(ferry_bench_median_range) || { echo "—"; return; }
  ferry_bench_fmt_range "$1" <<<"$r"
}
# lag3 ENGINE FIRST: "p50 / p99 / max s" from fields FIRST..FIRST+2.
lag3() { echo "$(column "$1" "$2" | cell secs) / $(column "$1" $(($2 + 1)) | cell secs) / $(column "$1" $(($2 + 2)) | cell secs) s"; }
ratio3() {
  echo "$(ratio_column "$1" "$2" "$3" | cell ratio) / $(ratio_column "$1" $(($2 + 1)) $(($3 + 1)) | cell ratio) /" \
    "$(ratio_column "$1" $(($2 + 2)) $(($3 + 2)) | cell ratio)"
}

# CSV fields: 1 engine, 2 round, 3 load, 4 clients, 5 load_s, 6 tps, 7 native_lag_at_end_s,
# 8 native_catchup_s, 9-11 native_lag_p50/p99/max_s, 12 ferry_lag_at_end_s, 13 ferry_catchup_s,
# 14-16 ferry_lag_p50/p99/max_s, 17 ferry_reported_minus_true_max_abs_s
summary() {
  local e
  echo "| | replica | load throughput | true lag when the load stops | caught up after the load | true lag during the load, p50 / p99 / max | Ferry's reported lag − true lag, max \\|·\\| |"
  echo "|---|---|---|---|---|---|---|"
  for e in $ENGINES; do
    [ -n "$(column "$e" 1)" ] || continue
    echo "| $(ferry_bench_engine_title "$e") ($(column "$e" 3 | head -n 1), $(column "$e" 4 | head -n 1) clients, $DURATION s${RATE_USED[$e]:+, at ${RATE_USED[$e]}}) | native | $(column "$e" 6 | cell rate) tps | $(column "$e" 7 | cell secs) s | $(column "$e" 8 | cell secs) s | $(lag3 "$e" 9) | |"
    echo "| | Ferry | (the same load) | $(column "$e" 12 | cell secs) s | $(column "$e" 13 | cell secs) s | $(lag3 "$e" 14) | $(column "$e" 17 | cell secs) s |"
    echo "| | Ferry/native | | $(ratio_column "$e" 12 7 | cell ratio) | $(ratio_column "$e" 13 8 | cell ratio) | $(ratio3 "$e" 14 9) | |"
  done
  echo
  echo "True lag: the replica's clock minus its heartbeat row's, which the source sets every 0.1 s;" \
    "lags under 0.1 s are within that resolution, and caught-up times include up to about 0.2 s" \
    "of it (next heartbeat, next look). — : no ratio to a native figure under 0.1 s." \
    "Rounds: $ROUNDS; with several, each cell is the median (min–max)."
}

# ---- run -----------------------------------------------------------------------------------------

echo "engine,round,load,clients,load_s,tps,native_lag_at_end_s,native_catchup_s,native_lag_p50_s,native_lag_p99_s,native_lag_max_s,ferry_lag_at_end_s,ferry_catchup_s,ferry_lag_p50_s,ferry_lag_p99_s,ferry_lag_max_s,ferry_reported_minus_true_max_abs_s" >"$ROUNDS_CSV"
echo "engine,round,t_s,phase,native_true_lag_s,ferry_true_lag_s,ferry_reported_lag_s" >"$SAMPLES"
PLOTS=()
echo "ferry: $FERRY ($("$FERRY" --version)); rounds: $ROUNDS; load: $DURATION s, $CLIENTS clients"
for ENGINE in $ENGINES; do
  if [ "$ENGINE" = postgres ]; then use_engine pg; else use_engine my; fi
  echo "$(ferry_bench_engine_title "$ENGINE"): $(describe)"
  prepare_engine
  set_rate
  for r in $(seq 1 "$ROUNDS"); do round "$r"; done
  heartbeat_stop
  wait "$HEARTBEAT" 2>/dev/null || true
  HEARTBEAT=
  ferry_bench_stop_ferry
  ferry_bench_stop_servers
done

summary >"$OUT.md"
echo
cat "$OUT.md"
echo
echo "table: $OUT.md; rounds: $ROUNDS_CSV; samples: $SAMPLES"
echo "plots: ${PLOTS[*]}"
