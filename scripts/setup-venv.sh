#!/usr/bin/env bash
# The project virtualenv .venv with pinned versions; rebuilt only when requirements.txt changes.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/.venv
want=$(cat "$ROOT/requirements.txt" "$ROOT/requirements.lock" | sha256sum | cut -c1-16)
link() {
  # The repository is the collection: expose it to Ansible as qi.convergence (ansible.cfg collections_path).
  mkdir -p "$ROOT/build/collections/ansible_collections/qi"
  ln -sfn ../../../.. "$ROOT/build/collections/ansible_collections/qi/convergence"
}
if [[ -x $VENV/bin/python && $(cat "$VENV/.qi-requirements" 2>/dev/null) == "$want" ]]; then
  link; exit 0
fi
say "creating virtualenv $VENV from requirements.txt"
PY=${QI_PYTHON:-python3}
[[ -x $VENV/bin/python ]] || "$PY" -m venv "$VENV"
# The lock pins every package, so pip installs without resolving; requirements.txt is what it was made from.
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$ROOT/requirements.lock" >"$QI_LOG_DIR/pip.log" 2>&1 \
  || die "pip install -r requirements.lock failed: see $QI_LOG_DIR/pip.log"
"$VENV/bin/pip" check >>"$QI_LOG_DIR/pip.log" 2>&1 || die "the locked packages do not fit together: see $QI_LOG_DIR/pip.log"
echo "$want" >"$VENV/.qi-requirements"
link
