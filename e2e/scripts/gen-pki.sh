#!/usr/bin/env bash
# gen-pki.sh DIR: every certificate of the local control plane, from one test CA: the API server's
# serving cert, the admin client cert (O=system:masters), the function's server cert (SAN
# IP:127.0.0.1), Crossplane's client cert for the function, and the service-account key pair.
# Writes the ca.crt/tls.crt/tls.key layouts Crossplane (--tls-client-certs-dir) and function-sdk-go
# (--tls-server-certs-dir) read. Idempotent: an existing DIR/ca.crt is kept.
set -euo pipefail
D=$1
mkdir -p "$D"; cd "$D"
[ -f ca.crt ] && exit 0
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=function-postgres-dr-e2e-ca" 2>/dev/null
mk() { # name cn o sans
  local n=$1 cn=$2 o=$3 sans=$4
  openssl req -newkey rsa:2048 -nodes -keyout "$n.key" -out "$n.csr" -subj "/CN=$cn${o:+/O=$o}" 2>/dev/null
  printf "subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n" "$sans" >"$n.ext"
  openssl x509 -req -in "$n.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$n.crt" -days 30 -extfile "$n.ext" 2>/dev/null
}
mk apiserver kube-apiserver "" "IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc"
mk admin admin system:masters "DNS:admin"
mk fn-server function-postgres-dr "" "IP:127.0.0.1"
mk xp-client crossplane "" "DNS:crossplane"
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
mkdir -p xp-client-dir fn-server-dir
cp ca.crt xp-client-dir/ca.crt; cp xp-client.crt xp-client-dir/tls.crt; cp xp-client.key xp-client-dir/tls.key
cp ca.crt fn-server-dir/ca.crt; cp fn-server.crt fn-server-dir/tls.crt; cp fn-server.key fn-server-dir/tls.key
