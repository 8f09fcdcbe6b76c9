"""Deploy safety on the embedded cluster: failures named fast with their reason and log lines, rollback with no
failed request, the release lock, a killed run, a flaky API, and a deployer with only a namespaced Role."""
import base64
import http.client
import http.server
import os
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import yaml

from conftest import EXAMPLES, ENV, KUBECONFIG, ROOT, kube_json, kubectl, playbook
from test_deploy import RequestLoop, get

pytestmark = pytest.mark.cluster
NS = "qi-safety-%s" % uuid.uuid4().hex[:6]
APP = "%s/nodejs-hello" % EXAMPLES
MAINTENANCE = '{"app_deploy_env": {"NODEJS_HELLO_MAINTENANCE": "1"}}'


@pytest.fixture(scope="module")
def image():
    res = playbook("playbooks/build.yml", "-e", "app_dir=%s" % APP)
    return res.results("Build, test and push the images of")[0]["image"]


@pytest.fixture(scope="module")
def namespace():
    yield NS
    for ns in (NS, NS + "-q", NS + "-least"):
        kubectl("delete", "namespace", ns, "--wait=false", check=False)


def deploy(image, ns, *extra, check=True, kubeconfig=None):
    args = ["playbooks/deploy.yml", "-e", "app_dir=%s" % APP, "-e", "app_image=%s" % image,
            "-e", "app_deploy_namespace=%s" % ns, "-e", '{"app_deploy_node_ports": {}}']
    if kubeconfig:
        args += ["-e", "app_deploy_kubeconfig=%s" % kubeconfig]
    return playbook(*(args + list(extra)), check=check)


def node_port(ns):
    return kube_json("-n", ns, "get", "svc", "nodejs-hello")["spec"]["ports"][0]["nodePort"]


def pod_env(ns):
    dep = kube_json("-n", ns, "get", "deployment", "nodejs-hello")
    return dict((e["name"], e.get("value")) for e in dep["spec"]["template"]["spec"]["containers"][0].get("env", []))


def wait_answer(port):
    for attempt in range(60):
        try:
            if get(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("nothing answers on %d" % port)


@pytest.fixture(scope="module")
def released(image, namespace):
    """nodejs-hello at revision 1 in the test namespace, answering."""
    deploy(image, namespace)
    wait_answer(node_port(namespace))
    return image


def test_unhealthy_revision_fails_in_seconds_naming_the_probe_with_logs(released, namespace):
    port = node_port(namespace)
    loop = RequestLoop(port)
    loop.start()
    start = time.time()
    res = deploy(released, namespace, "-e", MAINTENANCE, check=False)
    elapsed = time.time() - start
    time.sleep(1)
    loop.stop.set()
    loop.join()
    msg = res.failure()
    assert res.rc != 0
    assert "ReadinessProbeFailed" in msg and "statuscode: 503" in msg, msg
    assert "maintenance mode: /healthz answers 503" in msg, msg
    assert "Rolled back to revision 1" in msg
    assert elapsed < 30, "took %.1f s" % elapsed
    assert loop.ok > 10 and loop.failed == []
    assert "NODEJS_HELLO_MAINTENANCE" not in pod_env(namespace)
    print("unhealthy revision failed and rolled back in %.1f s, %d requests, 0 failed" % (elapsed, loop.ok))


def test_quota_rejection_fails_at_once_naming_the_admission_message(image, namespace):
    ns = namespace + "-q"
    kubectl("create", "namespace", ns)
    kubectl("-n", ns, "create", "quota", "no-pods", "--hard=pods=0")
    start = time.time()
    res = deploy(image, ns, check=False)
    elapsed = time.time() - start
    msg = res.failure()
    assert res.rc != 0 and "FailedCreate" in msg and "exceeded quota: no-pods" in msg, msg
    assert elapsed < 30, "took %.1f s" % elapsed
    assert kubectl("-n", ns, "get", "deployment", "nodejs-hello", check=False).returncode != 0


def lease(ns, holder, renewed):
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "qi-lock.nodejs-hello", "namespace": ns},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 30, "acquireTime": renewed,
                     "renewTime": renewed}}


def kubectl_apply(obj):
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump(obj, f)
    try:
        kubectl("apply", "-f", f.name)
    finally:
        os.unlink(f.name)


def test_a_held_release_lock_fails_at_once_and_an_expired_one_is_taken_over(released, namespace):
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    kubectl_apply(lease(namespace, "build-agent-7 pid 4242", now))
    res = deploy(released, namespace, check=False)
    assert res.rc != 0 and "being deployed by build-agent-7 pid 4242" in res.failure(), res.failure()
    old = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - 120))
    kubectl("-n", namespace, "delete", "lease", "qi-lock.nodejs-hello")
    kubectl_apply(lease(namespace, "build-agent-7 pid 4242", old))
    deploy(released, namespace)
    assert kubectl("-n", namespace, "get", "lease", "qi-lock.nodejs-hello", check=False).returncode != 0


def test_a_run_killed_during_the_rollout_leaves_nothing_the_next_run_cannot_fix(released, namespace):
    args = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "inventories/local/hosts.yml",
            "playbooks/deploy.yml", "-e", "app_dir=%s" % APP, "-e", "app_image=%s" % released,
            "-e", "app_deploy_namespace=%s" % namespace, "-e", '{"app_deploy_node_ports": {}}', "-e", MAINTENANCE]
    proc = subprocess.Popen(args, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        for attempt in range(120):
            if kubectl("-n", namespace, "get", "lease", "qi-lock.nodejs-hello", check=False).returncode == 0:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the run never took its lock")
        time.sleep(2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    res = deploy(released, namespace)
    assert res.rc == 0
    assert "NODEJS_HELLO_MAINTENANCE" not in pod_env(namespace)
    wait_answer(node_port(namespace))


class FaultyApiProxy(threading.Thread):
    """A plain-HTTP proxy on loopback to the real API server that answers every third request 429 or 503."""

    def __init__(self, admin_kubeconfig):
        super().__init__(daemon=True)
        cfg = yaml.safe_load(open(admin_kubeconfig))
        cluster, user = cfg["clusters"][0]["cluster"], cfg["users"][0]["user"]
        self.server = cluster["server"].split("://", 1)[1]
        self.dir = tempfile.mkdtemp()
        paths = {}
        for key in ("certificate-authority-data", "client-certificate-data", "client-key-data"):
            paths[key] = os.path.join(self.dir, key)
            with open(paths[key], "wb") as f:
                f.write(base64.b64decode(cluster.get(key) or user.get(key)))
        self.ctx = ssl.create_default_context(cafile=paths["certificate-authority-data"])
        self.ctx.check_hostname = False
        self.ctx.load_cert_chain(paths["client-certificate-data"], paths["client-key-data"])
        self.count, self.injected, self.lock = 0, 0, threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    proxy.count += 1
                    fault = proxy.count % 3 == 0
                    proxy.injected += fault
                if fault:
                    status = 429 if proxy.count % 2 else 503
                    reply = b'{"kind":"Status","message":"injected fault"}'
                    self.send_response(status)
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                    return
                host, port = proxy.server.rsplit(":", 1)
                conn = http.client.HTTPSConnection(host, int(port), context=proxy.ctx, timeout=30)
                headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in ("host", "connection"))
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def run(self):
        self.httpd.serve_forever()

    def kubeconfig(self, path):
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "flaky",
               "clusters": [{"name": "flaky", "cluster": {"server": "http://127.0.0.1:%d" % self.httpd.server_port}}],
               "users": [{"name": "anyone", "user": {}}],
               "contexts": [{"name": "flaky", "context": {"cluster": "flaky", "user": "anyone"}}]}
        path.write_text(yaml.safe_dump(cfg))
        return str(path)


def test_deploy_succeeds_through_an_api_that_answers_429_and_503(released, namespace, tmp_path):
    proxy = FaultyApiProxy(KUBECONFIG)
    proxy.start()
    try:
        res = deploy(released, namespace, "-e", '{"app_deploy_env": {"FLAKY_API_RUN": "%d"}}' % time.time(),
                     kubeconfig=proxy.kubeconfig(tmp_path / "flaky.kubeconfig"))
    finally:
        proxy.httpd.shutdown()
    assert res.rc == 0
    assert proxy.injected >= 3, proxy.injected
    assert "FLAKY_API_RUN" in pod_env(namespace)
    wait_answer(node_port(namespace))


def test_deploy_rollback_and_check_mode_with_only_a_namespaced_role(image, namespace, tmp_path):
    ns = namespace + "-least"
    config = tmp_path / "deployer.kubeconfig"
    playbook("playbooks/deployer-access.yml", "-e", "deployer_namespace=%s" % ns, "-e", "deployer_kubeconfig=%s" % config)
    assert "token" in yaml.safe_load(config.read_text())["users"][0]["user"]
    assert kubectl("--kubeconfig", str(config), "get", "nodes", check=False).returncode != 0
    deploy(image, ns, kubeconfig=str(config))
    deploy(image, ns, "-e", '{"app_deploy_env": {"SECOND": "1"}}', kubeconfig=str(config))
    back = playbook("playbooks/rollback.yml", "-e", "app_dir=%s" % APP, "-e", "app_deploy_namespace=%s" % ns,
                    "-e", "app_deploy_kubeconfig=%s" % config)
    assert back.rc == 0 and "SECOND" not in pod_env(ns)
    check = deploy(image, ns, "--check", "-e", '{"app_deploy_env": {"THIRD": "1"}}', kubeconfig=str(config))
    assert check.rc == 0 and "THIRD" not in pod_env(ns)
    wait_answer(node_port(ns))


def test_check_mode_on_a_new_namespace_shows_the_objects_and_creates_nothing(image):
    ns = "qi-new-%s" % uuid.uuid4().hex[:6]
    res = deploy(image, ns, "--check", "--diff")
    task = res.results("Roll out")[0]
    assert task["changed"] and "Deployment/nodejs-hello" in task["releases"][0]["applied"]
    assert any(d["after_header"] == "Deployment/nodejs-hello" for d in task["diff"])
    assert kubectl("get", "namespace", ns, check=False).returncode != 0


def restart_api_server():
    """Kill the embedded API server and start it again with the same command line, as a crash and restart would."""
    run_dir = os.path.join(os.path.dirname(os.path.dirname(KUBECONFIG)), "run")
    pidfile = os.path.join(run_dir, "kube-apiserver.pid")
    pid = int(open(pidfile).read())
    argv = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")[:-1]
    os.kill(pid, signal.SIGKILL)
    while os.path.exists("/proc/%d" % pid) and open("/proc/%d/stat" % pid).read().split(") ", 1)[1][0] != "Z":
        time.sleep(0.1)
    time.sleep(3)
    log = open(os.path.join(os.path.dirname(run_dir), "logs", "kube-apiserver.log"), "ab")
    new = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    with open(pidfile, "w") as f:
        f.write(str(new.pid))
    for attempt in range(120):
        if kubectl("get", "--raw", "/readyz", check=False).returncode == 0:
            return
        time.sleep(0.5)
    raise AssertionError("the API server did not come back")


def test_an_api_server_restart_during_the_rollout_ends_clean(released, namespace):
    marker = str(int(time.time()))
    # The new pods take 8 s to listen, so the restart lands after the apply and before the rollout completes.
    args = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "inventories/local/hosts.yml",
            "playbooks/deploy.yml", "-e", "app_dir=%s" % APP, "-e", "app_image=%s" % released,
            "-e", "app_deploy_namespace=%s" % namespace, "-e", '{"app_deploy_node_ports": {}}',
            "-e", '{"app_deploy_env": {"RESTART_MARK": "%s", "NODEJS_HELLO_START_DELAY_MS": "8000"}}' % marker]
    proc = subprocess.Popen(args, cwd=ROOT, env=dict(ENV, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for attempt in range(600):
        if pod_env(namespace).get("RESTART_MARK") == marker or proc.poll() is not None:
            break
        time.sleep(0.1)
    rolling = kubectl("-n", namespace, "rollout", "status", "deployment/nodejs-hello", "--timeout=1s",
                      check=False).returncode != 0
    assert proc.poll() is None and rolling, "the restart must land during the rollout, after the apply"
    restart_api_server()
    out, err = proc.communicate(timeout=600)
    # The client retries through the restart within the wait's deadline: the deploy succeeds, whole.
    assert proc.returncode == 0, (out[-3000:], err[-3000:])
    assert "Traceback" not in out + err
    assert pod_env(namespace).get("RESTART_MARK") == marker
    revs = sorted(int(s["metadata"]["name"].rsplit(".v", 1)[1]) for s in kube_json(
        "-n", namespace, "get", "secret", "-l", "qi-convergence.io/release=nodejs-hello")["items"])
    assert kubectl("-n", namespace, "get", "lease", "qi-lock.nodejs-hello", check=False).returncode != 0
    assert revs == sorted(set(revs)) and len(revs) >= 2
    wait_answer(node_port(namespace))


def test_a_crash_looping_app_is_not_a_no_change_ok(released, namespace):
    deploy(released, namespace)  # whatever ran before: the release as it is, healthy
    wait_answer(node_port(namespace))
    pods = [p for p in kube_json("-n", namespace, "get", "pod", "-l", "app.kubernetes.io/name=nodejs-hello")["items"]
            if not p["metadata"].get("deletionTimestamp") and p["status"].get("phase") == "Running"]
    name = max(pods, key=lambda p: p["metadata"]["creationTimestamp"])["metadata"]["name"]
    # Broken after its release, with no object changed: every start of the container now exits 1. (The exec ends
    # with the container it stops, so its own exit status says nothing.)
    kubectl("-n", namespace, "exec", name, "--", "sh", "-c", "touch /tmp/nodejs-hello-broken && kill 1", check=False)
    for attempt in range(120):
        statuses = kube_json("-n", namespace, "get", "pod", name)["status"].get("containerStatuses") or []
        if any((s.get("state", {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff" for s in statuses):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the pod did not start crash looping")
    res = deploy(released, namespace, check=False)
    assert res.rc != 0
    msg = res.failure()
    assert "nothing changed, but it is not healthy" in msg and "CrashLoopBackOff" in msg, msg
    assert "refusing to start" in msg  # the container's own last log lines
    assert res.results("Roll out")[0]["releases"][0]["changed"] is False
    kubectl("-n", namespace, "delete", "pod", name, "--wait=false")  # a new pod has a fresh /tmp
    wait_answer(node_port(namespace))
    deploy(released, namespace)


def test_turning_the_autoscaler_on_keeps_the_live_replica_count(released, namespace):
    deploy(released, namespace, "-e", "app_deploy_replicas=2")
    assert kube_json("-n", namespace, "get", "deployment", "nodejs-hello")["spec"]["replicas"] == 2
    deploy(released, namespace, "-e", '{"app_deploy_hpa": {"min": 1, "max": 3, "cpu": 80}}')
    dep = kube_json("-n", namespace, "get", "deployment", "nodejs-hello")
    assert dep["spec"]["replicas"] == 2
    assert kube_json("-n", namespace, "get", "hpa", "nodejs-hello")["spec"]["maxReplicas"] == 3


def test_a_hand_deleted_or_edited_object_is_repaired_and_reported(released, namespace):
    deploy(released, namespace)
    cms = kube_json("-n", namespace, "get", "configmap", "-l", "app.kubernetes.io/name=nodejs-hello")["items"]
    name = cms[0]["metadata"]["name"]
    key = sorted(cms[0]["data"])[0]
    quiet = deploy(released, namespace).results("Roll out")[0]["releases"][0]
    assert not quiet["changed"] and "drifted" not in quiet
    kubectl("-n", namespace, "delete", "configmap", name)
    again = deploy(released, namespace).results("Roll out")[0]["releases"][0]
    assert again["drifted"] == ["ConfigMap/%s deleted" % name] and again["changed"]
    assert kube_json("-n", namespace, "get", "configmap", name)["data"][key] == cms[0]["data"][key]
    kubectl("-n", namespace, "patch", "configmap", name, "--type=merge", "-p", '{"data": {"%s": "hand edit"}}' % key)
    again = deploy(released, namespace).results("Roll out")[0]["releases"][0]
    assert again["drifted"] == ["ConfigMap/%s changed outside this release" % name]
    assert kube_json("-n", namespace, "get", "configmap", name)["data"][key] == cms[0]["data"][key]
