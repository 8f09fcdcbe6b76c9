"""Reading kubeconfigs in the lean client: server, credentials, contexts, clear errors."""
import base64
import os
import subprocess

import pytest
import yaml

from ansible_collections.qi.convergence.plugins.module_utils import kube as kube_mod
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError


def write(tmp_path, users, contexts=None, current="main", cluster=None):
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": current,
           "clusters": [{"name": "c", "cluster": cluster or {"server": "https://127.0.0.1:6443",
                                                             "insecure-skip-tls-verify": True}}],
           "users": [{"name": n, "user": u} for n, u in users.items()],
           "contexts": contexts or [{"name": "main", "context": {"cluster": "c", "user": next(iter(users))}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    kube_mod._CLIENTS.clear()
    return str(path)


def test_token_user(tmp_path):
    k = kube_mod.kube_client(write(tmp_path, {"u": {"token": "abc"}}))
    assert (k.host, k.port, k.https) == ("127.0.0.1", 6443, True)
    assert k.headers == {"Authorization": "Bearer abc"}


def test_client_certificate_user(tmp_path):
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=t",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    user = {"client-certificate-data": base64.b64encode(crt.read_bytes()).decode(),
            "client-key-data": base64.b64encode(key.read_bytes()).decode()}
    cluster = {"server": "https://10.0.0.1", "certificate-authority-data": user["client-certificate-data"]}
    k = kube_mod.kube_client(write(tmp_path, {"u": user}, cluster=cluster))
    assert (k.host, k.port) == ("10.0.0.1", 443) and k.headers == {}
    assert not [f for f in os.listdir(os.environ.get("TMPDIR", "/tmp")) if f.startswith("qi-kube-")]


def test_named_context(tmp_path):
    contexts = [{"name": "main", "context": {"cluster": "c", "user": "a"}},
                {"name": "other", "context": {"cluster": "c", "user": "b"}}]
    path = write(tmp_path, {"a": {"token": "A"}, "b": {"token": "B"}}, contexts)
    assert kube_mod.kube_client(path, "other").headers["Authorization"] == "Bearer B"


@pytest.mark.parametrize("users, context, expected", [
    ({"u": {"token": "x"}}, "missing", "has no context missing"),
    ({"u": {"token": "x"}}, None, None),
])
def test_context_errors(tmp_path, users, context, expected):
    path = write(tmp_path, users)
    if expected is None:
        assert kube_mod.kube_client(path, context)
        return
    with pytest.raises(QiError) as e:
        kube_mod.kube_client(path, context)
    assert expected in str(e.value)


def test_missing_kubeconfig(tmp_path):
    with pytest.raises(QiError) as e:
        kube_mod.kube_client(str(tmp_path / "nope"))
    assert "does not exist" in str(e.value)


def test_applied_stamp_reads_our_apply_entry():
    obj = {"metadata": {"managedFields": [
        {"manager": "kube-controller-manager", "operation": "Update", "time": "t0", "subresource": "status"},
        {"manager": "qi.convergence", "operation": "Apply", "time": "t1"}]}}
    assert kube_mod.applied_stamp(obj) == "t1"
    assert kube_mod.applied_stamp({"metadata": {}}) is None
