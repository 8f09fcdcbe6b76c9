# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Components run from an image the inventory names instead of one built here (pure): `couchdb: couchdb:3` where a
registry is reachable. A database stand-in's component then runs as the official image expects."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shlex

from .generated_secrets import database_admin
from .legacy_roles import database_standin

# Waits for the server, then creates each database; 412 (it exists) is fine. curl is in the official image.
_CREATE = ('for i in $(seq 120); do curl -fs -o /dev/null http://127.0.0.1:%(port)d/_up && break; sleep 1; done; '
           'for db in %(dbs)s; do curl -s -o /dev/null -u "$COUCHDB_USER:$COUCHDB_PASSWORD" -X PUT '
           'http://127.0.0.1:%(port)d/$db; done')


def use_prebuilt(spec, image, values):
    """spec, changed to run image (not built); values: the component's legacy variables."""
    spec["prebuilt"] = image
    found = database_standin(spec["build"]["roles"], spec["build"]["requirements"])
    if not found:
        spec["notes"].append("component %s: image %s from the inventory, not built" % (spec["name"], image))
        return spec
    official = found[1]["official"]
    spec["run"].update(command=[], user=str(official["uid"]), uid=official["uid"], data_dir=official["data"])
    spec["run"]["writable_paths"] = sorted(set(spec["run"]["writable_paths"]) | set(official["writable"]))
    if not spec["deploy"]["generated_secrets"]:
        spec["deploy"]["generated_secrets"] = database_admin(
            dict(values, couchdb_create_admin_user=True), found[1], spec["name"], spec["notes"])
    databases = official["system_databases"] + list(values.get("couchdb_databases") or [])
    spec["run"]["post_start"] = ["/bin/sh", "-c", _CREATE % {"port": spec["run"]["port"],
                                                             "dbs": " ".join(shlex.quote(d) for d in databases)}]
    spec["notes"].append("component %s: image %s from the inventory, not built: %s in place of the %s stand-in, "
                         "data in %s, user %d, databases %s created after it starts" % (
                             spec["name"], image, official["software"], found[1]["software"], official["data"],
                             official["uid"], ", ".join(databases)))
    return spec
