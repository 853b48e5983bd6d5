#!/usr/bin/env bash
# check.sh - the packages as a user gets them: packs every project under src/ (Release) into a temporary folder, checks
# that FlagExport.S3 and FlagExport.AzureBlob depend on the FlagExport of the same pack (FlagExport.AzureBlob on the
# Azure SDK versions of Directory.Packages.props), builds and runs tests/packages/consumer against the
# packages (not the projects) and reads back the file it wrote, then installs the collector tool from that folder and
# runs `flagexport-collector --version`. Run by ./test.sh through tests/FlagExport.Tests/Packaging/PackagesTests.cs.
#
#   tests/packages/check.sh        # about a minute on 2 cores; needs the packages' dependencies from NuGet (cached)
#
# Until the collector has a command line, `--version` starts the server instead of printing a version: the script
# then says so, checks that the installed tool started and listened, and stops it (that one check is the only one
# that changes; the script passes). Once `--version` prints the packed version, anything else fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/flagexport-packages.XXXXXX)"
tool_pid=""
cleanup() {
  if [ -n "$tool_pid" ]; then kill "$tool_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
say() { echo "[packages] $(date +%T) $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
# A package is a zip file; python3 comes with this machine kind, unzip does not.
zip_list() { python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"; }
zip_cat() { python3 -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())' "$1" "$2"; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

version="$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' "$root/Directory.Build.props")"
[ -n "$version" ] || fail "no VersionPrefix in Directory.Build.props"

say "packing every project under src/ into $work/packages (version $version)"
for project in "$root"/src/*/*.csproj; do
  dotnet pack "$project" -c Release -o "$work/packages" >"$work/pack.log" 2>&1 \
    || { tail -30 "$work/pack.log" >&2; fail "pack $(basename "$project")"; }
done
for id in FlagExport FlagExport.S3 FlagExport.AzureBlob FlagExport.Collector FlagExport.FeatureManagement FlagExport.OpenTelemetry; do
  [ -f "$work/packages/$id.$version.nupkg" ] || fail "no $id.$version.nupkg in $(ls "$work/packages")"
  [ -f "$work/packages/$id.$version.snupkg" ] || fail "no symbols package for $id"
  zip_list "$work/packages/$id.$version.nupkg" >"$work/$id.files"
  grep -qx README.md "$work/$id.files" || fail "$id has no README.md"
  zip_cat "$work/packages/$id.$version.nupkg" "$id.nuspec" >"$work/$id.nuspec"
  grep -q '<license type="expression">MIT</license>' "$work/$id.nuspec" || fail "$id: no MIT license expression"
  grep -q '<repository type="git" url="https://[^"]*"' "$work/$id.nuspec" || fail "$id: no repository URL"
  # The commit comes from SourceLink, which needs a git checkout (a source archive has none).
  if git -C "$root" rev-parse HEAD >/dev/null 2>&1; then
    grep -q "<repository .*commit=\"$(git -C "$root" rev-parse HEAD)\"" "$work/$id.nuspec" \
      || fail "$id: not the commit of HEAD: $(grep repository "$work/$id.nuspec" || true)"
  fi
done
grep -q "<dependency id=\"FlagExport\" version=\"$version\"" "$work/FlagExport.S3.nuspec" \
  || fail "FlagExport.S3 does not depend on FlagExport $version: $(grep '"FlagExport"' "$work/FlagExport.S3.nuspec" || true)"
grep -q "<dependency id=\"FlagExport\" version=\"$version\"" "$work/FlagExport.FeatureManagement.nuspec" \
  || fail "FlagExport.FeatureManagement does not depend on FlagExport $version: $(grep '"FlagExport"' "$work/FlagExport.FeatureManagement.nuspec" || true)"
grep -q '<dependency id="Microsoft.FeatureManagement" version="4.7.0"' "$work/FlagExport.FeatureManagement.nuspec" \
  || fail "FlagExport.FeatureManagement does not depend on Microsoft.FeatureManagement 4.7.0: $(grep FeatureManagement "$work/FlagExport.FeatureManagement.nuspec" || true)"
grep -q '<packageType name="DotnetTool"' "$work/FlagExport.Collector.nuspec" || fail "FlagExport.Collector is not a tool package"
# FlagExport.OpenTelemetry depends on the FlagExport of this pack and on OpenTelemetry's API only.
id=FlagExport.OpenTelemetry
grep -q "<dependency id=\"FlagExport\" version=\"$version\"" "$work/$id.nuspec" || fail "$id does not depend on FlagExport $version"
# The version pinned centrally, so that a bump of OpenTelemetry is checked, not broken, by this line.
otel_api="$(sed -n 's/.*Include="OpenTelemetry.Api" Version="\([^"]*\)".*/\1/p' "$root/Directory.Packages.props")"
[ -n "$otel_api" ] || fail "no OpenTelemetry.Api pin in Directory.Packages.props"
grep -q "<dependency id=\"OpenTelemetry.Api\" version=\"$otel_api\"" "$work/$id.nuspec" || fail "$id: no OpenTelemetry.Api $otel_api dependency"

# The object-store writer compresses in the core, so ZstdSharp is a dependency of FlagExport, not of the store packages.
zstd="$(sed -n 's/.*Include="ZstdSharp.Port" Version="\([^"]*\)".*/\1/p' "$root/Directory.Packages.props")"
grep -q "<dependency id=\"ZstdSharp.Port\" version=\"$zstd\"" "$work/FlagExport.nuspec" || fail "FlagExport: no ZstdSharp.Port $zstd dependency"

# FlagExport.AzureBlob depends on the FlagExport of this pack and on the Azure SDK at the versions pinned centrally.
id=FlagExport.AzureBlob
grep -q "<dependency id=\"FlagExport\" version=\"$version\"" "$work/$id.nuspec" || fail "$id does not depend on FlagExport $version"
for dependency in Azure.Storage.Blobs Azure.Identity Microsoft.Extensions.Logging.Abstractions; do
  pinned="$(sed -n "s/.*Include=\"$dependency\" Version=\"\([^\"]*\)\".*/\1/p" "$root/Directory.Packages.props")"
  [ -n "$pinned" ] || fail "no $dependency pin in Directory.Packages.props"
  grep -q "<dependency id=\"$dependency\" version=\"$pinned\"" "$work/$id.nuspec" \
    || fail "$id: no $dependency $pinned dependency: $(grep "\"$dependency\"" "$work/$id.nuspec" || true)"
done
grep -qx "lib/net10.0/FlagExport.AzureBlob.dll" "$work/$id.files" || fail "$id has no lib/net10.0/FlagExport.AzureBlob.dll"

# A restore folder of its own, so that the consumer cannot get FlagExport from a copy that an earlier run left in the
# user's packages folder; that folder is only a fallback for the third-party dependencies, which are not fetched again.
cp -r "$root/tests/packages/consumer" "$work/consumer"
restore=(-p:FlagExportVersion="$version" -p:RestorePackagesPath="$work/nuget"
  -p:RestoreFallbackFolders="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')")
say "building tests/packages/consumer against the packages"
dotnet build "$work/consumer" -c Release "${restore[@]}" >"$work/consumer.log" 2>&1 \
  || { tail -30 "$work/consumer.log" >&2; fail "consumer build"; }
for id in flagexport flagexport.s3 flagexport.azureblob; do
  [ -d "$work/nuget/$id/$version" ] || fail "the consumer did not restore $id $version from the packed folder"
done
out="$(cd "$work" && Logging__LogLevel__Default=Warning dotnet consumer/bin/Release/net10.0/Consumer.dll "$work/exports")" || fail "the consumer exited with $?"
say "consumer: $out"
[ "$(cat "$work/exports/consumer.json")" = \
  '{"kind":"feature","contextKind":"user","userKey":"consumer-user","creationDate":1733230547,"key":"consumer-flag","variation":"on","value":true,"default":false,"version":"","source":"SERVER"}' ] \
  || fail "consumer.json: $(cat "$work/exports/consumer.json" 2>&1)"

# The README's "Use the library", followed as a newcomer would and from an empty package cache: its second command
# block (a new console app, a nuget.config with the packed folder beside nuget.org, the packages), its Program.cs and
# its run, whose file must be the line the README shows. The folder its first block packs is the one packed above (the
# same projects; the README packs them with the whole solution).
readme_block() { # $1: the info string, $2: which block of that kind (0 first), in the README's "## Use the library"
  python3 - "$root/README.md" "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
section = text[text.index("\n## Use the library\n"):]
section = section[:section.index("\n## ", 1)]
blocks = [m.group(2) for m in re.finditer(r"^```(\S*)\n(.*?)^```$", section, re.M | re.S) if m.group(1) == sys.argv[2]]
sys.stdout.write(blocks[int(sys.argv[3])])
PY
}
say "following the README's \"Use the library\" from an empty package cache"
readme="$work/readme"
mkdir -p "$readme/clone" && cp -r "$work/packages" "$readme/flagexport-feed"
readme_block bash 1 >"$readme/app.sh"
grep -q 'dotnet nuget add source ../flagexport-feed' "$readme/app.sh" || fail "README: the app block does not add ../flagexport-feed: $(cat "$readme/app.sh")"
(cd "$readme/clone" && NUGET_PACKAGES="$readme/nuget" bash -euo pipefail "$readme/app.sh") >"$readme/app.log" 2>&1 \
  || { tail -30 "$readme/app.log" >&2; fail "the README's app commands"; }
readme_block csharp 0 >"$readme/flag-app/Program.cs"
readme_block bash 2 >"$readme/run.sh"
out="$(cd "$readme/flag-app" && NUGET_PACKAGES="$readme/nuget" Logging__LogLevel__Default=Warning bash -euo pipefail "$readme/run.sh" 2>&1)" \
  || { echo "$out" | tail -30 >&2; fail "the README's dotnet run"; }
expected="$(readme_block '' 0)"
[ "$(echo "$out" | tail -n 1)" = "$(echo "$expected" | tail -n 1)" ] || fail "the README's app wrote: $out; the README shows: $expected"
[ -d "$readme/nuget/flagexport/$version" ] || fail "the README's app did not restore FlagExport $version from the packed folder"
say "the README's library app wrote what the README shows"

say "installing the collector tool from the packed folder"
dotnet tool install --tool-path "$work/tools" --configfile "$work/consumer/NuGet.config" FlagExport.Collector --version "$version" \
  >"$work/tool.log" 2>&1 || { cat "$work/tool.log" >&2; fail "tool install"; }
tool="$work/tools/flagexport-collector"
[ -x "$tool" ] || fail "no flagexport-collector command in $work/tools"

# Without a command line the collector ignores --version and serves: a port of its own choice (ASPNETCORE_URLS, so
# that no argument is added to the one under test) and a folder of its own keep that case harmless.
mkdir "$work/run"
(cd "$work/run" && ASPNETCORE_URLS=http://127.0.0.1:0 exec "$tool" --version >"$work/run/out.log" 2>&1) &
tool_pid=$!
for _ in $(seq 1 150); do
  kill -0 "$tool_pid" 2>/dev/null || break
  grep -q 'Now listening on' "$work/run/out.log" && break
  sleep 0.1
done
if kill -0 "$tool_pid" 2>/dev/null; then
  grep -q 'Now listening on' "$work/run/out.log" || { cat "$work/run/out.log" >&2; fail "flagexport-collector --version neither exited nor listened within 15 s"; }
  kill -TERM "$tool_pid"
  rc=0; wait "$tool_pid" || rc=$?
  tool_pid=""
  [ "$rc" = 0 ] || { cat "$work/run/out.log" >&2; fail "the tool exited with $rc on SIGTERM"; }
  say "SKIPPED the --version check: this collector has no --version yet and served instead; the installed tool started, listened and stopped with exit code 0"
else
  rc=0; wait "$tool_pid" || rc=$?
  tool_pid=""
  [ "$rc" = 0 ] || { cat "$work/run/out.log" >&2; fail "flagexport-collector --version exited with $rc"; }
  grep -q "$version" "$work/run/out.log" || fail "flagexport-collector --version printed no $version: $(cat "$work/run/out.log")"
  say "flagexport-collector --version: $(head -n 1 "$work/run/out.log")"
fi
say "passed: FlagExport, FlagExport.S3, FlagExport.AzureBlob and FlagExport.Collector $version packed, consumed by package and installed as a tool"
