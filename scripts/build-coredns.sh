#!/usr/bin/env bash
# Build CoreDNS VERSION into OUT/coredns with only the plugins the embedded cluster's Corefile uses: CoreDNS's
# documented way, a main package that imports those plugins and sets the directives. Its default set compiles the
# AWS, Azure and Google Cloud DNS SDKs, etcd and more that the cluster never uses.
# Usage: build-coredns.sh OUT VERSION   (env: QI_COREDNS_PLUGINS, "all" for CoreDNS's default set)
set -euo pipefail

OUT=$1 V=$2
PLUGINS=${QI_COREDNS_PLUGINS:-reload ready health errors loadbalance cache kubernetes loop forward}
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

if [[ $PLUGINS == all ]]; then
  (cd "$WORK" && GOBIN="$OUT" go install -v -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$V")
  exit 0
fi
dir=$(cd "$WORK" && go mod download -json "github.com/coredns/coredns@$V" | python3 -c 'import json,sys
d = json.load(sys.stdin)
sys.exit(d["Error"]) if d.get("Error") else print(d["Dir"])')
# The directives in the order CoreDNS's own plugin.cfg gives them: that order is how a query flows.
mapfile -t order < <(sed -n 's/^\([a-z0-9_]*\):.*/\1/p' "$dir/plugin.cfg" | grep -xF "$(tr ' ' '\n' <<<"$PLUGINS")" || true)
[[ ${#order[@]} == $(wc -w <<<"$PLUGINS") ]] \
  || { echo "ERROR: CoreDNS $V lacks one of the plugins $PLUGINS (found: ${order[*]})" >&2; exit 1; }
# Built as CoreDNS's own module (its go.mod, go.sum and replace lines), its main package swapped for ours.
cp -r "$dir" "$WORK/coredns"; chmod -R u+w "$WORK/coredns"; rm -f "$WORK/coredns/coredns.go"
{
  echo 'package main'
  echo 'import ('
  echo '	"github.com/coredns/coredns/core/dnsserver"'
  echo '	"github.com/coredns/coredns/coremain"'
  for p in "${order[@]}"; do echo "	_ \"github.com/coredns/coredns/plugin/$p\""; done
  echo ')'
  echo "func init() { dnsserver.Directives = []string{$(printf '"%s", ' "${order[@]}")} }"
  echo 'func main() { coremain.Run() }'
} >"$WORK/coredns/main.go"
(cd "$WORK/coredns" && go build -v -trimpath -ldflags "-s -w" -o "$OUT/coredns" .)
for p in "${order[@]}"; do
  "$OUT/coredns" -plugins | grep -Eqx "( *dns\.)?$p" || { echo "ERROR: the CoreDNS built lacks the $p plugin" >&2; exit 1; }
done
