# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make every role a legacy playbook names resolvable, and say where each came from.

Order: (1) installed where Ansible looks (the user's roles path, then the app's provisioning/roles, appended,
never replacing); (2) ansible-galaxy install -r requirements.yml into a cache in the state dir, when the sources
answer (offline: a short timeout, then on); (3) the substitution map to this collection's roles, through a
generated stand-in role that imports the collection role.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

from ...module_utils.errors import QiError
from ..spec.legacy_roles import collection_role_dir, find_role

GALAXY_TIMEOUT = 30
RETRY_AFTER = 3600


def _galaxy_install(requirements_file, cache_root, log):
    with open(requirements_file, "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()[:16]
    dest = os.path.join(cache_root, key)
    marker = os.path.join(dest, ".qi-result")
    if os.path.exists(marker):
        with open(marker) as f:
            outcome = f.read().strip()
        # A failure is remembered for a while only: the sources may be reachable later.
        if outcome == "ok" or time.time() - os.path.getmtime(marker) < RETRY_AFTER:
            return dest, outcome
    os.makedirs(dest, exist_ok=True)
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    cmd = [exe if os.path.exists(exe) else "ansible-galaxy", "role", "install", "-r", requirements_file, "-p", dest]
    try:
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, check=False, capture_output=True, text=True, timeout=GALAXY_TIMEOUT)
        outcome = "ok" if res.returncode == 0 else "unreachable: %s" % (
            (res.stderr or res.stdout).strip().splitlines() or ["exit %d" % res.returncode])[-1]
    except (subprocess.TimeoutExpired, OSError) as e:
        outcome = "unreachable: %s" % e
    log("ansible-galaxy install -r %s: %s" % (os.path.basename(requirements_file), outcome))
    with open(marker, "w") as f:
        f.write(outcome)
    return dest, outcome


class _Found:
    """The roles resolved so far: the roles path, the report, the role folders and what is still missing."""

    def __init__(self, paths, missing):
        self.paths, self.missing, self.report, self.dirs = paths, list(missing), [], []

    def add(self, role, how, source, role_dir=None):
        self.report.append({"role": role, "how": how, "source": source})
        self.dirs.append(role_dir or source)
        self.missing.remove(role)


def _installed(build, found, collections_paths, role_map):
    for role in build["roles"]:
        hit = find_role(role, found.paths, collections_paths, build["requirements"], role_map)
        if hit and hit[0] in ("installed", "collection"):
            found.add(role, hit[0], hit[1])


def _from_galaxy(build, found, state_dir, log):
    req = os.path.join(os.path.dirname(build["playbook"]), "requirements.yml") if build.get("playbook") else None
    if not (found.missing and req and os.path.isfile(req) and state_dir):
        return
    cache, outcome = _galaxy_install(req, os.path.join(state_dir, "galaxy-roles"), log)
    if outcome != "ok":
        return
    found.paths.append(cache)
    for role in list(found.missing):
        if os.path.isdir(os.path.join(cache, role)):
            found.add(role, "galaxy", os.path.join(cache, role))


def _substituted(build, found, shims, collections_paths, role_map):
    """Legacy roles the role map or the collection stands in for: a shim role of the legacy name imports it."""
    for role in list(found.missing):
        hit = find_role(role, [], collections_paths, build["requirements"], role_map)
        if not hit:
            continue
        target = hit[1]
        tasks = os.path.join(shims, role, "tasks")
        os.makedirs(tasks, exist_ok=True)
        with open(os.path.join(tasks, "main.yml"), "w") as f:
            f.write("---\n- name: Stand in for the legacy role %s\n  ansible.builtin.import_role:\n"
                    "    name: %s\n" % (json.dumps(role), target))
        found.add(role, "substituted", target, collection_role_dir(target, collections_paths) or target)


def _missing_error(spec, role):
    build = spec["build"]
    src = next((r.get("src") for r in build["requirements"] if r.get("name") == role and r.get("src")), None)
    fetched = " (requirements.yml names its source %s; ansible-galaxy could not fetch it from this machine)" % src \
        if src else ""
    return QiError("role '%s' named by %s was not found%s. Provide it in one of three ways: install it where "
                   "Ansible looks (ANSIBLE_ROLES_PATH or provisioning/roles/%s), make its source in "
                   "requirements.yml reachable for ansible-galaxy, or map it to a collection role with the "
                   "inventory variable app_image_role_map, e.g. {'%s': 'qi.convergence.nodejs_app'}"
                   % (role, os.path.relpath(build["playbook"], spec["app_dir"]), fetched, role, role))


def resolve_roles(spec, workdir, user_roles_paths, collections_paths, state_dir, role_map, log):
    """Return (roles path list for ANSIBLE_ROLES_PATH, [{role, how, source}], role dirs for the fingerprint)."""
    build = spec["build"]
    app_roles = os.path.join(os.path.dirname(build["playbook"]), "roles") if build.get("playbook") else None
    found = _Found([p for p in user_roles_paths if p] + ([app_roles] if app_roles else []), build["roles"])
    _installed(build, found, collections_paths, role_map)
    _from_galaxy(build, found, state_dir, log)
    shims = os.path.join(workdir, "substitute-roles")
    _substituted(build, found, shims, collections_paths, role_map)
    if found.missing:
        raise _missing_error(spec, found.missing[0])
    if os.path.isdir(shims):
        found.paths.append(shims)
    return found.paths, found.report, found.dirs


def clean(workdir):
    shutil.rmtree(os.path.join(workdir, "substitute-roles"), ignore_errors=True)
