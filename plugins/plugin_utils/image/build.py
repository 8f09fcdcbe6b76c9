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

import json
import os
import shutil
import sys
import tempfile
import time
import uuid

from ...module_utils.errors import QiError
from .build_inputs import base_identity, build_fingerprint, role_dirs
from .config import FINGERPRINT_LABEL, commit_config
from .container import files_tar, quote, run_in, source_tar
from .desktop_base import desktop_base
from .docker_client import docker_client, docker_errors, remove_image_quietly, remove_quietly, wait_for_removals
from .legacy_staging import stage
from .npm_settings import CA_FILE, NPMRC, environment, host_settings, npmrc_text
from .playbook_run import run_playbook, write_generated_playbook
from .qi_tests import run_tests
from .registry import push, registry_digest
from .reproducible import make_reproducible, rfc3339, shadow_clamp_command, source_date_epoch
from .roles import resolve_roles
from .runtime_image import RUNTIME_ONLY_KEY, describe, make_runtime_image, record_base, runtime_settings, verify

ROLES_LABEL = "io.qi-convergence.roles"
# The runtime-only image's tag while the full image's tests run.
RUNTIME_SUFFIX = "-runtime"
SUDOERS = "/etc/sudoers.d/qi-build"
BUILD_START = "/tmp/.qi-build-start"
# What a build leaves that no image needs, and what differs on every build (temporary files under names with
# process IDs, ldconfig's cache of inode numbers): the same inputs must give the same files. The emptied apt lists
# are dated at the epoch, as in the base image, so an image built on this one updates them first.
CLEANUP = ("rm -rf /root/.ansible /var/lib/apt/lists/* /var/cache/apt/*.bin "
           "/var/cache/apt/archives/*.deb /var/cache/dnf /var/cache/yum /var/log/apt/* "
           "/var/log/dpkg.log /root/.npm /root/.cache /root/.config/yarn /var/cache/ldconfig/aux-cache %s %s %s && "
           "find /tmp /var/tmp -mindepth 1 -maxdepth 1 -newer %s -exec rm -rf {} + && rm -f %s && "
           "if [ -d /var/lib/apt/lists ]; then touch -d @0 /var/lib/apt/lists; fi"
           % (SUDOERS, NPMRC, CA_FILE, BUILD_START, BUILD_START))
HOST_LOCAL_VARS = ("nodejs_app_controller_python",)
SETUP_ENV = {"npm_config_cache": "/tmp/qi-npm-cache", "YARN_CACHE_FOLDER": "/tmp/qi-yarn-cache"}


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


def _extra_vars(spec, options):
    # The legacy build's own -e values, under .qi.yml's overrides and the inventory's.
    extra = dict(spec["build"].get("extra_vars") or {})
    extra.update(spec["build"]["overrides"])
    extra.update(options.overrides)
    if not spec["build"]["generated"]:
        extra.update(spec["build"]["vars"])
    extra["qi_container"] = True
    # The plays' "localhost" is the container: the role's controller-side fetch runs with a local connection.
    extra["nodejs_app_controller_python"] = sys.executable
    if options.rpm_map:
        extra["nodejs_app_rpm_map"] = options.rpm_map
    return extra


def _say(progress, line):
    if progress:
        progress(line)


def _base_image(client, options, spec, check_mode, say):
    base = options.base_image or spec["build"]["base_image"]
    try:
        image = client.images.get(base)
    except docker_errors():
        raise QiError("base image %s is not in the Docker engine (run 'make setup' to build it)" % base)
    if spec["env_runtime"] == "linux-desktop" and not check_mode:
        image = desktop_base(client, image, say)
    return image


def _fingerprint(spec, options, base_image, extra_vars, phases):
    app_roles = [os.path.join(os.path.dirname(spec["build"]["playbook"]), "roles")] if spec["build"]["playbook"] else []
    dirs = role_dirs(spec, options.roles_paths + app_roles, options.collections_paths, options.role_map)
    # The controller's own Python shapes no image: keep it out of the fingerprint.
    shaping = dict((k, v) for k, v in dict(extra_vars, **spec["build"]["vars"]).items() if k not in HOST_LOCAL_VARS)
    return build_fingerprint(spec, base_identity(base_image), dirs, shaping, phases)


def _local_image(client, ref):
    try:
        return client.images.get(ref)
    except docker_errors():
        return None


def _cached_tests(spec):
    return {"results": [{"command": c, "rc": 0, "output": "", "cached": True} for c in spec["tests"]],
            "reports": [], "cached": True}


def build_image(options, spec, check_mode=False, client=None, progress=None):
    """Build (or reuse), test and push the image of spec as options say; return the module result dict. Its
    throwaway containers and images are gone when it returns, whatever happened."""
    try:
        return _build_image(options, spec, check_mode, client or docker_client(options.docker_host), progress)
    finally:
        wait_for_removals()


def _build_image(options, spec, check_mode, client, progress):
    messages = []
    base_image = _base_image(client, options, spec, check_mode, progress or messages.append)
    phases = options.phases or spec["build"]["phases"]
    extra_vars = _extra_vars(spec, options)
    runtime = runtime_settings(spec, options)
    fp = _fingerprint(spec, options, base_image, dict(extra_vars, **{RUNTIME_ONLY_KEY: runtime}) if runtime else
                      extra_vars, phases)
    repo = "%s/%s" % (options.registry, spec["name"]) if options.registry else spec["name"]
    tag = fp[:16]
    ref = "%s:%s" % (repo, tag)
    result = {"name": spec["name"], "changed": False, "fingerprint": fp, "image_tag": ref, "cache_hit": False,
              "pushed": False, "service": spec["service"], "roles": [], "tests": None, "messages": messages}
    messages.extend(spec.get("notes") or [])
    existing = _local_image(client, ref)
    local_hit = existing is not None and existing.labels.get(FINGERPRINT_LABEL) == fp
    # A fresh runner with a warm registry: the image of these inputs was built, tested and pushed before.
    pushed_digest = registry_digest(client, ref, options.registry_auth) if options.publishes and not local_hit else None
    if pushed_digest:
        _say(progress, "%s: %s is in the registry already (same inputs): not rebuilt, not pushed" % (spec["name"], ref))
        result.update(cache_hit=True, cache="registry", tests=_cached_tests(spec), image="%s@%s" % (repo, pushed_digest),
                      digest=pushed_digest, image_id=None, size=None)
        return result
    if local_hit:
        result.update(cache_hit=True, cache="local", tests=_cached_tests(spec),
                      roles=json.loads(existing.labels.get(ROLES_LABEL) or "[]"))
    elif check_mode:
        result.update(changed=True, image=None, msg="would build %s" % ref)
        return result
    else:
        existing = _build_and_test(client, spec, base_image, options, (phases, extra_vars, fp, runtime), (repo, tag),
                                   result, progress)
    return _publish(client, result, existing, (repo, tag), options, check_mode)


def _build_and_test(client, spec, base_image, options, inputs, where, result, progress):
    ref = "%s:%s" % where
    _say(progress, "%s: building %s from %s (log %s)" % (spec["name"], ref, options.base_image or spec["build"][
        "base_image"], os.path.join(options.log_dir, "build-%s.log" % spec["name"])))
    job = _build(client, spec, base_image, options, inputs, where, result, progress)
    image = client.images.get(ref)
    result["changed"] = True
    if spec["tests"]:
        _say(progress, "%s: testing the image: %s" % (spec["name"], "; ".join(spec["tests"])))
    try:
        result["tests"] = run_tests(client, ref, spec, options.log_dir, options.test_timeout, network=options.network)
        if job:
            image = _runtime_takes_the_tag(client, spec, image, ref, dict(job, settings=inputs[3]), options, result,
                                           progress)
    except QiError as e:
        # A failed test (or runtime-only image) leaves no image behind under the fingerprint: the next run tests again.
        for name in (ref, ref + RUNTIME_SUFFIX):
            remove_image_quietly(client, name)
        e.outcome = getattr(e, "outcome", None)
        raise
    return image


def _runtime_takes_the_tag(client, spec, full, ref, job, options, result, progress):
    """The runtime-only image, made from the tested full image and checked, takes the fingerprint's tag."""
    started = time.monotonic()
    _say(progress, "%s: collecting its runtime for the runtime-only image" % spec["name"])
    runtime, summary = make_runtime_image(client, full.id, spec, job, ref + RUNTIME_SUFFIX)
    _say(progress, "%s: checking the runtime-only image" % spec["name"])
    checked = verify(client, ref + RUNTIME_SUFFIX, spec, options.network)
    repo, tag = ref.rsplit(":", 1)
    runtime.tag(repo, tag)
    remove_image_quietly(client, ref + RUNTIME_SUFFIX)
    if full.id != runtime.id:
        remove_image_quietly(client, full.id)
    result["runtime_only"] = dict(summary, size=runtime.attrs.get("Size"), full_size=full.attrs.get("Size"),
                                  checked=checked)
    said = describe(summary, runtime.attrs.get("Size") or 0, full.attrs.get("Size") or 0)
    _say(progress, "%s: %s; %s (%d s)" % (spec["name"], said, checked, time.monotonic() - started))
    result["messages"].append(said)
    return runtime


def _publish(client, result, image, where, options, check_mode):
    repo, tag = where
    if options.publishes:
        digest = registry_digest(client, "%s:%s" % where, options.registry_auth)
        if digest is None:
            if check_mode:
                result.update(changed=True, image=None, msg="would push %s:%s" % where)
                return result
            digest = push(client, repo, tag, options.registry_auth)
            result.update(changed=True, pushed=True)
        result.update(image="%s@%s" % (repo, digest), digest=digest)
    else:
        result["image"] = "%s:%s" % where
    result.update(image_id=image.id, size=image.attrs.get("Size"))
    return result


def _prepare(container, spec, settings, bundle):
    dest = spec["source"]["dest"]
    # What the build adds to /tmp is newer than this, and is removed before the commit.
    run_in(container, "touch %s" % BUILD_START, what="marking the start of the build")
    run_in(container, "mkdir -p %s" % quote(os.path.dirname(dest) or "/"), what="creating the source folder")
    if not container.put_archive("/", source_tar(spec["source"]["dir"], dest, spec["source"].get("exclude") or [])):
        raise QiError("copying the source into the build container failed")
    files = [(NPMRC, npmrc_text(settings).encode("utf-8"), 0o644)] + ([(CA_FILE, bundle, 0o644)] if bundle else [])
    run_in(container, "mkdir -p %s" % os.path.dirname(NPMRC), what="creating the npm config folder")
    container.put_archive("/", files_tar(files))
    # QI's setup lines use sudo; the app user may, during the build only (the file is removed before commit).
    run_in(container, "printf '%%s ALL=(ALL) NOPASSWD: ALL\\n' %s > %s && chmod 0440 %s"
           % (quote(spec["run"]["user"]), SUDOERS, SUDOERS), what="allowing sudo during the build")


def _run_setup(container, spec, npm_env, log, progress=None):
    """The .qi.yml setup commands, in the app folder, as the app user, with sudo for the build only."""
    user = spec["run"]["user"]
    env = dict(SETUP_ENV, **npm_env)
    home = run_in(container, "getent passwd %s | cut -d: -f6" % quote(user), what="looking up the home of " + user)
    env["HOME"] = home or "/tmp/qi-home"
    for cmd in spec["build"]["setup"]:
        log.write("\n$ %s   (setup, as %s in %s)\n" % (cmd, user, spec["source"]["dest"]))
        _say(progress, "%s: setup: %s" % (spec["name"], cmd))
        log.flush()
        run_in(container, cmd, user=user, workdir=spec["source"]["dest"], env=env, log=log,
               what="setup command '%s'" % cmd)


def _new_log(options, spec):
    if not os.path.isdir(options.log_dir):
        os.makedirs(options.log_dir)
    log_path = os.path.join(options.log_dir, "build-%s.log" % spec["name"])
    open(log_path, "w").close()
    return log_path


def _build(client, spec, base_image, options, inputs, where, result, progress=None):
    """Provision a build container from base_image, commit it and make the image reproducible; the container
    and the role folder go whatever happens. What a runtime-only image is made with, or None."""
    name = "qi-build-%s-%s" % (spec["name"], uuid.uuid4().hex[:8])
    result["log"] = _new_log(options, spec)
    container = None
    workdir = tempfile.mkdtemp(prefix="qi-roles-")
    try:
        # Known by its name prefix, not a label: docker commit would copy a label into the app's image.
        container = client.containers.run(base_image.id, ["tail", "-f", "/dev/null"], name=name, detach=True,
                                          network_mode=options.network)
        base = record_base(container) if inputs[3] else None
        report = _provision(container, name, spec, options, inputs, workdir, result, progress)
        conf, epoch = _commit(client, container, spec, base_image, options, inputs[2], where, report, result, progress,
                              runtime_only=base is not None)
        if base is not None:
            return {"base": base, "config": conf, "epoch": epoch,
                    "platform": (base_image.attrs.get("Architecture"), base_image.attrs.get("Os"))}
        return None
    except docker_errors() as e:
        raise QiError("Docker error while building %s: %s" % (spec["name"], e))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        remove_quietly(container)


def _provision(container, name, spec, options, inputs, workdir, result, progress):
    """The source, the roles, the playbook and the setup commands, as on the legacy VM; the role report."""
    phases, extra_vars = inputs[:2]
    log_path = result["log"]
    # Read once per build (it runs npm on the controller), never on a cache hit.
    settings, bundle = host_settings()
    npm_env = environment(settings)
    _prepare(container, spec, settings, bundle)
    playbook = spec["build"]["playbook"]
    if spec["build"]["generated"]:
        playbook = os.path.join(workdir, "qi-generated-playbook.yml")
        write_generated_playbook(spec, playbook)
    with open(log_path, "a") as log:
        roles_paths, report, _dirs = resolve_roles(spec, workdir, options.roles_paths, options.collections_paths,
                                                   options.state_dir, options.role_map, lambda m: log.write(m + "\n"))
        for r in report:
            log.write("role %s: %s (%s)\n" % (r["role"], r["how"], r["source"]))
        playbook, roles_paths, staged = stage(playbook, roles_paths, workdir, spec["build"]["roles"])
        for note in staged:
            log.write(note + "\n")
    result["roles"] = report
    for r in report:
        _say(progress, "%s: role %s: %s (%s)" % (spec["name"], r["role"], r["how"], r["source"]))
    for note in staged:
        _say(progress, "%s: %s" % (spec["name"], note))
    result["messages"] += run_playbook(spec, playbook, name, phases,
                                       dict(extra_vars, nodejs_app_build_environment=npm_env),
                                       ":".join(options.collections_paths), roles_paths, log_path, progress)
    with open(log_path, "a") as log:
        if spec["build"]["setup"]:
            _run_setup(container, spec, npm_env, log, progress)
        version = run_in(container, "command -v node >/dev/null && node --version || true", what="node --version")
    result["node_version"] = version.lstrip("v") or None
    return report


def _run_ids(container, user):
    ids = run_in(container, "id -u %s && id -g %s" % (quote(user), quote(user)),
                 what="looking up the run user '%s' (the provisioning must create it)" % user).split()
    uid, gid = int(ids[0]), int(ids[1])
    if uid == 0:
        raise QiError("the run user '%s' is root; images must run as a non-root user" % user)
    return uid, gid


def _commit(client, container, spec, base_image, options, fp, where, report, result, progress, runtime_only=False):
    """Clean up, commit with the image's config and labels, and clamp every time to the source's (unless only its
    runtime is published)."""
    epoch = source_date_epoch(spec["source"]["dir"])
    run_in(container, CLEANUP + " && " + shadow_clamp_command(epoch), what="clean-up")
    uid, gid = _run_ids(container, spec["run"]["user"])
    base_env = dict(e.split("=", 1) for e in base_image.attrs["Config"].get("Env") or [] if "=" in e)
    conf = commit_config(spec, uid, gid, fp, rfc3339(epoch), base_env, options.revision, options.version,
                         result.get("node_version"))
    # A later cache hit reports the same role resolution as this build.
    conf["Labels"][ROLES_LABEL] = json.dumps(portable_roles(report, spec["app_dir"]), sort_keys=True)
    if runtime_only:
        # Tested, then replaced by its runtime (made reproducible on its own): this image is never published.
        container.commit(repository=where[0], tag=where[1], conf=conf)
        return conf, epoch
    committed = container.commit(conf=conf)
    _say(progress, "%s: making the image reproducible (times clamped to %s)" % (spec["name"], rfc3339(epoch)))
    make_reproducible(client, committed, "%s:%s" % where, epoch,
                      "qi.convergence: %s provisioned by its playbook" % spec["name"])
    return conf, epoch
