# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RPM package names (CentOS/Fedora, what the QI VMs ran) to Debian ones (our build base). Pure.

Extend or override per inventory with app_image_rpm_map (documented in docs/legacy-provisioning.md); an
empty list maps a package to nothing (provided otherwise, e.g. Node.js comes from the npm registry).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import shlex

from ...module_utils.errors import QiError

RPM_TO_DEB = {
    "java-1.8.0-openjdk-devel": ["openjdk-17-jdk-headless"],
    "java-1.8.0-openjdk": ["openjdk-17-jre-headless"],
    "java-11-openjdk-devel": ["openjdk-17-jdk-headless"],
    "java-17-openjdk-devel": ["openjdk-17-jdk-headless"],
    "maven": ["maven"],
    "gcc-c++": ["g++"],
    "gcc": ["gcc"],
    "make": ["make"],
    "curl": ["curl"],
    "jq": ["jq"],
    # CentOS's festival brought a voice with it; Debian's only recommends one (recommends are not installed).
    "festival": ["festival", "festvox-kallpc16k"],
    "wget": ["wget"],
    "git": ["git"],
    "unzip": ["unzip"],
    "zip": ["zip"],
    "tar": ["tar"],
    "bzip2": ["bzip2"],
    "python": ["python3"],
    "python3": ["python3"],
    "openssl": ["openssl"],
    "openssl-devel": ["libssl-dev"],
    "libpng-devel": ["libpng-dev"],
    "ImageMagick": ["imagemagick"],
    "xorg-x11-server-Xvfb": ["xvfb"],
    "chromedriver": ["chromium-driver"],
    "chromium": ["chromium"],
    "firefox": ["firefox-esr"],
    "nodejs": [],
    "npm": [],
    "yarn": [],
}
# Architecture suffixes RPM names carry in the real files (java-1.8.0-openjdk-devel.x86_64, maven.noarch).
_ARCH = re.compile(r"\.(x86_64|noarch|i686|aarch64)$")
_INSTALL = re.compile(r"^\s*(sudo\s+)?(yum|dnf)\s+(.*)$")


def debian_packages(rpms, extra_map=None, where=None):
    """Debian names for RPM names; an unmapped one is a QiError naming it and how to map it."""
    table = dict(RPM_TO_DEB)
    table.update(extra_map or {})
    out = []
    for rpm in rpms:
        name = _ARCH.sub("", rpm)
        if name not in table:
            raise QiError("RPM package '%s' has no Debian equivalent in the package map; add one with the "
                          "inventory variable app_image_rpm_map, e.g. {'%s': ['DEBIAN-NAME']} "
                          "(or [] when nothing is needed)" % (rpm, name), **(where or {}))
        out += [p for p in table[name] if p not in out]
    return out


def translate_command(command, extra_map=None, where=None):
    """A 'sudo yum|dnf [-y] install PKG...' line as the Debian install it stands for; others unchanged."""
    m = _INSTALL.match(command)
    if not m:
        return command
    words = shlex.split(m.group(3))
    action = [w for w in words if not w.startswith("-")]
    if not action or action[0] not in ("install", "localinstall"):
        raise QiError("'%s': only 'yum/dnf install' lines can run on the Debian build base" % command,
                      **(where or {}))
    pkgs = debian_packages(action[1:], extra_map, where)
    if not pkgs:
        return "true"
    return ("sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
            "--no-install-recommends %s >/dev/null'" % " ".join(pkgs))
