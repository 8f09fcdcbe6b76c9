"""The remote_kubeconfig filter: a kubeconfig fetched from a cluster host names that host, not its loopback."""
import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.qi.convergence.plugins.filter.remote_kubeconfig import _remote_kubeconfig

CA = "LS0tLS1CRUdJTi0tLS0t"


def kubeconfig(*servers):
    entries = [{"name": "c%d" % i, "cluster": dict({"server": s, "certificate-authority-data": CA}, **extra)}
               for i, (s, extra) in enumerate(servers)]
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "c0", "clusters": entries,
                           "contexts": [{"name": "c0", "context": {"cluster": "c0", "user": "admin"}}],
                           "users": [{"name": "admin", "user": {"client-key-data": "secret"}}]})


def clusters(text):
    return [c["cluster"] for c in yaml.safe_load(text)["clusters"]]


def test_a_loopback_server_gets_the_host_and_the_certificate_name_port_kept():
    out = clusters(_remote_kubeconfig(kubeconfig(("https://127.0.0.1:6443", {}), ("https://localhost:7443", {})),
                                      "dev-k8s.example.internal"))
    assert out[0]["server"] == "https://dev-k8s.example.internal:6443"
    assert out[0]["tls-server-name"] == "kubernetes"
    assert out[1]["server"] == "https://dev-k8s.example.internal:7443"
    assert out[0]["certificate-authority-data"] == CA


def test_a_server_named_elsewhere_and_a_given_tls_name_are_left_alone():
    text = kubeconfig(("https://10.0.0.5:6443", {}), ("https://127.0.0.1:6443", {"tls-server-name": "api.internal"}))
    out = clusters(_remote_kubeconfig(text, "10.0.0.9"))
    assert out[0] == {"server": "https://10.0.0.5:6443", "certificate-authority-data": CA}
    assert out[1]["server"] == "https://10.0.0.9:6443" and out[1]["tls-server-name"] == "api.internal"


def test_an_ipv6_host_is_bracketed_and_a_rerun_changes_nothing():
    once = _remote_kubeconfig(kubeconfig(("https://[::1]:6443", {})), "fd00::5")
    assert clusters(once)[0]["server"] == "https://[fd00::5]:6443"
    assert _remote_kubeconfig(once, "fd00::5") == once


@pytest.mark.parametrize("text, expected", [
    ("clusters: [\n  - a: b\n c", "the fetched kubeconfig is not YAML"),
    ("just text", "the fetched file is not a kubeconfig: it has no clusters list"),
])
def test_what_is_not_a_kubeconfig_fails_saying_so(text, expected):
    with pytest.raises(AnsibleFilterError, match=expected):
        _remote_kubeconfig(text, "dev-k8s")
