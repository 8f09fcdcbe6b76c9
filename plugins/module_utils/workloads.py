# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workload object of a component by its kind (pure): a StatefulSet with its volume for a database, a Job for a
data loader, a CronJob; services keep their Deployment (manifests.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import hashlib
import json

DEFAULT_STORAGE = "1Gi"
# A Job's pod template cannot be changed in place: the release compares this and recreates the Job.
TEMPLATE_HASH = "qi-convergence.io/template-hash"


def _template(labels, annotations, pod_spec):
    return {"metadata": {"labels": dict(labels), "annotations": dict(annotations)}, "spec": pod_spec}


def headless_service(name, meta, selector, port):
    """The Service that gives a StatefulSet's pods their stable names (NAME-0.NAME-pods)."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": dict(meta, name="%s-pods" % name),
            "spec": {"clusterIP": "None", "selector": selector, "publishNotReadyAddresses": True,
                     "ports": [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}]}}


def stateful_set(name, meta, selector, labels, annotations, pod_spec, storage, storage_class=None,
                 claims_on_delete="Retain"):
    """One replica at a time, its data on a volume claimed from the StorageClass (the cluster's default when
    storage_class is None) and mounted at storage['path'] in the app container; when the StatefulSet is deleted
    (the component removed), its claims are kept or deleted by the control plane (claims_on_delete)."""
    pod_spec = copy.deepcopy(pod_spec)
    pod_spec["containers"][0]["volumeMounts"].append({"name": "data", "mountPath": storage["path"]})
    claim = {"metadata": {"name": "data", "labels": dict(selector)},
             "spec": {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": storage.get("size") or DEFAULT_STORAGE}}}}
    if storage_class:
        claim["spec"]["storageClassName"] = storage_class
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta,
            "spec": {"serviceName": "%s-pods" % name, "replicas": 1, "selector": {"matchLabels": selector},
                     "podManagementPolicy": "OrderedReady", "updateStrategy": {"type": "RollingUpdate"},
                     "revisionHistoryLimit": 5, "template": _template(labels, annotations, pod_spec),
                     "volumeClaimTemplates": [claim],
                     "persistentVolumeClaimRetentionPolicy": {"whenDeleted": claims_on_delete,
                                                              "whenScaled": "Retain"}}}


def _run_once(pod_spec):
    """A pod that runs to completion: no restarts in place, no probes, no ports, no pre-stop pause."""
    pod_spec = copy.deepcopy(pod_spec)
    pod_spec["restartPolicy"] = "Never"
    for container in pod_spec["containers"][:1]:
        for key in ("startupProbe", "readinessProbe", "livenessProbe", "ports", "lifecycle"):
            container.pop(key, None)
    return pod_spec


def job(meta, labels, annotations, pod_spec, backoff_limit=1):
    """A Job: its pod template cannot change, so the release deletes and recreates it when its inputs do (the
    template's hash is on the Job)."""
    template = _template(labels, annotations, _run_once(pod_spec))
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    meta = dict(meta, annotations=dict(meta.get("annotations") or {}, **{TEMPLATE_HASH: digest}))
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": {"backoffLimit": backoff_limit, "template": template}}


def cron_job(meta, labels, annotations, pod_spec, schedule, backoff_limit=1):
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
            "spec": {"schedule": schedule, "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 1,
                     "failedJobsHistoryLimit": 3,
                     "jobTemplate": {"spec": {"backoffLimit": backoff_limit,
                                              "template": _template(labels, annotations, _run_once(pod_spec))}}}}
