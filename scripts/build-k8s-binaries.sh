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

# with_progress CMD...: run a long Go command, its output in $LOG, a progress line every 30 s; with EXPECT (how
# many packages the command may compile, from go list -deps) an estimate of the time left, from the pace so far;
# on failure the last log lines.
with_progress() {
  local before; before=$(compiled)
  "$@" >>"$LOG" 2>&1 &
  local pid=$! n=0 done_ left
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1; n=$((n + 1))
    (( n % 30 )) && continue
    done_=$(( $(compiled) - before )) left=""
    (( ${EXPECT:-0} > done_ && done_ > 0 )) && left=", about $(( (EXPECT - done_) * n / done_ )) s left"
    echo "   ... $(( $(date +%s) - T0 )) s, $done_ of ${EXPECT:-?} packages compiled$left (log $LOG)"
  done
  wait "$pid" || { echo "ERROR: '$*' failed; last lines of $LOG:" >&2; tail -n 20 "$LOG" >&2; exit 1; }
}
# compiled: the packages go build -v has named in $LOG so far (not its download lines).
compiled() { grep -vc '^go: ' "$LOG" || true; }
# expect PACKAGES...: how many packages a build of them needs at most (cached ones are not compiled again).
expect() { go list -deps "$@" 2>>"$LOG" | grep -c . || true; }

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

# build_program MODULE VERSION PACKAGE BINARY [LDFLAGS]: a program built as its own module (its go.mod, go.sum and
# replace lines, which go install MODULE@VERSION refuses), from the module proxy's copy; PREPARE, when set, is run
# in that copy first.
build_program() {
  local dir
  dir=$(cd "$WORK" && go mod download -json "$1@$2" | python3 -c 'import json,sys
d = json.load(sys.stdin)
sys.exit(d["Error"]) if d.get("Error") else print(d["Dir"])')
  rm -rf "${WORK:?}/$4"; cp -r "$dir" "$WORK/$4"; chmod -R u+w "$WORK/$4"
  cd "$WORK/$4"
  [[ -z ${PREPARE:-} ]] || "$PREPARE"
  EXPECT=$(expect "./$3") with_progress go build -v -trimpath -ldflags "-s -w ${5:-}" -o "$OUT/$4" "./$3"
  cd - >/dev/null
  rm -rf "${WORK:?}/$4"
  echo "$2" >"$OUT/$4.version"
}

# The resource metrics API (kubectl top, HorizontalPodAutoscalers) and the ingress controller, as k3s ships them.
METRICS_SERVER_V=${QI_METRICS_SERVER_VERSION:-v0.8.0}
TRAEFIK_V=${QI_TRAEFIK_VERSION:-v3.6.12}
# QI_TRAEFIK_ACME_DNS=all keeps the ACME DNS-01 challenge providers (lego's ~180 DNS provider clients).
TRAEFIK_ACME_DNS=${QI_TRAEFIK_ACME_DNS:-none}
build_metrics_server() {
  stage "building metrics-server $METRICS_SERVER_V (kubectl top, HorizontalPodAutoscalers)"
  build_program sigs.k8s.io/metrics-server "$METRICS_SERVER_V" cmd/metrics-server metrics-server \
    "-X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_V"
}
# without_acme_dns: Traefik's ACME provider asks lego for DNS-01 challenge providers by name, and that one import
# compiles the DNS clients and cloud SDKs of every provider lego knows: a third of Traefik's packages. The embedded
# cluster's certificates come from Secrets; a DNS challenge named in its configuration fails saying it was left out.
without_acme_dns() {
  local f=pkg/provider/acme/provider.go
  grep -q '"github.com/go-acme/lego/v4/providers/dns"' "$f" \
    || { echo "ERROR: $f no longer imports lego's DNS providers as expected; set QI_TRAEFIK_ACME_DNS=all" >&2; exit 1; }
  mkdir -p pkg/provider/acme/nodns
  cat >pkg/provider/acme/nodns/nodns.go <<'GO'
// Package nodns stands in for lego's DNS challenge providers in the embedded cluster's Traefik (see
// scripts/build-k8s-binaries.sh of qi.convergence).
package nodns

import (
	"fmt"

	"github.com/go-acme/lego/v4/challenge"
)

// NewDNSChallengeProviderByName says DNS-01 challenges were left out of this build.
func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("ACME DNS challenge provider %q: this Traefik was built without DNS challenge providers", name)
}
GO
  sed -i 's#"github.com/go-acme/lego/v4/providers/dns"#dns "github.com/traefik/traefik/v3/pkg/provider/acme/nodns"#' "$f"
}
# v3.6: from v3.7 its go.mod replaces a module of its own tree the module proxy's copy leaves out.
build_traefik() {
  stage "building Traefik $TRAEFIK_V (the ingress controller; ACME DNS challenge providers: $TRAEFIK_ACME_DNS)"
  PREPARE=$([[ $TRAEFIK_ACME_DNS == all ]] || echo without_acme_dns) \
    build_program github.com/traefik/traefik/v3 "$TRAEFIK_V" cmd/traefik traefik \
    "-X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_V"
  echo "$TRAEFIK_ACME_DNS" >"$OUT/traefik.acme-dns"
}

# The network policy controller, as k3s embeds it. v2.1.0 is the one version the module proxy serves; its
# golang.org/x dependencies are raised to current releases (reported vulnerabilities of v2.1.0 are theirs).
KUBE_ROUTER_V=${QI_KUBE_ROUTER_VERSION:-v2.1.0}
KUBE_ROUTER_X="golang.org/x/net@v0.62.0 golang.org/x/crypto@v0.59.0 golang.org/x/oauth2@v0.38.0 golang.org/x/sys@v0.50.0 golang.org/x/text@v0.44.0"
with_current_x() {
  # shellcheck disable=SC2086
  go get $KUBE_ROUTER_X >>"$LOG" 2>&1 || { echo "ERROR: raising kube-router's golang.org/x modules failed; last lines of $LOG:" >&2; tail -n 20 "$LOG" >&2; exit 1; }
}
build_kube_router() {
  stage "building kube-router $KUBE_ROUTER_V (NetworkPolicy enforcement)"
  PREPARE=with_current_x build_program github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_V" cmd/kube-router \
    kube-router "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_V"
}

# addon_current BINARY WANTED: the binary is built, from the version (or plugin set) wanted.
addon_current() { [[ -x $OUT/$1 && $(cat "$OUT/$1.${3:-version}" 2>/dev/null) == "$2" ]]; }
all_addons_current() {
  addon_current coredns "$COREDNS_PLUGINS" plugins && addon_current local-path-provisioner "$LOCAL_PATH_V" \
    && addon_current metrics-server "$METRICS_SERVER_V" && traefik_current \
    && addon_current kube-router "$KUBE_ROUTER_V"
}
traefik_current() { addon_current traefik "$TRAEFIK_V" && addon_current traefik "$TRAEFIK_ACME_DNS" acme-dns; }

# build_missing_addons: what a cached build of this Kubernetes version lacks (an add-on added or upgraded since).
build_missing_addons() {
  addon_current coredns "$COREDNS_PLUGINS" plugins || build_coredns
  addon_current local-path-provisioner "$LOCAL_PATH_V" || build_local_path
  addon_current metrics-server "$METRICS_SERVER_V" || build_metrics_server
  traefik_current || build_traefik
  addon_current kube-router "$KUBE_ROUTER_V" || build_kube_router
}

SRC=$STATE/k8s/$K/src
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
if [[ -f $STAMP ]]; then
  if all_addons_current; then
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
CMDS=$(for b in $BINS; do echo "./cmd/$b"; done)
# shellcheck disable=SC2086
EXPECT=$(expect -tags selinux,notest,grpcnotrace $CMDS) \
  with_progress go build -v -trimpath -tags selinux,notest,grpcnotrace -ldflags "$LDF" -o "$OUT/" $CMDS
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

for b in $BINS etcd coredns local-path-provisioner metrics-server traefik kube-router; do [[ -x $OUT/$b ]] || { echo "ERROR: $OUT/$b missing after build" >&2; exit 1; }; done
"$OUT/kube-apiserver" --version
"$OUT/etcd" --version | head -1
stage "done: binaries in $OUT"
touch "$STAMP"
