#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_manifests
short_description: Render the Kubernetes objects of an application from its app spec and the environment
version_added: 0.1.0
description:
  - Pure rendering, no cluster access - from the app spec (M(qi.convergence.app_spec)), the image and the
    environment (inventory variables) it produces a ServiceAccount without token automount, ConfigMaps mounted
    as files, Secrets from inventory values, a Deployment (probes from the health spec, requests and limits,
    restrictive securityContext with a read-only root filesystem, init containers, sidecars, preStop hook,
    image pinned by digest), a Service of the chosen type, and where the environment asks an Ingress,
    PodDisruptionBudget, HorizontalPodAutoscaler, pod anti-affinity and NetworkPolicy.
  - Every object carries the C(app.kubernetes.io/*) labels.
  - Secret values are hidden in the result unless O(reveal_secrets) is set.
  - A Secret the spec generates once per environment (a database's admin account) gets new random values here, as
    on a first deploy; M(qi.convergence.k8s_release) reads an existing one back instead.
author:
  - qi.convergence developers (@qi-convergence)
extends_documentation_fragment:
  - qi.convergence.render
  - qi.convergence.render.READ_ONLY
options:
  spec:
    description: The application spec.
    type: dict
    required: true
  image:
    description: The image reference, ideally pinned by digest.
    type: str
    required: true
  release:
    description: The release name (the C(app.kubernetes.io/instance) label); the app name by default.
    type: str
  reveal_secrets:
    description: Return Secret values instead of hiding them.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Render the objects of an app for the local environment
  qi.convergence.k8s_manifests:
    spec: "{{ app.spec }}"
    image: "{{ image.image }}"
    environment:
      namespace: default
      service_type: NodePort
  register: rendered

- name: Write them for review
  ansible.builtin.copy:
    content: "{{ rendered.objects | map('to_nice_yaml') | join('---\n') }}"
    dest: /tmp/app.yml
    mode: "0644"
"""

RETURN = r"""
objects:
  description: The rendered objects, in apply order.
  returned: success
  type: list
  elements: dict
kinds:
  description: C(Kind/name) of each object.
  returned: success
  type: list
  elements: str
  sample: ["ServiceAccount/nodejs-hello", "Deployment/nodejs-hello", "Service/nodejs-hello"]
"""

from ansible.module_utils.basic import AnsibleModule
from ..module_utils.errors import QiError
from ..module_utils.kube_args import with_render
from ..module_utils.generated_secrets import make_values, owned
from ..module_utils.manifests import mask, render


def main():
    module = AnsibleModule(
        argument_spec=with_render(dict(
            spec=dict(type="dict", required=True),
            image=dict(type="str", required=True),
            release=dict(type="str"),
            reveal_secrets=dict(type="bool", default=False),
        )),
        supports_check_mode=True,
    )
    p = module.params
    try:
        generated = dict((e["name"], make_values(e)) for e in owned(p["spec"])) if "deploy" in p["spec"] else {}
        env = dict(p["environment"], secrets=p["secrets"], generated=generated)
        objects = render(p["spec"], p["image"], env, p["release"])
    except (QiError, KeyError, TypeError) as e:
        module.fail_json(msg="cannot render the manifests: %s" % e)
    shown = objects if p["reveal_secrets"] else [mask(o) for o in objects]
    module.exit_json(changed=False, objects=shown, kinds=["%s/%s" % (o["kind"], o["metadata"]["name"]) for o in objects])


if __name__ == "__main__":
    main()
