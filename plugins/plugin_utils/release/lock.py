# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One deploy at a time per release: a coordination.k8s.io Lease per release, renewed while the run waits.

A second run finds the Lease fresh and fails at once naming the holder. A Lease whose holder stopped renewing
(a run that was killed) is taken over once it expires, or at once when the holder was a process on this same host
that no longer exists. Takeovers are compare-and-swap on the Lease's resourceVersion.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os
import socket
import time

from ...module_utils.errors import QiError
from ..kube.client import ApiError
from ..kube.parallel import pmap

LEASE_SECONDS = 30
RENEW_AFTER = 10.0


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _micro(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value):
    """A Kubernetes MicroTime or Time ("...T11:46:47.123456Z" or "...T11:46:47Z")."""
    if not value:
        return None
    head, _dot, frac = value.rstrip("Z").partition(".")
    return datetime.datetime.strptime("%s.%s" % (head, (frac + "000000")[:6]), "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc)


def identity():
    return "%s pid %d" % (socket.gethostname(), os.getpid())


def lease_name(release):
    return "qi-lock.%s" % release


def _local_pid(holder):
    parts = (holder or "").split(" pid ")
    if len(parts) != 2 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return None
    return int(parts[1])


def _proc_state(pid):
    """(state letter, parent pid) from /proc, or None when there is no such process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1])
    except (IOError, OSError, IndexError, ValueError):
        return None


def _dead_local_holder(holder):
    """True when the holder was a process on this host that is gone (a killed run; a zombie counts as gone)."""
    pid = _local_pid(holder)
    if pid is None:
        return False
    state = _proc_state(pid)
    return state is None or state[0] == "Z"


def orphaned_local_holder(holder):
    """True when the holder is a worker on this host whose ansible-playbook was killed: it is rolling back now."""
    pid = _local_pid(holder)
    state = _proc_state(pid) if pid is not None else None
    return state is not None and state[0] != "Z" and state[1] == 1


def stale(lease, now=None):
    spec = lease.get("spec") or {}
    renewed = _parse(spec.get("renewTime") or spec.get("acquireTime"))
    if renewed is None:
        return True
    age = ((now or _now()) - renewed).total_seconds()
    return age > spec.get("leaseDurationSeconds", LEASE_SECONDS) or _dead_local_holder(spec.get("holderIdentity"))


class ReleaseLocks:
    """The Leases of the releases one run deploys."""

    def __init__(self, kube, namespace, holder=None, progress=None):
        self.kube, self.namespace, self.holder = kube, namespace, holder or identity()
        self.held = {}
        self.renewed = None
        self.progress = progress
        self.parent = os.getppid()

    def _body(self, release, previous=None):
        now = _micro(_now())
        meta = {"name": lease_name(release), "namespace": self.namespace,
                "labels": {"qi-convergence.io/lock": "true"}}
        if previous is not None:
            meta["resourceVersion"] = previous["metadata"]["resourceVersion"]
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
                "spec": {"holderIdentity": self.holder, "leaseDurationSeconds": LEASE_SECONDS,
                         "acquireTime": now, "renewTime": now}}

    def _acquire(self, release):
        try:
            return self.kube.create(self._body(release))
        except ApiError as e:
            if e.status != 409:
                raise QiError("cannot lock release %s (Lease %s): %s" % (release, lease_name(release), e.message))
        current = self.kube.get(self._body(release))
        if current is None:
            return self.kube.create(self._body(release))
        spec = current.get("spec") or {}
        if not stale(current) and orphaned_local_holder(spec.get("holderIdentity")):
            # A killed run's worker on this host is putting the release back: wait for it, within the lease.
            if self.progress:
                self.progress("%s: waiting for %s (a stopped run) to finish its rollback" % (
                    release, spec.get("holderIdentity")))
            deadline = time.time() + spec.get("leaseDurationSeconds", LEASE_SECONDS) + 5
            while time.time() < deadline:
                time.sleep(1)
                current = self.kube.get(self._body(release))
                if current is None:
                    return self.kube.create(self._body(release))
                if stale(current):
                    break
            spec = current.get("spec") or {}
        if not stale(current):
            raise QiError("release %s is being deployed by %s (Lease %s/%s renewed %s, held for %ss after its last "
                          "renewal); try again when that run is done" % (
                              release, spec.get("holderIdentity"), self.namespace, lease_name(release),
                              spec.get("renewTime"), spec.get("leaseDurationSeconds")))
        try:
            return self.kube.replace(self._body(release, current))
        except ApiError as e:
            raise QiError("release %s: another run took over its expired lock first (%s)" % (release, e.message))

    def acquire(self, releases):
        """Lock every release or none: on a refusal the ones taken are released again."""
        outcomes = pmap(lambda r: _try(self._acquire, r), list(releases))
        for release, outcome in zip(releases, outcomes):
            if not isinstance(outcome, Exception):
                self.held[release] = outcome
        errors = [o for o in outcomes if isinstance(o, Exception)]
        if errors:
            self.release()
            raise errors[0]
        self.renewed = _now()

    def renew(self):
        """Called on every poll of a wait: renew when the last renewal is RENEW_AFTER seconds old. Raises when the
        ansible-playbook that started this run is gone (killed): the rollout is then rolled back, not left half-way."""
        if os.getppid() != self.parent:
            raise QiError("the ansible-playbook run (pid %d) that started this deploy was stopped" % self.parent)
        if not self.held or (_now() - self.renewed).total_seconds() < RENEW_AFTER:
            return
        self.renewed = _now()

        def one(release):
            lease = self.held[release]
            body = dict(lease, spec=dict(lease["spec"], renewTime=_micro(self.renewed)))
            self.held[release] = self.kube.replace(body)
        pmap(lambda r: _try(one, r), list(self.held))

    def release(self):
        held, self.held = self.held, {}
        pmap(lambda r: _try(self.kube.delete, "coordination.k8s.io/v1", "Lease", lease_name(r), self.namespace),
             list(held))


def _try(fn, *args):
    try:
        return fn(*args)
    except (QiError, ApiError) as e:
        return e
