#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_spec
short_description: Read an application's provisioning config and .qi.yml into one validated app spec
version_added: 0.1.0
description:
  - Reads the legacy provisioning files of an application folder (C(provisioning/playbook.yml), the vars files
    that playbook names such as C(provisioning/vars.yml), and C(provisioning/requirements.yml)) and its
    Travis-like C(.qi.yml), validates them and returns one normalised application spec.
  - Later sources win where both speak, in this order - vars files, play vars, C(.qi.yml). Either the
    provisioning folder or C(.qi.yml) alone is enough.
  - Errors name the file, the key path, the line where known, what was expected and, for unknown keys, the
    closest known key.
  - The C(.qi.yml) schema is documented in C(docs/qi-yml.md) of the collection.
author:
  - qi.convergence developers (@qi-convergence)
extends_documentation_fragment:
  - qi.convergence.render.READ_ONLY
options:
  app_dir:
    description: The application folder. Mutually exclusive with O(app_dirs).
    type: path
  app_dirs:
    description: Several application folders, read in one call; their specs come back in RV(specs).
    type: list
    elements: path
  qi_file:
    description: The C(.qi.yml) file to read, when not C(APP_DIR/.qi.yml).
    type: path
  playbook:
    description: The provisioning playbook relative to O(app_dir), when not C(provisioning/playbook.yml).
    type: str
  vars_files:
    description: Extra vars files relative to O(app_dir), read after those the playbook names.
    type: list
    elements: str
    default: []
requirements:
  - PyYAML
"""

EXAMPLES = r"""
- name: Read the app spec of a legacy Node.js service
  qi.convergence.app_spec:
    app_dir: examples/nodejs-hello
  register: app

- name: Show where its image will listen
  ansible.builtin.debug:
    msg: "{{ app.spec.name }} listens on {{ app.spec.run.port }}"
"""

RETURN = r"""
specs:
  description: The specs of O(app_dirs), in order.
  returned: with app_dirs
  type: list
  elements: dict
spec:
  description: The normalised application spec.
  returned: with app_dir
  type: dict
  contains:
    name:
      description: The application name, a DNS-1123 label.
      type: str
      sample: nodejs-hello
    stack:
      description: Runtime stack name and version.
      type: dict
      sample: {"name": "nodejs", "version": "18"}
    source:
      description: The source folder and where the provisioning expects it (C(dest)).
      type: dict
    build:
      description: Playbook, vars files, roles, requirements, phases (tags, default install and configure), overrides.
      type: dict
    run:
      description: Command, args, workdir, user, group, port, env and writable paths of the running container.
      type: dict
    health:
      description: HTTP health check (path, port, status, text); null when the app declares none.
      type: dict
    deploy:
      description: Deploy hints with defaults (replicas, service type, resources, config files, secrets, sidecars,
        init containers, ingress); inventory variables override them per environment.
      type: dict
    read_files:
      description: The files read, relative to the app folder.
      type: list
      elements: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.yaml_loader import HAS_YAML

try:
    from ansible_collections.qi.convergence.plugins.module_utils.spec import read_app
except ImportError:  # pragma: no cover - only without PyYAML
    read_app = None
    SPEC_IMPORT_ERROR = traceback.format_exc()
else:
    SPEC_IMPORT_ERROR = None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            app_dir=dict(type="path"),
            app_dirs=dict(type="list", elements="path"),
            qi_file=dict(type="path"),
            playbook=dict(type="str"),
            vars_files=dict(type="list", elements="str", default=[]),
        ),
        required_one_of=[("app_dir", "app_dirs")],
        mutually_exclusive=[("app_dir", "app_dirs"), ("app_dirs", "qi_file"), ("app_dirs", "playbook")],
        supports_check_mode=True,
    )
    if not HAS_YAML or read_app is None:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=SPEC_IMPORT_ERROR)
    p = module.params
    try:
        if p["app_dirs"] is not None:
            module.exit_json(changed=False, specs=[read_app(d, vars_files=p["vars_files"]) for d in p["app_dirs"]])
        spec = read_app(p["app_dir"], qi_file=p["qi_file"], playbook=p["playbook"], vars_files=p["vars_files"])
    except QiError as e:
        module.fail_json(msg=str(e), file=e.path, key=e.key, line=e.line)
    module.exit_json(changed=False, spec=spec)


if __name__ == "__main__":
    main()
