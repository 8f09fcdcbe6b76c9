# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs of the modules that run as controller-side action plugins, in one place for both."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from .kube_args import with_auth, with_render

_READ = dict(
    collections_path=dict(type="str", default=""),
    role_map=dict(type="dict", default={}),
    rpm_map=dict(type="dict", default={}),
    prebuilt=dict(type="dict", default={}),
)

APP_SPEC = dict(
    argument_spec=dict(
        app_dir=dict(type="path"),
        app_dirs=dict(type="list", elements="path"),
        qi_file=dict(type="path"),
        **_READ
    ),
    required_one_of=[("app_dir", "app_dirs")],
    mutually_exclusive=[("app_dir", "app_dirs"), ("app_dirs", "qi_file")],
)

CONTAINER_IMAGE = dict(
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
        roles_path=dict(type="str", default=""),
        state_dir=dict(type="path"),
        test=dict(type="bool", default=True),
        test_timeout=dict(type="int", default=1800),
        runtime_only=dict(type="bool"),
        runtime_keep=dict(type="list", elements="path", default=[]),
        log_dir=dict(type="path", required=True),
        docker_host=dict(type="str"),
        network=dict(type="str", default=""),
        revision=dict(type="str"),
        version=dict(type="str"),
        **_READ
    ),
    required_together=[("registry_username", "registry_password")],
    required_one_of=[("spec", "app_dir")],
    mutually_exclusive=[("spec", "app_dir")],
)


K8S_RELEASE = dict(
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
        ingress_ca=dict(type="dict", options=dict(cert=dict(type="path", required=True),
                                                  key=dict(type="path", required=True, no_log=False))),
        revision=dict(type="int"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=180),
        history=dict(type="int", default=10),
        rollback_on_failure=dict(type="bool", default=True),
        pull_retries=dict(type="int", default=3),
        app_dirs=dict(type="list", elements="path"),
        env_secret_values=dict(type="list", elements="str", no_log=True),
        **_READ
    ))),
    mutually_exclusive=[("objects", "spec"), ("releases", "spec"), ("releases", "objects"), ("releases", "release"),
                        ("specs", "spec"), ("specs", "objects"), ("specs", "release"), ("app_dirs", "spec"),
                        ("app_dirs", "specs"), ("app_dirs", "objects"), ("app_dirs", "releases")],
    required_one_of=[("release", "spec", "releases", "specs", "app_dirs")],
)
