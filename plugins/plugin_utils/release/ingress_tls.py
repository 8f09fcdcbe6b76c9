# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TLS Secrets the release's Ingresses name, issued by a local CA (option ingress_ca) where no cert-manager runs:
made when missing, reissued when they do not name a host or near their end, left alone when someone else made them.
A Secret can serve several apps (one name in the inventory), so it belongs to no release and is never pruned."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64

from ...module_utils.errors import QiError
from ...module_utils import local_ca
from ...module_utils.manifests import MANAGER

ISSUER_LABEL = "qi.convergence/issuer"
ISSUER = "local-ca"


def wanted_secrets(items):
    """{Secret name: set of hosts} over every Ingress the releases apply."""
    out = {}
    for item in items:
        for obj in item["objects"]:
            if obj.get("kind") != "Ingress":
                continue
            for tls in obj["spec"].get("tls") or []:
                if tls.get("secretName"):
                    out.setdefault(tls["secretName"], set()).update(tls.get("hosts") or [])
    return out


def _read(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (IOError, OSError) as e:
        raise QiError("ingress_ca: cannot read the CA %s %s: %s" % (what, path, e.strerror or e))


def _secret(name, namespace, cert_pem, key_pem):
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": MANAGER, ISSUER_LABEL: ISSUER}},
            "data": {"tls.crt": base64.b64encode(cert_pem).decode("ascii"),
                     "tls.key": base64.b64encode(key_pem).decode("ascii")}}


def ensure_tls_secrets(kube, namespace, items, ca, check_mode):
    """Issue what the Ingresses need; [(Secret name, why it was issued)] for those (that would be) written."""
    wanted = wanted_secrets(items)
    if not wanted or not ca:
        return []
    if local_ca.CRYPTOGRAPHY_IMPORT_ERROR:
        raise QiError("ingress_ca needs the Python library cryptography on the controller: %s"
                      % local_ca.CRYPTOGRAPHY_IMPORT_ERROR.strip().splitlines()[-1])
    ca_pem = (_read(ca["cert"], "certificate"), _read(ca["key"], "key"))
    issued = []
    for name, hosts in sorted(wanted.items()):
        why = _issue_one(kube, namespace, name, hosts, ca_pem, check_mode)
        if why:
            issued.append((name, why))
    return issued


def _issue_one(kube, namespace, name, hosts, ca_pem, check_mode):
    """Why Secret `name` was (or would be) issued, or None when it serves the hosts or is not ours to write."""
    live = kube.get(_secret(name, namespace, b"", b"")) or {}
    labels = (live.get("metadata") or {}).get("labels") or {}
    if live and labels.get(ISSUER_LABEL) != ISSUER:
        return None  # made by cert-manager or by hand: theirs
    data = live.get("data") or {}
    current = base64.b64decode(data["tls.crt"]) if data.get("tls.crt") else None
    why = local_ca.needs_issue(current, ca_pem[0], hosts)
    if why and not check_mode:
        kept = local_ca.cert_names(current) if current and why.startswith("does not name") else []
        cert, key = local_ca.issue(ca_pem[0], ca_pem[1], local_ca.names_for(set(hosts) | set(kept)))
        kube.apply(_secret(name, namespace, cert, key))
    return why
