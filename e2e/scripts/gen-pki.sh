#!/usr/bin/env bash
# gen-pki.sh DIR: every certificate of the local control plane, from one test CA: the API server's
# serving cert, the admin client cert (O=system:masters), the function's server cert (SAN
# IP:127.0.0.1), Crossplane's client cert for the function, Crossplane's webhook serving cert (SAN
# IP:127.0.0.1: kube-apiserver calls the webhooks by URL), and the service-account key pair.
# Writes the ca.crt/tls.crt/tls.key layouts Crossplane (--tls-client-certs-dir,
# --tls-server-certs-dir) and function-sdk-go (--tls-server-certs-dir) read. Idempotent: an
# existing DIR/ca.crt and every certificate already made with it are kept.
set -euo pipefail
D=$1
mkdir -p "$D"; cd "$D"
umask 077
[ -f ca.crt ] || openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=function-postgres-dr-e2e-ca" 2>/dev/null
mk() { # name cn o sans
  local n=$1 cn=$2 o=$3 sans=$4
  [ -f "$n.crt" ] && return 0
  openssl req -newkey rsa:2048 -nodes -keyout "$n.key" -out "$n.csr" -subj "/CN=$cn${o:+/O=$o}" 2>/dev/null
  printf "subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n" "$sans" >"$n.ext"
  openssl x509 -req -in "$n.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$n.crt" -days 30 -extfile "$n.ext" 2>/dev/null
}
mk apiserver kube-apiserver "" "IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc"
mk admin admin system:masters "DNS:admin"
mk fn-server function-postgres-dr "" "IP:127.0.0.1"
mk xp-client crossplane "" "DNS:crossplane"
mk xp-webhook crossplane-webhooks "" "IP:127.0.0.1"
[ -f sa.key ] || openssl genrsa -out sa.key 2048 2>/dev/null
[ -f sa.pub ] || openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
for d in xp-client fn-server xp-webhook; do
  mkdir -p "$d-dir"; cp ca.crt "$d-dir/ca.crt"; cp "$d.crt" "$d-dir/tls.crt"; cp "$d.key" "$d-dir/tls.key"
done
