# Throwaway PostgreSQL 15 instances for the quickstart (the C++ test harness has its own).
# PostgreSQL refuses to run as root, so as root the server runs as the "postgres" user.

PG_BIN=/usr/lib/postgresql/15/bin

ferry_as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# ferry_pg_start DIR PORT: initdb DIR (if new) and start a server on 127.0.0.1:PORT.
ferry_pg_start() {
  local dir="$1" port="$2"
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    ferry_as_pg_user "$PG_BIN/initdb" -A trust -E UTF8 --locale=C.UTF-8 -U postgres -D "$dir/data" >/dev/null
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
CONF
  fi
  ferry_as_pg_user "$PG_BIN/pg_ctl" -w -D "$dir/data" -l "$dir/postgres.log" -o "-p $port" start >/dev/null
}

ferry_pg_stop() {
  local dir="$1"
  if [ -f "$dir/data/postmaster.pid" ]; then
    ferry_as_pg_user "$PG_BIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  fi
}
