#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_release
short_description: Roll out all objects of one application as a recorded, revertible release
version_added: 0.1.0
description:
  - Applies every object of one application in ONE module call with one client, by server-side apply with the
    C(qi.convergence) field manager. Objects come from O(objects), or are rendered here from O(spec),
    O(image) and O(environment) so that Secret values never leave the module.
  - Records each revision (objects and image) in the cluster as a Secret C(RELEASE.vN), keeping O(history)
    of them; prunes objects of the previous revision that are no longer rendered.
  - Waits for the Deployments to roll out and fails fast naming the reason (ImagePullBackOff, ErrImagePull,
    CrashLoopBackOff, CreateContainerConfigError, ProgressDeadlineExceeded) with the pod's last log lines,
    then rolls back to the previous revision (or removes a failed first revision).
  - With O(revision) it rolls back to a recorded revision (0 = the one before the current).
  - Nothing changed means no write at all and C(changed=false).
extends_documentation_fragment:
  - qi.convergence.kube_auth
  - qi.convergence.render
author:
  - qi.convergence developers (@qi-convergence)
attributes:
  check_mode:
    support: full
    description: Server-side dry run of every object; reports what would change.
  diff_mode:
    support: full
    description: Before and after of each object that would change, Secret values hidden.
  idempotent:
    support: full
    description: A second run with the same inputs changes nothing.
options:
  release:
    description: The release name; the app name by default.
    type: str
  namespace:
    description: The namespace; the O(environment) namespace or C(default) when omitted.
    type: str
  create_namespace:
    description: Create the namespace when it does not exist.
    type: bool
    default: true
  state:
    description: C(present) rolls out, C(absent) removes the release's objects and history.
    type: str
    choices: [present, absent]
    default: present
  objects:
    description: Objects to apply. Mutually exclusive with O(spec).
    type: list
    elements: dict
  spec:
    description: The app spec to render with M(qi.convergence.k8s_manifests) rules.
    type: dict
  image:
    description: The image to deploy, ideally pinned by digest; required with O(spec).
    type: str
  revision:
    description: Roll back to this recorded revision; C(0) means the revision before the current one.
    type: int
  wait:
    description: Wait for the Deployments to roll out.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rollout before failing.
    type: int
    default: 180
  history:
    description: How many revisions to keep.
    type: int
    default: 10
  rollback_on_failure:
    description: Roll back to the previous revision when the rollout fails.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Deploy an app to the cluster the inventory names
  qi.convergence.k8s_release:
    kubeconfig: "{{ app_deploy_kubeconfig }}"
    spec: "{{ app.spec }}"
    image: "{{ image.image }}"
    environment:
      namespace: default
      service_type: NodePort
      replicas: 1

- name: Roll back to the previous revision
  qi.convergence.k8s_release:
    release: nodejs-hello
    namespace: default
    revision: 0
"""

RETURN = r"""
revision:
  description: The release revision now deployed.
  returned: always
  type: int
  sample: 3
applied:
  description: C(Kind/name) of the objects this run changed (or would change in check mode).
  returned: state=present
  type: list
  elements: str
pruned:
  description: C(Kind/name) of the objects removed.
  returned: always
  type: list
  elements: str
image:
  description: The image of the deployed revision.
  returned: state=present
  type: str
service:
  description: Type, port and node port of the app's Service, for printing where it answers.
  returned: when the release has a Service
  type: dict
  sample: {"name": "nodejs-hello", "type": "NodePort", "port": 8080, "node_port": 30080}
diff:
  description: Before and after of each changed object, Secret values hidden.
  returned: in diff mode
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.kube import (
    HAS_KUBERNETES, KUBERNETES_IMPORT_ERROR, kube_client)
from ansible_collections.qi.convergence.plugins.module_utils.kube_args import with_auth, with_render
from ansible_collections.qi.convergence.plugins.module_utils.manifests import render
from ansible_collections.qi.convergence.plugins.module_utils.release import remove_release, run_release
from ansible_collections.qi.convergence.plugins.module_utils.service_info import ensure_namespace, service_info


def main():
    module = AnsibleModule(
        argument_spec=with_auth(with_render(dict(
            release=dict(type="str"),
            namespace=dict(type="str"),
            create_namespace=dict(type="bool", default=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            objects=dict(type="list", elements="dict"),
            spec=dict(type="dict"),
            image=dict(type="str"),
            revision=dict(type="int"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=180),
            history=dict(type="int", default=10),
            rollback_on_failure=dict(type="bool", default=True),
        ))),
        mutually_exclusive=[("objects", "spec")],
        required_together=[("spec", "image")],
        supports_check_mode=True,
    )
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    p = dict(module.params)
    p["namespace"] = p["namespace"] or p["environment"].get("namespace") or "default"
    p["release"] = p["release"] or (p["spec"] or {}).get("name")
    if not p["release"]:
        module.fail_json(msg="release is required when no spec is given")
    try:
        kube = kube_client(p["kubeconfig"], p["context"])
        if p["state"] == "absent":
            module.exit_json(**remove_release(kube, p, module.check_mode))
        objects = p["objects"] or []
        if p["spec"]:
            env = dict(p["environment"], namespace=p["namespace"], secrets=p["secrets"])
            objects = render(p["spec"], p["image"], env, p["release"])
        elif p["revision"] is None and not objects:
            module.fail_json(msg="give spec and image, objects, or a revision to roll back to")
        ns_created = p["create_namespace"] and ensure_namespace(kube, p["namespace"], module.check_mode)
        result = run_release(kube, p, objects, check_mode=module.check_mode, want_diff=module._diff)
        result["changed"] = result["changed"] or ns_created
        result["service"] = service_info(kube, p["namespace"], p["release"], result.pop("objects"))
    except QiError as e:
        module.fail_json(msg=str(e))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
