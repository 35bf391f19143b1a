# What the native-vs-Ferry benchmarks share. A benchmark defines, before calling these:
#   B                      its scratch directory (capture.yaml, apply.yaml, logs, pids)
#   FERRY                  the ferry binary
#   write_source FILE      runs the SQL in FILE on the source
#   count_rows PORT        prints the row count of table t on the server at PORT

# ferry_bench_start_agents APPLY_ADMIN_PORT: starts ferry capture and apply on $B's configs and
# waits until the apply agent streams; exits with the agents' logs if one of them does not.
ferry_bench_start_agents() {
  "$FERRY" capture --config "$B/capture.yaml" >"$B/capture.log" 2>&1 &
  echo $! >"$B/capture.pid"
  "$FERRY" apply --config "$B/apply.yaml" >"$B/apply.log" 2>&1 &
  echo $! >"$B/apply.pid"
  ferry_wait_streaming "$1" "$(cat "$B/capture.pid")" "$(cat "$B/apply.pid")" ||
    { tail -n 5 "$B/capture.log" "$B/apply.log" >&2; exit 1; }
}

# ferry_bench_wait_count PORT N: until table t on PORT has N rows.
ferry_bench_wait_count() {
  until [ "$(count_rows "$1" 2>/dev/null)" = "$2" ]; do sleep 0.05; done
}

# ferry_bench_measure NAME NATIVE_PORT FERRY_PORT EXPECTED_ROWS SQL_FILE ROWS_WRITTEN: writes
# SQL_FILE on the source once, then prints how long each replica took to hold EXPECTED_ROWS.
ferry_bench_measure() {
  local name=$1 native=$2 ferry=$3 expected=$4 file=$5 rows=$6
  local start end_native end_ferry native_pid
  start=$(date +%s.%N)
  write_source "$file" >/dev/null
  (ferry_bench_wait_count "$native" "$expected"; date +%s.%N >"$B/native.done") &
  native_pid=$!
  ferry_bench_wait_count "$ferry" "$expected"
  end_ferry=$(date +%s.%N)
  wait "$native_pid"
  end_native=$(cat "$B/native.done")
  awk -v n="$name" -v s="$start" -v a="$end_native" -v b="$end_ferry" -v rows="$rows" 'BEGIN {
    tn = a - s; tf = b - s;
    printf "%-6s native %7.2f s (%8.0f rows/s)   ferry %7.2f s (%8.0f rows/s)   ferry/native time ratio %.2f\n",
           n, tn, rows / tn, tf, rows / tf, tf / tn }'
}

# ferry_bench_start_agent ROLE: starts `ferry ROLE` (capture or apply) on $B/ROLE.yaml in the
# background, its pid in $B/ROLE.pid, its output appended to $B/ROLE.log, and waits until its
# admin endpoint answers; sets FERRY_BENCH_STARTED to the time (date +%s.%N) the agent that now
# runs was started. ferry_free_ports draws from the kernel's ephemeral range, where an outgoing
# connection of this machine (also one in TIME_WAIT, which SO_REUSEADDR does not override) may
# hold the port: an agent that cannot bind is started again on other ports (admin:, and listen:
# for a capture agent; the caller then points the apply agent at the new listen: address).
ferry_bench_start_agent() {
  local role=$1 pid lines ports
  for _ in 1 2 3 4 5; do
    lines=$(cat "$B/$role.log" 2>/dev/null | wc -l)
    FERRY_BENCH_STARTED=$(date +%s.%N)
    "$FERRY" "$role" --config "$B/$role.yaml" >>"$B/$role.log" 2>&1 &
    pid=$!
    echo "$pid" >"$B/$role.pid"
    # A bind error ends the agent at once; once the endpoint answers, the address is its own.
    until curl -fs "http://$(sed -n 's/^admin: *//p' "$B/$role.yaml")/livez" >/dev/null 2>&1; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.02
    done
    if kill -0 "$pid" 2>/dev/null; then return 0; fi
    if ! tail -n +$((lines + 1)) "$B/$role.log" | grep -q "already in use"; then
      echo "ferry $role exited at start; its log:" >&2
      tail -n 20 "$B/$role.log" >&2
      return 1
    fi
    echo "(ferry $role: a port was taken meanwhile; trying others)" >&2
    read -r -a ports <<<"$(ferry_free_ports 2)"
    sed -i -e "s/^admin: 127.0.0.1:.*/admin: 127.0.0.1:${ports[0]}/" \
      -e "s/^listen: 127.0.0.1:.*/listen: 127.0.0.1:${ports[1]}/" "$B/$role.yaml"
  done
  echo "ferry $role could not bind its ports; its log:" >&2
  tail -n 20 "$B/$role.log" >&2
  return 1
}

# ferry_bench_stop_pid PID [SECONDS=60]: SIGTERM (an agent's clean stop), then waits until PID
# has exited; fails if it is still there after SECONDS.
ferry_bench_stop_pid() {
  local pid=$1 tries=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -gt $((${2:-60} * 20)) ]; then
      echo "process $pid did not exit within ${2:-60} s of SIGTERM" >&2
      return 1
    fi
    sleep 0.05
  done
}

# ferry_bench_peak_rss_kb PID: the peak resident memory of PID so far (VmHWM), in kB.
ferry_bench_peak_rss_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# ferry_bench_reset_peak_rss PID: restarts the VmHWM of PID from its current RSS (Linux's
# clear_refs 5), so that the peak of a long-running process can be read for one phase alone.
ferry_bench_reset_peak_rss() { echo 5 >"/proc/$1/clear_refs"; }

# ferry_bench_cpu_ticks PID: the CPU time (user + system, in clock ticks) PID has used so far.
ferry_bench_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# ferry_bench_server_cpu_ticks DIR: the CPU time the database server started in DIR (by
# ferry_pg_start or ferry_maria_start) has used so far (PostgreSQL: the postmaster, its live processes, and those that have exited).
ferry_bench_server_cpu_ticks() {
  local dir=$1 pid child total
  if [ -f "$dir/data/postmaster.pid" ]; then
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    total=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat")
    for child in $(ps -o pid= --ppid "$pid"); do
      total=$((total + $(ferry_bench_cpu_ticks "$child" 2>/dev/null || echo 0)))
    done
    echo "$total"
  else
    ferry_bench_cpu_ticks "$(cat "$dir/mysqld.pid")"
  fi
}

# ferry_bench_median_range: reads numbers, one a line; prints "MEDIAN MIN MAX" (the median of an
# even count is the mean of the middle two).
ferry_bench_median_range() {
  sort -g | awk '{ x[NR] = $1 }
    END { if (NR == 0) exit 1
          m = NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
          print m, x[1], x[NR] }'
}

# ---- three servers per engine: source, native (the engine's replication) and ferry -----------
# For benchmarks that compare a native replica and a Ferry replica of one source (catchup.sh,
# live.sh). The caller declares `declare -A PORT` (PORT[source], PORT[native], PORT[ferry]: the TCP
# ports replication connects to); the benchmark's own SQL goes over Unix sockets, so that its many
# short connections leave no TCP ports in TIME_WAIT.

# ferry_bench_pg NAME PSQL-ARGS...: psql on database bench of PostgreSQL server NAME. PG_BIN's
# psql: Debian's /usr/bin/psql is a Perl wrapper that costs four times the CPU to start, which
# counts for a benchmark that looks at its servers many times a second.
ferry_bench_pg() {
  local name=$1
  shift
  "$PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -h "$B/pg-$name" -p "${PORT[$name]}" -U postgres -d bench "$@"
}

# ferry_bench_my NAME CLIENT-ARGS...: the mariadb client on database bench of MariaDB server NAME.
ferry_bench_my() {
  local name=$1
  shift
  mariadb --no-defaults --socket="$B/my-$name/mysqld.sock" -u root -N -B bench "$@"
}

# ferry_bench_pg_servers: starts PostgreSQL servers source, native and ferry in $B/pg-NAME (only
# those named in FERRY_BENCH_SERVERS when set, e.g. "source" for one side of a cross-engine pair),
# each with a database bench (empty, or with FERRY_BENCH_SCHEMA: SQL each server runs in it at
# once), and sets FERRY_SOURCE and FERRY_TARGET (the YAML of Ferry's source: and target:; each
# only when its server was started).
ferry_bench_pg_servers() {
  local n names=${FERRY_BENCH_SERVERS:-source native ferry} ports
  read -r -a ports <<<"$(ferry_free_ports 3)"
  for n in $names; do
    PORT[$n]=${ports[0]}
    ports=("${ports[@]:1}")
    ferry_retry_port "PORT[$n]" ferry_pg_start "$B/pg-$n"
    "$PG_BIN/psql" -X -q -h "$B/pg-$n" -p "${PORT[$n]}" -U postgres -c "CREATE DATABASE bench"
    if [ -n "${FERRY_BENCH_SCHEMA:-}" ]; then ferry_bench_pg "$n" -c "$FERRY_BENCH_SCHEMA"; fi
  done
  case " $names " in *" source "*)
    FERRY_SOURCE="{engine: postgres, dsn: \"host=127.0.0.1 port=${PORT[source]} dbname=bench user=postgres\"}" ;;
  esac
  case " $names " in *" ferry "*)
    FERRY_TARGET="{engine: postgres, dsn: \"host=127.0.0.1 port=${PORT[ferry]} dbname=bench user=postgres\"}" ;;
  esac
  return 0
}

# ferry_bench_pg_subscribe TABLE...: the native replica subscribes to TABLEs of the source
# (publication native_pub, subscription native_sub, which copies their rows first), with
# synchronous_commit PG_NATIVE_SYNCHRONOUS_COMMIT (default off, as a subscription's default).
ferry_bench_pg_subscribe() {
  local IFS=,
  ferry_bench_pg source -c "CREATE PUBLICATION native_pub FOR TABLE $*"
  # The launcher starts the worker of an enabled subscription only at its next scan, once every
  # wal_retrieve_retry_interval (default 5 s): a resumed subscription would wait that long.
  ferry_bench_pg native -c "ALTER SYSTEM SET wal_retrieve_retry_interval = '50ms'" \
    -c "SELECT pg_reload_conf()" >/dev/null
  ferry_bench_pg native -c "CREATE SUBSCRIPTION native_sub CONNECTION
    'host=127.0.0.1 port=${PORT[source]} dbname=bench user=postgres' PUBLICATION native_pub
    WITH (synchronous_commit = '${PG_NATIVE_SYNCHRONOUS_COMMIT:-off}')" 2>/dev/null
}

# ferry_bench_my_servers [SOURCE-ARGS...]: starts MariaDB servers source (binary log; extra
# mariadbd arguments SOURCE-ARGS), native and ferry (durable InnoDB commits, the default, and no
# binary log of their own), each with a database bench as ferry_bench_pg_servers (FERRY_BENCH_SCHEMA
# runs on all of them before the native replica is started; FERRY_BENCH_SERVERS as there); the
# native replica follows the source by GTID from its start. Sets FERRY_SOURCE and FERRY_TARGET as
# ferry_bench_pg_servers.
ferry_bench_my_servers() {
  local n names=${FERRY_BENCH_SERVERS:-source native ferry} ports
  read -r -a ports <<<"$(ferry_free_ports 3)"
  for n in $names; do
    PORT[$n]=${ports[0]}
    ports=("${ports[@]:1}")
    case $n in
      source) ferry_retry_port 'PORT[source]' ferry_maria_start "$B/my-source" 1 "$@" ;;
      native) ferry_retry_port 'PORT[native]' ferry_maria_start "$B/my-native" 2 --skip-log-bin ;;
      ferry) ferry_retry_port 'PORT[ferry]' ferry_maria_start "$B/my-ferry" 3 --skip-log-bin ;;
    esac
    mariadb --no-defaults --socket="$B/my-$n/mysqld.sock" -u root -e "CREATE DATABASE bench"
    if [ -n "${FERRY_BENCH_SCHEMA:-}" ]; then ferry_bench_my "$n" -e "$FERRY_BENCH_SCHEMA"; fi
  done
  case " $names " in *" native "*)
    ferry_bench_my native -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${PORT[source]},
                   MASTER_USER='root', MASTER_USE_GTID=current_pos; START SLAVE" ;;
  esac
  case " $names " in *" source "*)
    FERRY_SOURCE="{engine: mariadb, dsn: \"host=127.0.0.1 port=${PORT[source]} user=root dbname=bench\", server_id: 100}" ;;
  esac
  case " $names " in *" ferry "*)
    FERRY_TARGET="{engine: mariadb, dsn: \"host=127.0.0.1 port=${PORT[ferry]} user=root dbname=bench\"}" ;;
  esac
  return 0
}

# ferry_bench_stop_servers: stops every server under $B (safe to call twice, and from a trap).
ferry_bench_stop_servers() {
  local d
  for d in "$B"/pg-*; do [ -d "$d" ] && ferry_pg_stop "$d"; done
  for d in "$B"/my-*; do [ -d "$d" ] && ferry_maria_stop "$d"; done
  return 0
}

# ferry_bench_tls_files: a private CA and certificates for both agents in $B (once), as the
# README's "Security" makes them: the stream then costs what it costs across a network.
ferry_bench_tls_files() {
  [ -f "$B/ca.crt" ] && return 0
  (
    cd "$B"
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 30 \
      -subj "/CN=bench CA" -keyout ca.key -out ca.crt 2>/dev/null
    for who in capture apply; do
      openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -subj "/CN=$who" -keyout $who.key -out $who.csr 2>/dev/null
      openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -days 30 -out $who.crt \
        -extfile <(printf "subjectAltName=DNS:localhost,IP:127.0.0.1") 2>/dev/null
    done
    chmod 600 ./*.key
  )
}

# ferry_bench_start_ferry TABLES: starts the capture agent, then the apply agent, with nothing in
# their configs but what a deployment must say (names, addresses, token, TABLES: the YAML list of
# tables, e.g. '["public.t"]'): every tuning key keeps its default. FERRY_APPLY_EXTRA is appended
# to apply.yaml. FERRY_TLS=1: the stream runs over mutual TLS. Needs $B/secret.token,
# FERRY_SOURCE and FERRY_TARGET; sets APPLY_ADMIN (the apply agent's admin port). Returns once
# the apply agent streams.
ferry_bench_start_ferry() {
  local ports capture_tls="" upstream_tls=""
  read -r -a ports <<<"$(ferry_free_ports 3)"
  rm -f "$B/capture.log" "$B/apply.log"
  if [ "${FERRY_TLS:-0}" = 1 ]; then
    ferry_bench_tls_files
    capture_tls="tls: {cert_file: capture.crt, key_file: capture.key, client_ca_file: ca.crt}"
    upstream_tls=", tls: {ca_file: ca.crt, server_name: localhost, cert_file: apply.crt, key_file: apply.key}"
  fi
  cat >"$B/capture.yaml" <<YAML
node: src
source: $FERRY_SOURCE
listen: 127.0.0.1:${ports[0]}
auth_token_file: secret.token
admin: 127.0.0.1:${ports[1]}
tables: $1
$capture_tls
YAML
  ferry_bench_start_agent capture || exit 1
  cat >"$B/apply.yaml" <<YAML
node: replica
target: $FERRY_TARGET
upstreams: [{name: src, address: "$(sed -n 's/^listen: *//p' "$B/capture.yaml")", auth_token_file: secret.token$upstream_tls}]
admin: 127.0.0.1:${ports[2]}
YAML
  if [ -n "${FERRY_APPLY_EXTRA:-}" ]; then printf '%s\n' "$FERRY_APPLY_EXTRA" >>"$B/apply.yaml"; fi
  ferry_bench_start_agent apply || exit 1
  APPLY_ADMIN=$(sed -n 's/^admin: 127.0.0.1://p' "$B/apply.yaml")
  ferry_wait_streaming "$APPLY_ADMIN" "$(cat "$B/capture.pid")" "$(cat "$B/apply.pid")" ||
    { tail -n 5 "$B/capture.log" "$B/apply.log" >&2; exit 1; }
}

# ferry_bench_cleanup STATUS: the end of a benchmark's EXIT trap: stops the Ferry agents (SIGTERM,
# SIGKILL after 10 s) and every server under $B; removes $B when STATUS (the script's exit status)
# is 0, else keeps the logs (not the data) and says where.
ferry_bench_cleanup() {
  local f
  for f in "$B/apply.pid" "$B/capture.pid"; do
    [ -f "$f" ] && { ferry_bench_stop_pid "$(cat "$f")" 10 || kill -9 "$(cat "$f")"; } 2>/dev/null
  done
  ferry_bench_stop_servers
  if [ "$1" -eq 0 ]; then
    rm -rf "$B"
  else  # keep the logs, not the data
    rm -rf "$B"/*/data "$B"/*/binlog.*
    echo "failed; logs kept in $B" >&2
  fi
}

# ferry_bench_stop_ferry: stops the apply agent, then the capture agent (SIGTERM, their clean stop).
ferry_bench_stop_ferry() {
  local f
  for f in "$B/apply.pid" "$B/capture.pid"; do
    if [ -f "$f" ]; then ferry_bench_stop_pid "$(cat "$f")"; rm -f "$f"; fi
  done
}

# ---- reports ---------------------------------------------------------------------------------

# ferry_bench_engine_title ENGINE|SOURCE>TARGET: "PostgreSQL → PostgreSQL", "MariaDB → PostgreSQL".
ferry_bench_engine_title() {
  local src=${1%%>*} dst=${1#*>} e
  for e in src dst; do
    case ${!e} in postgres) printf -v "$e" PostgreSQL ;; mariadb) printf -v "$e" MariaDB ;; esac
  done
  echo "$src → $dst"
}

# ferry_bench_commas: 1234567 -> 1,234,567, for every whole number (or integer part) on stdin.
ferry_bench_commas() { sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; }

# ferry_bench_fmt_range KIND [full]: "MEDIAN MIN MAX" on stdin (ferry_bench_median_range) as
# "85,300 (80,100–90,200)", or the one number when all three are equal (a single round). KIND:
#   rate   3 significant digits (the noise is larger than that)
#   ratio  0.62, 0.012 below 0.1, 12 from 10 on
#   secs   seconds: 0.05, 1.2, 35
# With full (catchup.sh's tables): always the range, also of a single round, and ratios from 10
# on with two decimals too.
ferry_bench_fmt_range() {
  awk -v k="$1" -v full="${2:-}" '
    function rate(x,   d) {
      if (x <= 0) return "0"
      d = int(log(x) / log(10)) - 2; if (d < 0) d = 0
      return sprintf("%d", int(x / 10 ^ d + 0.5) * 10 ^ d)
    }
    function ratio(x) { return sprintf(x < 0.1 ? "%.3f" : x < 10 || full ? "%.2f" : "%.0f", x) }
    function secs(x) { return sprintf(x < 1 ? "%.2f" : x < 10 ? "%.1f" : "%.0f", x) }
    function f(x) { return k == "ratio" ? ratio(x) : k == "secs" ? secs(x) : rate(x) }
    { if (!full && f($1) == f($2) && f($1) == f($3)) printf "%s", f($1)
      else printf "%s (%s–%s)", f($1), f($2), f($3) }' | ferry_bench_commas
}

# ferry_bench_percentiles P...: reads numbers, one a line; prints the P-th percentiles (nearest
# rank; P in 0..100, "max" for the largest), space-separated. Fails on no input.
ferry_bench_percentiles() {
  sort -g | awk -v ps="$*" '{ x[NR] = $1 }
    END { if (NR == 0) exit 1
          n = split(ps, p, " ")
          for (i = 1; i <= n; i++) {
            r = p[i] == "max" ? NR : int(p[i] / 100 * NR + 0.9999999)
            if (r < 1) r = 1
            printf "%s%s", x[r], i < n ? " " : "\n"
          } }'
}
