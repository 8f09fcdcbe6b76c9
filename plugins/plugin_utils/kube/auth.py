# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the cluster is and how to authenticate, as kubectl and kubernetes.core read it.

Kubeconfigs are read by the official ``kubernetes`` package's loader: merged ``KUBECONFIG`` lists, paths relative to
the kubeconfig's folder, exec plugins and auth providers, ``proxy-url`` and ``tls-server-name``. On top of it: the
user's impersonation (``as``, ``as-groups``, ``as-uid``, which that loader ignores), the context's namespace, the
``K8S_AUTH_*`` options and only the cluster's CA trusted when one is given.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import ssl

from ansible.module_utils.six.moves.urllib.parse import urlparse
from ...module_utils.errors import QiError

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigMerger
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as e:  # pragma: no cover - the module reports missing_required_lib
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = e
    ConfigException = Exception

SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


class Settings:
    """What a client needs: the server, TLS, headers, an optional proxy and the default namespace."""

    def __init__(self, server, ssl_context, headers, proxy=None, tls_server_name=None, namespace=None):
        self.server, self.ssl_context, self.headers = server.rstrip("/"), ssl_context, headers
        self.proxy, self.tls_server_name, self.namespace = proxy, tls_server_name, namespace


def tls_context(ca_file=None, verify=True, cert_file=None, key_file=None):
    """Only the cluster's CA when there is one (the system roots otherwise), as kubectl does."""
    if not verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif ca_file:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile=ca_file)
    else:
        ctx = ssl.create_default_context()
    if cert_file and key_file:
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


def _bypasses_proxy(host, no_proxy):
    for entry in (no_proxy or "").replace(" ", "").split(","):
        if entry and (entry == "*" or host == entry.lstrip(".") or host.endswith("." + entry.lstrip("."))):
            return True
    return False


def _proxy_for(server, configured, no_proxy=None):
    """The HTTP(S) proxy to use: the kubeconfig's proxy-url, else HTTPS_PROXY/HTTP_PROXY unless NO_PROXY says no."""
    url = urlparse(server)
    env = os.environ
    if not configured:
        configured = (env.get("https_proxy") or env.get("HTTPS_PROXY")) if url.scheme == "https" else \
            (env.get("http_proxy") or env.get("HTTP_PROXY"))
        no_proxy = no_proxy or env.get("no_proxy") or env.get("NO_PROXY")
    if not configured or _bypasses_proxy(url.hostname or "", no_proxy):
        return None
    if urlparse(configured).scheme not in ("http", "https"):
        raise QiError("proxy %s: only http:// and https:// proxies are supported" % configured)
    return configured


def _impersonation(user, groups=None, uid=None):
    headers = {}
    if user:
        headers["Impersonate-User"] = user
    if groups:
        headers["Impersonate-Group"] = list(groups)
    if uid:
        headers["Impersonate-Uid"] = uid
    return headers


def _bearer(conf):
    if conf.refresh_api_key_hook is not None:
        conf.refresh_api_key_hook(conf)
    token = conf.api_key.get("BearerToken") or conf.api_key.get("authorization")
    return {"Authorization": token} if token else {}


def _plain(node):
    """The loader's merged config holds its own ConfigNode wrappers here and there: plain values, please."""
    node = getattr(node, "value", node)
    if isinstance(node, dict):
        return dict((k, _plain(v)) for k, v in node.items())
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _from_kubeconfig(files, context):
    cfg = _plain(KubeConfigMerger(os.pathsep.join(files)).config)
    name = context or cfg.get("current-context")
    contexts = dict((c["name"], c.get("context") or {}) for c in cfg.get("contexts") or [])
    if name not in contexts:
        raise QiError("kubeconfig %s has no context %s" % (os.pathsep.join(files), name or "(no current-context)"))
    conf = k8s_client.Configuration()
    k8s_config.load_kube_config(config_file=os.pathsep.join(files), context=name, client_configuration=conf,
                                persist_config=False)
    clusters = dict((c["name"], c.get("cluster") or {}) for c in cfg.get("clusters") or [])
    users = dict((u["name"], u.get("user") or {}) for u in cfg.get("users") or [])
    user = users.get(contexts[name].get("user")) or {}
    headers = _bearer(conf)
    headers.update(_impersonation(user.get("as"), user.get("as-groups"), user.get("as-uid")))
    ctx = tls_context(conf.ssl_ca_cert, conf.verify_ssl, conf.cert_file, conf.key_file)
    proxy_url = (clusters.get(contexts[name].get("cluster")) or {}).get("proxy-url")
    return Settings(conf.host, ctx, headers, _proxy_for(conf.host, proxy_url),
                    getattr(conf, "tls_server_name", None), contexts[name].get("namespace"))


def _in_cluster():
    conf = k8s_client.Configuration()
    k8s_config.load_incluster_config(client_configuration=conf)
    namespace = None
    if os.path.exists(os.path.join(SERVICE_ACCOUNT, "namespace")):
        with open(os.path.join(SERVICE_ACCOUNT, "namespace")) as f:
            namespace = f.read().strip()
    return Settings(conf.host, tls_context(conf.ssl_ca_cert), _bearer(conf), namespace=namespace)


def _direct(p):
    """host (K8S_AUTH_HOST) given: no kubeconfig at all, as in kubernetes.core."""
    headers = {"Authorization": "Bearer " + p["api_key"]} if p.get("api_key") else {}
    verify = p.get("validate_certs")
    ctx = tls_context(p.get("ca_cert"), True if verify is None else verify, p.get("client_cert"), p.get("client_key"))
    return Settings(p["host"], ctx, headers, _proxy_for(p["host"], p.get("proxy"), p.get("no_proxy")))


def kubeconfig_files(kubeconfig=None):
    """The kubeconfig files in force: the given path(s), else every file of KUBECONFIG, else ~/.kube/config."""
    if kubeconfig:
        return [os.path.expanduser(f) for f in ([kubeconfig] if isinstance(kubeconfig, str) else kubeconfig)]
    listed = [f for f in (os.environ.get("KUBECONFIG") or "").split(os.pathsep) if f]
    return listed or [os.path.expanduser("~/.kube/config")]


def _settings(p, files, where):
    """The cluster's address and credentials: the options, a kubeconfig, or the pod's service account."""
    if p.get("host"):
        return _direct(p)
    if any(os.path.exists(f) for f in files):
        missing = [f for f in files if p.get("kubeconfig") and not os.path.exists(f)]
        if missing:
            raise QiError("kubeconfig %s does not exist" % missing[0])
        return _from_kubeconfig([f for f in files if os.path.exists(f)], p.get("context"))
    if not p.get("kubeconfig") and os.environ.get("KUBERNETES_SERVICE_HOST"):
        return _in_cluster()
    raise QiError("kubeconfig %s does not exist" % where)


def connection_settings(p):
    """Settings from the auth options (see the kube_auth doc fragment) or the environment."""
    if not HAS_KUBERNETES:
        raise QiError("the kubernetes Python library is required: pip install kubernetes (%s)" % KUBERNETES_IMPORT_ERROR)
    files = kubeconfig_files(p.get("kubeconfig"))
    where = os.pathsep.join(files)
    try:
        settings = _settings(p, files, where)
        # The task's own impersonation wins over the kubeconfig's.
        settings.headers.update(_impersonation(p.get("impersonate_user"), p.get("impersonate_groups")))
        if p.get("proxy") and not p.get("host"):
            settings.proxy = _proxy_for(settings.server, p["proxy"], p.get("no_proxy"))
        return settings
    except (ConfigException, ssl.SSLError, OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise QiError("cannot use kubeconfig %s%s: %s" % (where, " context %s" % p["context"] if p.get("context") else "", e))
