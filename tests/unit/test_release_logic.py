"""Releases against an in-memory API: a refused apply leaves nothing behind, bounded compressed history, the lock."""
import os
import socket
import time

import pytest

from ansible_collections.qi.convergence.plugins.plugin_utils.release import revisions
from ansible_collections.qi.convergence.plugins.plugin_utils.release import lock as release_lock
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.release.releases import Histories, run_releases
from ansible_collections.qi.convergence.plugins.plugin_utils.release.lock import ReleaseLocks, lease_name
from ansible_collections.qi.convergence.plugins.plugin_utils.release.apply import apply_phases

from fake_kube import FakeKube, ref

NS = "apps"
P = {"namespace": NS, "wait": False, "wait_timeout": 5, "history": 10, "rollback_on_failure": True,
     "public_host": None}


def meta(name):
    return {"name": name, "namespace": NS}


def objects(version, config_name="web-config"):
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(config_name), "data": {"v": version}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta("web"),
         "spec": {"type": "ClusterIP", "ports": [{"port": 80}], "selector": {"app": "web"}}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web"),
         "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": version}]}}}},
    ]


def roll(kube, version, **item):
    item = dict({"release": "web", "objects": objects(version), "image": version, "revision": None}, **item)
    results, errors, _releases = run_releases(kube, P, [item], Histories(kube, NS))
    return results[0], errors


def configmap(kube, name="web-config"):
    return kube.objects.get(ref("v1", "ConfigMap", name, NS))


def test_a_refused_first_revision_leaves_nothing_applied():
    kube = FakeKube(refuse={"web"})
    with pytest.raises(QiError) as e:
        roll(kube, "v1")
    assert "admission webhook said no" in str(e.value) and "Nothing of this run was left applied" in str(e.value)
    assert configmap(kube) is None
    assert not [k for k in kube.objects if k[1] != "Lease"] and not Histories(kube, NS).revisions


def test_a_refused_update_puts_the_previous_objects_back():
    kube = FakeKube()
    roll(kube, "v1")
    kube.refuse = {"web"}
    item = {"objects": objects("v2") + [{"apiVersion": "v1", "kind": "ConfigMap",
                                         "metadata": {"name": "extra", "namespace": NS}, "data": {}}]}
    with pytest.raises(QiError):
        roll(kube, "v2", **item)
    assert configmap(kube)["data"] == {"v": "v1"}
    assert configmap(kube, "extra") is None
    assert Histories(kube, NS).revisions == {"web": [1]}
    assert kube.objects.get(ref("coordination.k8s.io/v1", "Lease", lease_name("web"), NS)) is None


def test_history_is_bounded_and_only_the_newest_record_is_read_whole():
    kube = FakeKube()
    for n in range(12):
        result, errors = roll(kube, "v%d" % n)
        assert not errors and result["revision"] == n + 1
    secrets = [o for k, o in kube.objects.items() if k[1] == "Secret"]
    assert sorted(int(s["metadata"]["name"].rsplit(".v", 1)[1]) for s in secrets) == list(range(3, 13))
    current = [s for s in secrets if s["metadata"]["labels"].get(revisions.CURRENT_LABEL) == "true"]
    assert [s["metadata"]["name"] for s in current] == ["web.v12"]
    h = Histories(kube, NS)
    assert list(h.records) == [("web", 12)]
    assert h.get("web", 0)["image"] == "v10" and h.get("web", 5)["image"] == "v4"
    with pytest.raises(QiError) as e:
        h.get("web", 1)
    assert "has no revision 1" in str(e.value)


def test_a_large_record_is_split_and_read_back(monkeypatch):
    monkeypatch.setattr(revisions, "PART_SIZE", 64)
    kube = FakeKube()
    roll(kube, "v1")
    assert kube.objects.get(ref("v1", "Secret", "web.v1.p1", NS)) is not None
    h = Histories(kube, NS)
    assert h.current("web")["image"] == "v1" and h.current("web")["objects"] == objects("v1")


def test_a_revision_written_meanwhile_is_an_error_not_an_overwrite():
    kube = FakeKube()
    roll(kube, "v1")
    h = Histories(kube, NS)
    kube.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web.v2", "namespace": NS}})
    with pytest.raises(QiError) as e:
        h.add("web", objects("v2"), "v2", {}, 10)
    assert "revision 2 of release web was written by another run" in str(e.value)


def rollback_target(kube):
    return roll(kube, None, objects=[], revision=0)


def test_rolling_back_to_the_previous_revision_records_a_new_one():
    kube = FakeKube()
    roll(kube, "v1")
    roll(kube, "v2")
    result, errors = rollback_target(kube)
    assert not errors and result["revision"] == 3 and result["image"] == "v1"
    assert configmap(kube)["data"] == {"v": "v1"}


def stamp(seconds_ago):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - seconds_ago))


def held(kube, holder, seconds_ago):
    kube.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": lease_name("web"), "namespace": NS},
                 "spec": {"holderIdentity": holder, "leaseDurationSeconds": 30, "renewTime": stamp(seconds_ago)}})


def test_a_fresh_lock_of_another_run_fails_at_once_naming_it():
    kube = FakeKube()
    held(kube, "ci-runner-3 pid 77", 2)
    with pytest.raises(QiError) as e:
        roll(kube, "v1")
    assert "being deployed by ci-runner-3 pid 77" in str(e.value)
    assert configmap(kube) is None


@pytest.mark.parametrize("holder, age", [("ci-runner-3 pid 77", 45), ("%s pid 999999" % socket.gethostname(), 1)])
def test_an_expired_lock_or_a_dead_local_holder_is_taken_over(holder, age):
    kube = FakeKube()
    held(kube, holder, age)
    result, errors = roll(kube, "v1")
    assert not errors and result["revision"] == 1
    assert kube.objects.get(ref("coordination.k8s.io/v1", "Lease", lease_name("web"), NS)) is None


def test_locks_are_all_or_nothing_and_renewed(monkeypatch):
    kube = FakeKube()
    kube.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": lease_name("b"), "namespace": NS},
                 "spec": {"holderIdentity": "other pid 1", "leaseDurationSeconds": 30, "renewTime": stamp(0)}})
    locks = ReleaseLocks(kube, NS)
    with pytest.raises(QiError):
        locks.acquire(["a", "b"])
    assert kube.objects.get(ref("coordination.k8s.io/v1", "Lease", lease_name("a"), NS)) is None
    locks = ReleaseLocks(kube, NS)
    locks.acquire(["a"])
    first = kube.objects[ref("coordination.k8s.io/v1", "Lease", lease_name("a"), NS)]["spec"]["renewTime"]
    monkeypatch.setattr(release_lock, "RENEW_AFTER", -1)
    time.sleep(0.01)
    locks.renew()
    assert kube.objects[ref("coordination.k8s.io/v1", "Lease", lease_name("a"), NS)]["spec"]["renewTime"] > first
    monkeypatch.setattr(os, "getppid", lambda: -5)
    with pytest.raises(QiError) as e:
        locks.renew()
    assert "was stopped" in str(e.value)


def test_one_named_release_deploys_the_image_just_built(monkeypatch):
    from ansible_collections.qi.convergence.plugins.plugin_utils.release import task as release_task
    monkeypatch.setattr(release_task, "render", lambda spec, image, env, name: [{"image": image}])
    spec = {"name": "web", "deploy": {}, "run": {}}
    p = {"release": "web-blue", "spec": spec, "image": None, "objects": None, "revision": None, "releases": None,
         "specs": None, "images": {"web": "reg/web@sha256:new"}, "state": "present", "environment": {},
         "namespace": NS, "secrets": {}}
    h = Histories(FakeKube(), NS)
    h.revisions["web-blue"], h.records[("web-blue", 1)] = [1], {"revision": 1, "image": "reg/web@sha256:old"}
    assert release_task._items(p, h)[0]["image"] == "reg/web@sha256:new"
    assert release_task._items(dict(p, images={}), h)[0]["image"] == "reg/web@sha256:old"


def labelled(version):
    objs = objects(version)
    for o in objs:
        o["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "qi.convergence"}
    return objs


def test_an_unchanged_release_is_not_written_at_all():
    kube = FakeKube()
    roll(kube, "v1", objects=labelled("v1"))
    kube.calls.clear()
    result, errors = roll(kube, "v1", objects=labelled("v1"))
    assert not errors and not result["changed"] and result["revision"] == 1
    assert kube.calls == [] and "drifted" not in result
    assert not [k for k in kube.objects if k[1] == "Lease"]


def test_a_deleted_or_hand_edited_object_is_drift_repaired_and_reported():
    kube = FakeKube()
    roll(kube, "v1", objects=labelled("v1"))
    del kube.objects[ref("v1", "ConfigMap", "web-config", NS)]
    result, errors = roll(kube, "v1", objects=labelled("v1"))
    assert result["drifted"] == ["ConfigMap/web-config deleted"] and result["changed"] and result["revision"] == 2
    assert configmap(kube)["data"] == {"v": "v1"}
    assert Histories(kube, NS).current("web")["note"] == "drift repaired"
    svc = kube.objects[ref("v1", "Service", "web", NS)]
    svc["metadata"]["managedFields"].append({"manager": "kubectl-edit", "operation": "Update", "time": "later"})
    result, errors = roll(kube, "v1", objects=labelled("v1"))
    assert result["drifted"] == ["Service/web changed outside this release"]
    result, errors = roll(kube, "v1", objects=labelled("v1"))
    assert "drifted" not in result and not result["changed"]


def test_what_pods_need_is_applied_before_the_workloads_and_what_points_at_them_after():
    kube = FakeKube()
    extra = [{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("web"), "spec": {}},
             {"apiVersion": "v1", "kind": "Secret", "metadata": meta("web-env"), "data": {}}]
    roll(kube, "v1", objects=extra + objects("v1"))
    applied = [kind for call, kind, _name in kube.calls if call == "apply" and kind != "Lease"]
    kinds = [k for k in applied if k in ("PodDisruptionBudget", "Secret", "ConfigMap", "Service", "Deployment")]
    assert set(kinds[:2]) == {"Secret", "ConfigMap"} and set(kinds[2:4]) == {"Service", "Deployment"}
    assert kinds[4] == "PodDisruptionBudget"


def test_a_token_secret_is_applied_after_the_service_account_it_names():
    # Applied together, the control plane may see the Secret first and delete it (its account "does not exist").
    token = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
             "metadata": dict(meta("deployer-token"), annotations={"kubernetes.io/service-account.name": "deployer"})}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("deployer")}
    assert apply_phases([token, account]) == [[1], [0]]
    assert apply_phases([account, {"apiVersion": "v1", "kind": "Secret", "metadata": meta("env")}]) == [[0, 1]]


def test_a_refusal_stops_the_later_phases():
    kube = FakeKube(refuse={"web-config"})
    with pytest.raises(QiError):
        roll(kube, "v1")
    assert not [c for c in kube.calls if c[0] == "apply" and c[1] in ("Deployment", "Service")]


def _status(kube, available):
    dep = kube.objects[ref("apps/v1", "Deployment", "web", NS)]
    dep["status"] = {"replicas": 2, "updatedReplicas": 2, "availableReplicas": available}


def test_a_no_change_run_still_checks_every_deployment_is_available(monkeypatch):
    kube = FakeKube()
    roll(kube, "v1", objects=labelled("v1"))
    waiting = dict(P, wait=True, wait_timeout=1)
    _status(kube, 2)
    kube.calls.clear()
    results, errors, _r = run_releases(kube, waiting, [{"release": "web", "objects": labelled("v1"), "image": "v1",
                                                        "revision": None}], Histories(kube, NS))
    assert not errors and not results[0]["changed"] and kube.calls == []
    _status(kube, 0)  # it broke after its release: a no-change run must not say "ok"
    results, errors, _r = run_releases(kube, waiting, [{"release": "web", "objects": labelled("v1"), "image": "v1",
                                                        "revision": None}], Histories(kube, NS))
    assert results[0]["failed"] and not results[0]["changed"] and kube.calls == []
    assert "web: nothing changed, but it is not healthy" in errors[0] and "0 of 2 updated replicas available" in errors[0]


def test_the_smoke_test_asks_a_ready_pod_that_is_not_on_its_way_out():
    from ansible_collections.qi.convergence.plugins.plugin_utils.release.smoke_test import _askable
    ready = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    assert _askable({"metadata": {"name": "a"}, "status": ready})
    assert not _askable({"metadata": {"name": "b", "deletionTimestamp": "2026-12-01T16:30:00Z"}, "status": ready})
    assert not _askable({"metadata": {"name": "c"}, "status": {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "False"}]}})
