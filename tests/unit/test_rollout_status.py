"""Reading a Deployment's status and every reason a pod fails for (statuses and events)."""
import pytest

from ansible_collections.qi.convergence.plugins.plugin_utils.release.pod_failures import (
    Failure, pod_failure, replica_failure, waiting_note)
from ansible_collections.qi.convergence.plugins.plugin_utils.release.rollout import RolloutFailed, status_of


def dep(generation=2, observed=2, replicas=2, updated=2, available=2, total=2, conditions=()):
    return {"metadata": {"generation": generation}, "spec": {"replicas": replicas},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "availableReplicas": available,
                       "replicas": total, "conditions": list(conditions)}}


@pytest.mark.parametrize("d, done, text", [
    (dep(), True, "rolled out"),
    (dep(observed=1), False, "controller"),
    (dep(updated=1), False, "1 of 2 replicas updated"),
    (dep(total=3), False, "1 old replicas"),
    (dep(available=1), False, "1 of 2 updated replicas available"),
])
def test_status(d, done, text):
    assert status_of(d)[0] is done and text in status_of(d)[1]


def test_progress_deadline_fails():
    d = dep(updated=1, conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded", "message": "slow"}])
    with pytest.raises(RolloutFailed) as e:
        status_of(d)
    assert "ProgressDeadlineExceeded: slow" in str(e.value)


PROBES = {"readinessProbe": {"failureThreshold": 3}, "livenessProbe": {"failureThreshold": 4},
          "startupProbe": {"failureThreshold": 30}}


def pod(statuses=(), init=(), conditions=()):
    return {"spec": {"containers": [dict(name="web", **PROBES)]},
            "status": {"containerStatuses": list(statuses), "initContainerStatuses": list(init),
                       "conditions": list(conditions)}}


def waiting(reason, message="", restarts=0, name="web", image="reg/app@sha256:1", last=None):
    st = {"name": name, "image": image, "restartCount": restarts, "state": {"waiting": {"reason": reason,
                                                                                        "message": message}}}
    if last:
        st["lastState"] = {"terminated": last}
    return st


def event(reason, message, count=1, container="web", series=None):
    e = {"reason": reason, "message": message, "count": count,
         "involvedObject": {"fieldPath": "spec.containers{%s}" % container}}
    if series:
        e["series"] = {"count": series}
    return e


@pytest.mark.parametrize("reason", ["CrashLoopBackOff", "CreateContainerConfigError", "ErrImageNeverPull",
                                    "InvalidImageName", "RunContainerError"])
def test_immediate_failures(reason):
    f = pod_failure(pod([waiting(reason, "boom", restarts=2, last={"reason": "OOMKilled", "exitCode": 137})]), [])
    assert f.reason == reason and f.container == "web" and f.previous is True
    assert "boom" in f.message and "OOMKilled, code 137" in f.message


def test_image_pull_tolerates_transient_errors_up_to_the_limit():
    st = waiting("ErrImagePull", "rpc error: connection reset by peer")
    assert pod_failure(pod([st]), [event("Failed", "Failed to pull image: connection reset", count=2)]) is None
    f = pod_failure(pod([st]), [event("Failed", "Failed to pull image: connection reset", count=3)])
    assert f.reason == "ErrImagePull" and "reg/app@sha256:1" in f.message and "3 failed pulls" in f.message


def test_image_that_does_not_exist_fails_at_once():
    st = waiting("ErrImagePull", "failed to resolve reference: 127.0.0.1:5000/app:nope: not found")
    assert pod_failure(pod([st]), []).reason == "ErrImagePull"


def test_init_container_exit_fails_at_once():
    init = {"name": "migrate", "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}
    f = pod_failure(pod(init=[init]), [])
    assert (f.reason, f.container) == ("InitContainerFailed", "migrate") and "code 2" in f.message


def test_probe_failures_count_against_their_own_threshold():
    readiness = "Readiness probe failed: HTTP probe failed with statuscode: 503"
    running = {"name": "web", "ready": False, "state": {"running": {}}}
    assert pod_failure(pod([running]), [event("Unhealthy", readiness, count=2)]) is None
    f = pod_failure(pod([running]), [event("Unhealthy", readiness, count=3)])
    assert f == Failure("ReadinessProbeFailed", readiness + " (3 times, failureThreshold 3)", "web", False)
    liveness = "Liveness probe failed: Get http://x/health: connection refused"
    assert pod_failure(pod([running]), [event("Unhealthy", liveness, series=3)]) is None
    assert pod_failure(pod([running]), [event("Unhealthy", liveness, series=4)]).previous is True
    assert pod_failure(pod([running]), [event("Unhealthy", "Startup probe failed: dial tcp", 29)]) is None


def test_replica_failure_from_quota_or_admission():
    rs = {"status": {"conditions": [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                     "message": 'pods "a" is forbidden: exceeded quota: q'}]}}
    f = replica_failure({"status": {}}, rs)
    assert f.reason == "FailedCreate" and "exceeded quota" in f.message
    assert replica_failure({"status": {}}, None) is None


def test_waiting_notes():
    unschedulable = pod(conditions=[{"type": "PodScheduled", "status": "False", "message": "0/1 nodes: cpu"}])
    assert waiting_note(unschedulable) == "unschedulable: 0/1 nodes: cpu"
    assert waiting_note(pod([waiting("ContainerCreating")])) == "web ContainerCreating"


def test_a_dependency_newer_than_the_apps_node_is_said_in_plain_words():
    from ansible_collections.qi.convergence.plugins.plugin_utils.release.rollout import log_hint
    logs = ("/opt/app/node_modules/request/node_modules/tough-cookie/lib/pubsuffix-psl.js:32\n"
            "SyntaxError: Unexpected token ...\n    at exports.runInThisContext (vm.js:53:16)\n")
    assert "newer than the app's Node.js" in log_hint(logs)
    assert log_hint("Error: listen EADDRINUSE") == ""
