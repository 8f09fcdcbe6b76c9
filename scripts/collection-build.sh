#!/usr/bin/env bash
# Build the Galaxy tarball of the collection into build/dist (what `ansible-galaxy collection install` takes).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
version=$(awk '/^version:/{print $2}' "$ROOT/galaxy.yml")
mkdir -p "$ROOT/build/dist"
"$ROOT/.venv/bin/ansible-galaxy" collection build --force --output-path "$ROOT/build/dist" "$ROOT" >/dev/null
tarball=$ROOT/build/dist/qi-convergence-$version.tar.gz
[[ -s $tarball ]] || die "ansible-galaxy built no $tarball"
say "built $tarball"
say "install it with: ansible-galaxy collection install --no-deps --force $tarball  (its dependencies ship in the ansible package)"
