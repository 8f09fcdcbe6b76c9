# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a .qi.yml in either real shape into a list of per-app descriptors (the file's own keys, validated)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ...module_utils.errors import QiError
from .qi_schema import APPS_FILE, FLAT_FILE, SHARED_KEYS
from .validate import validate
from .yaml_loader import load_file


def read_qi_file(path, display_path=None):
    """Return [(app keys, key prefix)] of the file: one entry for the flat shape, one per item of apps:."""
    shown = display_path or path
    data = load_file(path)
    if data is None:
        return []
    if not isinstance(data, dict):
        raise QiError("expected a mapping of keys (the flat shape) or a mapping with 'apps:', got %s"
                      % type(data).__name__, path=shown)
    if "apps" in data:
        validate(data, APPS_FILE, shown)
        shared = dict((k, data[k]) for k in SHARED_KEYS if k in data)
        apps = []
        for i, app in enumerate(data["apps"]):
            merged = dict(shared)
            merged.update(app)
            apps.append((merged, "apps[%d]" % i, getattr(app, "lines", {}).get("app_name")))
        names = [entry[0].get("app_name") for entry in apps]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise QiError("two apps are named '%s'; app names must be unique" % name, path=shown,
                              key="apps[%d].app_name" % i)
        return apps
    validate(data, FLAT_FILE, shown)
    return [(dict(data), "", None)]
