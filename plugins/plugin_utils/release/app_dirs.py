# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s_release's app_dirs: read the app folders and the legacy secrets in the same call that rolls them out, so
a playbook passes paths, not every spec through its templating (a rerun that changes nothing pays for each task)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.errors import AnsibleError
from ...module_utils.errors import QiError
from ..spec.reader import read_apps

NOT_A_SERVICE = "not a service (app_start_service/deploy false): built and tested, not deployed"


def legacy_env_secrets(specs, loader, inventory_values=None):
    """The legacy secrets role's NAME=value lists by Secret name: secrets_env_vars from the inventory when set,
    else the app's provisioning/secrets.yml (Vault-encrypted or not), else none."""
    out = {}
    for spec in specs:
        legacy = spec["deploy"].get("env_secret")
        if not legacy:
            continue
        values = inventory_values
        playbook = spec["build"].get("playbook")
        path = os.path.join(os.path.dirname(playbook), "secrets.yml") if playbook else None
        if values is None and path and os.path.isfile(path):
            try:
                data = loader.load_from_file(path, cache="none")
            except AnsibleError as e:
                raise QiError("cannot be read by Ansible: %s" % str(e).splitlines()[0], path=path)
            values = (data or {}).get("secrets_env_vars") if isinstance(data, dict) else None
            if values is not None and not isinstance(values, list):
                raise QiError("expected a list of NAME=value strings", path=path, key="secrets_env_vars")
        out[legacy["name"]] = list(values or [])
    return out


def from_app_dirs(p, loader, collections_paths):
    """k8s_release options with specs (the services) and secrets read from p['app_dirs'];
    and the apps not deployed, with why."""
    dirs = p["app_dirs"]
    if not dirs or "" in dirs:
        raise QiError("no application folder: pass -e app_dir=PATH or -e '{\"app_dirs\": [...]}'")
    specs = [s for d in dirs for s in read_apps(d, collections_paths=collections_paths, role_map=p["role_map"],
                                                rpm_map=p["rpm_map"], prebuilt=p["prebuilt"])]
    services = [s for s in specs if s["service"]]
    # A component the inventory runs from its own image has no build: deploy.yml alone deploys it too.
    images = dict(p["images"], **dict((s["name"], s["prebuilt"]) for s in specs if s.get("prebuilt")))
    p = dict(p, app_dirs=None, images=images, secrets=dict(p["secrets"], **legacy_env_secrets(
        services, loader, p["env_secret_values"])))
    if p["release"] and len(dirs) == 1 and services:
        p.update(spec=services[0], specs=None)
    else:
        p.update(release=None, specs=services)
    return p, [{"name": s["name"], "why": NOT_A_SERVICE} for s in specs if not s["service"]]
