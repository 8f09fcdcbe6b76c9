#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: container_image
short_description: Build, test and push the images of an application folder from its own provisioning config
version_added: 0.1.0
description:
  - With O(app_dir), builds every app the folder declares (a C(.qi.yml) with C(apps:) may declare several) in
    one call; their results are in RV(builds).
  - Computes a fingerprint of everything that shapes the image (base image id, the app's playbook, vars
    files, the files of every role it uses, phases, container overrides, the source tree). When an image
    with that fingerprint exists it is reused and nothing changes.
  - Otherwise starts a build container from the base image, places the source where the provisioning
    expects it, runs the app's own playbook unchanged against the container (its hosts, C(localhost)
    included, mapped onto the container through the docker connection) with the phases as C(--tags) and
    O(overrides) plus C(qi_container=true) as extra vars, then commits the image with CMD, EXPOSE, a
    non-root USER, WORKDIR, ENV, HEALTHCHECK and OCI labels, tags it immutably and pushes it.
  - A C(.qi.yml)-only app (no provisioning playbook) is built with the play the QI Vagrantfile generated - the
    C(.qi.yml) keys mapped to the variables of the Node.js role, with roles M(qi.convergence.facts) and
    M(qi.convergence.nodejs_app) - then its C(setup) commands run in the app folder as the app user (C(sudo)
    works during the build; C(yum)/C(dnf) install lines were translated to Debian packages by the spec).
  - Roles of a legacy playbook are found where Ansible looks (O(roles_path), then the app's own
    C(provisioning/roles)), else installed with C(ansible-galaxy) from C(requirements.yml) into the state dir
    when reachable, else taken from the substitution map (O(role_map)); the C(roles) of each of RV(builds) says which.
  - The image is reproducible - the same inputs and base image give the same image ID on any engine (and the
    same registry digest from engines of the same version). Every time in the app's layer is clamped to
    C(SOURCE_DATE_EPOCH), else to the last commit of the app folder, else to 1970 (also the C(created) time and
    label); the config keeps no trace of the build container; temporary files the build left, ldconfig's cache
    and the password-change day C(useradd) wrote are normalised before the commit.
  - Before building, the fingerprint's tag is looked up in O(registry) (a fresh CI runner with a warm registry
    neither builds nor pushes, and deploys the digest already there).
  - After the commit, the app's QI test commands (C(commands)/C(test_cmds)) run in a throwaway container of the
    image; a failure fails the module naming the command, its exit code and its last output lines, and
    the image is neither kept under its fingerprint nor pushed.
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
extends_documentation_fragment:
  - qi.convergence.reading
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
  log_dir:
    description: Where the build log is written; created when missing.
    type: path
    required: true
  docker_host:
    description: The Docker engine to talk to; the default socket or DOCKER_HOST when omitted.
    type: str
  roles_path:
    description: Colon-separated roles paths searched first for the roles a legacy playbook names.
    type: str
    default: ""
  state_dir:
    description: The state dir; its C(galaxy-roles) folder caches roles installed from C(requirements.yml).
    type: path
  test:
    description: Run the app's QI test commands against a newly built image before pushing it.
    type: bool
    default: true
  test_timeout:
    description: Seconds the test commands of one app may take.
    type: int
    default: 1800
  runtime_only:
    description:
      - Publish the runtime alone (the app folder, its runtime with the shared libraries it loads, the packages the
        provisioning installed except build tools, the files it wrote, a shell and the basic file tools) as an image
        of one layer, instead of the provisioned container. The QI test commands run on the full image first; the
        runtime-only one must then pass the health check (or run its command) before it takes the tag.
      - When omitted, each app's C(.qi.yml) C(build.runtime_only) decides (default false).
      - Needs a Debian-family base image (it reads dpkg's package lists).
    type: bool
  runtime_keep:
    description: Absolute paths the runtime-only image keeps whole besides what it finds, for every app built.
    type: list
    elements: path
    default: []
  network:
    description:
      - The network of the build container, as C(docker run --network) takes it (for example C(host) on a CI
        runner whose engine has no bridge); the engine's default when empty.
      - It shapes no file of the image, so it is not part of the fingerprint.
    type: str
    default: ''
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
builds:
  description: One result per app of the folder, each with the keys below plus C(name), C(service), C(roles)
    (how each legacy role was provided), C(tests) (per-command results) and C(node_version); a component named in
    O(prebuilt) has C(prebuilt=true), its C(image) as given and nothing built; one whose image holds the same layers
    as an earlier one's (the same files from one source tree) names it in C(shares_layers_with).
  returned: success
  type: list
  elements: dict
specs:
  description: The specs of every app built.
  returned: success
  type: list
  elements: dict
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
  description: Whether an image with the same fingerprint was reused (from the local engine or the registry).
  returned: always
  type: bool
cache:
  description:
    - Where the reused image was - C(local) (the engine) or C(registry) (a fresh runner with a warm registry - the
      fingerprint tag is looked up there before building, so nothing is rebuilt or pushed and the digest is the
      same).
  returned: on a cache hit
  type: str
  sample: registry
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
runtime_only:
  description:
    - For a runtime-only image built by this run - C(size) and C(full_size) (the provisioned image's, in bytes),
      C(packages) (the Debian packages kept), C(probe) (what runs its health check - C(node), C(python3) or none),
      C(entries) (files, links and folders in its layer), C(missing) (kept paths that did not exist) and C(checked)
      (how it was checked).
  returned: when a runtime-only image was built
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ..module_utils.module_args import CONTAINER_IMAGE


def main():
    # The work runs on the controller, in the collection's action plugin of the same name: reading provisioning
    # needs Ansible's own DataLoader and Templar. Reaching this entry point means the action was bypassed.
    module = AnsibleModule(supports_check_mode=True, **CONTAINER_IMAGE)
    module.fail_json(msg="qi.convergence.container_image runs on the controller through its action plugin; call it by its "
                         "FQCN from a play or ad hoc (ansible localhost -m qi.convergence.container_image)")


if __name__ == "__main__":
    main()
