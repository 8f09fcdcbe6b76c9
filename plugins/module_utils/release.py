# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Releases: all objects of each app applied together, recorded as a revision, pruned, waited for,
and rolled back to the previous revision when the rollout fails.

Many releases go through one client in one call: their objects are applied concurrently, and an
unchanged object costs one request. Whether anything changed is read from the server itself: a no-op
server-side apply leaves our field manager's timestamp as it was, which the revision record remembers.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import gzip
import json

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.kube import applied_stamp, comparable
from ansible_collections.qi.convergence.plugins.module_utils.manifests import INITIAL_REPLICAS
from ansible_collections.qi.convergence.plugins.module_utils.parallel import pmap
from ansible_collections.qi.convergence.plugins.module_utils.rollout import RolloutFailed, wait_all, wait_deployments

RELEASE_LABEL = "qi-convergence.io/release"
RECORD_TYPE = "qi-convergence.io/release.v1"
INITIAL_MANAGER = "qi.convergence-initial-replicas"


def key(obj):
    m = obj["metadata"]
    return "%s|%s|%s|%s" % (obj["apiVersion"], obj["kind"], m.get("namespace") or "", m["name"])


def label(obj):
    return "%s/%s" % (obj["kind"], obj["metadata"]["name"])


def _canonical(value):
    return json.dumps(value, sort_keys=True, default=str)


def mask(obj):
    """A copy safe to show: Secret values hidden."""
    if obj and obj.get("kind") == "Secret":
        obj = dict(obj)
        for field in ("data", "stringData"):
            if obj.get(field):
                obj[field] = dict((k, "<hidden>") for k in obj[field])
    return obj


class Histories:
    """The recorded revisions of the releases of one namespace, read with one request.

    Each revision is a Secret NAME.vN (a release may hold Secret objects) with the objects, the image
    and our field manager's stamp of every object after the apply."""

    def __init__(self, kube, namespace):
        self.kube, self.namespace = kube, namespace
        self.records = {}
        for secret in kube.list("v1", "Secret", namespace, RELEASE_LABEL):
            name = secret["metadata"]["labels"][RELEASE_LABEL]
            raw = base64.b64decode(secret["data"]["release"])
            self.records.setdefault(name, []).append(json.loads(gzip.decompress(raw).decode("utf-8")))
        for recs in self.records.values():
            recs.sort(key=lambda r: r["revision"])

    def current(self, name):
        recs = self.records.get(name)
        return recs[-1] if recs else None

    def get(self, name, revision):
        recs = self.records.get(name, [])
        if revision == 0:
            if len(recs) < 2:
                raise QiError("release %s has no previous revision to roll back to" % name)
            return recs[-2]
        for r in recs:
            if r["revision"] == revision:
                return r
        raise QiError("release %s has no revision %s; it has %s" % (
            name, revision, ", ".join(str(r["revision"]) for r in recs) or "none"))

    def save(self, name, record):
        blob = base64.b64encode(gzip.compress(_canonical(record).encode("utf-8"))).decode("ascii")
        self.kube.apply({"apiVersion": "v1", "kind": "Secret", "type": RECORD_TYPE,
                         "metadata": {"name": "%s.v%d" % (name, record["revision"]), "namespace": self.namespace,
                                      "labels": {RELEASE_LABEL: name}},
                         "data": {"release": blob}})

    def add(self, name, objects, image, stamps, keep, note=""):
        current = self.current(name)
        record = {"revision": (current["revision"] if current else 0) + 1, "image": image, "objects": objects,
                  "stamps": stamps, "note": note,
                  "time": datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z"}
        self.save(name, record)
        recs = self.records.setdefault(name, [])
        recs.append(record)
        while keep > 0 and len(recs) > keep:
            old = recs.pop(0)
            self.kube.delete("v1", "Secret", "%s.v%d" % (name, old["revision"]), self.namespace)
        return record["revision"]

    def remove(self, name):
        for r in self.records.pop(name, []):
            self.kube.delete("v1", "Secret", "%s.v%d" % (name, r["revision"]), self.namespace)


class Release:
    """One app's release during a run: what to apply and what came of it."""

    def __init__(self, item, histories):
        self.name = item["release"]
        self.current = histories.current(self.name)
        self.objects, self.image, self.note = item["objects"], item.get("image"), ""
        if item.get("revision") is not None:
            target = histories.get(self.name, item["revision"])
            self.objects, self.image = target["objects"], target["image"]
            self.note = "rollback to %d" % target["revision"]
        self.previous = self.current["objects"] if self.current else []
        self.stamps, self.changed_objects, self.diff = {}, [], []
        self.responses = {}
        self.error = None

    @property
    def removed(self):
        keep = set(key(o) for o in self.objects)
        return [o for o in self.previous if key(o) not in keep]

    @property
    def changed(self):
        cur = self.current or {}
        return bool(self.changed_objects or self.removed or cur.get("image") != self.image or
                    _canonical(cur.get("objects")) != _canonical(self.objects))

    def service(self):
        svc = next((self.responses[key(o)] for o in self.objects if o["kind"] == "Service"), None)
        if svc is None:
            return None
        port = svc["spec"]["ports"][0]
        return {"name": svc["metadata"]["name"], "namespace": svc["metadata"]["namespace"],
                "type": svc["spec"]["type"], "port": port["port"], "node_port": port.get("nodePort")}

    def result(self, revision, public_host=None):
        svc = self.service()
        out = {"release": self.name, "changed": self.changed, "revision": revision, "image": self.image,
               "applied": self.changed_objects, "pruned": [label(o) for o in self.removed],
               "service": svc, "url": _url(svc, public_host)}
        if self.error:
            out["failed"], out["msg"] = True, self.error
        return out


def _url(svc, public_host):
    """Where the app answers: the node port on the public host, else the in-cluster name."""
    if not svc:
        return None
    if svc.get("node_port") and public_host:
        return "http://%s:%d/" % (public_host, svc["node_port"])
    return "http://%s.%s.svc:%d/" % (svc["name"], svc["namespace"], svc["port"])


def _apply_all(kube, releases, dry_run, want_diff):
    """Apply every object of every release concurrently; note per object whether the server changed it."""
    pairs = [(r, o) for r in releases for o in r.objects]
    kube.discover([pair[1] for pair in pairs] + [o for r in releases for o in r.previous])
    befores = pmap(lambda pair: kube.get(pair[1]), pairs) if want_diff else [None] * len(pairs)
    responses = pmap(lambda pair: kube.apply(pair[1], dry_run=dry_run), pairs)
    for (rel, obj), before, after in zip(pairs, befores, responses):
        k = key(obj)
        rel.responses[k] = after
        rel.stamps[k] = applied_stamp(after)
        if rel.stamps[k] != ((rel.current or {}).get("stamps") or {}).get(k):
            rel.changed_objects.append(label(obj))
            if want_diff:
                rel.diff.append({"before_header": label(obj), "after_header": label(obj),
                                 "before": mask(comparable(before)) or {}, "after": mask(comparable(after))})
            if rel.current is None or k not in (rel.current.get("stamps") or {}):
                _set_initial_replicas(kube, obj, after, dry_run)


def _set_initial_replicas(kube, obj, applied, dry_run):
    """A new autoscaled Deployment starts at the autoscaler's minimum, under a field manager of its own
    that is never applied again, so the autoscaler can take the field over."""
    count = (obj["metadata"].get("annotations") or {}).get(INITIAL_REPLICAS)
    if dry_run or obj["kind"] != "Deployment" or not count or applied["metadata"].get("generation") != 1:
        return
    kube.apply({"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                "metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"]},
                "spec": {"replicas": int(count)}}, field_manager=INITIAL_MANAGER)


def _delete(kube, objects):
    pmap(lambda o: kube.delete(o["apiVersion"], o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")),
         list(reversed(objects)))


def _recover(kube, p, histories, rel, failure):
    """Put a release back as it was before this run; return the error message."""
    msg = "rollout of %s failed: %s" % (rel.name, failure)
    if not p["rollback_on_failure"]:
        return msg + "\n(rollback_on_failure is off: the failed revision is left in place)"
    if rel.current is None:
        _delete(kube, rel.objects)
        return msg + "\nThis was the first revision: its objects were removed."
    try:
        stamps = {}
        for obj in rel.current["objects"]:
            stamps[key(obj)] = applied_stamp(kube.apply(obj))
        _delete(kube, [o for o in rel.objects if key(o) not in stamps])
        wait_deployments(kube, [o for o in rel.current["objects"] if o["kind"] == "Deployment"], p["wait_timeout"])
    except (RolloutFailed, QiError) as e:
        return msg + "\nRolling back to revision %d failed too: %s" % (rel.current["revision"], e)
    rel.current["stamps"] = stamps
    histories.save(rel.name, rel.current)
    return msg + "\nRolled back to revision %d (%s)." % (rel.current["revision"], rel.current.get("image"))


def run_releases(kube, p, items, histories, check_mode=False, want_diff=False):
    """Roll out many releases in one namespace; return (results, failed messages, releases)."""
    releases = [Release(item, histories) for item in items]
    _apply_all(kube, releases, check_mode, want_diff)
    if check_mode:
        return [r.result(r.current["revision"] if r.current else 0) for r in releases], [], releases
    changed = [r for r in releases if r.changed]
    _delete(kube, [o for r in changed for o in r.removed])
    failures = wait_all(kube, dict((r.name, [o for o in r.objects if o["kind"] == "Deployment"]) for r in changed),
                        p["wait_timeout"]) if p["wait"] else {}
    for rel in changed:
        if rel.name in failures:
            rel.error = _recover(kube, p, histories, rel, failures[rel.name])
    revisions = dict(pmap(lambda r: (r.name, histories.add(r.name, r.objects, r.image, r.stamps, p["history"], r.note)),
                          [r for r in changed if not r.error]))
    results = [rel.result(revisions.get(rel.name, rel.current["revision"] if rel.current else 0), p.get("public_host"))
               for rel in releases]
    return results, [r.error for r in releases if r.error], releases


def remove_releases(histories, names, check_mode=False):
    kube = histories.kube
    results = []
    for name in names:
        current = histories.current(name)
        objects = current["objects"] if current else []
        if current and not check_mode:
            _delete(kube, objects)
            histories.remove(name)
        results.append({"release": name, "changed": current is not None, "revision": 0,
                        "pruned": [label(o) for o in objects]})
    return results
