# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One app's spec from what its folder said, one section at a time (types.py has the shape).

Where both speak, .qi.yml wins over the provisioning variables (read as Ansible reads them); what is inferred
from elsewhere (the legacy Dockerfile or Vagrantfile, package.json) is said in the spec's notes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
from dataclasses import dataclass, field
from typing import List, NamedTuple, Optional

from ansible.errors import AnsibleError
from ansible.template import Templar, trust_as_template

from ...module_utils.errors import QiError
from ...module_utils.url_credentials import hide_password
from .generated_secrets import database_admin
from .legacy_roles import database_standin
from .rpm_map import translate_command
from .types import AppSpec, Build, Deploy, Health, Run, SmokeTest, Source

DEFAULT_PHASES = ["install", "configure"]
STACK_INTERPRETERS = {"nodejs": "node", "node": "node", "python": "python3"}
# Where the QI Vagrantfile synced a flat .qi.yml project: its test commands name this path.
QI_SYNC_DIR = "/home/vagrant/sync"
GENERATED_ROLES = {"nodejs": ["qi.convergence.facts", "qi.convergence.nodejs_app"]}
NODE_ROLES = ("nodejs", "qi.convergence.nodejs_app")
_YARN = re.compile(r"(^|[\s;&|])yarn(\s|$)")
# Environment names that hold secrets: never baked into an image, given to the pod from a Kubernetes Secret.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL", re.I)
SECRETS_ROLES = ("secrets", "qi.convergence.secrets")


def rel(app_dir, path):
    return os.path.relpath(path, app_dir) if path and path.startswith(app_dir + os.sep) else path


@dataclass
class Said:
    """What one app folder says: its .qi.yml entry (maybe empty) and its provisioning (maybe None)."""
    app_dir: str
    src_dir: str
    qi: dict
    prefix: str
    qi_path: Optional[str]
    legacy: Optional[dict]
    rpm_map: Optional[dict] = None
    notes: List[str] = field(default_factory=list)
    # A component of a provisioning script whose playbook names no app: named after its playbook.
    default_name: Optional[str] = None

    @property
    def values(self):
        """The provisioning's variables of the legacy nodejs role, templated."""
        return self.legacy["values"] if self.legacy else {}

    @property
    def context(self):
        """How the legacy Dockerfile/Vagrantfile ran the provisioning."""
        return (self.legacy or {}).get("context") or {}

    @property
    def roles(self):
        return (self.legacy or {}).get("roles", [])

    @property
    def playbook(self):
        return self.legacy["playbook"] if self.legacy else None

    @property
    def database(self):
        """What the collection's database stand-in among the roles runs, or None: also when the playbook starts an
        app of its own beside it (then the app is what runs)."""
        if start_script(self) or self.section("run").get("command"):
            return None
        found = database_standin(self.roles, (self.legacy or {}).get("requirements") or [])
        return found[1] if found else None

    def section(self, key):
        return self.qi.get(key) or {}

    def origin(self):
        """The file an error about this app points at."""
        return self.qi_path or (self.playbook and rel(self.app_dir, self.playbook)) or "provisioning"

    def at(self, key, path=None):
        return {"path": path or self.qi_path, "key": (self.prefix + "." if self.prefix else "") + key}


class Identity(NamedTuple):
    legacy_name: str                # as the provisioning spelt it
    name: str                       # lower case, for Kubernetes and image names
    stack: str
    version: Optional[str]
    generated: bool                 # no playbook of the app's own: the collection's roles provision it


def package_json(src_dir):
    try:
        with open(os.path.join(src_dir, "package.json")) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (IOError, OSError, ValueError):
        return {}


def _package_name(said):
    """A provisioning that names no app (e.g. nginx roles serving a front end): package.json's name, unscoped."""
    if not said.legacy or said.qi:
        return None
    name = package_json(said.src_dir).get("name")
    return name.split("/")[-1] if isinstance(name, str) and name.strip() else None


def _stack(said):
    # QI ran only Node.js apps: a .qi.yml without software_stack is one.
    node = bool(said.qi) or any(r in NODE_ROLES for r in said.roles) or "nodejs_app_name" in said.values
    return said.qi.get("software_stack") or ("nodejs" if node else "generic")


def _stack_version(said):
    version = said.qi.get("software_stack_version", said.values.get("nodejs_version"))
    if version is None and said.context.get("node_version"):
        version = said.context["node_version"]
        said.notes.append("Node.js %s: from the Dockerfile's FROM (the provisioning names no nodejs_version)" % version)
    return None if version is None else str(version)


def identity(said):
    # A component of a provisioning script is named after its playbook before the source tree they all share.
    legacy_name = (said.qi.get("app_name") or said.values.get("nodejs_app_name") or said.default_name
                   or _package_name(said))
    if not legacy_name:
        raise QiError("no application name: set app_name in .qi.yml or nodejs_app_name in the provisioning vars",
                      path=said.origin(), key=said.at("app_name")["key"])
    # Kubernetes and image names are lower case; the app's own environment keeps the name as the role spelt it.
    name = str(legacy_name).lower()
    if name != legacy_name:
        said.notes.append("app name %s: deployed and tagged as %s (Kubernetes names are lower case)"
                          % (legacy_name, name))
    stack, version = _stack(said), _stack_version(said)
    generated = not said.playbook
    if generated and stack not in GENERATED_ROLES:
        raise QiError("software_stack '%s' has no built-in provisioning; add a provisioning playbook "
                      "(provisioning/playbook.yml) or use software_stack: nodejs" % stack,
                      **said.at("software_stack"))
    return Identity(legacy_name, name, stack, version, generated)


def install_dir(said, ident):
    named = (said.section("folder").get("dest") or said.section("build").get("source_dest")
             or said.values.get("nodejs_app_install_dir") or said.context.get("install_dir"))
    if named:
        return named
    return QI_SYNC_DIR if said.qi and not said.prefix and ident.generated else "/opt/%s" % ident.name


def app_port(said):
    port = said.qi.get("app_tcp_port") or said.values.get("nodejs_app_tcp_port") or said.values.get("couchdb_port")
    ports = said.context.get("ports") or []
    if port or len(ports) != 1:
        return port
    source = said.context["port_source"]
    said.notes.append("port %d: from the %s (%s), as the provisioning names no nodejs_app_tcp_port" % (
        ports[0], source, "EXPOSE" if source.endswith("Dockerfile") else "forwarded guest port"))
    return ports[0]


def start_script(said):
    return said.qi.get("app_start_script") or said.values.get("nodejs_app_start_script")


def start_command(said, stack):
    command = said.section("run").get("command")
    if command:
        return ["/bin/sh", "-c", command] if isinstance(command, str) else command
    script = start_script(said)
    if script:
        interpreter = STACK_INTERPRETERS.get(stack)
        return [interpreter] + script.split() if interpreter else ["/bin/sh", "-c", script]
    pkg = package_json(said.src_dir)
    scripts = pkg.get("scripts") if isinstance(pkg.get("scripts"), dict) else {}
    start = scripts.get("start")
    if isinstance(start, str) and start.strip():
        return ["/bin/sh", "-c", start.strip()]
    if isinstance(pkg.get("main"), str) and stack in ("nodejs", "node"):
        return ["node", pkg["main"]]
    if said.database:
        said.notes.append("command %s: the %s standing in for the couchdb role" % (
            " ".join(said.database["command"]), said.database["software"]))
        return list(said.database["command"])
    return []


def _deployed(said):
    """.qi.yml's deploy/app_start_service; every component of a system; else whether the legacy role would have
    started it (only when nodejs_app_start_script was set: else it is a library)."""
    if "deploy" in said.qi:
        return said.qi["deploy"]
    if "app_start_service" in said.qi:
        return said.qi["app_start_service"]
    if said.prefix.startswith("components["):
        return True
    return bool(start_script(said) or said.section("run").get("command")) and not said.qi


def is_service(said, command, port):
    """Whether the app is deployed; a deployed app needs a command, and a port unless it runs to completion."""
    service = bool(_deployed(said)) or bool(said.section("kubernetes"))
    if service and not command:
        raise QiError("a service needs a start command: set app_start_script (or run.command), or give "
                      "package.json a scripts.start or main", **said.at("app_start_script", said.origin()))
    # A playbook of a provisioning script that starts a program but serves no port ran once on the VM (a loader).
    runs_once = said.qi.get("kind") in ("job", "cronjob") or (said.default_name and not said.qi)
    if service and not port and not runs_once:
        candidates = ", ".join(str(p) for p in said.context.get("ports") or [])
        several = " (the %s names several: %s)" % (said.context["port_source"], candidates) if candidates else ""
        raise QiError("a service needs a port: set app_tcp_port%s" % several,
                      **said.at("app_tcp_port", said.origin()))
    return service


def env_dict(value):
    """The legacy NAME=value list (systemd Environment= style, quotes stripped) or a mapping, as a dict."""
    if not value:
        return {}
    if isinstance(value, dict):
        return dict((str(k), "" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
                    for k, v in value.items())
    out = {}
    for item in value:
        name, val = (str(item).split("=", 1) + [""])[:2]
        if len(val) >= 2 and val[0] == val[-1] and val[0] in "\"'":
            val = val[1:-1]
        out[name.strip()] = val
    return out


def environment(said, ident, port):
    """The app's plain environment, and the Secret its secret-looking names (and the legacy secrets role) need."""
    env = env_dict(said.values.get("nodejs_app_env_vars"))
    if port and ident.stack == "nodejs":
        # The real nodejs role exported this to the service after the app's own variables (its unit's
        # Environment= line ends with it), so it wins over an empty one from an unset lookup('env', ...).
        env["%s_TCP_PORT" % str(ident.legacy_name).upper().replace("-", "_")] = str(port)
    env.update(env_dict(said.section("run").get("env")))
    for k in sorted(env):
        if hide_password(env[k]) != env[k]:
            said.notes.append("%s holds a password in its URL (%s): like every plain variable it is in the image's "
                              "environment; give it through secrets_env_vars or the inventory instead"
                              % (k, hide_password(env[k])))
    secret_names = sorted(k for k in env if SECRET_NAME.search(k))
    for k in secret_names:
        del env[k]
    env_secret = None
    if secret_names or any(r in SECRETS_ROLES for r in said.roles):
        env_secret = {"name": "%s-secrets" % ident.name, "required": secret_names}
    return env, env_secret


def _run_user(said, ident):
    return (said.section("run").get("user") or said.values.get("nodejs_app_username")
            or (said.database or {}).get("user") or ("nodejs" if ident.stack == "nodejs" else ident.name))


def _note_legacy_switches(said, user):
    lv = said.values
    if lv.get("nodejs_app_git_clone") is True and lv.get("nodejs_app_git_repo"):
        said.notes.append("nodejs_app_git_clone: the image is built from the app folder as it is, not from a clone "
                          "of %s" % lv["nodejs_app_git_repo"])
    if lv.get("nodejs_app_dev_env") is True:
        said.notes.append("nodejs_app_dev_env: in the image the app runs with node as %s (on the VM: nodemon as %s, "
                          "restarting on file changes; an image is rebuilt instead)" % (
                              user, lv.get("nodejs_app_dev_username", "vagrant")))


def run_section(said, ident, command, port, dest, env) -> Run:
    qr = said.section("run")
    user = _run_user(said, ident)
    _note_legacy_switches(said, user)
    args = qr.get("args", [])
    return {
        "command": command,
        "args": args if isinstance(args, list) else [args],
        "workdir": qr.get("workdir") or dest,
        "user": user,
        "group": said.values.get("nodejs_app_groupname") or user,
        "port": port,
        "env": env,
        "writable_paths": qr.get("writable_paths", ["/tmp"]),
    }


def source_section(said, dest) -> Source:
    qi, lv = said.qi, said.values
    branches = qi.get("git_branches") or ([qi["git_branch"]] if qi.get("git_branch") else [])
    return {"dir": said.src_dir, "dest": dest, "exclude": [],
            "git": {"repo": qi.get("git_repository") or lv.get("nodejs_app_git_repo"),
                    "branch": branches[0] if branches else lv.get("nodejs_app_git_branch")}}


def parse_endpoint(endpoint):
    """Split a legacy test endpoint (path or URL) into (path, port or None)."""
    if not endpoint:
        return None, None
    m = re.match(r"^https?://[^/:]+(?::(\d+))?(/.*)?$", endpoint)
    if m:
        return m.group(2) or "/", int(m.group(1)) if m.group(1) else None
    return endpoint, None


def health_section(said, port, service) -> Optional[Health]:
    """Probes: .qi.yml's health when given, else the port (the legacy test endpoint is the smoke test: it may
    depend on other services, so it must not take pods out of service or restart them)."""
    qh = said.section("health")
    if not qh and said.database and port:
        return {"path": said.database["health_path"], "port": port, "status": 200, "text": None, "initial_delay": 0}
    if not qh:
        if service and port:
            return {"tcp": True, "port": port, "path": None, "status": None, "text": None, "initial_delay": 0}
        return None
    path = parse_endpoint(qh["path"])[0] if qh.get("path") else None
    health = {"path": path or "/", "port": qh.get("port") or port, "status": qh.get("status") or 200,
              "text": qh.get("text"), "initial_delay": qh.get("initial_delay", 0)}
    if not health["port"]:
        raise QiError("a health check needs a port: set app_tcp_port or health.port", **said.at("health.port"))
    return health


def smoke_test_section(said, port) -> Optional[SmokeTest]:
    """The legacy role's `test` tag as a check after the rollout: GET the endpoint, expect the status and text.

    As the role did, it runs only when the endpoint, status code and text are all set."""
    lv = said.values
    if said.database and port:
        # The couchdb role's test tag: GET / answers its status with its text.
        status, text = lv.get("couchdb_test_http_status_code", 200), lv.get("couchdb_test_string", "Welcome")
        return {"path": said.database["test_path"], "port": port, "status": int(status), "text": str(text)}
    path, legacy_port = parse_endpoint(lv.get("nodejs_app_test_http_endpoint"))
    status, text = lv.get("nodejs_app_test_http_status_code"), lv.get("nodejs_app_test_string")
    if not (path and status and text and (legacy_port or port)):
        return None
    return {"path": path, "port": legacy_port or port, "status": int(status), "text": str(text)}


def _templated(commands, variables, where):
    """Render {{ }} in setup/test commands with the app's own keys, as the QI playbook did."""
    if not any("{{" in c for c in commands):
        return list(commands)
    templar = Templar(variables=variables)
    out = []
    for c in commands:
        try:
            out.append(str(templar.template(trust_as_template(c))))
        except AnsibleError as e:
            raise QiError("'%s' cannot be templated: %s" % (c, str(e).splitlines()[0]), **where)
    return out


class Commands(NamedTuple):
    setup: List[str]                # run in the image after the roles, RPM names translated
    tests: List[str]                # the QI test commands
    role_commands: List[str]        # the role's nodejs_app_commands, RPM names translated
    yarn: bool


def commands(said, ident):
    qi = said.qi
    raw_setup = _templated(qi.get("setup") or [], dict(qi), said.at("setup"))
    setup = [translate_command(c, said.rpm_map, said.at("setup[%d]" % i)) for i, c in enumerate(raw_setup)]
    role_commands = list(said.values.get("nodejs_app_commands") or [])
    if not ident.generated and role_commands == raw_setup:
        # The provisioning maps setup into the role (nodejs_app_commands: "{{ setup }}"): it runs them.
        setup = []
    tests = _templated((qi.get("commands") or []) + (qi.get("test_cmds") or []), dict(qi),
                       said.at("commands" if "commands" in qi else "test_cmds"))
    translated = [translate_command(c, said.rpm_map, {"path": said.origin(), "key": "nodejs_app_commands[%d]" % i})
                  for i, c in enumerate(role_commands)]
    yarn = any(_YARN.search(c) for c in setup + tests + role_commands)
    return Commands(setup, tests, translated, yarn)


def role_vars(said, ident, dest, port, user, cmds):
    """The role variables the build sets: all of them for the generated provisioning, else only what the spec
    must decide over the playbook's own values."""
    if ident.generated:
        out = {"nodejs_app_name": ident.legacy_name, "nodejs_app_install_dir": dest, "nodejs_app_git_clone": False,
               "nodejs_app_start_script": start_script(said) or "", "nodejs_app_tcp_port": port or "",
               "nodejs_app_username": user, "nodejs_yarn_enabled": cmds.yarn}
    else:
        out = {}
        if any(r in NODE_ROLES for r in said.roles):
            # The source goes where the spec says; the role must install there even when the playbook's own value
            # templated to nothing (e.g. lookup('env', 'INSTALL_DIR') with the variable unset).
            out["nodejs_app_install_dir"] = dest
        if cmds.role_commands != list(said.values.get("nodejs_app_commands") or []):
            out["nodejs_app_commands"] = cmds.role_commands
    if ident.version is not None:
        out["nodejs_version"] = ident.version
    return out


def build_section(said, ident, setup, variables) -> Build:
    qb, ctx, legacy = said.section("build"), said.context, said.legacy or {}
    return {
        "playbook": said.playbook,
        "generated": ident.generated,
        "vars_files": legacy.get("files", []),
        "roles": GENERATED_ROLES[ident.stack] if ident.generated else legacy["roles"],
        "hosts": ["localhost"] if ident.generated else legacy["hosts"],
        "requirements": legacy.get("requirements", []),
        "phases": qb.get("phases") or ctx.get("phases") or list(DEFAULT_PHASES),
        # The legacy Dockerfile's/Vagrantfile's environment and -e values: the nested run gets them too.
        "env": ctx.get("env") or {},
        "extra_vars": ctx.get("extra_vars") or {},
        "base_image": qb.get("base_image"),
        "setup": setup,
        "vars": variables,
        "overrides": qb.get("overrides", {}),
        "addresses": legacy.get("addresses") or {},
        "runtime_only": qb.get("runtime_only", False),
        "keep": qb.get("keep", []),
    }


def _default_resources(said):
    """Small requests; the memory limit is the legacy VM's memory when its Vagrantfile says (an app that ran in
    a 1 GB VM may need more than a default cap: festival's text2wave does), else 256 MiB."""
    limit = "256Mi"
    if said.context.get("memory_mb"):
        limit = "%dMi" % said.context["memory_mb"]
        said.notes.append("memory limit %s: the memory of the VM in the Vagrantfile (set kubernetes.resources in "
                          ".qi.yml or app_deploy_resources to change it)" % limit)
    return {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": limit}}


def deploy_section(said, env_secret, name) -> Deploy:
    qk = said.section("kubernetes")
    return {
        "replicas": qk.get("replicas", 1),
        "service_type": qk.get("service_type", "ClusterIP"),
        "resources": qk.get("resources") or _default_resources(said),
        "config_files": qk.get("config_files", []),
        "secrets": qk.get("secrets", []),
        "sidecars": qk.get("sidecars", []),
        "init_containers": qk.get("init_containers", []),
        "ingress": qk.get("ingress"),
        "termination_grace_period": qk.get("termination_grace_period", 30),
        "pre_stop_sleep": qk.get("pre_stop_sleep", 5),
        # secrets_env_vars of the legacy secrets role, and secret-looking env names, as one Secret (envFrom).
        "env_secret": env_secret,
        "generated_secrets": database_admin(said.values, said.database, name, said.notes),
        "pod_env": {},
    }


def read_files(said):
    legacy_files = ([said.playbook] if said.playbook else []) + (said.legacy["files"] if said.legacy else [])
    return ([said.qi_path] if said.qi_path else []) + [rel(said.app_dir, p) for p in legacy_files]


def app_spec(said) -> AppSpec:
    """The spec of one app: each section from what the folder said."""
    said.notes[:0] = said.context.get("notes") or []
    ident = identity(said)
    dest, port = install_dir(said, ident), app_port(said)
    command = start_command(said, ident.stack)
    service = is_service(said, command, port)
    env, env_secret = environment(said, ident, port)
    run = run_section(said, ident, command, port, dest, env)
    cmds = commands(said, ident)
    return {
        "name": ident.name,
        "app_dir": said.app_dir,
        "stack": {"name": ident.stack, "version": ident.version},
        "env_runtime": said.qi.get("env_runtime", "linux"),
        "source": source_section(said, dest),
        "build": build_section(said, ident, cmds.setup, role_vars(said, ident, dest, port, run["user"], cmds)),
        "run": run,
        "health": health_section(said, port, service),
        "service": service,
        "deploy": deploy_section(said, env_secret, ident.name),
        "tests": cmds.tests,
        "smoke_test": smoke_test_section(said, port),
        "notes": said.notes,
        "legacy_name": ident.legacy_name,
        "publishers": said.qi.get("publishers", []),
        "read_files": read_files(said),
    }
