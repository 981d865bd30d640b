#!/usr/bin/env bash
# crossplane-up.sh BIN RUN: on the control plane of cluster-up.sh, Crossplane core run outside the
# cluster with the External package runtime (the package manager pulls packages but makes no
# Deployments), and a local in-memory OCI registry (crane registry serve) that Crossplane pulls
# from over plain HTTP on loopback. Writes RUN/registry (host:port) and RUN/crossplane.env.
set -euo pipefail
BIN=$(cd "$1" && pwd); RUN=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
export KUBECONFIG=$RUN/kubeconfig; K=$RUN/pki
XP_VERSION=${XP_VERSION:-v2.4.0}
# Packages declare the Crossplane versions they work with; a core built without its version
# (-X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=...) refuses every package.
v=$("$BIN/crossplane-core" --version 2>/dev/null || true)
case "$v" in v[0-9]*) ;; *) echo "crossplane-core reports no version ('$v'): build it with -X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=$XP_VERSION" >&2; exit 1 ;; esac
XPSRC=$(go env GOMODCACHE)/github.com/crossplane/crossplane/v2@$XP_VERSION
if [ ! -d "$XPSRC/cluster/crds" ]; then
  (cd "$here/../../tools/xpcore" && go mod download "github.com/crossplane/crossplane/v2@$XP_VERSION")
fi
kubectl create namespace crossplane-system >/dev/null
# core init installs Crossplane's CRDs, its CA and client-cert secrets and the Lock. Its first run
# can fail on 'no matches for kind "Lock"' (the new CRD is not discoverable yet): retry.
ok=
for _ in 1 2 3 4 5 6 7 8 9 10; do
  if "$BIN/crossplane-core" core init --enable-webhooks=false --cr-ds-path="$XPSRC/cluster/crds" \
    --tlsca-secret-name=crossplane-root-ca --tls-client-secret-name=crossplane-tls-client >"$RUN/crossplane-init.log" 2>&1; then
    ok=1; break
  fi
  sleep 0.5
done
[ -n "$ok" ] || { echo "crossplane core init failed" >&2; tail -n 20 "$RUN/crossplane-init.log" >&2; exit 1; }
mkdir -p "$RUN/xpkg-cache" "$RUN/xfn-cache"
hp=$(freeport)
# Each XR has a circuit breaker on the watch events of its composed resources (default: burst 100,
# refill 1/s, open for 5 min). An XPostgresDR composes about 160 resources, and their providers
# touch each several times while creating them, so with the defaults the breaker opens on the first
# wave and the XR falls back to the 1-minute poll. Platform teams should raise it the same way
# (Helm: args); XP_CIRCUIT_BREAKER_ARGS="" runs with Crossplane's defaults.
read -r -a breaker <<<"${XP_CIRCUIT_BREAKER_ARGS---circuit-breaker-burst=1000 --circuit-breaker-refill-rate=20}"
POD_NAMESPACE=crossplane-system start crossplane "$BIN/crossplane-core" core start \
  --enable-webhooks=false --package-runtime=External "${breaker[@]}" \
  --tls-client-certs-dir="$K/xp-client-dir" --xpkg-cache-dir="$RUN/xpkg-cache" --xfn-cache-dir="$RUN/xfn-cache" \
  --metrics-port="$(freeport)" --health-probe-port="$hp" --webhook-port="$(freeport)" --debug
rp=$(freeport)
start registry "$BIN/crane" registry serve --address "127.0.0.1:$rp"
wait_for 30 registry curl -sf "http://127.0.0.1:$rp/v2/"
echo "127.0.0.1:$rp" >"$RUN/registry"
wait_for 90 crossplane curl -sf "http://127.0.0.1:$hp/readyz"
echo "crossplane up: registry 127.0.0.1:$rp, health 127.0.0.1:$hp"
