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
  - Reads an application folder - its C(.qi.yml) in either real shape (flat, or a list under C(apps:)) and/or its
    legacy provisioning folder - and returns one validated, normalised spec per application.
  - C(.qi.yml) is validated against the JSON Schema the collection ships (C(schemas/qi.schema.json)) with the
    jsonschema library; errors name the file, line, key path, what was expected and, for an unknown key, the
    closest known key.
  - The provisioning playbook (C(build.playbook), else C(provisioning/playbook.yml), C(site.yml), C(docker.yml))
    is read with Ansible's own DataLoader and Templar - its C(vars_files) (templated names, relative paths),
    play C(vars), the defaults of its roles and C(import_playbook) - with Ansible's precedence. A value that
    stays undefined is an error naming its file and variable.
  - Where both speak, C(.qi.yml) wins. The schema and every key are documented in C(docs/qi-yml.md).
author:
  - qi.convergence developers (@qi-convergence)
extends_documentation_fragment:
  - qi.convergence.reading
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
requirements:
  - PyYAML
  - jsonschema
  - ansible-core on the controller (to read provisioning playbooks)
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
  description: The specs of every app of O(app_dir) or O(app_dirs), in order.
  returned: success
  type: list
  elements: dict
spec:
  description: The normalised spec of the first app of O(app_dir).
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

from ansible.module_utils.basic import AnsibleModule
from ..module_utils.module_args import APP_SPEC


def main():
    # The work runs on the controller, in the collection's action plugin of the same name: reading provisioning
    # needs Ansible's own DataLoader and Templar. Reaching this entry point means the action was bypassed.
    module = AnsibleModule(supports_check_mode=True, **APP_SPEC)
    module.fail_json(msg="qi.convergence.app_spec runs on the controller through its action plugin; call it by its "
                         "FQCN from a play or ad hoc (ansible localhost -m qi.convergence.app_spec)")


if __name__ == "__main__":
    main()
