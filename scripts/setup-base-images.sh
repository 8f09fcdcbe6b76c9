#!/usr/bin/env bash
# Base images made with debootstrap (no registry can be pulled from): Debian 12 minimal with python3,
# and a variant with systemd for VM-like tests. Rebuilt only when missing from the engine.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
# Bump BASE_FORMAT when the image changes, ROOTFS_FORMAT when the debootstrap tree does: older ones are rebuilt.
BASE_FORMAT=5
ROOTFS_FORMAT=3
ROOTFS_TAR=$QI_STATE_DIR/rootfs/debian-12-minbase-v$ROOTFS_FORMAT.tar
base_format() { docker image inspect -f '{{ index .Config.Labels "io.qi-convergence.base-format" }}' "$1" 2>/dev/null || true; }

if [[ $(base_format "$QI_BASE_IMAGE") != "$BASE_FORMAT" ]]; then
  if [[ ! -s $ROOTFS_TAR ]]; then
    mirror=$(debian_mirror)
    say "debootstrap Debian 12 minbase (log $QI_LOG_DIR/debootstrap.log)"
    dir=$(mktemp -d "$QI_STATE_DIR/rootfs.XXXX")
    trap 'rm -rf "$dir"' EXIT
    # python3-apt: Ansible's apt module needs it, and installs it itself (an extra apt run) into every build otherwise.
    debootstrap --variant=minbase --include=python3,python3-apt,ca-certificates,sudo bookworm "$dir" "$mirror" \
      >"$QI_LOG_DIR/debootstrap.log" 2>&1 \
      || die "debootstrap cannot reach the Debian mirror $mirror: $(grep -E '^[EW]:' "$QI_LOG_DIR/debootstrap.log" | tail -n 1) (log $QI_LOG_DIR/debootstrap.log)"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin
    # Empty lists dated now would pass apt's cache_valid_time (Ansible's apt module reads that folder's time)
    # and a build within the hour would find no package: date them at the epoch.
    touch -d @0 "$dir"/var/lib/apt/lists
    # No fsync per file while dpkg unpacks: a container's layer is thrown away when a build fails anyway.
    echo force-unsafe-io >"$dir"/etc/dpkg/dpkg.cfg.d/qi-unsafe-io
    mkdir -p "$(dirname "$ROOTFS_TAR")"
    tar -C "$dir" -c . >"$ROOTFS_TAR.tmp" && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$dir"; trap - EXIT
  fi
  say "importing $QI_BASE_IMAGE"
  # What the base is made of (its packages and versions), the same on any machine that debootstraps the same mirror
  # state: image fingerprints use it instead of the image ID, so a fresh runner finds the images in the registry.
  content=$(tar -xOf "$ROOTFS_TAR" ./var/lib/dpkg/status \
    | awk '/^Package:/ {p=$2} /^Version:/ {print p, $2}' | sort | sha256sum | cut -c1-32)
  docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' -c "LABEL io.qi-convergence.base-format=$BASE_FORMAT" \
    -c "LABEL io.qi-convergence.base-content=debian-12-minbase-$content" "$ROOTFS_TAR" "$QI_BASE_IMAGE" >/dev/null
fi

if [[ $(base_format "$QI_SYSTEMD_IMAGE") != "$BASE_FORMAT" ]]; then
  say "building $QI_SYSTEMD_IMAGE"
  name=qi-build-systemd-$$
  trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
  docker run --name "$name" "$QI_BASE_IMAGE" bash -c \
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd systemd-sysv >/dev/null && rm -rf /var/lib/apt/lists/* && touch -d @0 /var/lib/apt/lists' \
    >"$QI_LOG_DIR/systemd-image.log" 2>&1 || die "building $QI_SYSTEMD_IMAGE failed: see $QI_LOG_DIR/systemd-image.log"
  docker commit -c 'CMD ["/sbin/init"]' "$name" "$QI_SYSTEMD_IMAGE" >/dev/null
fi
