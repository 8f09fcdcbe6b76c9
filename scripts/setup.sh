#!/usr/bin/env bash
# Idempotent bring-up of the local infrastructure: Debian packages, project virtualenv,
# Docker engine, base images, registry. A no-op in seconds when everything is there.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"

step() { "$HERE/setup-$1.sh"; }
step packages
step venv
step docker
step base-images
step registry
say "infrastructure ready (state dir $QI_STATE_DIR)"
