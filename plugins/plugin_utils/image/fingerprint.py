# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A content fingerprint of everything that shapes an image (pure: files and values in, hex out)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os

SKIP_DIRS = frozenset([".git", ".vagrant", "node_modules", "__pycache__", ".venv", ".molecule"])


def iter_files(root, exclude=()):
    """Yield the files under root (or root itself), sorted, skipping VCS and dependency folders and the folders
    of root named in exclude."""
    if os.path.isfile(root):
        yield root
        return
    excluded = set(os.path.normpath(os.path.join(root, e)) for e in exclude)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and os.path.join(dirpath, d) not in excluded)
        for name in sorted(filenames):
            yield os.path.join(dirpath, name)


def fingerprint(paths, values, exclude=None):
    """Hash the contents of every file under paths plus the JSON form of values; exclude: {root: [folders]}."""
    h = hashlib.sha256()
    h.update(json.dumps(values, sort_keys=True, default=str).encode("utf-8"))
    for root in sorted(set(p for p in paths if p and os.path.exists(p))):
        for path in iter_files(root, (exclude or {}).get(root, ())):
            h.update(b"\0" + os.path.relpath(path, root).encode("utf-8", "surrogateescape") + b"\0")
            try:
                mode = os.stat(path).st_mode & 0o111
                h.update(b"x" if mode else b"-")
                with open(path, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 16), b""):
                        h.update(chunk)
            except (IOError, OSError):
                h.update(b"<unreadable>")
    return h.hexdigest()
