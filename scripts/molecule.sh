#!/usr/bin/env bash
# Every molecule scenario (docker driver, pre-built local images, testinfra verifiers).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH=$ROOT/.venv/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg
for s in "${@:-default nodejs_app}"; do
  for scenario in $s; do
    echo "== molecule test -s $scenario"
    molecule test -s "$scenario"
  done
done
