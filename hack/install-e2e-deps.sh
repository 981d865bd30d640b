#!/usr/bin/env bash
# install-e2e-deps.sh: the system packages the end-to-end test needs that Go does not build.
# Idempotent: installs only what is missing. etcd comes from Debian's etcd-server. kubectl is the
# machine's own; Debian's kubernetes-client would conflict with it, so it is never installed here.
set -euo pipefail
need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
  echo "install-e2e-deps: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts etcd as a service on install; the test runs its own etcd on free ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
  systemctl stop etcd || true
fi
command -v kubectl >/dev/null || { echo "install-e2e-deps: kubectl is missing" >&2; exit 1; }
