#!/usr/bin/env bash
# crossplane-core.sh BIN RUN: (re)starts Crossplane core out of the cluster, on the ports of
# RUN/crossplane.env (crossplane-up.sh writes it), with the External package runtime, the
# function response cache and its webhooks (serving cert RUN/pki/xp-webhook-dir, SAN IP:127.0.0.1;
# the server listens on every interface, on XP_WEBHOOK_PORT: core has no flag for the host). A core already running (RUN/crossplane.pid) is stopped first and its log
# kept as RUN/crossplane.N.log; the response cache (RUN/xfn-cache) survives. Writes
# RUN/crossplane-metrics (host:port of core's Prometheus endpoint) and RUN/crossplane-breaker (its
# circuit breaker flags; empty: Crossplane's defaults).
set -euo pipefail
BIN=$(cd "$1" && pwd); RUN=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=/dev/null
. "$RUN/crossplane.env"
export KUBECONFIG=$RUN/kubeconfig; K=$RUN/pki
if [ -f "$RUN/crossplane.pid" ]; then
  pid=$(cat "$RUN/crossplane.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$RUN/crossplane.pid"
  n=1; while [ -e "$RUN/crossplane.$n.log" ]; do n=$((n + 1)); done
  mv "$RUN/crossplane.log" "$RUN/crossplane.$n.log"
fi
# Each XR has a circuit breaker on the watch events of itself and its composed resources (default:
# burst 100, refill 1/s, open for 5 min, letting one event through every 30 s). An XPostgresDR
# composes about 200 resources, and their providers touch each several times while creating them,
# so with the defaults the breaker opens on the first wave and the XR converges on its requeues
# (the function's converging TTL, 30 s). Platform teams should raise it the same way (Helm: args);
# XP_CIRCUIT_BREAKER_ARGS="" runs with Crossplane's defaults.
read -r -a breaker <<<"${XP_CIRCUIT_BREAKER_ARGS---circuit-breaker-burst=1000 --circuit-breaker-refill-rate=20}"
POD_NAMESPACE=crossplane-system start crossplane "$BIN/crossplane-core" core start \
  --package-runtime=External "${breaker[@]}" --tls-server-certs-dir="$K/xp-webhook-dir" \
  --enable-function-response-cache --xfn-cache-dir="$RUN/xfn-cache" \
  --tls-client-certs-dir="$K/xp-client-dir" --xpkg-cache-dir="$RUN/xpkg-cache" \
  --metrics-port="$XP_METRICS_PORT" --health-probe-port="$XP_HEALTH_PORT" --webhook-port="$XP_WEBHOOK_PORT" --debug
echo "127.0.0.1:$XP_METRICS_PORT" >"$RUN/crossplane-metrics"
echo "${breaker[*]}" >"$RUN/crossplane-breaker"
# readyz includes the webhook server's check.
wait_for 90 crossplane curl -sf "http://127.0.0.1:$XP_HEALTH_PORT/readyz"
echo "crossplane core up: circuit breaker ${breaker[*]:-(Crossplane defaults)}, metrics 127.0.0.1:$XP_METRICS_PORT, health 127.0.0.1:$XP_HEALTH_PORT, webhooks https://127.0.0.1:$XP_WEBHOOK_PORT"
