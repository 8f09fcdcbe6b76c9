"""Build + deploy on the embedded cluster, end to end: answers, idempotence, failures, rollback, prune, production."""
import http.client
import json
import shutil
import threading
import time

import docker
import pytest
import yaml

from conftest import failing_hello, EXAMPLES, KUBECONFIG, kube_json, kubectl, playbook

pytestmark = pytest.mark.cluster
# app name: (example folder, node port, text of the reply)
APPS = {"nodejs-hello": ("nodejs-hello", 30080, "Hello from provisioning"),
        "python-notes": ("python-notes", 30081, "Team notes"),
        "greeter": ("qi-apps", 30082, "Hello, world")}
ROLLOUT = "Roll out"
BUILD = "Build, test and push the images of"


def get(port, path="/", timeout=2):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read().decode()


def deploy(app_dir, *extra, check=True, inventory="inventories/local/hosts.yml"):
    return playbook("playbooks/deploy.yml", "-e", "app_dir=%s" % app_dir, *extra, check=check, inventory=inventory)


def deployed_image(name, ns="default"):
    return kube_json("-n", ns, "get", "deployment", name)["spec"]["template"]["spec"]["containers"][0]["image"]


def revisions(name, ns="default"):
    items = kube_json("-n", ns, "get", "secret", "-l", "qi-convergence.io/release=%s" % name)["items"]
    return sorted(int(s["metadata"]["name"].rsplit(".v", 1)[1]) for s in items)


@pytest.fixture(scope="module")
def sites():
    """site.yml (build + deploy) on each example app, run twice."""
    out = {}
    for name, (folder, _port, _body) in APPS.items():
        first = playbook("playbooks/site.yml", "-e", "app_dir=%s/%s" % (EXAMPLES, folder))
        second = playbook("playbooks/site.yml", "-e", "app_dir=%s/%s" % (EXAMPLES, folder))
        out[name] = (first, second)
    return out


@pytest.mark.parametrize("name", sorted(APPS))
def test_site_answers_through_node_port(sites, name):
    folder, port, body = APPS[name]
    status, text = get(port)
    assert status == 200 and body in text
    if name != "greeter":
        assert "ConfigMap" in text or "first note" in text
    if name == "nodejs-hello":
        assert json.loads(text)["node"] == "v4.3.1"  # the version its .qi.yml asks for
    msg = sites[name][0].results("Show where the apps answer")[0]["msg"]
    assert "http://127.0.0.1:%d/" % port in msg


@pytest.mark.parametrize("name", sorted(APPS))
def test_site_rerun_changes_nothing(sites, name):
    second = sites[name][1]
    assert second.changed() == 0 and second.changed("local-node") == 0


class RequestLoop(threading.Thread):
    """A bounded loop of requests on loopback, counting failures."""

    def __init__(self, port, limit=600, interval=0.1):
        super().__init__(daemon=True)
        self.port, self.limit, self.interval = port, limit, interval
        self.ok, self.failed, self.stop = 0, [], threading.Event()

    def run(self):
        for attempt in range(self.limit):
            if self.stop.is_set():
                return
            try:
                status = get(self.port, "/healthz")[0]
                self.ok += 1 if status == 200 else 0
                if status != 200:
                    self.failed.append(status)
            except OSError as e:
                self.failed.append(repr(e))
            time.sleep(self.interval)


def test_bad_image_fails_fast_keeps_serving_and_rolls_back(sites):
    before_image = deployed_image("nodejs-hello")
    before_revs = revisions("nodejs-hello")
    loop = RequestLoop(30080)
    loop.start()
    start = time.time()
    res = deploy("%s/nodejs-hello" % EXAMPLES, "-e", "app_image=127.0.0.1:5000/nodejs-hello:does-not-exist", check=False)
    elapsed = time.time() - start
    time.sleep(1)
    loop.stop.set()
    loop.join()
    assert res.rc != 0
    msg = res.failure()
    assert "ErrImagePull" in msg or "ImagePullBackOff" in msg
    assert "Rolled back to revision %d" % before_revs[-1] in msg
    assert elapsed < 60
    assert loop.ok > 10 and loop.failed == []
    assert deployed_image("nodejs-hello") == before_image
    assert revisions("nodejs-hello") == before_revs
    pods = kube_json("-n", "default", "get", "pods", "-l", "app.kubernetes.io/name=nodejs-hello")["items"]
    assert all(p["spec"]["containers"][0]["image"] == before_image for p in pods if not p["metadata"].get("deletionTimestamp"))
    print("failed deploy detected and rolled back in %.1f s; %d requests, 0 failed" % (elapsed, loop.ok))


def test_crashing_image_names_crash_loop_and_logs(sites, app_copy):
    name = "crasher-%d" % (time.time() % 100000)
    app = app_copy("nodejs-hello", name)
    shutil.rmtree(str(app / "provisioning"))
    (app / ".qi.yml").write_text("app_name: " + name + "\napp_start_script: server.js\napp_tcp_port: 8080\n"
                                 "app_start_service: true\nsoftware_stack: nodejs\nhealth: {path: /healthz}\n")
    image = deployed_image("nodejs-hello")
    # An environment that breaks the app at start: without a numeric port it exits.
    res = deploy(str(app), "-e", "app_image=%s" % image, "-e", '{"app_deploy_env": {"NODEJS_HELLO_TCP_PORT": "none"}}',
                 check=False)
    msg = res.failure()
    assert res.rc != 0 and "CrashLoopBackOff" in msg, msg
    assert "last 20 log lines" in msg and "NODEJS_HELLO_TCP_PORT is not set" in msg
    assert "first revision: its objects were removed" in msg
    assert kubectl("-n", "default", "get", "deployment", name, check=False).returncode != 0


def test_rollback_playbook_moves_between_revisions(sites):
    digest_image = deployed_image("python-notes")
    tag_image = sites["python-notes"][0].results(BUILD)[0]["image_tag"]
    deploy("%s/python-notes" % EXAMPLES, "-e", "app_image=%s" % tag_image)
    revs = revisions("python-notes")
    assert deployed_image("python-notes") == tag_image
    back = playbook("playbooks/rollback.yml", "-e", "app_dir=%s/python-notes" % EXAMPLES)
    assert deployed_image("python-notes") == digest_image
    assert back.results("Roll back to the recorded revision")[0]["revision"] == revs[-1] + 1
    playbook("playbooks/rollback.yml", "-e", "release=python-notes", "-e", "revision=%d" % revs[-1])
    assert deployed_image("python-notes") == tag_image
    assert get(30081)[0] == 200
    deploy("%s/python-notes" % EXAMPLES, "-e", "app_image=%s" % digest_image)
    assert deployed_image("python-notes") == digest_image


def test_removing_a_config_map_prunes_it_and_secrets_stay_hidden(sites, app_copy):
    app = app_copy("nodejs-hello", "prune-demo")
    qi = yaml.safe_load((app / ".qi.yml").read_text())
    qi["app_name"] = "prune-demo"
    qi["kubernetes"]["config_files"][0]["name"] = "prune-demo-motd"
    qi["kubernetes"]["secrets"] = [{"name": "prune-demo-token", "env": ["API_TOKEN"]}]
    (app / ".qi.yml").write_text(yaml.safe_dump(qi))
    image = deployed_image("nodejs-hello")
    token = "tok-%d-very-secret" % time.time()
    secret_arg = '{"app_deploy_secrets": {"prune-demo-token": {"API_TOKEN": "%s"}}}' % token
    first = deploy(str(app), "-e", "app_image=%s" % image, "-e", secret_arg, "-v")
    assert kubectl("-n", "default", "get", "configmap", "prune-demo-motd").returncode == 0
    pod = kube_json("-n", "default", "get", "pods", "-l", "app.kubernetes.io/name=prune-demo")["items"][0]
    env = kubectl("-n", "default", "exec", pod["metadata"]["name"], "--", "printenv", "API_TOKEN").stdout.strip()
    assert env == token
    assert token not in str(first.data)
    del qi["kubernetes"]["config_files"]
    (app / ".qi.yml").write_text(yaml.safe_dump(qi))
    second = deploy(str(app), "-e", "app_image=%s" % image, "-e", secret_arg)
    assert "ConfigMap/prune-demo-motd" in second.results(ROLLOUT)[0]["pruned"]
    assert kubectl("-n", "default", "get", "configmap", "prune-demo-motd", check=False).returncode != 0
    playbook_absent("prune-demo")


def playbook_absent(release):
    from conftest import run, ENV, ROOT
    import os
    run([os.path.join(ROOT, ".venv", "bin", "ansible"), "localhost", "-m", "qi.convergence.k8s_release",
         "-a", "release=%s namespace=default state=absent kubeconfig=%s" % (release, KUBECONFIG)], env=ENV)


def test_production_settings_in_a_local_namespace(sites):
    ns = "qi-prod-sim"
    image = deployed_image("nodejs-hello")
    deploy("%s/nodejs-hello" % EXAMPLES, "-e", "app_image=%s" % image, "-e", "app_deploy_kubeconfig=%s" % KUBECONFIG,
           "-e", "app_deploy_namespace=%s" % ns, inventory="inventories/production/hosts.yml")
    dep = kube_json("-n", ns, "get", "deployment", "nodejs-hello")
    assert dep["status"].get("readyReplicas") == 3
    for kind in ("poddisruptionbudget", "horizontalpodautoscaler", "ingress", "networkpolicy"):
        assert kube_json("-n", ns, "get", kind, "nodejs-hello")["metadata"]["labels"][
            "app.kubernetes.io/managed-by"] == "qi.convergence"
    ingress = kube_json("-n", ns, "get", "ingress", "nodejs-hello")
    assert ingress["spec"]["tls"][0]["hosts"] == ["nodejs-hello.apps.prod.example.internal"]
    kubectl("delete", "namespace", ns, "--wait=false")


@pytest.mark.parametrize("inventory", ["local", "dev", "production"])
@pytest.mark.parametrize("name", sorted(APPS))
def test_rendered_manifests_pass_server_validation(sites, inventory, name):
    image = deployed_image(name)
    kubectl("create", "namespace", "qi-validate", check=False)
    res = deploy("%s/%s" % (EXAMPLES, APPS[name][0]), "--check", "-e", "app_image=%s" % image,
                 "-e", "app_deploy_kubeconfig=%s" % KUBECONFIG, "-e", "app_deploy_namespace=qi-validate",
                 "-e", "app_deploy_fetch_kubeconfig=false", "-e", '{"app_deploy_node_ports": {}}', "-e", "app_deploy_release=%s-%s-dryrun" % (name, inventory),
                 inventory="inventories/%s/hosts.yml" % inventory)
    applied = res.results(ROLLOUT)[0]["applied"]
    assert "Deployment/%s" % name in applied and "Service/%s" % name in applied
    assert kubectl("-n", "qi-validate", "get", "all,secret,configmap", "-o", "name").stdout.strip() in ("", "configmap/kube-root-ca.crt")


def test_a_library_of_an_apps_file_is_not_deployed(sites):
    assert kubectl("-n", "default", "get", "deployment", "text-utils", check=False).returncode != 0
    said = sites["greeter"][0].results(ROLLOUT)[0]["not_deployed"]
    assert [a["name"] for a in said] == ["text-utils"] and "not deployed" in said[0]["why"]


def test_a_failing_qi_command_deploys_nothing(sites, app_copy):
    app = failing_hello(app_copy, "failing-site", 77)
    res = playbook("playbooks/site.yml", "-e", "app_dir=%s" % app, check=False)
    assert res.rc != 0 and "QI_FAIL_TEST=77 npm test" in res.failure()
    assert res.results(ROLLOUT) == []
    assert kubectl("-n", "default", "get", "deployment", "failing-site", check=False).returncode != 0


def test_legacy_secrets_reach_the_pod_and_never_the_image(tmp_path):
    secret = "s3cr3t-%d" % time.time()
    values = tmp_path / "secrets.yml"
    values.write_text(yaml.safe_dump({"secrets_env_vars": ["GPII_OAUTH2_AUTH_CLIENT_ID=e2e_client",
                                                           "GPII_OAUTH2_AUTH_CLIENT_SECRET=" + secret]}))
    res = playbook("playbooks/site.yml", "-e", "app_dir=%s/legacy-secrets" % EXAMPLES, "-e", "@%s" % values, "-v")
    assert secret not in json.dumps(res.data)
    status, text = get(30083)
    body = json.loads(text)
    assert status == 200 and body["clientId"] == "e2e_client" and body["clientSecretLength"] == len(secret)
    pod = [p for p in kube_json("-n", "default", "get", "pods", "-l", "app.kubernetes.io/name=discovery-server")["items"]
           if not p["metadata"].get("deletionTimestamp")][0]
    env = kubectl("-n", "default", "exec", pod["metadata"]["name"], "--", "env").stdout
    assert "DISCOVERY_SERVER_TCP_PORT=8088" in env and "GPII_OAUTH2_AUTH_CLIENT_SECRET=" + secret in env
    image = docker.from_env().images.get(deployed_image("discovery-server"))
    assert secret not in json.dumps(image.attrs) + json.dumps(image.history())
