# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server certificates signed by a local CA, for clusters without cert-manager (the embedded one): what a CA issuer
would put into an Ingress's TLS Secret. Pure: PEM in, PEM out; the caller decides when to issue."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import traceback

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
except ImportError:
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

VALID_DAYS = 365
# Reissued when less than this is left, as cert-manager renews at two thirds of the lifetime.
RENEW_BEFORE_DAYS = 30


def wildcard_of(host):
    """*.parent for a name with at least three labels: one certificate then serves every app of the same pattern."""
    labels = host.split(".")
    return "*." + ".".join(labels[1:]) if len(labels) >= 3 and labels[0] != "*" else None


def names_for(hosts):
    """The DNS names a certificate for these Ingress hosts carries, sorted: each host and its wildcard."""
    out = set(hosts)
    out.update(w for w in (wildcard_of(h) for h in hosts) if w)
    return sorted(out)


def _covered(name, names):
    if name in names:
        return True
    w = wildcard_of(name)
    return w is not None and w in names


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def cert_names(cert_pem):
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return san.get_values_for_type(x509.DNSName)


def needs_issue(cert_pem, ca_cert_pem, hosts, now=None):
    """Why a certificate must be (re)issued for these hosts, or None when it serves them: signed by this CA, names
    every host, valid for more than RENEW_BEFORE_DAYS."""
    if not cert_pem:
        return "missing"
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        ca = x509.load_pem_x509_certificate(ca_cert_pem)
    except ValueError:
        return "not a PEM certificate"
    if cert.issuer != ca.subject:
        return "issued by %s" % cert.issuer.rfc4514_string()
    try:
        cert.verify_directly_issued_by(ca)
    except Exception:  # pylint: disable=broad-except
        return "not signed by the local CA"
    uncovered = [h for h in hosts if not _covered(h, cert_names(cert_pem))]
    if uncovered:
        return "does not name %s" % ", ".join(sorted(uncovered))
    left = cert.not_valid_after_utc - (now or _now())
    if left < datetime.timedelta(days=RENEW_BEFORE_DAYS):
        return "expires %s" % cert.not_valid_after_utc.date().isoformat()
    return None


def issue(ca_cert_pem, ca_key_pem, names, now=None):
    """(certificate PEM, key PEM): a server certificate for names (the first is its subject), signed by the CA."""
    ca = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    start = (now or _now()) - datetime.timedelta(minutes=5)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])]))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
