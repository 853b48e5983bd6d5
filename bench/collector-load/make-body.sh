#!/usr/bin/env bash
# Writes a request body like the go-feature-flag JS provider's data collector hook sends: {"events":[...],"meta":{...}}
# with N feature events (default 100) over a few flags, users and value types. Usage: make-body.sh [N] > body.json
set -euo pipefail
count=${1:-100}
now=$(date +%s)
values=('true' 'false' '"variant-b"' '42' '3.5' '{"color":"blue","size":3}')
variations=('on' 'off' 'variant-b' 'limit-42' 'ratio' 'theme-blue')
printf '{"events":['
for ((i = 0; i < count; i++)); do
  ((i > 0)) && printf ','
  k=$((i % ${#values[@]}))
  kind=$([[ $((i % 10)) == 0 ]] && echo anonymousUser || echo user)
  printf '{"contextKind":"%s","kind":"feature","creationDate":%d,"default":false,"key":"flag-%02d","value":%s,"variation":"%s","userKey":"%08x-20d8-40cc-8500-fee99b569345","source":"PROVIDER_CACHE"}' \
    "$kind" "$((now - count + i))" "$((i % 12))" "${values[k]}" "${variations[k]}" "$((0x94a25909 + i * 7919))"
done
printf '],"meta":{"provider":"open-feature-js-sdk"}}\n'
