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

from .drift import drifted, live_signatures, object_hash, object_key, trackable
from ...module_utils.errors import QiError
from ..kube.client import ApiError, applied_stamp, comparable
from ...module_utils.manifests import INITIAL_REPLICAS, mask
from ..kube.parallel import pmap
from .pod_failures import PULL_RETRIES
from .lock import ReleaseLocks
from .rollout import (
    RolloutFailed, status_of, wait_all, wait_deployments)
from .smoke_test import smoke_failure

RELEASE_LABEL = "qi-convergence.io/release"
RELEASE_PART_LABEL = "qi-convergence.io/release-part"
CURRENT_LABEL = "qi-convergence.io/current"
PARTS_ANNOTATION = "qi-convergence.io/parts"
RECORD_TYPE = "qi-convergence.io/release.v1"
INITIAL_MANAGER = "qi.convergence-initial-replicas"
CURRENT_MANAGER = "qi.convergence-history"
# Base64 characters per record Secret: well under the 1 MiB object limit with room for metadata.
PART_SIZE = 700 * 1024


def key(obj):
    return object_key(obj["apiVersion"], obj["kind"], obj["metadata"])


def label(obj):
    return "%s/%s" % (obj["kind"], obj["metadata"]["name"])


def _canonical(value):
    return json.dumps(value, sort_keys=True, default=str)


class Histories:
    """The recorded revisions of the releases of one namespace.

    Each revision is a Secret NAME.vN (a release may hold Secret objects) with the objects, the image and our field
    manager's stamp of every object after the apply, gzipped; one too big for a Secret is split over NAME.vN.pK.
    Listing reads metadata only; the bodies read are the current revisions' (one request, by label) and a rollback
    target's."""

    def __init__(self, kube, namespace):
        self.kube, self.namespace = kube, namespace
        self.revisions, self.records = {}, {}
        for meta in kube.list("v1", "Secret", namespace, RELEASE_LABEL, metadata_only=True):
            meta = meta.get("metadata", meta)
            name = meta["labels"][RELEASE_LABEL]
            self.revisions.setdefault(name, []).append(_revision_of(meta["name"]))
        for revs in self.revisions.values():
            revs.sort()
        for secret in kube.list("v1", "Secret", namespace, "%s,%s=true" % (RELEASE_LABEL, CURRENT_LABEL)):
            record = self._decode(secret)
            name = secret["metadata"]["labels"][RELEASE_LABEL]
            if record["revision"] == self.revisions[name][-1]:
                self.records[(name, record["revision"])] = record

    def _decode(self, secret):
        blob = secret["data"]["release"]
        parts = int((secret["metadata"].get("annotations") or {}).get(PARTS_ANNOTATION, "1"))
        for k in range(1, parts):
            part = self.kube.get({"apiVersion": "v1", "kind": "Secret", "metadata": {
                "name": "%s.p%d" % (secret["metadata"]["name"], k), "namespace": self.namespace}})
            if part is None:
                raise QiError("revision record %s is missing its part %d" % (secret["metadata"]["name"], k))
            blob += part["data"]["release"]
        return json.loads(gzip.decompress(base64.b64decode(blob)).decode("utf-8"))

    def _record(self, name, revision):
        if (name, revision) not in self.records:
            secret = self.kube.get({"apiVersion": "v1", "kind": "Secret",
                                    "metadata": {"name": "%s.v%d" % (name, revision), "namespace": self.namespace}})
            if secret is None:
                raise QiError("release %s: revision record %s.v%d is gone" % (name, name, revision))
            self.records[(name, revision)] = self._decode(secret)
        return self.records[(name, revision)]

    def current(self, name):
        revs = self.revisions.get(name)
        return self._record(name, revs[-1]) if revs else None

    def get(self, name, revision):
        revs = self.revisions.get(name, [])
        if revision == 0:
            if len(revs) < 2:
                raise QiError("release %s has no previous revision to roll back to" % name)
            return self._record(name, revs[-2])
        if revision not in revs:
            raise QiError("release %s has no revision %s; it has %s" % (
                name, revision, ", ".join(str(r) for r in revs) or "none"))
        return self._record(name, revision)

    def _secret(self, name, secret_name, chunk, extra_labels=None, annotations=None):
        labels = dict({RELEASE_LABEL: name} if extra_labels is None else extra_labels)
        meta = {"name": secret_name, "namespace": self.namespace, "labels": labels}
        if annotations:
            meta["annotations"] = annotations
        return {"apiVersion": "v1", "kind": "Secret", "type": RECORD_TYPE, "metadata": meta, "data": {"release": chunk}}

    def save(self, name, record, new=False):
        """Write a revision record; a new one is created (never overwritten: a second writer gets a clear error)."""
        blob = base64.b64encode(gzip.compress(_canonical(record).encode("utf-8"))).decode("ascii")
        chunks = [blob[i:i + PART_SIZE] for i in range(0, len(blob), PART_SIZE)] or [""]
        base = "%s.v%d" % (name, record["revision"])
        labels = {RELEASE_LABEL: name, CURRENT_LABEL: "true"}
        main = self._secret(name, base, chunks[0], labels, {PARTS_ANNOTATION: str(len(chunks))})
        parts = [self._secret(name, "%s.p%d" % (base, k), c, {RELEASE_PART_LABEL: name})
                 for k, c in enumerate(chunks) if k > 0]
        if not new:
            for obj in parts + [main]:
                self.kube.apply(obj)
            return
        for obj in parts + [main]:
            try:
                self.kube.create(obj)
            except ApiError as e:
                if e.status == 409:
                    raise QiError("revision %d of release %s was written by another run meanwhile" % (
                        record["revision"], name))
                raise QiError("cannot record revision %d of release %s: %s" % (record["revision"], name, e.message))

    def _delete_revision(self, name, revision):
        record_name = "%s.v%d" % (name, revision)
        self.kube.delete("v1", "Secret", record_name, self.namespace)
        k = 1
        while self.kube.delete("v1", "Secret", "%s.p%d" % (record_name, k), self.namespace):
            k += 1

    def add(self, name, objects, image, stamps, keep, note="", extra=None):
        revs = self.revisions.setdefault(name, [])
        previous = revs[-1] if revs else None
        record = dict(extra or {}, revision=(previous or 0) + 1, image=image, objects=objects, stamps=stamps, note=note,
                      time=datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z")
        self.save(name, record, new=True)
        if previous is not None:
            # Only the newest record carries the "current" label that the next run reads bodies by.
            self.kube.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {
                "name": "%s.v%d" % (name, previous), "namespace": self.namespace,
                "labels": {RELEASE_LABEL: name, CURRENT_LABEL: "false"}}}, field_manager=CURRENT_MANAGER)
        revs.append(record["revision"])
        self.records[(name, record["revision"])] = record
        while keep > 0 and len(revs) > keep:
            self._delete_revision(name, revs.pop(0))
        return record["revision"]

    def remove(self, name):
        for revision in self.revisions.pop(name, []):
            self._delete_revision(name, revision)


def _revision_of(secret_name):
    try:
        return int(secret_name.rsplit(".v", 1)[1])
    except (IndexError, ValueError):
        raise QiError("unexpected revision record name %s" % secret_name)


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
        self.hashes = dict((key(o), object_hash(o)) for o in self.objects)
        # unchanged: nothing to apply (hashes and live write history as recorded); drift: what was found changed.
        self.unchanged, self.drift = False, []

    def tracking(self, signatures):
        """What the next run compares against: the rendered hashes, the live write history, the Service."""
        return {"hashes": self.hashes, "signatures": dict((k, signatures.get(k)) for k in self.hashes),
                "service": self.service()}

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
        if self.unchanged:
            return (self.current or {}).get("service")
        svc = next((self.responses.get(key(o)) for o in self.objects if o["kind"] == "Service"), None)
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
        if self.drift:
            out["drifted"] = ["%s %s" % d for d in self.drift]
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


# Apply order: what pods mount, reference or are isolated by exists before the workloads; what points at a
# workload (autoscaler, disruption budget, ingress) comes after it. Within a phase, objects go concurrently.
_PHASES = {"ServiceAccount": 0, "Secret": 0, "ConfigMap": 0, "PersistentVolumeClaim": 0, "Role": 0,
           "RoleBinding": 0, "NetworkPolicy": 0, "HorizontalPodAutoscaler": 2, "PodDisruptionBudget": 2,
           "Ingress": 2}


def apply_phases(objects):
    """Indexes of objects grouped by apply phase, in order (pure)."""
    ranks = [_PHASES.get(o.get("kind"), 1) for o in objects]
    return [[i for i, r in enumerate(ranks) if r == rank] for rank in sorted(set(ranks))]


def _apply_all(kube, releases, dry_run, want_diff, namespace_missing=False):
    """Apply every object of every release concurrently; note per object whether the server changed it.

    When an apply is refused part-way, what this run applied is put back as it was and the error raised."""
    pairs = [(r, o) for r in releases for o in r.objects]
    if namespace_missing:
        # Check mode on a namespace that does not exist yet: the server cannot dry-run into it; all would be new.
        for rel, obj in pairs:
            rel.responses[key(obj)] = obj
            rel.changed_objects.append(label(obj))
            if want_diff:
                rel.diff.append({"before_header": label(obj), "after_header": label(obj), "before": {},
                                 "after": mask(obj)})
        return
    kube.discover([pair[1] for pair in pairs] + [o for r in releases for o in r.previous])
    befores = pmap(lambda pair: kube.get(pair[1]), pairs) if want_diff else [None] * len(pairs)
    if not dry_run:
        for rel in releases:
            _hand_over_replicas(kube, rel)
    responses = [None] * len(pairs)
    for phase in apply_phases([pair[1] for pair in pairs]):
        for i, response in zip(phase, pmap(lambda i: _attempt(kube.apply, pairs[i][1], dry_run=dry_run), phase)):
            responses[i] = response
        if any(isinstance(responses[i], Exception) for i in phase):
            break
    refused = [(pair, r) for pair, r in zip(pairs, responses) if isinstance(r, Exception)]
    if refused:
        if not dry_run:
            _undo_applies(kube, [pair for pair, r in zip(pairs, responses)
                                 if r is not None and not isinstance(r, Exception)])
        raise QiError("%s%s" % (refused[0][1], "" if dry_run else
                                "\nNothing of this run was left applied: the objects applied before the refusal "
                                "were put back as they were."))
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


def _attempt(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except QiError as e:
        return e


def _undo_applies(kube, applied):
    """Put back what a refused run applied: the release's current revision's objects, or none for a new one."""
    restore, remove = [], []
    for rel, obj in applied:
        previous = dict((key(o), o) for o in (rel.current or {}).get("objects") or [])
        if key(obj) in previous:
            restore.append(previous[key(obj)])
        else:
            remove.append(obj)
    pmap(lambda o: _attempt(kube.apply, o), restore)
    _delete(kube, remove)


def _hand_over_replicas(kube, rel):
    """Turning the autoscaler on drops spec.replicas from what we apply; kept by another field manager first,
    the live count stays instead of falling back to the default of 1."""
    previous = dict((key(o), o) for o in rel.previous)
    for obj in rel.objects:
        before = previous.get(key(obj))
        if obj["kind"] != "Deployment" or "replicas" in obj["spec"] or not before or "replicas" not in before["spec"]:
            continue
        live = kube.get(obj)
        if live is not None:
            kube.apply({"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                        "metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"]},
                        "spec": {"replicas": live["spec"].get("replicas", 1)}}, field_manager=INITIAL_MANAGER)


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


def _recover(kube, p, histories, rel, failure, progress=None):
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
        wait_deployments(kube, [o for o in rel.current["objects"] if o["kind"] == "Deployment"], p["wait_timeout"],
                         progress)
    except (RolloutFailed, QiError) as e:
        return msg + "\nRolling back to revision %d failed too: %s" % (rel.current["revision"], e)
    rel.current["stamps"] = stamps
    histories.save(rel.name, rel.current)
    return msg + "\nRolled back to revision %d (%s)." % (rel.current["revision"], rel.current.get("image"))


def _skip_unchanged(kube, namespace, releases):
    """Mark the releases with nothing to do (no write at all); note the drift of the others; return the unchanged
    releases' Deployments that are not all available, as read by the same lists: {release: [deployment]}."""
    candidates = [r for r in releases if r.current and r.current.get("signatures") and not r.note and
                  r.current.get("hashes") == r.hashes and r.current.get("image") == r.image and trackable(r.objects)]
    if not candidates:
        return {}
    whole = {}
    live = live_signatures(kube, namespace, [(o["apiVersion"], o["kind"]) for r in candidates for o in r.objects],
                           ("Deployment",), whole)
    degraded = {}
    for rel in candidates:
        rel.drift = drifted([(key(o), label(o)) for o in rel.objects], rel.current["signatures"], live)
        rel.unchanged = not rel.drift
        for obj in rel.objects if rel.unchanged else []:
            dep = whole.get(key(obj)) if obj["kind"] == "Deployment" else None
            if dep is not None and not _available(dep):
                degraded.setdefault(rel.name, []).append(obj)
    return degraded


def _available(dep):
    try:
        return status_of(dep)[0]
    except RolloutFailed:
        return False


def _check_unchanged(kube, p, releases, degraded, progress):
    """Nothing changed, yet a Deployment is not available: wait for it as a rollout would, and fail naming why."""
    if progress:
        progress("nothing changed, but not every Deployment is available: %s" % ", ".join(sorted(degraded)))
    failures = wait_all(kube, degraded, p["wait_timeout"], progress, p.get("pull_retries", PULL_RETRIES))
    for rel in releases:
        if rel.name in failures:
            rel.error = ("%s: nothing changed, but it is not healthy (nothing was rolled back: this run applied "
                         "nothing): %s" % (rel.name, failures[rel.name]))


def run_releases(kube, p, items, histories, check_mode=False, want_diff=False, progress=None, namespace_missing=False):
    """Roll out many releases in one namespace; return (results, failed messages, releases)."""
    releases = [Release(item, histories) for item in items]
    degraded = {} if namespace_missing else _skip_unchanged(kube, p["namespace"], releases)
    if degraded and p["wait"] and not check_mode:
        _check_unchanged(kube, p, releases, degraded, progress)
    todo = [r for r in releases if not r.unchanged]
    for rel in todo:
        if rel.drift and progress:
            progress("%s: drift found, applying again: %s" % (rel.name, ", ".join("%s %s" % d for d in rel.drift)))
    revisions = {}
    if check_mode:
        _apply_all(kube, todo, True, want_diff, namespace_missing)
    elif todo:
        revisions = _roll_out(kube, p, todo, histories, progress, want_diff)
    results = [rel.result(revisions.get(rel.name, rel.current["revision"] if rel.current else 0), p.get("public_host"))
               for rel in releases]
    return results, [r.error for r in releases if r.error], releases


def _roll_out(kube, p, releases, histories, progress, want_diff):
    """Lock, apply, wait, roll back what failed, record the rest; {release: new revision}."""
    locks = ReleaseLocks(kube, p["namespace"], progress=progress)
    locks.acquire([r.name for r in releases])
    try:
        _apply_all(kube, releases, False, want_diff)
        changed = [r for r in releases if r.changed]
        _delete(kube, [o for r in changed for o in r.removed])
        failures = wait_all(kube, dict((r.name, [o for o in r.objects if o["kind"] == "Deployment"]) for r in changed),
                            p["wait_timeout"], progress, p.get("pull_retries", PULL_RETRIES),
                            on_poll=locks.renew) if p["wait"] else {}
        for rel in changed:
            if rel.name not in failures and p["wait"]:
                failure = next(filter(None, (smoke_failure(kube, o, progress) for o in rel.objects
                                             if o["kind"] == "Deployment")), None)
                if failure:
                    failures[rel.name] = failure
            if rel.name in failures:
                if progress:
                    progress("%s: rollout failed, rolling back" % rel.name)
                rel.error = _recover(kube, p, histories, rel, failures[rel.name], progress)
        good = [r for r in releases if not r.error]
        tracked = [r for r in good if trackable(r.objects)]
        signatures = live_signatures(kube, p["namespace"], [(o["apiVersion"], o["kind"]) for r in tracked
                                                            for o in r.objects]) if tracked else {}
        revisions = dict(pmap(lambda r: (r.name, histories.add(
            r.name, r.objects, r.image, r.stamps, p["history"], r.note or ("drift repaired" if r.drift else ""),
            r.tracking(signatures))), [r for r in good if r.changed]))
        # Nothing of ours changed but the record lacks (or has stale) tracking: refresh it, so that the next run
        # can tell "unchanged" without writing.
        for rel in [r for r in good if not r.changed and r.current]:
            tracking = rel.tracking(signatures)
            if any(rel.current.get(k) != v for k, v in tracking.items()):
                rel.current.update(tracking, stamps=rel.stamps)
                histories.save(rel.name, rel.current)
    finally:
        locks.release()
    return revisions


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
