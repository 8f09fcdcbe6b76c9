# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The linux-desktop build base: the Debian base plus a headless X server and Chromium with its driver, made
once from Debian's packages (what QI's desktop VMs gave test suites), reused while the base is unchanged."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from .docker_client import docker_errors, remove_quietly
from ...module_utils.errors import QiError

PACKAGES = "xvfb x11-xserver-utils xauth chromium chromium-driver fonts-liberation"
# Empty apt lists dated at the epoch, as in the base image: else apt's cache_valid_time skips a build's first update.
# Chromium cannot use its sandbox as a non-root container user; test runners look for chrome by these names.
SCRIPT = (
    "set -e; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
    "%s >/dev/null; rm -rf /var/lib/apt/lists/*; touch -d @0 /var/lib/apt/lists; "
    "printf '#!/bin/sh\\nexec /usr/bin/chromium --no-sandbox --disable-dev-shm-usage \"$@\"\\n' "
    ">/usr/local/bin/google-chrome; chmod 755 /usr/local/bin/google-chrome; "
    "for n in chrome chromium-browser google-chrome-stable; do ln -sf google-chrome /usr/local/bin/$n; done; "
    "ln -sf /usr/bin/chromedriver /usr/local/bin/chromedriver" % PACKAGES)
LABEL = "io.qi-convergence.desktop-of"


def desktop_base(client, base_image, log):
    """The desktop variant of base_image (an Image), built when missing or made from an older base."""
    name = "qi-convergence/desktop-of-%s" % base_image.id.split(":")[-1][:12]
    try:
        image = client.images.get(name)
        if image.labels.get(LABEL) == base_image.id:
            return image
    except docker_errors():
        pass
    log("building the linux-desktop base (Xvfb, Chromium, chromedriver) from Debian's packages: a few minutes, once")
    container = None
    try:
        container = client.containers.run(base_image.id, ["/bin/sh", "-c", SCRIPT], detach=True)
        rc = container.wait(timeout=1800).get("StatusCode", 1)
        if rc != 0:
            tail = container.logs().decode("utf-8", "replace").strip().splitlines()[-10:]
            raise QiError("building the linux-desktop base failed (exit %d): %s" % (rc, " / ".join(tail)))
        container.commit(repository=name, tag="latest", conf={"Cmd": ["/bin/bash"], "Labels": dict(base_image.labels or {}, **{
            LABEL: base_image.id})})
    except docker_errors() as e:
        raise QiError("Docker error while building the linux-desktop base: %s" % e)
    finally:
        remove_quietly(container)
    return client.images.get(name)
