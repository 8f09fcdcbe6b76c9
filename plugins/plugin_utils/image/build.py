# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build an app image by running the app's OWN provisioning playbook against a build container.

cache hit (an image carries the fingerprint) -> reuse; miss -> container from the base image, source copied
where the provisioning expects it, ansible-playbook with the phases as tags (a .qi.yml-only app gets the play
the QI Vagrantfile generated), the .qi.yml setup commands as the app user, clean-up, commit, the QI test
commands against the image, push. The build container is removed whatever happens; a failed build or a
failed test tags and pushes nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

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

from .qi_tests import run_tests
from .roles import resolve_roles
from .desktop_base import LABEL as DESKTOP_LABEL
from .desktop_base import PACKAGES as DESKTOP_PACKAGES
from .desktop_base import desktop_base
from .docker_client import (
    docker_client, docker_errors, remove_quietly)
from ...module_utils.errors import QiError
from .fingerprint import fingerprint, SKIP_DIRS
from .config import FINGERPRINT_LABEL, commit_config
from ..spec.legacy_roles import lookup_environment, role_dir
from .npm_settings import (
    CA_FILE, NPMRC, environment, host_settings, npmrc_text)
from .reproducible import (
    add_bytes, make_reproducible, rfc3339, shadow_clamp_command, source_date_epoch)

BUILD_FORMAT = 4
ROLES_LABEL = "io.qi-convergence.roles"
BASE_CONTENT_LABEL = "io.qi-convergence.base-content"
SUDOERS = "/etc/sudoers.d/qi-build"
BUILD_START = "/tmp/.qi-build-start"
# What a build leaves that no image needs, and what differs on every build (temporary files under names with
# process IDs, ldconfig's cache of inode numbers): the same inputs must give the same files.
CLEANUP = ("rm -rf /root/.ansible /var/lib/apt/lists/* /var/cache/apt/*.bin "
           "/var/cache/apt/archives/*.deb /var/cache/dnf /var/cache/yum /var/log/apt/* "
           "/var/log/dpkg.log /root/.npm /root/.cache /root/.config/yarn /var/cache/ldconfig/aux-cache %s %s %s && "
           "find /tmp /var/tmp -mindepth 1 -maxdepth 1 -newer %s -exec rm -rf {} + && rm -f %s"
           % (SUDOERS, NPMRC, CA_FILE, BUILD_START, BUILD_START))
HOST_LOCAL_VARS = ("nodejs_app_controller_python",)
SETUP_ENV = {"npm_config_cache": "/tmp/qi-npm-cache", "YARN_CACHE_FOLDER": "/tmp/qi-yarn-cache"}


def _fingerprint_role_dirs(spec, roles_paths, collections_paths, role_map):
    dirs = [role_dir(role, roles_paths, collections_paths, spec["build"]["requirements"], role_map)
            for role in spec["build"]["roles"]]
    return [d for d in dirs if d]


def base_identity(image):
    """What the base image is made of where it says so (the same on every machine), else its image ID."""
    labels = image.labels or {}
    content = labels.get(BASE_CONTENT_LABEL)
    if not content:
        return image.id
    return "%s+desktop(%s)" % (content, DESKTOP_PACKAGES) if labels.get(DESKTOP_LABEL) else content


def build_fingerprint(spec, base_id, role_dirs, extra_vars, phases):
    build = spec["build"]
    paths = [spec["source"]["dir"]] + ([build["playbook"]] if build["playbook"] else []) + build["vars_files"] \
        + role_dirs
    values = {
        "format": BUILD_FORMAT, "base": base_id, "phases": phases, "vars": extra_vars, "roles": build["roles"],
        "run": spec["run"], "health": spec["health"], "dest": spec["source"]["dest"], "setup": build["setup"],
        "tests": spec["tests"], "env_runtime": spec["env_runtime"], "env": spec["build"].get("env") or {},
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


def _files_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data, mode in files:
            add_bytes(tar, path.lstrip("/"), data, mode)
    return buf.getvalue()


def _exec(container, cmd, user="root", what="command", workdir=None, env=None, log=None):
    res = container.exec_run(["/bin/sh", "-c", cmd], user=user, workdir=workdir, environment=env)
    out = res.output.decode("utf-8", "replace")
    if log is not None:
        log.write(out)
    if res.exit_code != 0:
        tail = "\n".join(out.strip().splitlines()[-20:])
        hints = ""
        if log is not None:
            log.flush()
            hints = "\n".join(_hints(log.name))
        raise QiError("%s failed in the build container (exit %d):\n%s%s" % (
            what, res.exit_code, hints + "\n" if hints else "", tail))
    return out.strip()


def _inventory(spec, container_name, extra_vars):
    """Map every host pattern of the legacy playbook onto the build container."""
    host = {
        "ansible_connection": "community.docker.docker",
        "ansible_host": container_name,
        "ansible_python_interpreter": "/usr/bin/python3",
        # Root in the container, sudo from the base image: become_user works for nologin users too.
        "ansible_become_method": "sudo",
    }
    groups = {}
    for pattern in spec["build"]["hosts"]:
        for name in re.split(r"[,:]", pattern):
            name = name.strip().lstrip("!&")
            if name and name not in ("all", "localhost", "127.0.0.1") and re.match(r"^[A-Za-z0-9_.-]+$", name):
                groups[name] = {"hosts": {"localhost": None}}
    return {"all": {"hosts": {"localhost": host}, "vars": extra_vars, "children": groups}}


def _generated_playbook(spec, path):
    """The play the QI Vagrantfile generated for a .qi.yml project, with the collection's roles."""
    play = [{"name": "Provision %s as the QI Vagrantfile did" % spec["name"], "hosts": "localhost", "user": "root",
             "vars": spec["build"]["vars"], "roles": spec["build"]["roles"]}]
    with open(path, "w") as f:
        json.dump(play, f)


def _failure_lines(log_path):
    """The task failures the playbook printed, so the build error carries the task's own message."""
    out = []
    with open(log_path, "r", errors="replace") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        ignored = any(l.startswith("...ignoring") for l in lines[i + 1:i + 3])
        if not ignored and line.startswith(("fatal:", "failed:", "ERROR!", "[ERROR]")) and not (
                line.startswith("[ERROR]") and any(l.startswith("...ignoring") for l in lines[i + 1:i + 4])):
            task = next((lines[j] for j in range(i, -1, -1) if lines[j].startswith("TASK [")), "")
            out.append((task.rstrip("* ") + " " + line).strip())
    return out or lines[-15:]


# A package.json dependency written owner/repo#ref: npm fetches its tarball from GitHub.
_GITHUB_TARBALL = re.compile(r"request to (https://codeload\.github\.com/[^\s\"']+) failed")
_GIT_DEP = re.compile(r"(?:git|ls-remote)[^\n]*?((?:git\+)?(?:ssh|https?|git)://[^\s\"']+?\.git(?=[\s\"'/#:]|$)|github:[\w./-]+)")


def _hints(log_path):
    """Plain words for failures whose own output buries the cause."""
    with open(log_path, "r", errors="replace") as f:
        text = f.read()
    deps = sorted(set(m.group(1) for m in _GIT_DEP.finditer(text) if "npm" in text) |
                  set(m.group(1) for m in _GITHUB_TARBALL.finditer(text)))
    if deps and ("npm error" in text or "npm ERR!" in text or "error Command failed" in text):
        return ["npm could not fetch the git-hosted dependency %s: its git host is not reachable from this "
                "machine. Publish it to the npm registry and depend on a version, or vendor it into the app."
                % ", ".join(deps)]
    return []


_TAGS = re.compile(r"TASK TAGS: \[([^\]]*)\]")


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


# The lines of the nested run shown live: task names and their outcome.
_SHOWN = ("PLAY [", "TASK [", "changed:", "ok:", "fatal:", "failed:", "skipping:", "[WARNING]", "[ERROR]")


def run_playbook(spec, playbook, container_name, phases, extra_vars, collections_path, roles_paths, log_path,
                 progress=None):
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
            shown = os.path.relpath(playbook, spec["app_dir"]) if spec["build"]["playbook"] else "the generated play"
            raise QiError("provisioning playbook %s failed (exit %d); build log %s:\n%s" % (
                shown, rc, log_path, "\n".join(_hints(log_path) + _failure_lines(log_path))))
        return warnings
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _registry_digest(client, ref, auth=None):
    """The digest the registry holds for ref, or None (absent, or the registry cannot say)."""
    try:
        return client.images.get_registry_data(ref, auth_config=auth).id
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


def portable_roles(report, app_dir):
    """The role resolution without the building machine's folders (pure): a role folder inside the app folder
    relative to it, any other by its name."""
    out = []
    for r in report:
        source = r["source"]
        if os.path.isabs(source):
            inside = os.path.relpath(source, app_dir)
            source = inside if not inside.startswith("..") else os.path.basename(source.rstrip("/"))
        out.append(dict(r, source=source))
    return out


def _extra_vars(spec, params):
    # The legacy build's own -e values, under .qi.yml's overrides and the inventory's.
    extra = dict(spec["build"].get("extra_vars") or {})
    extra.update(spec["build"]["overrides"])
    extra.update(params["overrides"] or {})
    if not spec["build"]["generated"]:
        extra.update(spec["build"]["vars"])
    extra["qi_container"] = True
    # The plays' "localhost" is the container: the role's controller-side fetch runs with a local connection.
    extra["nodejs_app_controller_python"] = sys.executable
    if params.get("rpm_map"):
        extra["nodejs_app_rpm_map"] = params["rpm_map"]
    return extra


def _paths(params):
    return ([p for p in (params.get("roles_path") or "").split(":") if p],
            [p for p in (params.get("collections_path") or "").split(":") if p])


def build_image(params, spec, check_mode=False, client=None, progress=None):
    """Build (or reuse), test and push the image of spec; return the module result dict."""
    client = client or docker_client(params.get("docker_host"))
    base = params["base_image"] or spec["build"]["base_image"]
    messages = []
    try:
        base_image = client.images.get(base)
    except docker_errors():
        raise QiError("base image %s is not in the Docker engine (run 'make setup' to build it)" % base)
    if spec["env_runtime"] == "linux-desktop":
        base_image = desktop_base(client, base_image, progress or messages.append) if not check_mode else base_image
    phases = params["phases"] or spec["build"]["phases"]
    extra_vars = _extra_vars(spec, params)
    user_roles, collections = _paths(params)
    app_roles = [os.path.join(os.path.dirname(spec["build"]["playbook"]), "roles")] if spec["build"]["playbook"] else []
    role_dirs = _fingerprint_role_dirs(spec, user_roles + app_roles, collections, params.get("role_map"))
    # The controller's own Python shapes no image: keep it out of the fingerprint.
    shaping = dict((k, v) for k, v in dict(extra_vars, **spec["build"]["vars"]).items() if k not in HOST_LOCAL_VARS)
    fp = build_fingerprint(spec, base_identity(base_image), role_dirs, shaping, phases)
    repo = "%s/%s" % (params["registry"], spec["name"]) if params["registry"] else spec["name"]
    tag = fp[:16]
    ref = "%s:%s" % (repo, tag)
    auth = None
    if params.get("registry_username"):
        auth = {"username": params["registry_username"], "password": params["registry_password"]}
    result = {"name": spec["name"], "changed": False, "fingerprint": fp, "image_tag": ref, "cache_hit": False,
              "pushed": False, "service": spec["service"], "roles": [], "tests": None, "messages": messages}
    messages.extend(spec.get("notes") or [])

    existing = None
    try:
        existing = client.images.get(ref)
    except docker_errors():
        pass
    # A fresh runner with a warm registry: the image of these inputs was built, tested and pushed before.
    pushed_digest = None
    if (existing is None or existing.labels.get(FINGERPRINT_LABEL) != fp) and params["registry"] and params["push"]:
        pushed_digest = _registry_digest(client, ref, auth)
    if pushed_digest or (existing is not None and existing.labels.get(FINGERPRINT_LABEL) == fp):
        result.update(cache_hit=True, cache="registry" if pushed_digest else "local")
        if not pushed_digest:
            result["roles"] = json.loads(existing.labels.get(ROLES_LABEL) or "[]")
        result["tests"] = {"results": [{"command": c, "rc": 0, "output": "", "cached": True} for c in spec["tests"]],
                           "reports": [], "cached": True}
        if pushed_digest:
            _say(progress, "%s: %s is in the registry already (same inputs): not rebuilt, not pushed" % (
                spec["name"], ref))
            result.update(image="%s@%s" % (repo, pushed_digest), digest=pushed_digest, image_id=None, size=None)
            return result
    elif check_mode:
        result.update(changed=True, image=None, msg="would build %s" % ref)
        return result
    else:
        _say(progress, "%s: building %s from %s (log %s)" % (spec["name"], ref, base, os.path.join(
            params["log_dir"], "build-%s.log" % spec["name"])))
        _build(client, spec, base_image, phases, extra_vars, params, fp, repo, tag, result, progress)
        existing = client.images.get(ref)
        result["changed"] = True
        if spec["tests"]:
            _say(progress, "%s: testing the image: %s" % (spec["name"], "; ".join(spec["tests"])))
        try:
            result["tests"] = run_tests(client, ref, spec, params["log_dir"], params.get("test_timeout") or 1800,
                                        network=params.get("network"))
        except QiError as e:
            # A failed test leaves no image behind under the fingerprint, so the next run tests again.
            try:
                client.images.remove(ref, force=True)
            except docker_errors():
                pass
            e.outcome = getattr(e, "outcome", None)
            raise

    if params["registry"] and params["push"]:
        digest = _registry_digest(client, ref, auth)
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


def _prepare(container, spec, settings, bundle):
    dest = spec["source"]["dest"]
    # What the build adds to /tmp is newer than this, and is removed before the commit.
    _exec(container, "touch %s" % BUILD_START, what="marking the start of the build")
    _exec(container, "mkdir -p %s" % _quote(os.path.dirname(dest) or "/"), what="creating the source folder")
    if not container.put_archive("/", _source_tar(spec["source"]["dir"], dest)):
        raise QiError("copying the source into the build container failed")
    files = [(NPMRC, npmrc_text(settings).encode("utf-8"), 0o644)] + ([(CA_FILE, bundle, 0o644)] if bundle else [])
    _exec(container, "mkdir -p %s" % os.path.dirname(NPMRC), what="creating the npm config folder")
    container.put_archive("/", _files_tar(files))
    # QI's setup lines use sudo; the app user may, during the build only (the file is removed before commit).
    _exec(container, "printf '%%s ALL=(ALL) NOPASSWD: ALL\\n' %s > %s && chmod 0440 %s"
          % (_quote(spec["run"]["user"]), SUDOERS, SUDOERS), what="allowing sudo during the build")


def _say(progress, line):
    if progress:
        progress(line)


def _run_setup(container, spec, npm_env, log, progress=None):
    """The .qi.yml setup commands, in the app folder, as the app user, with sudo for the build only."""
    user = spec["run"]["user"]
    env = dict(SETUP_ENV, **npm_env)
    home = _exec(container, "getent passwd %s | cut -d: -f6" % _quote(user), what="looking up the home of " + user)
    env["HOME"] = home or "/tmp/qi-home"
    for cmd in spec["build"]["setup"]:
        log.write("\n$ %s   (setup, as %s in %s)\n" % (cmd, user, spec["source"]["dest"]))
        _say(progress, "%s: setup: %s" % (spec["name"], cmd))
        log.flush()
        _exec(container, cmd, user=user, workdir=spec["source"]["dest"], env=env, log=log,
              what="setup command '%s'" % cmd)


def _build(client, spec, base_image, phases, extra_vars, params, fp, repo, tag, result, progress=None):
    name = "qi-build-%s-%s" % (spec["name"], uuid.uuid4().hex[:8])
    if not os.path.isdir(params["log_dir"]):
        os.makedirs(params["log_dir"])
    log_path = os.path.join(params["log_dir"], "build-%s.log" % spec["name"])
    open(log_path, "w").close()
    result["log"] = log_path
    container = None
    workdir = tempfile.mkdtemp(prefix="qi-roles-")
    try:
        # Known by its name prefix, not a label: docker commit would copy a label into the app's image.
        container = client.containers.run(base_image.id, ["tail", "-f", "/dev/null"], name=name, detach=True,
                                          network_mode=params.get("network") or None)
        # Read once per build (it runs npm on the controller), never on a cache hit.
        settings, bundle = host_settings()
        npm_env = environment(settings)
        _prepare(container, spec, settings, bundle)
        playbook = spec["build"]["playbook"]
        if spec["build"]["generated"]:
            playbook = os.path.join(workdir, "qi-generated-playbook.yml")
            _generated_playbook(spec, playbook)
        user_roles, collections = _paths(params)
        with open(log_path, "a") as log:
            roles_paths, report, _dirs = resolve_roles(spec, workdir, user_roles, collections, params.get("state_dir"),
                                                       params.get("role_map"), lambda m: log.write(m + "\n"))
            for r in report:
                log.write("role %s: %s (%s)\n" % (r["role"], r["how"], r["source"]))
        result["roles"] = report
        for r in report:
            _say(progress, "%s: role %s: %s (%s)" % (spec["name"], r["role"], r["how"], r["source"]))
        result["messages"] += run_playbook(spec, playbook, name, phases,
                                           dict(extra_vars, nodejs_app_build_environment=npm_env),
                                           params["collections_path"], roles_paths, log_path, progress)
        with open(log_path, "a") as log:
            if spec["build"]["setup"]:
                _run_setup(container, spec, npm_env, log, progress)
            version = _exec(container, "command -v node >/dev/null && node --version || true", what="node --version")
        result["node_version"] = version.lstrip("v") or None
        epoch = source_date_epoch(spec["source"]["dir"])
        _exec(container, CLEANUP + " && " + shadow_clamp_command(epoch), what="clean-up")
        user = spec["run"]["user"]
        ids = _exec(container, "id -u %s && id -g %s" % (_quote(user), _quote(user)),
                    what="looking up the run user '%s' (the provisioning must create it)" % user).split()
        uid, gid = int(ids[0]), int(ids[1])
        if uid == 0:
            raise QiError("the run user '%s' is root; images must run as a non-root user" % user)
        base_env = dict(e.split("=", 1) for e in base_image.attrs["Config"].get("Env") or [] if "=" in e)
        conf = commit_config(spec, uid, gid, fp, rfc3339(epoch), base_env, params.get("revision"), params.get("version"),
                             result.get("node_version"))
        # A later cache hit reports the same role resolution as this build.
        conf["Labels"][ROLES_LABEL] = json.dumps(portable_roles(report, spec["app_dir"]), sort_keys=True)
        committed = container.commit(conf=conf)
        _say(progress, "%s: making the image reproducible (times clamped to %s)" % (spec["name"], rfc3339(epoch)))
        make_reproducible(client, committed, "%s:%s" % (repo, tag), epoch,
                          "qi.convergence: %s provisioned by its playbook" % spec["name"])
    except docker_errors() as e:
        raise QiError("Docker error while building %s: %s" % (spec["name"], e))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        remove_quietly(container)


def _quote(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"
