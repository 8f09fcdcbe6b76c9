"""inventories/dev for real: a cluster host reached over SSH (this machine's own sshd on a loopback address, a key made
for the test, a non-root user with sudo), provisioned there with become, its kubeconfig fetched, an example deployed.

The "host" is 127.0.0.2: an address of this machine that is neither the controller's 127.0.0.1 nor in the API
server's certificate, so the fetched kubeconfig must name the host and the certificate's name to work.

Only one cluster runs on this machine at a time (one containerd socket, the API server's port): the embedded cluster
is stopped first and brought back after, its data kept.
"""
import json
import os
import pwd
import shutil
import socket
import subprocess

import pytest
import yaml

from conftest import EXAMPLES, http_get, playbook, run

pytestmark = [pytest.mark.cluster, pytest.mark.dev_host]
USER = "qi-dev-test"
REMOTE_STATE = "/var/lib/qi-convergence"
HOST = "dev-k8s"
ADDRESS = "127.0.0.2"


def free_port():
    with socket.socket() as s:
        s.bind((ADDRESS, 0))
        return s.getsockname()[1]


def make_user(home_keys):
    """A non-root user whose sudo asks no password, logging in with the test's key only."""
    try:
        pwd.getpwnam(USER)
    except KeyError:
        run(["useradd", "--create-home", "--shell", "/bin/bash", USER])
    # No password, yet not locked: sshd turns a locked account away whatever the key.
    run(["usermod", "--password", "*", USER])
    sudoers = "/etc/sudoers.d/" + USER
    with open(sudoers, "w", encoding="utf-8") as f:
        f.write("%s ALL=(ALL) NOPASSWD: ALL\n" % USER)
    os.chmod(sudoers, 0o440)
    entry = pwd.getpwnam(USER)
    ssh_dir = os.path.join(entry.pw_dir, ".ssh")
    os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
    shutil.copy(home_keys + ".pub", os.path.join(ssh_dir, "authorized_keys"))
    for path in (ssh_dir, os.path.join(ssh_dir, "authorized_keys")):
        os.chown(path, entry.pw_uid, entry.pw_gid)


@pytest.fixture(scope="module")
def dev_host(tmp_path_factory):
    """(port, key, log) of an sshd on ADDRESS that lets USER in with key."""
    d = tmp_path_factory.mktemp("dev-host")
    key, host_key = str(d / "id_ed25519"), str(d / "host_ed25519")
    for path in (key, host_key):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path])
    make_user(key)
    port = free_port()
    config = d / "sshd_config"
    config.write_text("ListenAddress %s\nPort %d\nHostKey %s\nPidFile %s\nPasswordAuthentication no\n"
                      "KbdInteractiveAuthentication no\nPermitRootLogin no\nAllowUsers %s\nUsePAM no\n"
                      "Subsystem sftp internal-sftp\n"
                      % (ADDRESS, port, host_key, d / "sshd.pid", USER))
    os.makedirs("/run/sshd", exist_ok=True)
    run(["/usr/sbin/sshd", "-f", str(config), "-E", str(d / "sshd.log")])
    yield port, key, d / "sshd.log"
    pid = (d / "sshd.pid").read_text().strip()
    subprocess.run(["kill", pid], check=False)
    run(["userdel", "--remove", USER], check=False)
    os.remove("/etc/sudoers.d/" + USER)


@pytest.fixture(scope="module")
def embedded_cluster_stopped():
    """The embedded cluster down while the dev host's runs; back (same data) after, the dev host's stopped and gone."""
    run(["scripts/cluster-down.sh"], timeout=300)
    yield
    run(["scripts/cluster-down.sh"], env=dict(os.environ, QI_STATE_DIR=REMOTE_STATE), timeout=300)
    shutil.rmtree(REMOTE_STATE, ignore_errors=True)
    run(["scripts/cluster-up.sh"], timeout=1200)


@pytest.fixture(scope="module")
def dev_args(dev_host, embedded_cluster_stopped, tmp_path_factory):
    """inventories/dev pointed at the test's SSH host; the binaries method (no CentOS packages are reachable here)."""
    port, key, _log = dev_host
    kubeconfig = tmp_path_factory.mktemp("controller") / "dev.kubeconfig"
    return ["-e", "ansible_host=" + ADDRESS, "-e", "ansible_port=%d" % port, "-e", "ansible_user=" + USER,
            "-e", "ansible_ssh_private_key_file=" + key,
            "-e", "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'",
            "-e", "k8s_single_node_install_method=binaries", "-e", "k8s_single_node_service_manager=supervised",
            "-e", "app_image_registry=127.0.0.1:5000", "-e", "app_deploy_kubeconfig=%s" % kubeconfig]


@pytest.fixture(scope="module")
def provisioned(dev_args):
    return playbook("playbooks/cluster.yml", *dev_args, inventory="inventories/dev", timeout=1500)


def test_the_cluster_is_provisioned_over_ssh_as_the_user_with_sudo(dev_host, provisioned):
    assert "Accepted publickey for %s from 127.0.0.1" % USER in dev_host[2].read_text()
    # The state is where the role says on the remote host, made as root (become), not under the controller's home.
    api = os.path.join(REMOTE_STATE, "cluster", "run", "kube-apiserver.pid")
    assert os.stat(api).st_uid == 0
    with open(api, encoding="utf-8") as f, open("/proc/%s/cmdline" % f.read().strip(), "rb") as c:
        program = c.read().split(b"\0")[0].decode()
    assert program == os.path.join(REMOTE_STATE, "k8s", "v1.35.4", "bin", "kube-apiserver")
    copied = provisioned.results("Copy the controller's binaries to the host", host=HOST)
    assert copied and copied[0]["changed"], copied


def test_a_second_provisioning_changes_nothing(dev_args, provisioned):
    again = playbook("playbooks/cluster.yml", *dev_args, inventory="inventories/dev", timeout=900)
    assert again.changed(HOST) == 0, again.stats(HOST)


def test_site_deploys_an_example_that_answers_from_the_dev_host(dev_args, provisioned):
    kubeconfig = dev_args[-1].split("=", 1)[1]
    res = playbook("playbooks/site.yml", "-e", "app_dir=%s/nodejs-hello" % EXAMPLES, *dev_args,
                   inventory="inventories/dev", timeout=1200)
    # The fetched kubeconfig names the host's address (the host wrote its own loopback) and a name its certificate has.
    with open(kubeconfig, encoding="utf-8") as f:
        cluster = yaml.safe_load(f)["clusters"][0]["cluster"]
    assert cluster["server"] == "https://%s:6443" % ADDRESS and cluster["tls-server-name"] == "kubernetes"
    assert oct(os.stat(kubeconfig).st_mode & 0o777) == "0o600"
    status, body = http_get(30080, "/", tries=60, pause=1, host=ADDRESS)
    assert status == 200 and json.loads(body)["greeting"] == "Hello from provisioning", body
    pods = run([os.path.join(REMOTE_STATE, "k8s", "v1.35.4", "bin", "kubectl"), "--kubeconfig", kubeconfig,
                "-n", "default", "get", "pods", "-l", "app.kubernetes.io/name=nodejs-hello", "-o", "name"]).stdout
    assert pods.strip().startswith("pod/nodejs-hello"), res.stats()
