# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read an app folder (its .qi.yml in either real shape and/or its legacy provisioning) into app specs.

One spec per app the .qi.yml declares (or one for a provisioning folder alone). The provisioning is read as
Ansible reads it (provisioning.py); sections.py makes each section of the spec from what was read.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ...module_utils.errors import QiError
from .legacy_roles import role_defaults_file
from .components import from_entries, in_script_order, script_calls, script_paths
from .legacy_build_files import VM_ONLY_TAGS, find_playbook, legacy_context, patched_environment, synced_folders
from .provisioning import choose_playbook, load_ansible_file, read_provisioning
from .qi_file import read_qi_file
from .qi_schema import LEGACY_VARS
from .prebuilt import use_prebuilt
from .sections import Said, app_spec, rel as _rel
from .system import join, kind_of
from .validate import validate

LEGACY_WANTED = tuple(LEGACY_VARS["properties"])
PLAYBOOK_NAMES = ("playbook.yml", "site.yml", "docker.yml")
# Numbers the roles' YAML often quotes (couchdb_port: '5984').
NUMERIC_VARS = ("nodejs_app_tcp_port", "nodejs_app_test_http_status_code", "couchdb_port",
                "couchdb_test_http_status_code")


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
    data = load_ansible_file(app_dir, path)
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
        if isinstance(v, str) and v.strip().isdigit() and k in NUMERIC_VARS:
            v = int(v)
        if isinstance(v, str) and k in ("nodejs_app_git_clone", "nodejs_yarn_enabled", "nodejs_app_dev_env"):
            v = v.strip().lower() in ("true", "yes", "1", "on")
        if v == "" or v is None:
            continue
        out[k] = v
    for k, v in out.items():
        validate({k: v}, {"type": "object", "properties": {k: LEGACY_VARS["properties"][k]}}, origin.get(k, "?"))
    return out


def _command_line_vars(extra, prov_dir, app_dir):
    """The -e values of the legacy ansible-playbook line: key=value pairs, @file (beside the playbook) or YAML."""
    out = {}
    for k, v in extra.items():
        if k == "@file":
            path = v if os.path.isabs(v) else os.path.join(prov_dir, v)
            data = load_ansible_file(app_dir, path) if os.path.isfile(path) else None
            if not isinstance(data, dict):
                raise QiError("the extra vars file named by the legacy build's -e @%s is missing or not a mapping"
                              % os.path.basename(v), path=_rel(app_dir, v))
            out.update(data)
        elif k == "@yaml":
            continue
        else:
            out[k] = v
    return out


def _vars_yml_only(app_dir, prov_dir):
    """A provisioning folder with a vars.yml and no playbook: its values for the generated provisioning."""
    vars_yml = os.path.join(prov_dir, "vars.yml")
    if not os.path.isfile(vars_yml):
        return None
    data = load_ansible_file(app_dir, vars_yml) or {}
    values = dict((k, v) for k, v in data.items() if k in LEGACY_WANTED) if isinstance(data, dict) else {}
    return values, [vars_yml], [], [], dict.fromkeys(values, _rel(app_dir, vars_yml))


def _played(app_dir, playbook, ctx, requirements, collections_paths, role_map):
    """What the playbook gives its roles, as ansible-playbook would run it from the legacy Dockerfile/Vagrantfile."""
    roles_paths = [os.path.join(os.path.dirname(playbook), "roles")]

    def defaults(role):
        return role_defaults_file(role, roles_paths, collections_paths, requirements, role_map)
    with patched_environment(ctx["env"]):
        return read_provisioning(app_dir, playbook, LEGACY_WANTED, defaults, ctx["extra_vars"])


def _add_vars_files(app_dir, names, values, files, origin):
    """build.vars_files of .qi.yml: read after the playbook's own, as -e @file would be."""
    for extra in names:
        path = os.path.join(app_dir, extra)
        if not os.path.isfile(path):
            raise QiError("vars file named by build.vars_files does not exist", path=extra)
        data = load_ansible_file(app_dir, path) or {}
        files.append(path)
        for k in LEGACY_WANTED:
            if k in data:
                values[k], origin[k] = data[k], extra


def _legacy(app_dir, src_dir, qi, collections_paths, role_map):
    """The provisioning of one app folder: playbook, values, files, roles, hosts, requirements, and how the legacy
    Dockerfile/Vagrantfile ran it (context); None when it has none."""
    prov_dir = os.path.join(src_dir, "provisioning")
    build = qi.get("build") or {}
    ctx, _found = legacy_context(src_dir, build)
    named = build.get("playbook") or (ctx["playbook"] and os.path.join(src_dir, ctx["playbook"]))
    playbook = choose_playbook(app_dir, prov_dir, named)
    req_path = os.path.join(prov_dir, "requirements.yml")
    requirements = _read_requirements(app_dir, req_path) if os.path.isfile(req_path) else []
    ctx["extra_vars"] = _command_line_vars(ctx["extra_vars"], os.path.dirname(playbook) if playbook else prov_dir,
                                           app_dir)
    if playbook:
        read = _played(app_dir, playbook, ctx, requirements, collections_paths, role_map)
    else:
        read = _vars_yml_only(app_dir, prov_dir)
        if read is None:
            return None
    values, files, roles, hosts, origin = read
    _add_vars_files(app_dir, build.get("vars_files") or [], values, files, origin)
    addresses = dict((k, v) for k, v in _plain(values).items() if k not in LEGACY_WANTED and isinstance(v, str))
    values = dict((k, v) for k, v in values.items() if k in LEGACY_WANTED)
    return {"playbook": playbook, "values": _coerce_legacy(_plain(values), origin), "files": files, "roles": roles,
            "hosts": hosts, "requirements": requirements, "context": ctx, "addresses": addresses}


def _src_dir(app_dir, qi, said_at):
    src_dir = os.path.normpath(os.path.join(app_dir, (qi.get("folder") or {}).get("src") or "."))
    if not os.path.isdir(src_dir) or not (src_dir + os.sep).startswith(app_dir + os.sep):
        raise QiError("folder.src must be a folder inside the app folder", **said_at)
    return src_dir


def read_apps(app_dir, qi_file=None, collections_paths=(), role_map=None, rpm_map=None, prebuilt=None):
    """Return the specs of every app in app_dir; raise QiError naming the culprit on bad input.

    prebuilt: {component name: image} the inventory runs instead of building (spec/prebuilt.py)."""
    app_dir = os.path.abspath(app_dir)
    if not os.path.isdir(app_dir):
        raise QiError("app folder does not exist or is not a folder", path=app_dir)
    qi_path = qi_file or os.path.join(app_dir, ".qi.yml")
    if qi_file and not os.path.isfile(qi_path):
        raise QiError(".qi.yml file not found", path=qi_file)
    entries = read_qi_file(qi_path, _rel(app_dir, qi_path)) if os.path.isfile(qi_path) else []
    if not entries:
        return _script_system(app_dir, collections_paths, role_map, rpm_map, prebuilt or {}) or [
            _provisioning_app(app_dir, collections_paths, role_map, rpm_map)]
    shown_qi, specs = _rel(app_dir, qi_path), []
    nodes = from_entries([e[0] for e in entries], shown_qi) if entries[0][1].startswith("components[") else None
    for qi, prefix, _line in entries:
        said = Said(app_dir, app_dir, qi, prefix, shown_qi, None, rpm_map)
        said.src_dir = _src_dir(app_dir, qi, said.at("folder.src"))
        said.legacy = _legacy(app_dir, said.src_dir, qi, collections_paths, role_map)
        specs.append(_with_prebuilt(app_spec(said), said, prebuilt or {}))
    return join(specs, nodes, shown_qi) if nodes else specs


def _provisioning_app(app_dir, collections_paths, role_map, rpm_map):
    legacy = _legacy(app_dir, app_dir, {}, collections_paths, role_map)
    if legacy is None:
        raise QiError("no .qi.yml and no provisioning playbook (%s) or provisioning/vars.yml; expected at "
                      "least one of them" % ", ".join(PLAYBOOK_NAMES), path=app_dir)
    return _noted_source(app_spec(Said(app_dir, _synced_source(app_dir, legacy), {}, "", None, legacy, rpm_map)),
                         app_dir)


def _vagrantfile_text(app_dir):
    path = os.path.join(app_dir, "Vagrantfile")
    if not os.path.isfile(path):
        return ""
    with open(path, errors="replace") as f:
        return f.read()


def _synced_source(app_dir, legacy):
    """Where the VM's install dir came from: the folder the Vagrantfile syncs there (GPII's example VMs sync the
    repository root, "../..", to /home/vagrant/sync); the app folder when it syncs none."""
    dest = (legacy or {}).get("values", {}).get("nodejs_app_install_dir")
    for host, guest in synced_folders(_vagrantfile_text(app_dir)) if isinstance(dest, str) else []:
        path = os.path.normpath(os.path.join(app_dir, host))
        if os.path.normpath(guest) == os.path.normpath(dest) and os.path.isdir(path):
            return path
    return app_dir


def _noted_source(spec, app_dir):
    if spec["source"]["dir"] != app_dir:
        spec["notes"].append("image source: %s, the folder the Vagrantfile syncs to %s" % (
            os.path.relpath(spec["source"]["dir"], app_dir), spec["source"]["dest"]))
    return spec


def _with_prebuilt(spec, said, prebuilt):
    return use_prebuilt(spec, prebuilt[spec["name"]], said.values) if spec["name"] in prebuilt else spec


def _script_system(app_dir, collections_paths, role_map, rpm_map, prebuilt):
    """A folder whose provisioning script runs several playbooks (GPII's deploy.sh): one component per playbook,
    in the script's order, each waiting for the one before; None when there is no such script."""
    for script in script_paths(app_dir, _vagrantfile_text(app_dir)):
        with open(os.path.join(app_dir, script), errors="replace") as f:
            calls = script_calls(f.read())
        if len(set(playbook for _n, playbook, _t in calls)) < 2:
            continue
        specs = [_script_component(app_dir, script, call, collections_paths, role_map, rpm_map, prebuilt)
                 for call in calls]
        kinds = dict((s["name"], kind_of(s)) for s in specs)
        return join(specs, in_script_order([s["name"] for s in specs], kinds), script)
    return None


def _script_component(app_dir, script, call, collections_paths, role_map, rpm_map, prebuilt):
    number, named, tags = call
    playbook = find_playbook(app_dir, named)
    if playbook is None:
        raise QiError("runs ansible-playbook %s, which is not in the app folder" % named, path=script, line=number)
    legacy = _legacy(app_dir, app_dir, {"build": {"playbook": playbook}}, collections_paths, role_map)
    phases = [t for t in tags or [] if t not in VM_ONLY_TAGS]
    if tags:
        legacy["context"]["phases"] = phases
    legacy["context"]["notes"].append("component from line %d of %s: %s%s" % (
        number, script, _rel(app_dir, playbook), " --tags %s (phases %s)" % (",".join(tags), ",".join(phases))
        if tags else ""))
    stem = os.path.splitext(os.path.basename(playbook))[0]
    try:
        said = Said(app_dir, _synced_source(app_dir, legacy), {}, "", None, legacy, rpm_map, default_name=stem)
        spec = _noted_source(_with_prebuilt(app_spec(said), said, prebuilt), app_dir)
    except QiError as e:
        # The folder has no .qi.yml to set a key in: say which component, and where its settings can go.
        raise QiError("component %s (line %d of %s): %s; settings the provisioning lacks go in a .qi.yml "
                      "components: list (one entry per playbook, with build.playbook)" % (
                          stem, number, script, e.message), path=e.path, key=e.key, line=e.line)
    # The components share one source tree but each has its own playbook and vars (fingerprinted as such): the
    # provisioning folder stays out of the images, so one component's vars change rebuilds that component alone.
    folder = _rel(spec["source"]["dir"], os.path.dirname(playbook))
    if folder not in ("", ".") and not os.path.isabs(folder):
        spec["source"]["exclude"] = [folder]
        spec["notes"].append("image source: the source folder without %s/ (each component's own playbook and vars "
                             "are its build inputs)" % folder)
    return spec
