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
