# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for Deployments to roll out, failing fast with the reason and the pod's last log lines."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.parallel import pmap

FAIL_REASONS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CrashLoopBackOff",
                "CreateContainerConfigError", "CreateContainerError", "RunContainerError")


class RolloutFailed(QiError):
    pass


def _selector(dep):
    return ",".join("%s=%s" % kv for kv in sorted(dep["spec"]["selector"]["matchLabels"].items()))


def current_pods(kube, dep):
    """The pods of the Deployment's current ReplicaSet (the one carrying its revision), not older ones."""
    ns = dep["metadata"]["namespace"]
    revision = (dep["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    if revision is None:
        return []
    for rs in kube.list("apps/v1", "ReplicaSet", ns, _selector(dep)):
        meta = rs["metadata"]
        if (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision and \
                any(o.get("uid") == dep["metadata"]["uid"] for o in meta.get("ownerReferences") or []):
            return kube.list("v1", "Pod", ns, "%s,pod-template-hash=%s" % (
                _selector(dep), meta["labels"]["pod-template-hash"]))
    return []


def _pod_failure(pod):
    """(reason, message, container, restarted) of the first failing container of pod, or None."""
    statuses = (pod.get("status") or {}).get("initContainerStatuses") or []
    statuses += (pod.get("status") or {}).get("containerStatuses") or []
    for st in statuses:
        waiting = (st.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in FAIL_REASONS:
            return waiting["reason"], waiting.get("message") or "", st["name"], st.get("restartCount", 0) > 0
    return None


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


def _check(kube, dep):
    """(done, message) for one Deployment; raises RolloutFailed naming the reason and the last log lines."""
    live = kube.get(dep)
    if live is None:
        raise RolloutFailed("Deployment %s disappeared during the rollout" % dep["metadata"]["name"])
    done, message = status_of(live)
    observed = (live.get("status") or {}).get("observedGeneration", 0) >= live["metadata"].get("generation", 0)
    if not done and observed:
        ns = dep["metadata"]["namespace"]
        for pod in current_pods(kube, live):
            failure = _pod_failure(pod)
            if failure:
                reason, msg, container, restarted = failure
                logs = kube.pod_log(ns, pod["metadata"]["name"], container, 20, restarted)
                raise RolloutFailed("%s: pod %s container %s: %s%s" % (
                    reason, pod["metadata"]["name"], container, msg, "\nlast log lines:\n" + logs if logs else ""))
    return done, message


def wait_all(kube, groups, timeout):
    """Wait for the Deployments of several owners at once: {owner: [deployment, ...]}.

    Returns {owner: RolloutFailed} for the owners whose rollout failed or timed out; the others are done."""
    deadline = time.time() + timeout
    pending = dict((owner, list(deps)) for owner, deps in groups.items() if deps)
    failed, messages, poll = {}, {}, 0.2
    while pending:
        checks = [(owner, dep) for owner, deps in pending.items() for dep in deps]
        outcomes = pmap(lambda pair: _outcome(kube, pair[1]), checks)
        for (owner, dep), outcome in zip(checks, outcomes):
            if owner in failed:
                continue
            if isinstance(outcome, RolloutFailed):
                failed[owner] = outcome
                pending.pop(owner, None)
            elif outcome[0]:
                pending[owner].remove(dep)
                if not pending[owner]:
                    pending.pop(owner)
            else:
                messages[owner] = "Deployment %s: %s" % (dep["metadata"]["name"], outcome[1])
        if pending and time.time() > deadline:
            for owner in list(pending):
                failed[owner] = RolloutFailed("timed out after %ds waiting for %s" % (timeout, messages.get(owner, owner)))
                pending.pop(owner)
        if pending:
            time.sleep(poll)
            poll = min(1.0, poll * 1.5)
    return failed


def _outcome(kube, dep):
    try:
        return _check(kube, dep)
    except RolloutFailed as e:
        return e


def wait_deployments(kube, deployments, timeout):
    """Block until every Deployment is rolled out; raise RolloutFailed with the reason on failure."""
    failed = wait_all(kube, {"all": deployments}, timeout)
    if failed:
        raise failed["all"]
