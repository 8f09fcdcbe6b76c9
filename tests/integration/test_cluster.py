"""The embedded single-node cluster, for real: pods from the local registry, logs, exec, Services, restarts."""
import http.client
import json
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest
import yaml

from conftest import EXAMPLES, KUBECONFIG, ROOT, STATE, kube_json, kubectl, kubectl_bin, playbook, run

pytestmark = pytest.mark.cluster
NS = "qi-e2e-cluster-%s" % uuid.uuid4().hex[:6]


@pytest.fixture(scope="module")
def image():
    res = playbook("playbooks/build.yml", "-e", "app_dir=%s/nodejs-hello" % EXAMPLES)
    return res.results("Build, test and push the images of")[0]["image"]


@pytest.fixture(scope="module")
def namespace():
    kubectl("create", "namespace", NS, check=False)
    yield NS
    kubectl("delete", "namespace", NS, "--wait=false", check=False)


def wait_ready(ns, selector, timeout="120s"):
    kubectl("-n", ns, "wait", "--for=condition=Ready", "pod", "-l", selector, "--timeout=" + timeout)


def test_node_is_ready():
    nodes = kube_json("get", "nodes")["items"]
    assert len(nodes) == 1
    ready = [c for c in nodes[0]["status"]["conditions"] if c["type"] == "Ready"][0]
    assert ready["status"] == "True"


def test_pod_from_local_registry_runs_with_logs_and_exec(image, namespace):
    kubectl("-n", namespace, "run", "hello", "--image=" + image, "--labels=app=hello", "--port=8080")
    wait_ready(namespace, "app=hello")
    pod = kube_json("-n", namespace, "get", "pod", "hello")
    assert pod["status"]["containerStatuses"][0]["imageID"].endswith(image.split("@")[1])
    assert "nodejs-hello listening on 8080" in kubectl("-n", namespace, "logs", "hello").stdout
    assert kubectl("-n", namespace, "exec", "hello", "--", "id", "-un").stdout.strip() == "nodejs"


def test_cluster_ip_reachable_from_another_pod(image, namespace):
    kubectl("-n", namespace, "expose", "pod", "hello", "--name=hello-cip", "--port=8080", check=False)
    ip = kube_json("-n", namespace, "get", "svc", "hello-cip")["spec"]["clusterIP"]
    assert "Hello from provisioning" in run_to_completion(namespace, "client", fetch_code("http://%s:8080/" % ip))


def fetch_code(url, before=""):
    """Python for a pod: `before`, then print url's reply. kube-proxy programs a new Service within a moment, so
    a few retries, bounded."""
    return (before + "import time,urllib.request\n"
            "for i in range(20):\n"
            "    try:\n"
            "        print(urllib.request.urlopen('%s',timeout=3).read().decode()); break\n"
            "    except OSError:\n"
            "        time.sleep(0.5)\n"
            "else:\n"
            "    raise SystemExit('no answer')\n") % url


# The client pods' image: the base image, imported for local-path's helpers, has python3 (the app's runtime-only
# image has node alone).
CLIENT_IMAGE = "localhost/qi-convergence/debian:12"


def run_to_completion(namespace, name, code):
    """Run Python code in a one-off pod; return its log once it succeeded."""
    kubectl("-n", namespace, "run", name, "--image=" + CLIENT_IMAGE, "--image-pull-policy=Never", "--restart=Never",
            "--command", "--", "python3", "-c", code)
    for attempt in range(60):
        phase = kube_json("-n", namespace, "get", "pod", name)["status"]["phase"]
        if phase in ("Succeeded", "Failed"):
            break
        time.sleep(1)
    log = kubectl("-n", namespace, "logs", name, check=False).stdout
    assert phase == "Succeeded", log
    return log


def test_pods_resolve_service_names_through_cluster_dns(image, namespace):
    kubectl("-n", namespace, "expose", "pod", "hello", "--name=hello-dns", "--port=8080", check=False)
    ip = kube_json("-n", namespace, "get", "svc", "hello-dns")["spec"]["clusterIP"]
    names = ("import socket\n"
             "print('api', socket.gethostbyname('kubernetes.default.svc.cluster.local'))\n"
             "print('short', socket.gethostbyname('hello-dns'))\n")
    log = run_to_completion(namespace, "dns-client", fetch_code("http://hello-dns.%s:8080/" % namespace, names))
    assert "api 10.96.0.1" in log
    assert "short %s" % ip in log
    assert "Hello from provisioning" in log
    resolver = kubectl("-n", namespace, "exec", "hello", "--", "cat", "/etc/resolv.conf").stdout
    assert "nameserver 10.96.0.10" in resolver and "search %s.svc.cluster.local" % namespace in resolver


def test_node_port_answers_on_loopback(image, namespace):
    kubectl("-n", namespace, "expose", "pod", "hello", "--name=hello-np", "--type=NodePort", "--port=8080",
            check=False)
    port = kube_json("-n", namespace, "get", "svc", "hello-np")["spec"]["ports"][0]["nodePort"]
    for attempt in range(30):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            r = c.getresponse()
            if r.status == 200:
                assert r.read().decode().strip() == "ok"
                return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError("NodePort %d did not answer on 127.0.0.1" % port)


def test_cluster_playbook_is_idempotent():
    # Converged first the way make cluster does it (a check of seconds when nothing changed since it ran).
    run(["scripts/cluster-up.sh"], timeout=600)
    again = playbook("playbooks/cluster.yml")
    assert again.changed("local-node") == 0


def test_cluster_up_checks_a_healthy_unchanged_cluster_without_running_the_playbook():
    run(["scripts/cluster-up.sh"], timeout=600)
    again = run(["scripts/cluster-up.sh"], timeout=120)
    assert "cluster up, unchanged since it was provisioned" in again.stdout and "PLAY RECAP" not in again.stdout
    # A supervised process that is gone runs the playbook again, which starts it (so does any changed input).
    with open(os.path.join(STATE, "cluster", "run", "kube-proxy.pid")) as f:
        os.kill(int(f.read()), 15)
    time.sleep(2)
    restarted = run(["scripts/cluster-up.sh"], timeout=600)
    assert "PLAY RECAP" in restarted.stdout
    assert "unchanged since" in run(["scripts/cluster-up.sh"], timeout=120).stdout


def _usable_providers():
    """Vagrant's built-in docker provider needs no plugin; virtualbox/libvirt count only where installed."""
    found = ["docker"]
    if shutil.which("VBoxManage"):
        found.append("virtualbox")
    plugins = run(["vagrant", "plugin", "list"], check=False, timeout=120).stdout
    if "vagrant-libvirt" in plugins:
        found.append("libvirt")
    return found


def test_vagrantfile_is_valid_for_every_usable_provider():
    for provider in _usable_providers():
        res = run(["vagrant", "validate"], check=False, timeout=120,
                  env=dict(os.environ, VAGRANT_DEFAULT_PROVIDER=provider, VAGRANT_CHECKPOINT_DISABLE="1"))
        assert res.returncode == 0, provider + ": " + res.stdout + res.stderr
        assert "Vagrantfile validated successfully" in res.stdout


def test_vagrantfile_provisions_with_real_role_variables():
    """The provisioner's playbook exists and parses, and every extra var it passes is a variable of the role."""
    text = open(os.path.join(ROOT, "Vagrantfile")).read()
    playbook_path = re.search(r'ansible\.playbook = "([^"]+)"', text).group(1)
    run(["ansible-playbook", "--syntax-check", "-i", "localhost,", playbook_path])
    passed = set(re.findall(r"^\s+(k8s_single_node_\w+):", text, re.M))
    assert passed, "the Vagrantfile passes no role variables"
    with open(os.path.join(ROOT, "roles", "k8s_single_node", "defaults", "main.yml")) as f:
        known = set(yaml.safe_load(f))
    assert passed <= known, "unknown role variables in the Vagrantfile: %s" % sorted(passed - known)


def _volume_pod(name, claim, command):
    """A pod of the base image (imported for local-path's helpers) running as a non-root user on the claim."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                     "securityContext": {"runAsUser": 1000, "runAsGroup": 1000},
                     "containers": [{"name": "c", "image": CLIENT_IMAGE,
                                     "imagePullPolicy": "Never", "command": ["/bin/sh", "-c", command],
                                     "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}}


def _apply(obj):
    proc = subprocess.run([kubectl_bin(), "--kubeconfig", KUBECONFIG, "apply", "-f", "-"], input=json.dumps(obj),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr


def _pod_output(name, timeout=120):
    kubectl("-n", "default", "wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/" + name,
            "--timeout=%ds" % timeout, timeout=timeout + 10)
    return kubectl("-n", "default", "logs", name).stdout.strip()


def test_the_default_storage_class_provisions_a_volume_the_app_user_can_write():
    classes = kube_json("get", "storageclass")["items"]
    default = [c for c in classes
               if (c["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    assert [(c["metadata"]["name"], c["provisioner"]) for c in default] == [("local-path", "rancher.io/local-path")]


def test_cluster_down_then_up_keeps_data():
    value = uuid.uuid4().hex
    claim = "qi-persist-%s" % value[:8]
    kubectl("-n", "default", "create", "configmap", "qi-persist-%s" % value[:8], "--from-literal=v=" + value)
    # A volume of the default StorageClass, written by a pod that is then deleted.
    _apply({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim, "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Mi"}}}})
    _apply(_volume_pod(claim + "-w", claim, "echo %s > /data/v && cat /data/v" % value))
    assert _pod_output(claim + "-w") == value
    kubectl("-n", "default", "delete", "pod", claim + "-w")
    volume = kube_json("-n", "default", "get", "pvc", claim)["spec"]["volumeName"]
    path = kube_json("get", "pv", volume)["spec"]["hostPath"]["path"]
    assert path.startswith(os.path.join(STATE, "storage") + os.sep), path
    run(["scripts/cluster-down.sh"], timeout=300)
    assert not any(l.split()[1].startswith((os.path.join(STATE, "cluster"), "/run/qi-convergence"))
                   for l in open("/proc/self/mounts"))
    pids = [f for f in os.listdir(os.path.join(STATE, "cluster", "run")) if f.endswith(".pid")]
    assert pids == []
    assert kubectl("get", "--raw", "/readyz", check=False, timeout=20).returncode != 0
    start = time.time()
    run(["scripts/cluster-up.sh"], timeout=600)
    print("warm cluster start: %.1f s" % (time.time() - start))
    got = kube_json("-n", "default", "get", "configmap", "qi-persist-%s" % value[:8])
    assert got["data"]["v"] == value
    # The file outlived its pod and the cluster's restart; deleting the claim removes the folder.
    _apply(_volume_pod(claim + "-r", claim, "cat /data/v"))
    assert _pod_output(claim + "-r") == value
    kubectl("-n", "default", "delete", "pod", claim + "-r")
    kubectl("-n", "default", "delete", "pvc", claim)
    deadline = time.time() + 60
    while os.path.exists(path) and time.time() < deadline:
        time.sleep(1)
    assert not os.path.exists(path), "the folder of a deleted claim is still there: %s" % path
    kubectl("-n", "default", "delete", "configmap", "qi-persist-%s" % value[:8])
