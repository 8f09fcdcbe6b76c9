# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A system of components: the playbooks a provisioning script ran in order (deploy.sh), or .qi.yml's components:,
as one graph that the release applies in waves.

GPII's production components VM ran `ansible-playbook couchdb.yml`, then `preferences-server.yml`, then
`flow-manager.yml` from one deploy.sh; each playbook is a component with its own vars, and each depends on the ones
before it. Everything here is pure: the files are read by the caller.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ...module_utils.errors import QiError
from .legacy_build_files import parse_ansible_command

SCRIPTS = ("provisioning/deploy.sh", "deploy.sh")
KINDS = ("service", "stateful", "job", "cronjob")
# What a dependent waits for: a service or database to be ready, a job to have completed.
CONDITIONS = ("ready", "completed")
_SHELL_PROVISION = re.compile(r"""\.vm\.provision\s+[:"']shell["']?\s*,[^\n]*?\bpath:\s*["']([^"']+)["']""")


def script_paths(src_dir, vagrantfile_text=""):
    """The provisioning scripts to read, relative to src_dir: the Vagrantfile's shell provisioners, else deploy.sh."""
    named = [os.path.normpath(p.lstrip("./")) if not os.path.isabs(p) else p
             for p in _SHELL_PROVISION.findall(vagrantfile_text or "")]
    found = [p for p in named if os.path.isfile(os.path.join(src_dir, p))]
    return found or [p for p in SCRIPTS if os.path.isfile(os.path.join(src_dir, p))]


def script_calls(text, base_dir=""):
    """The ansible-playbook calls of a shell script, in order (pure): [(line number, playbook, tags)]."""
    calls = []
    for number, line in enumerate(text.splitlines(), 1):
        call = parse_ansible_command(line, base_dir)
        if call and call["playbook"]:
            calls.append((number, call["playbook"], call["tags"]))
    return calls


def _needs(entry, i):
    """depends_on of one component as {name: condition}; a list means 'ready' for each."""
    raw = entry.get("depends_on") or {}
    if isinstance(raw, list):
        raw = dict.fromkeys(raw, "ready")
    for name, condition in raw.items():
        if condition not in CONDITIONS:
            raise QiError("expected %s, got '%s'" % (" or ".join(CONDITIONS), condition),
                          key="components[%d].depends_on.%s" % (i, name))
    return dict(raw)


def check_graph(components, path=None):
    """The components' waves; QiError, before anything is built, for an unknown dependency, a cycle, a name or a
    port claimed twice.

    components: [{name, port (or None), depends_on: {name: condition}}] in declaration order."""
    names = [c["name"] for c in components]
    for i, c in enumerate(components):
        if c["name"] in names[:i]:
            raise QiError("two components are named '%s'" % c["name"], path=path, key="components[%d]" % i)
        unknown = sorted(set(c["depends_on"]) - set(names))
        if unknown:
            raise QiError("depends on '%s', which is not a component (components: %s)" % (
                unknown[0], ", ".join(names)), path=path, key="components[%d].depends_on" % i)
    ports = {}
    for i, c in enumerate(components):
        if c.get("port") and c["port"] in ports:
            raise QiError("port %d is claimed by both '%s' and '%s'; each component needs its own"
                          % (c["port"], ports[c["port"]], c["name"]), path=path, key="components[%d].port" % i)
        ports.setdefault(c.get("port"), c["name"])
    return waves(components, path)


def waves(components, path=None):
    """The components in waves (pure): each wave only depends on earlier ones; names in declaration order."""
    deps = dict((c["name"], set(c["depends_on"])) for c in components)
    done, out = set(), []
    while len(done) < len(deps):
        wave = [c["name"] for c in components if c["name"] not in done and deps[c["name"]] <= done]
        if not wave:
            raise QiError("the components depend on each other in a cycle: %s" % _cycle(deps, done), path=path,
                          key="components")
        out.append(wave)
        done.update(wave)
    return out


def _cycle(deps, done):
    """One cycle among the components not yet placed, as a -> b -> a."""
    start = sorted(n for n in deps if n not in done)[0]
    seen, node = [], start
    while node not in seen:
        seen.append(node)
        node = sorted(d for d in deps[node] if d not in done)[0]
    loop = seen[seen.index(node):] + [node]
    return " -> ".join(loop)


def from_entries(entries, path=None):
    """.qi.yml's components: as graph nodes, validated."""
    components = []
    for i, entry in enumerate(entries):
        kind = entry.get("kind", "service")
        if kind not in KINDS:
            raise QiError("expected one of %s, got '%s'" % (", ".join(KINDS), kind), path=path,
                          key="components[%d].kind" % i)
        if kind == "cronjob" and not entry.get("schedule"):
            raise QiError("a cronjob needs a schedule, such as '0 3 * * *'", path=path, key="components[%d].schedule" % i)
        components.append({"name": entry.get("app_name") or entry.get("name"), "kind": kind,
                           "port": entry.get("app_tcp_port"), "depends_on": _needs(entry, i),
                           "storage": entry.get("storage"), "schedule": entry.get("schedule")})
    check_graph(components, path)
    return components


def in_script_order(names, kinds):
    """depends_on from a script's order: each component waits for the one before it (completed for a job)."""
    out = []
    for i, name in enumerate(names):
        before = names[i - 1] if i else None
        needs = {before: "completed" if kinds[before] in ("job",) else "ready"} if before else {}
        out.append({"name": name, "kind": kinds[name], "depends_on": needs})
    return out
