# Throwaway MariaDB 10.11 instances for scripts and benchmarks (the C++ test harness has its own).
# Root is reached over TCP on 127.0.0.1 without password; each server keeps everything in DIR.

# ferry_maria_start DIR PORT SERVER_ID [EXTRA mariadbd ARGS...]: install DIR (if new) and start a
# server with a row-based binary log on 127.0.0.1:PORT.
ferry_maria_start() {
  local dir="$1" port="$2" server_id="$3"
  shift 3
  mkdir -p "$dir/tmp"
  if [ ! -d "$dir/data/mysql" ]; then
    local as_root=()
    if [ "$(id -u)" -eq 0 ]; then as_root=(--user=root); fi
    mariadb-install-db --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" \
      --auth-root-authentication-method=normal --skip-test-db "${as_root[@]}" >"$dir/install.log" 2>&1
  fi
  local as_root=()
  if [ "$(id -u)" -eq 0 ]; then as_root=(--user=root); fi
  /usr/sbin/mariadbd --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" \
    --socket="$dir/mysqld.sock" --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$dir/error.log" --pid-file="$dir/mysqld.pid" --server-id="$server_id" \
    --log-bin="$dir/binlog" --binlog-format=ROW --binlog-row-image=FULL \
    --binlog-row-metadata=FULL --character-set-server=utf8mb4 "${as_root[@]}" "$@" \
    >/dev/null 2>&1 &
  local pid=$! tries=0
  until mariadb --no-defaults -h 127.0.0.1 -P "$port" -u root -e 'SELECT 1' >/dev/null 2>&1; do
    tries=$((tries + 1))
    if ! kill -0 "$pid" 2>/dev/null || [ "$tries" -gt 300 ]; then
      echo "mariadbd did not start on port $port; its log:" >&2
      cat "$dir/error.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

ferry_maria_stop() {
  local dir="$1"
  if [ -f "$dir/mysqld.pid" ]; then
    kill "$(cat "$dir/mysqld.pid")" 2>/dev/null || true
    local tries=0
    while [ -f "$dir/mysqld.pid" ] && [ "$tries" -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
  fi
}
