# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The options that shape how an app folder is read, shared by app_spec, container_image and k8s_release.
    DOCUMENTATION = r"""
options:
  collections_path:
    description: Colon-separated collections paths - where the collection roles a playbook names (and their defaults) are found.
    type: str
    default: ""
  role_map:
    description: Legacy role name (or source tail) to the collection role standing in for it, beside the built-in map.
    type: dict
    default: {}
  rpm_map:
    description: RPM package name to a list of Debian package names, beside the built-in map.
    type: dict
    default: {}
  prebuilt:
    description:
      - Component name to an image run instead of building it, such as C(couchdb) to C(couchdb:3) where a registry
        that serves it is reachable.
      - A component standing in for the C(couchdb) role then runs as the official CouchDB image expects (its own
        entrypoint, user 5984, data in C(/opt/couchdb/data), an admin account generated once per environment, the
        role's databases created after it starts).
    type: dict
    default: {}
"""
