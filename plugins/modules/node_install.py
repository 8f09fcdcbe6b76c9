#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: node_install
short_description: Unpack Node.js, npm and yarn into versioned folders and link them into a prefix
version_added: 0.2.0
description:
  - Unpacks the archives that M(qi.convergence.node_runtime) fetched on the controller into O(node_dir), O(npm_dir)
    and O(yarn_dir), each only when that folder is absent or incomplete. A folder is filled in a temporary sibling
    and renamed into place once whole, so a failed run leaves no half-unpacked Node.js behind.
  - Writes npm's builtin config (globals under O(prefix); with npm older than 9, C(nodedir) so native addons
    build against this Node.js without downloading its headers) and links C(node), C(npm) and C(yarn) into
    O(prefix).
  - The action plugin copies only the archives of the folders the host lacks, so a second run transfers nothing
    and reports no change.
  - Everything happens in one call; the dozen file, unarchive and copy tasks it replaces each cost a Python start
    on the host.
author:
  - qi.convergence developers (@qi-convergence)
attributes:
  action:
    support: full
    description: The action plugin copies the archives from the controller.
  check_mode:
    support: full
    description: Reports what would be unpacked, linked or written, and copies nothing.
  diff_mode:
    support: full
    description: The folders, links and npm config before and after.
  idempotent:
    support: full
    description: Complete folders, right links and the same config are left alone.
options:
  node_archive:
    description: The Node.js archive on the controller (its files under one top folder).
    type: path
    required: true
  npm_archive:
    description: The npm archive on the controller.
    type: path
    required: true
  yarn_archive:
    description: The yarn classic archive on the controller; yarn is installed only with it.
    type: path
  node_dir:
    description: Where Node.js is unpacked on the host.
    type: path
    required: true
  npm_dir:
    description: Where npm is unpacked on the host.
    type: path
    required: true
  yarn_dir:
    description: Where yarn is unpacked on the host; required with O(yarn_archive).
    type: path
  npm_version:
    description: The version of that npm (it decides whether C(nodedir) is set).
    type: str
    required: true
  prefix:
    description: The prefix C(node), C(npm) and C(yarn) are linked into, and where npm installs globals.
    type: path
    default: /usr/local
  probe:
    description:
      - Only say which components the host lacks (RV(needed)), changing nothing. The action plugin asks this first,
        so it copies only the archives the host needs.
    type: bool
    default: false
requirements:
  - tar and chmod on the host
notes:
  - Runs as the user the task becomes; the folders and links need root for the default O(prefix).
"""

EXAMPLES = r"""
- name: Fetch Node.js 4.3.1 on the controller
  qi.convergence.node_runtime:
    version: "4.3.1"
    cache_dir: "{{ lookup('env', 'HOME') }}/.cache/qi-convergence/node"
  delegate_to: localhost
  register: node

- name: Install it on the host
  qi.convergence.node_install:
    node_archive: "{{ node.node_archive }}"
    npm_archive: "{{ node.npm_archive }}"
    node_dir: "/usr/local/lib/qi-node/node-{{ node.node_version }}"
    npm_dir: "/usr/local/lib/qi-node/npm-{{ node.npm_version }}"
    npm_version: "{{ node.npm_version }}"
  become: true
"""

RETURN = r"""
unpacked:
  description: The components unpacked by this run (C(node), C(npm), C(yarn)).
  returned: always
  type: list
  elements: str
  sample: [node, npm]
linked:
  description: The links made or re-pointed by this run.
  returned: always
  type: list
  elements: str
  sample: [/usr/local/bin/node]
npmrc_written:
  description: Whether npm's builtin config was written.
  returned: always
  type: bool
needed:
  description: The components whose folder is absent or incomplete (asked by the action plugin before it copies).
  returned: when the action plugin asks
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ..module_utils.errors import QiError
from ..module_utils.node_install import (
    ensure_file, ensure_link, missing, npmrc_text, pending, planned_links, state_lines, unpack, wanted_lines)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            node_archive=dict(type="path", required=True),
            npm_archive=dict(type="path", required=True),
            yarn_archive=dict(type="path"),
            node_dir=dict(type="path", required=True),
            npm_dir=dict(type="path", required=True),
            yarn_dir=dict(type="path"),
            npm_version=dict(type="str", required=True),
            prefix=dict(type="path", default="/usr/local"),
            probe=dict(type="bool", default=False),
        ),
        required_together=[("yarn_archive", "yarn_dir")],
        supports_check_mode=True,
    )
    p = module.params
    dirs = {"node": p["node_dir"], "npm": p["npm_dir"], "yarn": p["yarn_dir"] if p["yarn_archive"] else None}
    needed = missing(dirs)
    if p["probe"]:
        module.exit_json(changed=False, needed=needed, unpacked=[], linked=[], npmrc_written=False)
    links = planned_links(p["prefix"], dirs)
    npmrc_path = os.path.join(p["npm_dir"], "npmrc")
    npmrc = npmrc_text(p["prefix"], p["node_dir"], p["npm_version"])
    before = state_lines(dirs, links, npmrc_path)
    after = wanted_lines(dirs, links, npmrc_path, npmrc)
    result = dict(unpacked=needed, linked=[], npmrc_written=False)
    try:
        if module.check_mode:
            result = pending(dirs, links, npmrc_path, npmrc)
        else:
            for component in needed:
                unpack(p[component + "_archive"], dirs[component])
            result["npmrc_written"] = ensure_file(npmrc_path, npmrc)
            result["linked"] = [link for link, target in links if ensure_link(link, target)]
    except (QiError, OSError) as e:
        module.fail_json(msg="installing Node.js into %s failed: %s" % (p["node_dir"], e), **result)
    changed = bool(result["unpacked"] or result["linked"] or result["npmrc_written"])
    if module._diff and changed:
        result["diff"] = dict(before="\n".join(before) + "\n", after="\n".join(after) + "\n")
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
