"""A system of components on the embedded cluster, for real: examples/universal-components, shaped like GPII
universal's production components VM and deployed from nothing but its legacy provisioning folder. Its deploy.sh
runs couchdb.yml, data-loader.yml, preferences-server.yml and flow-manager.yml; they become a CouchDB stand-in
StatefulSet on a local-path volume, a loader Job, and two services from one source tree, wave by wave."""
import base64
import json
import os
import time
import uuid

import pytest

from conftest import ROOT, deployed_copy, kube_json, kubectl, service_get, site_in
from conftest import run as run_cmd

pytestmark = pytest.mark.cluster
EXAMPLE = os.path.join(ROOT, "examples", "universal-components")
NS = "qi-system-%s" % uuid.uuid4().hex[:6]
SERVICES = ("preferences-server", "flow-manager")


def settings(user):
    """What the flow manager answers for a user: it asks the preferences server, which reads CouchDB."""
    status, body = service_get(NS, "flow-manager", "/%s/settings" % user)
    return status, json.loads(body) if status == 200 else body


def preferences_of(answer):
    return answer["settings"]["flat"]["contexts"]["gpii-default"]["preferences"]


def admin_secret():
    secret = kube_json("-n", NS, "get", "secret", "couchdb-admin")
    return secret["metadata"]["uid"], base64.b64decode(secret["data"]["password"]).decode()


def service_pods():
    return sorted(p["metadata"]["name"] for p in kube_json("-n", NS, "get", "pods")["items"]
                  if p["metadata"]["labels"].get("app.kubernetes.io/name") in SERVICES)


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield deployed_copy(tmp_path_factory, EXAMPLE, NS)
    kubectl("delete", "namespace", NS, "--wait=false", check=False)


def test_the_flow_manager_answers_the_preference_set_the_loader_put_into_couchdb(system):
    _app, run = system
    status, answer = settings("carla")
    assert status == 200, answer
    assert preferences_of(answer)["http://registry.gpii.net/common/magnification"] == 2
    # Each playbook of deploy.sh became the kind of object its roles call for, the database on a volume.
    assert kube_json("-n", NS, "get", "statefulset", "couchdb")["status"]["readyReplicas"] == 1
    assert kube_json("-n", NS, "get", "job", "preferences-data-loader")["status"].get("succeeded") == 1
    claim = kube_json("-n", NS, "get", "pvc", "data-couchdb-0")
    assert claim["status"]["phase"] == "Bound" and claim["spec"]["storageClassName"] == "local-path"
    # The stand-in said what it is, and answers CouchDB's API: the welcome, and the database the role names.
    log = kubectl("-n", NS, "logs", "couchdb-0").stdout
    assert "qi-couchdb: database preferences: created" in log, log
    status, welcome = service_get(NS, "couchdb", "/")
    assert status == 200 and json.loads(welcome)["express-pouchdb"] == "Welcome!", welcome
    # localhost:5984 and localhost:8082 of the VM became the Services' names: in an environment variable of the
    # preferences server's image, and in the config file the flow manager's role wrote from its role variable.
    seen = kubectl("-n", NS, "exec", "deployment/flow-manager", "--", "cat", "/etc/gpii/flow-manager.json").stdout
    assert json.loads(seen) == {"preferencesServer": "http://preferences-server:8082"}
    said = json.dumps(run.data)
    # The loader and the preferences server come from one source tree and the same provisioning but their vars: the
    # same files, so the same layers (their environments and commands differ); the flow manager's role wrote more.
    builds = dict((b["name"], b) for b in run.results("Build, test and push the images")[0]["builds"])
    assert builds["preferences-server"].get("shares_layers_with") == "preferences-data-loader", builds["preferences-server"]
    assert "shares_layers_with" not in builds["flow-manager"]
    assert "role variable flow_manager_preferences_server_host_address=preferences-server:8082 for the build" in said
    assert "GPII_COUCHDB_URL=http://couchdb:5984 (localhost on the VM" in said


def test_the_database_admin_password_is_generated_once_and_reaches_only_its_readers_pods(system):
    app, run = system
    uid, password = admin_secret()
    assert len(password) == 40
    # Admin party is over: without the credentials the database refuses, its welcome and /_up stay open.
    status, body = service_get(NS, "couchdb", "/preferences")
    assert status == 401 and json.loads(body)["error"] == "unauthorized", body
    assert service_get(NS, "couchdb", "/_up") == (200, '{"status":"ok"}\n')
    # The loader and the preferences server reached it with the password, expanded in their pods from the Secret.
    url = kubectl("-n", NS, "exec", "deployment/preferences-server", "--", "node", "-p",
                  "process.env.GPII_COUCHDB_URL").stdout.strip()
    assert url == "http://admin:%s@couchdb:5984" % password
    # Never in the output of the run, nor in any component's image.
    assert password not in json.dumps(run.data) + run.stderr
    images = set(p["spec"]["containers"][0]["image"] for p in kube_json("-n", NS, "get", "pods")["items"])
    for image in images:
        config = json.loads(run_cmd(["docker", "image", "inspect", image]).stdout)[0]["Config"]
        assert not any(password in e or "@couchdb" in e for e in config["Env"]), (image, config["Env"])
    # A later run keeps it.
    again = site_in(NS, app)
    assert admin_secret() == (uid, password) and password not in json.dumps(again.data) + again.stderr


def test_the_database_pod_comes_back_with_its_data(system):
    kubectl("-n", NS, "delete", "pod", "couchdb-0")
    deadline = time.time() + 120
    while time.time() < deadline:
        pod = kube_json("-n", NS, "get", "pod", "couchdb-0") if kubectl(
            "-n", NS, "get", "pod", "couchdb-0", check=False).returncode == 0 else {}
        ready = [c for c in (pod.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"]
        if ready and ready[0]["status"] == "True":
            break
        time.sleep(1)
    status, answer = settings("carla")
    assert status == 200 and "http://registry.gpii.net/common/magnification" in preferences_of(answer), answer
    assert "qi-couchdb: database preferences: exists" in kubectl("-n", NS, "logs", "couchdb-0").stdout


def test_a_component_the_inventory_gives_an_image_is_not_built_and_runs_that_image(system):
    app, _run = system
    image = kube_json("-n", NS, "get", "deployment", "flow-manager")["spec"]["template"]["spec"]["containers"][0]["image"]
    vars_file = os.path.join(str(app), "provisioning", "flow-manager-vars.yml")
    with open(vars_file) as f:
        text = f.read()
    # A change that would rebuild the flow manager: the inventory's image wins, nothing is built for it.
    with open(vars_file, "w") as f:
        f.write(text.replace('  - "NODE_ENV=', '  - "QI_UNUSED=1"\n  - "NODE_ENV='))
    try:
        run = site_in(NS, app, "-e", json.dumps({"app_image_prebuilt": {"flow-manager": image}}))
    finally:
        with open(vars_file, "w") as f:
            f.write(text)
    builds = dict((b["name"], b) for b in run.results("Build, test and push the images")[0]["builds"])
    assert builds["flow-manager"]["prebuilt"] is True and builds["flow-manager"]["image"] == image
    assert builds["preferences-server"].get("cache_hit") is True
    assert any("image %s from the inventory, not built" % image in m for m in builds["flow-manager"]["messages"])
    live = kube_json("-n", NS, "get", "deployment", "flow-manager")["spec"]["template"]["spec"]["containers"][0]
    assert live["image"] == image
    status, answer = settings("carla")
    assert status == 200 and "http://registry.gpii.net/common/magnification" in preferences_of(answer), answer


def test_new_loader_data_reruns_the_job_alone_and_no_change_is_a_no_change_run(system):
    app, _run = system
    pods_before = service_pods()
    job_before = kube_json("-n", NS, "get", "job", "preferences-data-loader")["metadata"]["uid"]
    assert settings("anna")[0] == 404
    vars_file = os.path.join(str(app), "provisioning", "data-loader-vars.yml")
    with open(vars_file) as f:
        text = f.read()
    with open(vars_file, "w") as f:
        f.write(text.replace("PREFERENCE_SETS=carla", "PREFERENCE_SETS=carla,anna"))
    changed = site_in(NS, app)
    status, answer = settings("anna")
    assert status == 200 and preferences_of(answer) == {"http://registry.gpii.net/common/fontSize": 24}, answer
    # The loader's inputs changed, so its Job was recreated and ran again; the services' pods were not rolled.
    job = kube_json("-n", NS, "get", "job", "preferences-data-loader")
    assert job["metadata"]["uid"] != job_before and job["status"].get("succeeded") == 1
    assert service_pods() == pods_before
    assert changed.changed() >= 1
    again = site_in(NS, app)
    assert again.changed() == 0, again.stats()
    assert service_pods() == pods_before


def test_a_database_that_never_becomes_ready_fails_its_wave_and_the_system_keeps_serving(system):
    app, _run = system
    revision = kube_json("-n", NS, "get", "pod", "couchdb-0")["metadata"]["labels"]["controller-revision-hash"]
    vars_file = os.path.join(str(app), "provisioning", "couchdb-vars.yml")
    with open(vars_file) as f:
        text = f.read()
    with open(vars_file, "w") as f:
        # Bound to the loopback only, the database never answers the kubelet's readiness probe.
        f.write(text.replace("couchdb_host_address: '0.0.0.0'", "couchdb_host_address: '127.0.0.1'"))
    failed = site_in(NS, app, "-e", "app_deploy_wait_timeout=60", check=False)
    why = failed.failure()
    assert failed.rc != 0 and "rollout of couchdb failed" in why and "pod couchdb-0: " in why, why
    # Its own log lines say why: it listens on the loopback.
    assert "qi-couchdb: PouchDB Server listening on 127.0.0.1:5984" in why, why
    assert "Rolled back to revision 1" in why, why
    # The pod of the failed revision was replaced from the previous one; the data and the services stayed.
    pod = kube_json("-n", NS, "get", "pod", "couchdb-0")
    assert pod["metadata"]["labels"]["controller-revision-hash"] == revision
    status, answer = settings("carla")
    assert status == 200 and "http://registry.gpii.net/common/magnification" in preferences_of(answer), answer
