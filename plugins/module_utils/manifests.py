# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure: render the Kubernetes objects of one app from its spec, its image and the environment.

The environment is what the inventory says about where the app runs (replicas, service type, resources,
ingress, PDB, HPA, anti-affinity, NetworkPolicy, secrets); the spec is what the app folder says.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import json
import os
import re

from .errors import QiError
from .generated_secrets import objects_and_refs
from .url_credentials import hide_in_containers
from .workloads import cron_job, headless_service, job, stateful_set

MANAGER = "qi.convergence"
INITIAL_REPLICAS = "qi-convergence.io/initial-replicas"
# The legacy role's test endpoint, checked after the rollout (plugin_utils/release/smoke_test.py).
SMOKE_TEST = "qi-convergence.io/smoke-test"
CONFIG_CHECKSUM = "qi-convergence.io/config-checksum"
# The kinds that serve on their port through a Service.
SERVING = ("service", "stateful")
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
DEFAULT_ENV = {
    "namespace": "default",
    "replicas": None,
    "service_type": None,
    "node_port": None,
    "resources": None,
    "env": {},
    "secrets": {},
    "ingress": None,
    "pdb": False,
    "hpa": None,
    "anti_affinity": False,
    "network_policy": False,
    "progress_deadline": 120,
    "part_of": None,
    # A stateful component's volume claims: None for the cluster's default StorageClass.
    "storage_class": None,
    # What happens to those claims when the component is removed: Retain (production keeps the data) or Delete.
    "volume_claims_on_delete": "Retain",
    # Production clusters: where pods may run and what their registry and controllers need.
    "image_pull_secrets": [],
    "node_selector": {},
    "tolerations": [],
    "topology_spread": None,
    "pod_annotations": {},
    "service_annotations": {},
    "ingress_annotations": {},
}


def _labels(spec, release, version):
    out = {
        "app.kubernetes.io/name": spec["name"],
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/managed-by": MANAGER,
    }
    return out


def _selector(spec, release):
    return {"app.kubernetes.io/name": spec["name"], "app.kubernetes.io/instance": release}


def _meta(name, ns, labels):
    return {"name": name, "namespace": ns, "labels": dict(labels)}


def _digest_version(image):
    """A label-safe version from the image: the digest prefix or the tag."""
    if "@sha256:" in image:
        return image.split("@sha256:", 1)[1][:12]
    tail = image.rsplit("/", 1)[-1]
    return (tail.split(":", 1)[1] if ":" in tail else "latest")[:63]


def _b64(value):
    return base64.b64encode(str(value).encode("utf-8")).decode("ascii")


def _checksum(objs):
    return hashlib.sha256(json.dumps(objs, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _probe(health, kind):
    # A service that declares no HTTP health endpoint is probed on its TCP port.
    key, get = ("tcpSocket", {"port": health["port"]}) if health.get("tcp") else \
        ("httpGet", {"path": health["path"], "port": health["port"]})
    if kind == "startup":
        # Started = accepting connections; healthy is the readiness probe's question, so an app that starts but
        # answers 503 fails in readiness's 3 x 3 s, not after the startup probe's full minute.
        return {"tcpSocket": {"port": health["port"]}, "periodSeconds": 2, "failureThreshold": 30, "timeoutSeconds": 3}
    if kind == "readiness":
        return {key: get, "periodSeconds": 3, "failureThreshold": 3, "timeoutSeconds": 2}
    return {key: get, "periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 5,
            "initialDelaySeconds": health.get("initial_delay") or 0}


def _container_security():
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _aux_container(c, shared_mount, default_resources):
    out = {
        "name": c["name"],
        "image": c["image"],
        "securityContext": _container_security(),
        "resources": c.get("resources") or default_resources,
    }
    for key in ("command", "args"):
        if c.get(key):
            out[key] = list(c[key])
    if c.get("env"):
        out["env"] = [{"name": k, "value": v} for k, v in sorted(c["env"].items())]
    if c.get("port"):
        out["ports"] = [{"name": c["name"][:15], "containerPort": c["port"]}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    if c.get("mount_shared") and shared_mount:
        mounts.append({"name": "shared", "mountPath": c["mount_shared"]})
    out["volumeMounts"] = mounts
    return out


def _secret_objects(spec, env, ns, labels):
    """Secrets the spec declares, filled from (Vault-encrypted) inventory values."""
    objs, env_refs, mounts, volumes = [], [], [], []
    for s in spec["deploy"]["secrets"]:
        values = env["secrets"].get(s["name"])
        if values is None:
            raise QiError("the app declares secret '%s' but the inventory gives no values for it "
                          "(set app_deploy_secrets['%s'], ideally Vault-encrypted)" % (s["name"], s["name"]),
                          key="deploy.secrets")
        if not isinstance(values, dict):
            raise QiError("secret '%s' must be a mapping of KEY: value" % s["name"], key="app_deploy_secrets")
        missing = [k for k in s.get("env", []) if k not in values]
        if missing:
            raise QiError("secret '%s' lacks the key(s) %s the app expects" % (s["name"], ", ".join(missing)),
                          key="app_deploy_secrets.%s" % s["name"])
        objs.append({"apiVersion": "v1", "kind": "Secret", "metadata": _meta(s["name"], ns, labels),
                     "type": "Opaque", "data": dict((k, _b64(v)) for k, v in sorted(values.items()))})
        for k in s.get("env", []):
            env_refs.append({"name": k, "valueFrom": {"secretKeyRef": {"name": s["name"], "key": k}}})
        if s.get("mount_path"):
            vol = "secret-" + s["name"]
            volumes.append({"name": vol[:63], "secret": {"secretName": s["name"]}})
            mounts.append({"name": vol[:63], "mountPath": s["mount_path"], "readOnly": True})
    legacy = spec["deploy"].get("env_secret")
    if legacy:
        objs += _env_secret(legacy, env["secrets"].get(legacy["name"]), ns, labels)
    return objs, env_refs, mounts, volumes


def _env_secret(legacy, values, ns, labels):
    """The legacy secrets role's NAME=value list as a Secret; required names must be there."""
    if isinstance(values, list):
        values = dict(str(v).split("=", 1) for v in values if "=" in str(v))
    values = values or {}
    missing = [k for k in legacy["required"] if k not in values]
    if missing:
        raise QiError("the app's environment names secret(s) %s, which never go into an image: give their values "
                      "in secrets_env_vars (inventory, Vault-encrypted) or the app's provisioning/secrets.yml"
                      % ", ".join(missing), key="secrets_env_vars")
    if not values:
        return []
    return [{"apiVersion": "v1", "kind": "Secret", "metadata": _meta(legacy["name"], ns, labels), "type": "Opaque",
             "data": dict((k, _b64(v)) for k, v in sorted(values.items()))}]


def mask(obj):
    """A copy safe to show: Secret values hidden, and the passwords of URLs in containers' environments."""
    if obj and obj.get("kind") == "Secret":
        obj = dict(obj)
        for field in ("data", "stringData"):
            if obj.get(field):
                obj[field] = dict((k, "<hidden>") for k in obj[field])
    return hide_in_containers(obj)


def check_service_name(spec):
    """Service names are DNS-1035 labels: a name that starts with a digit builds, but cannot be deployed."""
    if not DNS_1035.match(spec["name"]):
        where = os.path.join(spec.get("app_dir") or "", ".qi.yml")
        raise QiError("'%s' cannot name a Kubernetes Service: it must start with a letter and hold only lower-case "
                      "letters, digits and '-' (DNS-1035), at most 63 characters; rename the app" % spec["name"],
                      path=where, key="app_name")


class _Target:
    """Where and as what one app is rendered: its namespace, name, labels, selector and the inventory's settings."""

    def __init__(self, spec, image, env, release):
        self.spec, self.image = spec, image
        self.env = dict(DEFAULT_ENV, **(env or {}))
        self.release = release or spec["name"]
        self.ns, self.name = self.env["namespace"], spec["name"]
        self.deploy, self.run = spec["deploy"], spec["run"]
        self.labels = _labels(spec, self.release, _digest_version(image))
        if self.env.get("part_of"):
            self.labels["app.kubernetes.io/part-of"] = self.env["part_of"]
        self.selector = _selector(spec, self.release)
        self.resources = self.env["resources"] or self.deploy["resources"]
        # Inventory values may arrive as strings (-e app_deploy_replicas=2).
        replicas = self.env["replicas"]
        self.replicas = int(replicas) if replicas not in (None, "") else self.deploy["replicas"]

    def meta(self, name=None):
        return _meta(name or self.name, self.ns, self.labels)

    @property
    def kind(self):
        """service, stateful, job or cronjob: a component's kind; every plain app is a service."""
        return (self.spec.get("component") or {}).get("kind") or "service"


def _workload(t, pod_spec, config_checksum):
    if t.kind == "service":
        return _deployment(t, pod_spec, config_checksum)
    component = t.spec["component"]
    annotations = dict(t.env["pod_annotations"], **{CONFIG_CHECKSUM: config_checksum})
    if t.kind == "stateful":
        storage = component.get("storage") or {"path": "/var/lib/%s" % t.name}
        return _with_smoke_test(t, stateful_set(t.name, t.meta(), t.selector, t.labels, annotations, pod_spec,
                                                storage, t.env.get("storage_class"),
                                                t.env.get("volume_claims_on_delete") or "Retain"))
    if t.kind == "job":
        return job(t.meta(), t.labels, annotations, pod_spec)
    return cron_job(t.meta(), t.labels, annotations, pod_spec, component["schedule"])


def render(spec, image, env=None, release=None):
    """Return the list of objects for spec deployed as release with image in env."""
    check_service_name(spec)
    t = _Target(spec, image, env, release)
    objs = [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": t.meta(), "automountServiceAccountToken": False}]
    config_objs, volumes, mounts = _files(t)
    secret_objs, secret_env, secret_mounts, secret_volumes = _secret_objects(spec, t.env, t.ns, t.labels)
    generated_objs, generated_env = objects_and_refs(spec, t.env.get("generated"), t.ns, t.labels)
    objs += config_objs + generated_objs + secret_objs
    pod_spec = _pod_spec(t, _app_container(t, mounts + secret_mounts, secret_env, generated_env),
                         volumes + secret_volumes)
    objs.append(_workload(t, pod_spec, _checksum(config_objs + secret_objs)))
    if t.run.get("port") and t.kind in SERVING:
        objs += _service_objects(t)
    if t.kind == "stateful" and t.run.get("port"):
        objs.append(headless_service(t.name, t.meta(), t.selector, t.run["port"]))
    if t.env["pdb"] and t.kind == "service":
        objs.append(_pdb(t))
    if t.env["hpa"] and t.kind == "service":
        objs.append(_hpa(t))
    if t.env["network_policy"] and t.run.get("port"):
        objs.append(_network_policy(t.name, t.ns, t.labels, t.selector, t.run["port"], t.deploy))
    return objs


def _files(t):
    """ConfigMaps of the app's config files, and the volumes: /tmp, other writable paths, the config files."""
    volumes = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    for i, path in enumerate(p for p in t.run["writable_paths"] if p != "/tmp"):
        volumes.append({"name": "writable-%d" % i, "emptyDir": {}})
        mounts.append({"name": "writable-%d" % i, "mountPath": path})
    config_objs = []
    for cf in t.deploy["config_files"]:
        data = dict((str(k), str(v)) for k, v in sorted(cf.get("files", {}).items()))
        config_objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": t.meta(cf["name"]), "data": data})
        volumes.append({"name": "config-" + cf["name"][:55], "configMap": {"name": cf["name"]}})
        mounts.append({"name": "config-" + cf["name"][:55], "mountPath": cf["mount_path"], "readOnly": True})
    return config_objs, volumes, mounts


def _app_container(t, mounts, secret_env, generated_env=()):
    deploy = t.deploy
    app = {
        "name": t.name,
        "image": t.image,
        "imagePullPolicy": "IfNotPresent",
        "securityContext": _container_security(),
        "resources": t.resources,
        "volumeMounts": mounts,
    }
    # The inventory's environment wins over what the spec sets on the pod (a wired URL with credentials).
    pod_env = [{"name": k, "value": str(v)} for k, v in sorted((t.deploy.get("pod_env") or {}).items())
               if k not in t.env["env"]]
    env = list(generated_env) + pod_env + [{"name": k, "value": str(v)} for k, v in sorted(t.env["env"].items())]
    env += secret_env
    if env:
        app["env"] = env
    if deploy["pre_stop_sleep"]:
        app["lifecycle"] = {"preStop": {"sleep": {"seconds": deploy["pre_stop_sleep"]}}}
    if t.run.get("post_start"):
        app.setdefault("lifecycle", {})["postStart"] = {"exec": {"command": list(t.run["post_start"])}}
    if deploy.get("env_secret"):
        # Optional unless the app's environment names a secret: the legacy playbooks made secrets.yml optional.
        app["envFrom"] = [{"secretRef": {"name": deploy["env_secret"]["name"],
                                         "optional": not deploy["env_secret"]["required"]}}]
    if t.run.get("port"):
        app["ports"] = [{"name": "http", "containerPort": t.run["port"], "protocol": "TCP"}]
    if t.spec.get("health"):
        for kind in ("startup", "readiness", "liveness"):
            app[kind + "Probe"] = _probe(t.spec["health"], kind)
    return app


def _pod_security(uid):
    # A prebuilt image that starts as root (the official couchdb) is run as its own user; its volume made its own.
    out = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    if uid:
        out.update(runAsUser=uid, runAsGroup=uid, fsGroup=uid)
    return out


def _pod_spec(t, app, volumes):
    deploy = t.deploy
    shared = any(c.get("mount_shared") for c in deploy["sidecars"] + deploy["init_containers"])
    if shared:
        volumes.append({"name": "shared", "emptyDir": {}})
    pod_spec = {
        "serviceAccountName": t.name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": deploy["termination_grace_period"],
        "securityContext": _pod_security(t.run.get("uid")),
        "containers": [app] + [_aux_container(c, shared, t.resources) for c in deploy["sidecars"]],
        "volumes": volumes,
    }
    _place(pod_spec, t.env, t.selector)
    if deploy["init_containers"]:
        pod_spec["initContainers"] = [_aux_container(c, shared, t.resources) for c in deploy["init_containers"]]
    if t.env["anti_affinity"]:
        pod_spec["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": t.selector}},
        }]}}
    return pod_spec


def _deployment(t, pod_spec, config_checksum):
    annotations = dict(t.env["pod_annotations"], **{CONFIG_CHECKSUM: config_checksum})
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": t.meta(),
        "spec": {
            "selector": {"matchLabels": t.selector},
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": t.env["progress_deadline"],
            # Keep the running revision serving until the new one is ready.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {"metadata": {"labels": dict(t.labels), "annotations": annotations}, "spec": pod_spec},
        },
    }
    if t.env["hpa"]:
        # The autoscaler owns replicas; the release sets this count only when it creates the Deployment.
        deployment["metadata"]["annotations"] = {INITIAL_REPLICAS: str(int(t.env["hpa"].get("min", t.replicas or 1)))}
    else:
        deployment["spec"]["replicas"] = t.replicas
    return _with_smoke_test(t, deployment)


def _with_smoke_test(t, workload):
    """The check the release runs on a pod of the new revision once it is ready (the legacy role's test tag)."""
    if t.spec.get("smoke_test"):
        workload["metadata"].setdefault("annotations", {})[SMOKE_TEST] = json.dumps(t.spec["smoke_test"],
                                                                                    sort_keys=True)
    return workload


def _service_objects(t):
    """The Service, and the Ingress when the inventory or the app names a host."""
    env, port_number = t.env, t.run["port"]
    stype = env["service_type"] or t.deploy["service_type"]
    port = {"name": "http", "port": port_number, "targetPort": "http", "protocol": "TCP"}
    node_port = env["node_port"] or (env.get("node_ports") or {}).get(t.name)
    if stype in ("NodePort", "LoadBalancer") and node_port:
        port["nodePort"] = int(node_port)
    objs = [{"apiVersion": "v1", "kind": "Service", "metadata": _annotated(t.meta(), env["service_annotations"]),
             "spec": {"type": stype, "selector": t.selector, "ports": [port]}}]
    ingress = env["ingress"] if env["ingress"] is not None else t.deploy["ingress"]
    # The inventory's host pattern is for the services people call: a database stays inside the cluster.
    if t.kind == "stateful" and env["ingress"] is not None and not t.deploy["ingress"]:
        ingress = None
    if ingress and ingress.get("host"):
        objs.append(_ingress(t.name, t.ns, t.labels, ingress, port_number))
        objs[-1]["metadata"] = _annotated(objs[-1]["metadata"], env["ingress_annotations"])
    return objs


def _pdb(t):
    pdb = t.env["pdb"]
    max_unavailable = pdb if isinstance(pdb, int) and not isinstance(pdb, bool) else 1
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": t.meta(),
            "spec": {"selector": {"matchLabels": t.selector}, "maxUnavailable": max_unavailable}}


def _hpa(t):
    hpa, replicas = t.env["hpa"], t.replicas or 1
    out = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": t.meta(),
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": t.name},
                    "minReplicas": int(hpa.get("min", replicas)),
                    "maxReplicas": int(hpa.get("max", max(2, replicas * 3))),
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": int(hpa.get("cpu", 80))}}}]}}
    if hpa.get("scale_down_after") is not None:
        # Kubernetes' own default is 300 s of lower load before it removes pods.
        out["spec"]["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": int(hpa["scale_down_after"])}}
    return out


def _annotated(meta, annotations):
    if annotations:
        meta["annotations"] = dict((str(k), str(v)) for k, v in annotations.items())
    return meta


def _place(pod_spec, env, selector):
    """Registry credentials, node selection, tolerations and spreading from the inventory."""
    if env["image_pull_secrets"]:
        pod_spec["imagePullSecrets"] = [{"name": s} if isinstance(s, str) else s for s in env["image_pull_secrets"]]
    if env["node_selector"]:
        pod_spec["nodeSelector"] = dict((str(k), str(v)) for k, v in env["node_selector"].items())
    if env["tolerations"]:
        pod_spec["tolerations"] = list(env["tolerations"])
    spread = env["topology_spread"]
    if spread:
        spread = {"topology_key": spread} if isinstance(spread, str) else dict(spread)
        pod_spec["topologySpreadConstraints"] = [{
            "maxSkew": int(spread.get("max_skew", 1)),
            "topologyKey": spread.get("topology_key", "topology.kubernetes.io/zone"),
            "whenUnsatisfiable": spread.get("when_unsatisfiable", "ScheduleAnyway"),
            "labelSelector": {"matchLabels": selector}}]


def _ingress(name, ns, labels, ingress, port):
    host = ingress["host"].replace("{name}", name)
    spec = {"rules": [{"host": host, "http": {"paths": [{
        "path": ingress.get("path") or "/", "pathType": "Prefix",
        "backend": {"service": {"name": name, "port": {"number": port}}}}]}}]}
    if ingress.get("class"):
        spec["ingressClassName"] = ingress["class"]
    if ingress.get("tls_secret"):
        spec["tls"] = [{"hosts": [host], "secretName": ingress["tls_secret"]}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": _meta(name, ns, labels), "spec": spec}


def _network_policy(name, ns, labels, selector, port, deploy):
    ports = [{"protocol": "TCP", "port": port}] + [
        {"protocol": "TCP", "port": c["port"]} for c in deploy["sidecars"] if c.get("port")]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(name, ns, labels),
            "spec": {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"],
                     "ingress": [{"ports": ports}]}}
