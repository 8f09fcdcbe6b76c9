#!/usr/bin/env bash
# ansible-test sanity against the collection in the ansible_collections/qi/convergence layout it needs,
# copied from the files git tracks (plus untracked, not ignored ones), with no ignore files.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib/common.sh"
# ansible-test bootstraps pip in each test venv with a script it downloads from a host not reachable here.
pipv=$(grep -ohE "pip='[0-9.]+'" "$ROOT"/.venv/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1 | tr -dc '0-9.')
cache=$HOME/.ansible/test/cache/get_pip_${pipv//./_}.py
[[ -s $cache ]] || { mkdir -p "$(dirname "$cache")"; cp "$ROOT/scripts/lib/get_pip_offline.py" "$cache"; }
DEST=$ROOT/build/sanity/ansible_collections/qi/convergence
rm -rf "$ROOT/build/sanity"; mkdir -p "$DEST"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$DEST")
[[ ! -d $DEST/tests/sanity ]] || die "tests/sanity exists: the project keeps no sanity ignore files"
cd "$DEST"
git init -q . && git add -A >/dev/null
"$ROOT/.venv/bin/ansible-test" sanity --color no --python "$("$ROOT/.venv/bin/python" -c 'import sys;print("%d.%d"%sys.version_info[:2])')" "$@"
