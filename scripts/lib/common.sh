# Shared shell helpers for the bootstrap scripts: state dir layout, messages, pid-file supervision.
# shellcheck shell=bash
QI_STATE_DIR=${QI_STATE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qi-convergence}
QI_LOG_DIR=$QI_STATE_DIR/logs
QI_RUN_DIR=$QI_STATE_DIR/run
QI_REGISTRY_ADDR=${QI_REGISTRY_ADDR:-127.0.0.1:5000}
QI_BASE_IMAGE=${QI_BASE_IMAGE:-qi-convergence/debian:12}
QI_SYSTEMD_IMAGE=${QI_SYSTEMD_IMAGE:-qi-convergence/debian-systemd:12}
export QI_STATE_DIR
mkdir -p "$QI_LOG_DIR" "$QI_RUN_DIR"

say() { printf '== %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# pid_alive NAME: true when the pid file of NAME names a running process.
pid_alive() {
  local f=$QI_RUN_DIR/$1.pid
  [[ -s $f ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

# start_daemon NAME CMD...: start CMD detached, log and pid under the state dir.
start_daemon() {
  local name=$1; shift
  setsid "$@" >>"$QI_LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >"$QI_RUN_DIR/$name.pid"
}

# stop_daemon NAME: stop by pid file, wait for it to go, then forget it.
stop_daemon() {
  local name=$1 f=$QI_RUN_DIR/$1.pid pid
  [[ -s $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    say "stopped $name (pid $pid)"
  fi
  rm -f "$f"
}

# debian_mirror: the Debian archive this machine's apt uses (never hard-coded in the repo).
debian_mirror() {
  local m=${QI_DEBIAN_MIRROR:-}
  [[ -z $m ]] || { echo "$m"; return; }
  m=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
  [[ -n $m ]] || m=$(grep -hE '^\s*deb\s' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
  [[ -n $m ]] || die "no Debian mirror found in /etc/apt/sources.list(.d): cannot build base images"
  echo "$m"
}
