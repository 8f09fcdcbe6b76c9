# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure: the image config (CMD, ENV, USER, HEALTHCHECK, labels...) committed for an app spec."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

FINGERPRINT_LABEL = "io.qi-convergence.fingerprint"
SECOND = 1000000000

# python3 is in every base image (Ansible needs it at build time), so the check needs no curl.
_HEALTH_PROBE = (
    "import sys,http.client\n"
    "try:\n"
    "    c=http.client.HTTPConnection('127.0.0.1',%d,timeout=3)\n"
    "    c.request('GET','%s')\n"
    "    sys.exit(0 if c.getresponse().status==%d else 1)\n"
    "except Exception:\n"
    "    sys.exit(1)\n"
)


_TCP_PROBE = (
    "import socket,sys\n"
    "try:\n"
    "    socket.create_connection(('127.0.0.1',%d),3).close()\n"
    "except Exception:\n"
    "    sys.exit(1)\n"
)


# The runtime-only image has python3 only when the app runs on it: node runs the same checks (Node.js 4 and up).
_NODE_HEALTH_PROBE = (
    "var r=require('http').get({host:'127.0.0.1',port:%d,path:'%s'},function(s){process.exit(s.statusCode===%d?0:1)});"
    "r.on('error',function(){process.exit(1)});r.setTimeout(3000,function(){process.exit(1)})"
)
_NODE_TCP_PROBE = (
    "var c=require('net').connect(%d,'127.0.0.1',function(){process.exit(0)});"
    "c.on('error',function(){process.exit(1)});c.setTimeout(3000,function(){process.exit(1)})"
)


def healthcheck(health, runner="python3"):
    """The image's HEALTHCHECK, run by python3 or node; None without a health check or a runner."""
    if not health or not runner:
        return None
    if runner == "node":
        probe = _NODE_TCP_PROBE % health["port"] if health.get("tcp") else \
            _NODE_HEALTH_PROBE % (health["port"], health["path"].replace("'", "%27"), health["status"])
        test = ["CMD", "node", "-e", probe]
    else:
        probe = _TCP_PROBE % health["port"] if health.get("tcp") else \
            _HEALTH_PROBE % (health["port"], health["path"], health["status"])
        test = ["CMD", "python3", "-c", probe]
    return {
        "Test": test,
        "Interval": 10 * SECOND,
        "Timeout": 5 * SECOND,
        "StartPeriod": max(5, health.get("initial_delay") or 0) * SECOND,
        "Retries": 3,
    }


def labels(spec, fingerprint, created, revision=None, version=None, node_version=None):
    git = spec["source"].get("git") or {}
    out = {
        "org.opencontainers.image.title": spec["name"],
        "org.opencontainers.image.version": version or fingerprint[:12],
        "org.opencontainers.image.created": created,
        FINGERPRINT_LABEL: fingerprint,
    }
    # Only a repository: a folder of the building machine would make the image differ from machine to machine.
    if git.get("repo"):
        out["org.opencontainers.image.source"] = git["repo"]
    if git.get("branch"):
        out["org.opencontainers.image.ref.name"] = git["branch"]
    if node_version:
        out["io.qi-convergence.node-version"] = node_version
    if revision:
        out["org.opencontainers.image.revision"] = revision
    return out


def commit_config(spec, uid, gid, fingerprint, created, base_env=None, revision=None, version=None,
                  node_version=None, probe="python3"):
    """The container config to commit: what the app's Vagrant VM got from systemd, as image metadata."""
    run = spec["run"]
    env = dict(base_env or {})
    env.update(run["env"])
    conf = {
        "Entrypoint": None,
        # A library (no start command) still gets a shell, so the image can be entered and tested.
        "Cmd": (list(run["command"]) + list(run["args"])) or ["/bin/sh"],
        "WorkingDir": run["workdir"],
        "User": "%d:%d" % (uid, gid),
        "Env": ["%s=%s" % kv for kv in sorted(env.items())],
        "Labels": labels(spec, fingerprint, created, revision, version, node_version),
        "StopSignal": "SIGTERM",
    }
    if run.get("port"):
        conf["ExposedPorts"] = {"%d/tcp" % run["port"]: {}}
    check = healthcheck(spec.get("health"), probe)
    if check:
        conf["Healthcheck"] = check
    return conf
