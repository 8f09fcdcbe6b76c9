# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A release: all objects of one app applied together, recorded as a revision, pruned, waited for,
and rolled back to the previous revision when the rollout fails."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import gzip
import json

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.kube import comparable
from ansible_collections.qi.convergence.plugins.module_utils.manifests import INITIAL_REPLICAS
from ansible_collections.qi.convergence.plugins.module_utils.rollout import RolloutFailed, wait_deployments

RELEASE_LABEL = "qi-convergence.io/release"
RECORD_TYPE = "qi-convergence.io/release.v1"
INITIAL_MANAGER = "qi.convergence-initial-replicas"


def _key(obj):
    return (obj["apiVersion"], obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])


def _label(obj):
    return "%s/%s" % (obj["kind"], obj["metadata"]["name"])


def mask(obj):
    """A copy safe to show: Secret values hidden."""
    if obj and obj.get("kind") == "Secret":
        obj = dict(obj)
        for field in ("data", "stringData"):
            if obj.get(field):
                obj[field] = dict((k, "<hidden>") for k in obj[field])
    return obj


class History:
    """Revisions of a release, kept as Secrets (they may hold Secret objects) named NAME.vN."""

    def __init__(self, kube, release, namespace):
        self.kube, self.release, self.namespace = kube, release, namespace
        self.records = sorted(
            (self._decode(s) for s in kube.list("v1", "Secret", namespace, "%s=%s" % (RELEASE_LABEL, release))),
            key=lambda r: r["revision"])

    @staticmethod
    def _decode(secret):
        raw = base64.b64decode(secret["data"]["release"])
        return json.loads(gzip.decompress(raw).decode("utf-8"))

    def current(self):
        return self.records[-1] if self.records else None

    def get(self, revision):
        for r in self.records:
            if r["revision"] == revision:
                return r
        raise QiError("release %s has no revision %s; it has %s" % (
            self.release, revision, ", ".join(str(r["revision"]) for r in self.records) or "none"))

    def record(self, objects, image, keep, note=""):
        revision = (self.current() or {"revision": 0})["revision"] + 1
        data = {"revision": revision, "image": image, "objects": objects, "note": note,
                "time": datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z"}
        blob = base64.b64encode(gzip.compress(json.dumps(data, sort_keys=True).encode("utf-8"))).decode("ascii")
        self.kube.apply({"apiVersion": "v1", "kind": "Secret", "type": RECORD_TYPE,
                         "metadata": {"name": "%s.v%d" % (self.release, revision), "namespace": self.namespace,
                                      "labels": {RELEASE_LABEL: self.release}},
                         "data": {"release": blob}})
        self.records.append(data)
        for old in self.records[:-keep] if keep > 0 else []:
            self.kube.delete("v1", "Secret", "%s.v%d" % (self.release, old["revision"]), self.namespace)
        self.records = self.records[-keep:] if keep > 0 else self.records
        return revision


def plan(kube, objects):
    """Which objects the server would change: server-side dry run against the live object."""
    changes = []
    for obj in objects:
        live = kube.get(obj)
        after = kube.apply(obj, dry_run=True)
        if comparable(live) != comparable(after):
            changes.append((obj, live, after))
    return changes


def _prune(kube, old_objects, new_objects):
    keep = set(_key(o) for o in new_objects)
    pruned = []
    for obj in old_objects:
        if _key(obj) not in keep and kube.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"],
                                                 obj["metadata"].get("namespace")):
            pruned.append(_label(obj))
    return pruned


def _set_initial_replicas(kube, obj):
    """A new autoscaled Deployment starts at the autoscaler's minimum, under a field manager of its own
    that is never applied again, so the autoscaler can take the field over."""
    count = (obj["metadata"].get("annotations") or {}).get(INITIAL_REPLICAS)
    if obj["kind"] == "Deployment" and count:
        kube.apply({"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                    "metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"]},
                    "spec": {"replicas": int(count)}}, field_manager=INITIAL_MANAGER)


def _rollout(kube, objects, previous_objects, timeout, wait, changes=None):
    """Apply (only what the plan says changed, when given), prune, wait for the Deployments."""
    todo = [(change[0], change[1] is None) for change in changes] if changes is not None else \
        [(o, kube.get(o) is None) for o in objects]
    for obj, created in todo:
        kube.apply(obj)
        if created:
            _set_initial_replicas(kube, obj)
    pruned = _prune(kube, previous_objects, objects)
    if wait:
        wait_deployments(kube, [o for o in objects if o["kind"] == "Deployment"], timeout)
    return pruned


def run_release(kube, p, objects, check_mode=False, want_diff=False):
    """Apply objects as release p['release']; returns the module result."""
    history = History(kube, p["release"], p["namespace"])
    current = history.current()
    note = ""
    if p.get("revision") is not None:
        target = history.get(p["revision"]) if p["revision"] > 0 else (
            history.records[-2] if len(history.records) > 1 else None)
        if target is None:
            raise QiError("release %s has no previous revision to roll back to" % p["release"])
        objects, p["image"], note = target["objects"], target["image"], "rollback to %d" % target["revision"]
    previous_objects = current["objects"] if current else []
    changes = plan(kube, objects)
    removed = set(_key(o) for o in previous_objects) - set(_key(o) for o in objects)
    result = {
        "changed": bool(changes or removed),
        "revision": current["revision"] if current else 0,
        "applied": [_label(change[0]) for change in changes],
        "pruned": [_label(o) for o in previous_objects if _key(o) in removed],
        "image": p.get("image"),
        "objects": objects,
    }
    if want_diff:
        result["diff"] = [{"before_header": _label(o), "after_header": _label(o),
                           "before": mask(comparable(live)) or {}, "after": mask(comparable(after))}
                          for o, live, after in changes]
    if check_mode or not result["changed"]:
        return result
    try:
        _rollout(kube, objects, previous_objects, p["wait_timeout"], p["wait"], changes)
    except RolloutFailed as failure:
        raise QiError(_recover(kube, p, history, current, objects, failure))
    result["revision"] = history.record(objects, p.get("image"), p["history"], note)
    return result


def _recover(kube, p, history, current, objects, failure):
    """Put the release back as it was before this rollout; return the error message."""
    msg = "rollout of %s failed: %s" % (p["release"], failure)
    if not p["rollback_on_failure"]:
        return msg + "\n(rollback_on_failure is off: the failed revision is left in place)"
    if current is None:
        for obj in reversed(objects):
            kube.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))
        return msg + "\nThis was the first revision: its objects were removed."
    try:
        _rollout(kube, current["objects"], objects, p["wait_timeout"], p["wait"])
    except (RolloutFailed, QiError) as e:
        return msg + "\nRolling back to revision %d failed too: %s" % (current["revision"], e)
    return msg + "\nRolled back to revision %d (%s)." % (current["revision"], current.get("image"))


def remove_release(kube, p, check_mode=False):
    history = History(kube, p["release"], p["namespace"])
    current = history.current()
    if current is None:
        return {"changed": False, "revision": 0, "pruned": []}
    result = {"changed": True, "revision": current["revision"], "pruned": [_label(o) for o in current["objects"]]}
    if not check_mode:
        for obj in reversed(current["objects"]):
            kube.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))
        for r in history.records:
            kube.delete("v1", "Secret", "%s.v%d" % (p["release"], r["revision"]), p["namespace"])
    return result
