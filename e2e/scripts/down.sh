#!/usr/bin/env bash
# down.sh RUN: stops what cluster-up.sh, crossplane-up.sh and the test started, by their recorded
# PIDs only: SIGTERM to all of them at once, SIGKILL to any still running after 5 s.
RUN=$1
pids=()
for n in function function-render registry crossplane kube-controller-manager kube-apiserver etcd; do
  f=$RUN/$n.pid; [ -f "$f" ] || continue
  pid=$(cat "$f"); rm -f "$f"
  kill "$pid" 2>/dev/null && pids+=("$pid")
done
for pid in "${pids[@]}"; do
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
done
exit 0
