# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where each role of a legacy playbook comes from: installed where Ansible looks, the app's own roles,
the galaxy cache, or a maintained stand-in of this collection (the substitution map). Pure."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

# The idi-ops roles the real QI playbooks name, by name and by the tail of their src.
SUBSTITUTES = {
    "facts": "qi.convergence.facts",
    "nodejs": "qi.convergence.nodejs_app",
    "secrets": "qi.convergence.secrets",
    "ansible-facts": "qi.convergence.facts",
    "ansible-nodejs": "qi.convergence.nodejs_app",
    "ansible-secrets": "qi.convergence.secrets",
    "couchdb": "qi.convergence.couchdb",
    "ansible-couchdb": "qi.convergence.couchdb",
}

# What a database stand-in's role leaves in the image, for the spec to run it: its command, user, data folder
# (the volume), the path that answers once it is up (CouchDB's /_up) and the one the role's test tag asked (its welcome).
DATABASES = {
    "qi.convergence.couchdb": {"command": ["/opt/qi-couchdb/node/bin/node", "/opt/qi-couchdb/bin/qi-couchdb.js"], "user": "couchdb",
                               "data": "/var/lib/couchdb", "health_path": "/_up", "test_path": "/",
                               "software": "PouchDB Server 4.2.0",
                               # The image its users pull where a registry is reachable (docker.io's couchdb:3): its
                               # own entrypoint and user, its data folder, and an admin account it will not start
                               # without; it creates no database, so a postStart hook makes the role's.
                               "official": {"software": "CouchDB (the official image)", "uid": 5984,
                                            "data": "/opt/couchdb/data", "writable": ["/opt/couchdb/etc/local.d"],
                                            "system_databases": ["_users", "_replicator"]}},
}


def _src_tail(src):
    return src.rstrip("/").split("/")[-1].split(",")[0].replace(".git", "") if src else ""


def substitute_for(name, requirements, extra_map=None):
    """The collection role that stands in for a legacy role name (or None)."""
    table = dict(SUBSTITUTES)
    table.update(extra_map or {})
    if name in table:
        return table[name]
    for req in requirements:
        if req.get("name") == name and _src_tail(req.get("src")) in table:
            return table[_src_tail(req.get("src"))]
    return None


def database_standin(roles, requirements):
    """(role FQCN, what it runs) of the database stand-in among roles, or None (pure)."""
    for name in roles:
        fqcn = name if name in DATABASES else substitute_for(name, requirements)
        if fqcn in DATABASES:
            return fqcn, DATABASES[fqcn]
    return None


def collection_role_dir(fqcn, collections_paths):
    parts = fqcn.split(".")
    if len(parts) != 3:
        return None
    for base in collections_paths:
        for root in (os.path.join(base, "ansible_collections"), base):
            path = os.path.join(root, parts[0], parts[1], "roles", parts[2])
            if os.path.isdir(path):
                return path
    return None


def find_role(name, roles_paths, collections_paths, requirements, extra_map=None):
    """(how, directory or FQCN) for a role: 'installed' | 'collection' | 'substituted'; None if nowhere."""
    if "." in name and collection_role_dir(name, collections_paths):
        return "collection", collection_role_dir(name, collections_paths)
    for base in roles_paths:
        if base and os.path.isdir(os.path.join(base, name)):
            return "installed", os.path.join(base, name)
    sub = substitute_for(name, requirements, extra_map)
    if sub:
        return "substituted", sub
    return None


def role_dir(name, roles_paths, collections_paths, requirements, extra_map=None):
    """The folder of the role that will run for name (a stand-in's collection folder when substituted)."""
    found = find_role(name, roles_paths, collections_paths, requirements, extra_map)
    if not found:
        return None
    return found[1] if found[0] != "substituted" else collection_role_dir(found[1], collections_paths)


def role_defaults_file(name, roles_paths, collections_paths, requirements, extra_map=None):
    path = role_dir(name, roles_paths, collections_paths, requirements, extra_map)
    for candidate in ("defaults/main.yml", "defaults/main.yaml"):
        if path and os.path.isfile(os.path.join(path, candidate)):
            return os.path.join(path, candidate)
    return None


# Names a legacy Dockerfile/Vagrantfile may set that belong to the process running the build, not to the playbook.
_PROCESS_OWN = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "TERM", "LANG", "TMPDIR")
_PROCESS_PREFIXES = ("ANSIBLE_", "PYTHON", "LD_", "LC_", "QI_")


def lookup_environment(env):
    """The legacy build's variables that may reach lookup('env', ...) here (pure)."""
    return dict((str(k), str(v)) for k, v in (env or {}).items()
                if k not in _PROCESS_OWN and not str(k).startswith(_PROCESS_PREFIXES))
