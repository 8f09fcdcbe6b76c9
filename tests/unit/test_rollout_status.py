"""Reading a Deployment's status and a pod's failure reason."""
import pytest

from ansible_collections.qi.convergence.plugins.module_utils.rollout import RolloutFailed, _pod_failure, status_of


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


def test_pod_failure_reason():
    pod = {"status": {"containerStatuses": [{"name": "web", "restartCount": 3,
                                             "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}}]}}
    assert _pod_failure(pod) == ("CrashLoopBackOff", "back-off", "web", True)
    assert _pod_failure({"status": {"containerStatuses": [{"name": "w", "state": {"running": {}}}]}}) is None
