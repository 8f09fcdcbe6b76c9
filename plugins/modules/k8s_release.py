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
  releases:
    description:
      - Several releases in one call (one client, objects applied concurrently), instead of O(release),
        O(spec), O(image), O(objects). Each item takes C(release), C(spec), C(image), C(objects),
        C(environment) (merged over O(environment)) and C(revision).
    type: list
    elements: dict
    suboptions:
      release:
        description: The release name; the app name by default.
        type: str
      spec:
        description: The app spec to render.
        type: dict
      image:
        description: The image to deploy.
        type: str
      objects:
        description: Objects to apply instead of rendering a spec.
        type: list
        elements: dict
      environment:
        description: Environment values for this release, over O(environment).
        type: dict
        default: {}
      revision:
        description: Roll this release back to a recorded revision (0 = the previous one).
        type: int
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
    description: The image to deploy, ideally pinned by digest; with O(spec) and no image, the image the release
      runs now (a configuration-only deploy).
    type: str
  specs:
    description:
      - App specs (from M(qi.convergence.app_spec) with C(app_dirs)), one release each, named after the app.
      - Each gets its image from O(images) by app name, else O(image), else the image its release runs now.
    type: list
    elements: dict
  images:
    description: Images by app name, for O(specs) (for example what M(qi.convergence.container_image) built).
    type: dict
    default: {}
  public_host:
    description: The host in the C(url) of each release result, for NodePort Services.
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

- name: Deploy several apps in one call
  qi.convergence.k8s_release:
    namespace: default
    releases:
      - spec: "{{ web.spec }}"
        image: "{{ web_image }}"
      - spec: "{{ api.spec }}"
        image: "{{ api_image }}"
        environment:
          node_port: 30081

- name: Roll back to the previous revision
  qi.convergence.k8s_release:
    release: nodejs-hello
    namespace: default
    revision: 0
"""

RETURN = r"""
releases:
  description: One result per release - C(release), C(changed), C(revision), C(image), C(applied), C(pruned),
    C(service), C(url) (where it answers), and C(failed) with C(msg) for a release whose rollout failed and was
    rolled back.
  returned: always
  type: list
  elements: dict
revision:
  description: The release revision now deployed (when there is one release; else see RV(releases)).
  returned: when there is one release
  type: int
  sample: 3
applied:
  description: C(Kind/name) of the objects this run changed (or would change in check mode).
  returned: state=present and one release
  type: list
  elements: str
pruned:
  description: C(Kind/name) of the objects removed.
  returned: when there is one release
  type: list
  elements: str
image:
  description: The image of the deployed revision.
  returned: state=present and one release
  type: str
service:
  description: Type, port and node port of the app's Service, for printing where it answers.
  returned: when there is one release with a Service
  type: dict
  sample: {"name": "nodejs-hello", "type": "NodePort", "port": 8080, "node_port": 30080}
diff:
  description: Before and after of each changed object, Secret values hidden.
  returned: in diff mode
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.kube import kube_client
from ansible_collections.qi.convergence.plugins.module_utils.kube_args import with_auth, with_render
from ansible_collections.qi.convergence.plugins.module_utils.manifests import render
from ansible_collections.qi.convergence.plugins.module_utils.release import Histories, remove_releases, run_releases
from ansible_collections.qi.convergence.plugins.module_utils.namespace import ensure_namespace


def _items(p, histories):
    """One item per release: objects to apply (rendered here from a spec) or a revision to go back to."""
    singles = [dict(release=p["release"], spec=p["spec"], image=p["image"], objects=p["objects"],
                    environment={}, revision=p["revision"])] if not (p["releases"] or p["specs"]) else []
    from_specs = [dict(spec=s, image=p["images"].get(s.get("name")) or p["image"]) for s in p["specs"] or []]
    items = []
    for i, r in enumerate((p["releases"] or []) + from_specs or singles):
        name = r.get("release") or (r.get("spec") or {}).get("name")
        if not name:
            raise QiError("releases[%d]: a release name is needed when no spec is given" % i)
        objects = r.get("objects") or []
        image = r.get("image")
        if r.get("spec"):
            # No image given: keep the one the release runs now (a configuration-only deploy).
            image = image or (histories.current(name) or {}).get("image")
            if not image:
                raise QiError("no image for %s: it has no revision yet; build it first (playbooks/site.yml) "
                              "or pass -e app_image=REF" % name)
            env = dict(p["environment"], **(r.get("environment") or {}))
            env.update(namespace=p["namespace"], secrets=p["secrets"])
            objects = render(r["spec"], image, env, name)
        elif r.get("revision") is None and not objects and p["state"] == "present":
            raise QiError("release %s: give spec and image, objects, or a revision to roll back to" % name)
        items.append({"release": name, "objects": objects, "image": image, "revision": r.get("revision")})
    return items


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
            releases=dict(type="list", elements="dict", options=dict(
                release=dict(type="str"),
                spec=dict(type="dict"),
                image=dict(type="str"),
                objects=dict(type="list", elements="dict"),
                environment=dict(type="dict", default={}),
                revision=dict(type="int"),
            )),
            specs=dict(type="list", elements="dict"),
            images=dict(type="dict", default={}),
            public_host=dict(type="str"),
            revision=dict(type="int"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=180),
            history=dict(type="int", default=10),
            rollback_on_failure=dict(type="bool", default=True),
        ))),
        mutually_exclusive=[("objects", "spec"), ("releases", "spec"), ("releases", "objects"), ("releases", "release"),
                            ("specs", "spec"), ("specs", "objects"), ("specs", "release")],
        required_one_of=[("release", "spec", "releases", "specs")],
        supports_check_mode=True,
    )
    p = dict(module.params)
    try:
        kube = kube_client(p)
        p["namespace"] = p["namespace"] or p["environment"].get("namespace") or kube.namespace or "default"
        histories = Histories(kube, p["namespace"])
        items = _items(p, histories)
        if p["state"] == "absent":
            results = remove_releases(histories, [i["release"] for i in items], module.check_mode)
            module.exit_json(changed=any(r["changed"] for r in results), releases=results, **_single(results))
        ns_created = p["create_namespace"] and ensure_namespace(kube, p["namespace"], module.check_mode)
        results, errors, releases = run_releases(kube, p, items, histories, module.check_mode, module._diff)
    except QiError as e:
        module.fail_json(msg=str(e))
    out = dict(changed=ns_created or any(r["changed"] for r in results), releases=results, **_single(results))
    if module._diff:
        out["diff"] = [d for r in releases for d in r.diff]
    if errors:
        module.fail_json(msg="\n\n".join(errors), **out)
    module.exit_json(**out)


def _single(results):
    """For one release, its result's keys at the top level too (what playbooks for one app read)."""
    if len(results) != 1:
        return {}
    return dict((k, v) for k, v in results[0].items() if k not in ("changed", "failed", "msg"))


if __name__ == "__main__":
    main()
