# Free TCP ports on 127.0.0.1 for throwaway servers and agents.

# ferry_free_ports N: N distinct ports nobody listens on now, on one line. Asked for together so
# that no two of them can be the same (each is still free only until someone takes it). They
# come from below the kernel's ephemeral range, which outgoing connections (and their
# TIME_WAIT) draw from.
ferry_free_ports() {
  local count="$1" ports=" " port first_ephemeral
  first_ephemeral=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "${first_ephemeral:-0}" -gt 12000 ] 2>/dev/null || first_ephemeral=32768
  while [ "$(wc -w <<<"$ports")" -lt "$count" ]; do
    port=$(shuf -i "10000-$((first_ephemeral - 1))" -n 1)
    case "$ports" in *" $port "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ports+="$port "; fi
  done
  echo $ports
}

# ferry_wait_streaming ADMIN_PORT CAPTURE_PID APPLY_PID [SECONDS=60]: until the apply agent
# behind ADMIN_PORT streams; fails at once if either agent has exited, or after SECONDS.
ferry_wait_streaming() {
  local admin="$1" capture="$2" apply="$3" seconds="${4:-60}" tries=0
  until curl -fs "http://127.0.0.1:$admin/status" | grep -q '"state": *"streaming"'; do
    for pid in "$capture" "$apply"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "a ferry agent (pid $pid) exited; see its log" >&2
        return 1
      fi
    done
    tries=$((tries + 1))
    if [ "$tries" -gt $((seconds * 10)) ]; then
      echo "the apply agent did not stream within $seconds s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# ferry_retry_port VAR START DIR [ARGS...]: runs `START DIR $VAR ARGS...` (ferry_pg_start,
# ferry_maria_start); when it fails because the port was taken meanwhile (this machine may be
# shared), picks another free port into VAR and tries again, up to 5 times.
ferry_retry_port() {
  local var="$1" start="$2" dir="$3" attempt
  shift 3
  for attempt in 1 2 3 4 5; do
    if "$start" "$dir" "${!var}" "$@"; then return 0; fi
    echo "(port ${!var} was taken; trying another)" >&2
    printf -v "$var" '%s' "$(ferry_free_ports 1)"
  done
  return 1
}
