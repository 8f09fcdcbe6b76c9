# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ONE place a Kubernetes client is built: a lean REST client for what the modules do
(get, list, server-side apply, delete, pod logs), with API discovery on demand.

Importing the kubernetes library costs about a second per module run (its client package loads every
model), far more than a whole no-change rollout. So kubeconfigs are read here, and the library is
imported only to resolve exec and auth-provider credentials (cloud clusters), which it does best.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import copy
import hashlib
import json
import os
import ssl
import tempfile
import threading

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode, urlparse
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

FIELD_MANAGER = "qi.convergence"
_CLIENTS = {}
_VOLATILE_META = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink")


class Resource:
    def __init__(self, api_version, kind, plural, namespaced):
        self.api_version, self.kind, self.plural, self.namespaced = api_version, kind, plural, namespaced

    def path(self, namespace=None, name=None, sub=None):
        base = "/api/v1" if self.api_version == "v1" else "/apis/" + self.api_version
        if self.namespaced and namespace:
            base += "/namespaces/" + quote(namespace, safe="")
        base += "/" + self.plural
        if name:
            base += "/" + quote(name, safe="")
        if sub:
            base += "/" + sub
        return base


class Kube:
    """Talks to one API server; safe to use from several threads (one connection per thread)."""

    def __init__(self, server, ssl_context, headers):
        url = urlparse(server)
        self.host, self.port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
        self.prefix = url.path.rstrip("/")
        self.https = url.scheme == "https"
        self.ssl_context, self.headers = ssl_context, headers
        self._local = threading.local()
        self._resources = {}
        self._lock = threading.Lock()

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.https:
                conn = http_client.HTTPSConnection(self.host, self.port, context=self.ssl_context, timeout=60)
            else:
                conn = http_client.HTTPConnection(self.host, self.port, timeout=60)
            self._local.conn = conn
        return conn

    def request(self, method, path, query=None, body=None, content_type="application/json", raw=False):
        url = self.prefix + path + ("?" + urlencode(query) if query else "")
        headers = dict(self.headers, Accept="application/json")
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request(method, url, body=data, headers=headers)
                resp = conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                break
            except (http_client.HTTPException, OSError) as e:
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise QiError("cannot reach the Kubernetes API at %s:%s: %s" % (self.host, self.port, e))
        if resp.status == 404:
            return None
        if resp.status >= 400:
            try:
                message = json.loads(text)["message"]
            except (ValueError, KeyError, TypeError):
                message = text.strip()[:500] or resp.reason
            raise ApiError(resp.status, message)
        return text if raw else (json.loads(text) if text else {})

    def resource(self, api_version, kind):
        """Discover where kind lives (plural name, namespaced) with one request per group version."""
        key = (api_version, kind)
        with self._lock:
            if key not in self._resources:
                found = self.request("GET", "/api/v1" if api_version == "v1" else "/apis/" + api_version)
                for r in (found or {}).get("resources", []):
                    if "/" not in r["name"]:
                        self._resources[(api_version, r["kind"])] = Resource(
                            api_version, r["kind"], r["name"], r["namespaced"])
                if key not in self._resources:
                    raise QiError("the cluster does not serve %s %s" % (api_version, kind))
            return self._resources[key]

    def discover(self, objects):
        """Resolve every kind up front, so concurrent calls never race on discovery."""
        for obj in objects:
            self.resource(obj["apiVersion"], obj["kind"])

    def _where(self, obj):
        return self.resource(obj["apiVersion"], obj["kind"]), obj["metadata"].get("namespace"), obj["metadata"]["name"]

    def get(self, obj):
        res, ns, name = self._where(obj)
        return self.request("GET", res.path(ns, name))

    def apply(self, obj, dry_run=False, field_manager=FIELD_MANAGER):
        res, ns, name = self._where(obj)
        query = {"fieldManager": field_manager, "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        try:
            return self.request("PATCH", res.path(ns, name), query, obj, "application/apply-patch+yaml")
        except ApiError as e:
            raise QiError("applying %s %s was refused: %s" % (obj["kind"], name, e.message))

    def delete(self, api_version, kind, name, namespace):
        res = self.resource(api_version, kind)
        return self.request("DELETE", res.path(namespace, name), {"propagationPolicy": "Background"}) is not None

    def list(self, api_version, kind, namespace, label_selector):
        res = self.resource(api_version, kind)
        return (self.request("GET", res.path(namespace), {"labelSelector": label_selector}) or {}).get("items", [])

    def pod_log(self, namespace, pod, container, lines=20, previous=False):
        res = self.resource("v1", "Pod")
        query = {"container": container, "tailLines": lines, "previous": "true" if previous else "false"}
        try:
            return self.request("GET", res.path(namespace, pod, "log"), query, raw=True) or ""
        except (ApiError, QiError):
            return ""


class ApiError(QiError):
    def __init__(self, status, message):
        super(ApiError, self).__init__(message)
        self.status = status


def _data_or_file(entry, name):
    """PEM bytes of NAME-data (base64) or NAME (a file) in a kubeconfig entry."""
    if entry.get(name + "-data"):
        return base64.b64decode(entry[name + "-data"])
    if entry.get(name):
        with open(os.path.expanduser(entry[name]), "rb") as f:
            return f.read()
    return None


def _ssl_context(cluster, user):
    ctx = ssl.create_default_context()
    if cluster.get("insecure-skip-tls-verify"):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ca = _data_or_file(cluster, "certificate-authority")
        if ca:
            ctx.load_verify_locations(cadata=ca.decode("ascii"))
    cert, key = _data_or_file(user, "client-certificate"), _data_or_file(user, "client-key")
    if cert and key:
        # ssl wants files: keep them only as long as it takes to load them, readable by us alone.
        fd, path = tempfile.mkstemp(prefix="qi-kube-")
        try:
            os.write(fd, cert + b"\n" + key)
            os.close(fd)
            ctx.load_cert_chain(path)
        finally:
            os.unlink(path)
    return ctx


def _library_credentials(kubeconfig, context):
    """Headers and TLS from the kubernetes library, for exec and auth-provider users."""
    try:
        from kubernetes import client, config
    except ImportError:
        raise QiError("this kubeconfig authenticates with an exec plugin or auth provider, which needs the "
                      "kubernetes Python library: pip install kubernetes")
    conf = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=conf)
    headers = {}
    token = conf.get_api_key_with_prefix("authorization")
    if token:
        headers["Authorization"] = token
    ctx = ssl.create_default_context(cafile=conf.ssl_ca_cert) if conf.verify_ssl else ssl._create_unverified_context()
    if conf.cert_file and conf.key_file:
        ctx.load_cert_chain(conf.cert_file, conf.key_file)
    return conf.host, ctx, headers


def _from_kubeconfig(path, context):
    if not HAS_YAML:
        raise QiError("PyYAML is required to read kubeconfig files")
    try:
        with open(path) as f:
            cfg = yaml.safe_load(f) or {}
    except (IOError, OSError) as e:
        raise QiError("cannot read kubeconfig %s: %s" % (path, e.strerror))
    except yaml.YAMLError as e:
        raise QiError("kubeconfig %s is not valid YAML: %s" % (path, e))

    def by_name(section):
        return dict((e["name"], e.get(section[:-1], {})) for e in cfg.get(section) or [])

    name = context or cfg.get("current-context")
    ctx = by_name("contexts").get(name)
    if ctx is None:
        raise QiError("kubeconfig %s has no context %s" % (path, name or "(no current-context)"))
    cluster = by_name("clusters").get(ctx.get("cluster"))
    user = by_name("users").get(ctx.get("user"), {})
    if not cluster or not cluster.get("server"):
        raise QiError("kubeconfig %s: context %s names no cluster with a server" % (path, name))
    if user.get("exec") or user.get("auth-provider"):
        return _library_credentials(path, name)
    headers = {}
    token = user.get("token")
    if not token and user.get("tokenFile"):
        with open(os.path.expanduser(user["tokenFile"])) as f:
            token = f.read().strip()
    if token:
        headers["Authorization"] = "Bearer " + token
    elif user.get("username"):
        creds = "%s:%s" % (user["username"], user.get("password", ""))
        headers["Authorization"] = "Basic " + base64.b64encode(creds.encode("utf-8")).decode("ascii")
    return cluster["server"], _ssl_context(cluster, user), headers


def _in_cluster():
    base = "/var/run/secrets/kubernetes.io/serviceaccount"
    with open(os.path.join(base, "token")) as f:
        token = f.read().strip()
    ctx = ssl.create_default_context(cafile=os.path.join(base, "ca.crt"))
    server = "https://%s:%s" % (os.environ["KUBERNETES_SERVICE_HOST"], os.environ.get("KUBERNETES_SERVICE_PORT", "443"))
    return server, ctx, {"Authorization": "Bearer " + token}


def kube_client(kubeconfig=None, context=None):
    """Return a cached client for (kubeconfig, context): KUBECONFIG or ~/.kube/config when no path is
    given, the pod's service account inside a cluster."""
    path = kubeconfig or (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0] or os.path.expanduser("~/.kube/config")
    key = hashlib.sha256(json.dumps([path, context]).encode("utf-8")).hexdigest()
    if key not in _CLIENTS:
        try:
            if os.path.exists(path):
                server, ctx, headers = _from_kubeconfig(path, context)
            elif not kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST"):
                server, ctx, headers = _in_cluster()
            else:
                raise QiError("kubeconfig %s does not exist" % path)
        except (ssl.SSLError, ValueError, KeyError, TypeError) as e:
            raise QiError("cannot use kubeconfig %s%s: %s" % (path, " context %s" % context if context else "", e))
        _CLIENTS[key] = Kube(server, ctx, headers)
    return _CLIENTS[key]


def applied_stamp(obj, manager=FIELD_MANAGER):
    """When our field manager last changed what it owns (unchanged by a no-op apply, even in dry run)."""
    for entry in obj.get("metadata", {}).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply" and not entry.get("subresource"):
            return entry.get("time")
    return None


def comparable(obj):
    """The object without what the server changes on every write, for 'would this change anything?'."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata", {})
    for k in _VOLATILE_META:
        meta.pop(k, None)
    annotations = meta.get("annotations") or {}
    annotations.pop("deployment.kubernetes.io/revision", None)
    if not annotations:
        meta.pop("annotations", None)
    return out
