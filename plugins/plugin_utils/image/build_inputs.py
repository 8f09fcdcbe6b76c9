# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What shapes an image: its fingerprint over the source, the provisioning, the roles, the base and the values."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from .config import commit_config
from .desktop_base import LABEL as DESKTOP_LABEL
from .desktop_base import PACKAGES as DESKTOP_PACKAGES
from .fingerprint import fingerprint
from ..spec.legacy_roles import role_dir

BUILD_FORMAT = 4
BASE_CONTENT_LABEL = "io.qi-convergence.base-content"


def role_dirs(spec, roles_paths, collections_paths, role_map):
    dirs = [role_dir(role, roles_paths, collections_paths, spec["build"]["requirements"], role_map)
            for role in spec["build"]["roles"]]
    return [d for d in dirs if d]


def base_identity(image):
    """What the base image is made of where it says so (the same on every machine), else its image ID."""
    labels = image.labels or {}
    content = labels.get(BASE_CONTENT_LABEL)
    if not content:
        return image.id
    return "%s+desktop(%s)" % (content, DESKTOP_PACKAGES) if labels.get(DESKTOP_LABEL) else content


def build_fingerprint(spec, base_id, role_dirs, extra_vars, phases):
    build = spec["build"]
    paths = [spec["source"]["dir"]] + ([build["playbook"]] if build["playbook"] else []) + build["vars_files"] \
        + role_dirs
    values = {
        "format": BUILD_FORMAT, "base": base_id, "phases": phases, "vars": extra_vars, "roles": build["roles"],
        "run": spec["run"], "health": spec["health"], "dest": spec["source"]["dest"], "setup": build["setup"],
        "tests": spec["tests"], "env_runtime": spec["env_runtime"], "env": spec["build"].get("env") or {},
        # The metadata the commit derives from the spec: a change in how it is derived must rebuild too.
        "config": commit_config(spec, 1, 1, "", ""),
    }
    return fingerprint(paths, values, {spec["source"]["dir"]: spec["source"].get("exclude") or []})
