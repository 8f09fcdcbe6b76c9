"""Helpers for tests against the real engine, registry and cluster this project sets up on this machine."""
import http.client
import json
import os
import shutil
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATE = os.environ.get("QI_STATE_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "qi-convergence")
KUBECONFIG = os.path.join(STATE, "cluster", "etc", "admin.kubeconfig")
ENV = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), QI_STATE_DIR=STATE,
           PATH=os.path.join(ROOT, ".venv", "bin") + ":" + os.environ["PATH"], ANSIBLE_NOCOLOR="1",
           ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1")
EXAMPLES = os.path.join(ROOT, "examples")


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster: needs the embedded Kubernetes cluster (make cluster)")
    config.addinivalue_line("markers", "dev_host: stops the embedded cluster to run one on a host reached over SSH")


def run(cmd, check=True, timeout=900, env=None, **kw):
    res = subprocess.run(cmd, cwd=kw.pop("cwd", ROOT), env=env or ENV, capture_output=True, text=True, check=False,
                         timeout=timeout, **kw)
    if check and res.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(cmd), res.returncode, res.stdout[-4000:],
                                                          res.stderr[-4000:]))
    return res


class PlaybookRun:
    """An ansible-playbook run read through the json callback: per-task results and the recap."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stderr = proc.stderr
        try:
            self.data = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            raise AssertionError("no JSON from ansible-playbook:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:]))

    def stats(self, host="localhost"):
        return self.data["stats"].get(host, {})

    def changed(self, host="localhost"):
        return self.stats(host).get("changed", 0)

    def results(self, task_name, host="localhost"):
        out = []
        for play in self.data["plays"]:
            for task in play["tasks"]:
                if task_name in task["task"]["name"] and host in task["hosts"]:
                    out.append(task["hosts"][host])
        return out

    def failure(self):
        for play in self.data["plays"]:
            for task in play["tasks"]:
                for res in task["hosts"].values():
                    if res.get("failed") or res.get("unreachable"):
                        # A no_log task's result is censored: its name at least says which step failed.
                        return "task %r: %s" % (task["task"]["name"], res.get("msg") or sorted(res))
        return ""


def playbook(*args, check=True, inventory="inventories/local/hosts.yml", timeout=900, env=None):
    env = dict(ENV, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", **(env or {}))
    proc = run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", inventory] + list(args),
               check=False, env=env, timeout=timeout)
    result = PlaybookRun(proc)
    if check and result.rc != 0:
        raise AssertionError("ansible-playbook %s failed: %s\n%s" % (" ".join(args), result.failure(), proc.stderr[-2000:]))
    return result


def kubectl_bin():
    bins = sorted(d for d in os.listdir(os.path.join(STATE, "k8s")) if os.path.exists(os.path.join(STATE, "k8s", d, "bin", "kubectl")))
    return os.path.join(STATE, "k8s", bins[-1], "bin", "kubectl")


def http_get(port, path="/", tries=40, pause=0.25, timeout=2, host="127.0.0.1"):
    """(status, body) of GET host:port/path, retrying while nothing answers yet (a port just opened)."""
    for attempt in range(tries):
        try:
            c = http.client.HTTPConnection(host, port, timeout=timeout)
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        except OSError:
            time.sleep(pause)
    raise AssertionError("nothing answered on %s:%d" % (host, port))


def site_in(namespace, app, *extra, check=True, env=None):
    """playbooks/site.yml for app into namespace of the local cluster, its node ports allocated by the cluster."""
    return playbook("playbooks/site.yml", "-e", "app_dir=%s" % app, "-e", "app_deploy_namespace=%s" % namespace,
                    "-e", '{"app_deploy_node_ports": {}}', *extra, check=check, env=env, timeout=1200)


def deployed_copy(tmp_path_factory, fixture, namespace):
    """(a copy of the fixture folder, site.yml's run deploying it into namespace)."""
    app = tmp_path_factory.mktemp(namespace) / os.path.basename(fixture)
    shutil.copytree(fixture, app)
    return app, site_in(namespace, app)


def service_get(namespace, service, path="/"):
    """(status, body) of GET path on the node port of a Service."""
    port = kube_json("-n", namespace, "get", "svc", service)["spec"]["ports"][0]["nodePort"]
    # A node port allocated moments ago may not be programmed yet: http_get retries a while.
    return http_get(port, path, pause=0.5, timeout=5)


def kubectl(*args, check=True, timeout=120):
    return run([kubectl_bin(), "--kubeconfig", KUBECONFIG] + list(args), check=check, timeout=timeout)


def kube_json(*args):
    return json.loads(kubectl(*(list(args) + ["-o", "json"])).stdout)


@pytest.fixture
def app_copy(tmp_path):
    """A private copy of an example app, to change without touching the repository."""
    def copy(name, new_name=None):
        dest = tmp_path / (new_name or name)
        shutil.copytree(os.path.join(EXAMPLES, name), dest)
        return dest
    return copy


def failing_hello(app_copy, name, code):
    """nodejs-hello renamed to name, its QI test command failing with exit code `code`."""
    app = app_copy("nodejs-hello", name)
    qi = app / ".qi.yml"
    qi.write_text(qi.read_text().replace("app_name: nodejs-hello", "app_name: " + name)
                  .replace("  - npm test", "  - QI_FAIL_TEST=%d npm test" % code))
    server = app / "server.js"
    server.write_text(server.read_text().replace("NODEJS_HELLO_TCP_PORT", name.upper().replace("-", "_") + "_TCP_PORT"))
    return app
