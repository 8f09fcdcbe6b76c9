# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The revisions of releases, recorded in Secrets of the namespace, and one app's release during a run."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import gzip
import json

from ...module_utils.errors import QiError
from ..kube.client import ApiError
from .drift import object_hash, object_key

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
        # A component of a system: the release applies wave by wave, all or nothing (None: an app on its own).
        self.wave = item.get("wave")
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
