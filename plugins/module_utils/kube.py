# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ONE place a Kubernetes client is built, plus server-side apply and object comparison."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import hashlib
import json
import traceback

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError

try:
    from kubernetes import config as k8s_config
    from kubernetes.client import CoreV1Api
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()

    class DynamicApiError(Exception):
        pass

    class NotFoundError(DynamicApiError):
        pass

    class ResourceNotFoundError(Exception):
        pass

FIELD_MANAGER = "qi.convergence"
_CLIENTS = {}
_VOLATILE_META = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink")


class Kube:
    """A dynamic client and a core API client sharing one connection."""

    def __init__(self, api_client):
        self.api_client = api_client
        self.dynamic = DynamicClient(api_client)
        self.core = CoreV1Api(api_client)
        self._resources = {}

    def resource(self, api_version, kind):
        key = (api_version, kind)
        if key not in self._resources:
            try:
                self._resources[key] = self.dynamic.resources.get(api_version=api_version, kind=kind)
            except ResourceNotFoundError:
                raise QiError("the cluster does not serve %s %s" % (api_version, kind))
        return self._resources[key]

    def get(self, obj):
        res = self.resource(obj["apiVersion"], obj["kind"])
        try:
            return res.get(name=obj["metadata"]["name"], namespace=obj["metadata"].get("namespace")).to_dict()
        except NotFoundError:
            return None

    def apply(self, obj, dry_run=False, field_manager=FIELD_MANAGER):
        res = self.resource(obj["apiVersion"], obj["kind"])
        kwargs = {"field_manager": field_manager, "force_conflicts": True}
        if dry_run:
            kwargs["dry_run"] = "All"
        try:
            return res.server_side_apply(body=obj, name=obj["metadata"]["name"],
                                         namespace=obj["metadata"].get("namespace"), **kwargs).to_dict()
        except DynamicApiError as e:
            raise QiError("applying %s %s was refused: %s" % (obj["kind"], obj["metadata"]["name"], api_message(e)))

    def delete(self, api_version, kind, name, namespace):
        try:
            self.resource(api_version, kind).delete(name=name, namespace=namespace)
            return True
        except NotFoundError:
            return False

    def list(self, api_version, kind, namespace, label_selector):
        return self.resource(api_version, kind).get(namespace=namespace, label_selector=label_selector).to_dict()["items"]


def api_message(e):
    try:
        return json.loads(e.body)["message"]
    except Exception:
        return getattr(e, "summary", lambda: str(e))() if hasattr(e, "summary") else str(e)


def kube_client(kubeconfig=None, context=None):
    """Return a cached client for (kubeconfig, context); in-cluster config when neither is given and no file."""
    key = hashlib.sha256(json.dumps([kubeconfig, context]).encode("utf-8")).hexdigest()
    if key not in _CLIENTS:
        if not HAS_KUBERNETES:
            raise QiError("the kubernetes Python library is required")
        try:
            api = k8s_config.new_client_from_config(config_file=kubeconfig, context=context)
        except Exception as e:
            raise QiError("cannot load kubeconfig %s%s: %s" % (kubeconfig or "(default)",
                                                               " context %s" % context if context else "", e))
        _CLIENTS[key] = Kube(api)
    return _CLIENTS[key]


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
