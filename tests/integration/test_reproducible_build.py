"""The same inputs give the same image, byte for byte: on this engine after its image is gone, and on a second
Docker engine of this machine (its own data root, socket, containerd and bridge without NAT, so its build container
uses the host's network), pushed to the registry under another name with the same digest."""
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import docker
import pytest

from conftest import EXAMPLES, playbook

BUILD_TASK = "Build, test and push the images of"
BASE = "qi-convergence/debian:12"
# Its own bridge: an engine started with --bridge=none deletes docker0, the first engine's.
BRIDGE, BRIDGE_ADDRESS = "qi-engine2", "172.30.250.1/24"
EPOCH = 1700000000  # 2023-11-14T22:13:20Z


def build(app_dir, *extra, env=None):
    res = playbook("playbooks/build.yml", "-e", "app_dir=%s" % app_dir, *extra, env=env)
    return res.results(BUILD_TASK)[0]["builds"][0]


@pytest.fixture(scope="module")
def second_engine():
    root = tempfile.mkdtemp(prefix="qi-engine2-")
    subprocess.run(["ip", "link", "delete", BRIDGE], capture_output=True, check=False)
    for cmd in (["add", BRIDGE, "type", "bridge"], ["set", BRIDGE, "up"]):
        subprocess.run(["ip", "link"] + cmd, check=True)
    subprocess.run(["ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE], check=True)
    sock = "unix://%s/docker.sock" % root
    log = open(os.path.join(root, "dockerd.log"), "w")
    proc = subprocess.Popen([shutil.which("dockerd"), "--data-root", root + "/data", "--exec-root", root + "/exec",
                             "--pidfile", root + "/docker.pid", "-H", sock, "--bridge=" + BRIDGE, "--iptables=false",
                             "--ip-masq=false"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    client = None
    try:
        for attempt in range(120):
            try:
                client = docker.DockerClient(base_url=sock, timeout=600)
                client.ping()
                break
            except docker.errors.DockerException:
                assert proc.poll() is None, open(os.path.join(root, "dockerd.log")).read()[-2000:]
                time.sleep(0.5)
        # The same base image on both engines: what it is made of is an input like any other.
        saved = os.path.join(root, "base.tar")
        with open(saved, "wb") as f:
            for chunk in docker.from_env().images.get(BASE).save(named=True):
                f.write(chunk)
        with open(saved, "rb") as f:
            client.images.load(f)
        os.remove(saved)
        yield client, sock
    finally:
        if client is not None:
            client.close()
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run(["ip", "link", "delete", BRIDGE], capture_output=True, check=False)


@pytest.fixture(scope="module")
def twin_builds(second_engine, tmp_path_factory):
    """Three builds of nodejs-hello with a greeting no earlier run built (so no engine or registry has its image),
    times from SOURCE_DATE_EPOCH: on this engine, unpushed; on this engine again once that image is gone, pushed;
    on the second engine, pushed under another name."""
    client, sock = second_engine
    app = tmp_path_factory.mktemp("twin") / "twin-hello"
    shutil.copytree(os.path.join(EXAMPLES, "nodejs-hello"), app)
    vars_file = app / "provisioning" / "vars.yml"
    vars_file.write_text(vars_file.read_text().replace("Hello from provisioning", "Hello %s" % uuid.uuid4().hex))
    engine, env = docker.from_env(), {"SOURCE_DATE_EPOCH": str(EPOCH)}
    first = build(app, "-e", "app_image_push=false", env=env)
    image = engine.images.get(first["image"])
    engine.images.remove(first["image"], force=True)
    here = build(app, "-e", "app_image_registry=127.0.0.1:5000/engine-one", env=env)
    there = build(app, "-e", "app_image_registry=127.0.0.1:5000/engine-two", "-e", "app_image_network=host",
                  env=dict(env, DOCKER_HOST=sock))
    yield {"first": first, "image": image, "here": here, "there": there, "client": client}
    for ref in (here["image_tag"], image.id):
        try:
            engine.images.remove(ref, force=True)
        except docker.errors.ImageNotFound:
            pass


def test_a_rebuild_gives_the_same_image_with_times_from_the_source_date(twin_builds):
    image, here = twin_builds["image"], twin_builds["here"]
    assert twin_builds["first"]["cache_hit"] is False and here["cache_hit"] is False
    assert docker.from_env().images.get(here["image_tag"]).id == image.id
    assert image.attrs["Created"].startswith("2023-11-14T22:13:20")
    assert image.labels["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
    # What the build wrote (the base image's own files keep their times).
    newer = docker.from_env().containers.run(
        image.id, ["sh", "-c", "find /opt/nodejs-hello /usr/local/bin/node /usr/local/lib/node_modules "
                   "-newermt @%d | head -5" % EPOCH], user="root", remove=True)
    assert newer.decode().strip() == ""


def test_two_engines_build_the_same_image_and_push_the_same_digest(twin_builds):
    here, there = twin_builds["here"], twin_builds["there"]
    assert there["cache_hit"] is False and here["pushed"] and there["pushed"]
    assert here["fingerprint"] == there["fingerprint"]
    assert twin_builds["client"].images.get(there["image_tag"]).id == twin_builds["image"].id
    assert here["digest"] == there["digest"]
