#!/usr/bin/env bash
# Build the Kubernetes server binaries (with etcd, CoreDNS and the add-ons k3s ships) from upstream sources through
# the Go module proxy.
# No release binaries or images can be downloaded on this kind of machine, so the embedded cluster
# is built from source once and cached in the state dir, keyed by version.
# Usage: build-k8s-binaries.sh [VERSION]   (env: QI_STATE_DIR, QI_K8S_VERSION)
set -euo pipefail

K=${1:-${QI_K8S_VERSION:-v1.35.4}}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${QI_STATE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qi-convergence}
OUT=$STATE/k8s/$K/bin
STAMP=$OUT/.complete
BINS="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl"
LOG=$STATE/logs/k8s-build-$K.log
T0=$(date +%s)
stage() { echo "== [$(( $(date +%s) - T0 )) s] $*"; }

# with_progress CMD...: run a long Go command, its output in $LOG, a progress line every 30 s; on failure
# the last log lines.
with_progress() {
  "$@" >>"$LOG" 2>&1 &
  local pid=$! n=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1; n=$((n + 1))
    (( n % 30 )) || echo "   ... $(( $(date +%s) - T0 )) s, $(grep -c . "$LOG" || true) log lines (packages compiled) in $LOG"
  done
  wait "$pid" || { echo "ERROR: '$*' failed; last lines of $LOG:" >&2; tail -n 20 "$LOG" >&2; exit 1; }
}

# build_coredns: the cluster DNS add-on at the version this Kubernetes release's own add-on manifest names, with
# only the plugins the cluster's Corefile uses (scripts/build-coredns.sh).
COREDNS_PLUGINS="reload ready health errors loadbalance cache kubernetes loop forward"
build_coredns() {
  local v
  v=$(grep -o 'coredns:v[0-9.]*' "$SRC/cluster/addons/dns/coredns/coredns.yaml.in" | head -1 | cut -d: -f2)
  [[ -n $v ]] || { echo "ERROR: no CoreDNS version in $SRC/cluster/addons/dns/coredns/coredns.yaml.in" >&2; exit 1; }
  stage "building CoreDNS $v (cluster DNS; plugins: $COREDNS_PLUGINS)"
  with_progress env QI_COREDNS_PLUGINS="$COREDNS_PLUGINS" "$HERE/build-coredns.sh" "$OUT" "$v"
  "$OUT/coredns" -version | head -1
  echo "$v" >"$OUT/coredns.version"
  echo "$COREDNS_PLUGINS" >"$OUT/coredns.plugins"
}

# build_local_path: the dynamic provisioner behind the default StorageClass, as k3s ships it (its module
# vendors its dependencies; one binary, no image to pull).
LOCAL_PATH_V=${QI_LOCAL_PATH_VERSION:-v0.0.30}
build_local_path() {
  stage "building local-path-provisioner $LOCAL_PATH_V (the default StorageClass)"
  (cd "$WORK" && with_progress env GOBIN="$OUT" go install -v -trimpath -ldflags "-s -w" \
    "github.com/rancher/local-path-provisioner@$LOCAL_PATH_V")
  echo "$LOCAL_PATH_V" >"$OUT/local-path-provisioner.version"
}

# build_missing_addons: what a cached build of this Kubernetes version lacks (an add-on added or upgraded since).
build_missing_addons() {
  [[ -x $OUT/coredns && $(cat "$OUT/coredns.plugins" 2>/dev/null) == "$COREDNS_PLUGINS" ]] || build_coredns
  [[ -x $OUT/local-path-provisioner && $(cat "$OUT/local-path-provisioner.version" 2>/dev/null) == "$LOCAL_PATH_V" ]] \
    || build_local_path
}

SRC=$STATE/k8s/$K/src
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
if [[ -f $STAMP ]]; then
  if [[ -x $OUT/coredns && $(cat "$OUT/coredns.plugins" 2>/dev/null) == "$COREDNS_PLUGINS" \
        && -x $OUT/local-path-provisioner \
        && $(cat "$OUT/local-path-provisioner.version" 2>/dev/null) == "$LOCAL_PATH_V" ]]; then
    echo "kubernetes $K binaries already built in $OUT"
    exit 0
  fi
  command -v go >/dev/null || { echo "ERROR: go is not installed; it is needed to build the cluster add-ons" >&2; exit 1; }
  WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
  mkdir -p "$(dirname "$LOG")"; : >"$LOG"
  build_missing_addons
  stage "done: binaries in $OUT"
  exit 0
fi
command -v go >/dev/null || { echo "ERROR: go is not installed; it is needed to build Kubernetes $K" >&2; exit 1; }
mkdir -p "$(dirname "$LOG")"; : >"$LOG"
stage "building Kubernetes $K from source (first time on this machine: ~8 min on 2 cores; log $LOG)"

S=v0.${K#v1.}
MINOR=$(cut -d. -f2 <<<"$K")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

stage "downloading k8s.io/kubernetes@$K through the Go module proxy"
J=$(cd "$WORK" && go mod download -json "k8s.io/kubernetes@$K" 2>>"$LOG") \
  || { echo "ERROR: cannot download k8s.io/kubernetes@$K; last lines of $LOG:" >&2; tail -n 20 "$LOG" >&2; exit 1; }
D=$(python3 -c 'import json,sys;print(json.loads(sys.argv[1])["Dir"])' "$J")
C=$(python3 -c 'import json,sys;print(json.loads(sys.argv[1]).get("Origin",{}).get("Hash","unknown"))' "$J")

rm -rf "$SRC"; mkdir -p "$(dirname "$SRC")"; cp -r "$D" "$SRC"; chmod -R u+w "$SRC"
cd "$SRC"
# The module zip drops staging/ but keeps vendor/modules.txt and go.work: both would switch modes.
rm -rf vendor go.work go.work.sum
for m in $(go mod edit -json | python3 -c 'import json,sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"]["Path"].startswith("./staging/"): print(r["Old"]["Path"])'); do
  go mod edit -replace="$m=$m@$S"
done

LDF="-s -w"
for kv in gitVersion=$K gitMajor=1 gitMinor=$MINOR gitCommit=$C gitTreeState=clean buildDate=$(date -u +%FT%TZ); do
  LDF="$LDF -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
done

mkdir -p "$OUT"
stage "compiling $BINS (dependencies are downloaded as needed)"
start=$(date +%s)
# shellcheck disable=SC2046
with_progress go build -v -trimpath -tags selinux,notest,grpcnotrace -ldflags "$LDF" -o "$OUT/" \
  $(for b in $BINS; do echo "./cmd/$b"; done)
stage "kubernetes binaries built in $(( $(date +%s) - start )) s"

ETCD_V=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
stage "building etcd $ETCD_V"
ESRC=$STATE/k8s/$K/etcd-src
EJ=$(cd "$WORK" && go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_V" 2>>"$LOG")
ED=$(python3 -c 'import json,sys;print(json.loads(sys.argv[1])["Dir"])' "$EJ")
rm -rf "$ESRC"; cp -r "$ED" "$ESRC"; chmod -R u+w "$ESRC"
cd "$ESRC"
for r in $(go mod edit -json | python3 -c 'import json,sys
for r in json.load(sys.stdin).get("Replace") or []: print(r["Old"]["Path"])'); do
  go mod edit -dropreplace="$r"
done
with_progress go build -v -trimpath -ldflags "-s -w" -o "$OUT/etcd" .
cd /; rm -rf "$SRC/_output"
build_missing_addons

for b in $BINS etcd coredns local-path-provisioner; do [[ -x $OUT/$b ]] || { echo "ERROR: $OUT/$b missing after build" >&2; exit 1; }; done
"$OUT/kube-apiserver" --version
"$OUT/etcd" --version | head -1
stage "done: binaries in $OUT"
touch "$STAMP"
