#!/usr/bin/env bash
# Build (once, cached by version) the Kubernetes binaries, then run the cluster playbook on inventories/local.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
. "$HERE/lib/common.sh"
start=$(date +%s)
if ! "$HERE/build-k8s-binaries.sh" >"$QI_LOG_DIR/k8s-build.log" 2>&1; then
  tail -n 20 "$QI_LOG_DIR/k8s-build.log" >&2
  die "building the Kubernetes binaries failed: see $QI_LOG_DIR/k8s-build.log"
fi
cd "$ROOT"
.venv/bin/ansible-playbook -i inventories/local/hosts.yml playbooks/cluster.yml "$@"
say "cluster up in $(( $(date +%s) - start )) s; KUBECONFIG=$QI_STATE_DIR/cluster/etc/admin.kubeconfig"
