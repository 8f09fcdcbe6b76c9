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
  - Records each revision (objects and image) in the cluster as a gzipped Secret C(RELEASE.vN) (split over
    C(RELEASE.vN.pK) when large), keeping O(history) of them; listing reads metadata only. Prunes objects of the
    previous revision that are no longer rendered.
  - Runs on the controller (an action plugin), printing each app's progress every 5 seconds while it waits.
  - Fails fast naming the object, the reason, the event message and the failing container's last 20 log lines
    (the previous instance's for crash loops) - probe failures once the probe's own failureThreshold is crossed;
    CrashLoopBackOff, init container failures, CreateContainerConfigError, ErrImageNeverPull, InvalidImageName and
    ReplicaFailure/FailedCreate (quota, admission, Pod Security) at once; image pulls after O(pull_retries) - then
    rolls back to the previous revision (or removes a failed first revision).
  - An apply refused part-way puts back what this run applied. API requests are retried on 429, 5xx and
    connection resets, honouring Retry-After, within the wait's deadline.
  - One deploy at a time per release - a Lease C(qi-lock.RELEASE) renewed while it waits; a second run fails at
    once naming the holder, a lock left by a killed run is taken over once it expires.
  - With O(revision) it rolls back to a recorded revision (0 = the one before the current).
  - Nothing changed means no write at all and C(changed=false).
  - "Two input shapes: app folders (O(app_dirs), read, rendered and deployed in this one call) and releases
    (O(releases), each with a spec and image to render, rendered O(objects), or a O(revision) to return to).
    O(specs) with O(images) and the one-release options O(release), O(spec), O(image), O(objects), O(revision) are
    aliases for a O(releases) list: one item per spec, or one item."
extends_documentation_fragment:
  - qi.convergence.kube_auth
  - qi.convergence.reading
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
    description: The namespace; when omitted the O(environment) namespace, else the kubeconfig context's, else
      C(default).
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
  app_dirs:
    description:
      - Application folders to read and roll out in this same call, instead of O(spec) or O(specs) - the playbook
        passes paths, not every spec through its templating. Every service of every folder is a release named
        after the app (with one folder, O(release) names it); libraries are reported in RV(not_deployed).
      - Each service whose app uses the legacy C(secrets) role gets its Secret from O(env_secret_values), else from
        the C(secrets_env_vars) of its C(provisioning/secrets.yml) (Vault-encrypted files are decrypted).
    type: list
    elements: path
  env_secret_values:
    description: The legacy secrets role's C(secrets_env_vars) (C(NAME=value) strings) from the inventory, for
      O(app_dirs); when omitted each app's C(provisioning/secrets.yml) is read.
    type: list
    elements: str
  images:
    description: Images by app name, for O(specs) (for example what M(qi.convergence.container_image) built).
    type: dict
    default: {}
  public_host:
    description: The host in the C(url) of each release result, for NodePort Services.
    type: str
  ingress_ca:
    description:
      - A local CA that issues the TLS Secrets the Ingresses name, for a cluster with no cert-manager (the embedded
        one makes its CA at set-up; C(make cluster) prints where). A Secret that is missing, does not name an
        Ingress host, is not signed by this CA or has less than 30 days left is (re)issued for the hosts and their
        wildcard (C(*.apps.example.internal) for C(web.apps.example.internal)), so apps sharing one Secret name
        share one certificate; a Secret someone else made (cert-manager, by hand) is left alone.
      - The Secrets belong to no release and are not removed with one. Their key never reaches the task's output.
    type: dict
    suboptions:
      cert:
        description: The CA certificate (PEM).
        type: path
        required: true
      key:
        description: The CA's private key (PEM, unencrypted), read on the controller.
        type: path
        required: true
  revision:
    description: Roll back to this recorded revision; C(0) means the revision before the current one.
    type: int
  wait:
    description:
      - Wait for the Deployments to roll out, then run the smoke test a Deployment carries (annotation
        C(qi-convergence.io/smoke-test), from the legacy C(nodejs_app_test_http_endpoint)) on a pod of the new revision
        through the API server's pod proxy; a failing smoke test fails the release like a failed rollout.
      - A release with nothing to change is still checked - a Deployment that is not available is waited for, and
        the task fails naming why (nothing is rolled back, as nothing was applied).
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
  pull_retries:
    description: Failed pulls of an image tolerated (a registry hiccup) before the rollout fails; an image the
      registry says does not exist, or may not be pulled, fails at once.
    type: int
    default: 3
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
not_deployed:
  description: The apps of O(app_dirs) that are not services (libraries), with C(name) and C(why).
  returned: always
  type: list
  elements: dict
urls:
  description: Where each release answers, by release name.
  returned: always
  type: dict
summary:
  description: One line per release (revision and where it answers) and per app not deployed.
  returned: always
  type: list
  elements: str
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
tls_issued:
  description: The TLS Secrets O(ingress_ca) issued (or would issue in check mode), with why (C(missing),
    C(does not name HOST), C(expires DATE)).
  returned: when O(ingress_ca) issued one
  type: list
  elements: dict
  sample: [{"secret": "apps-tls", "why": "missing"}]
diff:
  description: Before and after of each changed object, Secret values hidden.
  returned: in diff mode
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ..module_utils.module_args import K8S_RELEASE


def main():
    # The work runs on the controller, in the collection's action plugin of the same name, so that the rollout's
    # progress reaches the terminal while it waits. Reaching this entry point means the action was bypassed.
    module = AnsibleModule(supports_check_mode=True, **K8S_RELEASE)
    module.fail_json(msg="qi.convergence.k8s_release runs on the controller through its action plugin; call it by its "
                         "FQCN from a play or ad hoc (ansible localhost -m qi.convergence.k8s_release)")


if __name__ == "__main__":
    main()
