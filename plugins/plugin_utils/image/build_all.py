# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of qi.convergence.container_image: read every app of a folder, build, test and push each."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from .docker_client import docker_client
from ...module_utils.errors import QiError
from .build import build_image
from .options import BuildOptions
from .shared_layers import say_shared_layers
from ..spec.reader import read_apps


def build_all(params, check_mode=False, progress=None):
    """Build every app of params' app_dir (or its one spec); the module/action result."""
    builds, specs = [], []
    options = BuildOptions.from_params(params)
    try:
        specs = [params["spec"]] if params.get("spec") else read_apps(
            params["app_dir"], collections_paths=options.collections_paths, role_map=options.role_map,
            rpm_map=options.rpm_map, prebuilt=options.prebuilt)
        client = docker_client(options.docker_host)
        for spec in specs:
            if spec.get("prebuilt"):
                builds.append(_prebuilt(spec, progress))
                continue
            if not options.test:
                spec = dict(spec, tests=[])
            builds.append(build_image(options, spec, check_mode=check_mode, client=client, progress=progress))
        say_shared_layers(client, builds)
    except QiError as e:
        e.extra = {"builds": builds, "tests": getattr(e, "outcome", None),
                   "failed_app": specs[len(builds)]["name"] if len(builds) < len(specs) else None}
        raise
    first = dict(builds[0])
    first.pop("changed", None)
    return dict(first, changed=any(b["changed"] for b in builds), builds=builds, specs=specs, spec=specs[0])


def _prebuilt(spec, progress):
    """The result for a component the inventory runs from an image of its own: nothing built, tested or pushed."""
    said = "%s: %s from the inventory (app_image_prebuilt), not built" % (spec["name"], spec["prebuilt"])
    if progress:
        progress(said)
    return {"name": spec["name"], "changed": False, "image": spec["prebuilt"], "prebuilt": True, "cache_hit": False,
            "pushed": False, "service": spec["service"], "roles": [], "tests": None, "messages": spec["notes"]}
