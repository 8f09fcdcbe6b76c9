# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read an app folder (legacy provisioning files and/or .qi.yml) into one normalised app spec.

Precedence, later wins: provisioning vars files (those the playbook names, in order), play vars,
then .qi.yml. Either the provisioning folder or .qi.yml alone is enough.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.schema import Ctx
from ansible_collections.qi.convergence.plugins.module_utils.spec_schema import LEGACY_VARS, QI_FILE
from ansible_collections.qi.convergence.plugins.module_utils.yaml_loader import load_file

PLAYBOOK_NAMES = ("playbook.yml", "site.yml", "main.yml")
DEFAULT_PHASES = ["install", "configure"]
STACK_INTERPRETERS = {"nodejs": "node", "node": "node", "python": "python3"}
_SIMPLE_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _resolve_templates(variables):
    """Expand '{{ name }}' references between plain variables, as Ansible would for the simple case."""
    def expand(value, depth):
        if isinstance(value, str) and "{{" in value and depth < 10:
            def sub(m):
                ref = variables.get(m.group(1))
                return str(expand(ref, depth + 1)) if isinstance(ref, (str, int, float)) else m.group(0)
            return _SIMPLE_VAR.sub(sub, value)
        if isinstance(value, list):
            return [expand(v, depth) for v in value]
        return value
    return dict((k, expand(v, 0)) for k, v in variables.items())


def _rel(app_dir, path):
    return os.path.relpath(path, app_dir) if path.startswith(app_dir) else path


def _read_playbook(app_dir, playbook):
    """Return (vars files, play vars, roles, hosts) named by a provisioning playbook."""
    data = load_file(playbook)
    ctx = Ctx(_rel(app_dir, playbook))
    if not isinstance(data, list) or not data:
        ctx.fail("expected a playbook: a list of plays")
    base = os.path.dirname(playbook)
    vars_files, play_vars, roles, hosts = [], {}, [], []
    for i, play in enumerate(data):
        pctx = ctx.child(data, i)
        if not isinstance(play, dict):
            pctx.fail("expected a play (a mapping), got %s" % type(play).__name__)
        if "import_playbook" in play or "ansible.builtin.import_playbook" in play:
            continue
        hosts.append(str(play.get("hosts", "")))
        vf = play.get("vars_files") or []
        if not isinstance(vf, list):
            pctx.child(play, "vars_files").fail("expected a list of file names")
        for f in vf:
            if not isinstance(f, str):
                pctx.child(play, "vars_files").fail("expected file names, got %r" % (f,))
            path = f if os.path.isabs(f) else os.path.join(base, f)
            if "{{" not in f:
                vars_files.append(os.path.normpath(path))
        pv = play.get("vars") or {}
        if not isinstance(pv, dict):
            pctx.child(play, "vars").fail("expected a mapping")
        play_vars.update(pv)
        for r in play.get("roles") or []:
            name = r if isinstance(r, str) else (r.get("role") or r.get("name")) if isinstance(r, dict) else None
            if not isinstance(name, str):
                pctx.child(play, "roles").fail("expected role names or mappings with 'role'")
            roles.append(name)
    return vars_files, play_vars, roles, hosts


def _read_requirements(app_dir, path):
    data = load_file(path)
    ctx = Ctx(_rel(app_dir, path))
    if data is None:
        return []
    items = data.get("roles", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        ctx.fail("expected a list of roles or a mapping with 'roles'")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append({"name": item})
        elif isinstance(item, dict) and (item.get("name") or item.get("src")):
            out.append(dict((k, str(v)) for k, v in item.items() if k in ("name", "src", "version", "scm")))
        else:
            ctx.child(items, i).fail("expected a role name or a mapping with 'name' or 'src'")
    return out


def _find_playbook(prov_dir, explicit):
    if explicit:
        if not os.path.isfile(explicit):
            raise QiError("playbook not found", path=explicit)
        return explicit
    for name in PLAYBOOK_NAMES:
        path = os.path.join(prov_dir, name)
        if os.path.isfile(path):
            return path
    return None


def _legacy_vars(app_dir, files, play_vars):
    merged, origin = {}, {}
    for path in files:
        if not os.path.isfile(path):
            raise QiError("vars file named by the playbook does not exist", path=_rel(app_dir, path))
        data = load_file(path)
        if data is None:
            continue
        if not isinstance(data, dict):
            Ctx(_rel(app_dir, path)).fail("expected a mapping of variables")
        checked = LEGACY_VARS.check(_resolve_templates(dict(data)), Ctx(_rel(app_dir, path)))
        merged.update(checked)
        origin.update(dict((k, _rel(app_dir, path)) for k in checked))
    if play_vars:
        merged.update(LEGACY_VARS.check(_resolve_templates(play_vars), Ctx("playbook vars")))
    return _resolve_templates(merged)


def _parse_endpoint(endpoint):
    """Split a legacy test endpoint (path or URL) into (path, port or None)."""
    if not endpoint:
        return None, None
    m = re.match(r"^https?://[^/:]+(?::(\d+))?(/.*)?$", endpoint)
    if m:
        return m.group(2) or "/", int(m.group(1)) if m.group(1) else None
    return endpoint, None


def _command(stack, script, app_dir_ctx):
    if not script:
        return []
    interpreter = STACK_INTERPRETERS.get(stack)
    if interpreter:
        return [interpreter] + script.split()
    return ["/bin/sh", "-c", script]


def read_app(app_dir, qi_file=None, playbook=None, vars_files=None):
    """Return the normalised app spec of app_dir; raise QiError naming the culprit on bad input."""
    app_dir = os.path.abspath(app_dir)
    if not os.path.isdir(app_dir):
        raise QiError("app folder does not exist or is not a folder", path=app_dir)
    prov_dir = os.path.join(app_dir, "provisioning")
    qi_path = qi_file or os.path.join(app_dir, ".qi.yml")
    pb_path = _find_playbook(prov_dir, playbook and os.path.join(app_dir, playbook))
    explicit_vars = [os.path.join(app_dir, v) for v in (vars_files or [])]

    qi = {}
    if os.path.isfile(qi_path):
        raw = load_file(qi_path)
        qi = QI_FILE.check(raw, Ctx(_rel(app_dir, qi_path))) if raw is not None else {}
    elif qi_file:
        raise QiError(".qi.yml file not found", path=qi_file)
    qb = qi.get("build", {})
    if qb.get("playbook"):
        pb_path = _find_playbook(prov_dir, os.path.join(app_dir, qb["playbook"]))

    files, play_vars, roles, hosts = [], {}, [], []
    if pb_path:
        files, play_vars, roles, hosts = _read_playbook(app_dir, pb_path)
    elif os.path.isfile(os.path.join(prov_dir, "vars.yml")):
        files = [os.path.join(prov_dir, "vars.yml")]
    files += [p for p in explicit_vars + [os.path.join(app_dir, v) for v in qb.get("vars_files", [])] if p not in files]
    legacy = _legacy_vars(app_dir, files, play_vars)
    req_path = os.path.join(prov_dir, "requirements.yml")
    requirements = _read_requirements(app_dir, req_path) if os.path.isfile(req_path) else []

    if not pb_path and not qi and not legacy:
        raise QiError("no provisioning/playbook.yml, provisioning/vars.yml or .qi.yml found; "
                      "expected at least one of them", path=app_dir)
    return _normalise(app_dir, qi, legacy, pb_path, files, roles, hosts, requirements,
                      [p for p in (qi_path,) if os.path.isfile(p)])


def _normalise(app_dir, qi, legacy, pb_path, files, roles, hosts, requirements, read_qi):
    qb, qr, qh, qd = (qi.get(k, {}) for k in ("build", "run", "health", "deploy"))
    name = qi.get("app_name") or legacy.get("nodejs_app_name")
    if not name:
        raise QiError("no application name: set app_name in .qi.yml or nodejs_app_name in provisioning/vars.yml",
                      path=_rel(app_dir, read_qi[0]) if read_qi else "provisioning/vars.yml", key="app_name")
    is_node = "nodejs_app_name" in legacy or "nodejs_version" in legacy
    stack = qi.get("software_stack") or ("nodejs" if is_node else "generic")
    stack_version = qi.get("software_stack_version") or legacy.get("nodejs_version")
    install_dir = qb.get("source_dest") or legacy.get("nodejs_app_install_dir") or "/opt/%s" % name
    port = qi.get("app_tcp_port") or legacy.get("nodejs_app_tcp_port")
    script = qi.get("app_start_script") or legacy.get("nodejs_app_start_script")
    command = qr.get("command") or _command(stack, script, app_dir)
    if not command:
        raise QiError("no start command: set app_start_script or run.command in .qi.yml "
                      "(or nodejs_app_start_script in provisioning/vars.yml)",
                      path=_rel(app_dir, read_qi[0]) if read_qi else "provisioning/vars.yml", key="app_start_script")
    env = dict(legacy.get("nodejs_app_env_vars", {}))
    env.update(qr.get("env", {}))
    user = qr.get("user") or legacy.get("nodejs_app_username") or name
    legacy_path, legacy_port = _parse_endpoint(legacy.get("nodejs_app_test_http_endpoint"))
    health_path = qh.get("path") or legacy_path
    if health_path:
        health_path = _parse_endpoint(health_path)[0]
    health = None
    if health_path or qh:
        health = {
            "path": health_path or "/",
            "port": qh.get("port") or legacy_port or port,
            "status": qh.get("status") or legacy.get("nodejs_app_test_http_status_code") or 200,
            "text": qh.get("text", legacy.get("nodejs_app_test_string")),
            "initial_delay": qh.get("initial_delay", 0),
        }
        if not health["port"]:
            raise QiError("a health check needs a port: set app_tcp_port or health.port", key="health.port",
                          path=_rel(app_dir, read_qi[0]) if read_qi else None)
    git = None
    if legacy.get("nodejs_app_git_clone"):
        git = {"repo": legacy.get("nodejs_app_git_repo"), "branch": legacy.get("nodejs_app_git_branch", "master")}
    return {
        "name": name,
        "app_dir": app_dir,
        "stack": {"name": stack, "version": str(stack_version) if stack_version is not None else None},
        "env_runtime": qi.get("env_runtime", "linux"),
        "source": {"dir": app_dir, "dest": install_dir, "git": git},
        "build": {
            "playbook": pb_path,
            "vars_files": files,
            "roles": roles,
            "hosts": hosts,
            "requirements": requirements,
            "phases": qb.get("phases") or list(DEFAULT_PHASES),
            "base_image": qb.get("base_image"),
            "setup": qi.get("setup", []),
            "overrides": qb.get("overrides", {}),
        },
        "run": {
            "command": command,
            "args": qr.get("args", []),
            "workdir": qr.get("workdir") or install_dir,
            "user": user,
            "group": legacy.get("nodejs_app_groupname") or user,
            "port": port,
            "env": env,
            "writable_paths": qr.get("writable_paths", ["/tmp"]),
        },
        "health": health,
        "deploy": {
            "replicas": qd.get("replicas", 1),
            "service_type": qd.get("service_type", "ClusterIP"),
            "resources": qd.get("resources") or {"requests": {"cpu": "50m", "memory": "64Mi"},
                                                 "limits": {"cpu": "500m", "memory": "256Mi"}},
            "config_files": qd.get("config_files", []),
            "secrets": qd.get("secrets", []),
            "sidecars": qd.get("sidecars", []),
            "init_containers": qd.get("init_containers", []),
            "ingress": qd.get("ingress"),
            "termination_grace_period": qd.get("termination_grace_period", 30),
            "pre_stop_sleep": qd.get("pre_stop_sleep", 5),
        },
        "tests": qi.get("test", []) + qi.get("test_cmds", []),
        "service_name": qi.get("app_start_service"),
        "read_files": [_rel(app_dir, p) for p in read_qi + ([pb_path] if pb_path else []) + files],
    }
