# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: debian_packages
short_description: Map RPM package names to Debian ones
version_added: 0.2.0
description:
  - Maps CentOS/Fedora package names (as the legacy C(nodejs_app_rpm_packages) and C(yum install) lines name
    them, architecture suffixes included) to Debian package names through the collection's RPM to Debian map.
  - An unmapped name fails, naming the package and the inventory variable that maps it.
author:
  - qi.convergence developers (@qi-convergence)
positional: extra_map
options:
  _input:
    description: RPM package names.
    type: list
    elements: str
    required: true
  extra_map:
    description: More mappings, RPM name to a list of Debian names, winning over the built-in ones.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Install what the app's RPM list stands for
  ansible.builtin.apt:
    name: "{{ ['java-1.8.0-openjdk-devel.x86_64', 'maven'] | qi.convergence.debian_packages }}"
"""

RETURN = r"""
_value:
  description: Debian package names, each once.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ..module_utils.errors import QiError
from ..plugin_utils.spec.rpm_map import debian_packages


def _debian_packages(rpms, extra_map=None):
    try:
        return debian_packages(list(rpms or []), dict(extra_map or {}))
    except QiError as e:
        raise AnsibleFilterError(str(e))


class FilterModule(object):
    def filters(self):
        return {"debian_packages": _debian_packages}
