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
    until curl -fs "http://$(sed -n 's/^admin: *//p' "$B/$role.yaml")/healthz" >/dev/null 2>&1; do
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

# ferry_bench_median_range: reads numbers, one a line; prints "MEDIAN MIN MAX" (the median of an
# even count is the mean of the middle two).
ferry_bench_median_range() {
  sort -g | awk '{ x[NR] = $1 }
    END { if (NR == 0) exit 1
          m = NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
          print m, x[1], x[NR] }'
}
