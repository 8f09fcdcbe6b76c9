# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JSON Schema of .qi.yml: the real QI keys (flat and apps: shapes) plus our container/Kubernetes keys.

schemas/qi.schema.json is APPS_FILE and FLAT_FILE written out for editors (a unit test keeps them equal).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

DNS_NAME = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ABS_PATH = "^/"
ENV_NAME = "^[-._a-zA-Z][-._a-zA-Z0-9]*$"
QUANTITY = "^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$"
HTTP_PATH = "^(/[^\\s]*|https?://[^\\s]+)$"
IMAGE_REF = "^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$"


def _s(description, **kw):
    kw.update(type="string", description=description)
    return kw


def _list(items, description):
    return {"type": "array", "items": items, "description": description}


def _obj(properties, description, required=()):
    out = {"type": "object", "properties": properties, "additionalProperties": False, "description": description}
    if required:
        out["required"] = list(required)
    return out


NAME = _s("A DNS-1123 name: lower-case letters, digits and '-'", pattern=DNS_NAME, maxLength=63)
PORT = {"type": "integer", "minimum": 1, "maximum": 65535, "description": "A TCP port"}
SECONDS = {"type": "integer", "minimum": 0, "maximum": 3600, "description": "Seconds"}
COMMANDS = _list({"type": "string"}, "Shell commands, run in order")
ARGV = {"anyOf": [{"type": "string"}, _list({"type": "string"}, "argv")],
        "description": "A command: a string, or a list of arguments"}
ENV = {"anyOf": [
    {"type": "object", "propertyNames": {"pattern": ENV_NAME},
     "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
    _list({"type": "string", "pattern": "^[-._a-zA-Z][-._a-zA-Z0-9]*="}, "NAME=value entries")],
    "description": "Environment variables: a mapping, or a list of NAME=value"}
RESOURCES = _obj({
    k: _obj({"cpu": _s("A CPU quantity such as 100m or 0.5", pattern=QUANTITY), "memory": _s("A memory quantity such as 128Mi or 1Gi", pattern=QUANTITY)}, k)
    for k in ("requests", "limits")}, "Container resource requests and limits")
CONTAINER = _obj({
    "name": NAME, "image": _s("A container image reference", pattern=IMAGE_REF), "command": ARGV, "args": ARGV, "env": ENV,
    "port": PORT, "pattern": {"enum": ["sidecar", "ambassador", "adapter"]}, "resources": RESOURCES,
    "mount_shared": _s("An absolute path: a volume shared with the app container", pattern=ABS_PATH),
}, "An extra container of the pod", required=("name", "image"))

# The keys the QI tooling itself read (qi-config README and the 2016-17 files).
QI_APP_KEYS = {
    "app_name": NAME,
    "email": _s("Who gets the QI job's mail (read, not used here)"),
    "env_runtime": {"enum": ["linux", "linux-desktop"],
                    "description": "linux, or linux-desktop: tests get a headless X display and Chromium"},
    "git_repository": _s("The app's Git repository: the image's OCI source label"),
    "git_branches": _list({"type": "string"}, "Branches QI built: the first is the image's ref label"),
    "git_branch": _s("The branch QI built: the image's ref label"),
    "app_tcp_port": PORT,
    "app_start_script": _s("The script node runs, relative to the app folder"),
    "app_start_service": {"type": "boolean", "description": "Whether the app runs as a service (is deployed)"},
    "software_stack": _s("The runtime stack: nodejs"),
    "software_stack_version": {"type": ["string", "number"],
                               "description": "The Node.js version: exact (4.3.1), a major (18) or lts"},
    "setup": COMMANDS,
    "commands": COMMANDS,
    "test_cmds": COMMANDS,
    "publishers": _list({"type": "object"}, "Report publishers, e.g. {cobertura: {report-file: PATH}}"),
    "folder": _obj({"src": _s("The app's folder in the repository (default .)"),
                    "dest": _s("An absolute path: where the code lives in the VM and in the image", pattern=ABS_PATH)},
                   "The synced folder"),
    "run_in": _s("The QI VM that ran the app (read, not used here)"),
    "deploy": {"type": "boolean", "description": "Whether the app is started as a service (is deployed)"},
    "nodejs_app_git_clone": {"type": "boolean", "description": "Read; the app folder on disk is always built"},
}

# Ours: how the container is built, run, probed and deployed.
EXTENSION_KEYS = {
    "build": _obj({
        "playbook": _s("The provisioning playbook, relative to the app folder"),
        "vars_files": _list({"type": "string"}, "Extra vars files, read after those the playbook names"),
        "phases": _list({"type": "string"}, "Tags the build runs (default install, configure)"),
        "base_image": _s("A container image reference: the build base", pattern=IMAGE_REF),
        "source_dest": _s("An absolute path: where the source goes when folder.dest is not set", pattern=ABS_PATH),
        "overrides": {"type": "object", "description": "Extra vars for the build"},
        "runtime_only": {"type": "boolean",
                         "description": "Publish the runtime alone: the app, its runtime and production files, no build "
                                        "tools (Debian-family bases)"},
        "keep": _list(_s("An absolute path", pattern=ABS_PATH),
                      "Paths the runtime-only image keeps whole besides what the build finds"),
    }, "How the image is built"),
    "run": _obj({
        "command": ARGV, "args": ARGV,
        "workdir": _s("An absolute path: working directory", pattern=ABS_PATH),
        "user": _s("The user the container runs as (created by the provisioning)"),
        "env": ENV,
        "writable_paths": _list(_s("An absolute path", pattern=ABS_PATH), "emptyDirs under a read-only root"),
    }, "How the container runs"),
    "health": _obj({
        "path": _s("An HTTP path such as /health, or a URL", pattern=HTTP_PATH),
        "port": PORT,
        "status": {"type": "integer", "minimum": 100, "maximum": 599, "description": "Expected HTTP status"},
        "text": _s("Text the reply must contain"),
        "initial_delay": SECONDS,
    }, "The HTTP health check; without it a service is probed on its TCP port"),
    "kubernetes": _obj({
        "replicas": {"type": "integer", "minimum": 0, "maximum": 1000},
        "service_type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
        "resources": RESOURCES,
        "config_files": _list(_obj({
            "name": NAME, "mount_path": _s("An absolute path: mount path", pattern=ABS_PATH),
            "files": {"type": "object", "additionalProperties": {"type": "string"}},
            "src": {"anyOf": [{"type": "string"}, _list({"type": "string"}, "files")]},
        }, "A ConfigMap mounted as files", required=("name", "mount_path")), "ConfigMaps mounted as files"),
        "secrets": _list(_obj({
            "name": NAME, "env": _list(_s("An environment variable name", pattern=ENV_NAME), "Keys exported as variables"),
            "mount_path": _s("An absolute path: mount path", pattern=ABS_PATH),
        }, "A Secret whose values come from inventory/Vault", required=("name",)), "Secrets"),
        "sidecars": _list(CONTAINER, "Sidecar, ambassador or adapter containers"),
        "init_containers": _list(CONTAINER, "Init containers, run in order"),
        "ingress": _obj({"host": {"type": "string"}, "path": _s("An HTTP path such as /", pattern=HTTP_PATH),
                         "tls_secret": NAME}, "An Ingress"),
        "termination_grace_period": SECONDS,
        "pre_stop_sleep": SECONDS,
    }, "Kubernetes defaults of the app (inventory app_deploy_* values win)"),
}

APP = _obj(dict(QI_APP_KEYS, **EXTENSION_KEYS), "One application")
SHARED_KEYS = ("email", "env_runtime")
APPS_FILE = _obj({
    "email": QI_APP_KEYS["email"],
    "env_runtime": QI_APP_KEYS["env_runtime"],
    "apps": dict(_list(APP, "The applications"), minItems=1),
}, "A .qi.yml with an apps: list", required=("apps",))
# A system: components built from their own playbooks, deployed in waves (spec/components.py).
COMPONENT_KEYS = {
    "kind": {"enum": ["service", "stateful", "job", "cronjob"],
             "description": "service (Deployment), stateful (StatefulSet with a volume), job (runs to completion), "
                            "cronjob (runs on a schedule); default service"},
    "depends_on": {"anyOf": [_list(NAME, "Components that must be ready first"),
                             {"type": "object", "additionalProperties": {"enum": ["ready", "completed"]},
                              "description": "Component name: ready (serving) or completed (a job)"}],
                   "description": "What must be up, or done, before this component is deployed"},
    "storage": _obj({"size": _s("A quantity such as 1Gi", pattern=QUANTITY),
                     "path": _s("An absolute path: where the volume is mounted", pattern=ABS_PATH)},
                    "A stateful component's volume", required=("path",)),
    "schedule": _s("A cron schedule for a cronjob, such as '0 3 * * *'"),
}
COMPONENT = _obj(dict(QI_APP_KEYS, **dict(EXTENSION_KEYS, **COMPONENT_KEYS)), "One component of a system",
                 required=("app_name",))
COMPONENTS_FILE = _obj({
    "email": QI_APP_KEYS["email"],
    "env_runtime": QI_APP_KEYS["env_runtime"],
    "components": dict(_list(COMPONENT, "The components, each built from its own playbook"), minItems=1),
}, "A .qi.yml describing a system of components", required=("components",))
FLAT_FILE = copy.deepcopy(APP)
FLAT_FILE["description"] = "A .qi.yml describing one application"


# The variables of the legacy nodejs role the spec reads (after Ansible has templated them).
_STR_LIST = _list({"type": "string"}, "A list of names")
LEGACY_VARS = {"type": "object", "properties": {
    # Real apps wrote CamelCase names (the role only upper-cased them for NAME_TCP_PORT): lower-cased for Kubernetes.
    "nodejs_app_name": _s("A name of letters, digits and '-' (lower-cased for Kubernetes)",
                          pattern="^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$", maxLength=63),
    "nodejs_app_commands": _list({"type": "string"}, "Commands run in the install dir as the app user"),
    "nodejs_app_start_script": _s("The script node runs"),
    "nodejs_app_tcp_port": PORT,
    "nodejs_app_env_vars": ENV,
    "nodejs_app_install_dir": _s("An absolute path", pattern=ABS_PATH),
    "nodejs_app_git_clone": {"type": "boolean"},
    "nodejs_app_git_repo": {"type": "string"},
    "nodejs_app_git_branch": {"type": "string"},
    "nodejs_app_rpm_packages": _STR_LIST,
    "nodejs_app_deb_packages": _STR_LIST,
    "nodejs_app_npm_packages": {"type": "array"},
    "nodejs_app_test_http_endpoint": _s("An HTTP path or URL", pattern=HTTP_PATH),
    "nodejs_app_test_http_status_code": {"type": "integer", "minimum": 100, "maximum": 599},
    "nodejs_app_test_string": {"type": "string"},
    "nodejs_app_username": {"type": "string"},
    "nodejs_app_groupname": {"type": "string"},
    "nodejs_version": {"type": ["string", "number"]},
    "nodejs_branch": {"enum": ["lts", "current"]},
    "nodejs_yarn_enabled": {"type": "boolean"},
    "nodejs_app_dev_env": {"type": "boolean"},
    "nodejs_app_dev_username": {"type": "string"},
    # The idi-ops couchdb role's: a component running it is a database (spec/system.py).
    "couchdb_port": PORT,
    "couchdb_databases": _STR_LIST,
    "couchdb_test_http_status_code": {"type": "integer", "minimum": 100, "maximum": 599},
    "couchdb_test_string": {"type": "string"},
    # Its password is never read: the cluster's is generated once per environment (spec/generated_secrets.py).
    "couchdb_create_admin_user": {"type": ["boolean", "string"]},
    "couchdb_admin_username": {"type": ["string", "null"]},
}}
