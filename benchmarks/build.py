"""Benchmark: build examples/nodejs-hello three ways in one run on this machine.

- ours, cold: qi.convergence build with a fingerprint never seen before (the app's own playbook runs);
- ours, warm: the same again (cache hit), as ansible-playbook wall time and as the library call alone;
- ours, fresh runner with a warm registry: the local image removed, the registry kept (found there, not rebuilt);
- legacy: the GPII way, a Dockerfile that installs Ansible into the image and runs the same playbook with
  --tags install,configure, built with `docker build`, cold (--no-cache) and warm (layer cache); it gets npm from
  Debian (the Node.js role fetches the exact Node.js build through npm on the machine that runs Ansible, here the
  image itself) and the same stand-ins for the legacy roles.

Prints seconds, image size and ratios. Not a test: nothing is asserted.
Usage: .venv/bin/python benchmarks/build.py
"""
import json
import os
import shutil
import sys
import tempfile
import time
import uuid

import docker

from common import ENV, ROOT, STATE, table, timed

APP = os.path.join(ROOT, "examples", "nodejs-hello")
BASE = "qi-convergence/debian:12"
ANSIBLE_PIN = "ansible==12.3.0"
DOCKERFILE = """\
FROM {base}
COPY host-ca.crt /tmp/host-ca.crt
COPY host-ca.crt {ca_file}
COPY npmrc {npmrc}
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv npm \\
 && python3 -m venv /opt/ansible && PIP_CERT=/tmp/host-ca.crt /opt/ansible/bin/pip install --no-cache-dir {ansible}
COPY collection/ /usr/share/ansible/collections/ansible_collections/qi/convergence/
COPY app/ /opt/nodejs-hello/
WORKDIR /opt/nodejs-hello/provisioning
RUN SSL_CERT_FILE=/tmp/host-ca.crt /opt/ansible/bin/ansible-playbook -i localhost, -c local playbook.yml \\
 --tags install,configure -e qi_container=true
WORKDIR /opt/nodejs-hello
USER nodejs-hello
EXPOSE 8080
CMD ["node", "server.js"]
"""


def ours(nonce):
    extra = json.dumps({"app_image_overrides": {"qi_bench_nonce": nonce}})
    t, res = timed([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "playbooks/build.yml", "-e",
                    "app_dir=" + APP, "-e", extra],
                   env=dict(ENV, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json"))
    data = json.loads(res.stdout[res.stdout.index("{"):])
    for play in data["plays"]:
        for task in play["tasks"]:
            if "Build, test and push the images of" in task["task"]["name"]:
                return t, task["hosts"]["localhost"]
    raise SystemExit("no build result")


def ours_library_call(nonce):
    """The warm path without ansible-playbook's own start-up: spec read + fingerprint + cache lookup."""
    sys.path.insert(0, os.path.join(ROOT, "build", "collections"))
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.build import build_image
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.options import BuildOptions
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    params = {"docker_host": None, "base_image": BASE, "phases": [], "overrides": {"qi_bench_nonce": nonce},
              "collections_path": os.path.join(ROOT, "build", "collections"), "registry": "127.0.0.1:5000",
              "push": True, "log_dir": os.path.join(STATE, "logs"), "registry_username": None, "roles_path": "",
              "role_map": {}, "rpm_map": {}, "state_dir": STATE, "test": True, "test_timeout": 1800}
    start = time.monotonic()
    result = build_image(BuildOptions.from_params(params), read_apps(APP, collections_paths=[params["collections_path"]])[0])
    return time.monotonic() - start, result


def legacy_context():
    sys.path.insert(0, os.path.join(ROOT, "build", "collections"))
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.npm_settings import (
        CA_FILE, NPMRC, host_settings, npmrc_text)
    ctx = tempfile.mkdtemp(prefix="qi-bench-legacy-")
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE.format(base=BASE, ansible=ANSIBLE_PIN, ca_file=CA_FILE, npmrc=NPMRC))
    # The npm settings of this machine (registry, proxy, CA), as our build hands them to its build container.
    with open(os.path.join(ctx, "npmrc"), "w") as f:
        f.write(npmrc_text(host_settings()[0]))
    col = os.path.join(ctx, "collection")
    os.makedirs(os.path.join(col, "meta"))
    shutil.copytree(os.path.join(ROOT, "roles"), os.path.join(col, "roles"))
    shutil.copytree(os.path.join(ROOT, "plugins"), os.path.join(col, "plugins"))
    shutil.copy(os.path.join(ROOT, "meta", "runtime.yml"), os.path.join(col, "meta"))
    shutil.copy(os.path.join(ROOT, "galaxy.yml"), col)
    shutil.copytree(APP, os.path.join(ctx, "app"))
    # The playbook names the legacy QI roles, which Galaxy would install and nothing here can reach: the same
    # stand-ins our build uses, as roles of the app.
    for legacy_role, ours_role in (("facts", "qi.convergence.facts"), ("nodejs", "qi.convergence.nodejs_app")):
        tasks = os.path.join(ctx, "app", "provisioning", "roles", legacy_role, "tasks")
        os.makedirs(tasks)
        with open(os.path.join(tasks, "main.yml"), "w") as f:
            f.write("---\n- name: Stand in for %s\n  ansible.builtin.import_role:\n    name: %s\n"
                    % (legacy_role, ours_role))
    # This machine reaches PyPI through a TLS proxy whose CA only the host trusts: hand pip the host's bundle.
    shutil.copy(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"), os.path.join(ctx, "host-ca.crt"))
    return ctx


def legacy(ctx, tag, cold):
    cmd = ["docker", "build", "-q", "-t", tag, ctx] + (["--no-cache"] if cold else [])
    return timed(cmd, env=dict(ENV, DOCKER_BUILDKIT="0"))[0]


def mb(size):
    return "%.0f MB" % (size / 1e6)


def main():
    engine = docker.from_env()
    nonce = uuid.uuid4().hex[:8]
    print("building examples/nodejs-hello; base image %s (%s)" % (BASE, engine.images.get(BASE).short_id))
    cold_t, cold = ours(nonce)
    warm_t, warm = ours(nonce)
    lib_t, lib = ours_library_call(nonce)
    assert cold["cache_hit"] is False and warm["cache_hit"] is True and lib["cache_hit"] is True
    ours_size = engine.images.get(cold["image"]).attrs["Size"]
    engine.images.remove(cold["image_tag"], force=True)
    fresh_t, fresh = ours(nonce)
    assert fresh.get("cache") == "registry" and fresh["image"] == cold["image"], fresh

    ctx = legacy_context()
    tag = "qi-bench/legacy-nodejs-hello:%s" % nonce
    try:
        legacy_cold = legacy(ctx, tag, cold=True)
        legacy_warm = legacy(ctx, tag, cold=False)
    finally:
        shutil.rmtree(ctx, ignore_errors=True)
    legacy_size = engine.images.get(tag).attrs["Size"]

    table("image build, seconds (one run, same machine)", ["approach", "cold s", "warm s", "image size"], [
        ["qi.convergence (ansible-playbook build.yml)", "%.1f" % cold_t, "%.2f" % warm_t, mb(ours_size)],
        ["qi.convergence warm, library call only", "", "%.2f" % lib_t, ""],
        ["qi.convergence, fresh runner, warm registry (same digest)", "", "%.2f" % fresh_t, ""],
        ["legacy Dockerfile with Ansible inside", "%.1f" % legacy_cold, "%.2f" % legacy_warm, mb(legacy_size)],
    ])
    print("\nratios: cold ours/legacy = %.2f (target <= 1.0); warm ours = %.2f s (target < 2 s); "
          "size ours/legacy = %.2f (target <= 0.70)" % (cold_t / legacy_cold, warm_t, ours_size / legacy_size))
    engine.images.remove(tag, force=True)


if __name__ == "__main__":
    main()
