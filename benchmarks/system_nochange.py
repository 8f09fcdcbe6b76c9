"""A no-change run of a 4-component system against a no-change run of one app, side by side.

Both are `playbooks/site.yml` as a user runs it (build check, then deploy with every workload's health checked),
into a namespace each, after one warm-up deploy; the order alternates between samples. The system is
examples/universal-components (CouchDB StatefulSet, loader Job, two services), the app examples/nodejs-hello.
Every sample must be a no-change run (changed=0) or the benchmark stops.

    .venv/bin/python benchmarks/system_nochange.py --repeat 5
"""
import argparse
import os
import re
import shutil
import tempfile
import time

from common import KUBECONFIG, ROOT, kubectl_bin, machine_check, median_cell, run, table, timed

WAYS = {"system (4 components)": ("universal-components", "qi-bench-system"),
        "one app": ("nodejs-hello", "qi-bench-one")}


def site(app_dir, namespace):
    return ["ansible-playbook", "-i", "inventories/local/hosts.yml", "playbooks/site.yml", "-e", "app_dir=%s" % app_dir,
            "-e", "app_deploy_namespace=%s" % namespace, "-e", '{"app_deploy_node_ports": {}}']


def changed(output):
    m = re.search(r"^localhost\s+:.*?changed=(\d+)", output, re.M)
    return int(m.group(1)) if m else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="samples of each way (at least 3)")
    parser.add_argument("--noisy", action="store_true", help="report even when the machine is busy")
    args = parser.parse_args()
    if args.repeat < 3 or not machine_check(args.noisy):
        raise SystemExit(1)
    work = tempfile.mkdtemp(prefix="qi-bench-system-")
    dirs = {}
    for way, (example, namespace) in WAYS.items():
        dirs[way] = os.path.join(work, example)
        shutil.copytree(os.path.join(ROOT, "examples", example), dirs[way])
        print("warm-up: deploying %s into %s" % (example, namespace), flush=True)
        run(site(dirs[way], namespace))
    samples = dict((way, []) for way in WAYS)
    order = list(WAYS)
    for rep in range(args.repeat):
        for way in order if rep % 2 == 0 else reversed(order):
            time.sleep(2)  # let the previous run's API traffic settle
            seconds, res = timed(site(dirs[way], WAYS[way][1]))
            if changed(res.stdout) != 0:
                raise SystemExit("%s: not a no-change run (changed=%s):\n%s"
                                 % (way, changed(res.stdout), res.stdout[-2000:]))
            samples[way].append(seconds)
            print("  %s: %.2f s" % (way, seconds), flush=True)
    one = median_cell(samples["one app"])[1]
    rows = []
    for way in WAYS:
        cell, mid = median_cell(samples[way])
        rows.append([way, cell, "%+.2f s" % (mid - one), "%.2fx" % (mid / one)])
    table("no-change site.yml, seconds: median (min-max) of %d samples" % args.repeat,
          ["way", "seconds", "vs one app", "ratio"], rows)
    for _example, namespace in WAYS.values():
        run([kubectl_bin(), "--kubeconfig", KUBECONFIG, "delete", "namespace", namespace, "--wait=false"])
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
