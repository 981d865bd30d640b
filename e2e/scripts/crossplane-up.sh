#!/usr/bin/env bash
# crossplane-up.sh BIN RUN: on the control plane of cluster-up.sh, Crossplane core run outside the
# cluster with the External package runtime (the package manager pulls packages but makes no
# Deployments), and a local in-memory OCI registry (crane registry serve) that Crossplane pulls
# from over plain HTTP on loopback. Crossplane's webhooks are on: core init installs its webhook
# configurations, which are then pointed at core's webhook server by URL (below). Writes
# RUN/registry (host:port), RUN/crossplane.env (core's ports) and, through crossplane-core.sh,
# RUN/crossplane-metrics (host:port).
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
K=$RUN/pki
printf 'XP_METRICS_PORT=%s\nXP_HEALTH_PORT=%s\nXP_WEBHOOK_PORT=%s\n' "$(freeport)" "$(freeport)" "$(freeport)" >"$RUN/crossplane.env"
# shellcheck source=/dev/null
. "$RUN/crossplane.env"
kubectl create namespace crossplane-system >/dev/null
# Core serves its webhooks (the usage webhook refuses deleting what a Usage protects) outside the
# cluster, so no Service reaches it: kube-apiserver calls it at https://127.0.0.1:$XP_WEBHOOK_PORT,
# with the serving cert gen-pki.sh made for IP:127.0.0.1 (crossplane-core.sh hands it to core). core
# init keeps a TLS server secret that already holds a certificate and takes the webhook
# configurations' CA bundle from it, so the secret is made from that cert first.
kubectl -n crossplane-system create secret generic crossplane-tls-server --type=kubernetes.io/tls \
  --from-file=tls.crt="$K/xp-webhook.crt" --from-file=tls.key="$K/xp-webhook.key" --from-file=ca.crt="$K/ca.crt" >/dev/null
# core init installs Crossplane's CRDs, its CA and client-cert secrets, the Lock and, with webhooks
# on, its webhook configurations (cluster/webhookconfigurations: the usage webhook) pointing at the
# Service named here, which does not exist. Its first run can fail on 'no matches for kind "Lock"'
# (the new CRD is not discoverable yet): retry.
ok=
for _ in 1 2 3 4 5 6 7 8 9 10; do
  if "$BIN/crossplane-core" core init --cr-ds-path="$XPSRC/cluster/crds" \
    --webhook-configurations-path="$XPSRC/cluster/webhookconfigurations" --tls-server-secret-name=crossplane-tls-server \
    --webhook-service-name=crossplane-webhooks --webhook-service-namespace=crossplane-system --webhook-service-port="$XP_WEBHOOK_PORT" \
    --tlsca-secret-name=crossplane-root-ca --tls-client-secret-name=crossplane-tls-client >"$RUN/crossplane-init.log" 2>&1; then
    ok=1; break
  fi
  sleep 0.5
done
[ -n "$ok" ] || { echo "crossplane core init failed" >&2; tail -n 20 "$RUN/crossplane-init.log" >&2; exit 1; }
# Every webhook core init pointed at the Service is pointed at core's webhook server instead: the
# same path, by URL, with the CA bundle init wrote.
hooks=0
for kind in validatingwebhookconfigurations mutatingwebhookconfigurations; do
  while read -r name patch; do
    [ -n "$name" ] || continue
    kubectl patch "$kind" "$name" --type=json -p "$patch" >/dev/null
    hooks=$((hooks + $(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "$patch")))
  done < <(kubectl get "$kind" -o json | python3 -c '
import json, sys
port = sys.argv[1]
for c in json.load(sys.stdin)["items"]:
    ops = []
    for i, w in enumerate(c.get("webhooks", [])):
        cc = w.get("clientConfig", {})
        svc = cc.get("service") or {}
        if svc.get("name") == "crossplane-webhooks" and svc.get("namespace") == "crossplane-system":
            ops.append({"op": "replace", "path": "/webhooks/%d/clientConfig" % i, "value": {
                "url": "https://127.0.0.1:%s%s" % (port, svc.get("path", "")), "caBundle": cc.get("caBundle", "")}})
    if ops:
        print(c["metadata"]["name"], json.dumps(ops, separators=(",", ":")))
' "$XP_WEBHOOK_PORT")
done
[ "$hooks" -gt 0 ] || { echo "core init installed no webhook for the Service crossplane-webhooks" >&2; exit 1; }
echo "crossplane webhooks: $hooks webhook(s) at https://127.0.0.1:$XP_WEBHOOK_PORT"
mkdir -p "$RUN/xpkg-cache" "$RUN/xfn-cache"
"$here/crossplane-core.sh" "$BIN" "$RUN"
rp=$(freeport)
start registry "$BIN/crane" registry serve --address "127.0.0.1:$rp"
wait_for 30 registry curl -sf "http://127.0.0.1:$rp/v2/"
echo "127.0.0.1:$rp" >"$RUN/registry"
echo "registry up: 127.0.0.1:$rp"
