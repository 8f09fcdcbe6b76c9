"""Images built from the apps' own provisioning playbooks, checked for real on the engine and registry."""
import http.client
import io
import json
import os
import shutil
import tarfile
import time
import uuid
import xml.etree.ElementTree as ET

import docker
import pytest

from conftest import failing_hello, http_get, EXAMPLES, STATE, playbook

BUILD_TASK = "Build, test and push the images of"


def build(app_dir, *extra, check=True):
    return playbook("playbooks/build.yml", "-e", "app_dir=%s" % app_dir, *extra, check=check)


@pytest.fixture(scope="module")
def engine():
    return docker.from_env()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = {}
    # The desktop library (Xvfb, Chromium) and its QI commands must run on every run, warm state dir or not: its
    # copy gets a file no earlier run had, so the image is built and tested now, never a cache hit.
    qi_apps = tmp_path_factory.mktemp("fresh-build") / "qi-apps"
    shutil.copytree(os.path.join(EXAMPLES, "qi-apps"), str(qi_apps))
    (qi_apps / "text-utils" / "build-run.txt").write_text(uuid.uuid4().hex + "\n")
    for folder in ["%s/%s" % (EXAMPLES, n) for n in ("nodejs-hello", "python-notes", "legacy-secrets")] + [qi_apps]:
        res = build(str(folder))
        out.update((b["name"], b) for b in res.results(BUILD_TASK)[0]["builds"])
    assert not out["text-utils"]["cache_hit"]
    return out


def get(port, path, tries=40):
    return http_get(port, path, tries)


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
    assert "NODEJS_HELLO_TCP_PORT=8080" in conf["Env"]
    assert conf["User"] != "" and not conf["User"].startswith("0:")
    assert conf["Healthcheck"]["Test"][0] == "CMD"
    assert conf["ExposedPorts"] == {"8080/tcp": {}}
    labels = conf["Labels"]
    assert labels["org.opencontainers.image.title"] == "nodejs-hello"
    assert labels["io.qi-convergence.fingerprint"] == built["nodejs-hello"]["fingerprint"]
    assert labels["org.opencontainers.image.source"] == "https://github.com/example/nodejs-hello.git"
    assert labels["org.opencontainers.image.ref.name"] == "master"
    assert labels["io.qi-convergence.node-version"] == "4.3.1"
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


def test_fresh_runner_with_a_warm_registry_neither_rebuilds_nor_pushes(engine, built):
    first = built["nodejs-hello"]
    engine.images.remove(first["image_tag"], force=True)
    since = int(time.time())
    res = build("%s/nodejs-hello" % EXAMPLES)
    created = list(engine.events(since=since, until=int(time.time()) + 1, decode=True,
                                 filters={"type": "container", "event": "create"}))
    result = res.results(BUILD_TASK)[0]
    assert result["cache_hit"] is True and result["cache"] == "registry" and result["pushed"] is False
    assert result["image"] == first["image"] and created == [] and res.changed() == 0
    engine.images.pull(first["image_tag"])


def test_check_mode_tells_a_build_is_needed(app_copy):
    app = app_copy("nodejs-hello", "check-mode-app")
    vars_file = app / "provisioning" / "vars.yml"
    vars_file.write_text(vars_file.read_text().replace("Hello from provisioning", "Hello, %s" % uuid.uuid4().hex))
    res = build(str(app), "--check")
    assert res.changed() == 1 and "would build" in res.results(BUILD_TASK)[0]["msg"]


def test_changing_one_var_rebuilds(engine, app_copy, built):
    app = app_copy("nodejs-hello")
    vars_file = app / "provisioning" / "vars.yml"
    # Unique per run: the engine outlives test runs, and an edit built once before would be a cache hit.
    greeting = "Hello again %s" % uuid.uuid4().hex[:8]
    vars_file.write_text(vars_file.read_text().replace("Hello from provisioning", greeting))
    res = build(str(app))
    result = res.results(BUILD_TASK)[0]
    assert res.changed() >= 1 and result["cache_hit"] is False
    assert result["fingerprint"] != built["nodejs-hello"]["fingerprint"]
    assert "GREETING=" + greeting in engine.images.get(result["image"]).attrs["Config"]["Env"]


def test_changing_one_role_file_rebuilds(app_copy, built):
    app = app_copy("python-notes")
    defaults = app / "provisioning" / "roles" / "notes_app" / "defaults" / "main.yml"
    defaults.write_text(defaults.read_text() + "notes_app_unused_tunable: %s\n" % uuid.uuid4().hex)
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
    assert engine.containers.list(all=True, filters={"name": "qi-build-broken-notes"}) == []
    assert engine.images.list(name="127.0.0.1:5000/broken-notes") == images_before == []
    catalog = json.loads(http_get_registry("/v2/_catalog"))
    assert "broken-notes" not in catalog["repositories"]


def http_get_registry(path):
    c = http.client.HTTPConnection("127.0.0.1", 5000, timeout=5)
    c.request("GET", path)
    return c.getresponse().read().decode()


def test_the_node_version_the_app_asks_for(engine, built):
    for name, version in (("nodejs-hello", "v4.3.1"), ("greeter", "v18.20.8")):
        out = engine.containers.run(built[name]["image"], ["node", "-v"], remove=True).decode().strip()
        assert out == version
    lts = engine.images.get(built["text-utils"]["image"]).labels["io.qi-convergence.node-version"]
    assert int(lts.split(".")[0]) % 2 == 0 and int(lts.split(".")[0]) >= 24  # lts: an even, current line


def test_legacy_roles_were_stood_in_for_and_said_so(built):
    assert [(r["role"], r["how"], r["source"]) for r in built["discovery-server"]["roles"]] == [
        ("facts", "substituted", "qi.convergence.facts"), ("secrets", "substituted", "qi.convergence.secrets"),
        ("nodejs", "substituted", "qi.convergence.nodejs_app")]


def test_npm_install_installed_a_real_dependency_and_left_no_build_settings(engine, built):
    out = engine.containers.run(built["nodejs-hello"]["image"], ["sh", "-c", "ls node_modules; ls /usr/local/etc "
                                "/etc/sudoers.d; node -e \"console.log(require('ms')(60000))\""],
                                remove=True).decode()
    assert "ms\n" in out and "1m" in out and "npmrc" not in out and "qi-build" not in out


def test_nodejs_hello_is_published_as_its_runtime_alone(engine, built):
    """Its .qi.yml says build.runtime_only: node, the app and its production dependencies, in one layer."""
    image = engine.images.get(built["nodejs-hello"]["image"])
    assert len(image.attrs["RootFS"]["Layers"]) == 1 and image.attrs["Size"] < 50e6, image.attrs["Size"]
    assert image.attrs["Config"]["Healthcheck"]["Test"][1] == "node"
    script = ("node -e \"console.log(require('ms')(60000))\"; id -un; "
              "for p in /usr/bin/npm /usr/local/bin/npm /usr/bin/gcc /usr/bin/python3 /usr/bin/apt-get /usr/bin/git "
              "/usr/local/lib/qi-node/node-4.3.1/include/node/node.h /usr/share/doc; do "
              "[ -e $p ] && echo kept $p; done; true")
    out = engine.containers.run(image.id, ["sh", "-c", script], remove=True, network_mode="none").decode()
    assert out.split() == ["1m", "nodejs"], out
    # Nothing of the kernel's (/etc/mtab names /proc/mounts) or the engine's (/etc/hosts) is in its layer.
    with tarfile.open(fileobj=io.BytesIO(b"".join(image.save(named=False)))) as saved:
        manifest = json.load(saved.extractfile("manifest.json"))[0]
        with tarfile.open(fileobj=saved.extractfile(manifest["Layers"][0])) as layer:
            names = layer.getnames()
    assert "opt/nodejs-hello/server.js" in names and "etc/mtab" in names
    assert [n for n in names if n.startswith(("proc/", "etc/hosts", "etc/resolv.conf", "etc/hostname"))] == []
    # The full image it was made from, tested before, is gone: one image under the fingerprint's tag.
    assert [t for t in image.tags if t.endswith("-runtime")] == []


HEALTH_RUNS = '''        if self.path == "/health":
            import subprocess
            try:
                subprocess.run(["%s", "--version"], stdout=subprocess.DEVNULL, check=True)
            except (OSError, subprocess.CalledProcessError) as e:
                print("health: %%s" %% e, flush=True)
                os._exit(3)'''


def _notes_needing(app_copy, name, program, keep=None):
    """python-notes, runtime only, whose health answer runs a program of the base image nothing of it installs."""
    app = app_copy("python-notes", name)
    qi = app / ".qi.yml"
    qi.write_text(qi.read_text().replace("app_name: python-notes", "app_name: " + name).replace(
        "  source_dest: /opt/python-notes", "  source_dest: /opt/python-notes\n  runtime_only: true"
        + ("\n  keep: [%s]" % keep if keep else "")))
    code = (app / "app.py").read_text()
    (app / "app.py").write_text(code.replace('        if self.path == "/health":', HEALTH_RUNS % program))
    # A file no earlier run had: built and checked now, never a cache hit of an earlier run's image.
    (app / "build-run.txt").write_text(uuid.uuid4().hex + "\n")
    return app


def test_a_runtime_only_image_without_what_its_app_runs_fails_naming_build_keep(engine, app_copy):
    res = build(str(_notes_needing(app_copy, "notes-md5", "md5sum")), check=False)
    assert res.rc != 0
    msg = res.failure()
    assert "the runtime-only image of notes-md5 does not pass its health check" in msg, msg
    assert "though the full image passed its tests" in msg and "build.keep" in msg
    assert "No such file or directory: 'md5sum'" in msg
    assert engine.images.list(name="127.0.0.1:5000/notes-md5") == []
    # Named in build.keep, the program (and the libraries it loads) is kept, and the same app passes.
    app = _notes_needing(app_copy, "notes-md5-kept", "md5sum", keep="/usr/bin/md5sum")
    result = build(str(app)).results(BUILD_TASK)[0]["builds"][0]
    assert result["cache_hit"] is False
    assert result["runtime_only"]["checked"] == "health check passed" and result["runtime_only"]["probe"] == "python3"
    assert result["runtime_only"]["size"] < result["runtime_only"]["full_size"] / 2
    out = engine.containers.run(result["image"], ["sh", "-c", "md5sum --version | head -1; [ -e /usr/bin/sha1sum ] "
                                                  "|| echo no sha1sum"], remove=True, network_mode="none").decode()
    assert out.splitlines() == ["md5sum (GNU coreutils) 9.1", "no sha1sum"], out


def test_no_secret_and_no_template_in_the_image(engine, built):
    image = engine.images.get(built["discovery-server"]["image"])
    text = json.dumps(image.attrs) + json.dumps(image.history())
    assert "{{" not in text and "CLIENT_SECRET" not in text
    assert "DISCOVERY_SERVER_TCP_PORT=8088" in image.attrs["Config"]["Env"]
    # Nor in a file: the VM's environment file (every value of nodejs_app_env_vars) is not written into an image.
    listing = engine.containers.run(image.id, ["ls", "/etc/default"], remove=True, network_mode="none").decode()
    assert "discovery-server" not in listing.split(), listing


def test_qi_tests_ran_against_each_image(built):
    assert [r["command"] for r in built["nodejs-hello"]["tests"]["results"]][0] == "npm test"
    desktop = built["text-utils"]["tests"]["results"]
    assert [r["rc"] for r in desktop] == [0, 0, 0, 0] and not any(r.get("cached") for r in desktop)


def test_a_library_is_built_and_tested_but_is_not_a_service(built):
    assert built["text-utils"]["service"] is False and built["greeter"]["service"] is True


def test_the_desktop_test_ran_with_a_display_and_a_browser(engine, built):
    image = built["text-utils"]["image"]
    out = engine.containers.run(image, ["sh", "-c", "command -v google-chrome Xvfb chromedriver"], remove=True)
    assert out.decode().count("/") >= 3
    # The output of this run's tests (the build just above ran them), not a log an earlier run left.
    output = "\n".join(r["output"] for r in built["text-utils"]["tests"]["results"])
    assert "browser test passed with Chromium" in output and "unit tests passed in /var/tmp" in output


def test_a_qi_yml_only_app_in_the_real_flat_shape_builds_and_tests(engine, tmp_path):
    app = tmp_path / "qi-only"
    app.mkdir()
    (app / ".qi.yml").write_text(QI_ONLY)
    (app / "lib.js").write_text("module.exports = function (a, b) { return a + b; };\n")
    # A new source each run: the engine outlives runs, and this test wants a real build and real tests.
    (app / "run-id.txt").write_text(uuid.uuid4().hex)
    (app / "package.json").write_text(json.dumps({"name": "qi-only", "version": "1.0.0",
                                                  "scripts": {"test": "node -e \"require('assert').equal("
                                                              "require('./lib')(2, 2), 4)\""}}))
    res = build(str(app))
    result = res.results(BUILD_TASK)[0]["builds"][0]
    assert result["service"] is False and [r["rc"] for r in result["tests"]["results"]] == [0, 0, 0]
    out = engine.containers.run(result["image"], ["sh", "-c", "pwd; node -v; id -un; ls /usr/local/lib/node_modules"],
                                remove=True).decode()
    assert out.split()[:3] == ["/home/vagrant/sync", "v4.3.1", "nodejs"] and "escape-html" in out.split()
    report = os.path.join(STATE, "logs", "reports", "qi-only", "cobertura-coverage.xml")
    assert open(report).read().strip() == "<coverage line-rate=\"1\"/>"


def test_a_failing_qi_command_fails_the_build_and_pushes_nothing(engine, app_copy):
    app = failing_hello(app_copy, "failing-hello", 4343)
    junit = app.parent / "junit"
    res = build(str(app), "-e", "qi_junit_dir=%s" % junit, check=False)
    assert res.rc != 0
    msg = res.failure()
    assert "QI_FAIL_TEST=4343 npm test" in msg and "exit 1" in msg and "intentional test failure 4343" in msg
    report = ET.parse(str(next(junit.glob("qi-build-*.xml")))).getroot()
    suite = report.find("testsuite[@name='failing-hello']")
    failed = suite.find("testcase[@name='test: QI_FAIL_TEST=4343 npm test']")
    assert "intentional test failure 4343" in failed.find("system-out").text
    assert "exit 1" in failed.find("failure").text
    assert suite.find("testcase[@name='push']/skipped") is not None
    assert "nothing was pushed" in msg
    assert engine.images.list(name="127.0.0.1:5000/failing-hello") == []
    assert "failing-hello" not in json.loads(http_get_registry("/v2/_catalog"))["repositories"]


QI_ONLY = """# A QI descriptor alone, no provisioning folder: a library, as 97 of the 98 real files describe.
app_name: qi-only
git_repository: https://example.invalid/qi-only.git
git_branches:
  - master
email: maintainer@example.org
env_runtime: linux
app_start_service: false
software_stack: nodejs
software_stack_version: 4.3.1
setup:
  - sudo npm install -g escape-html@1.0.3
  - npm install
commands:
  - npm test
  - TMPDIR=/tmp node -e "console.log(process.env.TMPDIR)"
  - mkdir -p coverage && echo '<coverage line-rate="1"/>' > coverage/cobertura-coverage.xml
publishers:
  - cobertura:
      report-file: coverage/cobertura-coverage.xml
"""


def test_a_git_hosted_npm_dependency_fails_naming_it(app_copy):
    app = app_copy("nodejs-hello", "git-dep-hello")
    qi = app / ".qi.yml"
    qi.write_text(qi.read_text().replace("app_name: nodejs-hello", "app_name: git-dep-hello"))
    pkg = json.loads((app / "package.json").read_text())
    pkg["dependencies"]["first-discovery"] = "git+https://github.com/GPII/first-discovery.git"
    (app / "package.json").write_text(json.dumps(pkg))
    res = build(str(app), check=False)
    assert res.rc != 0
    msg = res.failure()
    assert "npm could not fetch the git-hosted dependency" in msg and "GPII/first-discovery.git" in msg
