"""Benchmark: build examples/nodejs-hello's image and put it in a registry, ours against an expert's Dockerfile.

Every way reaches the same end state: the image of the app, made by its own provisioning (the Node.js role installs
Node.js 4.3.1 from the npm registry's builds, `npm install`), its QI test commands passed, pushed to a registry.
- ours: playbooks/build.yml as the README runs it. Cold: a fingerprint never seen (no local image), a Node.js/npm
  archive cache of its own, empty (nothing fetched before), a registry of its own, empty.
- expert: the best Dockerfile an expert would write for the same provisioning: BuildKit (the docker.io package's
  client), Ansible and npm installed, the playbook run (--tags install,configure), the test commands run and
  everything the build needed removed again (Ansible, npm, apt lists and caches) in one RUN, so no layer keeps
  them; the collection, npm settings and CA are bind mounts, never layers. Cold: --no-cache, the same empty
  registry of its own, then `docker push`.
Warm: the same again with nothing changed (ours: a cache hit; expert: the layer cache, push of nothing new).
Fresh runner (ours only): the local image removed, the registry kept: found there, nothing built or pushed.
Fair by construction: the ways run in a rotating order over --repeat repetitions (at least 3), each starting on a
quiet machine (the CPU idle again after the previous way); every cell is the median with min and max. The machine's
core count and load average are printed first; no ratio while the load average is above the core count (--noisy).
--out DIR writes build.jsonl and build.md there. Not a test: nothing is asserted.
Usage: .venv/bin/python benchmarks/build.py [--repeat 3] [--out DIR] [--noisy]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import docker

from common import ENV, ROOT, STATE, VENV_BIN, machine_check, median_cell, write_results, table, timed

APP = os.path.join(ROOT, "examples", "nodejs-hello")
BASE = "qi-convergence/debian:12"
ANSIBLE_PIN = "ansible==12.3.0"
# The docker.io package's client: BuildKit without the buildx plugin, which nothing here can fetch.
DOCKER_CLI = "/usr/bin/docker"
EXPERT_DOCKERFILE = """\
FROM {base}
COPY app/ /opt/nodejs-hello/
WORKDIR /opt/nodejs-hello/provisioning
RUN --mount=type=bind,source=collection,target=/tmp/qi/ansible_collections/qi/convergence \\
    --mount=type=bind,source=host-ca.crt,target=/tmp/host-ca.crt \\
    --mount=type=bind,source=host-ca.crt,target={ca_file} \\
    --mount=type=bind,source=npmrc,target={npmrc} \\
    set -e; apt-get update; apt-get install -y --no-install-recommends python3-venv npm; \\
    python3 -m venv /tmp/ansible; PIP_CERT=/tmp/host-ca.crt /tmp/ansible/bin/pip install -q --no-cache-dir {ansible}; \\
    SSL_CERT_FILE=/tmp/host-ca.crt ANSIBLE_COLLECTIONS_PATH=/tmp/qi /tmp/ansible/bin/ansible-playbook -i localhost, \\
      -c local playbook.yml --tags install,configure -e qi_container=true; \\
    cd /opt/nodejs-hello; {tests}; \\
    rm -rf /tmp/ansible /root/.ansible /root/.npm /root/.cache /opt/nodejs-hello/provisioning; \\
    apt-get purge -y --auto-remove python3-venv npm; apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*
WORKDIR /opt/nodejs-hello
USER nodejs-hello
EXPOSE 8080
CMD ["node", "server.js"]
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    """An empty registry of its own on a free loopback port (the docker-registry make setup installs)."""

    def __init__(self, work):
        self.dir = tempfile.mkdtemp(prefix="registry-", dir=work)
        self.addr = "127.0.0.1:%d" % free_port()
        conf = os.path.join(self.dir, "config.yml")
        with open(conf, "w") as f:
            f.write("version: 0.1\nstorage: {filesystem: {rootdirectory: %s/data}}\nhttp: {addr: %s}\n"
                    % (self.dir, self.addr))
        self.proc = subprocess.Popen(["docker-registry", "serve", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for _attempt in range(80):
            try:
                with socket.create_connection(("127.0.0.1", int(self.addr.split(":")[1])), timeout=1):
                    return
            except OSError:
                time.sleep(0.25)
        raise SystemExit("the benchmark's registry did not start on %s" % self.addr)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def quiet(idle=0.9, most=120):
    """Wait until the CPU is idle again (the previous way's work done), at most `most` seconds."""
    def times():
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
        return vals[3] + vals[4], sum(vals)
    end = time.monotonic() + most
    while time.monotonic() < end:
        i0, t0 = times()
        time.sleep(2)
        i1, t1 = times()
        if (i1 - i0) / max(t1 - t0, 1) >= idle:
            return


def ours(nonce, registry, cache):
    extra = json.dumps({"app_image_overrides": {"qi_bench_nonce": nonce, "nodejs_app_archive_cache": cache},
                        "app_image_registry": registry})
    t, res = timed([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/build.yml", "-e", "app_dir=" + APP, "-e",
                    extra], env=dict(ENV, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json"))
    data = json.loads(res.stdout[res.stdout.index("{"):])
    for play in data["plays"]:
        for task in play["tasks"]:
            if "Build, test and push the images of" in task["task"]["name"]:
                return t, task["hosts"]["localhost"]
    raise SystemExit("no build result")


def way_ours(engine, work):
    """(cold, warm, fresh runner) seconds and the image size."""
    registry, nonce = Registry(work), uuid.uuid4().hex[:8]
    cache = tempfile.mkdtemp(prefix="node-cache-", dir=work)
    try:
        cold_t, cold = ours(nonce, registry.addr, cache)
        warm_t, warm = ours(nonce, registry.addr, cache)
        if cold["cache_hit"] or not warm["cache_hit"]:
            raise SystemExit("ours: the cold build was a cache hit or the warm one was not: %s / %s" % (cold, warm))
        size = engine.images.get(cold["image"]).attrs["Size"]
        engine.images.remove(cold["image_tag"], force=True)
        fresh_t, fresh = ours(nonce, registry.addr, cache)
        if fresh.get("cache") != "registry" or fresh["image"] != cold["image"]:
            raise SystemExit("ours: the fresh runner rebuilt instead of finding the image: %s" % fresh)
        return cold_t, warm_t, fresh_t, size
    finally:
        registry.stop()


def expert_context(work):
    sys.path.insert(0, os.path.join(ROOT, "build", "collections"))
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.npm_settings import (
        CA_FILE, NPMRC, host_settings, npmrc_text)
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
    ctx = tempfile.mkdtemp(prefix="expert-", dir=work)
    tests = "; ".join(read_apps(APP)[0]["tests"])
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(EXPERT_DOCKERFILE.format(base=BASE, ansible=ANSIBLE_PIN, ca_file=CA_FILE, npmrc=NPMRC, tests=tests))
    # The npm settings of this machine (registry, proxy, CA), as our build hands them to its build container.
    with open(os.path.join(ctx, "npmrc"), "w") as f:
        f.write(npmrc_text(host_settings()[0]))
    col = os.path.join(ctx, "collection")
    os.makedirs(os.path.join(col, "meta"))
    for folder in ("roles", "plugins"):
        shutil.copytree(os.path.join(ROOT, folder), os.path.join(col, folder))
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
    # This machine reaches PyPI and npm through a TLS proxy whose CA only the host trusts: the host's bundle.
    shutil.copy(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"), os.path.join(ctx, "host-ca.crt"))
    return ctx


def expert_build(ctx, tag, cold):
    env = dict(ENV, DOCKER_BUILDKIT="1")
    start = time.monotonic()
    subprocess.run([DOCKER_CLI, "build", "-q", "-t", tag, ctx] + (["--no-cache"] if cold else []), env=env, check=True,
                   capture_output=True)
    subprocess.run([DOCKER_CLI, "push", "-q", tag], env=env, check=True, capture_output=True)
    return time.monotonic() - start


def way_expert(engine, work):
    registry = Registry(work)
    ctx = expert_context(work)
    tag = "%s/qi-bench/expert-nodejs-hello:%s" % (registry.addr, uuid.uuid4().hex[:8])
    try:
        cold_t = expert_build(ctx, tag, cold=True)
        warm_t = expert_build(ctx, tag, cold=False)
        size = engine.images.get(tag).attrs["Size"]
        engine.images.remove(tag, force=True)
        return cold_t, warm_t, None, size
    except subprocess.CalledProcessError as e:
        raise SystemExit("the expert Dockerfile failed: %s\n%s" % (" ".join(e.cmd), (e.stderr or b"")[-3000:].decode()))
    finally:
        shutil.rmtree(ctx, ignore_errors=True)
        registry.stop()


WAYS = {"ours": ("qi.convergence (playbooks/build.yml)", way_ours),
        "expert": ("expert Dockerfile (BuildKit, one RUN, cleaned)", way_expert)}


def _row(way, samples, base, ratios):
    cold, cold_mid = median_cell([s[0] for s in samples], 1)
    warm, _mid = median_cell([s[1] for s in samples])
    fresh = median_cell([s[2] for s in samples])[0] if samples[0][2] is not None else "-"
    size = samples[0][3]
    show = ratios and base and way != "expert"
    base_cold = sorted(s[0] for s in base)[len(base) // 2] if base else None
    return [WAYS[way][0], cold, warm, fresh, "%.0f MB" % (size / 1e6),
            "%.2f" % (cold_mid / base_cold) if show else "-", "%.2f" % (size / base[0][3]) if show else "-"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="samples per cell (at least 3)")
    parser.add_argument("--out", help="write build.jsonl and build.md into this folder")
    parser.add_argument("--noisy", action="store_true", help="report ratios even on a loaded machine")
    args = parser.parse_args()
    if args.repeat < 3:
        raise SystemExit("--repeat must be at least 3: a single sample is not a figure")
    ratios = machine_check(args.noisy)
    engine = docker.from_env()
    ways = list(WAYS)
    orders = [ways[r % len(ways):] + ways[:r % len(ways)] for r in range(args.repeat)]
    settings = ("settings: %d samples per cell, median (min-max); order rotates: %s; each way cold from its own empty "
                "registry, ours with an empty Node.js archive cache, the expert Dockerfile with --no-cache (BuildKit); "
                "base image %s (%s); state dir %s" % (args.repeat, " / ".join(",".join(o) for o in orders), BASE,
                                                      engine.images.get(BASE).short_id, STATE))
    print(settings, flush=True)
    work = tempfile.mkdtemp(prefix="qi-bench-build-")
    samples, lines = dict((w, []) for w in ways), []
    try:
        for rep, order in enumerate(orders):
            for way in order:
                quiet()
                samples[way].append(WAYS[way][1](engine, work))
                cold, warm, fresh, size = samples[way][-1]
                lines.append({"way": way, "sample": rep, "cold_s": round(cold, 2), "warm_s": round(warm, 2),
                              "fresh_runner_s": None if fresh is None else round(fresh, 2), "size_bytes": size})
                print(json.dumps(lines[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    header = ["way", "cold s", "warm s", "fresh runner, warm registry s", "image size", "cold / expert",
              "size / expert"]
    rows = [_row(w, samples[w], samples["expert"], ratios) for w in ways]
    if args.out:
        write_results(args.out, "build", lines, header, rows, settings)
    table("build examples/nodejs-hello and push it, wall seconds, median (min-max) of %d" % args.repeat, header, rows)
    print("\ntargets: cold at most 0.3x the expert Dockerfile; image size at most 0.15x it")


if __name__ == "__main__":
    main()
