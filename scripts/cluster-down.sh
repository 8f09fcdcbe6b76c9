#!/usr/bin/env bash
# Stop every process the embedded cluster started (by pid file) and leave no mounts behind.
# The cluster's data (etcd, PKI, images) stays: `make cluster` brings the same cluster back.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
C=$QI_STATE_DIR/cluster
RUN=$C/run
SOCK=/run/qi-convergence/containerd/containerd.sock
[[ -d $RUN ]] || { say "no cluster state in $C"; exit 0; }
stop() { if [[ -x $C/qi-supervise.sh ]]; then "$C/qi-supervise.sh" stop "$1" "$RUN" >/dev/null || true; fi; }

stop kube-router
stop kubelet
if [[ -S $SOCK ]] && command -v ctr >/dev/null; then
  ctr_() { timeout 30 ctr --address "$SOCK" -n k8s.io "$@"; }
  for t in $(ctr_ task ls -q 2>/dev/null); do ctr_ task kill -s KILL "$t" >/dev/null 2>&1 || true; done
  sleep 1
  for t in $(ctr_ task ls -q 2>/dev/null); do ctr_ task delete -f "$t" >/dev/null 2>&1 || true; done
fi
for n in kube-proxy kube-scheduler kube-controller-manager kube-apiserver etcd containerd; do stop "$n"; done
# Shims outlive containerd; they belong to our containerd only when started with our socket.
pkill -f "containerd-shim-runc-v2 .*-address $SOCK" 2>/dev/null || true
sleep 0.5
# Unmount what pods left: kubelet volumes, pod network namespaces, container root filesystems.
mounts=$(grep -oE " ($C/kubelet|$C/containerd|/run/qi-convergence|/run/netns/cni-|/var/run/netns/cni-)[^ ]*" /proc/self/mounts || true)
sort -r <<<"$mounts" | while read -r m; do [[ -z $m ]] || umount -l "$m" 2>/dev/null || true; done
rm -f /run/netns/cni-* 2>/dev/null || true
left=$(grep -cE " ($C/kubelet|$C/containerd|/run/qi-convergence)" /proc/self/mounts || true)
say "cluster stopped (data kept in $C; $left mounts left)"
