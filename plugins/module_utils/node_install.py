# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node.js, npm and yarn unpacked into versioned folders and linked into a prefix, in one module call: what the
nodejs_app role did in a dozen file/unarchive/copy tasks, each of which costs a Python start on the host."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess
import tempfile

from .errors import QiError

# A component's folder is complete when this file is in it: the last thing of its archive people run.
MARKERS = {"node": "bin/node", "npm": "package.json", "yarn": "bin/yarn.js"}
ORDER = ("node", "npm", "yarn")


def npmrc_text(prefix, node_dir, npm_version):
    """npm's builtin config: globals under the prefix, no update notice, and (npm < 9) addons built against this
    Node.js offline; npm 9+ rejects nodedir as a builtin setting."""
    lines = ["prefix=%s" % prefix, "update-notifier=false"]
    if int(str(npm_version).split(".", 1)[0] or 0) < 9:
        lines.append("nodedir=%s" % node_dir)
    return "\n".join(lines) + "\n"


def planned_links(prefix, dirs):
    """(link, target) pairs, in the order they are made: the commands in prefix/bin are relative, as npm makes them."""
    links = [(os.path.join(prefix, "bin", "node"), os.path.join(dirs["node"], "bin", "node")),
             (os.path.join(prefix, "lib", "node_modules", "npm"), dirs["npm"]),
             (os.path.join(prefix, "bin", "npm"), "../lib/node_modules/npm/bin/npm-cli.js")]
    if dirs.get("yarn"):
        links += [(os.path.join(prefix, "lib", "node_modules", "yarn"), dirs["yarn"]),
                  (os.path.join(prefix, "bin", "yarn"), "../lib/node_modules/yarn/bin/yarn.js")]
    return links


def missing(dirs):
    """The components whose folder is absent or incomplete."""
    return [c for c in ORDER if dirs.get(c) and not os.path.exists(os.path.join(dirs[c], MARKERS[c]))]


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except (IOError, OSError):
        return None


def _link_target(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def state_lines(dirs, links, npmrc_path):
    """What the host has now, as text for a diff."""
    lines = ["%s: %s%s" % (c, dirs[c], "" if c not in missing(dirs) else " (missing)") for c in ORDER if dirs.get(c)]
    lines += ["%s -> %s" % (link, _link_target(link) or "(none)") for link in dict(links)]
    lines.append("%s: %r" % (npmrc_path, _read(npmrc_path)))
    return lines


def wanted_lines(dirs, links, npmrc_path, npmrc):
    lines = ["%s: %s" % (c, dirs[c]) for c in ORDER if dirs.get(c)]
    lines += ["%s -> %s" % (link, target) for link, target in links]
    lines.append("%s: %r" % (npmrc_path, npmrc))
    return lines


def pending(dirs, links, npmrc_path, npmrc):
    """What a run would change, changing nothing (check mode)."""
    return dict(unpacked=missing(dirs), linked=[link for link, target in links if _link_target(link) != target],
                npmrc_written=_read(npmrc_path) != npmrc)


def unpack(archive, dest):
    """Unpack archive (its files under one top folder) into dest, or leave dest as it was: the files go to a
    sibling temporary folder that is renamed into place once whole."""
    parent = os.path.dirname(dest.rstrip("/"))
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o755)
    work = tempfile.mkdtemp(prefix=".%s." % os.path.basename(dest.rstrip("/")), dir=parent)
    try:
        for cmd in (["tar", "-xf", archive, "-C", work, "--strip-components=1", "--no-same-owner"],
                    # Package tarballs carry owner-only modes on some files; the app user must read them all.
                    ["chmod", "-R", "u+rwX,go+rX", work]):
            res = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out = res.communicate()[0]
            if res.returncode != 0:
                said = out.decode("utf-8", "replace").strip()[-800:]
                raise QiError("%s failed (exit %d): %s" % (" ".join(cmd), res.returncode, said))
        os.chmod(work, 0o755)
        if os.path.lexists(dest):
            shutil.rmtree(dest)
        os.rename(work, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure_link(link, target):
    """Point link at target, replacing a file or another link in one rename; whether it changed."""
    if _link_target(link) == target:
        return False
    parent = os.path.dirname(link)
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o755)
    if os.path.isdir(link) and not os.path.islink(link):
        raise QiError("%s is a folder, not a link: move it away to let %s be linked there" % (link, target))
    tmp = "%s.qi-new" % link
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(target, tmp)
    os.rename(tmp, link)
    return True


def ensure_file(path, content, mode=0o644):
    """Write content to path (atomically) unless it is there already; whether it changed."""
    if _read(path) == content:
        return False
    tmp = "%s.qi-new" % path
    with open(tmp, "w") as f:
        f.write(content)
    os.chmod(tmp, mode)
    os.rename(tmp, path)
    return True
