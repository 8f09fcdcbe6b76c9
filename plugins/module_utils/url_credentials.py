# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The password of a URL's user:password@ part, hidden wherever a URL is shown (notes, diffs). A $(VAR) reference
Kubernetes expands in the pod holds no secret and is shown as it is."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?!\$\()[^@\s/]+@", re.I)


def hide_password(text):
    """text with every URL password as ***."""
    return _CREDENTIALS.sub(r"\1***@", text) if isinstance(text, str) else text


def _pod_spec(obj):
    spec = (obj or {}).get("spec") or {}
    if "jobTemplate" in spec:
        spec = spec["jobTemplate"].get("spec") or {}
    return (spec.get("template") or {}).get("spec")


def hide_in_containers(obj):
    """A copy of a workload whose containers' env values hide URL passwords; any other object as it is."""
    if not _pod_spec(obj):
        return obj
    out = copy.deepcopy(obj)
    pod = _pod_spec(out)
    for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
        for env in container.get("env") or []:
            if "value" in env:
                env["value"] = hide_password(env["value"])
    return out
