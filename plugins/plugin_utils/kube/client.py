# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ONE place a Kubernetes client is built: a lean REST client for what the modules do
(get, list, server-side apply, create, delete, pod logs, events), with API discovery on demand.

Where the cluster is and how to authenticate comes from the official kubernetes package's kubeconfig loader
(kube_auth). Requests go through http.client rather than the package's generated client: importing that client
loads every model, which costs more than a whole no-change rollout (benchmarks/deploy.py).
Transient failures (429, 5xx, connection resets) are retried with backoff, honouring Retry-After, within the
caller's deadline.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import hashlib
import json
import random
import socket
import threading
import time

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode, urlparse
from ...module_utils.errors import QiError
from .auth import connection_settings

FIELD_MANAGER = "qi.convergence"
_CLIENTS = {}
_VOLATILE_META = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink")
RETRY_STATUSES = (429, 500, 502, 503, 504)
# How long transient failures are retried when the caller sets no deadline of its own.
RETRY_BUDGET = 30.0
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"


class _Connection(http_client.HTTPSConnection):
    """HTTPS with the kubeconfig's tls-server-name as SNI and verified name, through a CONNECT proxy if set."""

    def __init__(self, host, port, context, timeout, server_name):
        http_client.HTTPSConnection.__init__(self, host, port, context=context, timeout=timeout)
        self._qi_context, self._qi_server_name = context, server_name

    def connect(self):
        http_client.HTTPConnection.connect(self)
        self.sock = self._qi_context.wrap_socket(self.sock, server_hostname=self._qi_server_name)


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

    def __init__(self, settings):
        url = urlparse(settings.server)
        self.host, self.port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
        self.prefix = url.path.rstrip("/")
        self.https = url.scheme == "https"
        self.ssl_context, self.headers = settings.ssl_context, settings.headers
        self.server_name = settings.tls_server_name or self.host
        self.proxy = urlparse(settings.proxy) if settings.proxy else None
        self.namespace = settings.namespace
        # Retries of transient failures stop at this time (time.time()); None = RETRY_BUDGET per request.
        self.deadline = None
        self.retried = 0
        self._local = threading.local()
        self._resources = {}
        self._lock = threading.Lock()

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            host, port = self.host, self.port
            if self.proxy:
                host, port = self.proxy.hostname, self.proxy.port or 3128
            if self.https:
                conn = _Connection(host, port, self.ssl_context, 60, self.server_name)
            else:
                conn = http_client.HTTPConnection(host, port, timeout=60)
            if self.proxy and self.https:
                conn.set_tunnel(self.host, self.port)
            self._local.conn = conn
        return conn

    def _drop_conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def _send(self, method, url, data, headers):
        """(status, reason, body text, Retry-After) of one request; OSError/HTTPException when it could not be sent."""
        conn = self._conn()
        try:
            target = url
            if self.proxy and not self.https:
                target = "http://%s:%d%s" % (self.host, self.port, url)
            conn.request(method, target, body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.read().decode("utf-8", "replace"), resp.getheader("Retry-After")
        except (http_client.HTTPException, OSError, socket.timeout):
            self._drop_conn()
            raise

    def _attempt(self, method, url, data, headers):
        """(status or None, what calls for a retry or None, Retry-After, reason, body) of one request."""
        try:
            status, reason, text, retry_after = self._send(method, url, data, headers)
        except (http_client.HTTPException, OSError, socket.timeout) as e:
            return None, str(e) or e.__class__.__name__, None, None, None
        return status, ("%d %s" % (status, reason) if status in RETRY_STATUSES else None), retry_after, reason, text

    def _send_retrying(self, method, url, data, headers):
        """Retry what the API server or the network says to retry, within the deadline; (status, reason, body)."""
        deadline = self.deadline or (time.time() + RETRY_BUDGET)
        attempt = 0
        while True:
            attempt += 1
            status, problem, retry_after, reason, text = self._attempt(method, url, data, headers)
            if problem is None:
                return status, reason, text
            pause = _backoff(attempt, retry_after)
            if time.time() + pause > deadline:
                if status is None:
                    raise QiError("cannot reach the Kubernetes API at %s:%s: %s (%d attempts)" % (
                        self.host, self.port, problem, attempt))
                return status, reason, text
            self.retried += 1
            time.sleep(pause)

    def request(self, method, path, query=None, body=None, content_type="application/json", raw=False,
                accept="application/json"):
        url = self.prefix + path + ("?" + urlencode(query) if query else "")
        headers = dict(self.headers, Accept=accept)
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = content_type
        status, reason, text = self._send_retrying(method, url, data, headers)
        if status == 404:
            return None
        if status >= 400:
            try:
                message = json.loads(text)["message"]
            except (ValueError, KeyError, TypeError):
                message = text.strip()[:500] or reason
            raise ApiError(status, message)
        return text if raw else (json.loads(text) if text else {})

    def get_raw(self, path):
        """(status, body text) of one GET, whatever the status (the API server's proxy passes the app's own)."""
        try:
            status, _reason, text, _retry = self._send("GET", self.prefix + path, None, dict(self.headers, Accept="*/*"))
        except (http_client.HTTPException, OSError, socket.timeout) as e:
            raise QiError("cannot reach the Kubernetes API at %s:%s: %s" % (self.host, self.port, e))
        return status, text

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
            out = self.request("PATCH", res.path(ns, name), query, obj, "application/apply-patch+yaml")
        except ApiError as e:
            raise QiError("applying %s %s was refused: %s" % (obj["kind"], name, e.message))
        if out is None:
            raise QiError("applying %s %s was refused: not found (does namespace %s exist?)" % (obj["kind"], name, ns))
        return out

    def create(self, obj):
        """POST obj; ApiError 409 when it exists already."""
        res, ns, name = self._where(obj)
        return self.request("POST", res.path(ns), body=obj)

    def replace(self, obj):
        """PUT obj (its metadata.resourceVersion makes it a compare-and-swap: ApiError 409 when it moved)."""
        res, ns, name = self._where(obj)
        return self.request("PUT", res.path(ns, name), body=obj)

    def delete(self, api_version, kind, name, namespace):
        res = self.resource(api_version, kind)
        return self.request("DELETE", res.path(namespace, name), {"propagationPolicy": "Background"}) is not None

    def list(self, api_version, kind, namespace, label_selector=None, field_selector=None, metadata_only=False):
        res = self.resource(api_version, kind)
        query = {}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        accept = METADATA_ONLY if metadata_only else "application/json"
        return (self.request("GET", res.path(namespace), query, accept=accept) or {}).get("items") or []

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


def _backoff(attempt, retry_after):
    """Seconds to wait before retry number `attempt`: the server's Retry-After, else exponential with jitter."""
    try:
        if retry_after is not None:
            return min(10.0, max(0.0, float(retry_after)))
    except ValueError:
        pass
    return min(5.0, 0.2 * (2 ** (attempt - 1))) * (0.5 + random.random() / 2)


AUTH_KEYS = ("kubeconfig", "context", "host", "api_key", "ca_cert", "client_cert", "client_key", "validate_certs",
             "proxy", "no_proxy", "impersonate_user", "impersonate_groups")


def kube_client(params):
    """Return a cached client for the auth options (kubeconfig, context, host, api_key, ...; see kube_auth)."""
    auth = dict((k, params.get(k)) for k in AUTH_KEYS)
    key = hashlib.sha256(json.dumps(auth, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    if key not in _CLIENTS:
        _CLIENTS[key] = Kube(connection_settings(auth))
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
