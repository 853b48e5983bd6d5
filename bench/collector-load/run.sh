#!/usr/bin/env bash
# Collector ingestion throughput with the durable buffer off and on, in the same run, against the physical floor:
#   a  bare     a bare Kestrel endpoint reading the same bodies (BareKestrel/): what HTTP alone costs on this machine
#   b  memory   the collector, file exporter, no buffer: a 200 means the events are in memory
#   c  durable  the same with bufferDirectory: a 200 means the events are written and fsynced (group commit)
# The configurations run interleaved (a b c a b c ...) so that other work on the machine shows up as spread between
# rounds rather than as a difference between configurations. Loopback only; every server is stopped on exit.
# Usage: bench/collector-load/run.sh
#   env: ROUNDS=2 DURATION=15 WARMUP=5 THREADS=2 CONNECTIONS=32 EVENTS=100 (events per request), KEEP=1 keeps the work dir
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${ROUNDS:-2} duration=${DURATION:-15} warmup=${WARMUP:-5}
threads=${THREADS:-2} connections=${CONNECTIONS:-32} events=${EVENTS:-100}
work=$(mktemp -d "${TMPDIR:-/tmp}/collector-load.XXXXXX")
server_pid=""

stop_server() {
  [[ -n $server_pid ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  # The collector exports what it holds on SIGTERM; give it 15 s, then stop it hard (the numbers are taken already).
  for ((i = 0; i < 150; i++)); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

cleanup() {
  stop_server
  if [[ ${KEEP:-0} == 1 ]]; then echo "work dir kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- prerequisites -------------------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y wrk >/dev/null; }
fi

echo "building (Release)..." >&2
dotnet build "$root/src/FlagExport.Collector/FlagExport.Collector.csproj" -c Release -v q -nologo >&2
dotnet build "$here/BareKestrel/BareKestrel.csproj" -c Release -v q -nologo >&2
collector_dll=$root/src/FlagExport.Collector/bin/Release/net10.0/FlagExport.Collector.dll
bare_dll=$here/BareKestrel/bin/Release/net10.0/BareKestrel.dll

body=$work/body.json
"$here/make-body.sh" "$events" >"$body"

# On tmpfs an fsync costs nothing and configuration c would measure nothing: say so instead of printing a flattering number.
if [[ $(stat -f -c %T "$work") == tmpfs ]]; then
  echo "warning: $work is on tmpfs, fsync is free there; set TMPDIR to a disk-backed folder" >&2
fi

# perf counts the server's fsyncs (how many requests each group commit carries) at the cost of a tracepoint per call.
count_fsyncs=0
if command -v perf >/dev/null && perf stat -e syscalls:sys_enter_fsync -o /dev/null true 2>/dev/null; then
  count_fsyncs=1
fi

# --- helpers -------------------------------------------------------------------------------------------------------
free_port() {
  for ((p = 18100; p < 18200; p++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  echo "no free port in 18100-18199" >&2
  return 1
}

# CPU ticks used so far by a process, and busy/total ticks of the whole machine (both cores).
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
host_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }

collector_config() { # name port [bufferDirectory]
  cat <<EOF
server:
  host: 127.0.0.1
  port: $2
deadLetterDirectory: $work/$1/dead-letter
# The pipeline defaults, written out: an export every 100,000 events (or 60 s), in both b and c.
exporter:
  kind: file
  format: json
  outputDir: $work/$1/exports
  flushInterval: 60000
  maxEventInMemory: 100000
EOF
  [[ -z ${3:-} ]] || echo "bufferDirectory: $3"
}

start_server() { # name port command...
  local name=$1 port=$2
  shift 2
  # Tiered compilation off (for all three alike): on 2 shared cores the tier-0 phase lasted over 15 s, so a short warm-up
  # left the collector measuring unoptimised code. Full JIT up front gives steady state quickly, without dynamic PGO.
  (cd "$work/$name" && DOTNET_TieredCompilation=${DOTNET_TieredCompilation:-0} exec "$@") >"$work/$name/server.log" 2>&1 &
  server_pid=$!
  for ((i = 0; i < 300; i++)); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/health" && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start; its log:" >&2
  cat "$work/$name/server.log" >&2
  return 1
}

# Events the collector counted as dropped (a full in-memory buffer): must stay 0, or b is measuring how fast it drops.
dropped_events() {
  curl -fs "http://127.0.0.1:$1/metrics" | awk '/^flagexport_collector_events_total/ && /outcome="dropped"/ {n += $NF} END {print n + 0}'
}

run_one() { # config round
  local config=$1 round=$2 name="$1-$2" port
  port=$(free_port)
  mkdir -p "$work/$name"
  case $config in
    a-bare) start_server "$name" "$port" dotnet "$bare_dll" --urls "http://127.0.0.1:$port" ;;
    b-memory)
      collector_config "$name" "$port" >"$work/$name/collector.yaml"
      start_server "$name" "$port" dotnet "$collector_dll" --config "$work/$name/collector.yaml" ;;
    c-durable)
      collector_config "$name" "$port" "$work/$name/buffer" >"$work/$name/collector.yaml"
      start_server "$name" "$port" dotnet "$collector_dll" --config "$work/$name/collector.yaml" ;;
  esac

  local url="http://127.0.0.1:$port/v1/data/collector"
  export BODY_FILE=$body
  # Warm-up: JIT tiers, thread pool growth and, for c, the first segment file; not measured.
  timeout $((warmup + 20)) wrk -t"$threads" -c"$connections" -d"${warmup}s" -s "$here/post.lua" "$url" >/dev/null

  local cpu0 host0 cpu1 host1 fsyncs=- perf_pid
  cpu0=$(proc_ticks "$server_pid")
  read -r -a host0 <<<"$(host_ticks)"
  if ((count_fsyncs)); then
    perf stat -x, -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync -p "$server_pid" -o "$work/$name/perf.csv" -- sleep "$duration" &
    perf_pid=$!
  fi
  timeout $((duration + 30)) wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$here/post.lua" "$url" >"$work/$name/wrk.txt"
  cpu1=$(proc_ticks "$server_pid")
  read -r -a host1 <<<"$(host_ticks)"
  if ((count_fsyncs)); then
    wait "$perf_pid" || true
    fsyncs=$(awk -F, '/syscalls/ {n += $1} END {print n + 0}' "$work/$name/perf.csv")
  fi

  local dropped=- buffer_mb=-
  [[ $config == a-bare ]] || dropped=$(dropped_events "$port")
  [[ $config != c-durable ]] || buffer_mb=$(du -sm "$work/$name/buffer" | cut -f1)
  stop_server
  rm -rf "$work/$name/exports" "$work/$name/buffer" # gigabytes per run; the numbers are what we keep

  # One tab-separated line: config round requests seconds p50 p99 non2xx socket_errors dropped server_cpu% host_cpu% fsyncs buffer_mb
  local result hz
  result=$(grep '^RESULT' "$work/$name/wrk.txt") || { cat "$work/$name/wrk.txt" >&2; return 1; }
  hz=$(getconf CLK_TCK)
  awk -v c="$config" -v r="$round" -v d="$dropped" -v f="$fsyncs" -v mb="$buffer_mb" -v hz="$hz" \
    -v cpu=$((cpu1 - cpu0)) -v hb=$((host1[0] - host0[0])) -v ht=$((host1[1] - host0[1])) '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      s = v["duration_us"] / 1e6
      printf "%s\t%s\t%d\t%.3f\t%d\t%d\t%d\t%d\t%s\t%.0f\t%.0f\t%s\t%s\n", c, r, v["requests"], s, v["p50_us"], v["p99_us"],
        v["non2xx"], v["socket_errors"], d, 100 * cpu / hz / s, 200 * hb / ht, f, mb
    }' <<<"$result" | tee -a "$work/results.tsv"
}

# --- the run -------------------------------------------------------------------------------------------------------
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "body: $events feature events, $(wc -c <"$body") bytes; wrk -t$threads -c$connections -d${duration}s, warm-up ${warmup}s" >&2
echo -e "config\tround\trequests\tseconds\tp50_us\tp99_us\tnon2xx\tsocket_err\tdropped\tsrv_cpu%\thost_cpu%\tfsyncs\tbuffer_mb" >&2
for ((round = 1; round <= rounds; round++)); do
  for config in a-bare b-memory c-durable; do
    run_one "$config" "$round" >&2
  done
done

# Table: every run, its ratios against b and a of the same round, then the mean of each configuration and its spread.
# The raw lines stay in results.tsv (KEEP=1) for table.awk to render again.
awk -F'\t' -v events="$events" -v duration="$duration" -f "$here/table.awk" "$work/results.tsv"
