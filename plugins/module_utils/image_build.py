# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build an app image by running the app's OWN provisioning playbook against a build container.

cache hit (an image carries the fingerprint) -> reuse; miss -> container from the base image, source copied
where the provisioning expects it, ansible-playbook with the phases as tags, clean-up, commit, push.
The build container is removed whatever happens; a failed build tags nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid

from ansible_collections.qi.convergence.plugins.module_utils.docker_client import docker_client, docker_errors
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.fingerprint import fingerprint, SKIP_DIRS
from ansible_collections.qi.convergence.plugins.module_utils.image_config import FINGERPRINT_LABEL, commit_config

BUILD_FORMAT = 1
CLEANUP = ("rm -rf /root/.ansible /tmp/ansible* /var/lib/apt/lists/* /var/cache/apt/*.bin "
           "/var/cache/apt/archives/*.deb /var/cache/dnf /var/cache/yum /var/log/apt/* "
           "/var/log/dpkg.log /root/.npm /root/.cache")


def _role_dirs(spec, roles_paths):
    """Find the folders of the roles the playbook uses, for the fingerprint."""
    found = []
    for role in spec["build"]["roles"]:
        parts = role.split(".")
        candidates = [os.path.join(p, role) for p in roles_paths]
        if len(parts) == 3:
            candidates += [os.path.join(p, "ansible_collections", parts[0], parts[1], "roles", parts[2])
                           for p in roles_paths]
        found += [c for c in candidates if os.path.isdir(c)][:1]
    return found


def build_fingerprint(spec, base_id, roles_paths, overrides, phases):
    build = spec["build"]
    paths = [spec["source"]["dir"], build["playbook"]] + build["vars_files"] + _role_dirs(spec, roles_paths)
    values = {
        "format": BUILD_FORMAT, "base": base_id, "phases": phases, "overrides": overrides,
        "run": spec["run"], "health": spec["health"], "dest": spec["source"]["dest"],
        "setup": build["setup"],
        # The metadata the commit derives from the spec: a change in how it is derived must rebuild too.
        "config": commit_config(spec, 1, 1, "", ""),
    }
    return fingerprint(paths, values)


def _source_tar(src, dest):
    """A tar of the app folder to extract at '/', placed at dest as the Vagrant synced folder would be."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def keep(info):
            return None if os.path.basename(info.name) in SKIP_DIRS else info
        tar.add(src, arcname=dest.lstrip("/"), filter=keep)
    return buf.getvalue()


def _exec(container, cmd, user="root", what="command"):
    res = container.exec_run(["/bin/sh", "-c", cmd], user=user)
    if res.exit_code != 0:
        out = res.output.decode("utf-8", "replace").strip()[-2000:]
        raise QiError("%s failed in the build container (exit %d): %s" % (what, res.exit_code, out))
    return res.output.decode("utf-8", "replace").strip()


def _inventory(spec, container_name, extra_vars):
    """Map every host pattern of the legacy playbook onto the build container."""
    host = {
        "ansible_connection": "community.docker.docker",
        "ansible_host": container_name,
        "ansible_python_interpreter": "/usr/bin/python3",
        # The build container is entered as root and has no sudo; su is in every base image.
        "ansible_become_method": "su",
    }
    groups = {}
    for pattern in spec["build"]["hosts"]:
        for name in re.split(r"[,:]", pattern):
            name = name.strip().lstrip("!&")
            if name and name not in ("all", "localhost", "127.0.0.1") and re.match(r"^[A-Za-z0-9_.-]+$", name):
                groups[name] = {"hosts": {"localhost": None}}
    return {"all": {"hosts": {"localhost": host}, "vars": extra_vars, "children": groups}}


def _failure_lines(log_path):
    """The task failures the playbook printed, so the build error carries the task's own message."""
    out = []
    with open(log_path, "r", errors="replace") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("fatal:", "failed:")) or line.startswith("ERROR!") or line.startswith("[ERROR]"):
            task = next((lines[j] for j in range(i, -1, -1) if lines[j].startswith("TASK [")), "")
            out.append((task.rstrip("* ") + " " + line).strip())
    return out or lines[-15:]


def run_playbook(spec, container_name, phases, extra_vars, collections_path, roles_paths, log_path):
    build = spec["build"]
    workdir = tempfile.mkdtemp(prefix="qi-build-")
    try:
        inv = os.path.join(workdir, "inventory.json")
        with open(inv, "w") as f:
            json.dump(_inventory(spec, container_name, extra_vars), f)
        evars = os.path.join(workdir, "extra-vars.json")
        with open(evars, "w") as f:
            json.dump(extra_vars, f)
        exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        if not os.path.exists(exe):
            exe = shutil.which("ansible-playbook") or "ansible-playbook"
        cmd = [exe, "-i", inv, build["playbook"], "-e", "@" + evars]
        if phases:
            cmd += ["--tags", ",".join(phases)]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_HOST_KEY_CHECKING="0",
                   ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", PYTHONUNBUFFERED="1")
        if collections_path:
            env["ANSIBLE_COLLECTIONS_PATH"] = collections_path
        env["ANSIBLE_ROLES_PATH"] = ":".join(roles_paths)
        with open(log_path, "w") as log:
            log.write("$ %s\n" % " ".join(cmd))
            log.flush()
            rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=os.path.dirname(build["playbook"]),
                                 env=env)
        if rc != 0:
            raise QiError("provisioning playbook %s failed (exit %d); build log %s:\n%s" % (
                os.path.relpath(build["playbook"], spec["app_dir"]), rc, log_path,
                "\n".join(_failure_lines(log_path))))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _registry_digest(client, ref):
    try:
        return client.images.get_registry_data(ref).id
    except docker_errors():
        return None


def _push(client, repo, tag, auth):
    digest = None
    for line in client.images.push(repo, tag=tag, stream=True, decode=True, auth_config=auth):
        if line.get("error"):
            raise QiError("push of %s:%s failed: %s" % (repo, tag, line["error"]))
        digest = (line.get("aux") or {}).get("Digest") or digest
    if not digest:
        raise QiError("push of %s:%s returned no digest" % (repo, tag))
    return digest


def build_image(params, spec, check_mode=False):
    """Build (or reuse) and push the image of spec; return the module result dict."""
    client = docker_client(params.get("docker_host"))
    base = params["base_image"] or spec["build"]["base_image"]
    try:
        base_image = client.images.get(base)
    except docker_errors():
        raise QiError("base image %s is not in the Docker engine (run 'make setup' to build it)" % base)
    phases = params["phases"] or spec["build"]["phases"]
    overrides = dict(spec["build"]["overrides"])
    overrides.update(params["overrides"] or {})
    extra_vars = dict(overrides, qi_container=True)
    roles_paths = [os.path.join(os.path.dirname(spec["build"]["playbook"]), "roles")] + \
        [p for p in (params["collections_path"] or "").split(":") if p]
    fp = build_fingerprint(spec, base_image.id, roles_paths, extra_vars, phases)
    repo = "%s/%s" % (params["registry"], spec["name"]) if params["registry"] else spec["name"]
    tag = fp[:16]
    ref = "%s:%s" % (repo, tag)
    auth = None
    if params.get("registry_username"):
        auth = {"username": params["registry_username"], "password": params["registry_password"]}
    result = {"changed": False, "fingerprint": fp, "image_tag": ref, "cache_hit": False, "pushed": False}

    existing = None
    try:
        existing = client.images.get(ref)
    except docker_errors():
        pass
    if existing is not None and existing.labels.get(FINGERPRINT_LABEL) == fp:
        result["cache_hit"] = True
    elif check_mode:
        result.update(changed=True, image=None, msg="would build %s" % ref)
        return result
    else:
        _build(client, spec, base_image, phases, extra_vars, params, fp, repo, tag)
        existing = client.images.get(ref)
        result["changed"] = True

    if params["registry"] and params["push"]:
        digest = _registry_digest(client, ref)
        if digest is None:
            if check_mode:
                result.update(changed=True, image=None, msg="would push %s" % ref)
                return result
            digest = _push(client, repo, tag, auth)
            result.update(changed=True, pushed=True)
        result["image"] = "%s@%s" % (repo, digest)
        result["digest"] = digest
    else:
        result["image"] = ref
    result["image_id"] = existing.id
    result["size"] = existing.attrs.get("Size")
    return result


def _build(client, spec, base_image, phases, extra_vars, params, fp, repo, tag):
    name = "qi-build-%s-%s" % (spec["name"], uuid.uuid4().hex[:8])
    if not os.path.isdir(params["log_dir"]):
        os.makedirs(params["log_dir"])
    log_path = os.path.join(params["log_dir"], "build-%s.log" % spec["name"])
    container = None
    try:
        container = client.containers.run(base_image.id, ["tail", "-f", "/dev/null"], name=name, detach=True,
                                          labels={"io.qi-convergence.build": spec["name"]})
        dest = spec["source"]["dest"]
        _exec(container, "mkdir -p %s" % _quote(os.path.dirname(dest) or "/"), what="creating the source folder")
        if not container.put_archive("/", _source_tar(spec["source"]["dir"], dest)):
            raise QiError("copying the source into the build container failed")
        for cmd in spec["build"]["setup"]:
            _exec(container, cmd, what="setup command '%s'" % cmd)
        run_playbook(spec, name, phases, extra_vars, params["collections_path"],
                     [os.path.join(os.path.dirname(spec["build"]["playbook"]), "roles")], log_path)
        _exec(container, CLEANUP, what="clean-up")
        user = spec["run"]["user"]
        ids = _exec(container, "id -u %s && id -g %s" % (_quote(user), _quote(user)),
                    what="looking up the run user '%s' (the provisioning must create it)" % user).split()
        uid, gid = int(ids[0]), int(ids[1])
        if uid == 0:
            raise QiError("the run user '%s' is root; images must run as a non-root user" % user)
        base_env = dict(e.split("=", 1) for e in base_image.attrs["Config"].get("Env") or [] if "=" in e)
        created = datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z"
        conf = commit_config(spec, uid, gid, fp, created, base_env, params.get("revision"), params.get("version"))
        container.commit(repository=repo, tag=tag, conf=conf)
    except docker_errors() as e:
        raise QiError("Docker error while building %s: %s" % (spec["name"], e))
    finally:
        if container is not None:
            try:
                container.remove(force=True)
            except docker_errors():
                pass


def _quote(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"
