"""The engine, base images, registry and set-up scripts, for real."""
import os
import re
import socket
import tarfile
import time
import uuid

import docker
import pytest

from conftest import ENV, ROOT, STATE, run

BASE = "qi-convergence/debian:12"
SYSTEMD = "qi-convergence/debian-systemd:12"


@pytest.fixture(scope="module")
def engine():
    return docker.from_env()


@pytest.mark.parametrize("image, expect", [(BASE, "python3 ok"), (SYSTEMD, "systemd")])
def test_container_from_each_base_image_runs_a_command(engine, image, expect):
    cmd = ["python3", "-c", "print('python3 ok')"] if image == BASE else ["sh", "-c", "readlink -f /sbin/init"]
    out = engine.containers.run(image, cmd, remove=True).decode()
    assert expect in out


def test_systemd_image_boots(engine):
    c = engine.containers.run(SYSTEMD, detach=True, cap_add=["SYS_ADMIN"], security_opt=["seccomp=unconfined"],
                              cgroupns="host", volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}},
                              tmpfs={"/run": "", "/run/lock": ""})
    try:
        state = ""
        for attempt in range(60):
            state = c.exec_run(["systemctl", "is-system-running", "--wait"]).output.decode().strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        assert state in ("running", "degraded")
    finally:
        c.remove(force=True)


def test_registry_push_then_pull_by_digest(engine):
    repo = "127.0.0.1:5000/qi-test/base"
    tag = uuid.uuid4().hex[:8]
    engine.images.get(BASE).tag(repo, tag)
    digest = None
    for line in engine.images.push(repo, tag=tag, stream=True, decode=True):
        assert "error" not in line, line
        digest = (line.get("aux") or {}).get("Digest") or digest
    assert digest and digest.startswith("sha256:")
    engine.images.remove("%s:%s" % (repo, tag))
    pulled = engine.images.pull("%s@%s" % (repo, digest))
    assert pulled.id == engine.images.get(BASE).id
    engine.images.remove("%s@%s" % (repo, digest))


def test_second_setup_changes_nothing():
    res = run(["scripts/setup.sh"])
    # A registry another state dir started is reused and said so each time: a note, not a change.
    lines = [l for l in res.stdout.strip().splitlines() if not re.match(r"== a registry already answers on .*: using it$", l)]
    assert lines == ["== infrastructure ready (state dir %s)" % ENV["QI_STATE_DIR"]]


def test_port_5000_taken_by_something_else(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        env = dict(ENV, QI_REGISTRY_ADDR="127.0.0.1:%d" % port, QI_STATE_DIR=str(tmp_path))
        res = run(["scripts/setup-registry.sh"], check=False, env=env, timeout=60)
    assert res.returncode != 0
    assert res.stderr.strip() == ("ERROR: port %d on 127.0.0.1 is taken by something that is not a registry; "
                                  "free it or set QI_REGISTRY_ADDR" % port)
    assert "Traceback" not in res.stdout + res.stderr


def test_docker_engine_cannot_start(tmp_path):
    fake = tmp_path / "dockerd"
    fake.write_text("#!/bin/sh\necho 'failed to start daemon: no space left on device' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = dict(ENV, QI_DOCKERD=str(fake), DOCKER_HOST="unix://%s/none.sock" % tmp_path, QI_STATE_DIR=str(tmp_path))
    res = run(["scripts/setup-docker.sh"], check=False, env=env, timeout=60)
    assert res.returncode != 0
    assert "ERROR: Docker engine cannot start: failed to start daemon: no space left on device" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_debootstrap_cannot_reach_the_mirror(tmp_path):
    env = dict(ENV, QI_STATE_DIR=str(tmp_path), QI_BASE_IMAGE="qi-test/unbuildable:1",
               QI_DEBIAN_MIRROR="http://127.0.0.1:9/debian")
    res = run(["scripts/setup-base-images.sh"], check=False, env=env, timeout=120)
    assert res.returncode != 0
    assert res.stderr.startswith("ERROR: debootstrap cannot reach the Debian mirror http://127.0.0.1:9/debian: E: ")
    assert len(res.stderr.strip().splitlines()) == 1


def test_app_spec_ad_hoc_from_the_project_env():
    res = run([os.path.join(ROOT, ".venv", "bin", "ansible"), "localhost", "-m", "qi.convergence.app_spec",
               "-a", "app_dir=examples/nodejs-hello"])
    assert '"name": "nodejs-hello"' in res.stdout and '"GREETING": "Hello from provisioning"' in res.stdout


def test_collection_tarball_has_no_clutter(tmp_path):
    run([os.path.join(ROOT, ".venv", "bin", "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path)])
    tarball = next(tmp_path.glob("qi-convergence-*.tar.gz"))
    names = tarfile.open(tarball).getnames()
    tops = set(n.split("/")[0] for n in names)
    assert {"plugins", "roles", "playbooks", "meta", "README.md", "MANIFEST.json"} <= tops
    assert not tops & {"tests", ".venv", "build", "molecule", ".ci", "benchmarks", "scripts", ".git"}
    assert not [n for n in names if "__pycache__" in n]


def test_make_collection_builds_a_tarball_that_installs_and_runs(tmp_path):
    res = run(["make", "collection"])
    tarball = res.stdout.split("built ")[1].split()[0]
    names = tarfile.open(tarball).getnames()
    assert "schemas/qi.schema.json" in names and "plugins/action/app_spec.py" in names
    dest = tmp_path / "collections"
    run([os.path.join(ROOT, ".venv", "bin", "ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p", str(dest),
         tarball])
    play = tmp_path / "use.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - qi.convergence.app_spec:\n        app_dir: %s/qi-apps\n      register: apps\n"
        "    - ansible.builtin.assert:\n        that: apps.specs | map(attribute='name') | list"
        " == ['text-utils', 'greeter']\n" % os.path.join(ROOT, "examples"))
    env = dict(ENV, ANSIBLE_COLLECTIONS_PATH=str(dest))
    env.pop("ANSIBLE_CONFIG", None)
    out = run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", str(play)], env=env,
              cwd=str(tmp_path))
    assert "failed=0" in out.stdout
    assert str(dest) in run([os.path.join(ROOT, ".venv", "bin", "ansible-galaxy"), "collection", "list", "-p",
                             str(dest)], env=env, cwd=str(tmp_path)).stdout


REDHAT_PACKAGES = ["-e", "k8s_single_node_install_method=packages",
                   "-e", "k8s_single_node_package_repo_url=https://mirror.example/kubernetes/rpm/",
                   "-e", "k8s_single_node_package_repo_gpgkey=https://mirror.example/kubernetes/rpm/repomd.xml.key",
                   "-e", "k8s_single_node_containerd_repo_url=https://mirror.example/containerd/rpm/"]


@pytest.mark.parametrize("method, extra, expect", [
    ("binaries", [], ["cgroupDriver: systemd", "bin_dir = \"/opt/cni/bin\"", "clusterDNS: [10.96.0.10]",
                      "Description=qi.convergence kube-apiserver", "coredns:v", "imagePullPolicy: Never"]),
    ("packages", REDHAT_PACKAGES, ["kind: ClusterConfiguration", "dnsDomain: cluster.local",
                                   "bin_dir = \"/opt/cni/bin\""]),
])
def test_k8s_single_node_check_mode_on_a_centos_fact_set(tmp_path, method, extra, expect):
    """The RedHat-family paths against a CentOS Stream 9 fact set, in check mode: every task but those that call the
    host's own dnf, yum repositories, SELinux, firewalld and systemd (tag qi_host_os), which need that host."""
    state = tmp_path / "state"
    bins = os.path.join(STATE, "k8s", "v1.35.4", "bin")
    fixtures = os.path.join(ROOT, "tests", "integration", "fixtures")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        silent_port = s.getsockname()[1]
    # A health port nothing answers on: a cluster running on this machine must not make a check-mode wait pass.
    extra = extra + ["-e", "k8s_single_node_network_policy_health_port=%d" % silent_port]
    res = run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "--check", "--diff", "-i", "localhost,",
               "-c", "local", os.path.join(fixtures, "redhat-check-mode.yml"),
               "-e", "@" + os.path.join(fixtures, "centos-stream-9-facts.yml"),
               "-e", "ansible_python_interpreter=" + os.path.join(ROOT, ".venv", "bin", "python"),
               "-e", "k8s_single_node_state_dir=%s" % state, "-e", "k8s_single_node_bin_dir=" + bins,
               "--skip-tags", "qi_host_os"] + extra)
    assert "failed=0" in res.stdout
    for text in expect:
        assert text in res.stdout, text
    assert not state.exists(), "check mode created %s" % state
