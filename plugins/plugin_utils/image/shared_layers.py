# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Components built from one source tree whose images hold the same files: the layers are reproducible (same
content, same digest), so such images share every layer in the engine and the registry and differ only in their
configuration (environment, command). Said per component, as GPII ran two services from one universal checkout."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from .docker_client import docker_errors


def say_shared_layers(client, builds):
    """Add a note and shares_layers_with to each build whose image has the layers of an earlier one."""
    first = {}
    for build in builds:
        ref = build.get("image") or build.get("image_tag")
        if build.get("prebuilt") or not ref:
            continue
        try:
            layers = tuple(client.images.get(ref).attrs["RootFS"]["Layers"])
        except docker_errors():
            continue
        if layers in first:
            build["shares_layers_with"] = first[layers]
            build["messages"].append("the same %d layers as the image of %s (the same files: only the environment and "
                                     "command differ), stored and pulled once" % (len(layers), first[layers]))
        else:
            first[layers] = build["name"]
    return builds
