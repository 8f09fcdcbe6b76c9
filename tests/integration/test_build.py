"""Images built from the apps' own provisioning playbooks, checked for real on the engine and registry."""
import http.client
import json
import time

import docker
import pytest

from conftest import EXAMPLES, playbook

BUILD_TASK = "Build the image from the provisioning playbook"


def build(app_dir, *extra, check=True):
    return playbook("playbooks/build.yml", "-e", "app_dir=%s" % app_dir, *extra, check=check)


@pytest.fixture(scope="module")
def engine():
    return docker.from_env()


@pytest.fixture(scope="module")
def built():
    out = {}
    for name in ("nodejs-hello", "python-notes"):
        res = build("%s/%s" % (EXAMPLES, name))
        out[name] = res.results(BUILD_TASK)[0]
    return out


def get(port, path, tries=40):
    for attempt in range(tries):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        except OSError:
            time.sleep(0.25)
    raise AssertionError("nothing answered on 127.0.0.1:%d" % port)


@pytest.mark.parametrize("name, port, health, body", [
    ("nodejs-hello", 8080, "/healthz", "Hello from provisioning"),
    ("python-notes", 8000, "/health", "Team notes"),
])
def test_built_image_serves_as_provisioned(engine, built, name, port, health, body):
    image = built[name]["image"]
    assert image.startswith("127.0.0.1:5000/%s@sha256:" % name)
    c = engine.containers.run(image, detach=True, ports={"%d/tcp" % port: ("127.0.0.1", None)})
    try:
        c.reload()
        host_port = int(c.attrs["NetworkSettings"]["Ports"]["%d/tcp" % port][0]["HostPort"])
        assert get(host_port, health)[0] == 200
        status, text = get(host_port, "/")
        assert status == 200 and body in text
        assert c.exec_run(["id", "-u"]).output.decode().strip() != "0"
        assert c.exec_run(["python3", "-c", "import ansible"]).exit_code != 0
        assert c.exec_run(["sh", "-c", "ls -d /root/.ansible /usr/lib/python3/dist-packages/ansible* 2>/dev/null"],
                          user="root").output.decode().strip() == ""
        for attempt in range(60):
            c.reload()
            if c.attrs["State"].get("Health", {}).get("Status") == "healthy":
                break
            time.sleep(1)
        assert c.attrs["State"]["Health"]["Status"] == "healthy"
    finally:
        c.remove(force=True)


def test_image_metadata(engine, built):
    conf = engine.images.get(built["nodejs-hello"]["image"]).attrs["Config"]
    assert "GREETING=Hello from provisioning" in conf["Env"] and "NODE_ENV=production" in conf["Env"]
    assert conf["User"] != "" and not conf["User"].startswith("0:")
    assert conf["Healthcheck"]["Test"][0] == "CMD"
    assert conf["ExposedPorts"] == {"8080/tcp": {}}
    labels = conf["Labels"]
    assert labels["org.opencontainers.image.title"] == "nodejs-hello"
    assert labels["io.qi-convergence.fingerprint"] == built["nodejs-hello"]["fingerprint"]
    assert {"org.opencontainers.image.created", "org.opencontainers.image.version",
            "org.opencontainers.image.source"} <= set(labels)


def test_pullable_by_digest(engine, built):
    ref = built["python-notes"]["image"]
    local = engine.images.get(ref).id
    engine.images.remove(ref)
    assert engine.images.pull(ref).id == local


def test_rebuild_unchanged_is_a_cache_hit_without_containers(engine, built):
    since = int(time.time())
    res = build("%s/nodejs-hello" % EXAMPLES)
    created = list(engine.events(since=since, until=int(time.time()) + 1, decode=True,
                                 filters={"type": "container", "event": "create"}))
    assert res.changed() == 0
    assert res.results(BUILD_TASK)[0]["cache_hit"] is True
    assert created == []


def test_check_mode_tells_a_build_is_needed(app_copy):
    app = app_copy("nodejs-hello", "check-mode-app")
    vars_file = app / "provisioning" / "vars.yml"
    vars_file.write_text(vars_file.read_text().replace("Hello from provisioning", "Hello, check mode"))
    res = build(str(app), "--check")
    assert res.changed() == 1 and "would build" in res.results(BUILD_TASK)[0]["msg"]


def test_changing_one_var_rebuilds(engine, app_copy, built):
    app = app_copy("nodejs-hello")
    vars_file = app / "provisioning" / "vars.yml"
    vars_file.write_text(vars_file.read_text().replace("Hello from provisioning", "Hello again"))
    res = build(str(app))
    result = res.results(BUILD_TASK)[0]
    assert res.changed() >= 1 and result["cache_hit"] is False
    assert result["fingerprint"] != built["nodejs-hello"]["fingerprint"]
    assert "GREETING=Hello again" in engine.images.get(result["image"]).attrs["Config"]["Env"]


def test_changing_one_role_file_rebuilds(app_copy, built):
    app = app_copy("python-notes")
    defaults = app / "provisioning" / "roles" / "notes_app" / "defaults" / "main.yml"
    defaults.write_text(defaults.read_text() + "notes_app_unused_tunable: 1\n")
    result = build(str(app)).results(BUILD_TASK)[0]
    assert result["cache_hit"] is False and result["fingerprint"] != built["python-notes"]["fingerprint"]


def test_failing_task_fails_the_build_cleanly(engine, app_copy):
    app = app_copy("python-notes", "broken-notes")
    qi = app / ".qi.yml"
    qi.write_text(qi.read_text().replace("app_name: python-notes", "app_name: broken-notes"))
    tasks = app / "provisioning" / "roles" / "notes_app" / "tasks" / "main.yml"
    tasks.write_text(tasks.read_text() + "\n- name: Break on purpose\n  ansible.builtin.fail:\n"
                     "    msg: intentional failure 4242\n  tags: [configure]\n")
    images_before = engine.images.list(name="127.0.0.1:5000/broken-notes")
    res = build(str(app), check=False)
    assert res.rc != 0
    msg = res.failure()
    assert "intentional failure 4242" in msg and "Break on purpose" in msg
    assert engine.containers.list(all=True, filters={"label": "io.qi-convergence.build"}) == []
    assert engine.images.list(name="127.0.0.1:5000/broken-notes") == images_before == []
    catalog = json.loads(http_get_registry("/v2/_catalog"))
    assert "broken-notes" not in catalog["repositories"]


def http_get_registry(path):
    c = http.client.HTTPConnection("127.0.0.1", 5000, timeout=5)
    c.request("GET", path)
    return c.getresponse().read().decode()
