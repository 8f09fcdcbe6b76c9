# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Has anything changed since the last release, without writing: O(kinds) metadata-only lists.

A release whose rendered objects hash as recorded, and whose live objects carry the same write history as recorded
(uid, generation, and who last wrote which part, outside the status and scale subresources that controllers and
autoscalers own), is left untouched. Anything else - an object deleted or edited by hand - is drift: the release is
applied again and the run says what drifted.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json

from ..kube.parallel import pmap

MANAGED_BY = "app.kubernetes.io/managed-by=qi.convergence"
CONTROLLER_SUBRESOURCES = ("status", "scale")


def object_hash(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:32]


def object_key(api_version, kind, meta):
    return "%s|%s|%s|%s" % (api_version, kind, meta.get("namespace") or "", meta["name"])


def signature(meta):
    """Who wrote the object, and when, outside what controllers own; changes with any hand edit."""
    writes = sorted("%s/%s/%s@%s" % (m.get("manager"), m.get("operation"), m.get("subresource") or "", m.get("time"))
                    for m in meta.get("managedFields") or []
                    if (m.get("subresource") or "") not in CONTROLLER_SUBRESOURCES)
    return "%s:%s:%s" % (meta.get("uid"), meta.get("generation"), ";".join(writes))


def live_signatures(kube, namespace, kinds, whole_kinds=(), whole=None):
    """{object key: signature} of our objects of these (apiVersion, kinds) in the namespace: a list per kind.

    The kinds in whole_kinds are listed whole (status included) into the dict `whole`, by key: the same one list
    answers "unchanged?" and "still healthy?"."""
    kinds = sorted(set(kinds))
    lists = pmap(lambda ak: kube.list(ak[0], ak[1], namespace, MANAGED_BY, metadata_only=ak[1] not in whole_kinds),
                 kinds)
    out = {}
    for (api_version, kind), items in zip(kinds, lists):
        for item in items:
            meta = item.get("metadata", item)
            key = object_key(api_version, kind, dict(meta, namespace=meta.get("namespace") or namespace))
            out[key] = signature(meta)
            if kind in whole_kinds and whole is not None:
                whole[key] = item
    return out


def trackable(objects):
    """Only objects carrying our managed-by label can be found again by one list per kind."""
    return all((o["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "qi.convergence"
               for o in objects)


def drifted(keys_labels, recorded, live):
    """[(label, what)] for the objects whose live write history differs from the recorded one."""
    out = []
    for k, lab in keys_labels:
        if k not in live:
            out.append((lab, "deleted"))
        elif live[k] != recorded.get(k):
            out.append((lab, "changed outside this release"))
    return out
