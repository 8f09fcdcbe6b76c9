# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runtime-only image: the app, its runtime and its production files, without the build's tools.

The build container is provisioned as always and committed as the full image, and the QI test commands run on
it (they may need npm and dev dependencies). When the app asks for it (.qi.yml build.runtime_only, or the
container_image option), a container of the tested full image then drops its development dependencies (npm prune)
and yields one layer: what runtime_closure.py keeps, read against the base image's files and packages recorded
before provisioning. That layer is loaded as an image with the full image's command, user, environment and labels
and a health check its runtime can run; run alone, it must pass that check (a service) or run its command before
it takes the fingerprint's tag from the full image.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import hashlib
import json
import os
import tarfile
import tempfile
import time
import uuid

from ...module_utils.errors import QiError
from .container import files_tar, quote, run_in
from .docker_client import docker_errors, remove_quietly
from .config import healthcheck
from .reproducible import load_layer, normalise_layer

WORK = "/srv/qi-runtime"
CLOSURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime_closure.py")
# Where a Node.js app's caches may be left in its home.
HOME_CACHES = (".npm", ".node-gyp", ".cache", ".config/yarn", ".ansible")
RUNTIME_ONLY_KEY = "qi_runtime_only"
# Production dependencies only, as `npm install --production` in a Dockerfile gives; the full image keeps the dev
# ones its tests ran with. Not for yarn's trees (npm would misread them).
PRUNE = ("if [ -f package.json ] && [ -d node_modules ] && [ ! -f yarn.lock ] && command -v npm >/dev/null; then "
         "npm prune --production 2>&1 && echo qi-pruned; fi")


@functools.lru_cache(maxsize=1)
def _closure_script():
    with open(CLOSURE, "rb") as f:
        return f.read()


def runtime_settings(spec, options):
    """None, or what the runtime-only image keeps besides the closure (the option wins over .qi.yml)."""
    build = spec["build"]
    wanted = options.runtime_only if options.runtime_only is not None else build.get("runtime_only", False)
    if not wanted:
        return None
    # A change in what the runtime keeps makes another image: part of the fingerprint.
    closure = hashlib.sha256(_closure_script() + PRUNE.encode("utf-8")).hexdigest()
    return {"keep": sorted(set(build.get("keep") or []) | set(options.runtime_keep or [])), "closure": closure}


def record_base(container):
    """The base image's files (with their times and sizes) and packages, before provisioning."""
    if not run_in(container, "command -v dpkg-query || true", what="looking for dpkg"):
        raise QiError("a runtime-only image needs a Debian-family base image (dpkg): set build.runtime_only: false "
                      "or use a Debian base image")
    files = run_in(container, "find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /tmp \\) -prune "
                              "-o -printf '%p\\t%T@ %s\\n'", what="listing the base image's files")
    return {"files": dict(line.split("\t", 1) for line in files.splitlines() if "\t" in line),
            "status": run_in(container, "cat /var/lib/dpkg/status", what="reading the base image's packages")}


def _settings(spec, base, runtime, home, epoch):
    run = spec["run"]
    env_path = dict(run["env"]).get("PATH") or "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    whole = [spec["source"]["dest"], run["workdir"]] + ([home] if home and home != "/" else []) + runtime["keep"]
    return {"command": (run["command"] or [None])[0], "path": env_path, "whole": sorted(set(whole)),
            "skip": [os.path.join(home, c) for c in HOME_CACHES] if home else [], "base_files": base["files"],
            "base_status": base["status"], "epoch": epoch, "out": WORK + "/layer.tar"}


def make_runtime_image(client, full_image, spec, job, ref):
    """Collect the runtime in a container of the full image and load it as ref; (image, summary)."""
    container = None
    try:
        # Named like a build container: what a killed build leaves is found by the same prefix.
        container = client.containers.run(full_image, ["tail", "-f", "/dev/null"], user="root", detach=True,
                                          network_mode="none",
                                          name="qi-build-%s-runtime-%s" % (spec["name"], uuid.uuid4().hex[:8]))
        return _collect(client, container, spec, job, ref)
    except docker_errors() as e:
        raise QiError("Docker error while making the runtime-only image of %s: %s" % (spec["name"], e))
    finally:
        remove_quietly(container)


def _collect(client, container, spec, job, ref):
    home = run_in(container, "getent passwd %s | cut -d: -f6" % quote(spec["run"]["user"]), what="the run user's home")
    settings = json.dumps(_settings(spec, job["base"], job["settings"], home, job["epoch"])).encode("utf-8")
    script = _closure_script()
    run_in(container, "mkdir -p %s" % WORK, what="creating %s" % WORK)
    container.put_archive("/", files_tar([(WORK + "/closure.py", script, 0o644), (WORK + "/settings.json", settings,
                                                                                  0o600)]))
    # Offline (the container has no network): nothing to ask the registry.
    pruned = run_in(container, PRUNE, workdir=spec["source"]["dest"], env=dict(
        npm_config_cache=WORK + "/npm-cache", npm_config_audit="false", npm_config_fund="false",
        npm_config_update_notifier="false", npm_config_offline="true"),
        what="removing the app's development dependencies (npm prune --production)")
    out = run_in(container, "python3 %s/closure.py %s/settings.json" % (WORK, WORK), what="collecting the runtime")
    summary = dict(json.loads(out.splitlines()[-1]), pruned=pruned.endswith("qi-pruned"))
    with tempfile.TemporaryDirectory(prefix="qi-runtime-") as tmp:
        outer = os.path.join(tmp, "outer.tar")
        with open(outer, "wb") as f:
            for chunk in container.get_archive(WORK + "/layer.tar")[0]:
                f.write(chunk)
        layer = os.path.join(tmp, "layer.tar")
        with tarfile.open(outer) as archive, open(layer, "wb") as dst:
            diff_id = normalise_layer(archive.extractfile("layer.tar"), dst, job["epoch"])
        config = dict((k, v) for k, v in job["config"].items() if k != "Healthcheck")
        check = healthcheck(spec.get("health"), summary.get("probe"))
        if check:
            config["Healthcheck"] = check
        platform = job["platform"]
        image_id = load_layer(client, ref, config, layer, diff_id, job["epoch"],
                              "qi.convergence: the runtime of %s, out of its provisioned image" % spec["name"],
                              (platform[0] or "amd64", platform[1] or "linux"))
    return client.images.get(image_id), summary


def _argv0_check(command):
    if not command:
        return ["/bin/sh", "-c", "true"]
    if os.path.basename(command[0]) in ("node", "nodejs", "python3", "python"):
        return [command[0], "--version"]
    return ["/bin/sh", "-c", "command -v %s" % quote(command[0])]


def verify(client, ref, spec, network, timeout=120):
    """The runtime-only image passes its health check (a service) or finds its command (anything else); else
    QiError with the container's last output lines."""
    image = client.images.get(ref)
    check = (image.attrs.get("Config") or {}).get("Healthcheck")
    container = None
    try:
        if spec.get("service") and check:
            container = client.containers.run(ref, detach=True, network_mode=network or None)
            deadline = time.monotonic() + timeout + (spec["health"].get("initial_delay") or 0)
            while True:
                container.reload()
                if container.status != "running":
                    break
                if container.exec_run(check["Test"][1:]).exit_code == 0:
                    return "health check passed"
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            container.reload()
            stopped = "" if container.status == "running" else "; it stopped, exit %s" % container.attrs["State"].get(
                "ExitCode")
            what = "does not pass its health check (%s%s)" % (check["Test"][1], stopped)
        else:
            container = client.containers.run(ref, _argv0_check(spec["run"]["command"]), detach=True,
                                              network_mode=network or None)
            if container.wait(timeout=timeout).get("StatusCode", 1) == 0:
                return "its command %s runs" % " ".join(_argv0_check(spec["run"]["command"]))
            what = "cannot run its command"
        logs = container.logs(stdout=True, stderr=True).decode("utf-8", "replace").strip().splitlines()[-20:]
    except docker_errors() as e:
        raise QiError("Docker error while checking the runtime-only image of %s: %s" % (spec["name"], e))
    finally:
        remove_quietly(container)
    raise QiError("the runtime-only image of %s %s, though the full image passed its tests; its output:\n%s\n"
                  "name what else it needs at run time in .qi.yml build.keep (absolute paths), or set "
                  "build.runtime_only: false" % (spec["name"], what, "\n".join(logs) or "(none)"))


def describe(summary, size, full_size):
    return "runtime only: %.1f MB (the full image %.1f MB); packages kept: %s" % (
        size / 1e6, full_size / 1e6, ", ".join(summary.get("packages") or []) or "none")
