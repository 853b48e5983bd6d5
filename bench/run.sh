#!/usr/bin/env bash
# One command for every benchmark, a short version of each (about 5 minutes on 2 cores): the hot paths against their
# baselines in one BenchmarkDotNet run (Add, JSON lines, CSV, Parquet SNAPPY and ZSTD, ingestion, the S3 flush), output
# sizes, the memory a buffered event holds, and the collector's peak resident memory under the load command into a
# folder and into S3. Writes bench/results/latest.md (or the file given), which docs/performance.md copies.
#
# Starts the local S3 server of tests/s3-server for the S3 rows unless S3_ENDPOINT points at one, and stops it on exit.
# env: LOAD=0 leaves out the collector load (about 1.5 minutes); DURATION (seconds measured per load run, default 15).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=$(realpath -m "${1:-bench/results/latest.md}")
started=0
cleanup() { ((started == 0)) || bash tests/s3-server/stop.sh || true; rm -f "${load_md:-}"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z ${S3_ENDPOINT:-} ]]; then
  export S3_STATE_DIR=${S3_STATE_DIR:-/tmp/flagexport-bench-s3} S3_PORT=${S3_PORT:-7680} S3_MON_PORT=${S3_MON_PORT:-3500}
  # The OSD keeps objects in memory; each flush writes about 25 MB (deleted after every iteration).
  export S3_MEMSTORE_BYTES=${S3_MEMSTORE_BYTES:-4294967296}
  if s3env=$(timeout 600 bash tests/s3-server/start.sh); then
    started=1
    eval "$s3env"
  else
    echo "bench/run.sh: the S3 server did not start; the S3 flush is left out" >&2
  fi
fi

timeout 1200 dotnet run -c Release --project bench/FlagExport.Benchmarks -- report --out "$out"

if [[ ${LOAD:-1} != 0 ]]; then
  # The load command's own S3 server (its own state and ports): it empties and recreates its bucket between runs.
  load_md=$(mktemp)
  env -u S3_ENDPOINT -u S3_STATE_DIR -u S3_PORT -u S3_MON_PORT -u S3_BUCKET \
    CONFIGS="folder s3" ROUNDS=1 DURATION="${DURATION:-15}" RESULTS="$load_md" bash bench/collector-load/run.sh ingestion >/dev/null
  {
    echo
    echo "## Collector under load (peak resident memory)"
    echo
    echo "\`bench/collector-load/run.sh\` with CONFIGS=\"folder s3\", one round, default options (target: peak RSS ≤ 512 MiB):"
    echo
    sed -n '/^| configuration | round |/,/^$/p' "$load_md"
    echo
    echo "| collector into | events/s | peak RSS MiB | target | met |"
    echo "|---|---:|---:|---|---|"
    # Columns of the load table: configuration, round, events/s, ..., peak RSS MiB (14th).
    awk -F'|' 'NF >= 17 && $2 ~ /^ (folder|s3) $/ && $3 ~ /^ [0-9]+ $/ {
      gsub(/ /, "", $2); rss = $15 + 0
      printf "| %s | %s | %d | ≤ 512 MiB | %s |\n", $2, $4 + 0, rss, (rss <= 512 ? "yes" : "**no**") }' "$load_md"
  } >>"$out"
fi
echo "written: $out"
