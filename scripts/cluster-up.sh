#!/usr/bin/env bash
# Build (once, cached by version) the Kubernetes binaries, then run the cluster playbook on inventories/local.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
. "$HERE/lib/common.sh"
start=$(date +%s)
# Its stage and progress lines go to the terminal (the first build takes minutes); the compiler's to its log.
if ! "$HERE/build-k8s-binaries.sh" 2>&1 | tee "$QI_LOG_DIR/k8s-build.log"; then
  die "building the Kubernetes binaries failed: see $QI_LOG_DIR/k8s-build.log and $QI_LOG_DIR/k8s-build-*.log"
fi
cd "$ROOT"
.venv/bin/ansible-playbook -i inventories/local/hosts.yml playbooks/cluster.yml "$@"
say "cluster up in $(( $(date +%s) - start )) s; KUBECONFIG=$QI_STATE_DIR/cluster/etc/admin.kubeconfig"
