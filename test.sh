#!/usr/bin/env bash
# Runs the whole test suite, as the README says: starts a throwaway S3 server (Ceph radosgw, tests/s3-server/start.sh)
# unless S3_ENDPOINT already points at one, builds and runs every test project, stops the server (also on failure or
# Ctrl-C), and ends with the plain summary line "N passed, N failed, N skipped". Exits non-zero when a test fails or
# none ran. Outside CI a server that cannot be started only makes the S3 tests skip; with CI=true it is an error.
set -euo pipefail
cd "$(dirname "$0")"

log="$(mktemp)"
server_state=""                       # set once we started a server: only that one is stopped
stop_server() {
  if [ -n "$server_state" ]; then
    S3_STATE_DIR="$server_state" bash tests/s3-server/stop.sh || true
    server_state=""
  fi
}
trap 'stop_server; rm -f "$log"' EXIT
trap 'exit 130' INT TERM

# First free TCP port on 127.0.0.1 in [$1, $1+100).
free_port() {
  local p
  for ((p = $1; p < $1 + 100; p++)); do
    (exec 5<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}

if [ -z "${S3_ENDPOINT:-}" ]; then
  # A state dir and ports of our own, so that a server a developer started by hand is neither reused nor stopped.
  export S3_STATE_DIR="${S3_STATE_DIR:-/tmp/flagexport-s3-test.$$}"
  export S3_PORT="${S3_PORT:-$(free_port 7480)}" S3_MON_PORT="${S3_MON_PORT:-$(free_port 3300)}"
  server_state="$S3_STATE_DIR"
  if s3env="$(bash tests/s3-server/start.sh)"; then
    eval "$s3env"
  else
    stop_server
    if [ "${CI:-}" = true ]; then
      echo "test.sh: the S3 test server did not start (see above)" >&2
      exit 1
    fi
    echo "test.sh: the S3 test server did not start; the S3 integration tests will be skipped" >&2
  fi
fi

status=0
# One test project at a time: they share one radosgw, and the S3 outage test stops its gateway for a few seconds,
# which the other projects' S3 tests (run in parallel processes, beyond xunit's collections) would see as failures.
dotnet test --solution FlagExport.slnx --max-parallel-test-modules 1 "$@" 2>&1 | tee "$log" || status=$?
stop_server                            # before the summary, so that the summary stays the last line

# Microsoft.Testing.Platform prints one summary block with "total/failed/succeeded/skipped" lines.
count() { grep -E "^\s+$1: [0-9]+" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
total=$(count total); failed=$(count failed); passed=$(count succeeded); skipped=$(count skipped)
echo "${passed} passed, ${failed} failed, ${skipped} skipped"

if [ "$status" -ne 0 ]; then exit "$status"; fi
if [ "$total" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
