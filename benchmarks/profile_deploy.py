"""Where a deploy's time goes: the k8s_release work of N apps run in-process, phase by phase, cold then unchanged.

Prints, per phase, wall seconds and API requests (count and summed request time per verb), plus the import cost of
the kubernetes package's kubeconfig loader and a bare ansible-playbook's start (the floor). Not a test.
Usage: .venv/bin/python benchmarks/profile_deploy.py [N]   (default 30)
"""
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time

from common import KUBECONFIG, ROOT, VENV_BIN, kubectl_bin, table

sys.path.insert(0, os.path.join(ROOT, "build", "collections"))
from deploy import EXTRA, drop_namespace, floor, fresh_namespace, make_apps  # noqa: E402


def import_cost():
    out = subprocess.run([os.path.join(VENV_BIN, "python"), "-X", "importtime", "-c",
                          "import kubernetes.config.kube_config"], capture_output=True, text=True, check=False)
    total = [line for line in out.stderr.splitlines() if line.rstrip().endswith("kubernetes.config.kube_config")]
    return int(total[-1].split("|")[1]) / 1e6 if total else float("nan")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    from ansible_collections.qi.convergence.plugins.plugin_utils.kube import client as kube_mod
    from ansible_collections.qi.convergence.plugins.plugin_utils.release import releases as release_mod
    from ansible_collections.qi.convergence.plugins.plugin_utils.release import rollout as rollout_mod
    from ansible_collections.qi.convergence.plugins.plugin_utils.release.task import deploy
    from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps

    stats = collections.defaultdict(lambda: [0, 0.0])
    phase = {"name": "setup"}
    phases = collections.OrderedDict()
    original_send = kube_mod.Kube._send

    def send(self, method, url, data, headers):
        start = time.monotonic()
        try:
            return original_send(self, method, url, data, headers)
        finally:
            entry = stats[(phase["name"], method)]
            entry[0] += 1
            entry[1] += time.monotonic() - start
    kube_mod.Kube._send = send

    def timed_phase(name, fn):
        def wrapper(*args, **kwargs):
            before, phase["name"] = phase["name"], name
            start = time.monotonic()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.monotonic() - start
                phase["name"] = before
        return wrapper
    release_mod.Histories.__init__ = timed_phase("history read", release_mod.Histories.__init__)
    release_mod._skip_unchanged = timed_phase("no-change check (lists by kind)", release_mod._skip_unchanged)
    release_mod.ReleaseLocks.acquire = timed_phase("locks", release_mod.ReleaseLocks.acquire)
    release_mod.ReleaseLocks.release = timed_phase("locks", release_mod.ReleaseLocks.release)
    release_mod.apply_all = timed_phase("apply (discovery + SSA)", release_mod.apply_all)
    release_mod.wait_all = timed_phase("wait for ready", rollout_mod.wait_all)
    release_mod.live_signatures = timed_phase("record tracking (lists by kind)", release_mod.live_signatures)
    release_mod.Histories.add = timed_phase("history write", release_mod.Histories.add)

    work = tempfile.mkdtemp(prefix="qi-profile-")
    ns = "bench-profile-%d" % n
    try:
        dirs = make_apps(work, n)
        start = time.monotonic()
        specs = [read_apps(d)[0] for d in dirs]
        read_s = time.monotonic() - start
        image = subprocess.run([kubectl_bin(), "--kubeconfig", KUBECONFIG, "-n", "default", "get", "deployment",
                                "nodejs-hello", "-o", "jsonpath={.spec.template.spec.containers[0].image}"],
                               capture_output=True, text=True, check=True).stdout
        fresh_namespace(ns)
        env = {"replicas": EXTRA["app_deploy_replicas"], "service_type": "ClusterIP", "pdb": True,
               "network_policy": True}
        p = dict((k, None) for k in kube_mod.AUTH_KEYS)
        p.update(kubeconfig=KUBECONFIG, release=None, namespace=ns, create_namespace=True, state="present",
                 objects=None, spec=None, image=image, releases=None, specs=specs, images={}, public_host=None,
                 revision=None, wait=True, wait_timeout=600, history=10, rollback_on_failure=True, pull_retries=3,
                 environment=env, secrets={})
        rows = []
        for run in ("cold", "no change"):
            phases.clear()
            stats.clear()
            kube_mod._CLIENTS.clear()
            start = time.monotonic()
            deploy(p)
            total = time.monotonic() - start
            for name, secs in phases.items():
                reqs = ", ".join("%s %d (%.2f s)" % (m, c, t) for (ph, m), (c, t) in sorted(stats.items()) if ph == name)
                rows.append([run, name, "%.2f" % secs, reqs or "-"])
            rows.append([run, "total in k8s_release", "%.2f" % total, "%d requests" % sum(c for c, t in stats.values())])
        table("profile of one deploy of %d apps (in-process; add the playbook start and the app folders' read)" % n,
              ["run", "phase", "seconds", "API requests"], rows)
        print("\nbare ansible-playbook (one ping task): %.2f s; reading %d app folders: %.2f s; importing the "
              "kubernetes kubeconfig loader: %.2f s" % (floor(work), n, read_s, import_cost()))
    finally:
        drop_namespace(ns)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
