#!/usr/bin/env bash
# start.sh - start a throwaway S3 server for FlagExport's S3 tests: a single-node
# Ceph 16 (1 mon + 1 in-memory OSD, no mgr, auth none) with radosgw on
# 127.0.0.1, installed from apt (radosgw ceph-mon ceph-osd curl) on first use.
#
#   s3env="$(tests/s3-server/start.sh)" && eval "$s3env"   # starts (or reuses) it
#   tests/s3-server/gateway.sh stop|start                 # outage: radosgw only, objects kept
#   tests/s3-server/stop.sh                               # stops it, deletes all its state
#
# ./test.sh does all this itself, on free ports and in a state dir of its own.
# Assign then eval: `eval "$(start.sh)"` alone hides a failed start from set -e.
# stdout carries only the `export ...` line; everything else goes to stderr.
# Env: S3_PORT (7480), S3_MON_PORT (3300), S3_BUCKET (flagexport-test),
#      S3_STATE_DIR (/tmp/flagexport-s3): pids, logs, conf, data all live there,
#      S3_MEMSTORE_BYTES (1073741824): the OSD's in-memory capacity; the load
#      benchmark raises it, its runs write gigabytes.
# Clients of radosgw 16 need path-style addressing and, for chunked uploads,
# AWS_REQUEST_CHECKSUM_CALCULATION=when_required (exported below).
set -euo pipefail

S3_PORT="${S3_PORT:-7480}"
S3_MON_PORT="${S3_MON_PORT:-3300}"
S3_BUCKET="${S3_BUCKET:-flagexport-test}"
S3_STATE_DIR="${S3_STATE_DIR:-/tmp/flagexport-s3}"
S3_MEMSTORE_BYTES="${S3_MEMSTORE_BYTES:-1073741824}"
ACCESS_KEY=TESTACCESSKEY0000001
SECRET_KEY=testsecretkey0000000000000000000000000001
# A second user who owns nothing: the tests' real AccessDenied (another user's bucket).
OTHER_ACCESS_KEY=TESTACCESSKEY0000002
OTHER_SECRET_KEY=testsecretkey0000000000000000000000000002
REGION=us-east-1
START_TIMEOUT=60                      # seconds to wait for RGW to answer

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="$S3_STATE_DIR"
CONF="$STATE/ceph.conf"
ENDPOINT="http://127.0.0.1:$S3_PORT"

exec 3>&1 1>&2                        # fd 3 = real stdout (exports only)
log() { echo "[s3-server start] $*" >&2; }
die() { echo "[s3-server start] ERROR: $*" >&2; exit 1; }

case "$STATE" in /?*) ;; *) die "S3_STATE_DIR must be an absolute path (got '$STATE')";; esac
[ "$STATE" != / ] || die "S3_STATE_DIR must not be /"
for p in "$S3_PORT" "$S3_MON_PORT"; do
  [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "bad port '$p'"
done
[[ "$S3_MEMSTORE_BYTES" =~ ^[1-9][0-9]*$ ]] || die "bad S3_MEMSTORE_BYTES '$S3_MEMSTORE_BYTES'"

# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 5<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True if RGW answers HTTP on the S3 port (any status code counts).
rgw_answers() {
  local code
  code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$ENDPOINT/" 2>/dev/null)" || true
  [ -n "$code" ] && [ "$code" != 000 ]
}

# True if pid $1 is alive (not a zombie) and runs with our ceph.conf.
is_ours() {
  local cmd
  [[ "$1" =~ ^[0-9]+$ ]] || return 1
  cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline")" || return 1
  [[ "$cmd" == *" $CONF "* ]] || return 1
  [ "$(awk '{print $3}' 2>/dev/null "/proc/$1/stat")" != Z ]
}

# True if every recorded daemon pid is alive and still one of ours;
# otherwise sets DEAD to the first one that is not.
daemons_alive() {
  local n
  for n in mon osd rgw; do
    is_ours "$(cat "$STATE/pids/$n.pid" 2>/dev/null)" || { DEAD=$n; return 1; }
  done
}

# Create the bucket; "already owned by you" is fine. curl 7.88 (bookworm)
# doesn't send x-amz-content-sha256 itself, and RGW then rejects the signature.
ensure_bucket() {
  local code body="$STATE/bucket-create.out"
  code="$(curl -s -o "$body" -w '%{http_code}' -m 30 --aws-sigv4 "aws:amz:$REGION:s3" \
           --user "$ACCESS_KEY:$SECRET_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
           -X PUT "$ENDPOINT/$S3_BUCKET")" || code=000
  case "$code" in
    200) ;;
    409) grep -q BucketAlreadyOwnedByYou "$body" || die "bucket '$S3_BUCKET': HTTP 409: $(cat "$body")";;
    *)   die "creating bucket '$S3_BUCKET' failed: HTTP $code: $(cat "$body" 2>/dev/null)";;
  esac
}

# ensure_user UID ACCESS SECRET: creates the radosgw user unless it exists.
ensure_user() {
  timeout 30 radosgw-admin -c "$CONF" user info --uid="$1" >/dev/null 2>&1 && return 0
  timeout 30 radosgw-admin -c "$CONF" user create --uid="$1" --display-name="$1" \
    --access-key="$2" --secret="$3" >/dev/null 2>>"$STATE/log/mkfs.out" \
    || die "radosgw-admin user create $1 failed"
}

ensure_users() {
  ensure_user test "$ACCESS_KEY" "$SECRET_KEY"
  ensure_user other "$OTHER_ACCESS_KEY" "$OTHER_SECRET_KEY"
}

print_exports() {
  local line
  line="$(printf 'export S3_ENDPOINT=%q AWS_ACCESS_KEY_ID=%q AWS_SECRET_ACCESS_KEY=%q AWS_REGION=%q S3_BUCKET=%q AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required S3_OTHER_ACCESS_KEY_ID=%q S3_OTHER_SECRET_ACCESS_KEY=%q' \
           "$ENDPOINT" "$ACCESS_KEY" "$SECRET_KEY" "$REGION" "$S3_BUCKET" "$OTHER_ACCESS_KEY" "$OTHER_SECRET_KEY")"
  echo "$line" >"$STATE/env"
  echo "$line" >&3
}

# --- 1. Already running? Then just (re)create the bucket and reprint. -------
if [ -f "$STATE/.flagexport-s3" ] && daemons_alive && rgw_answers; then
  log "already running at $ENDPOINT (state: $STATE)"
  ensure_users
  ensure_bucket
  print_exports
  exit 0
fi

# --- 2. Clean up a stale/half-dead previous instance (same state dir). ------
if [ -e "$STATE" ]; then
  log "removing stale state in $STATE"
  bash "$HERE/stop.sh" || die "could not clean up stale state in $STATE"
fi
port_open "$S3_PORT"     && die "port $S3_PORT is already in use (set S3_PORT)"
port_open "$S3_MON_PORT" && die "mon port $S3_MON_PORT is already in use (set S3_MON_PORT)"

mkdir -p "$STATE"/{log,run,pids,mon,osd,rgw,crash}
touch "$STATE/.flagexport-s3"         # marker: stop.sh only deletes dirs with it

# --- 3. Install Ceph from apt if missing (quiet; log kept on failure). -------
need_install() {
  local b
  for b in radosgw radosgw-admin ceph-mon ceph-osd monmaptool ceph-authtool ceph curl; do
    command -v "$b" >/dev/null 2>&1 || return 0
  done
  return 1
}
if need_install; then
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: apt-get install radosgw ceph-mon ceph-osd curl"
    SUDO=(sudo)
  fi
  log "installing radosgw ceph-mon ceph-osd curl with apt-get (quiet) ..."
  apt_install() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o DPkg::Lock::Timeout=120 radosgw ceph-mon ceph-osd curl
  }
  # Try with the current package lists first; refresh them only if that fails.
  if ! apt_install >"$STATE/log/apt.log" 2>&1; then
    { "${SUDO[@]}" apt-get update -q && apt_install; } >>"$STATE/log/apt.log" 2>&1 \
      || { tail -n 30 "$STATE/log/apt.log" >&2; die "apt-get install failed (log: $STATE/log/apt.log)"; }
  fi
  need_install && die "packages installed but Ceph binaries still missing"
fi

# --- 4. Config: everything under $STATE, auth none, size-1 pools. -----------
FSID="$(cat /proc/sys/kernel/random/uuid)"
OSD_UUID="$(cat /proc/sys/kernel/random/uuid)"
cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$S3_MON_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
# auth none; mon connections default to "secure" mode, which needs auth
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
ms mon service mode = crc secure
ms mon cluster mode = crc secure
keyring = $STATE/keyring
# keep every file under the state dir (no /etc/ceph, /var/lib/ceph, /var/log)
run dir = $STATE/run
crash dir = $STATE/crash
log file = $STATE/log/\$name.log
mon cluster log file = $STATE/log/cluster.log
mon data = $STATE/mon
osd data = $STATE/osd
rgw data = $STATE/rgw
# tiny single-OSD cluster
osd objectstore = memstore
memstore device bytes = $S3_MEMSTORE_BYTES
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 0
mon data avail crit = 0
paxos propose interval = 0.1

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$S3_PORT
rgw enable usage log = false
rgw thread pool size = 64
# SSE-KMS for the object-settings tests: radosgw's built-in "testing" KMS takes
# its keys from this line (fixed, not secret), and without TLS it refuses any
# encryption header unless ssl is not required.
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = testkey-1=W3rO+IUcREEr/tsEXWYT0pspz5EvyJu7ura9p03aHTM= testkey-2=mRO3chRJ+Vxx7H/l5fOkRz2Le2+UVGTgn+iZW4IFDFc=
rgw crypt require ssl = false
EOF

# Start a daemon detached and record its pid: own session (a Ctrl-C in the
# caller's shell doesn't hit it) and none of the caller's fds, so `$(...)` or
# a CI log pipe isn't held open. The subshell execs setsid, which execs the
# daemon, so $! is the daemon's pid.
spawn() {
  local name=$1 fd; shift
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done 2>/dev/null
    exec setsid "$@" -f -c "$CONF" </dev/null >>"$STATE/log/$name.out" 2>&1
  ) &
  echo $! >"$STATE/pids/$name.pid"
}

# If anything below fails, show the logs and stop what we started.
on_fail() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  log "start failed (rc=$rc); last log lines:"
  local f
  for f in "$STATE"/log/*; do
    [ -s "$f" ] || continue
    echo "----- $f" >&2; tail -n 15 "$f" >&2
  done
  log "stopping the daemons it started; logs stay in $STATE/log"
  S3_KEEP_STATE=1 bash "$HERE/stop.sh" || true
}
trap on_fail EXIT

T0=$EPOCHREALTIME
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }
log "starting ceph-mon on 127.0.0.1:$S3_MON_PORT"
ceph-authtool --create-keyring "$STATE/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$STATE/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' >/dev/null
monmaptool --create --enable-all-features --fsid "$FSID" \
  --addv a "[v2:127.0.0.1:$S3_MON_PORT]" "$STATE/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$STATE/monmap" --keyring "$STATE/keyring" \
  >>"$STATE/log/mkfs.out" 2>&1 || die "ceph-mon --mkfs failed"
spawn mon ceph-mon -i a

log "starting ceph-osd (memstore)"
OSD_ID="$(timeout 30 ceph -c "$CONF" --connect-timeout 25 osd new "$OSD_UUID" 2>>"$STATE/log/mkfs.out")" \
  || die "mon not reachable ('ceph osd new' failed)"
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >>"$STATE/log/mkfs.out" 2>&1 \
  || die "ceph-osd --mkfs failed"
spawn osd ceph-osd -i "$OSD_ID"

# A second storage class, COLD (own pool), so the tests can show that a class
# other than STANDARD reaches the object. radosgw reads zone placement only
# when it starts, so this runs first; radosgw-admin creates the default zone.
log "adding storage class COLD to the default placement"
timeout 30 radosgw-admin -c "$CONF" user list >/dev/null 2>>"$STATE/log/mkfs.out" \
  || die "radosgw-admin could not create the default zone"
timeout 30 radosgw-admin -c "$CONF" zonegroup placement add --rgw-zonegroup default \
  --placement-id default-placement --storage-class COLD >/dev/null 2>>"$STATE/log/mkfs.out" \
  || die "radosgw-admin zonegroup placement add failed"
timeout 30 radosgw-admin -c "$CONF" zone placement add --rgw-zone default \
  --placement-id default-placement --storage-class COLD --data-pool default.rgw.cold.data \
  >/dev/null 2>>"$STATE/log/mkfs.out" || die "radosgw-admin zone placement add failed"

log "starting radosgw on $ENDPOINT"
spawn rgw radosgw -n client.rgw
deadline=$((SECONDS + START_TIMEOUT))
while ((SECONDS < deadline)); do
  rgw_answers && break
  daemons_alive || die "$DEAD daemon exited during startup (see $STATE/log)"
  sleep 0.2
done
rgw_answers || die "radosgw did not answer on $ENDPOINT within ${START_TIMEOUT}s"
log "radosgw answers after $(elapsed)"

# --- 5. Test user (fixed keys) and bucket. ----------------------------------
ensure_users
ensure_bucket
trap - EXIT

rss="$(cd "$STATE/pids" && cat mon.pid osd.pid rgw.pid | sed 's|.*|/proc/&/status|' \
        | xargs awk '/^VmRSS/ { kb += $2 } END { print int(kb / 1024) }' 2>/dev/null)" || rss="?"
log "ready in $(elapsed): $ENDPOINT bucket=$S3_BUCKET (RSS ${rss} MiB, state $STATE)"
print_exports
