#!/usr/bin/env bash
# crossplane-up.sh BIN RUN: on the control plane of cluster-up.sh, Crossplane core run outside the
# cluster with the External package runtime (the package manager pulls packages but makes no
# Deployments), and a local in-memory OCI registry (crane registry serve) that Crossplane pulls
# from over plain HTTP on loopback. Writes RUN/registry (host:port), RUN/crossplane.env (core's
# ports) and, through crossplane-core.sh, RUN/crossplane-metrics (host:port).
set -euo pipefail
BIN=$(cd "$1" && pwd); RUN=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
export KUBECONFIG=$RUN/kubeconfig
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
printf 'XP_METRICS_PORT=%s\nXP_HEALTH_PORT=%s\nXP_WEBHOOK_PORT=%s\n' "$(freeport)" "$(freeport)" "$(freeport)" >"$RUN/crossplane.env"
"$here/crossplane-core.sh" "$BIN" "$RUN"
rp=$(freeport)
start registry "$BIN/crane" registry serve --address "127.0.0.1:$rp"
wait_for 30 registry curl -sf "http://127.0.0.1:$rp/v2/"
echo "127.0.0.1:$rp" >"$RUN/registry"
echo "registry up: 127.0.0.1:$rp"
