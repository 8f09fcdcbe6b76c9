#!/usr/bin/env bash
# Debian packages the project drives. Installs only what is missing.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
PKGS="docker.io containerd runc containernetworking-plugins docker-registry iptables ipset conntrack
      debootstrap openssl iproute2 curl vagrant shellcheck openssh-server sudo"
missing=() found=()
for p in $PKGS; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then found+=("$p"); else missing+=("$p"); fi
done
# npm fetches exact Node.js builds from the npm registry for image builds: any npm on PATH will do.
if command -v npm >/dev/null; then found+=("npm($(npm --version 2>/dev/null))"); else missing+=(npm); fi
if [[ ${QI_SETUP_VERBOSE:-} ]]; then
  say "prerequisites found: ${found[*]}"
  command -v go >/dev/null && say "go found: $(go version | awk '{print $3}') (builds the embedded Kubernetes once)"
fi
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  [[ $(id -u) == 0 ]] || die "Debian packages missing (${missing[*]}) and not root: install them first"
  export DEBIAN_FRONTEND=noninteractive
  # Packages install, they do not start: a package's daemon (sshd on every address) is started by whoever needs it.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"; trap 'rm -f "$policy"' EXIT; fi
  apt-get update -qq >"$QI_LOG_DIR/apt.log" 2>&1 || die "apt-get update failed: see $QI_LOG_DIR/apt.log"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$QI_LOG_DIR/apt.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed: see $QI_LOG_DIR/apt.log"
fi
