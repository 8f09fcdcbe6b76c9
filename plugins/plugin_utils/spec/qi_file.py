# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a .qi.yml in either real shape into a list of per-app descriptors (the file's own keys, validated)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ...module_utils.errors import QiError
from .qi_schema import APPS_FILE, COMPONENTS_FILE, FLAT_FILE, SHARED_KEYS
from .validate import validate
from .yaml_loader import load_file


def _entries(data, key, shown):
    """One entry per item of apps: or components:, with the file's shared keys, names unique."""
    shared = dict((k, data[k]) for k in SHARED_KEYS if k in data)
    entries = []
    for i, item in enumerate(data[key]):
        merged = dict(shared)
        merged.update(item)
        entries.append((merged, "%s[%d]" % (key, i), getattr(item, "lines", {}).get("app_name")))
    names = [entry[0].get("app_name") for entry in entries]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise QiError("two %s are named '%s'; names must be unique" % (key, name), path=shown,
                          key="%s[%d].app_name" % (key, i))
    return entries


def read_qi_file(path, display_path=None):
    """Return [(app keys, key prefix, line)] of the file: one entry for the flat shape, one per item of apps: or
    components:."""
    shown = display_path or path
    data = load_file(path)
    if data is None:
        return []
    if not isinstance(data, dict):
        raise QiError("expected a mapping of keys (the flat shape) or a mapping with 'apps:', got %s"
                      % type(data).__name__, path=shown)
    for key, schema in (("apps", APPS_FILE), ("components", COMPONENTS_FILE)):
        if key in data:
            validate(data, schema, shown)
            return _entries(data, key, shown)
    validate(data, FLAT_FILE, shown)
    return [(dict(data), "", None)]
