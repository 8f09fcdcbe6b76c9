# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The schemas of .qi.yml and of the legacy Node.js provisioning variables (docs/qi-yml.md)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.qi.convergence.plugins.module_utils.schema import (
    Any, Bool, Env, Int, List, Map, Name, Port, Quantity, Str)

ABS_PATH = re.compile(r"^/[^\x00]*$")
HTTP_PATH = re.compile(r"^(/[^\s]*|https?://[^\s]+)$")
IMAGE_REF = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$")

AbsPath = Str(pattern=ABS_PATH, what="an absolute path")
Command = List(Str(), coerce_scalar=True)
Image = Str(pattern=IMAGE_REF, what="a container image reference")
SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"]

RESOURCES = Map({
    "requests": Map({"cpu": Quantity(), "memory": Quantity()}),
    "limits": Map({"cpu": Quantity(), "memory": Quantity()}),
})

CONTAINER = Map({
    "name": Name(),
    "image": Image,
    "command": Command,
    "args": Command,
    "env": Env(),
    "port": Port(),
    "pattern": Str(choices=["sidecar", "ambassador", "adapter"]),
    "resources": RESOURCES,
    "mount_shared": AbsPath,
}, required=("name", "image"))

CONFIG_FILE = Map({
    "name": Name(),
    "mount_path": AbsPath,
    "files": Map({}, open_keys=True),
    "src": List(Str(), coerce_scalar=True),
}, required=("name", "mount_path"))

SECRET = Map({
    "name": Name(),
    "env": List(Str(pattern=re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"), what="an environment variable name")),
    "mount_path": AbsPath,
}, required=("name",))

QI_FILE = Map({
    # The legacy Travis-like keys, accepted unchanged.
    "app_name": Name(),
    "software_stack": Str(what="a software stack name such as nodejs or python"),
    "software_stack_version": Str(),
    "env_runtime": Str(choices=["linux", "linux-desktop"]),
    "setup": Command,
    "app_start_script": Str(),
    "app_start_service": Str(),
    "app_tcp_port": Port(),
    "test": Command,
    "test_cmds": Command,
    # Extension keys for containers and Kubernetes.
    "build": Map({
        "playbook": Str(),
        "vars_files": List(Str(), coerce_scalar=True),
        "phases": List(Str(), coerce_scalar=True),
        "base_image": Image,
        "source_dest": AbsPath,
        "overrides": Map({}, open_keys=True),
    }),
    "run": Map({
        "command": Command,
        "args": Command,
        "workdir": AbsPath,
        "user": Str(),
        "env": Env(),
        "writable_paths": List(AbsPath, coerce_scalar=True),
    }),
    "health": Map({
        "path": Str(pattern=HTTP_PATH, what="an HTTP path such as /health"),
        "port": Port(),
        "status": Int(100, 599, "an HTTP status code"),
        "text": Str(),
        "initial_delay": Int(0, 3600, "seconds"),
    }),
    "deploy": Map({
        "replicas": Int(0, 1000, "a replica count"),
        "service_type": Str(choices=SERVICE_TYPES),
        "resources": RESOURCES,
        "config_files": List(CONFIG_FILE),
        "secrets": List(SECRET),
        "sidecars": List(CONTAINER),
        "init_containers": List(CONTAINER),
        "ingress": Map({"host": Str(), "path": Str(pattern=HTTP_PATH, what="an HTTP path"), "tls_secret": Name()}),
        "termination_grace_period": Int(0, 3600, "seconds"),
        "pre_stop_sleep": Int(0, 3600, "seconds"),
    }),
})

# Only the variables we read are checked; a vars file may hold other roles' variables too.
LEGACY_VARS = Map({
    "nodejs_app_name": Name(),
    "nodejs_app_commands": Command,
    "nodejs_app_start_script": Str(),
    "nodejs_app_tcp_port": Port(),
    "nodejs_app_env_vars": Env(),
    "nodejs_app_install_dir": AbsPath,
    "nodejs_app_git_clone": Bool(),
    "nodejs_app_git_repo": Str(),
    "nodejs_app_git_branch": Str(),
    "nodejs_app_rpm_packages": List(Str(), coerce_scalar=True),
    "nodejs_app_deb_packages": List(Str(), coerce_scalar=True),
    "nodejs_app_npm_packages": List(Any()),
    "nodejs_app_test_http_endpoint": Str(pattern=HTTP_PATH, what="an HTTP path or URL"),
    "nodejs_app_test_http_status_code": Int(100, 599, "an HTTP status code"),
    "nodejs_app_test_string": Str(),
    "nodejs_app_username": Str(),
    "nodejs_app_groupname": Str(),
    "nodejs_version": Str(),
}, open_keys=True)
