# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run 2016-era provisioning on today's ansible-core without touching it: the playbook's folder and each role
that uses the removed `include:` are copied into the build's work dir and rewritten there (legacy_include).

The playbook folder's siblings are linked next to its copy, so `../` paths the playbook uses still resolve.
A role copy is placed first on the roles path and only for the copy Ansible would have picked, so role
resolution is unchanged.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil

import yaml

from .legacy_include import mentions_include, rewrite

# Folders whose YAML is data, never tasks or plays.
_DATA_DIRS = {"templates", "files", "vars", "defaults", "meta", "node_modules", "library", "tests"}


def _yaml_files(top):
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _DATA_DIRS)
        for name in sorted(files):
            if name.endswith((".yml", ".yaml")):
                yield os.path.join(root, name)


def _read(path):
    with open(path, "r", errors="replace") as f:
        return f.read()


def _uses_include(top):
    return any(mentions_include(_read(p)) for p in _yaml_files(top))


def _rewrite_tree(top, shown_top, playbooks):
    """Rewrite every task and play file under top in place; playbooks: the files known to be plays."""
    known, total, done = [os.path.normpath(p) for p in playbooks], 0, set()

    def one(path, playbook):
        nonlocal total
        done.add(path)
        text = _read(path)
        if not mentions_include(text):
            return
        where = os.path.join(shown_top, os.path.relpath(path, top))
        new, count, included = rewrite(text, where, playbook)
        if count:
            if os.path.islink(path):
                os.unlink(path)
            with open(path, "w") as f:
                f.write(new)
            total += count
        known.extend(os.path.normpath(os.path.join(os.path.dirname(path), n)) for n in included if n)

    while known:
        path = known.pop(0)
        if path not in done and os.path.isfile(path):
            one(path, True)
    for path in _yaml_files(top):
        if path not in done:
            one(path, None)
    return total


def _stage_playbook_dir(playbook, workdir, notes):
    pb_dir = os.path.dirname(os.path.abspath(playbook))
    parent, base = os.path.split(pb_dir)
    mirror = os.path.join(workdir, "legacy-staged", os.path.basename(parent) or "app")
    os.makedirs(mirror)
    for entry in os.listdir(parent):
        if entry != base:
            os.symlink(os.path.join(parent, entry), os.path.join(mirror, entry))
    staged = os.path.join(mirror, base)
    shutil.copytree(pb_dir, staged, symlinks=True)
    count = _rewrite_tree(staged, pb_dir, [os.path.join(staged, os.path.basename(playbook))])
    notes.append("%s: %d `include:` rewritten in a staged copy (ansible-core 2.16 removed it)" % (pb_dir, count))
    return pb_dir, staged


def _dependencies(role):
    """The role names a role's meta/main.yml depends on."""
    path = os.path.join(role, "meta", "main.yml")
    try:
        meta = yaml.safe_load(_read(path)) if os.path.isfile(path) else None
    except yaml.YAMLError:
        return []
    deps = meta.get("dependencies") if isinstance(meta, dict) else None
    return [d.get("role", d.get("name")) if isinstance(d, dict) else d for d in deps or []
            if isinstance(d, (dict, str))]


def _first_copies(paths, roles):
    """(name, folder) of the copy Ansible picks for each role the play runs, their dependencies included."""
    if roles is None:
        queue = sorted({n for p in paths if os.path.isdir(p) for n in os.listdir(p)})
    else:
        queue = list(roles)
    seen = set()
    while queue:
        name = queue.pop(0)
        if not name or name in seen:
            continue
        seen.add(name)
        role = next((os.path.join(p, name) for p in paths if os.path.isdir(os.path.join(p, name))), None)
        if role:
            yield name, role
            if roles is not None:
                queue.extend(_dependencies(role))


def stage(playbook, roles_paths, workdir, roles=None):
    """(playbook to run, roles paths to use, notes): staged copies where `include:` is used, else the originals.

    roles: the role names the play runs (None: every role on the paths); their dependencies are followed."""
    notes, pb_dir, staged_pb = [], None, None
    if playbook and _uses_include(os.path.dirname(os.path.abspath(playbook))):
        pb_dir, staged_pb = _stage_playbook_dir(playbook, workdir, notes)
        playbook = os.path.join(staged_pb, os.path.basename(playbook))
    paths = []
    for path in roles_paths:
        inside = pb_dir and os.path.abspath(path).startswith(pb_dir + os.sep)
        paths.append(os.path.join(staged_pb, os.path.relpath(os.path.abspath(path), pb_dir)) if inside else path)
    staged_roles = os.path.join(workdir, "legacy-staged-roles")
    for name, role in _first_copies(paths, roles):
        if staged_pb and role.startswith(staged_pb + os.sep) or not _uses_include(role):
            continue
        copy = os.path.join(staged_roles, name)
        shutil.copytree(role, copy, symlinks=True)
        count = _rewrite_tree(copy, role, [])
        notes.append("role %s: %d `include:` rewritten in a staged copy of %s" % (name, count, role))
    if os.path.isdir(staged_roles):
        paths.insert(0, staged_roles)
    return playbook, paths, notes
