#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: container_image
short_description: Build an application's container image by running its own provisioning playbook
version_added: 0.1.0
description:
  - Computes a fingerprint of everything that shapes the image (base image id, the app's playbook, vars
    files, the files of every role it uses, phases, container overrides, the source tree). When an image
    with that fingerprint exists it is reused and nothing changes.
  - Otherwise starts a build container from the base image, places the source where the provisioning
    expects it, runs the app's own playbook unchanged against the container (its hosts, C(localhost)
    included, mapped onto the container through the docker connection) with the phases as C(--tags) and
    O(overrides) plus C(qi_container=true) as extra vars, then commits the image with CMD, EXPOSE, a
    non-root USER, WORKDIR, ENV, HEALTHCHECK and OCI labels, tags it immutably and pushes it.
  - The build container is removed on success and on failure; a failed build tags nothing.
  - The playbook output goes to a build log under O(log_dir) while it runs.
author:
  - qi.convergence developers (@qi-convergence)
attributes:
  check_mode:
    support: full
    description: Reports whether a build or push would happen, without building.
  diff_mode:
    support: none
    description: An image has no useful text diff; the fingerprint tells what changed.
  idempotent:
    support: full
    description: An unchanged app reuses its cached image and reports no change.
options:
  spec:
    description: The application spec returned by M(qi.convergence.app_spec). Mutually exclusive with O(app_dir).
    type: dict
  app_dir:
    description:
      - The application folder, read here as M(qi.convergence.app_spec) would (saves a module call).
      - Mutually exclusive with O(spec).
    type: path
  base_image:
    description: The base image to build from; defaults to the spec's C(build.base_image).
    type: str
    required: true
  registry:
    description: The registry to push to, for example C(127.0.0.1:5000). Empty to keep the image local.
    type: str
    default: ""
  registry_username:
    description: Registry user, when the registry asks for credentials.
    type: str
  registry_password:
    description: Registry password, when the registry asks for credentials.
    type: str
  push:
    description: Push the image to O(registry).
    type: bool
    default: true
  phases:
    description: The tags to run the provisioning playbook with; defaults to the spec's phases.
    type: list
    elements: str
    default: []
  overrides:
    description: Extra variables for the build, on top of the spec's C(build.overrides).
    type: dict
    default: {}
  collections_path:
    description: Colon-separated collections paths for the nested playbook run (so it finds this collection).
    type: str
    default: ""
  log_dir:
    description: Where the build log is written; created when missing.
    type: path
    required: true
  docker_host:
    description: The Docker engine to talk to; the default socket or DOCKER_HOST when omitted.
    type: str
  revision:
    description: Source revision recorded in the C(org.opencontainers.image.revision) label.
    type: str
  version:
    description: Version recorded in the C(org.opencontainers.image.version) label; the fingerprint by default.
    type: str
requirements:
  - docker (Python SDK)
  - ansible-playbook on the controller
"""

EXAMPLES = r"""
- name: Build and push the image of an app folder
  qi.convergence.container_image:
    app_dir: examples/nodejs-hello
    base_image: qi-convergence/debian:12
    registry: 127.0.0.1:5000
    log_dir: /tmp
  register: image

- name: Show the image pinned by digest
  ansible.builtin.debug:
    var: image.image
"""

RETURN = r"""
spec:
  description: The application spec the image was built from.
  returned: success
  type: dict
image:
  description: The image reference, pinned by digest when pushed.
  returned: success, except in check mode when a build is needed
  type: str
  sample: 127.0.0.1:5000/nodejs-hello@sha256:0123abcd...
image_tag:
  description: The immutable tag (fingerprint prefix) of the image.
  returned: always
  type: str
digest:
  description: The registry digest of the pushed image.
  returned: when pushed
  type: str
fingerprint:
  description: The build fingerprint, also stored in the C(io.qi-convergence.fingerprint) label.
  returned: always
  type: str
cache_hit:
  description: Whether an image with the same fingerprint was reused.
  returned: always
  type: bool
pushed:
  description: Whether this run pushed the image.
  returned: always
  type: bool
image_id:
  description: The local image id.
  returned: success
  type: str
size:
  description: The image size in bytes.
  returned: success
  type: int
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.qi.convergence.plugins.module_utils.docker_client import HAS_DOCKER, DOCKER_IMPORT_ERROR
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.image_build import build_image
from ansible_collections.qi.convergence.plugins.module_utils.spec import read_app


def main():
    module = AnsibleModule(
        argument_spec=dict(
            spec=dict(type="dict"),
            app_dir=dict(type="path"),
            base_image=dict(type="str", required=True),
            registry=dict(type="str", default=""),
            registry_username=dict(type="str"),
            registry_password=dict(type="str", no_log=True),
            push=dict(type="bool", default=True),
            phases=dict(type="list", elements="str", default=[]),
            overrides=dict(type="dict", default={}),
            collections_path=dict(type="str", default=""),
            log_dir=dict(type="path", required=True),
            docker_host=dict(type="str"),
            revision=dict(type="str"),
            version=dict(type="str"),
        ),
        required_together=[("registry_username", "registry_password")],
        required_one_of=[("spec", "app_dir")],
        mutually_exclusive=[("spec", "app_dir")],
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR)
    try:
        spec = module.params["spec"] or read_app(module.params["app_dir"])
        result = build_image(module.params, spec, check_mode=module.check_mode)
    except QiError as e:
        module.fail_json(msg=str(e))
    module.exit_json(spec=spec, **result)


if __name__ == "__main__":
    main()
