# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets generated once per environment (pure): a database's admin account, and the components that reach the
database through a URL rewired to its Service, which get the credentials in that URL from the same Secret.

On a VM the legacy couchdb role wrote couchdb_admin_password from a vars file into local.ini. In a cluster the
password is made when the Secret is first created and read back on every later run; no image, log or diff holds it.
The containers name it by $(VAR) references that Kubernetes expands in the pod, never in an image's environment.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean

# The official couchdb image reads these; the stand-in's launcher does too.
ADMIN_ENV = {"COUCHDB_USER": "username", "COUCHDB_PASSWORD": "password"}


def database_admin(values, database, name, notes):
    """The admin Secret a database component owns, as [entry], when its legacy vars ask for an admin account."""
    if not database or not boolean(values.get("couchdb_create_admin_user") or False, strict=False):
        return []
    secret = "%s-admin" % name
    user = values.get("couchdb_admin_username") or "admin"
    notes.append("admin account %s: its password is generated once per environment into Secret %s (COUCHDB_USER, "
                 "COUCHDB_PASSWORD), kept on later runs, never in the image; couchdb_admin_password of the vars "
                 "files is not used in the cluster" % (user, secret))
    return [{"name": secret, "owned": True, "values": {"username": str(user)}, "generate": ["password"],
             "env": dict(ADMIN_ENV)}]


def _prefix(component):
    return "QI_%s_" % component.upper().replace("-", "_")


def with_credentials(spec, wired, owners):
    """A consumer of an admin-guarded component: each URL wired to it carries the Secret's credentials, as $(VAR)s
    the pod expands; returns {variable: value as the container gets it}.

    owners: {component name: its owned secret entry}."""
    out = {}
    for var, value in sorted(wired.items()):
        guarded = []
        for component, entry in sorted(owners.items()):
            if component == spec["name"] or "://%s:" % component not in value:
                continue
            user, password = _prefix(component) + "USER", _prefix(component) + "PASSWORD"
            value = value.replace("://%s:" % component, "://$(%s):$(%s)@%s:" % (user, password, component))
            reader = {"name": entry["name"], "owned": False, "env": {user: "username", password: "password"}}
            if reader not in spec["deploy"]["generated_secrets"]:
                spec["deploy"]["generated_secrets"].append(reader)
            guarded.append(entry["name"])
        if guarded:
            out[var] = spec["deploy"]["pod_env"][var] = value
            spec["notes"].append("component %s: %s carries the admin credentials of Secret %s (set in the pod, not "
                                 "the image)" % (spec["name"], var, " and ".join(guarded)))
    return out
