#!/usr/bin/env bash
# Runs the whole test suite, as the README says: builds, runs every test project, and ends with the plain
# summary line "N passed, N failed, N skipped". Exits non-zero when a test fails or none ran.
set -euo pipefail
cd "$(dirname "$0")"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

status=0
dotnet test --solution FlagExport.slnx "$@" 2>&1 | tee "$log" || status=$?

# Microsoft.Testing.Platform prints one summary block with "total/failed/succeeded/skipped" lines.
count() { grep -E "^\s+$1: [0-9]+" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
total=$(count total); failed=$(count failed); passed=$(count succeeded); skipped=$(count skipped)
echo "${passed} passed, ${failed} failed, ${skipped} skipped"

if [ "$status" -ne 0 ]; then exit "$status"; fi
if [ "$total" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
