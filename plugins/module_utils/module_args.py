# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs of the modules that run as controller-side action plugins, in one place for both."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

_READ = dict(
    collections_path=dict(type="str", default=""),
    role_map=dict(type="dict", default={}),
    rpm_map=dict(type="dict", default={}),
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
        log_dir=dict(type="path", required=True),
        docker_host=dict(type="str"),
        revision=dict(type="str"),
        version=dict(type="str"),
        **_READ
    ),
    required_together=[("registry_username", "registry_password")],
    required_one_of=[("spec", "app_dir")],
    mutually_exclusive=[("spec", "app_dir")],
)
