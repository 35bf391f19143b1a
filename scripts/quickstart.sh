#!/usr/bin/env bash
# Quickstart: installs what is missing (Debian 12 packages), builds Ferry, starts two throwaway
# PostgreSQL 15 servers (source "east" and replica "west"), runs `ferry capture` and
# `ferry apply` between them, writes some rows, shows them arriving, and prints both agents'
# admin endpoints (status, lag, conflicts). Everything lives under .quickstart/ (or
# /tmp/ferry-quickstart when the postgres user cannot enter the clone) and is stopped
# at the end; run with --keep to leave the agents and servers running.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
source scripts/lib/ports.sh
source scripts/lib/postgres.sh

keep=false
[ "${1:-}" = "--keep" ] && keep=true

ferry_install_dependencies
echo "==> building ferry (build/)"
ferry_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
FERRY="$PWD/build/cli/ferry"

QS="$PWD/.quickstart"
# As root the servers run as the postgres user, who must reach their directories: a clone in a
# private home (/root is mode 700) cannot hold them, so they go under /tmp instead.
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$PWD"; then
  QS=/tmp/ferry-quickstart
  echo "==> the postgres user cannot enter $PWD: the throwaway servers live in $QS instead"
fi
cleanup() {
  if [ "$keep" = true ]; then return; fi
  [ -f "$QS/capture.pid" ] && kill "$(cat "$QS/capture.pid")" 2>/dev/null || true
  [ -f "$QS/apply.pid" ] && kill "$(cat "$QS/apply.pid")" 2>/dev/null || true
  sleep 0.5
  ferry_pg_stop "$QS/east"
  ferry_pg_stop "$QS/west"
}
trap cleanup EXIT
cleanup
rm -rf "$QS"
mkdir -p "$QS"
if [ "$(id -u)" -eq 0 ]; then chmod 755 "$QS"; fi

read -r EAST_PORT WEST_PORT CAPTURE_PORT CAPTURE_ADMIN APPLY_ADMIN <<<"$(ferry_free_ports 5)"

ferry_retry_port EAST_PORT ferry_pg_start "$QS/east"
ferry_retry_port WEST_PORT ferry_pg_start "$QS/west"
echo "==> started PostgreSQL 15: source east on port $EAST_PORT, replica west on port $WEST_PORT"
for port in "$EAST_PORT" "$WEST_PORT"; do
  psql -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE app" >/dev/null
  psql -q -h 127.0.0.1 -p "$port" -U postgres -d app -c \
    "CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric(10,2), placed_at timestamptz DEFAULT now())" >/dev/null
done
east() { psql -q -h 127.0.0.1 -p "$EAST_PORT" -U postgres -d app "$@"; }
west() { psql -q -h 127.0.0.1 -p "$WEST_PORT" -U postgres -d app "$@"; }

(umask 077; head -c 32 /dev/urandom | base64 >"$QS/secret.token")
cat > "$QS/capture.yaml" <<YAML
node: east
source:
  engine: postgres
  dsn: "host=127.0.0.1 port=$EAST_PORT dbname=app user=postgres"
listen: 127.0.0.1:$CAPTURE_PORT
auth_token_file: secret.token
admin: 127.0.0.1:$CAPTURE_ADMIN
tables: ["public.*"]
YAML
cat > "$QS/apply.yaml" <<YAML
node: west
target:
  engine: postgres
  dsn: "host=127.0.0.1 port=$WEST_PORT dbname=app user=postgres"
upstreams:
  - name: east
    address: 127.0.0.1:$CAPTURE_PORT
    auth_token_file: secret.token
admin: 127.0.0.1:$APPLY_ADMIN
YAML

echo "==> checking the configs"
"$FERRY" capture --config "$QS/capture.yaml" --check
"$FERRY" apply --config "$QS/apply.yaml" --check

echo "==> starting ferry capture (admin :$CAPTURE_ADMIN) and ferry apply (admin :$APPLY_ADMIN)"
"$FERRY" capture --config "$QS/capture.yaml" >"$QS/capture.log" 2>&1 &
echo $! > "$QS/capture.pid"
"$FERRY" apply --config "$QS/apply.yaml" >"$QS/apply.log" 2>&1 &
echo $! > "$QS/apply.pid"

wait_for() {  # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then return 1; fi
    sleep 0.2
  done
}
wait_for 30 curl -fs "http://127.0.0.1:$APPLY_ADMIN/healthz"
wait_for 30 curl -fs "http://127.0.0.1:$CAPTURE_ADMIN/healthz"
# The slot is created when apply first connects; changes committed before that are not sent.
streaming() { curl -fs "http://127.0.0.1:$APPLY_ADMIN/status" | grep -q '"state": *"streaming"'; }
wait_for 60 streaming

echo "==> a diverged replica: west already has order 3 (this will show up as a conflict)"
west -c "INSERT INTO orders (id, customer, total) VALUES (3, 'written on the replica', 0)"

echo "==> writing on the source (east)"
east -c "INSERT INTO orders (id, customer, total) VALUES (1, 'ada', 12.50), (2, 'grace', 99.99)"
east -c "BEGIN; UPDATE orders SET total = total + 1 WHERE id = 1; INSERT INTO orders (id, customer, total) VALUES (3, 'linus', 7); COMMIT"
east -c "BEGIN; INSERT INTO orders (id, customer, total) VALUES (4, 'rolled back', 1); ROLLBACK"
east -c "DELETE FROM orders WHERE id = 2"

same() {
  [ "$(east -At -c 'SELECT * FROM orders ORDER BY id')" = "$(west -At -c 'SELECT * FROM orders ORDER BY id')" ]
}
if ! wait_for 60 same; then
  echo "!! the replica did not catch up; logs are in $QS/capture.log and $QS/apply.log" >&2
  tail -20 "$QS/capture.log" "$QS/apply.log" >&2
  exit 1
fi
echo "==> source east:"
east -c "SELECT * FROM orders ORDER BY id"
echo "==> replica west (identical):"
west -c "SELECT * FROM orders ORDER BY id"

sleep 1.5  # let a heartbeat arrive so lag reads as caught up
pretty() { python3 -m json.tool 2>/dev/null || cat; }
echo "==> capture agent: GET http://127.0.0.1:$CAPTURE_ADMIN/status"
curl -fs "http://127.0.0.1:$CAPTURE_ADMIN/status" | pretty
echo "==> apply agent: GET http://127.0.0.1:$APPLY_ADMIN/status"
curl -fs "http://127.0.0.1:$APPLY_ADMIN/status" | pretty
echo "==> apply agent: GET http://127.0.0.1:$APPLY_ADMIN/lag"
curl -fs "http://127.0.0.1:$APPLY_ADMIN/lag" | pretty
echo "==> apply agent: conflicts (GET /metrics, ferry_conflicts*)"
curl -fs "http://127.0.0.1:$APPLY_ADMIN/metrics" | grep -E '^ferry_conflicts' || echo "(none)"
echo "==> ferry status (one line per stream; exit code 0 healthy, 1 lagging, 2 down)"
"$FERRY" status "$QS/apply.yaml" "$QS/capture.yaml" || true

if [ "$keep" = true ]; then
  echo "==> left running (--keep): source psql -h 127.0.0.1 -p $EAST_PORT -U postgres app;" \
       "replica port $WEST_PORT; logs in $QS/"
else
  echo "==> done; stopping agents and servers (run with --keep to leave them running)"
fi
