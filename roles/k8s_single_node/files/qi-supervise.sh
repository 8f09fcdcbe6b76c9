#!/usr/bin/env bash
# Supervise a daemon by pid file where systemd is not PID 1.
#   qi-supervise.sh start NAME RUN_DIR LOG_DIR -- CMD...   prints "running" or "started" (restarted when CMD changed)
#   qi-supervise.sh restart NAME RUN_DIR LOG_DIR -- CMD... prints "started"
#   qi-supervise.sh stop NAME RUN_DIR                       prints "stopped" or "absent"
set -euo pipefail
action=$1 name=$2 run=$3
pidfile=$run/$name.pid
alive() { [[ -s $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
stop() {
  if alive; then
    local pid; pid=$(cat "$pidfile"); kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"; echo stopped
  else
    rm -f "$pidfile"; echo absent
  fi
}
case $action in
  stop) stop; exit 0 ;;
  start|restart)
    logs=$4; shift 5
    mkdir -p "$run" "$logs"
    # A running daemon whose command line changed (a flag added to the role) is restarted with the new one.
    cmd=$(printf '%q ' "$@")
    if [[ $action == start ]] && alive && [[ $(cat "$run/$name.cmd" 2>/dev/null) != "$cmd" ]]; then action=restart; fi
    if [[ $action == restart ]]; then stop >/dev/null; fi
    if alive; then echo running; exit 0; fi
    setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    printf '%s' "$cmd" >"$run/$name.cmd"
    sleep 1
    if ! alive; then
      echo "ERROR: $name exited at start; last log lines:" >&2; tail -n 20 "$logs/$name.log" >&2; exit 1
    fi
    echo started ;;
  *) echo "usage: $0 start|restart|stop NAME RUN_DIR [LOG_DIR -- CMD...]" >&2; exit 2 ;;
esac
