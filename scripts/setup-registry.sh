#!/usr/bin/env bash
# The project's container registry on 127.0.0.1:5000, storage under the state dir.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
CONF=$QI_STATE_DIR/registry/config.yml
url=http://$QI_REGISTRY_ADDR/v2/

is_registry() { curl -fsS -m 2 -o /dev/null -D - "$url" 2>/dev/null | grep -qi '^docker-distribution-api-version'; }

if pid_alive registry && is_registry; then exit 0; fi
if is_registry; then
  say "a registry already answers on $QI_REGISTRY_ADDR: using it"
  exit 0
fi
if (exec 3<>"/dev/tcp/${QI_REGISTRY_ADDR%:*}/${QI_REGISTRY_ADDR#*:}") 2>/dev/null; then
  die "port ${QI_REGISTRY_ADDR#*:} on ${QI_REGISTRY_ADDR%:*} is taken by something that is not a registry; free it or set QI_REGISTRY_ADDR"
fi
mkdir -p "$QI_STATE_DIR/registry/data"
cat >"$CONF" <<YML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $QI_STATE_DIR/registry/data}
  delete: {enabled: true}
http:
  addr: $QI_REGISTRY_ADDR
YML
say "starting registry on $QI_REGISTRY_ADDR"
start_daemon registry docker-registry serve "$CONF"
for _ in $(seq 1 40); do is_registry && exit 0; sleep 0.25; done
die "registry did not answer on $QI_REGISTRY_ADDR: $(tail -n 1 "$QI_LOG_DIR/registry.log")"
