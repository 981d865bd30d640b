#!/usr/bin/env bash
# cluster-up.sh BIN RUN: a real Kubernetes control plane on loopback, on free ports: etcd (Debian's
# etcd-server), kube-apiserver, and kube-controller-manager with only the garbage collector and
# namespace controllers (deleting a claim needs the garbage collector). Writes RUN/kubeconfig (admin
# client cert), RUN/*.pid and RUN/*.log; down.sh RUN stops it all.
set -euo pipefail
BIN=$(cd "$1" && pwd); RUN=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
for b in kube-apiserver kube-controller-manager; do [ -x "$BIN/$b" ] || { echo "missing $BIN/$b" >&2; exit 1; }; done
command -v etcd >/dev/null || { echo "etcd missing: run hack/install-e2e-deps.sh" >&2; exit 1; }
"$here/gen-pki.sh" "$RUN/pki"; K=$RUN/pki
ec=$(freeport); ep=$(freeport); ap=$(freeport); cp=$(freeport)
rm -rf "$RUN/etcd-data"
start etcd etcd --name e2e --data-dir "$RUN/etcd-data" \
  --listen-client-urls "http://127.0.0.1:$ec" --advertise-client-urls "http://127.0.0.1:$ec" \
  --listen-peer-urls "http://127.0.0.1:$ep" --initial-advertise-peer-urls "http://127.0.0.1:$ep" \
  --initial-cluster "e2e=http://127.0.0.1:$ep" --listen-metrics-urls "http://127.0.0.1:$(freeport)"
wait_for 30 etcd curl -sf "http://127.0.0.1:$ec/health"
start kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ec" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$ap" \
  --tls-cert-file="$K/apiserver.crt" --tls-private-key-file="$K/apiserver.key" --client-ca-file="$K/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$K/sa.pub" \
  --service-account-signing-key-file="$K/sa.key" --service-cluster-ip-range=10.0.0.0/24 \
  --authorization-mode=RBAC --disable-admission-plugins=ServiceAccount
cat >"$RUN/kubeconfig" <<EOK
apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: "https://127.0.0.1:$ap", certificate-authority: "$K/ca.crt"}}]
users: [{name: admin, user: {client-certificate: "$K/admin.crt", client-key: "$K/admin.key"}}]
contexts: [{name: e2e, context: {cluster: e2e, user: admin}}]
current-context: e2e
EOK
export KUBECONFIG=$RUN/kubeconfig
wait_for 60 kube-apiserver kubectl get --raw /readyz
start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$RUN/kubeconfig" \
  --authentication-kubeconfig="$RUN/kubeconfig" --authorization-kubeconfig="$RUN/kubeconfig" \
  --controllers=garbagecollector,namespace --leader-elect=false --use-service-account-credentials=false \
  --bind-address=127.0.0.1 --secure-port="$cp"
wait_for 60 kube-controller-manager sh -c "curl -sk https://127.0.0.1:$cp/healthz | grep -q ok"
echo "control plane up: KUBECONFIG=$RUN/kubeconfig (apiserver 127.0.0.1:$ap, etcd 127.0.0.1:$ec)"
