#!/usr/bin/env bash
# stop.sh - stop the test S3 server started by start.sh and delete its
# state dir. Kills only the pids start.sh recorded (and only if they still
# run with our ceph.conf), never by process name. Safe to run repeatedly.
# Env: S3_STATE_DIR (/tmp/flagexport-s3); S3_KEEP_STATE=1 keeps the dir (logs).
set -euo pipefail

STATE="${S3_STATE_DIR:-/tmp/flagexport-s3}"
CONF="$STATE/ceph.conf"
log() { echo "[s3-server stop] $*" >&2; }

case "$STATE" in /?*) ;; *) log "S3_STATE_DIR must be an absolute path"; exit 1;; esac
[ "$STATE" != / ] || { log "S3_STATE_DIR must not be /"; exit 1; }
[ -e "$STATE" ] || exit 0             # nothing to do

# Refuse to touch a dir that start.sh did not create.
if [ ! -f "$STATE/.flagexport-s3" ]; then
  log "$STATE exists but was not created by start.sh; leaving it alone"
  exit 1
fi

# Echo the recorded pid of daemon $1 if it is alive (not a zombie) and still
# runs with our ceph.conf (so a recycled pid is never killed).
our_pid() {
  local pid cmd
  pid="$(cat "$STATE/pids/$1.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 1
  [[ "$cmd" == *" $CONF "* ]] || return 1
  [ "$(awk '{print $3}' 2>/dev/null "/proc/$pid/stat")" != Z ] || return 1
  echo "$pid"
}

# Stop radosgw first, then the OSD, then the mon: TERM, wait up to 10 s, KILL.
for n in rgw osd mon; do
  pid="$(our_pid "$n")" || continue
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    our_pid "$n" >/dev/null || break
    sleep 0.1
  done
  if our_pid "$n" >/dev/null; then
    log "$n (pid $pid) ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do our_pid "$n" >/dev/null || break; sleep 0.1; done
  fi
  our_pid "$n" >/dev/null && { log "$n (pid $pid) is still running"; exit 1; }
done

if [ "${S3_KEEP_STATE:-0}" = 1 ]; then
  rm -f "$STATE"/pids/*.pid
  log "stopped; state kept in $STATE"
else
  rm -rf -- "$STATE"
  log "stopped; removed $STATE"
fi
