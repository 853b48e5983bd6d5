#!/usr/bin/env bash
# smoke.sh - publishes the collector with Native AOT and checks that the native binary does the main job: every format
# (JSON lines, CSV, Parquet, tracking Parquet) written on SIGTERM, exit code 0, and the same bytes as the JIT-compiled
# collector (`dotnet run`) given the same requests. Not part of ./test.sh: the AOT compile alone takes minutes on 2 cores.
#
#   tests/collector-aot/smoke.sh            # needs the .NET 10 SDK and a C toolchain (gcc/clang, zlib headers)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/flagexport-aot.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
say() { echo "[aot-smoke] $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

say "publishing with PublishAot=true (minutes)"
dotnet publish "$root/src/FlagExport.Collector" -c Release -r linux-x64 -p:PublishAot=true -o "$work/bin" >"$work/publish.log" 2>&1 \
  || { tail -30 "$work/publish.log" >&2; fail "publish"; }
[ -x "$work/bin/FlagExport.Collector" ] || fail "no native binary in $work/bin"
say "published: $(du -h "$work/bin/FlagExport.Collector" | cut -f1) native binary"

# The S3 and Azure options bound in native code (the binder's source generator, not reflection): the values reach the
# checks, which name them. validate makes no request, so no store is needed.
say "binding the s3 and azureBlobStorage options in the native binary (validate)"
cat >"$work/stores.yaml" <<'YAML'
exporters:
  - kind: s3
    bucket: events
    serviceUrl: http://127.0.0.1:9
    forcePathStyle: true
    region: us-east-1
    path: flags/{{ .Year}}/
    multipartPartSize: 6291456
  - kind: azureBlobStorage
    container: events
    accountName: devstoreaccount1
    serviceUrl: http://127.0.0.1:9/devstoreaccount1
    blockSize: 4194304
YAML
sed 's/multipartPartSize: 6291456/multipartPartSize: 1024/; s/blockSize: 4194304/blockSize: 1024/' "$work/stores.yaml" >"$work/bad-stores.yaml"
out="$(cd "$work" && "$work/bin/FlagExport.Collector" validate --config stores.yaml 2>&1)" || fail "validate of the store options: $out"
[[ "$out" == *"configuration OK: 2 exporter(s)"*"to s3://events/flags/{{ .Year}}"*"to container 'events'"* ]] || fail "validate of the store options said: $out"
rc=0; out="$(cd "$work" && "$work/bin/FlagExport.Collector" validate --config bad-stores.yaml 2>&1)" || rc=$?
[ "$rc" = 1 ] || fail "validate of bad store options: exit code $rc: $out"
[[ "$out" == *"exporters[0].multipartPartSize: 1024 is out of range"*"exporters[1].blockSize: 1024 is out of range"* ]] \
  || fail "validate of bad store options said: $out"

# Fixed file names, so that both runs write files of the same names; creation dates fixed in the events.
cat >"$work/config.yaml" <<'YAML'
exporters:
  - kind: file
    outputDir: ./json
    filename: out.{{ .Format}}
  - kind: file
    outputDir: ./csv
    format: csv
    filename: out.{{ .Format}}
  - kind: file
    outputDir: ./parquet
    format: parquet
    parquetCompressionCodec: zstd
    filename: out.{{ .Format}}
  - kind: file
    outputDir: ./tracking
    format: parquet
    eventType: tracking
    filename: out.{{ .Format}}
YAML
body='{"meta":{"env":"prod","n":3},"events":[
 {"kind":"feature","contextKind":"user","userKey":"u1","creationDate":1733230547728,"key":"k","variation":"on","value":{"a":[1,2.5,"x<y"]},"default":false,"version":"v1"},
 {"kind":"feature","contextKind":"anonymousUser","userKey":"u2","creationDate":1733230548,"key":"k","variation":"off","value":"é","default":true},
 {"kind":"tracking","contextKind":"user","userKey":"u3","creationDate":1733230549,"key":"checkout","evaluationContext":{"plan":"pro"},"trackingEventDetails":{"amount":12.5}}]}'

# run <dir> <port> <command...>: starts the collector in <dir>, posts the body, SIGTERMs it, checks exit code 0.
run() {
  local dir="$1" port="$2"; shift 2
  mkdir -p "$dir" && cp "$work/config.yaml" "$dir/"
  (cd "$dir" && exec "$@" --config config.yaml --urls "http://127.0.0.1:$port" >"$dir/out.log" 2>&1) &
  local pid=$!; pids+=("$pid")
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  answer="$(curl -s -X POST "http://127.0.0.1:$port/v1/data/collector" -H 'Content-Type: application/json' -d "$body")"
  [ "$answer" = '{"ingestedContentCount":3}' ] || { cat "$dir/out.log" >&2; fail "$dir: answer $answer"; }
  kill -TERM "$pid"
  local rc=0; wait "$pid" || rc=$?
  [ "$rc" = 0 ] || { cat "$dir/out.log" >&2; fail "$dir: exit code $rc"; }
}

free_port() { local p; for ((p = $1; p < $1 + 100; p++)); do (exec 5<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
say "running the native binary"
run "$work/aot" "$(free_port 18100)" "$work/bin/FlagExport.Collector"
# relayProxyUrl through YARP in native code: a front collector forwards an eval to an upstream collector, whose own 404
# (naming the path, which only it can write since it has no relayProxyUrl) comes back unchanged.
say "forwarding a relay-proxy route through the native binary (relayProxyUrl)"
start() {
  local dir="$1" port="$2"; shift 2
  mkdir -p "$dir"
  (cd "$dir" && exec "$@" --urls "http://127.0.0.1:$port" >"$dir/out.log" 2>&1) &
  pids+=("$!")
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
}
upstream_port="$(free_port 18300)"; front_port="$(free_port 18400)"
start "$work/upstream" "$upstream_port" "$work/bin/FlagExport.Collector"
start "$work/front" "$front_port" "$work/bin/FlagExport.Collector" --relayProxyUrl "http://127.0.0.1:$upstream_port"
answer="$(curl -s -w ' %{http_code}' -X POST "http://127.0.0.1:$front_port/v1/feature/smoke-flag/eval" -H 'Content-Type: application/json' -d '{}')"
case "$answer" in
  *'/v1/feature/smoke-flag/eval is answered by go-feature-flag'*' 404') ;;
  *) cat "$work/front/out.log" >&2; fail "forwarding: $answer" ;;
esac
grep -q "relayProxyUrl http://127.0.0.1:$upstream_port/" "$work/front/out.log" || { cat "$work/front/out.log" >&2; fail "no forwarding line in the log"; }

# OTLP/gRPC in native code (otlpGrpcUrls, methods bound by hand, no generated code): one gRPC frame holding an
# ExportLogsServiceRequest with one feature_flag.evaluation record (key smoke-flag, variant on, service.name smoke),
# sent over cleartext HTTP/2; grpc-status 0, and the event in the exported JSON on SIGTERM.
say "OTLP/gRPC through the native binary (otlpGrpcUrls)"
grpc_port="$(free_port 18500)"; grpc_main_port="$(free_port 18600)"
mkdir -p "$work/grpc" && printf 'exporters:\n  - kind: file\n    outputDir: ./json\n    filename: out.{{ .Format}}\n' >"$work/grpc/config.yaml"
printf '\x00\x00\x00\x00\x8b\x0a\x88\x01\x0a\x19\x0a\x17\x0a\x0c\x73\x65\x72\x76\x69\x63\x65\x2e\x6e\x61\x6d\x65\x12\x07\x0a\x05\x73\x6d\x6f\x6b\x65\x12\x6b\x12\x69\x09\x00\xe4\x2e\x07\x00\xac\x0d\x18\x32\x20\x0a\x10\x66\x65\x61\x74\x75\x72\x65\x5f\x66\x6c\x61\x67\x2e\x6b\x65\x79\x12\x0c\x0a\x0a\x73\x6d\x6f\x6b\x65\x2d\x66\x6c\x61\x67\x32\x23\x0a\x1b\x66\x65\x61\x74\x75\x72\x65\x5f\x66\x6c\x61\x67\x2e\x72\x65\x73\x75\x6c\x74\x2e\x76\x61\x72\x69\x61\x6e\x74\x12\x04\x0a\x02\x6f\x6e\x62\x17\x66\x65\x61\x74\x75\x72\x65\x5f\x66\x6c\x61\x67\x2e\x65\x76\x61\x6c\x75\x61\x74\x69\x6f\x6e' >"$work/grpc/frame.bin"
(cd "$work/grpc" && exec "$work/bin/FlagExport.Collector" --config config.yaml --urls "http://127.0.0.1:$grpc_main_port" \
  --otlpGrpcUrls "http://127.0.0.1:$grpc_port" >"$work/grpc/out.log" 2>&1) &
grpc_pid=$!; pids+=("$grpc_pid")
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$grpc_main_port/health" >/dev/null && break; sleep 0.1; done
curl -sv --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @"$work/grpc/frame.bin" \
  -o /dev/null "http://127.0.0.1:$grpc_port/opentelemetry.proto.collector.logs.v1.LogsService/Export" 2>"$work/grpc/curl.log" || true
grep -q '< grpc-status: 0' "$work/grpc/curl.log" || { cat "$work/grpc/curl.log" "$work/grpc/out.log" >&2; fail "OTLP/gRPC: no grpc-status 0"; }
kill -TERM "$grpc_pid"; rc=0; wait "$grpc_pid" || rc=$?
[ "$rc" = 0 ] || { cat "$work/grpc/out.log" >&2; fail "OTLP/gRPC: exit code $rc"; }
grep -q '"key":"smoke-flag","variation":"on"' "$work/grpc/json/out.json" || { cat "$work/grpc/out.log" >&2; fail "OTLP/gRPC: the event was not exported"; }

say "running the JIT-compiled collector (dotnet run)"
dotnet build "$root/src/FlagExport.Collector" -c Release >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; fail "build"; }
run "$work/jit" "$(free_port 18200)" dotnet "$root/src/FlagExport.Collector/bin/Release/net10.0/FlagExport.Collector.dll"

for f in json/out.json csv/out.csv parquet/out.parquet tracking/out.parquet; do
  [ -s "$work/aot/$f" ] || fail "the native binary wrote no $f"
  cmp -s "$work/aot/$f" "$work/jit/$f" || fail "$f differs between the native binary and the JIT-compiled collector"
done
[ "$(wc -l <"$work/aot/json/out.json")" = 2 ] || fail "json/out.json should hold 2 lines"
grep -q '"value":{"a":\[1,2.5,"x\\u003cy"\]}' "$work/aot/json/out.json" || fail "json/out.json lacks Go's escaping of <"
for f in parquet/out.parquet tracking/out.parquet; do
  [ "$(head -c 4 "$work/aot/$f")" = PAR1 ] && [ "$(tail -c 4 "$work/aot/$f")" = PAR1 ] || fail "$f is not a Parquet file"
done
say "passed: the native binary bound the S3 and Azure options, wrote JSON, CSV, Parquet and tracking Parquet, byte for byte as the JIT collector, forwarded a relay-proxy route, and took an OTLP/gRPC export"
