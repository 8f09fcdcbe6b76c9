"""Ingress TLS Secrets issued by a local CA: made once, kept while they serve, reissued for a new host or near
their end, never over a Secret someone else made."""
import base64
import datetime
import subprocess

import pytest
from cryptography import x509

from ansible_collections.qi.convergence.plugins.module_utils import local_ca
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.release.ingress_tls import ensure_tls_secrets

from fake_kube import FakeKube, ref

NS = "apps"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    d = tmp_path_factory.mktemp("ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-keyout",
                    str(d / "ca.key"), "-out", str(d / "ca.crt"), "-subj", "/CN=test ingress CA"],
                   check=True, capture_output=True)
    return {"cert": str(d / "ca.crt"), "key": str(d / "ca.key")}


def items(*hosts, secret="apps-tls"):
    return [{"objects": [{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                          "metadata": {"name": h.split(".")[0], "namespace": NS},
                          "spec": {"tls": [{"hosts": [h], "secretName": secret}]}}]} for h in hosts]


def cert_of(kube, name="apps-tls"):
    data = kube.objects[ref("v1", "Secret", name, NS)]["data"]
    return x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"]))


def names(cert):
    return sorted(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                  .get_values_for_type(x509.DNSName))


def test_a_missing_secret_is_issued_for_the_host_and_its_wildcard_then_kept(ca):
    kube = FakeKube()
    assert ensure_tls_secrets(kube, NS, items("web.apps.example.internal"), ca, False) == [("apps-tls", "missing")]
    cert = cert_of(kube)
    assert names(cert) == ["*.apps.example.internal", "web.apps.example.internal"]
    assert cert.issuer.rfc4514_string() == "CN=test ingress CA"
    secret = kube.objects[ref("v1", "Secret", "apps-tls", NS)]
    assert secret["type"] == "kubernetes.io/tls" and secret["metadata"]["labels"]["qi.convergence/issuer"] == "local-ca"
    # A second app of the same pattern is served by the wildcard: nothing reissued.
    assert ensure_tls_secrets(kube, NS, items("web.apps.example.internal", "api.apps.example.internal"), ca,
                              False) == []
    assert cert_of(kube).serial_number == cert.serial_number


def test_a_host_outside_the_certificate_reissues_it_keeping_the_old_names(ca):
    kube = FakeKube()
    ensure_tls_secrets(kube, NS, items("web.apps.example.internal"), ca, False)
    issued = ensure_tls_secrets(kube, NS, items("shop.example.org"), ca, False)
    assert issued == [("apps-tls", "does not name shop.example.org")]
    assert names(cert_of(kube)) == ["*.apps.example.internal", "*.example.org", "shop.example.org",
                                    "web.apps.example.internal"]


def test_check_mode_says_what_it_would_issue_and_writes_nothing(ca):
    kube = FakeKube()
    assert ensure_tls_secrets(kube, NS, items("web.apps.example.internal"), ca, True) == [("apps-tls", "missing")]
    assert kube.objects == {}


def test_a_secret_made_by_someone_else_is_left_alone(ca):
    kube = FakeKube()
    theirs = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
              "metadata": {"name": "apps-tls", "namespace": NS, "labels": {"controller.cert-manager.io/fao": "true"}},
              "data": {"tls.crt": "", "tls.key": ""}}
    kube.objects[ref("v1", "Secret", "apps-tls", NS)] = theirs
    assert ensure_tls_secrets(kube, NS, items("web.apps.example.internal"), ca, False) == []
    assert kube.objects[ref("v1", "Secret", "apps-tls", NS)] == theirs


def test_a_certificate_near_its_end_or_from_another_ca_is_reissued(ca, tmp_path):
    with open(ca["cert"], "rb") as f:
        ca_cert = f.read()
    with open(ca["key"], "rb") as f:
        ca_key = f.read()
    cert, _key = local_ca.issue(ca_cert, ca_key, ["web.apps.example.internal"])
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=local_ca.VALID_DAYS - 10)
    assert local_ca.needs_issue(cert, ca_cert, ["web.apps.example.internal"]) is None
    assert local_ca.needs_issue(cert, ca_cert, ["web.apps.example.internal"], now=later).startswith("expires ")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-keyout",
                    str(tmp_path / "k"), "-out", str(tmp_path / "c"), "-subj", "/CN=other"], check=True,
                   capture_output=True)
    assert local_ca.needs_issue(cert, (tmp_path / "c").read_bytes(), ["web.apps.example.internal"]) == \
        "issued by CN=test ingress CA"


def test_an_unreadable_ca_names_the_file():
    with pytest.raises(QiError, match="ingress_ca: cannot read the CA certificate /nonexistent/ca.crt"):
        ensure_tls_secrets(FakeKube(), NS, items("web.apps.example.internal"),
                           {"cert": "/nonexistent/ca.crt", "key": "/nonexistent/ca.key"}, False)


def test_no_ingress_with_tls_needs_no_ca():
    assert ensure_tls_secrets(FakeKube(), NS, [{"objects": []}], {"cert": "/nonexistent", "key": "/x"}, False) == []
