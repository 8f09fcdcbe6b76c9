"""Real app folders' shapes, built and deployed for real: a legacy Dockerfile's ENV choosing the vars file and the
install dir, a CamelCase nodejs_app_name, Node.js 0.10 from the Dockerfile's FROM, an RPM package the app runs,
nodejs_app_dev_env on, and the role's test endpoint as the smoke test that rolls a release back."""
import json
import os
import uuid

import docker
import pytest

from conftest import ROOT, deployed_copy, kube_json, kubectl, service_get, site_in

pytestmark = pytest.mark.cluster
FIXTURE = os.path.join(ROOT, "tests", "integration", "fixtures", "legacy-dockerfile-app")
NAME = "camelcaseservice"
NS = "qi-real-%s" % uuid.uuid4().hex[:6]


def site(app, check=True, env=None):
    return site_in(NS, app, check=check, env=env)


def get(path="/"):
    return service_get(NS, NAME, path)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    yield deployed_copy(tmp_path_factory, FIXTURE, NS)
    kubectl("delete", "namespace", NS, "--wait=false", check=False)


def test_the_legacy_docker_build_is_reproduced_and_answers(deployed):
    _app, run = deployed
    status, text = get("/")
    assert status == 200, text
    reply = json.loads(text)
    assert reply["node"] == "v0.10.48"  # the Dockerfile's FROM inclusivedesign/nodejs:0.10.48
    assert reply["jq"].startswith("jq-")  # nodejs_app_rpm_packages: [jq], run by the app at start
    assert reply["env"] == "production"  # vars-docker.yml, chosen by the Dockerfile's ENV EXTRA_VARS_FILE
    report = "\n".join(run.results("Report each image")[0]["msg"])
    for said in ("playbook provisioning/playbook.yml: from Dockerfile", "EXTRA_VARS_FILE=vars-docker.yml",
                 "Node.js 0.10.48: from the Dockerfile's FROM",
                 "app name CamelCaseService: deployed and tagged as camelcaseservice"):
        assert said in report


def test_camel_case_name_in_kubernetes_and_the_roles_port_variable(deployed):
    dep = kube_json("-n", NS, "get", "deployment", NAME)
    image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
    client = docker.from_env()
    assert "CAMELCASESERVICE_TCP_PORT=8080" in client.images.get(image).attrs["Config"]["Env"]
    # dev_env true: in the image the app user runs it, not the Vagrant dev user; installed where ENV INSTALL_DIR said.
    out = client.containers.run(image, ["sh", "-c", "id -un && stat -c %U /opt/camel-case-service/node_modules/ms"
                                        " && ls /home"], remove=True).decode()
    assert out.split() == ["nodejs", "nodejs", "nodejs"], out


def test_2016_includes_run_from_a_staged_copy_with_their_tags_and_parameters(deployed):
    """The fixture's role and playbook use `include:` (removed in ansible-core 2.16) as GPII's 2016 roles do."""
    app, _run = deployed
    image = kube_json("-n", NS, "get", "deployment", NAME)["spec"]["template"]["spec"]["containers"][0]["image"]
    out = docker.from_env().containers.run(image, ["sh", "-c", "cd /etc/camel-case-service && cat settings.json; echo; "
                                                   "cat install.done configure.done release; echo"], remove=True).decode()
    # settings_file=... reached the included tasks, the looped include ran under --tags install, and the
    # play-level include's play ran under --tags configure.
    assert out.split() == ['{"configuredBy":"2016', 'include"}', "installconfigureplaybook-include"], out
    with open(os.path.join(app, "provisioning", "roles", "camel-case-config", "tasks", "main.yml")) as f:
        assert f.read().count("- include: ") == 2  # the app's own files are left as they were


def test_the_roles_test_endpoint_is_the_smoke_test_and_its_failure_rolls_back(deployed):
    app, run = deployed
    assert "smoke test GET /status on %s-" % NAME in run.stderr  # the progress line of the passing check
    failing = site(app, check=False, env={"FIXTURE_SMOKE_TEXT": "a text the app never says"})
    assert failing.rc != 0
    msg = failing.failure()
    assert "GET /status" in msg and "without the text 'a text the app never says'" in msg, msg
    assert "CamelCaseService ok" in msg  # what it answered
    assert "Rolled back to revision 1" in msg, msg
    annotation = kube_json("-n", NS, "get", "deployment", NAME)["metadata"]["annotations"]["qi-convergence.io/smoke-test"]
    assert json.loads(annotation)["text"] == "CamelCaseService ok"
    assert get("/status") == (200, "CamelCaseService ok\n")
