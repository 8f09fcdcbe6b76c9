# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app spec: what one app folder says, as the later stages (image, manifests, release) read it.

TypedDicts, not classes: the spec crosses Ansible's task boundary as JSON (app_spec's return value, a playbook
variable, k8s_manifests' option on a managed host), so it stays a plain dict whose shape is written down here
and documented in app_spec's RETURN.
"""

from __future__ import absolute_import, annotations, division, print_function
__metaclass__ = type

from typing import Dict, List, NotRequired, Optional, TypedDict


class Stack(TypedDict):
    name: str                       # nodejs, or generic for a provisioning that is not a Node.js app
    version: Optional[str]          # as the app asked: 4.3.1, 18, lts; None for the stack's default


class Git(TypedDict):
    repo: Optional[str]
    branch: Optional[str]


class Source(TypedDict):
    dir: str                        # the folder copied into the image
    dest: str                       # where it goes in the image
    git: Git
    exclude: List[str]              # folders of dir left out of the image (a system's provisioning folder)


class Build(TypedDict):
    playbook: Optional[str]         # the app's own provisioning playbook; None when generated
    generated: bool                 # True: the collection's facts + nodejs_app roles stand in for one
    vars_files: List[str]
    roles: List[str]
    hosts: List[str]
    requirements: List[dict]
    phases: List[str]               # the tags run in the image: install, configure
    env: dict                       # the legacy Dockerfile's/Vagrantfile's environment
    extra_vars: dict                # its ansible-playbook -e values
    base_image: Optional[str]
    setup: List[str]                # .qi.yml setup commands, RPM names translated
    vars: dict                      # role variables the build sets
    overrides: dict
    addresses: Dict[str, str]       # role variables naming localhost:PORT: another component's, in a system
    runtime_only: bool              # publish the runtime alone (image/runtime_image.py)
    keep: List[str]                 # what the runtime-only image keeps whole besides what the build finds


class Run(TypedDict):
    command: List[str]
    args: List[str]
    workdir: str
    user: str
    group: str
    port: Optional[int]
    env: dict                       # plain values only; secret-looking names go to Deploy.env_secret
    writable_paths: List[str]
    # Only for a component run from a prebuilt image (spec/prebuilt.py): its user id, data folder, startup hook.
    uid: NotRequired[int]
    data_dir: NotRequired[str]
    post_start: NotRequired[List[str]]


class Health(TypedDict):
    path: Optional[str]             # None: a TCP probe on port
    port: int
    status: Optional[int]
    text: Optional[str]
    initial_delay: int


class SmokeTest(TypedDict):
    path: str
    port: int
    status: int
    text: str


class EnvSecret(TypedDict):
    name: str
    required: List[str]


class GeneratedSecret(TypedDict, total=False):
    name: str                       # the Secret, one per namespace: created on the first deploy, never changed after
    owned: bool                     # this component's release creates it; the others only read it
    values: Dict[str, str]          # keys with a fixed value (the admin's name)
    generate: List[str]             # keys given a random value when the Secret is created
    env: Dict[str, str]             # container variable: key of the Secret


class Deploy(TypedDict):
    replicas: int
    service_type: str
    resources: dict
    config_files: List[dict]
    secrets: List[dict]
    sidecars: List[dict]
    init_containers: List[dict]
    ingress: Optional[dict]
    termination_grace_period: int
    pre_stop_sleep: int
    env_secret: Optional[EnvSecret]
    generated_secrets: List[GeneratedSecret]
    pod_env: Dict[str, str]         # set on the container, not the image: may name $(VAR)s of the Secrets above


class Component(TypedDict):
    kind: str                       # service, stateful, job or cronjob
    depends_on: dict                # component name: ready or completed
    wave: int                       # the release applies wave 0 first, then 1, ...
    wired: dict                     # environment rewired from localhost:PORT to the component's Service
    storage: Optional[dict]         # a stateful component's volume: size, path
    schedule: Optional[str]         # a cronjob's schedule


class AppSpec(TypedDict, total=False):
    name: str                       # lower case: Kubernetes and image names
    legacy_name: str                # as the provisioning spelt it: the app's own environment keeps it
    app_dir: str
    stack: Stack
    env_runtime: str
    source: Source
    build: Build
    run: Run
    health: Optional[Health]
    service: bool                   # False: a library, built and tested, not deployed
    deploy: Deploy
    tests: List[str]
    smoke_test: Optional[SmokeTest]
    notes: List[str]                # what was inferred, and from where, said to the user
    publishers: list
    read_files: List[str]           # every file the spec came from, relative to app_dir
    component: Component            # only for a component of a system (spec/system.py)
    prebuilt: str                   # only for a component run from an image the inventory names
