# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a rollout failing, and why: read from a pod's container statuses and its events (pure functions).

What fails at once: crash loops, containers that cannot be created or configured, init containers that exit
non-zero, images that can never be pulled. What gets a bounded chance: image pulls that fail for a reason that
may pass (a registry hiccup), and probes, which fail the rollout once a probe has failed as many times as its own
failureThreshold allows.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

IMMEDIATE = ("CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
             "InvalidImageName", "ErrImageNeverPull")
PULLING = ("ErrImagePull", "ImagePullBackOff")
# Registry answers no retry will change.
PERMANENT_PULL = ("not found", "manifest unknown", "name unknown", "unauthorized", "denied", "invalid reference",
                  "repository does not exist", "no match for platform")
PROBE_EVENT = re.compile(r"^(Readiness|Liveness|Startup) probe failed")
CONTAINER_PATH = re.compile(r"spec\.(?:initContainers|containers)\{([^}]+)\}")
PULL_RETRIES = 3


class Failure:
    """Why a pod fails: the reason, the message, the container, and whether its log is the previous instance's."""

    def __init__(self, reason, message, container, previous=False):
        self.reason, self.message, self.container, self.previous = reason, message, container, previous

    def __eq__(self, other):
        return isinstance(other, Failure) and vars(self) == vars(other)

    def __repr__(self):
        return "Failure(%r, %r, %r, %r)" % (self.reason, self.message, self.container, self.previous)


def _statuses(pod):
    status = pod.get("status") or {}
    return [(s, True) for s in status.get("initContainerStatuses") or []] + \
        [(s, False) for s in status.get("containerStatuses") or []]


def _container_of(event):
    match = CONTAINER_PATH.search((event.get("involvedObject") or {}).get("fieldPath") or "")
    return match.group(1) if match else None


def event_count(event):
    return max(int(event.get("count") or 1), int((event.get("series") or {}).get("count") or 0))


def _probes(pod):
    spec = pod.get("spec") or {}
    out = {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for kind in ("readiness", "liveness", "startup"):
            if c.get(kind + "Probe"):
                out[(c["name"], kind.capitalize())] = c[kind + "Probe"].get("failureThreshold", 3)
    return out


def _pull_failures(events, container):
    return sum(event_count(e) for e in events if e.get("reason") == "Failed" and _container_of(e) in (None, container)
               and "pull" in (e.get("message") or "").lower())


def _terminated_detail(st):
    last = (st.get("lastState") or {}).get("terminated") or {}
    if not last:
        return ""
    return " (last exit: %s, code %s)" % (last.get("reason") or "Error", last.get("exitCode"))


def _pull_failure(st, reason, message, events, pull_retries):
    """An image pull that will not succeed: a permanent error, or as many failed pulls as allowed."""
    pulls = _pull_failures(events, st["name"])
    if any(p in message.lower() for p in PERMANENT_PULL) or pulls >= pull_retries:
        detail = "%s (image %s, %d failed pulls)" % (message or reason, st.get("image"), max(pulls, 1))
        return Failure(reason, detail, st["name"])
    return None


def _init_failure(st):
    terminated = (st.get("state") or {}).get("terminated") or {}
    if terminated and terminated.get("exitCode", 0) != 0:
        return Failure("InitContainerFailed", "init container %s exited with code %s (%s)" % (
            st["name"], terminated.get("exitCode"), terminated.get("reason") or "Error"), st["name"])
    return None


def _status_failure(st, is_init, events, pull_retries):
    waiting = (st.get("state") or {}).get("waiting") or {}
    reason, message = waiting.get("reason"), waiting.get("message") or ""
    if reason in IMMEDIATE:
        return Failure(reason, message + _terminated_detail(st), st["name"], st.get("restartCount", 0) > 0)
    failure = _pull_failure(st, reason, message, events, pull_retries) if reason in PULLING else None
    return failure or (_init_failure(st) if is_init else None)


def container_failure(pod, events, pull_retries=PULL_RETRIES):
    """The first reason the pod's containers fail for, from their statuses, or None."""
    for st, is_init in _statuses(pod):
        failure = _status_failure(st, is_init, events, pull_retries)
        if failure:
            return failure
    return None


def probe_failure(pod, events):
    """A probe that has failed as often as its failureThreshold allows, with the kubelet's message, or None."""
    thresholds = _probes(pod)
    for event in sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "", reverse=True):
        if event.get("reason") != "Unhealthy":
            continue
        match = PROBE_EVENT.match(event.get("message") or "")
        container = _container_of(event)
        if not match or not container:
            continue
        threshold = thresholds.get((container, match.group(1)), 3)
        if event_count(event) >= threshold:
            return Failure("%sProbeFailed" % match.group(1), "%s (%d times, failureThreshold %d)" % (
                event["message"].strip(), event_count(event), threshold), container, match.group(1) != "Readiness")
    return None


def pod_failure(pod, events, pull_retries=PULL_RETRIES):
    return container_failure(pod, events, pull_retries) or probe_failure(pod, events)


def replica_failure(*objects):
    """A ReplicaFailure condition (quota, admission, Pod Security: pods cannot even be created), or None."""
    for obj in objects:
        for cond in (obj or {}).get("status", {}).get("conditions") or []:
            if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
                return Failure(cond.get("reason") or "ReplicaFailure", cond.get("message") or "", None)
    return None


def _container_note(st):
    state = st.get("state") or {}
    reason = (state.get("waiting") or {}).get("reason")
    if reason:
        return "%s %s" % (st["name"], reason)
    if not st.get("ready") and state.get("running"):
        return "%s running, not ready" % st["name"]
    return None


def waiting_note(pod):
    """Why a pod is not ready yet, in a few words, for progress lines and timeouts."""
    status = pod.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return "unschedulable: %s" % (cond.get("message") or cond.get("reason"))
    notes = [n for n in (_container_note(st) for st, _init in _statuses(pod)) if n]
    return notes[0] if notes else status.get("phase") or "pending"
