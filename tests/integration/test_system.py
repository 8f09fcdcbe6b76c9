"""A system of components on the embedded cluster, for real: a database StatefulSet on a local-path volume, a loader
Job, a preferences service, deployed wave by wave from one .qi.yml components: list."""
import json
import os
import time
import uuid

import pytest

from conftest import ROOT, deployed_copy, kube_json, kubectl, service_get, site_in

pytestmark = pytest.mark.cluster
FIXTURE = os.path.join(ROOT, "tests", "integration", "fixtures", "preferences-system")
NS = "qi-system-%s" % uuid.uuid4().hex[:6]


def site(app):
    return site_in(NS, app)


def preferences(name):
    return service_get(NS, "prefs-service", "/preferences/" + name)


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield deployed_copy(tmp_path_factory, FIXTURE, NS)
    kubectl("delete", "namespace", NS, "--wait=false", check=False)


def test_the_service_answers_the_preference_set_the_loader_put_into_the_database(system):
    _app, run = system
    status, body = preferences("carla")
    assert status == 200, body
    assert json.loads(body) == {"flat": {"http://registry.gpii.net/common/magnification": 2}}
    job = kube_json("-n", NS, "get", "job", "prefs-loader")
    assert job["status"].get("succeeded") == 1
    claim = kube_json("-n", NS, "get", "pvc", "data-prefs-db-0")
    assert claim["status"]["phase"] == "Bound" and claim["spec"]["storageClassName"] == "local-path"


def test_the_database_pod_comes_back_with_its_data(system):
    kubectl("-n", NS, "delete", "pod", "prefs-db-0")
    deadline = time.time() + 120
    while time.time() < deadline:
        pod = kube_json("-n", NS, "get", "pod", "prefs-db-0") if kubectl(
            "-n", NS, "get", "pod", "prefs-db-0", check=False).returncode == 0 else {}
        ready = [c for c in (pod.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"]
        if ready and ready[0]["status"] == "True":
            break
        time.sleep(1)
    status, body = preferences("carla")
    assert status == 200 and "magnification" in body, body


def test_new_data_reruns_the_loader_and_nothing_else_and_no_change_is_a_no_change_run(system):
    app, _run = system
    services_before = kube_json("-n", NS, "get", "deployment", "prefs-service")["metadata"]["generation"]
    with open(os.path.join(str(app), "loader", "data", "anna.json"), "w") as f:
        f.write('{"flat": {"http://registry.gpii.net/common/fontSize": 24}}\n')
    changed = site(app)
    status, body = preferences("anna")
    assert status == 200 and "fontSize" in body, body
    # The loader's image changed, so its Job ran again; the service's pods were not rolled.
    assert kube_json("-n", NS, "get", "deployment", "prefs-service")["metadata"]["generation"] == services_before
    assert kube_json("-n", NS, "get", "job", "prefs-loader")["status"].get("succeeded") == 1
    assert changed.stats()["changed"] >= 1
    again = site(app)
    assert again.changed() == 0, again.stats()
