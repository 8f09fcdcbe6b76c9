#!/usr/bin/env bash
# Stop everything the project started (by pid) and remove the state dir.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/common.sh"
"$HERE/cluster-down.sh" || true
stop_daemon registry
if [[ -s $QI_RUN_DIR/dockerd.pid ]]; then
  docker ps -aq --filter name=qi-build- | xargs -r docker rm -f >/dev/null 2>&1 || true
  stop_daemon dockerd
  mounts=$(grep -oE " $QI_STATE_DIR/docker[^ ]*" /proc/self/mounts || true)
  sort -r <<<"$mounts" | while read -r m; do [[ -z $m ]] || umount -l "$m" 2>/dev/null || true; done
fi
rm -rf "$QI_STATE_DIR"
say "removed $QI_STATE_DIR"
