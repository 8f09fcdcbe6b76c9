"""Building the cluster's CoreDNS with only the plugins its Corefile uses, against CoreDNS's default plugin set.

Both ways build the same CoreDNS release (the one the Kubernetes version's add-on manifest names) with
scripts/build-coredns.sh, from the Go module cache already filled (downloads are not timed), each sample from a Go
build cache holding only the standard library (on a new machine the Kubernetes build before it has compiled that
and more); the order alternates between samples. Also prints each binary's size.

    .venv/bin/python benchmarks/coredns_build.py [--version v1.12.1] [--repeat 3]
"""
import argparse
import glob
import os
import re
import shutil
import tempfile
import time

from common import ENV, ROOT, STATE, machine_check, median_cell, run, table, timed

WAYS = {"default plugin set (go install coredns)": "all", "the Corefile's 9 plugins (ours)": None}


def release_version():
    """The CoreDNS version the newest Kubernetes source in the state dir names."""
    for manifest in sorted(glob.glob(os.path.join(STATE, "k8s", "*", "src", "cluster", "addons", "dns", "coredns",
                                                  "coredns.yaml.in")), reverse=True):
        with open(manifest) as f:
            found = re.search(r"coredns:(v[0-9.]+)", f.read())
        if found:
            return found.group(1)
    raise SystemExit("no Kubernetes source in %s: run make cluster first, or pass --version" % STATE)


def std_cache(work):
    """A Go build cache with only the standard library compiled, copied for each sample."""
    cache = os.path.join(work, "std-cache")
    run(["go", "build", "-trimpath", "std"], env=dict(ENV, GOCACHE=cache, CGO_ENABLED="0"))
    return cache


def build(version, plugins, work, template):
    out, cache = tempfile.mkdtemp(dir=work), os.path.join(work, "cache")
    shutil.copytree(template, cache)
    env = dict(ENV, GOCACHE=cache)
    if plugins:
        env["QI_COREDNS_PLUGINS"] = plugins
    seconds, _res = timed([os.path.join(ROOT, "scripts", "build-coredns.sh"), out, version], env=env)
    size = os.path.getsize(os.path.join(out, "coredns"))
    shutil.rmtree(out, ignore_errors=True)
    run(["chmod", "-R", "u+w", cache])
    shutil.rmtree(cache, ignore_errors=True)
    return seconds, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="the CoreDNS release (default: the one the built Kubernetes names)")
    parser.add_argument("--repeat", type=int, default=3, help="samples of each way (at least 3)")
    parser.add_argument("--noisy", action="store_true", help="report even when the machine is busy")
    args = parser.parse_args()
    if args.repeat < 3 or not machine_check(args.noisy):
        raise SystemExit(1)
    version = args.version or release_version()
    work = tempfile.mkdtemp(prefix="qi-bench-coredns-")
    print("CoreDNS %s; warming the module cache (not timed)" % version, flush=True)
    template = std_cache(work)
    for plugins in WAYS.values():
        build(version, plugins, work, template)
    samples, sizes, order = dict((w, []) for w in WAYS), {}, list(WAYS)
    for rep in range(args.repeat):
        for way in order if rep % 2 == 0 else reversed(order):
            time.sleep(5)
            seconds, sizes[way] = build(version, WAYS[way], work, template)
            samples[way].append(seconds)
            print("  %s: %.0f s" % (way, seconds), flush=True)
    base = median_cell(samples[order[0]], 0)[1]
    rows = []
    for way in WAYS:
        cell, mid = median_cell(samples[way], 0)
        rows.append([way, cell, "%.2fx" % (mid / base), "%.1f MB" % (sizes[way] / 1e6)])
    table("CoreDNS %s build, Go build cache with the standard library only, seconds: median (min-max) of %d samples"
          % (version, args.repeat), ["way", "seconds", "ratio", "binary"], rows)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
