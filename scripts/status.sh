#!/usr/bin/env bash
# A short report of the local infrastructure the project runs.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
K=$QI_STATE_DIR/cluster/etc/admin.kubeconfig
echo "state dir:  $QI_STATE_DIR"
echo "docker:     $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo 'not answering')"
echo "registry:   $(curl -fsS -m 2 "http://$QI_REGISTRY_ADDR/v2/_catalog" 2>/dev/null || echo 'not answering')"
echo "base images: $(docker images --format '{{.Repository}}:{{.Tag}}' | grep '^qi-convergence/' | tr '\n' ' ')"
if [[ -s $K ]] && kb=$(find "$QI_STATE_DIR/k8s" -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort | tail -1) && "$kb/kubectl" --kubeconfig "$K" get --raw /readyz >/dev/null 2>&1; then
  echo "cluster:    $("$kb/kubectl" --kubeconfig "$K" get nodes --no-headers 2>/dev/null | awk '{print $1, $2, $5}')  KUBECONFIG=$K"
  "$kb/kubectl" --kubeconfig "$K" get svc -A -l app.kubernetes.io/managed-by=qi.convergence \
    -o jsonpath='{range .items[*]}{"service:    "}{.metadata.namespace}/{.metadata.name} {.spec.type} http://127.0.0.1:{.spec.ports[0].nodePort}/{"\n"}{end}' 2>/dev/null
else
  echo "cluster:    not running (make cluster)"
fi
