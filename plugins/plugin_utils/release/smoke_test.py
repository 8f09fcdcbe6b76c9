# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The legacy nodejs role's `test` tag, after a rollout: GET the app's test endpoint on a pod of the new revision
(through the API server's pod proxy, so no port need be reachable from the controller) and expect the status
code and the text. A failure fails the release, which is then rolled back."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import time

from ...module_utils.errors import QiError
from ...module_utils.manifests import SMOKE_TEST as ANNOTATION
from .rollout import current_pods

ATTEMPTS = 5
PAUSE = 1.0


def judge(smoke, status, body):
    """None when the answer passes the check, else what was wrong (pure)."""
    if status != smoke["status"]:
        return "answered %s (expected %d): %s" % (status, smoke["status"], _excerpt(body))
    if smoke["text"] not in body:
        return "answered %d without the text %r: %s" % (status, smoke["text"], _excerpt(body))
    return None


def _excerpt(body):
    body = " ".join((body or "").split())
    return repr(body[:300] + ("..." if len(body) > 300 else ""))


def _askable(pod):
    """A pod that serves: running, ready, and not on its way out (a pod the autoscaler is removing can still be
    listed during its grace period, its server already stopped)."""
    status = pod.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    return status.get("phase") == "Running" and ready and not pod["metadata"].get("deletionTimestamp")


def smoke_failure(kube, deployment, progress=None):
    """Run the check of one applied Deployment or StatefulSet (None when it has none or it passes); else the
    failure message."""
    conf = (deployment["metadata"].get("annotations") or {}).get(ANNOTATION)
    if not conf:
        return None
    smoke = json.loads(conf)
    live = kube.get(deployment)
    pods = [p for p in current_pods(kube, live) if _askable(p)] if live else []
    if not pods:
        return "smoke test GET %s: no running pod of the new revision to ask" % smoke["path"]
    pod = pods[0]["metadata"]["name"]
    path = "/api/v1/namespaces/%s/pods/%s:%d/proxy%s" % (
        deployment["metadata"]["namespace"], pod, int(smoke["port"]), smoke["path"])
    problem = None
    for attempt in range(ATTEMPTS):
        try:
            status, body = kube.get_raw(path)
        except QiError as e:
            status, body = None, str(e)
        problem = judge(smoke, status, body)
        if problem is None:
            if progress:
                progress("%s: smoke test GET %s on %s: %d, found %r" % (
                    deployment["metadata"]["name"], smoke["path"], pod, status, smoke["text"]))
            return None
        if attempt + 1 < ATTEMPTS:
            time.sleep(PAUSE)
    return "smoke test (the provisioning's test endpoint) GET %s on pod %s port %s %s" % (
        smoke["path"], pod, smoke["port"], problem)
