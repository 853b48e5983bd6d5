#!/usr/bin/env bash
# gateway.sh stop|start - simulate an S3 outage: stop only radosgw (the HTTP
# front end) of the server that start.sh runs, keeping the stored objects,
# then start it again. Connections are refused while it is stopped.
# Env: S3_STATE_DIR (/tmp/flagexport-s3), as for start.sh.
set -euo pipefail
STATE="${S3_STATE_DIR:-/tmp/flagexport-s3}"
CONF="$STATE/ceph.conf"
log() { echo "[s3-server gateway] $*" >&2; }
[ -f "$STATE/.flagexport-s3" ] && [ -f "$CONF" ] || { log "no server started by start.sh in $STATE"; exit 1; }
port="$(sed -n 's/^rgw frontends = beast endpoint=127.0.0.1:\([0-9]*\)$/\1/p' "$CONF")"

rgw_pid() {  # the recorded radosgw pid, if it is alive and ours
  local pid cmd
  pid="$(cat "$STATE/pids/rgw.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 1
  [[ "$cmd" == *" $CONF "* ]] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] && echo "$pid"
}
answers() { local c; c="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null)" || true; [ -n "$c" ] && [ "$c" != 000 ]; }

case "${1:-}" in
  stop)
    pid="$(rgw_pid)" || { log "radosgw is not running"; exit 0; }
    kill -TERM "$pid"
    for ((i = 0; i < 100; i++)); do rgw_pid >/dev/null || break; sleep 0.1; done
    pid2="$(rgw_pid)" && kill -KILL "$pid2"
    for ((i = 0; i < 50; i++)); do rgw_pid >/dev/null || break; sleep 0.1; done
    log "radosgw stopped; objects kept" ;;
  start)
    if rgw_pid >/dev/null && answers; then log "radosgw already running"; exit 0; fi
    ( exec setsid radosgw -n client.rgw -f -c "$CONF" </dev/null >>"$STATE/log/rgw.out" 2>&1 ) &
    echo $! >"$STATE/pids/rgw.pid"
    for ((i = 0; i < 300; i++)); do answers && { log "radosgw answers again on port $port"; exit 0; }; sleep 0.2; done
    log "radosgw did not answer within 60 s"; exit 1 ;;
  *) echo "usage: $0 stop|start" >&2; exit 2 ;;
esac
