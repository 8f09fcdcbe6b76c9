# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for Deployments (and components' StatefulSets and Jobs) to roll out, failing fast with the reason, the event message and the failing
container's last log lines (its previous instance's for crash loops), and reporting progress while waiting."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

from ...module_utils.errors import QiError
from ..kube.parallel import pmap
from .pod_failures import (
    PULL_RETRIES, pod_failure, replica_failure, waiting_note)
from .workload_status import WorkloadFailed, job_status, pod_selector, stateful_set_status

PROGRESS_EVERY = 5.0
LOG_LINES = 20


class RolloutFailed(QiError):
    pass


def _selector(dep):
    return ",".join("%s=%s" % kv for kv in sorted(dep["spec"]["selector"]["matchLabels"].items()))


def current_replica_set(kube, dep):
    """The Deployment's current ReplicaSet (the one carrying its revision), or None."""
    ns = dep["metadata"]["namespace"]
    revision = (dep["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    if revision is None:
        return None
    for rs in kube.list("apps/v1", "ReplicaSet", ns, _selector(dep)):
        meta = rs["metadata"]
        if (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision and \
                any(o.get("uid") == dep["metadata"]["uid"] for o in meta.get("ownerReferences") or []):
            return rs
    return None


def current_pods(kube, dep, rs=None):
    """The pods of the Deployment's current ReplicaSet (of the StatefulSet's update revision), not older ones."""
    if dep["kind"] == "StatefulSet":
        revision = (dep.get("status") or {}).get("updateRevision")
        return kube.list("v1", "Pod", dep["metadata"]["namespace"], "%s,controller-revision-hash=%s" % (
            _selector(dep), revision)) if revision else []
    rs = rs or current_replica_set(kube, dep)
    if rs is None:
        return []
    return kube.list("v1", "Pod", dep["metadata"]["namespace"], "%s,pod-template-hash=%s" % (
        _selector(dep), rs["metadata"]["labels"]["pod-template-hash"]))


def status_of(dep):
    """Return (done, message) for a Deployment object as read from the API."""
    spec, st = dep.get("spec") or {}, dep.get("status") or {}
    want = spec.get("replicas", 1)
    if st.get("observedGeneration", 0) < dep["metadata"].get("generation", 0):
        return False, "waiting for the controller to see the new spec"
    for cond in st.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            raise RolloutFailed("ProgressDeadlineExceeded: %s" % cond.get("message", ""))
    updated, available, total = st.get("updatedReplicas", 0), st.get("availableReplicas", 0), st.get("replicas", 0)
    if updated < want:
        return False, "%d of %d replicas updated" % (updated, want)
    if total > updated:
        return False, "%d old replicas pending termination" % (total - updated)
    if available < want:
        return False, "%d of %d updated replicas available" % (available, want)
    return True, "rolled out"


def _pod_events(kube, pod):
    return kube.list("v1", "Event", pod["metadata"]["namespace"],
                     field_selector="involvedObject.uid=%s" % pod["metadata"]["uid"])


def log_hint(logs):
    """Plain words for a crash whose log buries the cause (pure)."""
    if re.search(r"SyntaxError: Unexpected token", logs) and "node_modules" in logs:
        return ("\nA dependency in node_modules uses syntax this Node.js does not have: npm resolved its version "
                "range today, to a release newer than the app's Node.js. Pin the versions that worked "
                "(package-lock.json or npm-shrinkwrap.json) or ask for a newer nodejs_version.")
    return ""


def _failed(kube, dep, pod, failure):
    name, ns = pod["metadata"]["name"], dep["metadata"]["namespace"]
    logs = kube.pod_log(ns, name, failure.container, LOG_LINES, failure.previous) if failure.container else ""
    return RolloutFailed("%s: %s %s, pod %s, container %s: %s%s%s" % (
        failure.reason, dep["kind"], dep["metadata"]["name"], name, failure.container, failure.message,
        "\nlast %d log lines of %s%s:\n%s" % (LOG_LINES, failure.container, " (previous instance)" if failure.previous
                                              else "", logs.rstrip()) if logs.strip() else "\n(no log lines)",
        log_hint(logs)))


def _stuck_pods(kube, deps):
    """For a timeout: what the not-ready pods of the StatefulSets and Jobs waited for say, with their last log
    lines (a Deployment's timeout already names its pods' waits)."""
    out = []
    for dep in [d for d in deps if d["kind"] != "Deployment"]:
        live = kube.get(dep)
        pods = [p for p in kube.list("v1", "Pod", dep["metadata"]["namespace"], pod_selector(live)) if not _ready(p)] \
            if live else []
        for pod in pods[:2]:
            name, container = pod["metadata"]["name"], pod["spec"]["containers"][0]["name"]
            logs = kube.pod_log(dep["metadata"]["namespace"], name, container, LOG_LINES)
            out.append("\npod %s: %s\nlast %d log lines of %s:\n%s" % (
                name, waiting_note(pod), LOG_LINES, container, logs.rstrip() or "(none)"))
    return "".join(out)


def _ready(pod):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _status(kube, live):
    """status_of(live); past the deadline with no failure recognised, say what each pod is still waiting for."""
    try:
        return status_of(live)
    except RolloutFailed as e:
        notes = ["%s: %s" % (pod["metadata"]["name"], waiting_note(pod)) for pod in current_pods(kube, live)]
        raise RolloutFailed("%s%s" % (e, "\n" + "\n".join(notes) if notes else ""))


def _check_other(kube, live, pull_retries):
    """(done, message) for a StatefulSet or a Job; a failing pod of it fails it with its log lines."""
    try:
        done, message = stateful_set_status(live) if live["kind"] == "StatefulSet" else job_status(live)
    except WorkloadFailed as e:
        pods = kube.list("v1", "Pod", live["metadata"]["namespace"], pod_selector(live))
        newest = sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "")[-1:] or [None]
        logs = kube.pod_log(live["metadata"]["namespace"], newest[0]["metadata"]["name"],
                            newest[0]["spec"]["containers"][0]["name"], LOG_LINES) if newest[0] else ""
        raise RolloutFailed("%s\nlast %d log lines of its last pod:\n%s" % (e, LOG_LINES, logs.rstrip() or "(none)"))
    if done:
        return done, message
    for pod in [p for p in kube.list("v1", "Pod", live["metadata"]["namespace"], pod_selector(live)) if not _ready(p)]:
        failure = pod_failure(pod, _pod_events(kube, pod), pull_retries)
        if failure:
            raise _failed(kube, live, pod, failure)
    return done, message


def _check(kube, dep, pull_retries=PULL_RETRIES):
    """(done, message) for one workload; raises RolloutFailed naming the reason and the last log lines."""
    live = kube.get(dep)
    if live is None:
        raise RolloutFailed("%s %s disappeared during the rollout" % (dep["kind"], dep["metadata"]["name"]))
    if live["kind"] != "Deployment":
        return _check_other(kube, live, pull_retries)
    done, message = _status(kube, live)
    observed = (live.get("status") or {}).get("observedGeneration", 0) >= live["metadata"].get("generation", 0)
    if done or not observed:
        return done, message
    rs = current_replica_set(kube, live)
    failure = replica_failure(live, rs)
    if failure:
        raise RolloutFailed("%s: Deployment %s cannot create its pods: %s" % (
            failure.reason, dep["metadata"]["name"], failure.message))
    notes = []
    for pod in [p for p in current_pods(kube, live, rs) if not _ready(p)]:
        failure = pod_failure(pod, _pod_events(kube, pod), pull_retries)
        if failure:
            raise _failed(kube, live, pod, failure)
        notes.append("%s: %s" % (pod["metadata"]["name"], waiting_note(pod)))
    return done, message + ("; " + "; ".join(notes[:2]) if notes else "")


class _Waiter:
    """The owners still waited for, the failed ones and each one's latest status line."""

    def __init__(self, groups, progress):
        self.start = self.last_report = time.time()
        self.pending = dict((owner, list(deps)) for owner, deps in groups.items() if deps)
        self.failed, self.messages, self.progress = {}, {}, progress

    def fail(self, owners, why):
        for owner in list(owners):
            self.failed[owner] = why(owner)
            self.pending.pop(owner, None)

    def take(self, owner, dep, outcome):
        if owner in self.failed:
            return
        if isinstance(outcome, RolloutFailed):
            self.fail([owner], lambda _o: outcome)
        elif outcome[0]:
            self.pending[owner].remove(dep)
            if not self.pending[owner]:
                self.pending.pop(owner)
                self.say("%s: rolled out (%.0f s)" % (owner, time.time() - self.start))
        else:
            self.messages[owner] = "%s %s: %s" % (dep["kind"], dep["metadata"]["name"], outcome[1])

    def say(self, line):
        if self.progress:
            self.progress(line)

    def report(self):
        if not (self.pending and self.progress and time.time() - self.last_report >= PROGRESS_EVERY):
            return
        self.last_report = time.time()
        for owner in sorted(self.pending):
            self.say("%s: %s (%.0f s)" % (owner, self.messages.get(owner, "waiting"), time.time() - self.start))


def _renew(waiter, on_poll):
    if not on_poll:
        return
    try:
        on_poll()
    except QiError as e:
        waiter.fail(waiter.pending, lambda _o: RolloutFailed(str(e)))


def wait_all(kube, groups, timeout, progress=None, pull_retries=PULL_RETRIES, on_poll=None):
    """Wait for the Deployments of several owners at once: {owner: [deployment, ...]}.

    Returns {owner: RolloutFailed} for the owners whose rollout failed or timed out; the others are done.
    progress(line) gets a line per pending owner at least every PROGRESS_EVERY seconds; on_poll() runs each poll
    (the release lock's renewal)."""
    waiter = _Waiter(groups, progress)
    deadline = waiter.start + timeout
    saved_deadline, kube.deadline = kube.deadline, deadline
    poll = 0.2
    try:
        while waiter.pending:
            checks = [(owner, dep) for owner, deps in waiter.pending.items() for dep in deps]
            for (owner, dep), outcome in zip(checks, pmap(lambda pair: _outcome(kube, pair[1], pull_retries), checks)):
                waiter.take(owner, dep, outcome)
            if time.time() > deadline:
                waiter.fail(waiter.pending, lambda owner: RolloutFailed("timed out after %ds waiting for %s%s" % (
                    timeout, waiter.messages.get(owner, owner), _stuck_pods(kube, waiter.pending.get(owner, [])))))
            waiter.report()
            _renew(waiter, on_poll)
            if waiter.pending:
                time.sleep(poll)
                poll = min(1.0, poll * 1.5)
    finally:
        kube.deadline = saved_deadline
    return waiter.failed


def _outcome(kube, dep, pull_retries):
    try:
        return _check(kube, dep, pull_retries)
    except RolloutFailed as e:
        return e


def wait_deployments(kube, deployments, timeout, progress=None):
    """Block until every Deployment is rolled out; raise RolloutFailed with the reason on failure."""
    failed = wait_all(kube, {"all": deployments}, timeout, progress)
    if failed:
        raise failed["all"]
