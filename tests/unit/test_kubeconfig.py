"""Reading kubeconfigs as kubectl does (the official loader underneath): every case a real kubeconfig has."""
import os
import ssl
import subprocess
import sys

import pytest
import yaml

from ansible_collections.qi.convergence.plugins.plugin_utils.kube import client as kube_mod
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError

INSECURE = {"server": "https://127.0.0.1:6443", "insecure-skip-tls-verify": True}


def write(path, users, contexts=None, current="main", cluster=None):
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": current,
           "clusters": [{"name": "c", "cluster": cluster or INSECURE}],
           "users": [{"name": n, "user": u} for n, u in users.items()],
           "contexts": contexts or [{"name": "main", "context": {"cluster": "c", "user": next(iter(users))}}]}
    path.write_text(yaml.safe_dump(cfg))
    kube_mod._CLIENTS.clear()
    return str(path)


def client(**params):
    kube_mod._CLIENTS.clear()
    return kube_mod.kube_client(params)


@pytest.fixture
def pki(tmp_path):
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=t",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return key, crt


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    for name in ("KUBECONFIG", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
                 "KUBERNETES_SERVICE_HOST"):
        monkeypatch.delenv(name, raising=False)


def test_token_user(tmp_path):
    k = client(kubeconfig=write(tmp_path / "kc", {"u": {"token": "abc"}}))
    assert (k.host, k.port, k.https) == ("127.0.0.1", 6443, True)
    assert k.headers == {"Authorization": "Bearer abc"}


def test_client_certificate_files_relative_to_the_kubeconfig(tmp_path, pki, monkeypatch):
    key, crt = pki
    user = {"client-certificate": "c.pem", "client-key": "k.pem"}
    cluster = {"server": "https://10.0.0.1", "certificate-authority": "c.pem"}
    path = write(tmp_path / "kc", {"u": user}, cluster=cluster)
    monkeypatch.chdir("/")
    k = client(kubeconfig=path)
    assert (k.host, k.port) == ("10.0.0.1", 443) and k.headers == {}
    # Only the cluster's CA is trusted, not the system roots besides it.
    assert len(k.ssl_context.get_ca_certs()) == 1
    assert k.ssl_context.verify_mode == ssl.CERT_REQUIRED


def test_named_context_and_its_namespace(tmp_path):
    contexts = [{"name": "main", "context": {"cluster": "c", "user": "a"}},
                {"name": "other", "context": {"cluster": "c", "user": "b", "namespace": "team-a"}}]
    path = write(tmp_path / "kc", {"a": {"token": "A"}, "b": {"token": "B"}}, contexts)
    k = client(kubeconfig=path, context="other")
    assert k.headers["Authorization"] == "Bearer B" and k.namespace == "team-a"
    assert client(kubeconfig=path).namespace is None


def test_merged_kubeconfig_list_from_the_environment(tmp_path, monkeypatch):
    first = write(tmp_path / "one", {"a": {"token": "A"}}, current="main")
    second = tmp_path / "two"
    second.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c2", "cluster": {"server": "https://10.9.9.9:6443", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "b", "user": {"token": "B"}}],
        "contexts": [{"name": "prod", "context": {"cluster": "c2", "user": "b"}}]}))
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([first, str(second)]))
    assert client().headers["Authorization"] == "Bearer A"
    k = client(context="prod")
    assert (k.host, k.headers["Authorization"]) == ("10.9.9.9", "Bearer B")


def test_impersonation_proxy_and_tls_server_name(tmp_path):
    user = {"token": "T", "as": "deployer", "as-groups": ["devs", "ops"]}
    cluster = dict(INSECURE, **{"proxy-url": "http://127.0.0.1:3128", "tls-server-name": "api.internal"})
    k = client(kubeconfig=write(tmp_path / "kc", {"u": user}, cluster=cluster))
    assert k.headers["Impersonate-User"] == "deployer" and k.headers["Impersonate-Group"] == ["devs", "ops"]
    assert (k.proxy.hostname, k.proxy.port) == ("127.0.0.1", 3128)
    assert k.server_name == "api.internal"


def test_https_proxy_from_the_environment_unless_no_proxy(tmp_path, monkeypatch):
    path = write(tmp_path / "kc", {"u": {"token": "T"}})
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:8080")
    assert client(kubeconfig=path).proxy.hostname == "proxy.example"
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert client(kubeconfig=path).proxy is None


def test_exec_plugin_credentials(tmp_path):
    plugin = tmp_path / "cred.py"
    plugin.write_text("import json\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1',"
                      " 'kind': 'ExecCredential', 'status': {'token': 'from-exec'}}))\n")
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                     "args": [str(plugin)], "interactiveMode": "Never"}}
    k = client(kubeconfig=write(tmp_path / "kc", {"u": user}))
    assert k.headers["Authorization"] == "Bearer from-exec"


def test_host_and_api_key_without_a_kubeconfig(pki):
    key, crt = pki
    k = client(host="https://10.1.2.3:8443", api_key="tok", ca_cert=str(crt), impersonate_user="bob")
    assert (k.host, k.port) == ("10.1.2.3", 8443)
    assert k.headers == {"Authorization": "Bearer tok", "Impersonate-User": "bob"}
    assert len(k.ssl_context.get_ca_certs()) == 1


@pytest.mark.parametrize("context, expected", [("missing", "has no context missing"), (None, None)])
def test_context_errors(tmp_path, context, expected):
    path = write(tmp_path / "kc", {"u": {"token": "x"}})
    if expected is None:
        assert client(kubeconfig=path, context=context)
        return
    with pytest.raises(QiError) as e:
        client(kubeconfig=path, context=context)
    assert expected in str(e.value)


def test_missing_kubeconfig_and_unreadable_certificate(tmp_path):
    with pytest.raises(QiError) as e:
        client(kubeconfig=str(tmp_path / "nope"))
    assert "does not exist" in str(e.value)
    path = write(tmp_path / "kc", {"u": {"client-certificate": "gone.pem", "client-key": "gone.key"}},
                 cluster={"server": "https://10.0.0.1", "certificate-authority": "gone-ca.pem"})
    with pytest.raises(QiError) as e:
        client(kubeconfig=path)
    assert "cannot use kubeconfig" in str(e.value) and "gone" in str(e.value)


def test_applied_stamp_reads_our_apply_entry():
    obj = {"metadata": {"managedFields": [
        {"manager": "kube-controller-manager", "operation": "Update", "time": "t0", "subresource": "status"},
        {"manager": "qi.convergence", "operation": "Apply", "time": "t1"}]}}
    assert kube_mod.applied_stamp(obj) == "t1"
    assert kube_mod.applied_stamp({"metadata": {}}) is None


def test_backoff_honours_retry_after():
    assert kube_mod._backoff(1, "2") == 2.0
    assert kube_mod._backoff(1, "600") == 10.0
    assert 0 < kube_mod._backoff(3, None) <= 0.8
    # An unreadable Retry-After falls back to the exponential pause of the first attempt: 0.2 s, jittered down.
    assert 0.1 <= kube_mod._backoff(1, "soon") <= 0.2
