# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a legacy provisioning playbook the way Ansible does, with Ansible's own DataLoader and Templar.

Plays (following import_playbook), their vars_files (lists, relative paths, templated names, first-found
lists), play vars and the defaults of the roles they use, merged with Ansible's precedence: role defaults <
play vars < vars_files, later plays over earlier ones. Only the variables the app spec needs are templated;
one that stays undefined is an error naming its file and variable.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.splitter import parse_kv
from ansible.template import Templar

from ...module_utils.errors import QiError

PLAYBOOK_ORDER = ("playbook.yml", "site.yml", "docker.yml")
# An address on the VM's own host: localhost:5984 was the database when every component shared one VM.
LOCAL_ADDRESS = re.compile(r"\b(?:localhost|127\.0\.0\.1):(\d+)\b")
IMPORT_KEYS = ("import_playbook", "ansible.builtin.import_playbook")


def _rel(app_dir, path):
    return os.path.relpath(path, app_dir) if path.startswith(app_dir + os.sep) else path


def _looks_like_playbook(path):
    try:
        with open(path) as f:
            text = f.read(65536)
    except (IOError, OSError, UnicodeDecodeError):
        return False
    return text.lstrip().startswith(("-", "---")) and ("hosts:" in text or "import_playbook" in text)


def choose_playbook(app_dir, prov_dir, explicit=None):
    """The playbook to build with: explicit, else the first of PLAYBOOK_ORDER; None when there is no folder."""
    if explicit:
        path = explicit if os.path.isabs(explicit) else os.path.join(app_dir, explicit)
        if not os.path.isfile(path):
            raise QiError("the playbook named by build.playbook does not exist", path=_rel(app_dir, path))
        return path
    if not os.path.isdir(prov_dir):
        return None
    for name in PLAYBOOK_ORDER:
        if os.path.isfile(os.path.join(prov_dir, name)):
            return os.path.join(prov_dir, name)
    found = sorted(n for n in os.listdir(prov_dir)
                   if n.endswith((".yml", ".yaml")) and _looks_like_playbook(os.path.join(prov_dir, n)))
    if found:
        raise QiError("no %s here; playbooks found: %s. Choose one with build.playbook in .qi.yml "
                      "(e.g. build: {playbook: provisioning/%s})"
                      % (", ".join(PLAYBOOK_ORDER), ", ".join(found), found[0]), path=_rel(app_dir, prov_dir))
    return None


# Role defaults files are the same for every app a run reads: parsed once (Ansible's parse is the cost), by
# path and stat; each app gets its own containers (scalars are immutable), so no spec shares a list with another.
_ROLE_DEFAULTS = {}


def _containers_copied(value):
    if isinstance(value, dict):
        return dict((k, _containers_copied(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_containers_copied(v) for v in value]
    return value


def _load(loader, app_dir, path):
    try:
        # Each file is read once per app: no cache, so nothing is deep-copied out of it.
        return loader.load_from_file(path, cache="none", unsafe=True, trusted_as_template=True)
    except AnsibleError as e:
        raise QiError("cannot be read by Ansible: %s" % str(e).splitlines()[0], path=_rel(app_dir, path))


def load_ansible_file(app_dir, path):
    """A file Ansible itself reads (vars files, requirements.yml), read as Ansible reads it: Vault, YAML tags."""
    return _load(DataLoader(), app_dir, path)


class _Reader:
    def __init__(self, app_dir, role_defaults, extra_vars=None):
        self.extra = dict(extra_vars or {})
        self.loader = DataLoader()
        self.app_dir = app_dir
        self.role_defaults = role_defaults
        self.plays = []
        self.seen = set()

    def load(self, path):
        return _load(self.loader, self.app_dir, path)

    def load_role_defaults(self, path):
        st = os.stat(path)
        key = (os.path.realpath(path), st.st_mtime_ns, st.st_size)
        if key not in _ROLE_DEFAULTS:
            _ROLE_DEFAULTS[key] = self.load(path) or {}
        return _containers_copied(_ROLE_DEFAULTS[key])

    def collect(self, playbook):
        real = os.path.realpath(playbook)
        if real in self.seen:
            raise QiError("import_playbook loop", path=_rel(self.app_dir, playbook))
        self.seen.add(real)
        data = self.load(playbook)
        if not isinstance(data, list):
            raise QiError("expected a playbook: a list of plays", path=_rel(self.app_dir, playbook))
        for i, play in enumerate(data):
            if not isinstance(play, dict):
                raise QiError("expected a play (a mapping)", path=_rel(self.app_dir, playbook), key="[%d]" % i)
            target = next((play[k] for k in IMPORT_KEYS if k in play), None)
            if target is None and "include" in play and "hosts" not in play:
                # The play-level include of 2016 playbooks; its k=v parameters are the play's vars, not a file.
                target = parse_kv(str(play["include"])).get("_raw_params")
            if target is not None:
                target = self.template(str(target), {}, playbook, "import_playbook")
                self.collect(target if os.path.isabs(target) else os.path.join(os.path.dirname(playbook), target))
                continue
            self.plays.append((playbook, i, play))

    def template(self, value, variables, path, name):
        try:
            return Templar(loader=self.loader, variables=variables).template(value)
        except AnsibleError as e:
            raise QiError("variable '%s' cannot be resolved at build time: %s" % (name, str(e).splitlines()[0]),
                          path=_rel(self.app_dir, path))

    def _vars_file(self, entry, variables, playbook, where):
        """Resolve one vars_files entry (a name, a templated name, or a first-found list) to a path or None."""
        names = entry if isinstance(entry, list) else [entry]
        base = os.path.dirname(playbook)
        for raw in names:
            name = self.template(raw, variables, playbook, where) if "{{" in str(raw) else str(raw)
            if not str(name).strip() and not isinstance(entry, list):
                raise QiError(_empty_name_message(raw, base), path=_rel(self.app_dir, playbook), key=where)
            path = name if os.path.isabs(name) else os.path.join(base, name)
            if os.path.isfile(path):
                return os.path.normpath(path)
        if isinstance(entry, list):
            return None
        raise QiError("vars file '%s' named by the playbook does not exist" % names[0],
                      path=_rel(self.app_dir, playbook), key=where)

    def _play_roles(self, play, playbook, where):
        names = []
        for r in play.get("roles") or []:
            name = r if isinstance(r, str) else (r.get("role") or r.get("name")) if isinstance(r, dict) else None
            if not isinstance(name, str):
                raise QiError("expected role names or mappings with 'role'", path=_rel(self.app_dir, playbook),
                              key=where + ".roles")
            names.append(name)
        return names

    def _role_defaults_layer(self, play_roles, layer, layer_origin):
        for role in play_roles:
            defaults = self.role_defaults(role)
            if defaults:
                data = self.load_role_defaults(defaults)
                layer.update(data)
                layer_origin.update(dict.fromkeys(data, defaults))

    def _vars_files_layer(self, play, playbook, where, known, layer, layer_origin):
        """The play's vars_files over its vars, each name templated with what is known so far; the files read."""
        vfs = play.get("vars_files") or []
        if not isinstance(vfs, list):
            raise QiError("expected a list of file names", path=_rel(self.app_dir, playbook), key=where + ".vars_files")
        files = []
        for j, entry in enumerate(vfs):
            path = self._vars_file(entry, dict(dict(known, **layer), **self.extra), playbook,
                                   "%s.vars_files[%d]" % (where, j))
            data = self.load(path) if path is not None else None
            if data is None:
                continue
            if not isinstance(data, dict):
                raise QiError("expected a mapping of variables", path=_rel(self.app_dir, path))
            files.append(path)
            layer.update(data)
            layer_origin.update(dict.fromkeys(data, path))
        return files

    def _play_layer(self, playbook, i, play, known):
        """(variables, their origins, roles, files read) of one play: role defaults < play vars < vars_files."""
        where = "[%d]" % i
        play_roles = self._play_roles(play, playbook, where)
        layer, layer_origin = {}, {}
        self._role_defaults_layer(play_roles, layer, layer_origin)
        play_vars = play.get("vars") or {}
        if not isinstance(play_vars, dict):
            raise QiError("expected a mapping", path=_rel(self.app_dir, playbook), key=where + ".vars")
        layer.update(play_vars)
        layer_origin.update(dict.fromkeys(play_vars, playbook))
        files = self._vars_files_layer(play, playbook, where, known, layer, layer_origin)
        return layer, layer_origin, play_roles, files

    def read(self):
        merged, origin, roles, hosts, files = {}, {}, [], [], []
        for playbook, i, play in self.plays:
            layer, layer_origin, play_roles, play_files = self._play_layer(playbook, i, play, merged)
            roles += [r for r in play_roles if r not in roles]
            hosts.append(str(play.get("hosts", "")))
            files += play_files
            merged.update(layer)
            origin.update(layer_origin)
        return merged, origin, roles, hosts, files


_ENV_LOOKUP = re.compile(r"""lookup\(\s*['"](?:ansible\.builtin\.)?env['"]\s*,\s*['"](\w+)['"]""")


def _empty_name_message(raw, base):
    """Why a templated vars file name came out empty, and what it could be."""
    names = _ENV_LOOKUP.findall(str(raw))
    candidates = sorted(n for n in os.listdir(base) if n.endswith((".yml", ".yaml")) and "vars" in n)
    why = ("the environment variable %s is not set: neither the app's Dockerfile (ENV), its Vagrantfile nor the "
           "environment of this run sets it" % " / ".join(names)) if names else "it templates to nothing"
    hint = "; set it, e.g. %s=%s" % (names[0], candidates[0]) if names and candidates else ""
    return "vars file entry '%s' is empty: %s%s (vars files beside the playbook: %s)" % (
        raw, why, hint, ", ".join(candidates) or "none")


def read_provisioning(app_dir, playbook, wanted, role_defaults=lambda role: None, extra_vars=None):
    """Return (values of the wanted variables, the files read, roles, host patterns, origin of each value).

    Values are templated with everything the plays define; a wanted variable that is not defined is left out.
    extra_vars (the legacy command line's -e) win over everything, as in Ansible.
    """
    reader = _Reader(app_dir, role_defaults, extra_vars)
    reader.collect(playbook)
    merged, origin, roles, hosts, files = reader.read()
    if extra_vars:
        merged.update(extra_vars)
        origin.update(dict.fromkeys(extra_vars, "the legacy build's -e"))
    values = {}
    for name in list(wanted) + [n for n in merged if n not in wanted]:
        if name not in merged:
            continue
        # Besides the wanted ones, a variable whose value names localhost:PORT: in a system of components that
        # may be another component's address, which the cluster gives another name (spec/system.py).
        if name in wanted or (isinstance(merged[name], str) and LOCAL_ADDRESS.search(merged[name])):
            values[name] = reader.template(merged[name], merged, origin.get(name, playbook), name)
    return values, files, roles, hosts, dict((k, _rel(app_dir, origin[k])) for k in values if k in origin)
