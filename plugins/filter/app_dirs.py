# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: app_dirs
short_description: Resolve application folders given on the command line, never from the working directory
version_added: 0.2.0
description:
  - An absolute folder is taken as given. A relative one is looked up under each of O(bases) in order (the
    playbooks pass the project that holds them, then the inventory's folder and the project above it), so a run
    from AWX, cron or any other working directory finds the same folder.
  - A folder found under none of them fails, naming every place tried.
author:
  - qi.convergence developers (@qi-convergence)
positional: bases
options:
  _input:
    description: Application folders, absolute or relative.
    type: list
    elements: str
    required: true
  bases:
    description: Folders a relative one is looked up under, in order.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Resolve -e app_dir
  ansible.builtin.set_fact:
    dirs: "{{ [app_dir] | qi.convergence.app_dirs([playbook_dir ~ '/..', inventory_dir]) }}"
"""

RETURN = r"""
_value:
  description: Absolute, existing folders, in the order given.
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleFilterError


def _app_dirs(dirs, bases):
    out = []
    for d in dirs or []:
        if not d:
            raise AnsibleFilterError("no application folder: pass -e app_dir=PATH or -e '{\"app_dirs\": [...]}'")
        if os.path.isabs(d):
            out.append(os.path.normpath(d))
            continue
        tried = []
        for b in bases:
            path = os.path.normpath(os.path.join(b, d)) if b else None
            if path and path not in tried:
                tried.append(path)
        found = next((t for t in tried if os.path.isdir(t)), None)
        if not found:
            raise AnsibleFilterError("application folder '%s' not found; looked in %s (a relative folder is "
                                     "resolved against the project and the inventory, not the working directory; "
                                     "give an absolute path to be sure)" % (d, ", ".join(tried)))
        out.append(found)
    return out


class FilterModule(object):
    def filters(self):
        return {"app_dirs": _app_dirs}
