"""Benchmark: deploy N apps (about 6 objects each) four ways in one run, cold and no-change rerun.

- ours: playbooks/deploy.yml with all N app folders (one k8s_release call per app: one client, SSA);
- kubectl apply --server-side of the same rendered objects (one file per app, one kubectl call for all);
- kubernetes.core.k8s with one task per object;
- kubernetes.core.k8s with all objects in one task.

Each way gets its own namespace. Apps run with replicas 0 so that what is measured is the API work, not
how fast 30 pods start on 2 cores. Prints wall seconds and ratios. Not a test: nothing is asserted.
Usage: .venv/bin/python benchmarks/deploy.py [N,N,...]   (default 1,10,30)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

from common import KUBECONFIG, ROOT, VENV_BIN, kubectl_bin, run, table, timed

sys.path.insert(0, os.path.join(ROOT, "build", "collections"))
from ansible_collections.qi.convergence.plugins.module_utils.manifests import render  # noqa: E402
from ansible_collections.qi.convergence.plugins.plugin_utils.spec import read_app  # noqa: E402

EXAMPLE = os.path.join(ROOT, "examples", "nodejs-hello")
ENVIRONMENT = {"replicas": 0, "service_type": "ClusterIP", "pdb": True, "network_policy": True}
EXTRA = {"app_deploy_replicas": 0, "app_deploy_service_type": "ClusterIP", "app_deploy_node_ports": {},
         "app_deploy_pdb": True, "app_deploy_network_policy": True}


def make_apps(root, n):
    dirs = []
    for i in range(n):
        d = os.path.join(root, "bench-app-%02d" % i)
        shutil.copytree(EXAMPLE, d)
        qi = yaml.safe_load(open(os.path.join(d, ".qi.yml")))
        qi["app_name"] = "bench-app-%02d" % i
        qi["deploy"]["config_files"][0]["name"] = "bench-app-%02d-motd" % i
        with open(os.path.join(d, ".qi.yml"), "w") as f:
            yaml.safe_dump(qi, f)
        dirs.append(d)
    return dirs


def rendered(dirs, image, ns):
    return [render(read_app(d), image, dict(ENVIRONMENT, namespace=ns)) for d in dirs]


def kubectl(*args):
    return run([kubectl_bin(), "--kubeconfig", KUBECONFIG] + list(args))


def fresh_namespace(ns):
    subprocess.run([kubectl_bin(), "--kubeconfig", KUBECONFIG, "delete", "namespace", ns, "--wait=true",
                    "--ignore-not-found"], capture_output=True, timeout=300, check=False)
    kubectl("create", "namespace", ns)


def way_ours(dirs, image, ns, work):
    extra = dict(EXTRA, app_dirs=dirs, app_image=image, app_deploy_namespace=ns)
    return lambda: timed([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/deploy.yml", "-e", json.dumps(extra)])[0]


def way_kubectl(dirs, image, ns, work):
    folder = os.path.join(work, "kubectl-" + ns)
    os.makedirs(folder)
    for i, objs in enumerate(rendered(dirs, image, ns)):
        with open(os.path.join(folder, "app-%02d.yaml" % i), "w") as f:
            yaml.safe_dump_all(objs, f)
    return lambda: timed([kubectl_bin(), "--kubeconfig", KUBECONFIG, "apply", "--server-side",
                          "--field-manager=bench", "-f", folder])[0]


def k8s_playbook(work, name, tasks):
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as f:
        yaml.safe_dump([{"name": "bench", "hosts": "localhost", "connection": "local", "gather_facts": False,
                         "tasks": tasks}], f)
    return lambda: timed([os.path.join(VENV_BIN, "ansible-playbook"), path])[0]


def way_k8s_per_object(dirs, image, ns, work):
    tasks = [{"name": "apply %s/%s" % (o["kind"], o["metadata"]["name"]),
              "kubernetes.core.k8s": {"kubeconfig": KUBECONFIG, "state": "present", "definition": o,
                                      "apply": True, "server_side_apply": {"field_manager": "bench"}}}
             for objs in rendered(dirs, image, ns) for o in objs]
    return k8s_playbook(work, "per-object-" + ns, tasks)


def way_k8s_one_task(dirs, image, ns, work):
    path = os.path.join(work, "all-%s.yaml" % ns)
    with open(path, "w") as f:
        yaml.safe_dump_all([o for objs in rendered(dirs, image, ns) for o in objs], f)
    tasks = [{"name": "apply all objects", "kubernetes.core.k8s": {
        "kubeconfig": KUBECONFIG, "state": "present", "src": path, "apply": True,
        "server_side_apply": {"field_manager": "bench"}}}]
    return k8s_playbook(work, "one-task-" + ns, tasks)


WAYS = [("ours: deploy.yml (k8s_release)", "ours", way_ours),
        ("kubectl apply --server-side", "kubectl", way_kubectl),
        ("kubernetes.core.k8s, one task per object", "k8s-each", way_k8s_per_object),
        ("kubernetes.core.k8s, all objects in one task", "k8s-all", way_k8s_one_task)]


def main():
    counts = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "1,10,30").split(",")]
    image = json.loads(kubectl("-n", "default", "get", "deployment", "nodejs-hello", "-o", "json").stdout)[
        "spec"]["template"]["spec"]["containers"][0]["image"]
    rows = []
    for n in counts:
        work = tempfile.mkdtemp(prefix="qi-bench-deploy-")
        try:
            dirs = make_apps(work, n)
            objects = sum(len(o) for o in rendered(dirs, image, "x"))
            times = {}
            for label, short, make in WAYS:
                ns = "bench-%s-%d" % (short, n)
                fresh_namespace(ns)
                go = make(dirs, image, ns, work)
                times[short] = (go(), go())
                subprocess.run([kubectl_bin(), "--kubeconfig", KUBECONFIG, "delete", "namespace", ns, "--wait=false"],
                               capture_output=True, check=False)
            for label, short, dummy in WAYS:
                cold, rerun = times[short]
                rows.append([n, objects, label, "%.1f" % cold, "%.1f" % rerun,
                             "%.2f" % (cold / times["kubectl"][0]), "%.2f" % (times["k8s-each"][0] / cold)])
        finally:
            shutil.rmtree(work, ignore_errors=True)
    table("deploy N apps, wall seconds (one run, same machine, embedded cluster)",
          ["N", "objects", "way", "cold s", "no-change s", "cold / kubectl", "one-task-per-object / this"], rows)
    print("\ntargets: ours within 1.5x of kubectl, and at least 3x faster than one task per object")


if __name__ == "__main__":
    main()
