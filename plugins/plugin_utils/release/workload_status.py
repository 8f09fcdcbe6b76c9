# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a component's StatefulSet is ready or its Job has completed, as read from the API (pure), and which pods
are its current ones."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ...module_utils.errors import QiError

# The workload kinds a release waits for; a CronJob only needs to exist.
WAITED = ("Deployment", "StatefulSet", "Job")


class WorkloadFailed(QiError):
    pass


def stateful_set_status(sts):
    """(done, message) for a StatefulSet: every replica updated to the current revision and ready."""
    spec, st = sts.get("spec") or {}, sts.get("status") or {}
    want = spec.get("replicas", 1)
    if st.get("observedGeneration", 0) < sts["metadata"].get("generation", 0):
        return False, "waiting for the controller to see the new spec"
    if st.get("updateRevision") and st.get("currentRevision") != st.get("updateRevision"):
        return False, "%d of %d replicas updated" % (st.get("updatedReplicas", 0), want)
    if st.get("readyReplicas", 0) < want:
        return False, "%d of %d replicas ready" % (st.get("readyReplicas", 0), want)
    return True, "ready"


def job_status(job):
    """(done, message) for a Job: done once it completed; WorkloadFailed once Kubernetes gave up on it."""
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("status") != "True":
            continue
        if cond.get("type") == "Complete":
            return True, "completed"
        if cond.get("type") == "Failed":
            reason, name = cond.get("reason") or "Failed", job["metadata"]["name"]
            raise WorkloadFailed("%s: Job %s failed: %s" % (reason, name, cond.get("message") or ""))
    st = job.get("status") or {}
    return False, "running (%d active, %d failed)" % (st.get("active", 0), st.get("failed", 0))


def pod_selector(obj):
    """The label selector of a workload's current pods: a StatefulSet's of its update revision, a Job's own."""
    if obj["kind"] == "Job":
        return "batch.kubernetes.io/controller-uid=%s" % obj["metadata"].get("uid", "")
    labels = dict(obj["spec"]["selector"]["matchLabels"])
    revision = (obj.get("status") or {}).get("updateRevision")
    if revision:
        labels["controller-revision-hash"] = revision
    return ",".join("%s=%s" % kv for kv in sorted(labels.items()))
