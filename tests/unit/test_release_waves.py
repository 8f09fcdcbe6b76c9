"""A system's components go wave by wave and all or nothing; the status of a StatefulSet and of a Job."""
import pytest

from ansible_collections.qi.convergence.plugins.module_utils.workloads import job
from ansible_collections.qi.convergence.plugins.plugin_utils.release import releases as releases_mod
from ansible_collections.qi.convergence.plugins.plugin_utils.release.apply import recreate_changed_jobs
from ansible_collections.qi.convergence.plugins.plugin_utils.release.releases import Histories, run_releases
from ansible_collections.qi.convergence.plugins.plugin_utils.release.workload_status import (
    WorkloadFailed, job_status, pod_selector, stateful_set_status)

from fake_kube import FakeKube, ref

NS = "sys"
P = {"namespace": NS, "wait": True, "wait_timeout": 1, "history": 10, "rollback_on_failure": True,
     "public_host": None}


def item(name, kind, wave, version="v1"):
    obj = {"apiVersion": "batch/v1" if kind == "Job" else "apps/v1", "kind": kind,
           "metadata": {"name": name, "namespace": NS, "uid": name},
           "spec": {"selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"v": version}}}}}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name + "-c", "namespace": NS},
              "data": {"v": version}}
    return {"release": name, "objects": [config, obj], "image": version, "revision": None, "wave": wave}


SYSTEM = [("db", "StatefulSet", 0), ("loader", "Job", 1), ("prefs", "Deployment", 1), ("flow", "Deployment", 2)]


def deploy(kube, monkeypatch, failing=(), version="v1"):
    """Run the system; the waits answer from `failing` (the cluster's part is the e2e tests')."""
    waited = []

    def failures(kube, p, changed, progress, locks):
        waited.append(sorted(r.name for r in changed))
        return dict((r.name, "%s failed its readiness probe" % r.name) for r in changed if r.name in failing)
    monkeypatch.setattr(releases_mod, "_failures", failures)
    results, errors, _rels = run_releases(kube, P, [item(n, k, w, version) for n, k, w in SYSTEM], Histories(kube, NS))
    return dict((r["release"], r) for r in results), errors, waited


def workloads_applied(kube):
    return [name for op, kind, name in kube.calls if op == "apply" and kind in ("StatefulSet", "Job", "Deployment")]


def test_the_waves_go_in_order_each_waited_for_before_the_next(monkeypatch):
    kube = FakeKube()
    results, errors, waited = deploy(kube, monkeypatch)
    assert errors == []
    assert waited == [["db"], ["loader", "prefs"], ["flow"]]
    applied = workloads_applied(kube)
    assert applied.index("db") < min(applied.index("loader"), applied.index("prefs")) < applied.index("flow")
    assert all(results[n]["revision"] == 1 for n, _k, _w in SYSTEM)


def test_a_failed_wave_rolls_the_whole_system_back_and_applies_no_later_wave(monkeypatch):
    kube = FakeKube()
    deploy(kube, monkeypatch)
    kube.calls = []
    results, errors, waited = deploy(kube, monkeypatch, failing={"prefs"}, version="v2")
    assert waited == [["db"], ["loader", "prefs"]]
    assert "flow" not in workloads_applied(kube)
    assert "not applied: the system's component prefs failed in an earlier wave" in results["flow"]["msg"]
    assert "rollout of db failed: the system's component prefs failed" in results["db"]["msg"]
    assert "prefs failed its readiness probe" in results["prefs"]["msg"]
    # Everything it changed is back at revision 1.
    for name in ("db", "loader", "prefs", "flow"):
        assert kube.objects[ref("v1", "ConfigMap", name + "-c", NS)]["data"] == {"v": "v1"}, name
    assert len(errors) == 4


def test_apps_on_their_own_still_fail_one_by_one(monkeypatch):
    kube = FakeKube()

    def failures(kube, p, changed, progress, locks):
        return {"a": "broken"} if any(r.name == "a" for r in changed) else {}
    monkeypatch.setattr(releases_mod, "_failures", failures)
    items = [dict(item(n, "Deployment", 0), wave=None) for n in ("a", "b")]
    results, errors, _rels = run_releases(kube, P, items, Histories(kube, NS))
    assert [r.get("failed", False) for r in results] == [True, False] and results[1]["revision"] == 1


@pytest.mark.parametrize("status, expected", [
    ({"observedGeneration": 1, "replicas": 1, "readyReplicas": 0, "currentRevision": "r1", "updateRevision": "r1"},
     (False, "0 of 1 replicas ready")),
    ({"observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 0, "currentRevision": "r1",
      "updateRevision": "r2"}, (False, "0 of 1 replicas updated")),
    ({"observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "currentRevision": "r2", "updateRevision": "r2"},
     (True, "ready")),
    ({"observedGeneration": 0}, (False, "waiting for the controller to see the new spec")),
])
def test_stateful_set_status(status, expected):
    sts = {"kind": "StatefulSet", "metadata": {"name": "db", "generation": 1}, "spec": {"replicas": 1},
           "status": status}
    assert stateful_set_status(sts) == expected


def test_job_status_and_its_failure():
    job = {"kind": "Job", "metadata": {"name": "loader", "uid": "u1"}, "status": {"active": 1}}
    assert job_status(job) == (False, "running (1 active, 0 failed)")
    job["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    assert job_status(job) == (True, "completed")
    job["status"] = {"failed": 2, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                                                  "message": "Job has reached the specified backoff limit"}]}
    with pytest.raises(WorkloadFailed) as e:
        job_status(job)
    assert str(e.value) == "BackoffLimitExceeded: Job loader failed: Job has reached the specified backoff limit"
    assert pod_selector(job) == "batch.kubernetes.io/controller-uid=u1"


def test_a_stateful_sets_current_pods_are_those_of_its_update_revision():
    sts = {"kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"selector": {"matchLabels": {"app": "db"}}},
           "status": {"updateRevision": "db-7c9"}}
    assert pod_selector(sts) == "app=db,controller-revision-hash=db-7c9"


def loader_job(data):
    pod = {"containers": [{"name": "loader", "image": "img", "env": [{"name": "DATA", "value": data}]}]}
    return job({"name": "loader", "namespace": NS}, {"app": "loader"}, {}, pod)


def test_a_job_whose_template_changed_is_deleted_to_run_again_an_unchanged_one_is_left_alone():
    kube = FakeKube()
    kube.apply(loader_job("set-1"))
    assert recreate_changed_jobs(kube, [loader_job("set-1")]) == []
    assert ("delete", "Job", "loader") not in kube.calls
    changed = loader_job("set-2")
    assert recreate_changed_jobs(kube, [changed]) == [changed]
    assert ("delete", "Job", "loader") in kube.calls and kube.get(changed) is None


def _pod(name, revision):
    labels = {"app": "db", "controller-revision-hash": revision}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": labels}}


def test_a_stateful_set_rolled_back_from_a_new_template_loses_the_pods_of_the_failed_revision():
    # The controller would wait for the broken pod to become ready before replacing it: it is deleted instead.
    from ansible_collections.qi.convergence.plugins.plugin_utils.release.stateful_rollback import (
        delete_failed_pods, failed_revisions)
    kube = FakeKube()
    old, new = item("db", "StatefulSet", 0, "v1")["objects"][1], item("db", "StatefulSet", 0, "v2")["objects"][1]
    kube.apply(new)
    kube.objects[ref("apps/v1", "StatefulSet", "db", NS)]["status"] = {"updateRevision": "db-v2", "currentRevision": "db-v1"}
    kube.apply(_pod("db-0", "db-v2"))
    kube.apply(_pod("other-0", "db-v1"))
    stuck = failed_revisions(kube, [new], [old])
    kube.apply(old)
    assert delete_failed_pods(kube, stuck) == ["db-0"]
    assert ("delete", "Pod", "other-0") not in kube.calls
    # The same template as before: its pods are what ran before this run, left alone.
    assert failed_revisions(kube, [old], [old]) == {}


def test_a_stateful_set_that_times_out_names_its_pod_and_log_lines():
    from ansible_collections.qi.convergence.plugins.plugin_utils.release.rollout import wait_all
    kube = FakeKube()
    sts = item("db", "StatefulSet", 0)["objects"][1]
    kube.apply(sts)
    kube.objects[ref("apps/v1", "StatefulSet", "db", NS)]["status"] = {
        "replicas": 1, "readyReplicas": 0, "updatedReplicas": 1, "updateRevision": "db-r1", "currentRevision": "db-r1"}
    pod = dict(_pod("db-0", "db-r1"), spec={"containers": [{"name": "db"}]}, status={"phase": "Running"})
    pod["metadata"]["uid"] = "u-db-0"
    kube.apply(pod)
    kube.pod_log = lambda ns, name, container, lines=20, previous=False: "listening on 127.0.0.1:5984\n"
    failed = wait_all(kube, {"db": [sts]}, 0)
    assert "timed out after 0s" in str(failed["db"])
    assert "pod db-0: Running\nlast 20 log lines of db:\nlistening on 127.0.0.1:5984" in str(failed["db"])
