#!/usr/bin/env bash
# A Docker engine that answers: reuse a running one, else start dockerd in the background.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
if docker info >/dev/null 2>&1; then exit 0; fi
DOCKERD=${QI_DOCKERD:-dockerd}
command -v "$DOCKERD" >/dev/null || die "dockerd is not installed (Debian package docker.io)"
say "starting dockerd (log $QI_LOG_DIR/dockerd.log)"
mkdir -p "$QI_STATE_DIR/docker"
start_daemon dockerd "$DOCKERD" --data-root "$QI_STATE_DIR/docker" --exec-root /run/qi-docker \
  --pidfile /run/qi-docker.pid -H unix:///var/run/docker.sock
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && break
  pid_alive dockerd || die "Docker engine cannot start: $(grep -v '^\s*$' "$QI_LOG_DIR/dockerd.log" | tail -n 1) (log $QI_LOG_DIR/dockerd.log)"
  sleep 0.5
done
docker info >/dev/null 2>&1 || die "Docker engine did not answer within 30 s: see $QI_LOG_DIR/dockerd.log"
# Docker sets FORWARD to DROP, which would cut pod traffic of the embedded cluster.
iptables -P FORWARD ACCEPT 2>/dev/null || true
