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

from ...module_utils.errors import QiError
from ..kube.client import applied_stamp
from ..kube.parallel import pmap
from .apply import apply_all, delete, recreate_changed_jobs
from .drift import drifted, live_signatures, trackable
from .lock import ReleaseLocks
from .pod_failures import PULL_RETRIES
from .revisions import Histories, Release, key, label
from .rollout import RolloutFailed, status_of, wait_all, wait_deployments
from .smoke_test import smoke_failure
from .stateful_rollback import delete_failed_pods, failed_revisions
from .workload_status import WAITED

__all__ = ["Histories", "run_releases", "remove_releases"]


def _recover(kube, p, histories, rel, failure, progress=None):
    """Put a release back as it was before this run; return the error message."""
    msg = "rollout of %s failed: %s" % (rel.name, failure)
    if not p["rollback_on_failure"]:
        return msg + "\n(rollback_on_failure is off: the failed revision is left in place)"
    if rel.current is None:
        delete(kube, rel.objects)
        return msg + "\nThis was the first revision: its objects were removed."
    try:
        stamps = {}
        recreate_changed_jobs(kube, rel.current["objects"])
        stuck = failed_revisions(kube, rel.objects, rel.current["objects"])
        for obj in rel.current["objects"]:
            stamps[key(obj)] = applied_stamp(kube.apply(obj))
        delete(kube, [o for o in rel.objects if key(o) not in stamps])
        for pod in delete_failed_pods(kube, stuck):
            _say(progress, "%s: deleted pod %s of the failed revision, to be recreated from revision %d" % (
                rel.name, pod, rel.current["revision"]))
        wait_deployments(kube, [o for o in rel.current["objects"] if o["kind"] in WAITED], p["wait_timeout"],
                         progress)
    except (RolloutFailed, QiError) as e:
        return msg + "\nRolling back to revision %d failed too: %s" % (rel.current["revision"], e)
    rel.current["stamps"] = stamps
    histories.save(rel.name, rel.current)
    return msg + "\nRolled back to revision %d (%s)." % (rel.current["revision"], rel.current.get("image"))


def _say(progress, line):
    if progress:
        progress(line)


def _unchanged_candidate(rel):
    """Recorded with tracking, same hashes and image, not a rollback: the live objects alone can tell."""
    cur = rel.current or {}
    return bool(cur.get("signatures") and not rel.note and cur.get("hashes") == rel.hashes
                and cur.get("image") == rel.image and trackable(rel.objects))


def _skip_unchanged(kube, namespace, releases):
    """Mark the releases with nothing to do (no write at all); note the drift of the others; return the unchanged
    releases' Deployments that are not all available, as read by the same lists: {release: [deployment]}."""
    candidates = [r for r in releases if _unchanged_candidate(r)]
    if not candidates:
        return {}
    whole = {}
    live = live_signatures(kube, namespace, [(o["apiVersion"], o["kind"]) for r in candidates for o in r.objects],
                           ("Deployment",), whole)
    degraded = {}
    for rel in candidates:
        rel.drift = drifted([(key(o), label(o)) for o in rel.objects], rel.current["signatures"], live)
        rel.unchanged = not rel.drift
        unavailable = [o for o in rel.objects if rel.unchanged and o["kind"] == "Deployment"
                       and whole.get(key(o)) is not None and not _available(whole[key(o)])]
        if unavailable:
            degraded[rel.name] = unavailable
    return degraded


def _available(dep):
    try:
        return status_of(dep)[0]
    except RolloutFailed:
        return False


def _check_unchanged(kube, p, releases, degraded, progress):
    """Nothing changed, yet a Deployment is not available: wait for it as a rollout would, and fail naming why."""
    _say(progress, "nothing changed, but not every Deployment is available: %s" % ", ".join(sorted(degraded)))
    failures = wait_all(kube, degraded, p["wait_timeout"], progress, p.get("pull_retries", PULL_RETRIES))
    for rel in releases:
        if rel.name in failures:
            rel.error = ("%s: nothing changed, but it is not healthy (nothing was rolled back: this run applied "
                         "nothing): %s" % (rel.name, failures[rel.name]))


def _say_drift(releases, progress):
    for rel in [r for r in releases if r.drift]:
        _say(progress, "%s: drift found, applying again: %s" % (rel.name, ", ".join("%s %s" % d for d in rel.drift)))


def run_releases(kube, p, items, histories, check_mode=False, want_diff=False, progress=None, namespace_missing=False):
    """Roll out many releases in one namespace; return (results, failed messages, releases)."""
    releases = [Release(item, histories) for item in items]
    degraded = {} if namespace_missing else _skip_unchanged(kube, p["namespace"], releases)
    if degraded and p["wait"] and not check_mode:
        _check_unchanged(kube, p, releases, degraded, progress)
    todo = [r for r in releases if not r.unchanged]
    _say_drift(todo, progress)
    revisions = {}
    if check_mode:
        apply_all(kube, todo, True, want_diff, namespace_missing)
    elif todo:
        revisions = _roll_out(kube, p, todo, histories, progress, want_diff)
    results = [rel.result(revisions.get(rel.name, (rel.current or {}).get("revision", 0)), p.get("public_host"))
               for rel in releases]
    return results, [r.error for r in releases if r.error], releases


def _failures(kube, p, changed, progress, locks):
    """{release: why} for the changed releases whose Deployments did not become available or whose smoke test
    failed."""
    if not p["wait"]:
        return {}
    failures = wait_all(kube, dict((r.name, [o for o in r.objects if o["kind"] in WAITED]) for r in changed),
                        p["wait_timeout"], progress, p.get("pull_retries", PULL_RETRIES), on_poll=locks.renew)
    for rel in [r for r in changed if r.name not in failures]:
        failure = next(filter(None, (smoke_failure(kube, o, progress) for o in rel.objects
                                     if o["kind"] in ("Deployment", "StatefulSet"))), None)
        if failure:
            failures[rel.name] = failure
    return failures


def _record(kube, p, histories, good):
    """A new revision for each changed release; {release: revision}."""
    tracked = [r for r in good if trackable(r.objects)]
    signatures = live_signatures(kube, p["namespace"], [(o["apiVersion"], o["kind"]) for r in tracked
                                                        for o in r.objects]) if tracked else {}
    revisions = dict(pmap(lambda r: (r.name, histories.add(
        r.name, r.objects, r.image, r.stamps, p["history"], r.note or ("drift repaired" if r.drift else ""),
        r.tracking(signatures))), [r for r in good if r.changed]))
    _refresh_tracking(histories, [r for r in good if not r.changed and r.current], signatures)
    return revisions


def _refresh_tracking(histories, unchanged, signatures):
    """Nothing of ours changed but the record lacks (or has stale) tracking: refresh it, so that the next run
    can tell "unchanged" without writing."""
    for rel in unchanged:
        tracking = rel.tracking(signatures)
        if any(rel.current.get(k) != v for k, v in tracking.items()):
            rel.current.update(tracking, stamps=rel.stamps)
            histories.save(rel.name, rel.current)


def _waves(releases):
    """Apps on their own go together; a system's components go wave by wave, in order."""
    numbers = sorted(set(r.wave or 0 for r in releases))
    return [[r for r in releases if (r.wave or 0) == n] for n in numbers]


def _system_failed(kube, p, histories, done, todo, failures, progress):
    """A wave of a system failed: every component this run changed goes back to its previous revision, and the
    later waves are not applied; each says which component failed."""
    culprits = ", ".join(sorted(failures))
    for rel in [r for r in done if r.changed]:
        _say(progress, "%s: rolling back (the system's component %s failed)" % (rel.name, culprits))
        why = failures.get(rel.name) or "the system's component %s failed" % culprits
        rel.error = _recover(kube, p, histories, rel, why, progress)
    for rel in todo:
        rel.error = "%s: not applied: the system's component %s failed in an earlier wave" % (rel.name, culprits)


def _apply_wave(kube, p, wave, progress, want_diff, locks):
    """Apply one wave, prune what its releases no longer render, wait; {release: why} of those that failed."""
    apply_all(kube, wave, False, want_diff)
    changed = [r for r in wave if r.changed]
    delete(kube, [o for r in changed for o in r.removed])
    return _failures(kube, p, changed, progress, locks)


def _recover_each(kube, p, histories, failed, failures, progress):
    for rel in failed:
        _say(progress, "%s: rollout failed, rolling back" % rel.name)
        rel.error = _recover(kube, p, histories, rel, failures[rel.name], progress)


def _roll_out(kube, p, releases, histories, progress, want_diff):
    """Lock, apply wave by wave, wait, roll back what failed, record the rest; {release: new revision}."""
    locks = ReleaseLocks(kube, p["namespace"], progress=progress)
    locks.acquire([r.name for r in releases])
    try:
        waves, done = _waves(releases), []
        for i, wave in enumerate(waves):
            failures = _apply_wave(kube, p, wave, progress, want_diff, locks)
            done += wave
            if failures and any(r.wave is not None for r in wave):
                _system_failed(kube, p, histories, done, [r for w in waves[i + 1:] for r in w], failures, progress)
                break
            _recover_each(kube, p, histories, [r for r in wave if r.name in failures], failures, progress)
        return _record(kube, p, histories, [r for r in done if not r.error])
    finally:
        locks.release()


def remove_releases(histories, names, check_mode=False):
    kube = histories.kube
    results = []
    for name in names:
        current = histories.current(name)
        objects = current["objects"] if current else []
        if current and not check_mode:
            delete(kube, objects)
            histories.remove(name)
        results.append({"release": name, "changed": current is not None, "revision": 0,
                        "pruned": [label(o) for o in objects]})
    return results
