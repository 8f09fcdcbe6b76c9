# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rolling a StatefulSet back from a revision that never became ready.

Putting the old template back is not enough: the StatefulSet controller waits for the broken pod to become ready
before it replaces it, which it never does (Kubernetes documents this as the forced-rollback case: "you must also
delete any Pods that StatefulSet had already attempted to run with the bad configuration"). So the failed
revision is read before the rollback and its pods are deleted after it; the controller recreates them from the
template that was put back. Their volume claims stay: the data is not touched."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from .workload_status import pod_selector


def _template(obj):
    return (obj.get("spec") or {}).get("template")


def failed_revisions(kube, applied, previous):
    """{(namespace, name): live object} of the StatefulSets this run gave a new template (applied against the
    previous revision's objects), read before the rollback: its status names the failed update revision."""
    before = dict(((o["kind"], o["metadata"]["name"]), _template(o)) for o in previous)
    out = {}
    for obj in applied:
        name = obj["metadata"]["name"]
        if obj["kind"] != "StatefulSet" or before.get(("StatefulSet", name)) in (None, _template(obj)):
            continue
        live = kube.get(obj)
        if ((live or {}).get("status") or {}).get("updateRevision"):
            out[(obj["metadata"].get("namespace"), name)] = live
    return out


def delete_failed_pods(kube, revisions):
    """Delete the pods of each failed revision once the StatefulSet's template was put back; their names."""
    deleted = []
    for (namespace, _name), live in sorted(revisions.items()):
        for pod in kube.list("v1", "Pod", namespace, pod_selector(live)):
            kube.delete("v1", "Pod", pod["metadata"]["name"], namespace)
            deleted.append(pod["metadata"]["name"])
    return deleted
