#!/usr/bin/env bash
# push-check.sh BIN XPKG_DIR VERSION: pushes the built packages to a throwaway in-memory OCI registry
# on a free loopback port, as a user pushes to theirs, and checks what arrived: the Function as a
# multi-platform index (linux/amd64, linux/arm64), the Configuration as one image. The registry is
# stopped by its PID.
set -euo pipefail
BIN=$(cd "$1" && pwd); XPKG=$(cd "$2" && pwd); VERSION=$3
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
RUN=$(mktemp -d); trap 'kill "$(cat "$RUN/registry.pid")" 2>/dev/null; rm -rf "$RUN"' EXIT
rp=$(freeport)
start registry "$BIN/crane" registry serve --address "127.0.0.1:$rp"
wait_for 30 registry curl -sf "http://127.0.0.1:$rp/v2/"
reg=127.0.0.1:$rp
fn_files=$(ls "$XPKG"/function-postgres-dr-{amd64,arm64}.xpkg | paste -sd, -)
"$BIN/crossplane" xpkg push -f "$fn_files" "$reg/pgdr/function-postgres-dr:$VERSION"
"$BIN/crossplane" xpkg push -f "$XPKG/configuration-postgres-dr.xpkg" "$reg/pgdr/configuration-postgres-dr:$VERSION"
platforms=$("$BIN/crane" manifest --insecure "$reg/pgdr/function-postgres-dr:$VERSION" |
  python3 -c 'import json,sys; m=json.load(sys.stdin); print(" ".join(sorted(p["platform"]["os"]+"/"+p["platform"]["architecture"] for p in m.get("manifests",[]))))')
[ "$platforms" = "linux/amd64 linux/arm64" ] || { echo "function index platforms: '$platforms', want 'linux/amd64 linux/arm64'" >&2; exit 1; }
for arch in amd64 arm64; do
  cfg=$("$BIN/crane" config --insecure --platform "linux/$arch" "$reg/pgdr/function-postgres-dr:$VERSION")
  echo "$cfg" | python3 -c 'import json,sys; c=json.load(sys.stdin); a=sys.argv[1]
assert c["architecture"]==a, c["architecture"]
assert c["config"]["Entrypoint"]==["/function"], c["config"]
assert "9443/tcp" in c["config"]["ExposedPorts"], c["config"]' "$arch"
done
"$BIN/crane" manifest --insecure "$reg/pgdr/configuration-postgres-dr:$VERSION" >/dev/null
echo "pushed to $reg: pgdr/function-postgres-dr:$VERSION ($platforms), pgdr/configuration-postgres-dr:$VERSION"
