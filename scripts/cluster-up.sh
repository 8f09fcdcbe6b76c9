#!/usr/bin/env bash
# Build (once, cached by version) the Kubernetes binaries, then run the cluster playbook on inventories/local.
# When the cluster this playbook last brought up is still healthy and nothing it is made from changed (role,
# playbook, inventory, binaries), the playbook is not run again: `make cluster` is then a check of seconds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
start=$(date +%s)
# Its stage and progress lines go to the terminal (the first build takes minutes); the compiler's to its log.
if ! "$HERE/build-k8s-binaries.sh" 2>&1 | tee "$QI_LOG_DIR/k8s-build.log"; then
  die "building the Kubernetes binaries failed: see $QI_LOG_DIR/k8s-build.log and $QI_LOG_DIR/k8s-build-*.log"
fi
cd "$ROOT"
C=$QI_STATE_DIR/cluster
BIN=$QI_STATE_DIR/k8s/${QI_K8S_VERSION:-v1.35.4}/bin
STAMP=$C/etc/.up-inputs

# inputs: a digest of everything the playbook's outcome depends on here.
inputs() {
  { find roles/k8s_single_node playbooks/cluster.yml inventories/local -type f -print0 | sort -z | xargs -0 sha256sum
    cat "$BIN"/*.version "$BIN"/coredns.plugins "$BIN"/.complete 2>/dev/null
    env | grep -E '^(QI_|K8S_)' | sort; } | sha256sum | cut -d' ' -f1
}

# healthy: every supervised process runs, the API server is ready, the node Ready, the add-ons available.
healthy() {
  local k=("$BIN/kubectl" --kubeconfig "$C/etc/admin.kubeconfig" --request-timeout=5s) f
  for f in "$C"/run/*.pid; do [[ -s $f ]] && kill -0 "$(cat "$f")" 2>/dev/null || return 1; done
  "${k[@]}" get --raw=/readyz >/dev/null 2>&1 \
    && "${k[@]}" wait --for=condition=Ready node --all --timeout=5s >/dev/null 2>&1 \
    && "${k[@]}" -n kube-system wait --for=condition=Available deployment --all --timeout=5s >/dev/null 2>&1
}

if [[ $# -eq 0 && -f $STAMP && $(cat "$STAMP") == "$(inputs)" ]] && healthy; then
  say "cluster up, unchanged since it was provisioned (checked in $(( $(date +%s) - start )) s); KUBECONFIG=$C/etc/admin.kubeconfig"
  exit 0
fi
rm -f "$STAMP"
.venv/bin/ansible-playbook -i inventories/local/hosts.yml playbooks/cluster.yml "$@"
[[ $# -gt 0 ]] || inputs >"$STAMP"
say "cluster up in $(( $(date +%s) - start )) s; KUBECONFIG=$C/etc/admin.kubeconfig"
