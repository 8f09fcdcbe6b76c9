# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side (it needs Ansible itself): read an app folder (its .qi.yml in either real shape and/or its legacy provisioning) into app specs.

One spec per app the .qi.yml declares (or one for a provisioning folder alone). Where both speak, .qi.yml
wins over the provisioning variables, which are read as Ansible reads them (module_utils/provisioning.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

from ansible.errors import AnsibleError
from ansible.template import Templar, trust_as_template

from ...module_utils.errors import QiError
from .legacy_roles import role_defaults_file
from .legacy_build_files import legacy_context, patched_environment
from .provisioning import choose_playbook, read_provisioning
from .qi_file import read_qi_file
from .qi_schema import LEGACY_VARS
from .rpm_map import translate_command
from .validate import validate
from .yaml_loader import load_file

DEFAULT_PHASES = ["install", "configure"]
STACK_INTERPRETERS = {"nodejs": "node", "node": "node", "python": "python3"}
# Where the QI Vagrantfile synced a flat .qi.yml project: its test commands name this path.
QI_SYNC_DIR = "/home/vagrant/sync"
GENERATED_ROLES = {"nodejs": ["qi.convergence.facts", "qi.convergence.nodejs_app"]}
LEGACY_WANTED = tuple(LEGACY_VARS["properties"])
_YARN = re.compile(r"(^|[\s;&|])yarn(\s|$)")
# Environment names that hold secrets: never baked into an image, given to the pod from a Kubernetes Secret.
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL", re.I)
SECRETS_ROLES = ("secrets", "qi.convergence.secrets")


def _rel(app_dir, path):
    return os.path.relpath(path, app_dir) if path and path.startswith(app_dir + os.sep) else path


def _plain(value):
    """Ansible's tagged values as plain JSON types."""
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _read_requirements(app_dir, path):
    data = load_file(path)
    if data is None:
        return []
    items = data.get("roles", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise QiError("expected a list of roles or a mapping with 'roles'", path=_rel(app_dir, path))
    out = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append({"name": item})
        elif isinstance(item, dict) and (item.get("name") or item.get("src")):
            out.append(dict((k, str(v)) for k, v in item.items() if k in ("name", "src", "version", "scm")))
        else:
            raise QiError("expected a role name or a mapping with 'name' or 'src'", path=_rel(app_dir, path),
                          key="[%d]" % i)
    return out


def _coerce_legacy(values, origin):
    """Digit strings templating produced become numbers; empty values mean 'not set'; then the schema."""
    out = {}
    for k, v in values.items():
        if isinstance(v, str) and v.strip().isdigit() and k in ("nodejs_app_tcp_port", "nodejs_app_test_http_status_code"):
            v = int(v)
        if isinstance(v, str) and k in ("nodejs_app_git_clone", "nodejs_yarn_enabled", "nodejs_app_dev_env"):
            v = v.strip().lower() in ("true", "yes", "1", "on")
        if v == "" or v is None:
            continue
        out[k] = v
    for k, v in out.items():
        validate({k: v}, {"type": "object", "properties": {k: LEGACY_VARS["properties"][k]}}, origin.get(k, "?"))
    return out


def _env(value, where):
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


def _command_line_vars(extra, prov_dir, app_dir):
    """The -e values of the legacy ansible-playbook line: key=value pairs, @file (beside the playbook) or YAML."""
    out = {}
    for k, v in extra.items():
        if k == "@file":
            data = load_file(v) if os.path.isfile(v if os.path.isabs(v) else os.path.join(prov_dir, v)) else None
            if not isinstance(data, dict):
                raise QiError("the extra vars file named by the legacy build's -e @%s is missing or not a mapping"
                              % os.path.basename(v), path=_rel(app_dir, v))
            out.update(data)
        elif k == "@yaml":
            continue
        else:
            out[k] = v
    return out


def _legacy(app_dir, src_dir, qi, collections_paths, role_map):
    """The provisioning of one app folder: playbook, values, files, roles, hosts, requirements, and how the legacy
    Dockerfile/Vagrantfile ran it (context)."""
    prov_dir = os.path.join(src_dir, "provisioning")
    build = qi.get("build") or {}
    ctx, _found = legacy_context(src_dir, build)
    named = build.get("playbook") or (ctx["playbook"] and os.path.join(src_dir, ctx["playbook"]))
    playbook = choose_playbook(app_dir, prov_dir, named)
    req_path = os.path.join(prov_dir, "requirements.yml")
    requirements = _read_requirements(app_dir, req_path) if os.path.isfile(req_path) else []
    ctx["extra_vars"] = _command_line_vars(ctx["extra_vars"], os.path.dirname(playbook) if playbook else prov_dir,
                                           app_dir)
    if not playbook:
        vars_yml = os.path.join(prov_dir, "vars.yml")
        if not os.path.isfile(vars_yml):
            return None
        values, files, roles, hosts, origin = {}, [vars_yml], [], [], {}
        data = load_file(vars_yml) or {}
        values = dict((k, v) for k, v in data.items() if k in LEGACY_WANTED) if isinstance(data, dict) else {}
        origin = dict.fromkeys(values, _rel(app_dir, vars_yml))
    else:
        roles_paths = [os.path.join(os.path.dirname(playbook), "roles")]

        def defaults(role):
            return role_defaults_file(role, roles_paths, collections_paths, requirements, role_map)
        with patched_environment(ctx["env"]):
            values, files, roles, hosts, origin = read_provisioning(app_dir, playbook, LEGACY_WANTED, defaults,
                                                                    ctx["extra_vars"])
    for extra in build.get("vars_files") or []:
        path = os.path.join(app_dir, extra)
        if not os.path.isfile(path):
            raise QiError("vars file named by build.vars_files does not exist", path=extra)
        data = load_file(path) or {}
        files.append(path)
        for k in LEGACY_WANTED:
            if k in data:
                values[k], origin[k] = data[k], extra
    values = _coerce_legacy(_plain(values), origin)
    return {"playbook": playbook, "values": values, "files": files, "roles": roles, "hosts": hosts,
            "requirements": requirements, "context": ctx}


def _package_json(src_dir):
    path = os.path.join(src_dir, "package.json")
    try:
        with open(path) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (IOError, OSError, ValueError):
        return {}


def _package_name(src_dir):
    """A provisioning that names no app (e.g. nginx roles serving a front end): package.json's name, unscoped."""
    name = _package_json(src_dir).get("name")
    return name.split("/")[-1] if isinstance(name, str) and name.strip() else None


def _start_command(stack, script, src_dir):
    if script:
        interpreter = STACK_INTERPRETERS.get(stack)
        return [interpreter] + script.split() if interpreter else ["/bin/sh", "-c", script]
    pkg = _package_json(src_dir)
    start = (pkg.get("scripts") or {}).get("start") if isinstance(pkg.get("scripts"), dict) else None
    if isinstance(start, str) and start.strip():
        return ["/bin/sh", "-c", start.strip()]
    if isinstance(pkg.get("main"), str) and stack in ("nodejs", "node"):
        return ["node", pkg["main"]]
    return []


def _parse_endpoint(endpoint):
    """Split a legacy test endpoint (path or URL) into (path, port or None)."""
    if not endpoint:
        return None, None
    m = re.match(r"^https?://[^/:]+(?::(\d+))?(/.*)?$", endpoint)
    if m:
        return m.group(2) or "/", int(m.group(1)) if m.group(1) else None
    return endpoint, None


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


def _where(qi_path, prefix, key):
    return {"path": qi_path, "key": (prefix + "." if prefix else "") + key}


def read_apps(app_dir, qi_file=None, collections_paths=(), role_map=None, rpm_map=None):
    """Return the specs of every app in app_dir; raise QiError naming the culprit on bad input."""
    app_dir = os.path.abspath(app_dir)
    if not os.path.isdir(app_dir):
        raise QiError("app folder does not exist or is not a folder", path=app_dir)
    qi_path = qi_file or os.path.join(app_dir, ".qi.yml")
    entries = []
    if os.path.isfile(qi_path):
        entries = read_qi_file(qi_path, _rel(app_dir, qi_path))
    elif qi_file:
        raise QiError(".qi.yml file not found", path=qi_file)
    shown_qi = _rel(app_dir, qi_path) if entries else None
    if not entries:
        legacy = _legacy(app_dir, app_dir, {}, collections_paths, role_map)
        if legacy is None:
            raise QiError("no .qi.yml and no provisioning playbook (%s) or provisioning/vars.yml; expected at "
                          "least one of them" % ", ".join(("playbook.yml", "site.yml", "docker.yml")), path=app_dir)
        return [_normalise(app_dir, app_dir, {}, "", None, legacy, rpm_map)]
    specs = []
    for qi, prefix, _line in entries:
        src = (qi.get("folder") or {}).get("src") or "."
        src_dir = os.path.normpath(os.path.join(app_dir, src))
        if not os.path.isdir(src_dir) or not (src_dir + os.sep).startswith(app_dir + os.sep):
            raise QiError("folder.src must be a folder inside the app folder", **_where(shown_qi, prefix, "folder.src"))
        legacy = _legacy(app_dir, src_dir, qi, collections_paths, role_map)
        specs.append(_normalise(app_dir, src_dir, qi, prefix, shown_qi, legacy, rpm_map))
    return specs


def read_app(app_dir, **kwargs):
    """The first (usually only) app of app_dir."""
    return read_apps(app_dir, **kwargs)[0]


def _normalise(app_dir, src_dir, qi, prefix, qi_path, legacy, rpm_map):
    lv = legacy["values"] if legacy else {}
    qb, qr, qh, qk = (qi.get(k) or {} for k in ("build", "run", "health", "kubernetes"))
    where = dict(path=qi_path or (legacy["playbook"] and _rel(app_dir, legacy["playbook"])) or "provisioning")
    legacy_name = qi.get("app_name") or lv.get("nodejs_app_name") or (
        _package_name(src_dir) if legacy and not qi else None)
    if not legacy_name:
        raise QiError("no application name: set app_name in .qi.yml or nodejs_app_name in the provisioning vars",
                      key=(prefix + "." if prefix else "") + "app_name", **where)
    ctx = (legacy or {}).get("context") or {}
    notes = list(ctx.get("notes") or [])
    # Kubernetes and image names are lower case; the app's own environment keeps the name as the role spelt it.
    name = str(legacy_name).lower()
    if name != legacy_name:
        notes.append("app name %s: deployed and tagged as %s (Kubernetes names are lower case)" % (legacy_name, name))
    uses_node = any(r in ("nodejs", "qi.convergence.nodejs_app") for r in (legacy or {}).get("roles", []))
    # QI ran only Node.js apps: a .qi.yml without software_stack is one.
    stack = qi.get("software_stack") or ("nodejs" if qi or uses_node or "nodejs_app_name" in lv else "generic")
    version = qi.get("software_stack_version", lv.get("nodejs_version"))
    if version is None and ctx.get("node_version"):
        version = ctx["node_version"]
        notes.append("Node.js %s: from the Dockerfile's FROM (the provisioning names no nodejs_version)" % version)
    generated = not (legacy and legacy["playbook"])
    if generated and stack not in GENERATED_ROLES:
        raise QiError("software_stack '%s' has no built-in provisioning; add a provisioning playbook "
                      "(provisioning/playbook.yml) or use software_stack: nodejs" % stack,
                      **_where(qi_path, prefix, "software_stack"))
    dest = ((qi.get("folder") or {}).get("dest") or qb.get("source_dest") or lv.get("nodejs_app_install_dir")
            or ctx.get("install_dir") or (QI_SYNC_DIR if qi and not prefix and generated else "/opt/%s" % name))
    port = qi.get("app_tcp_port") or lv.get("nodejs_app_tcp_port")
    if not port and len(ctx.get("ports") or []) == 1:
        port = ctx["ports"][0]
        notes.append("port %d: from the %s (%s), as the provisioning names no nodejs_app_tcp_port" % (
            port, ctx["port_source"], "EXPOSE" if ctx["port_source"].endswith("Dockerfile") else "forwarded guest port"))
    script = qi.get("app_start_script") or lv.get("nodejs_app_start_script")
    command = qr.get("command") or _start_command(stack, script, src_dir)
    if isinstance(command, str):
        command = ["/bin/sh", "-c", command]
    if "deploy" in qi:
        service = qi["deploy"]
    elif "app_start_service" in qi:
        service = qi["app_start_service"]
    else:
        # The legacy role started the app only when nodejs_app_start_script was set: else it is a library.
        service = bool(script or qr.get("command")) and not qi
    service = bool(service) or bool(qk)
    if service and not command:
        raise QiError("a service needs a start command: set app_start_script (or run.command), or give "
                      "package.json a scripts.start or main",
                      **_where(qi_path or where["path"], prefix, "app_start_script"))
    if service and not port:
        candidates = ", ".join(str(p) for p in ctx.get("ports") or [])
        several = " (the %s names several: %s)" % (ctx["port_source"], candidates) if candidates else ""
        raise QiError("a service needs a port: set app_tcp_port%s" % several,
                      **_where(qi_path or where["path"], prefix, "app_tcp_port"))
    env = _env(lv.get("nodejs_app_env_vars"), where)
    if port and stack == "nodejs":
        # The real nodejs role exported this to the service after the app's own variables (its unit's
        # Environment= line ends with it), so it wins over an empty one from an unset lookup('env', ...).
        env["%s_TCP_PORT" % str(legacy_name).upper().replace("-", "_")] = str(port)
    env.update(_env(qr.get("env"), where))
    secret_names = sorted(k for k in env if SECRET_NAME.search(k))
    for k in secret_names:
        del env[k]
    env_secret = None
    if secret_names or any(r in SECRETS_ROLES for r in (legacy or {}).get("roles", [])):
        env_secret = {"name": "%s-secrets" % name, "required": secret_names}
    user = qr.get("user") or lv.get("nodejs_app_username") or ("nodejs" if stack == "nodejs" else name)
    if lv.get("nodejs_app_git_clone") is True and lv.get("nodejs_app_git_repo"):
        notes.append("nodejs_app_git_clone: the image is built from the app folder as it is, not from a clone of %s"
                     % lv["nodejs_app_git_repo"])
    if lv.get("nodejs_app_dev_env") is True:
        notes.append("nodejs_app_dev_env: in the image the app runs with node as %s (on the VM: nodemon as %s, "
                     "restarting on file changes; an image is rebuilt instead)" % (
                         user, lv.get("nodejs_app_dev_username", "vagrant")))
    health = _health(qh, lv, port, service, qi_path, prefix)
    variables = dict(qi)
    raw_setup = _templated(qi.get("setup") or [], variables, _where(qi_path, prefix, "setup"))
    setup = [translate_command(c, rpm_map, _where(qi_path, prefix, "setup[%d]" % i)) for i, c in enumerate(raw_setup)]
    role_commands = lv.get("nodejs_app_commands")
    if not generated and role_commands == raw_setup:
        # The provisioning maps setup into the role (nodejs_app_commands: "{{ setup }}"): it runs them.
        setup = []
    tests = _templated((qi.get("commands") or []) + (qi.get("test_cmds") or []), variables,
                       _where(qi_path, prefix, "commands" if "commands" in qi else "test_cmds"))
    branches = qi.get("git_branches") or ([qi["git_branch"]] if qi.get("git_branch") else [])
    wants_yarn = any(_YARN.search(c) for c in setup + tests + list(lv.get("nodejs_app_commands") or []))
    role_vars = {}
    if generated:
        role_vars = {"nodejs_app_name": legacy_name, "nodejs_app_install_dir": dest, "nodejs_app_git_clone": False,
                     "nodejs_app_start_script": script or "", "nodejs_app_tcp_port": port or "",
                     "nodejs_app_username": user, "nodejs_yarn_enabled": wants_yarn}
    if uses_node and not generated:
        # The source goes where the spec says; the role must install there even when the playbook's own value
        # templated to nothing (e.g. lookup('env', 'INSTALL_DIR') with the variable unset).
        role_vars["nodejs_app_install_dir"] = dest
    if role_commands and not generated:
        translated = [translate_command(c, rpm_map, {"path": where["path"], "key": "nodejs_app_commands[%d]" % i})
                      for i, c in enumerate(role_commands)]
        if translated != role_commands:
            role_vars["nodejs_app_commands"] = translated
    if version is not None:
        role_vars["nodejs_version"] = str(version)
    legacy_files = ([legacy["playbook"]] if legacy and legacy["playbook"] else []) + (legacy["files"] if legacy else [])
    files = ([qi_path] if qi_path else []) + [_rel(app_dir, p) for p in legacy_files]
    return {
        "name": name,
        "app_dir": app_dir,
        "stack": {"name": stack, "version": str(version) if version is not None else None},
        "env_runtime": qi.get("env_runtime", "linux"),
        "source": {"dir": src_dir, "dest": dest,
                   "git": {"repo": qi.get("git_repository") or lv.get("nodejs_app_git_repo"),
                           "branch": branches[0] if branches else lv.get("nodejs_app_git_branch")}},
        "build": {
            "playbook": legacy["playbook"] if legacy else None,
            "generated": generated,
            "vars_files": legacy["files"] if legacy else [],
            "roles": GENERATED_ROLES[stack] if generated else legacy["roles"],
            "hosts": ["localhost"] if generated else legacy["hosts"],
            "requirements": legacy["requirements"] if legacy else [],
            "phases": qb.get("phases") or ctx.get("phases") or list(DEFAULT_PHASES),
            # The legacy Dockerfile's/Vagrantfile's environment and -e values: the nested run gets them too.
            "env": ctx.get("env") or {},
            "extra_vars": ctx.get("extra_vars") or {},
            "base_image": qb.get("base_image"),
            "setup": setup,
            "vars": role_vars,
            "overrides": qb.get("overrides", {}),
        },
        "run": {
            "command": command,
            "args": qr.get("args", []) if isinstance(qr.get("args", []), list) else [qr["args"]],
            "workdir": qr.get("workdir") or dest,
            "user": user,
            "group": lv.get("nodejs_app_groupname") or user,
            "port": port,
            "env": env,
            "writable_paths": qr.get("writable_paths", ["/tmp"]),
        },
        "health": health,
        "service": service,
        "deploy": {
            "replicas": qk.get("replicas", 1),
            "service_type": qk.get("service_type", "ClusterIP"),
            "resources": qk.get("resources") or _default_resources(ctx, notes),
            "config_files": qk.get("config_files", []),
            "secrets": qk.get("secrets", []),
            "sidecars": qk.get("sidecars", []),
            "init_containers": qk.get("init_containers", []),
            "ingress": qk.get("ingress"),
            "termination_grace_period": qk.get("termination_grace_period", 30),
            "pre_stop_sleep": qk.get("pre_stop_sleep", 5),
            # secrets_env_vars of the legacy secrets role, and secret-looking env names, as one Secret (envFrom).
            "env_secret": env_secret,
        },
        "tests": tests,
        "smoke_test": _smoke_test(lv, port),
        "notes": notes,
        "legacy_name": legacy_name,
        "publishers": qi.get("publishers", []),
        "read_files": files,
    }


def _default_resources(ctx, notes):
    """Small requests; the memory limit is the legacy VM's memory when its Vagrantfile says (an app that ran in
    a 1 GB VM may need more than a default cap: festival's text2wave does), else 256 MiB."""
    limit = "256Mi"
    if ctx.get("memory_mb"):
        limit = "%dMi" % ctx["memory_mb"]
        notes.append("memory limit %s: the memory of the VM in the Vagrantfile (set kubernetes.resources in .qi.yml "
                     "or app_deploy_resources to change it)" % limit)
    return {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": limit}}


def _smoke_test(lv, port):
    """The legacy role's `test` tag as a check after the rollout: GET the endpoint, expect the status and text.

    As the role did, it runs only when the endpoint, status code and text are all set."""
    path, legacy_port = _parse_endpoint(lv.get("nodejs_app_test_http_endpoint"))
    status, text = lv.get("nodejs_app_test_http_status_code"), lv.get("nodejs_app_test_string")
    if not (path and status and text and (legacy_port or port)):
        return None
    return {"path": path, "port": legacy_port or port, "status": int(status), "text": str(text)}


def _health(qh, lv, port, service, qi_path, prefix):
    """Probes: .qi.yml's health when given, else the port (the legacy test endpoint is the smoke test: it may
    depend on other services, so it must not take pods out of service or restart them)."""
    path = qh.get("path")
    if path:
        path = _parse_endpoint(path)[0]
    if path or qh:
        health = {"path": path or "/", "port": qh.get("port") or port,
                  "status": qh.get("status") or 200, "text": qh.get("text"),
                  "initial_delay": qh.get("initial_delay", 0)}
        if not health["port"]:
            raise QiError("a health check needs a port: set app_tcp_port or health.port",
                          **_where(qi_path, prefix, "health.port"))
        return health
    if service and port:
        return {"tcp": True, "port": port, "path": None, "status": None, "text": None, "initial_delay": 0}
    return None
