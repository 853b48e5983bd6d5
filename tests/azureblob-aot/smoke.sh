#!/usr/bin/env bash
# smoke.sh - publishes tests/azureblob-aot/AzureBlobAot with Native AOT and checks that the native binary writes through
# FlagExport.AzureBlob to a real Blob service (Azurite): one batch in each format (JSON lines, CSV, Parquet) under a
# Hive partition, with the key from AZURE_STORAGE_KEY, byte for byte as the JIT-compiled build of the same program.
# Fails on any trim or AOT warning except Parquet.Net's known ones (see AzureBlobAot.csproj). Not part of ./test.sh:
# the AOT compile takes about two minutes on 2 cores.
#
#   tests/azureblob-aot/smoke.sh    # needs the .NET 10 SDK, a C toolchain (gcc/clang, zlib headers), node and npm
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
project="$root/tests/azureblob-aot/AzureBlobAot"
work="$(mktemp -d /tmp/flagexport-azureblob-aot.XXXXXX)"
azurite_pid=""
cleanup() { if [ -n "$azurite_pid" ]; then kill "$azurite_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
say() { echo "[azureblob-aot] $(date +%T) $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say "publishing with PublishAot=true"
started=$SECONDS
dotnet publish "$project" -c Release -r linux-x64 -o "$work/bin" >"$work/publish.log" 2>&1 \
  || { grep -E "error|warning IL" "$work/publish.log" | sort -u | tail -30 >&2; fail "publish"; }
[ -x "$work/bin/AzureBlobAot" ] || fail "no native binary in $work/bin"
say "published in $((SECONDS - started)) s: $(du -h "$work/bin/AzureBlobAot" | cut -f1) native binary"
# Each trim or AOT warning is listed (TrimmerSingleWarn=false); only Parquet.Net's schema helpers may give one.
others="$(grep -E "(warning|error) IL[0-9]{4}" "$work/publish.log" | grep -v "Parquet\.Extensions\.ParquetClrSchemaExtensions" | sort -u || true)"
[ -z "$others" ] || { echo "$others" >&2; fail "trim or AOT warnings outside Parquet.Net"; }
say "trim and AOT warnings: $(grep -E "warning IL[0-9]{4}" "$work/publish.log" | sort -u | wc -l), all from Parquet.Net's ParquetClrSchemaExtensions"

# Azurite: the copy the Azure Blob tests installed into their npm cache folder, else a fresh install of the same version.
version=3.37.0
main=""
for package in /tmp/flagexport-npm-cache/*/node_modules/azurite/package.json; do
  if [ -f "$package" ] && grep -q "\"version\": \"$version\"" "$package"; then main="$(dirname "$package")/dist/src/blob/main.js"; break; fi
done
if [ -z "$main" ]; then
  say "installing npm azurite $version"
  (cd "$work" && npm install --no-audit --no-fund --ignore-scripts --no-package-lock --loglevel=error "azurite@$version" >"$work/npm.log" 2>&1) \
    || { cat "$work/npm.log" >&2; fail "npm install azurite@$version"; }
  main="$work/node_modules/azurite/dist/src/blob/main.js"
fi
[ -f "$main" ] || fail "no $main"

free_port() { local p; for ((p = $1; p < $1 + 100; p++)); do (exec 5<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }
port="$(free_port 18700)"
node "$main" --blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence --skipApiVersionCheck --loose --disableTelemetry \
  >"$work/azurite.log" 2>&1 &
azurite_pid=$!
for _ in $(seq 1 300); do (exec 5<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
(exec 5<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { cat "$work/azurite.log" >&2; fail "Azurite did not listen on 127.0.0.1:$port"; }
service="http://127.0.0.1:$port/devstoreaccount1"
# Azurite's well-known development account key (public, documented by Azurite).
export AZURE_STORAGE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

say "running the native binary"
"$work/bin/AzureBlobAot" "$service" devstoreaccount1 aot "$work/aot" >"$work/aot.log" 2>&1 || { cat "$work/aot.log" >&2; fail "the native binary exited with $?"; }

say "running the JIT-compiled build"
dotnet build "$project" -c Release -o "$work/jit-bin" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; fail "build"; }
dotnet "$work/jit-bin/AzureBlobAot.dll" "$service" devstoreaccount1 jit "$work/jit" >"$work/jit.log" 2>&1 || { cat "$work/jit.log" >&2; fail "the JIT build exited with $?"; }

for f in aot.json aot.csv aot.parquet; do
  [ -s "$work/aot/$f" ] || fail "the native binary's blob $f is missing or empty"
  cmp -s "$work/aot/$f" "$work/jit/$f" || fail "$f differs between the native binary and the JIT-compiled build"
done
[ "$(wc -l <"$work/aot/aot.json")" = 2 ] || fail "aot.json should hold 2 lines"
grep -q '"value":{"a":1,"s":"x\\u003cy"}' "$work/aot/aot.json" || fail "aot.json lacks Go's escaping of <: $(cat "$work/aot/aot.json")"
[ "$(head -c 4 "$work/aot/aot.parquet")" = PAR1 ] && [ "$(tail -c 4 "$work/aot/aot.parquet")" = PAR1 ] || fail "aot.parquet is not a Parquet file"
say "passed: the native binary wrote JSON lines, CSV and Parquet blobs to Azurite, byte for byte as the JIT build"
