# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying a run's objects: in phases, concurrently, put back as they were when the server refuses one."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ...module_utils.errors import QiError
from ...module_utils.manifests import INITIAL_REPLICAS, mask
from ...module_utils.workloads import TEMPLATE_HASH
from ..kube.client import applied_stamp, comparable
from ..kube.parallel import pmap
from .revisions import INITIAL_MANAGER, key, label

# Apply order: what pods mount, reference or are isolated by exists before the workloads; what points at a
# workload (autoscaler, disruption budget, ingress) comes after it. Within a phase, objects go concurrently.
_PHASES = {"ServiceAccount": 0, "Secret": 0, "ConfigMap": 0, "PersistentVolumeClaim": 0, "Role": 0,
           "RoleBinding": 0, "NetworkPolicy": 0, "HorizontalPodAutoscaler": 2, "PodDisruptionBudget": 2,
           "Ingress": 2}
# The control plane deletes a token Secret whose ServiceAccount it cannot find yet: it goes after the accounts.
_TOKEN_PHASE = 0.5


def _phase(obj):
    if obj.get("kind") == "Secret" and obj.get("type") == "kubernetes.io/service-account-token":
        return _TOKEN_PHASE
    return _PHASES.get(obj.get("kind"), 1)


def apply_phases(objects):
    """Indexes of objects grouped by apply phase, in order (pure)."""
    ranks = [_phase(o) for o in objects]
    return [[i for i, r in enumerate(ranks) if r == rank] for rank in sorted(set(ranks))]


def _assume_all_new(releases, want_diff):
    """Check mode on a namespace that does not exist yet: the server cannot dry-run into it; all would be new."""
    for rel in releases:
        for obj in rel.objects:
            rel.responses[key(obj)] = obj
            rel.changed_objects.append(label(obj))
            if want_diff:
                rel.diff.append({"before_header": label(obj), "after_header": label(obj), "before": {},
                                 "after": mask(obj)})


def _apply_in_phases(kube, objects, dry_run):
    """Server-side apply of objects, phase by phase, each phase concurrently; stop after a phase with a refusal.
    The response or the error of each object, None for one not reached."""
    responses = [None] * len(objects)
    for phase in apply_phases(objects):
        for i, response in zip(phase, pmap(lambda i: _attempt(kube.apply, objects[i], dry_run=dry_run), phase)):
            responses[i] = response
        if any(isinstance(responses[i], Exception) for i in phase):
            break
    return responses


def _refused(kube, pairs, responses, dry_run):
    refused = [r for r in responses if isinstance(r, Exception)]
    if not refused:
        return
    if not dry_run:
        _undo_applies(kube, [pair for pair, r in zip(pairs, responses) if r is not None and not isinstance(r, Exception)])
    raise QiError("%s%s" % (refused[0], "" if dry_run else
                            "\nNothing of this run was left applied: the objects applied before the refusal "
                            "were put back as they were."))


def _note_outcome(kube, rel, obj, before, after, dry_run, want_diff):
    """Whether the server changed obj, by our field manager's stamp against the recorded one."""
    k = key(obj)
    recorded = (rel.current or {}).get("stamps") or {}
    rel.responses[k] = after
    rel.stamps[k] = applied_stamp(after)
    if rel.stamps[k] == recorded.get(k):
        return
    rel.changed_objects.append(label(obj))
    if want_diff:
        rel.diff.append({"before_header": label(obj), "after_header": label(obj),
                         "before": mask(comparable(before)) or {}, "after": mask(comparable(after))})
    if k not in recorded:
        _set_initial_replicas(kube, obj, after, dry_run)


def apply_all(kube, releases, dry_run, want_diff, namespace_missing=False):
    """Apply every object of every release concurrently; note per object whether the server changed it.

    When an apply is refused part-way, what this run applied is put back as it was and the error raised."""
    if namespace_missing:
        _assume_all_new(releases, want_diff)
        return
    pairs = [(r, o) for r in releases for o in r.objects]
    kube.discover([pair[1] for pair in pairs] + [o for r in releases for o in r.previous])
    befores = pmap(lambda pair: kube.get(pair[1]), pairs) if want_diff else [None] * len(pairs)
    if not dry_run:
        recreate_changed_jobs(kube, [pair[1] for pair in pairs])
        for rel in releases:
            _hand_over_replicas(kube, rel)
    responses = _apply_in_phases(kube, [pair[1] for pair in pairs], dry_run)
    _refused(kube, pairs, responses, dry_run)
    for (rel, obj), before, after in zip(pairs, befores, responses):
        _note_outcome(kube, rel, obj, before, after, dry_run, want_diff)


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
    delete(kube, remove)


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


def delete(kube, objects):
    pmap(lambda o: kube.delete(o["apiVersion"], o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")),
         list(reversed(objects)))


def _template_hash(obj):
    return ((obj or {}).get("metadata", {}).get("annotations") or {}).get(TEMPLATE_HASH)


def recreate_changed_jobs(kube, objects, timeout=60):
    """Delete the Jobs whose pod template changed (it cannot be changed in place), and wait until they are gone, so
    that applying them creates them anew and they run again; an unchanged Job is left alone (it does not re-run)."""
    stale = []
    for obj in [o for o in objects if o["kind"] == "Job"]:
        live = kube.get(obj)
        if live is not None and _template_hash(live) != _template_hash(obj):
            stale.append(obj)
    delete(kube, stale)
    deadline = time.time() + timeout
    while any(kube.get(o) is not None for o in stale):
        if time.time() > deadline:
            raise QiError("Job %s was deleted to run again but is still there after %d s"
                          % (", ".join(o["metadata"]["name"] for o in stale), timeout))
        time.sleep(0.5)
    return stale
