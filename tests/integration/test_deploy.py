"""Build + deploy on the embedded cluster, end to end: answers, idempotence, failures, rollback, prune, production."""
import http.client
import threading
import time

import pytest
import yaml

from conftest import EXAMPLES, KUBECONFIG, kube_json, kubectl, playbook

pytestmark = pytest.mark.cluster
APPS = {"nodejs-hello": (30080, "Hello from provisioning"), "python-notes": (30081, "Team notes")}
ROLLOUT = "Roll out"


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
    for name in APPS:
        first = playbook("playbooks/site.yml", "-e", "app_dir=%s/%s" % (EXAMPLES, name))
        second = playbook("playbooks/site.yml", "-e", "app_dir=%s/%s" % (EXAMPLES, name))
        out[name] = (first, second)
    return out


@pytest.mark.parametrize("name", sorted(APPS))
def test_site_answers_through_node_port(sites, name):
    port, body = APPS[name]
    status, text = get(port)
    assert status == 200 and body in text
    assert "ConfigMap" in text or "first note" in text
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
    (app / ".qi.yml").write_text("app_name: " + name + "\napp_start_script: server.js\napp_tcp_port: 8080\n"
                                 "software_stack: nodejs\nhealth: {path: /healthz}\n")
    image = deployed_image("nodejs-hello")
    # An environment that breaks the app at start: Node refuses the port and exits.
    res = deploy(str(app), "-e", "app_image=%s" % image, "-e", '{"app_deploy_env": {"PORT": "99999"}}', check=False)
    msg = res.failure()
    assert res.rc != 0 and "CrashLoopBackOff" in msg, msg
    assert "last log lines" in msg and "ERR_SOCKET_BAD_PORT" in msg
    assert "first revision: its objects were removed" in msg
    assert kubectl("-n", "default", "get", "deployment", name, check=False).returncode != 0


def test_rollback_playbook_moves_between_revisions(sites):
    digest_image = deployed_image("python-notes")
    tag_image = sites["python-notes"][0].results("Build the image from the provisioning playbook")[0]["image_tag"]
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
    qi["deploy"]["config_files"][0]["name"] = "prune-demo-motd"
    qi["deploy"]["secrets"] = [{"name": "prune-demo-token", "env": ["API_TOKEN"]}]
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
    del qi["deploy"]["config_files"]
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
    res = deploy("%s/%s" % (EXAMPLES, name), "--check", "-e", "app_image=%s" % image,
                 "-e", "app_deploy_kubeconfig=%s" % KUBECONFIG, "-e", "app_deploy_namespace=qi-validate",
                 "-e", "app_deploy_fetch_kubeconfig=false", "-e", '{"app_deploy_node_ports": {}}', "-e", "app_deploy_release=%s-%s-dryrun" % (name, inventory),
                 inventory="inventories/%s/hosts.yml" % inventory)
    applied = res.results(ROLLOUT)[0]["applied"]
    assert "Deployment/%s" % name in applied and "Service/%s" % name in applied
    assert kubectl("-n", "qi-validate", "get", "all,secret,configmap", "-o", "name").stdout.strip() in ("", "configmap/kube-root-ca.crt")
