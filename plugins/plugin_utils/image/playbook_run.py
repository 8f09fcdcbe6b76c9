# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app's provisioning playbook run against the build container by a nested ansible-playbook, its lines streamed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from ...module_utils.errors import QiError
from ..spec.legacy_roles import lookup_environment
from .build_log import failure_lines, hints

_TAGS = re.compile(r"TASK TAGS: \[([^\]]*)\]")
# The lines of the nested run shown live: task names and their outcome.
_SHOWN = ("PLAY [", "TASK [", "changed:", "ok:", "fatal:", "failed:", "skipping:", "[WARNING]", "[ERROR]")


def inventory(spec, container_name, extra_vars):
    """Map every host pattern of the legacy playbook onto the build container."""
    host = {
        "ansible_connection": "community.docker.docker",
        "ansible_host": container_name,
        "ansible_python_interpreter": "/usr/bin/python3",
        # Root in the container, sudo from the base image: become_user works for nologin users too.
        "ansible_become_method": "sudo",
        # Each module goes to python3 on stdin in one exec, not through temp files (no tty, so sudo allows it): about
        # half of every task's time in a build, and no temp-file permissions to set for an unprivileged become_user.
        "ansible_pipelining": True,
    }
    groups = {}
    for pattern in spec["build"]["hosts"]:
        for name in re.split(r"[,:]", pattern):
            name = name.strip().lstrip("!&")
            if name and name not in ("all", "localhost", "127.0.0.1") and re.match(r"^[A-Za-z0-9_.-]+$", name):
                groups[name] = {"hosts": {"localhost": None}}
    return {"all": {"hosts": {"localhost": host}, "vars": extra_vars, "children": groups}}


def write_generated_playbook(spec, path):
    """The play the QI Vagrantfile generated for a .qi.yml project, with the collection's roles."""
    play = [{"name": "Provision %s as the QI Vagrantfile did" % spec["name"], "hosts": "localhost", "user": "root",
             "vars": spec["build"]["vars"], "roles": spec["build"]["roles"]}]
    with open(path, "w") as f:
        json.dump(play, f)


def unmatched_phases(list_tags_output, phases):
    """The phases no task carries, from `ansible-playbook --list-tags` output (pure)."""
    tags = set()
    for m in _TAGS.finditer(list_tags_output):
        tags.update(t.strip() for t in m.group(1).split(",") if t.strip())
    return [p for p in phases if p not in tags]


def _warn_unmatched_phases(cmd, env, cwd, phases):
    """A phase tag that matches no task is a warning (the build would silently skip that phase)."""
    if not phases:
        return []
    try:
        res = subprocess.run(cmd + ["--list-tags"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             check=False, env=env, cwd=cwd, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if res.returncode != 0:
        return []
    return ["phase tag '%s' matches no task of the provisioning playbook: nothing of that phase ran" % p
            for p in unmatched_phases(res.stdout, phases)]


def run_playbook(spec, playbook, container_name, phases, extra_vars, collections_path, roles_paths, log_path,
                 progress=None):
    workdir = tempfile.mkdtemp(prefix="qi-build-")
    try:
        inv = os.path.join(workdir, "inventory.json")
        with open(inv, "w") as f:
            json.dump(inventory(spec, container_name, extra_vars), f)
        evars = os.path.join(workdir, "extra-vars.json")
        with open(evars, "w") as f:
            json.dump(extra_vars, f)
        exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        if not os.path.exists(exe):
            exe = shutil.which("ansible-playbook") or "ansible-playbook"
        cmd = [exe, "-i", inv, playbook, "-e", "@" + evars]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_HOST_KEY_CHECKING="0",
                   # The outer run reports this build in JUnit; the nested run must not write its own file.
                   ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", QI_JUNIT_DIR="",
                   PYTHONUNBUFFERED="1")
        if collections_path:
            env["ANSIBLE_COLLECTIONS_PATH"] = collections_path
        env["ANSIBLE_ROLES_PATH"] = ":".join(roles_paths)
        # What the legacy Dockerfile/Vagrantfile set for the playbook's lookup('env', ...).
        env.update(lookup_environment(spec["build"].get("env")))
        warnings = _warn_unmatched_phases(cmd, env, os.path.dirname(playbook), phases)
        if phases:
            cmd += ["--tags", ",".join(phases)]
        with open(log_path, "a") as log:
            log.write("$ ANSIBLE_ROLES_PATH=%s %s\n" % (env["ANSIBLE_ROLES_PATH"], " ".join(cmd)))
            log.flush()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    cwd=os.path.dirname(playbook),
                                    env=env, universal_newlines=True, errors="replace")
            for line in proc.stdout:
                log.write(line)
                if progress and line.startswith(_SHOWN):
                    progress("%s: %s" % (spec["name"], line.rstrip().rstrip("*").rstrip()))
            rc = proc.wait()
        if rc != 0:
            shown = os.path.relpath(spec["build"]["playbook"], spec["app_dir"]) if spec["build"]["playbook"] \
                else "the generated play"
            raise QiError("provisioning playbook %s failed (exit %d); build log %s:\n%s" % (
                shown, rc, log_path, "\n".join(hints(log_path, [os.path.dirname(playbook)] + list(roles_paths)) + failure_lines(log_path))))
        return warnings
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
