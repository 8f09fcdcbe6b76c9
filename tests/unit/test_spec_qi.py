"""The real .qi.yml format: both shapes, every real key with its real type, several apps per file."""
import glob
import json
import os
import shutil

import pytest

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.spec.qi_schema import APPS_FILE, FLAT_FILE
from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps
from ansible_collections.qi.convergence.plugins.plugin_utils.spec.sections import QI_SYNC_DIR

from appfolder import make_app

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures", "real-qi")
SHARED = os.path.join(ROOT, "..", "shared", "real-qi")
FLAT = {"app_name": "web", "software_stack": "nodejs", "software_stack_version": "4.3.1", "env_runtime": "linux",
        "email": "maintainer@example.org", "git_repository": "https://example.invalid/web.git",
        "git_branches": ["qi-test"], "app_tcp_port": 9081, "app_start_script": "web.js", "app_start_service": True,
        "setup": ["npm install"], "commands": ["npm test"]}


def read_real(tmp_path, path):
    app = tmp_path / os.path.basename(path)
    app.mkdir()
    shutil.copy(path, str(app / ".qi.yml"))
    return read_apps(str(app))


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(FIXTURES, "*.qi.yml"))))
def test_real_fixture_reads(tmp_path, path):
    specs = read_real(tmp_path, path)
    assert specs and all(s["name"] and s["stack"]["name"] == "nodejs" for s in specs)


def test_every_real_file_in_the_shared_corpus_reads(tmp_path):
    # Never a silent skip: where the corpus is not beside the checkout, say why with QI_SKIP_CORPUS=reason.
    if not os.path.isdir(SHARED):
        if os.environ.get("QI_SKIP_CORPUS"):
            pytest.skip("QI_SKIP_CORPUS: %s" % os.environ["QI_SKIP_CORPUS"])
        pytest.fail("the shared corpus of real .qi.yml files is not at %s; put it there, or set "
                    "QI_SKIP_CORPUS=<why> to skip this test on purpose" % os.path.normpath(SHARED))
    files = sorted(glob.glob(os.path.join(SHARED, "*.qi.yml")))
    assert len(files) >= 98
    for path in files:
        for spec in read_real(tmp_path, path):
            assert spec["name"] and (spec["tests"] or spec["build"]["setup"])


def test_the_real_service(tmp_path):
    spec, = read_real(tmp_path, os.path.join(FIXTURES, "fluid-project+fluid-binder@eb6af5f.qi.yml"))
    assert spec["name"] == "nexus" and spec["service"] is True
    assert spec["run"]["command"] == ["node", "nexus.js"] and spec["run"]["port"] == 9081
    assert spec["run"]["env"]["NEXUS_TCP_PORT"] == "9081"
    assert spec["health"] == {"tcp": True, "port": 9081, "path": None, "status": None, "text": None,
                              "initial_delay": 0}
    assert spec["source"]["dest"] == QI_SYNC_DIR and spec["tests"] == ["node /home/vagrant/sync/tests/all-tests.js"]
    assert spec["source"]["git"] == {"repo": "https://github.com/avtar/nexus.git", "branch": "qi-test"}
    assert spec["build"]["setup"][0].startswith("sudo sh -c 'apt-get update") and " curl " in spec["build"]["setup"][0]
    assert spec["build"]["setup"][1:] == ["sudo npm install -g wscat", "npm install"]
    assert spec["build"]["generated"] and spec["build"]["vars"]["nodejs_version"] == "4.3.1"


def test_a_real_library_is_not_a_service(tmp_path):
    spec, = read_real(tmp_path, os.path.join(FIXTURES, "the-t-in-rtf+fluid-pouchdb@8d849d2.qi.yml"))
    assert spec["service"] is False and spec["health"] is None
    assert spec["source"]["dest"] == "/app/gpii-pouchdb" and spec["env_runtime"] == "linux-desktop"
    assert spec["tests"] == ["TMPDIR=/var/tmp yarn test"] and spec["build"]["vars"]["nodejs_yarn_enabled"] is True


def test_templated_setup_is_rendered_with_the_apps_own_keys(tmp_path):
    spec, = read_real(tmp_path, os.path.join(FIXTURES, "amatas+GPII-universal@ac10348.qi.yml"))
    assert "ln -s /app/gpii-universal node_modules/universal" in spec["build"]["setup"]


def test_rpm_install_lines_become_debian_installs(tmp_path):
    spec, = read_real(tmp_path, os.path.join(FIXTURES, "GPII+gpii-pouchdb-lucene@24c0225.qi.yml"))
    joined = " ".join(spec["build"]["setup"])
    assert "openjdk-17-jdk-headless" in joined and "maven" in joined and "yum" not in joined


@pytest.mark.parametrize("key, value, path, expected", [
    ("app_name", "other", ("name",), "other"),
    ("software_stack_version", "lts", ("stack", "version"), "lts"),
    ("software_stack_version", 18, ("stack", "version"), "18"),
    ("env_runtime", "linux-desktop", ("env_runtime",), "linux-desktop"),
    ("git_branches", ["GPII-1579", "master"], ("source", "git", "branch"), "GPII-1579"),
    ("git_repository", "https://example.invalid/x.git", ("source", "git", "repo"), "https://example.invalid/x.git"),
    ("app_tcp_port", 9999, ("run", "port"), 9999),
    ("app_start_script", "bin/www", ("run", "command"), ["node", "bin/www"]),
    ("app_start_service", False, ("service",), False),
    ("setup", ["yarn install"], ("build", "setup"), ["yarn install"]),
    ("commands", ["TMPDIR=/tmp npm test"], ("tests",), ["TMPDIR=/tmp npm test"]),
    ("publishers", [{"cobertura": {"report-file": "coverage/c.xml"}}], ("publishers", 0, "cobertura", "report-file"),
     "coverage/c.xml"),
    ("email", "someone@example.org", ("name",), "web"),
    ("build", {"phases": ["install"]}, ("build", "phases"), ["install"]),
    ("run", {"env": {"A": "b"}}, ("run", "env", "A"), "b"),
    ("run", {"user": "web"}, ("run", "user"), "web"),
    ("health", {"path": "/h", "status": 204}, ("health", "status"), 204),
    ("kubernetes", {"replicas": 2}, ("deploy", "replicas"), 2),
    ("kubernetes", {"service_type": "NodePort"}, ("deploy", "service_type"), "NodePort"),
    ("kubernetes", {"sidecars": [{"name": "proxy", "image": "r/p:1", "pattern": "ambassador"}]},
     ("deploy", "sidecars", 0, "pattern"), "ambassador"),
])
def test_flat_key(tmp_path, key, value, path, expected):
    got = read_apps(make_app(tmp_path / "a", qi=dict(FLAT, **{key: value})))[0]
    for k in path:
        got = got[k]
    assert got == expected


def test_apps_shape_gives_one_spec_per_app(tmp_path):
    (tmp_path / "a" / "lib").mkdir(parents=True)
    qi = {"email": "m@example.org", "env_runtime": "linux-desktop", "apps": [
        {"app_name": "lib", "folder": {"src": "lib", "dest": "/app/lib"}, "run_in": "fedora", "deploy": False,
         "setup": ["yarn install"], "test_cmds": ["yarn test"], "git_branch": "b1", "nodejs_app_git_clone": False},
        {"app_name": "svc", "folder": {"dest": "/app/svc"}, "deploy": True, "app_tcp_port": 8000,
         "app_start_script": "s.js", "env_runtime": "linux"}]}
    lib, svc = read_apps(make_app(tmp_path / "a", qi=qi))
    assert (lib["name"], lib["service"], lib["env_runtime"]) == ("lib", False, "linux-desktop")
    assert lib["source"]["dir"].endswith("/a/lib") and lib["source"]["dest"] == "/app/lib"
    assert lib["tests"] == ["yarn test"] and lib["source"]["git"]["branch"] == "b1"
    assert (svc["name"], svc["service"], svc["env_runtime"], svc["run"]["port"]) == ("svc", True, "linux", 8000)


def test_start_command_falls_back_to_package_json(tmp_path):
    root = make_app(tmp_path / "a", qi={k: v for k, v in FLAT.items() if k != "app_start_script"})
    (tmp_path / "a" / "package.json").write_text(json.dumps({"scripts": {"start": "node bin/www"}}))
    assert read_apps(root)[0]["run"]["command"] == ["/bin/sh", "-c", "node bin/www"]
    (tmp_path / "a" / "package.json").write_text(json.dumps({"main": "lib/server.js"}))
    assert read_apps(root)[0]["run"]["command"] == ["node", "lib/server.js"]


def test_the_published_schema_file_is_the_one_the_reader_validates_with():
    with open(os.path.join(ROOT, "schemas", "qi.schema.json")) as f:
        published = json.load(f)
    # The editors' file picks the shape as the reader does: apps: present or not.
    assert published["if"] == {"required": ["apps"]}
    assert published["definitions"] == json.loads(json.dumps({"apps_file": APPS_FILE, "flat_file": FLAT_FILE}))


@pytest.mark.parametrize("extra, expected", [
    ({"setup": 42}, [".qi.yml:", "key 'setup'", "expected a list, got a number (42)"]),
    ({"setup": ["npm install", 3]}, ["key 'setup[1]'", "expected a string"]),
    ({"app_start_service": "yes please"}, ["key 'app_start_service'", "expected true or false"]),
    ({"deploy": {"replicas": 2}}, ["key 'deploy'", "moved to 'kubernetes:'"]),
    ({"git_branches": "master"}, ["key 'git_branches'", "expected a list"]),
    ({"emial": "x"}, ["key 'emial'", "did you mean 'email'"]),
    ({"env_runtime": "linux-destop"}, ["key 'env_runtime'", "did you mean 'linux-desktop'"]),
    ({"setup": ["sudo yum -y install libfoo-devel"]}, ["key 'setup[0]'", "'libfoo-devel'", "app_image_rpm_map"]),
    ({"app_tcp_port": None}, ["key 'app_tcp_port'", "expected a whole number"]),
    ({"folder": {"dest": "app"}}, ["key 'folder.dest'", "an absolute path"]),
])
def test_wrong_types_are_errors_naming_file_line_and_key(tmp_path, extra, expected):
    with pytest.raises(QiError) as e:
        read_apps(make_app(tmp_path / "a", qi=dict(FLAT, **extra)))
    for part in expected:
        assert part in str(e.value), str(e.value)


def test_a_service_needs_a_port_and_a_start_command(tmp_path):
    with pytest.raises(QiError) as e:
        read_apps(make_app(tmp_path / "a", qi={"app_name": "x", "app_start_service": True, "app_tcp_port": 80}))
    assert "needs a start command" in str(e.value)
    with pytest.raises(QiError) as e:
        read_apps(make_app(tmp_path / "b", qi={"app_name": "x", "deploy": True, "app_start_script": "a.js"}))
    assert "needs a port" in str(e.value) and "app_tcp_port" in str(e.value)


def test_error_in_an_apps_entry_names_its_index(tmp_path):
    qi = "email: m\napps:\n  - app_name: a\n    setup: [npm install]\n  - app_name: b\n    test_cmds: npm test\n"
    with pytest.raises(QiError) as e:
        read_apps(make_app(tmp_path / "a", qi=qi))
    assert "key 'apps[1].test_cmds'" in str(e.value) and ".qi.yml:6" in str(e.value)


def test_duplicate_app_names(tmp_path):
    qi = {"apps": [{"app_name": "a"}, {"app_name": "a"}]}
    with pytest.raises(QiError) as e:
        read_apps(make_app(tmp_path / "a", qi=qi))
    assert "two apps are named 'a'" in str(e.value)
