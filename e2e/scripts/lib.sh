# lib.sh: helpers shared by the end-to-end scripts (sourced, not run).

# freeport prints a TCP port on 127.0.0.1 that is free at the time of asking.
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# wait_for SECONDS WHAT CMD...: runs CMD every 0.1 s until it succeeds; fails after SECONDS,
# pointing at the log of WHAT.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "timed out after ${secs}s waiting for $what" >&2
      [ -n "${RUN:-}" ] && [ -f "$RUN/$what.log" ] && tail -n 30 "$RUN/$what.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

# start NAME CMD...: runs CMD in the background with its output in RUN/NAME.log and its PID in
# RUN/NAME.pid (down.sh stops it by that PID).
start() {
  local name=$1; shift
  "$@" >"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}
