"""The production inventory on the embedded cluster, its add-ons acting on what it renders: HTTPS through Traefik
with a certificate the local CA issued, the HorizontalPodAutoscaler reading metrics-server under load."""
import os
import subprocess
import threading
import time

import pytest

from conftest import EXAMPLES, KUBECONFIG, STATE, kube_json, kubectl, playbook

pytestmark = pytest.mark.cluster
NS = "qi-prod-addons"
HOST = "nodejs-hello.apps.prod.example.internal"
CA = os.path.join(STATE, "cluster", "pki", "ingress-ca")
# The production inventory as it is, but for the cluster (the embedded one), the namespace, the local CA, and an
# autoscaler sized for two cores that scales down after 20 s of lower load instead of Kubernetes' 300.
PRODUCTION = ["-e", "app_dir=%s/nodejs-hello" % EXAMPLES, "-e", "app_deploy_namespace=%s" % NS,
              "-e", '{"app_deploy_ingress_ca": {"cert": "%s.crt", "key": "%s.key"}}' % (CA, CA),
              "-e", '{"app_deploy_hpa": {"min": 1, "max": 3, "cpu": 50, "scale_down_after": 20}}',
              "-e", "app_deploy_replicas=1"]


def site(*extra):
    return playbook("playbooks/site.yml", *(PRODUCTION + list(extra)), inventory="inventories/production/hosts.yml",
                    env={"KUBECONFIG": KUBECONFIG}, timeout=1200)


def curl(url, *extra):
    """(HTTP status, body) of url, HOST resolved to the ingress controller on the loopback."""
    out = subprocess.run(["curl", "-sS", "--max-time", "10", "--resolve", "%s:443:127.0.0.1" % HOST,
                          "--resolve", "%s:80:127.0.0.1" % HOST, "-o", "-", "-w", "\n%{http_code}", url] + list(extra),
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, "curl %s failed: %s" % (url, out.stderr)
    body, status = out.stdout.rsplit("\n", 1)
    return int(status), body


@pytest.fixture(scope="module")
def production():
    kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=300)
    first = site()
    second = site()
    yield first, second
    kubectl("delete", "namespace", NS, "--wait=false")


def served(url, *extra, timeout=30):
    """(status, body) of url once the ingress controller has its route: it follows the Ingress and its endpoints
    within its 2 s throttle, so the first requests after a rollout may still meet its 404."""
    end = time.time() + timeout
    while True:
        status, body = curl(url, *extra)
        if status != 404 or time.time() > end:
            return status, body
        time.sleep(1)


def test_https_answers_at_the_host_with_the_local_cas_certificate(production):
    issued = production[0].results("Roll out the applications")[0]["tls_issued"]
    assert issued == [{"secret": "apps-prod-tls", "why": "missing"}]
    status, body = served("https://%s/" % HOST, "--cacert", CA + ".crt")
    assert status == 200 and "Hello from provisioning" in body
    # Traefik's own default certificate would not verify: the Ingress's Secret is what served.
    assert kube_json("-n", NS, "get", "ingress", "nodejs-hello")["spec"]["ingressClassName"] == "traefik"


def test_plain_http_does_not_reach_a_tls_only_host(production):
    assert served("https://%s/" % HOST, "--cacert", CA + ".crt")[0] == 200
    status, body = curl("http://%s/" % HOST)
    assert status == 404 and "Hello" not in body


def test_the_rerun_changes_nothing_and_keeps_the_certificate(production):
    second = production[1]
    assert second.changed() == 0
    assert "tls_issued" not in second.results("Roll out the applications")[0]


class Load(threading.Thread):
    """HTTPS requests through the ingress from 4 connections, until told to stop or for at most `limit` seconds."""

    def __init__(self, limit=300):
        super().__init__(daemon=True)
        self.limit, self.stop, self.sent = limit, threading.Event(), 0

    def run(self):
        end = time.time() + self.limit
        while not self.stop.is_set() and time.time() < end:
            subprocess.run(["curl", "-s", "-o", "/dev/null", "--parallel", "--parallel-max", "4", "--resolve",
                            "%s:443:127.0.0.1" % HOST, "--cacert", CA + ".crt"]
                           + ["https://%s/" % HOST] * 200, check=False, timeout=60)
            self.sent += 200


def replicas():
    return kube_json("-n", NS, "get", "deployment", "nodejs-hello")["spec"].get("replicas")


def wait_for(what, predicate, timeout):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(5)
    raise AssertionError("%s: not within %d s (hpa: %s)" % (what, timeout, kubectl(
        "-n", NS, "describe", "hpa", "nodejs-hello", check=False).stdout[-1500:]))


def test_the_autoscaler_reads_cpu_scales_up_under_load_and_back_down(production):
    def cpu_read():
        current = kube_json("-n", NS, "get", "hpa", "nodejs-hello").get("status", {}).get("currentMetrics") or []
        return [m for m in current if m.get("resource", {}).get("current", {}).get("averageUtilization") is not None]
    wait_for("metrics-server gives the autoscaler a CPU figure", cpu_read, 120)
    assert "nodejs-hello" in kubectl("-n", NS, "top", "pods").stdout
    assert replicas() == 1
    load = Load()
    load.start()
    try:
        wait_for("scaled up under load", lambda: replicas() > 1, 240)
    finally:
        load.stop.set()
        load.join()
    wait_for("scaled back down", lambda: replicas() == 1, 240)


CLIENT_NS = "qi-prod-addons-client"
PROBE = ("import sys, urllib.request as u\n"
         "try:\n    print(u.urlopen(sys.argv[1], timeout=3).status)\n"
         "except Exception as e:\n    print('refused: %s' % e)\n")


def reach(url):
    """What a pod of another namespace gets from url: the status, or 'refused: why'."""
    return kubectl("-n", CLIENT_NS, "exec", "client", "--", "python3", "-c", PROBE, url, timeout=60).stdout.strip()


@pytest.fixture(scope="module")
def client_pod():
    kubectl("delete", "namespace", CLIENT_NS, "--ignore-not-found", "--wait=true", timeout=300)
    kubectl("create", "namespace", CLIENT_NS)
    kubectl("-n", CLIENT_NS, "run", "client", "--image=localhost/qi-convergence/debian:12", "--image-pull-policy=Never",
            "--restart=Never", "--", "sleep", "900")
    kubectl("-n", CLIENT_NS, "wait", "--for=condition=Ready", "pod/client", "--timeout=120s", timeout=150)
    yield
    kubectl("delete", "namespace", CLIENT_NS, "--wait=false")


def test_the_network_policy_admits_the_apps_port_and_blocks_the_rest(production, client_pod):
    # Last in this file: it redeploys without the policy at the end.
    # Not a pod the autoscaler is still removing (listed during its grace period).
    pod = [p for p in kube_json("-n", NS, "get", "pods", "-l", "app.kubernetes.io/name=nodejs-hello")["items"]
           if not p["metadata"].get("deletionTimestamp")][0]
    name, ip = pod["metadata"]["name"], pod["status"]["podIP"]
    # A second listener in the app's pod, on a port the policy does not admit; it answers inside the pod.
    kubectl("-n", NS, "exec", name, "--", "sh", "-c", "nohup node -e \"require('http').createServer(function (q, s) "
            "{ s.end('other'); }).listen(9999)\" >/dev/null 2>&1 &")
    inside = "require('http').get('http://127.0.0.1:9999/', function (r) { process.exit(r.statusCode === 200 ? 0 : 1); })"
    wait_for("the second listener answers inside the pod",
             lambda: kubectl("-n", NS, "exec", name, "--", "node", "-e", inside, check=False).returncode == 0, 30)
    assert reach("http://%s:8080/" % ip) == "200"
    assert reach("http://%s:9999/" % ip).startswith("refused: ")
    # Without the policy the same port answers: the policy, enforced, is what refused it.
    site("-e", "app_deploy_network_policy=false")
    assert kubectl("-n", NS, "get", "networkpolicy", "nodejs-hello", check=False).returncode != 0
    end = time.time() + 30
    while reach("http://%s:9999/" % ip) != "200":
        assert time.time() < end, "port 9999 stayed refused after the NetworkPolicy was removed"
        time.sleep(2)
