"""Benchmark: deploy N apps (about 6 objects each) several ways side by side in one run, cold and no-change rerun.

Every way reaches the same end state: every object applied AND every Deployment available (one replica each).
- ours: playbooks/deploy.yml with all N app folders (one k8s_release call: read, render, apply, wait, record);
- kubectl: `kubectl apply --server-side` of the same rendered objects, then `kubectl wait --for=condition=Available`;
- core-one-task: kubernetes.core.k8s with all objects in one task, `wait: true`;
- core-per-object: kubernetes.core.k8s with one task per object, `wait: true`.
Beside it an apply-only column (ours with app_deploy_wait=false, kubectl without the wait, core without wait) and a
`floor` row: a bare ansible-playbook with one ping task, what any Ansible tool costs at least.
Fair by construction: each way gets its own namespace and starts only when the previous way's namespaces and pods
are gone; the ways run in a rotating order, one repetition after the other (--repeat, at least 3); every cell is the
median with min and max; kubernetes.core gets its best documented settings (all objects in one task, wait_sleep 1);
the settings are printed with the results. The machine's core count and load average are printed first, and no
ratio is reported while the load average is above the core count (--noisy to report anyway).
Prints a table, or with --json one line per (n, way); --out DIR writes deploy.jsonl and deploy.md there.
Not a test: nothing is asserted.
Usage: .venv/bin/python benchmarks/deploy.py [N ...] [--ways ours,kubectl,core-one-task,core-per-object]
       [--repeat 3] [--json] [--out DIR] [--noisy]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

from common import ENV, KUBECONFIG, ROOT, VENV_BIN, kubectl_bin, machine_check, median_cell, run, table, timed, write_results

sys.path.insert(0, os.path.join(ROOT, "build", "collections"))
from ansible_collections.qi.convergence.plugins.module_utils.manifests import render  # noqa: E402
from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps  # noqa: E402

EXAMPLE = os.path.join(ROOT, "examples", "nodejs-hello")
# Small requests, so that 60 apps (and the previous way's pods still going) fit the one node's 2 CPUs.
RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
ENVIRONMENT = {"replicas": 1, "service_type": "ClusterIP", "pdb": True, "network_policy": True,
               "resources": RESOURCES}
EXTRA = {"app_deploy_replicas": 1, "app_deploy_service_type": "ClusterIP", "app_deploy_node_ports": {},
         "app_deploy_pdb": True, "app_deploy_network_policy": True, "app_deploy_resources": RESOURCES}
ALL_WAYS = ["ours", "kubectl", "core-one-task", "core-per-object"]


def make_apps(root, n):
    dirs = []
    for i in range(n):
        d = os.path.join(root, "bench-app-%02d" % i)
        shutil.copytree(EXAMPLE, d)
        qi = yaml.safe_load(open(os.path.join(d, ".qi.yml")))
        qi["app_name"] = "bench-app-%02d" % i
        kube = qi.get("kubernetes") or {}
        for cf in kube.get("config_files") or []:
            cf["name"] = "bench-app-%02d-%s" % (i, cf["name"])
        with open(os.path.join(d, ".qi.yml"), "w") as f:
            yaml.safe_dump(qi, f)
        dirs.append(d)
    return dirs


def rendered(dirs, image, ns):
    return [render(read_apps(d)[0], image, dict(ENVIRONMENT, namespace=ns)) for d in dirs]


def kubectl(*args):
    return run([kubectl_bin(), "--kubeconfig", KUBECONFIG] + list(args))


def fresh_namespace(ns):
    drop_namespace(ns, wait=True)
    kubectl("create", "namespace", ns)


def drop_namespace(ns, wait=False):
    subprocess.run([kubectl_bin(), "--kubeconfig", KUBECONFIG, "delete", "namespace", ns, "--ignore-not-found",
                    "--wait=%s" % ("true" if wait else "false")], capture_output=True, timeout=600, check=False)


def way_ours(dirs, image, ns, work, wait):
    extra = dict(EXTRA, app_dirs=dirs, app_image=image, app_deploy_namespace=ns, app_deploy_wait=wait)
    return lambda: timed([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/deploy.yml", "-e", json.dumps(extra)])[0]


def way_kubectl(dirs, image, ns, work, wait):
    folder = os.path.join(work, "kubectl-" + ns)
    if not os.path.isdir(folder):
        os.makedirs(folder)
        for i, objs in enumerate(rendered(dirs, image, ns)):
            with open(os.path.join(folder, "app-%02d.yaml" % i), "w") as f:
                yaml.safe_dump_all(objs, f)

    def go():
        took = timed([kubectl_bin(), "--kubeconfig", KUBECONFIG, "apply", "--server-side", "--field-manager=bench",
                      "-f", folder])[0]
        if wait:
            took += timed([kubectl_bin(), "--kubeconfig", KUBECONFIG, "-n", ns, "wait", "--for=condition=Available",
                           "deployment", "--all", "--timeout=600s"])[0]
        return took
    return go


def k8s_playbook(work, name, tasks):
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as f:
        yaml.safe_dump([{"name": "bench", "hosts": "localhost", "connection": "local", "gather_facts": False,
                         "tasks": tasks}], f)
    return lambda: timed([os.path.join(VENV_BIN, "ansible-playbook"), path])[0]


# kubernetes.core.k8s's best documented settings for this job: server-side apply, and a 1 s poll instead of
# its 5 s default (wait_sleep), so that its cold figure is not N x 5 s of sleeping.
CORE_SETTINGS = {"apply": True, "server_side_apply": {"field_manager": "bench"}, "wait_sleep": 1, "wait_timeout": 600}


def _k8s(extra, wait):
    args = dict(extra, kubeconfig=KUBECONFIG, state="present", apply=True, server_side_apply={"field_manager": "bench"})
    if wait:
        args.update(wait=True, wait_timeout=600, wait_sleep=1)
    return args


def way_core_per_object(dirs, image, ns, work, wait):
    tasks = [{"name": "apply %s/%s" % (o["kind"], o["metadata"]["name"]),
              "kubernetes.core.k8s": _k8s({"definition": o}, wait and o["kind"] == "Deployment")}
             for objs in rendered(dirs, image, ns) for o in objs]
    return k8s_playbook(work, "per-object-%s-%s" % (ns, wait), tasks)


def way_core_one_task(dirs, image, ns, work, wait):
    path = os.path.join(work, "all-%s.yaml" % ns)
    with open(path, "w") as f:
        yaml.safe_dump_all([o for objs in rendered(dirs, image, ns) for o in objs], f)
    return k8s_playbook(work, "one-task-%s-%s" % (ns, wait), [{"name": "apply all objects",
                                                               "kubernetes.core.k8s": _k8s({"src": path}, wait)}])


WAYS = {"ours": ("ours: deploy.yml (k8s_release)", way_ours),
        "kubectl": ("kubectl apply --server-side + wait", way_kubectl),
        "core-one-task": ("kubernetes.core.k8s, all objects in one task", way_core_one_task),
        "core-per-object": ("kubernetes.core.k8s, one task per object", way_core_per_object)}


def floor(work):
    path = os.path.join(work, "floor.yml")
    with open(path, "w") as f:
        yaml.safe_dump([{"name": "floor", "hosts": "localhost", "connection": "local", "gather_facts": False,
                         "tasks": [{"name": "ping", "ansible.builtin.ping": {}}]}], f)
    runs = sorted(timed([os.path.join(VENV_BIN, "ansible-playbook"), path])[0] for attempt in range(5))
    return runs[2]


def measure(way, dirs, image, n, work, rep):
    """(cold, no-change, apply-only cold) seconds of one way, each in a namespace of its own; the namespaces and
    their pods are gone when it returns, so the next way starts on a quiet node."""
    out = []
    for wait in (True, False):
        ns = "bench-%s-%d-%s-%d" % (way, n, "ready" if wait else "apply", rep)
        fresh_namespace(ns)
        go = WAYS[way][1](dirs, image, ns, work, wait)
        out += [go(), go()] if wait else [go()]
        drop_namespace(ns, wait=True)
    return out


def rotations(ways, repeat):
    """The order of the ways in each repetition: each way is first once every len(ways) repetitions."""
    return [ways[r % len(ways):] + ways[:r % len(ways)] for r in range(repeat)]


def the_image():
    """The image of examples/nodejs-hello deployed in default; deployed first on a fresh cluster."""
    found = subprocess.run([kubectl_bin(), "--kubeconfig", KUBECONFIG, "-n", "default", "get", "deployment",
                            "nodejs-hello", "-o", "json"], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        print("deploying examples/nodejs-hello first (its image is the one every way deploys)", flush=True)
        run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", "inventories/local/hosts.yml", "playbooks/site.yml",
             "-e", "app_dir=examples/nodejs-hello"], env=ENV)
        found = kubectl("-n", "default", "get", "deployment", "nodejs-hello", "-o", "json")
    return json.loads(found.stdout)["spec"]["template"]["spec"]["containers"][0]["image"]


def _cells(samples, base, bare, ratios):
    cold, cold_mid = median_cell([c for c, r, a in samples], 1)
    rerun, rerun_mid = median_cell([r for c, r, a in samples])
    apply_only, _mid = median_cell([a for c, r, a in samples], 1)
    base_cold = sorted(c for c, r, a in base)[len(base) // 2] if base else None
    base_rerun = sorted(r for c, r, a in base)[len(base) // 2] if base else None
    show = ratios and base
    return [cold, rerun, apply_only, "%.2f" % (cold_mid / base_cold) if show else "-",
            "%.2f" % (rerun_mid / base_rerun) if show else "-", "%+.2f" % (rerun_mid - bare)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", default=["1,10,30"])
    parser.add_argument("--ways", default=",".join(ALL_WAYS))
    parser.add_argument("--repeat", type=int, default=3, help="samples per cell (at least 3)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", help="write deploy.jsonl and deploy.md into this folder")
    parser.add_argument("--noisy", action="store_true", help="report ratios even on a loaded machine")
    args = parser.parse_args()
    counts = [int(x) for c in args.counts for x in str(c).split(",") if x]
    ways = [w for w in args.ways.split(",") if w]
    unknown = [w for w in ways if w not in WAYS]
    if unknown:
        raise SystemExit("unknown way(s) %s; choose from %s" % (", ".join(unknown), ", ".join(WAYS)))
    if args.repeat < 3:
        raise SystemExit("--repeat must be at least 3: a single sample is not a figure")
    ratios = machine_check(args.noisy)
    orders = " / ".join(",".join(o) for o in rotations(ways, args.repeat))
    settings = ("settings: %d samples per cell, median (min-max); order rotates: %s; kubernetes.core: %s; "
                "ours: deploy.yml as the README runs it; kubectl: apply --server-side, then wait "
                "--for=condition=Available" % (args.repeat, orders, json.dumps(CORE_SETTINGS, sort_keys=True)))
    print(settings, flush=True)
    image = the_image()
    work = tempfile.mkdtemp(prefix="qi-bench-deploy-")
    rows, lines = [], []
    try:
        bare = floor(work)
        lines.append({"n": 0, "way": "floor", "objects": 0, "cold_s": round(bare, 2), "nochange_s": round(bare, 2)})
        for n in counts:
            dirs = make_apps(os.path.join(work, "apps-%d" % n), n)
            objects = sum(len(o) for o in rendered(dirs, image, "x"))
            samples = dict((w, []) for w in ways)
            for rep, order in enumerate(rotations(ways, args.repeat)):
                for way in order:
                    samples[way].append(measure(way, dirs, image, n, work, rep))
                    cold, rerun, apply_only = samples[way][-1]
                    line = {"n": n, "way": way, "objects": objects, "sample": rep, "cold_s": round(cold, 2),
                            "nochange_s": round(rerun, 2), "apply_only_cold_s": round(apply_only, 2)}
                    lines.append(line)
                    if args.json:
                        print(json.dumps(line), flush=True)
            for way in ways:
                rows.append([n, objects, WAYS[way][0]] + _cells(samples[way], samples.get("kubectl"), bare, ratios))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    header = ["N", "objects", "way", "cold s", "no-change s", "apply-only cold s", "cold / kubectl",
              "no-change / kubectl", "no-change - floor"]
    if args.out:
        write_results(args.out, "deploy", lines, header, rows, settings)
    if not args.json:
        table("deploy N apps to ready, wall seconds, median (min-max) of %d; floor: a bare one-task "
              "ansible-playbook takes %.2f s" % (args.repeat, bare), header, rows)
        print("\ntargets: cold at N=30 at most 1.0x kubectl; no-change at N=60 at most 0.5x kubectl, its health "
              "check included")


if __name__ == "__main__":
    main()
