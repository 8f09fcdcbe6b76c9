# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets made once per environment (a database's admin account): their values, and their objects and container
references for render(). The release reads an existing Secret back and passes its values, so a later run renders
the same object and changes nothing; only the first deploy makes a password."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import secrets

from .errors import QiError

GENERATED = "qi-convergence.io/generated"


def make_values(entry, existing=None):
    """The Secret's values: those it has when it exists (kept as they are), its fixed keys and a new random value
    (hex, safe in a URL's user:password@ part) for each key still missing."""
    values = dict(entry.get("values") or {}, **(existing or {}))
    for key in entry.get("generate") or []:
        values.setdefault(key, secrets.token_hex(20))
    return values


def owned(spec):
    return [e for e in spec["deploy"].get("generated_secrets") or [] if e.get("owned")]


def objects_and_refs(spec, generated, ns, labels):
    """(Secret objects the spec owns, env references of every Secret it reads), the references first in the
    container's list so that $(VAR)s after them expand. generated: {secret name: values}."""
    objs, refs = [], []
    for entry in spec["deploy"].get("generated_secrets") or []:
        if entry.get("owned"):
            values = (generated or {}).get(entry["name"])
            if values is None:
                raise QiError("Secret %s is generated when it is first deployed; render it through "
                              "qi.convergence.k8s_release, which reads it back or makes it" % entry["name"],
                              key="deploy.generated_secrets")
            objs.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                         "metadata": {"name": entry["name"], "namespace": ns, "labels": dict(labels),
                                      "annotations": {GENERATED: "once per namespace, kept on later deploys"}},
                         "data": dict((k, base64.b64encode(str(v).encode("utf-8")).decode("ascii"))
                                      for k, v in sorted(values.items()))})
        refs += [{"name": var, "valueFrom": {"secretKeyRef": {"name": entry["name"], "key": key}}}
                 for var, key in sorted(entry["env"].items())]
    return objs, refs
