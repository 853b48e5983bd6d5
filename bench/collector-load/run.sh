#!/usr/bin/env bash
# End-to-end load on loopback: wrk posts the same batch of feature events to each configuration, in a fresh process on
# 127.0.0.1, and the configurations run interleaved (a b c d a b c d ...) so that other work on the machine shows up as
# spread between rounds rather than as a difference between configurations. Every server is stopped on exit.
#
# Configurations (CONFIGS picks a list; a preset sets it):
#   bare-read  BareKestrel --mode read: Kestrel reading each body, no JSON: what HTTP alone costs on this machine
#   bare-json  BareKestrel --mode json: the same plus one Utf8JsonReader pass over every token: the floor for ingestion
#   bare-write BareKestrel --mode json-write: bare-json plus the bodies written as a folder exporter writes batches (one
#              new file per 100,000 events, one write, flushed): the floor for ingestion that writes what it receives
#   folder     the collector, one file exporter writing JSON lines to a folder, default pipeline options, memory mode
#              (bufferDirectory: "" written out, whatever the collector's default is)
#   memory     the same as folder, under the name the durable preset compares
#   s3         the same exporter kind writing JSON lines to the local S3 server (tests/s3-server, radosgw on 127.0.0.1)
#   durable    folder plus bufferDirectory: a 200 means the events are written and fsynced
#   memory-otlp, durable-otlp  memory and durable, posted the same evaluations as an OTLP/protobuf logs request
#              (make-otlp-body.py: EVENTS feature_flag.evaluation log records) on /v1/logs, Content-Type
#              application/x-protobuf, instead of the JSON body on /v1/data/collector
#
# Usage: bench/collector-load/run.sh [ingestion|durable]
#   ingestion (default)  CONFIGS="bare-read bare-json bare-write folder s3", 4 connections; targets folder/bare-json >= 0.5
#                        and s3/folder >= 0.8; folder/bare-write shown. About 6 min on 2 shared cores with the defaults (build, S3 server
#                        start, 3 rounds x 4 runs of ~25 s each).
#   durable              CONFIGS="bare-json memory durable", CONNECTIONS="4 64" (each configuration at each count, in
#                        every round: round 1 = bare-json@4 memory@4 durable@4 bare-json@64 memory@64 durable@64, ...);
#                        targets, per connection count: durable >= 0.8x memory (events/s), memory >= 0.5x bare-json,
#                        CPU per event durable <= 1.25x memory, peak RSS <= 512 MiB for memory and durable. Writes both
#                        modes side by side and each target met / not met to bench/results/collector-durable.md.
#                        About 8 min with the defaults (3 rounds x 6 runs of ~25 s).
#   otlp                 CONFIGS="memory memory-otlp durable durable-otlp", CONNECTIONS="4 64", interleaved as durable
#                        is; targets, per connection count and mode: OTLP/protobuf at least as fast per event as the
#                        JSON body (events/s otlp >= 1x json, CPU per event otlp <= 1x json). Writes
#                        bench/results/collector-otlp.md. About 9 min with ROUNDS=3 DURATION=10 (24 runs of ~22 s).
#   env: CONFIGS, ROUNDS=3, DURATION=15 (measured seconds), WARMUP=5, THREADS=2, CONNECTIONS (one count or a list,
#        "4 64"), EVENTS=100 (per request),
#        RESULTS (markdown file, default bench/results/collector-<preset>.md; RESULTS= writes none), KEEP=1 keeps the
#        work dir, TIME_LIMIT=1200: no run starts after that many seconds (counted from the start), so the command
#        ends within TIME_LIMIT plus one run (~30 s; at most ~4 min, as every step of a run has its own timeout), unless
#        the steps before the runs take longer (they have timeouts too: builds 15 min, S3 server start 10 min).
#        S3_STATE_DIR=/tmp/collector-load-s3 S3_PORT=7600 S3_MON_PORT=3410: the S3 server this command starts and stops.
#        Put TMPDIR on a disk-backed folder for durable (fsync is free on tmpfs).
# Figures per run: events/s accepted (2xx requests x EVENTS, less the collector's dropped count), server CPU per event
# (utime+stime of the server process from /proc/PID/stat over the measured window / events accepted), peak RSS
# (VmHWM from /proc/PID/status, warm-up included).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
preset=${1:-ingestion}
case $preset in
  ingestion)
    configs=${CONFIGS:-bare-read bare-json bare-write folder s3} connections=${CONNECTIONS:-4}
    # numerator/denominator:target; a ratio without a target is shown, not judged.
    ratios="folder/bare-json:0.5 s3/folder:0.8 folder/bare-write bare-write/bare-json bare-json/bare-read" ;;
  durable)
    configs=${CONFIGS:-bare-json memory durable} connections=${CONNECTIONS:-4 64}
    # Kinds: a/b:x events/s ratio >= x; cpu:a/b:x CPU per event ratio <= x; rss:a:x peak RSS MiB <= x (every run).
    ratios="durable/memory:0.8 memory/bare-json:0.5 cpu:durable/memory:1.25 rss:memory:512 rss:durable:512" ;;
  otlp)
    configs=${CONFIGS:-memory memory-otlp durable durable-otlp} connections=${CONNECTIONS:-4 64}
    ratios="memory-otlp/memory:1 durable-otlp/durable:1 cpu:memory-otlp/memory:1 cpu:durable-otlp/durable:1" ;;
  *) echo "usage: $0 [ingestion|durable|otlp]" >&2; exit 2 ;;
esac
for c in $connections; do
  [[ $c =~ ^[1-9][0-9]*$ ]] || { echo "CONNECTIONS must be counts; got '$c'" >&2; exit 2; }
done
for config in $configs; do
  [[ $config =~ ^(bare-read|bare-json|bare-write|folder|memory|s3|durable|memory-otlp|durable-otlp)$ ]] || { echo "unknown configuration '$config'" >&2; exit 2; }
done
rounds=${ROUNDS:-3} duration=${DURATION:-15} warmup=${WARMUP:-5}
threads=${THREADS:-2} events=${EVENTS:-100} time_limit=${TIME_LIMIT:-1200}
results_md=${RESULTS-$root/bench/results/collector-$preset.md}
export S3_STATE_DIR=${S3_STATE_DIR:-/tmp/collector-load-s3} S3_PORT=${S3_PORT:-7600} S3_MON_PORT=${S3_MON_PORT:-3410}
export S3_BUCKET=${S3_BUCKET:-collector-load}
# The OSD keeps objects in memory; a run writes hundreds of MB (more as the collector gets faster), deleted after it.
export S3_MEMSTORE_BYTES=${S3_MEMSTORE_BYTES:-4294967296}
work=$(mktemp -d "${TMPDIR:-/tmp}/collector-load.XXXXXX")
server_pid="" s3_started=0

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
  # stop.sh kills only the daemons its start.sh recorded in this state dir, and deletes the dir (objects included).
  ((s3_started == 0)) || bash "$root/tests/s3-server/stop.sh" || true
  if [[ ${KEEP:-0} == 1 ]]; then echo "work dir kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

has() { [[ " $configs " == *" $1 "* ]]; }

# --- prerequisites -------------------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y wrk >/dev/null; }
fi

echo "building (Release)..." >&2
timeout 900 dotnet build "$root/src/FlagExport.Collector/FlagExport.Collector.csproj" -c Release -v q -nologo >&2
timeout 900 dotnet build "$here/BareKestrel/BareKestrel.csproj" -c Release -v q -nologo >&2
collector_dll=$root/src/FlagExport.Collector/bin/Release/net10.0/FlagExport.Collector.dll
bare_dll=$here/BareKestrel/bin/Release/net10.0/BareKestrel.dll

body=$work/body.json
"$here/make-body.sh" "$events" >"$body"
otlp_body=$work/body.pb
[[ " $configs " != *-otlp* ]] || python3 "$here/make-otlp-body.py" "$events" >"$otlp_body"

# On tmpfs an fsync costs nothing and durable would measure nothing: say so instead of printing a flattering number.
if { has durable || has durable-otlp; } && [[ $(stat -f -c %T "$work") == tmpfs ]]; then
  echo "warning: $work is on tmpfs, fsync is free there; set TMPDIR to a disk-backed folder" >&2
fi

# perf counts the server's fsyncs (how many requests each group commit carries) at the cost of a tracepoint per call.
count_fsyncs=0
if { has durable || has durable-otlp; } && command -v perf >/dev/null && perf stat -e syscalls:sys_enter_fsync -o /dev/null true 2>/dev/null; then
  count_fsyncs=1
fi

# The S3 server runs for the whole command (starting it takes seconds to a minute), so between s3 runs it idles on
# the same cores; its daemons' CPU is counted during s3 runs (store CPU), since storing is part of what s3 costs.
if has s3; then
  echo "starting the S3 server (state $S3_STATE_DIR, port $S3_PORT)..." >&2
  s3_started=1
  s3env=$(timeout 600 bash "$root/tests/s3-server/start.sh")
  eval "$s3env"
fi

# --- helpers -------------------------------------------------------------------------------------------------------
free_port() {
  for ((p = 18100; p < 18200; p++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  echo "no free port in 18100-18199" >&2
  return 1
}

# CPU ticks used so far by processes, and busy/total ticks of the whole machine (both cores).
proc_ticks() { local p t=0; for p; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
host_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
s3_pids() { cat "$S3_STATE_DIR/pids/rgw.pid" "$S3_STATE_DIR/pids/osd.pid" "$S3_STATE_DIR/pids/mon.pid"; }

collector_config() { # name port kind
  cat <<EOF
server:
  host: 127.0.0.1
  port: $2
deadLetterDirectory: $work/$1/dead-letter
# The pipeline defaults, written out: an export every 100,000 events (or 60 s), in every collector configuration.
exporter:
  format: json
  flushInterval: 60000
  maxEventInMemory: 100000
EOF
  case ${3%-otlp} in
    folder | memory | durable) printf '  kind: file\n  outputDir: %s\n' "$work/$1/exports" ;;
    s3) printf '  kind: s3\n  bucket: %s\n  path: %s/\n  serviceUrl: %s\n  forcePathStyle: true\n  region: %s\n' \
          "$S3_BUCKET" "$1" "$S3_ENDPOINT" "$AWS_REGION" ;;
  esac
  # Memory mode is asked for by name, so the comparison stays the same whichever mode the collector defaults to.
  if [[ ${3%-otlp} == durable ]]; then echo "bufferDirectory: $work/$1/buffer"; else echo 'bufferDirectory: ""'; fi
}

start_server() { # name port command...
  local name=$1 port=$2
  shift 2
  # Tiered compilation off (for all alike): on 2 shared cores the tier-0 phase lasted over 15 s, so a short warm-up
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

# Events the collector counted as dropped (a full in-memory buffer): must stay 0, or the run measures how fast it drops.
dropped_events() {
  curl -fs "http://127.0.0.1:$1/metrics" | awk '/^flagexport_collector_events_total/ && /outcome="dropped"/ {n += $NF} END {print n + 0}'
}

# Megabytes the run's exporter wrote (after the collector's final export on SIGTERM): a check that the events went out.
written_mb() { # config name
  case $1 in
    folder | memory | durable | memory-otlp | durable-otlp | bare-write) du -sm "$work/$2/exports" | cut -f1 ;;
    s3) timeout 60 radosgw-admin -c "$S3_STATE_DIR/ceph.conf" bucket stats --bucket="$S3_BUCKET" 2>/dev/null \
          | awk -F'[:,]' '/"size": / {n += $2} END {printf "%.0f", n / 1048576}' ;;
    *) echo - ;;
  esac
}

run_one() { # config round connections
  local config=$1 round=$2 connections=$3 name="$1-$2-c$3" port
  port=$(free_port)
  mkdir -p "$work/$name"
  case $config in
    bare-read | bare-json) start_server "$name" "$port" dotnet "$bare_dll" --urls "http://127.0.0.1:$port" --mode "${config#bare-}" ;;
    bare-write) start_server "$name" "$port" dotnet "$bare_dll" --urls "http://127.0.0.1:$port" --mode json-write --dir "$work/$name/exports" ;;
    *)
      # The S3 objects of the previous s3 run were deleted with their bucket (memstore keeps them in memory): recreate it.
      [[ $config != s3 ]] || timeout 120 bash "$root/tests/s3-server/start.sh" >/dev/null
      collector_config "$name" "$port" "$config" >"$work/$name/collector.yaml"
      start_server "$name" "$port" dotnet "$collector_dll" --config "$work/$name/collector.yaml" ;;
  esac

  local url="http://127.0.0.1:$port/v1/data/collector"
  export BODY_FILE=$body CONTENT_TYPE=application/json
  if [[ $config == *-otlp ]]; then
    url="http://127.0.0.1:$port/v1/logs" BODY_FILE=$otlp_body CONTENT_TYPE=application/x-protobuf
  fi
  # Warm-up: JIT, thread pool growth, the S3 client's connections, the first segment file; not measured.
  timeout $((warmup + 20)) wrk -t"$threads" -c"$connections" -d"${warmup}s" -s "$here/post.lua" "$url" >/dev/null

  local cpu0 host0 cpu1 host1 store0=0 store1=0 store=- fsyncs=- perf_pid load dropped0=-
  # Drops are counted from here, so a warm-up that overflowed (shown apart) does not void the measured window.
  [[ $config == bare-* ]] || dropped0=$(dropped_events "$port")
  load=$(cut -d' ' -f1 /proc/loadavg)
  cpu0=$(proc_ticks "$server_pid")
  [[ $config != s3 ]] || store0=$(proc_ticks $(s3_pids))
  read -r -a host0 <<<"$(host_ticks)"
  if ((count_fsyncs)) && [[ ${config%-otlp} == durable ]]; then
    perf stat -x, -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync -p "$server_pid" -o "$work/$name/perf.csv" -- sleep "$duration" &
    perf_pid=$!
  fi
  timeout $((duration + 30)) wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$here/post.lua" "$url" >"$work/$name/wrk.txt"
  cpu1=$(proc_ticks "$server_pid")
  [[ $config != s3 ]] || store1=$(proc_ticks $(s3_pids))
  read -r -a host1 <<<"$(host_ticks)"
  [[ $config != s3 ]] || store=$((store1 - store0))
  if ((count_fsyncs)) && [[ ${config%-otlp} == durable ]]; then
    wait "$perf_pid" || true
    fsyncs=$(awk -F, '/syscalls/ {n += $1} END {print n + 0}' "$work/$name/perf.csv")
  fi

  local dropped=- mb rss
  [[ $config == bare-* ]] || dropped=$(($(dropped_events "$port") - dropped0))
  # Peak resident memory of the server over the whole run (warm-up included), before the final export on SIGTERM.
  rss=$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$server_pid/status")
  stop_server
  mb=$(written_mb "$config" "$name")
  # Gigabytes per run, and the S3 server's OSD holds its objects in memory: the numbers are what we keep.
  rm -rf "$work/$name/exports" "$work/$name/buffer"
  if [[ $config == s3 ]]; then
    timeout 120 radosgw-admin -c "$S3_STATE_DIR/ceph.conf" bucket rm --bucket="$S3_BUCKET" --purge-objects --bypass-gc >/dev/null 2>&1 \
      || echo "warning: could not empty bucket $S3_BUCKET" >&2
  fi

  # One tab-separated line:
  # config round requests seconds p50 p99 non2xx socket_errors dropped server_cpu% host_cpu% fsyncs written_mb store_cpu%
  # load warmup_dropped peak_rss_mb connections
  local result hz
  result=$(grep '^RESULT' "$work/$name/wrk.txt") || { cat "$work/$name/wrk.txt" >&2; return 1; }
  hz=$(getconf CLK_TCK)
  awk -v c="$config" -v r="$round" -v d="$dropped" -v f="$fsyncs" -v mb="$mb" -v hz="$hz" -v load="$load" -v wd="$dropped0" -v rss="$rss" -v conns="$connections" \
    -v cpu=$((cpu1 - cpu0)) -v store="$store" -v hb=$((host1[0] - host0[0])) -v ht=$((host1[1] - host0[1])) '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END {
      s = v["duration_us"] / 1e6
      printf "%s\t%s\t%d\t%.3f\t%d\t%d\t%d\t%d\t%s\t%.1f\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c, r, v["requests"], s, v["p50_us"], v["p99_us"],
        v["non2xx"], v["socket_errors"], d, 100 * cpu / hz / s, 200 * hb / ht, f, mb,
        (store == "-" ? "-" : sprintf("%.0f", 100 * store / hz / s)), load, wd, rss, conns
    }' <<<"$result" | tee -a "$work/results.tsv"
}

# --- the run -------------------------------------------------------------------------------------------------------
machine="$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo)"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "machine: $machine, load $load_start" >&2
echo "body: $events feature events, $(wc -c <"$body") bytes$([[ ! -s $otlp_body ]] || echo ", OTLP $(wc -c <"$otlp_body") bytes"); wrk -t$threads -c(${connections// /, }) -d${duration}s, warm-up ${warmup}s; $rounds rounds of: $configs" >&2
echo -e "config\tround\trequests\tseconds\tp50_us\tp99_us\tnon2xx\tsocket_err\tdropped\tsrv_cpu%\thost_cpu%\tfsyncs\twritten_mb\tstore_cpu%\tload\twarmup_dropped\tpeak_rss_mb\tconnections" >&2
done_rounds=0
for ((round = 1; round <= rounds; round++)); do
  for c in $connections; do
    for config in $configs; do
      if ((SECONDS > time_limit)); then
        echo "time limit (${time_limit}s) reached in round $round; the tables cover the runs done" >&2
        break 3
      fi
      run_one "$config" "$round" "$c" >&2
    done
  done
  done_rounds=$round
done

# Tables: every run, each configuration's mean and spread, and the ratios within each round and of the means.
# The raw lines stay in results.tsv (KEEP=1) for table.awk to render again.
[[ -s $work/results.tsv ]] || { echo "no run finished; nothing to report" >&2; exit 1; }
table=$(awk -F'\t' -v events="$events" -v duration="$duration" -v configs="$configs" -v ratios="$ratios" \
  -f "$here/table.awk" "$work/results.tsv")
echo "$table"
if [[ -n $results_md ]]; then
  mkdir -p "$(dirname "$results_md")"
  {
    echo "# Collector load: $preset"
    echo
    echo "Written by \`bench/collector-load/run.sh $preset\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit" \
      "\`$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)\`$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')."
    echo "Machine: $machine; load average at the start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Load: wrk -t$threads -c(${connections// /, }) on 127.0.0.1, ${duration} s measured after a ${warmup} s warm-up, in a fresh" \
      "process per run; $done_rounds interleaved rounds of: $configs. Body: $events feature events, $(wc -c <"$body") bytes$(
      [[ ! -s $otlp_body ]] || echo "; as OTLP/protobuf ($(basename "$here")/make-otlp-body.py): $(wc -c <"$otlp_body") bytes")."
    echo
    echo "$table"
  } >"$results_md"
  echo "written: $results_md" >&2
fi
