"""An in-memory stand-in for the Kubernetes API client, for the pure release logic (never instead of the real
cluster: the integration tests drive that)."""
import copy
import itertools

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.kube.client import ApiError

_stamps = itertools.count(1)


def ref(api_version, kind, name, namespace):
    return (api_version, kind, namespace or "", name)


class FakeKube:
    def __init__(self, refuse=(), namespace=None):
        self.objects, self.refuse, self.namespace = {}, set(refuse), namespace
        self.deadline, self.retried, self.calls = None, 0, []

    def _ref(self, obj):
        m = obj["metadata"]
        return ref(obj["apiVersion"], obj["kind"], m["name"], m.get("namespace"))

    def discover(self, objects):
        pass

    def get(self, obj):
        return copy.deepcopy(self.objects.get(self._ref(obj)))

    def apply(self, obj, dry_run=False, field_manager="qi.convergence"):
        self.calls.append(("apply", obj["kind"], obj["metadata"]["name"]))
        if obj["metadata"]["name"] in self.refuse:
            raise QiError("applying %s %s was refused: admission webhook said no" % (obj["kind"], obj["metadata"]["name"]))
        current = self.objects.get(self._ref(obj))
        new = copy.deepcopy(obj)
        if current is not None:
            merged = copy.deepcopy(current)
            merged.update(dict((k, v) for k, v in new.items() if k != "metadata"))
            merged["metadata"]["labels"] = dict(current["metadata"].get("labels") or {},
                                                **(new["metadata"].get("labels") or {}))
            new = merged
        before = {k: v for k, v in (current or {}).items() if k != "metadata"}
        after = {k: v for k, v in new.items() if k != "metadata"}
        stamp = (current or {}).get("_stamp") if before == after and current else "t%d" % next(_stamps)
        new["metadata"]["managedFields"] = [{"manager": field_manager, "operation": "Apply", "time": stamp}]
        new["_stamp"] = stamp
        if not dry_run:
            self.objects[self._ref(obj)] = new
        return copy.deepcopy(new)

    def create(self, obj):
        if self._ref(obj) in self.objects:
            raise ApiError(409, "%s %s already exists" % (obj["kind"], obj["metadata"]["name"]))
        new = copy.deepcopy(obj)
        new["metadata"]["resourceVersion"] = "1"
        self.objects[self._ref(obj)] = new
        return copy.deepcopy(new)

    def replace(self, obj):
        current = self.objects.get(self._ref(obj))
        if current is None or current["metadata"].get("resourceVersion") != obj["metadata"].get("resourceVersion"):
            raise ApiError(409, "the object has been modified")
        new = copy.deepcopy(obj)
        new["metadata"]["resourceVersion"] = str(int(current["metadata"]["resourceVersion"]) + 1)
        self.objects[self._ref(obj)] = new
        return copy.deepcopy(new)

    def delete(self, api_version, kind, name, namespace):
        self.calls.append(("delete", kind, name))
        return self.objects.pop(ref(api_version, kind, name, namespace), None) is not None

    def list(self, api_version, kind, namespace, label_selector=None, field_selector=None, metadata_only=False):
        wanted = {}
        for term in (label_selector or "").split(","):
            if term:
                k, _eq, v = term.partition("=")
                wanted[k] = v if _eq else None
        out = []
        for (av, k, ns, _name), obj in sorted(self.objects.items()):
            labels = obj["metadata"].get("labels") or {}
            if (av, k, ns) == (api_version, kind, namespace) and all(
                    key in labels and (v is None or labels[key] == v) for key, v in wanted.items()):
                out.append({"metadata": copy.deepcopy(obj["metadata"])} if metadata_only else copy.deepcopy(obj))
        return out

    def pod_log(self, namespace, pod, container, lines=20, previous=False):
        return ""
