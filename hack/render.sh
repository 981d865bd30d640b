#!/usr/bin/env bash
# render.sh XR [OBSERVED]: renders XR through its Composition with the real crossplane CLI (a
# namespaced PostgresDR through apis/composition-namespaced.yaml, the claim's XR through
# apis/composition.yaml),
# against the function built into _output/bin running as a local process on a free port.
# The function is stopped (by PID) when render is done.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/_output/bin
xr=$1; observed=${2:-}
log=$(mktemp); trap 'rm -f "$log"' EXIT
"$bin/function" --insecure --address=127.0.0.1:0 --metrics-address= >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
addr=
for _ in $(seq 100); do
  addr=$(grep -o '"address": *"127.0.0.1:[0-9]*"' "$log" 2>/dev/null | grep -o '127.0.0.1:[0-9]*' || true)
  [ -z "$addr" ] && addr=$(grep -o 'address[= ]*127.0.0.1:[0-9]*' "$log" 2>/dev/null | grep -o '127.0.0.1:[0-9]*' || true)
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "function did not start:" >&2; cat "$log" >&2; exit 1; }
comp=$root/apis/composition.yaml; xrd=$root/apis/definition.yaml
if grep -q '^kind: PostgresDR$' "$xr"; then
  comp=$root/apis/composition-namespaced.yaml; xrd=$root/apis/definition-namespaced.yaml
fi
args=(-x --crossplane-binary="$bin/crossplane-core" --xrd="$xrd"
  -a render.crossplane.io/runtime=Development -a "render.crossplane.io/runtime-development-target=$addr")
[ -n "$observed" ] && args+=(--observed-resources="$observed")
"$bin/crossplane" composition render "$xr" "$comp" "$root/examples/functions.yaml" "${args[@]}"
