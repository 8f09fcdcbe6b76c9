#!/usr/bin/env bash
# Every test, in the order that fails fastest: lint, sanity, unit, then the real engine, registry,
# molecule scenarios, and the embedded cluster (brought up here when it is not running).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib/common.sh
export PATH=$ROOT/.venv/bin:$PATH ANSIBLE_CONFIG=$ROOT/ansible.cfg NO_COLOR=1 PY_COLORS=0 ANSIBLE_NOCOLOR=1
PYTEST=(.venv/bin/python -m pytest -p no:cacheprovider)
stage() { printf '\n== %s\n' "$1"; STAGE_START=$(date +%s); }
done_stage() { TIMES+=("$1: $(( $(date +%s) - STAGE_START )) s"); }
TIMES=()

stage "ansible-lint (production profile)"; ansible-lint --offline -q --nocolor; done_stage lint
stage "the house: stage imports point down, functions stay small"
.venv/bin/python scripts/import-graph.py; .venv/bin/python scripts/complexity.py; done_stage house
stage "ansible-test sanity (no ignore files)"; scripts/sanity.sh >"$QI_LOG_DIR/sanity.log" 2>&1 \
  || { tail -n 40 "$QI_LOG_DIR/sanity.log"; exit 1; }; echo "sanity tests passed: $(grep -cE '^Running sanity test' "$QI_LOG_DIR/sanity.log")"; done_stage sanity
stage "unit tests"; "${PYTEST[@]}" -q tests/unit; done_stage unit
stage "integration: engine, registry, images"; "${PYTEST[@]}" -q --durations=12 tests/integration -m "not cluster"; done_stage integration
stage "molecule"; scripts/molecule.sh >"$QI_LOG_DIR/molecule.log" 2>&1 \
  || { grep -vE '^\s*$' "$QI_LOG_DIR/molecule.log" | tail -n 60; exit 1; }; grep -E 'passed|actions=' "$QI_LOG_DIR/molecule.log"; done_stage molecule
stage "cluster"; scripts/cluster-up.sh >"$QI_LOG_DIR/cluster-up.log" 2>&1 \
  || { tail -n 40 "$QI_LOG_DIR/cluster-up.log"; exit 1; }; tail -n 1 "$QI_LOG_DIR/cluster-up.log"; done_stage cluster
stage "end-to-end on the embedded cluster"; "${PYTEST[@]}" -q --durations=12 tests/integration -m "cluster and not dev_host"; done_stage e2e
stage "the dev inventory over SSH (the embedded cluster stopped meanwhile)"
"${PYTEST[@]}" -q tests/integration -m dev_host; done_stage dev-host
printf '\n== stage times\n'; printf '%s\n' "${TIMES[@]}"
