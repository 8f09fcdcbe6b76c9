# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The values of the Secrets a deploy generates once per environment: read back from the namespace when they exist,
made on the first deploy. Rendering them back unchanged is what makes a later run change nothing."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64

from ...module_utils.generated_secrets import make_values, owned


def generated_values(kube, namespace, specs):
    """{Secret name: values} for every Secret the specs own (one GET each)."""
    out = {}
    for spec in specs:
        for entry in owned(spec):
            live = kube.get({"apiVersion": "v1", "kind": "Secret",
                             "metadata": {"name": entry["name"], "namespace": namespace}}) or {}
            existing = dict((k, base64.b64decode(v).decode("utf-8")) for k, v in (live.get("data") or {}).items())
            out[entry["name"]] = make_values(entry, existing)
    return out
