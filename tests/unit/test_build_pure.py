"""Pure parts of the image build: fingerprint, committed config, inventory for the build container."""
import os

import pytest

from ansible_collections.qi.convergence.plugins.plugin_utils.image.fingerprint import fingerprint
from ansible_collections.qi.convergence.plugins.plugin_utils.image.playbook_run import inventory as _inventory
from ansible_collections.qi.convergence.plugins.plugin_utils.image.config import FINGERPRINT_LABEL, commit_config

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "nodejs-hello")
from appfolder import read_app


def test_fingerprint_follows_content(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    first = fingerprint([str(tmp_path)], {"phases": ["install"]})
    assert fingerprint([str(tmp_path)], {"phases": ["install"]}) == first
    assert fingerprint([str(tmp_path)], {"phases": ["configure"]}) != first
    (tmp_path / "a.txt").write_text("two")
    assert fingerprint([str(tmp_path)], {"phases": ["install"]}) != first


def test_fingerprint_skips_dependency_folders(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    first = fingerprint([str(tmp_path)], {})
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.js").write_text("junk")
    assert fingerprint([str(tmp_path)], {}) == first


def test_commit_config_from_legacy_vars():
    spec = read_app(EXAMPLE)
    conf = commit_config(spec, 999, 998, "f" * 64, "2026-01-01T00:00:00Z", {"PATH": "/usr/bin"})
    assert conf["User"] == "999:998"
    assert conf["Cmd"] == ["node", "server.js"] and conf["WorkingDir"] == "/opt/nodejs-hello"
    assert "GREETING=Hello from provisioning" in conf["Env"] and "PATH=/usr/bin" in conf["Env"]
    assert conf["ExposedPorts"] == {"8080/tcp": {}}
    assert "/healthz" in conf["Healthcheck"]["Test"][-1]
    assert conf["Labels"]["org.opencontainers.image.title"] == "nodejs-hello"
    assert conf["Labels"][FINGERPRINT_LABEL] == "f" * 64


def test_build_inventory_maps_every_host_pattern_to_the_container():
    spec = {"build": {"hosts": ["localhost", "webservers:&prod", "all"]}}
    inv = _inventory(spec, "qi-build-x", {"qi_container": True})
    host = inv["all"]["hosts"]["localhost"]
    assert host["ansible_connection"] == "community.docker.docker" and host["ansible_host"] == "qi-build-x"
    assert sorted(inv["all"]["children"]) == ["prod", "webservers"]
    assert inv["all"]["vars"] == {"qi_container": True}


def test_base_identity_is_what_the_base_is_made_of_not_its_id():
    from types import SimpleNamespace
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.build_inputs import base_identity
    content = {"io.qi-convergence.base-content": "debian-12-minbase-abc"}
    assert base_identity(SimpleNamespace(id="sha256:1", labels=content)) == "debian-12-minbase-abc"
    assert base_identity(SimpleNamespace(id="sha256:2", labels=content)) == "debian-12-minbase-abc"
    desktop = dict(content, **{"io.qi-convergence.desktop-of": "sha256:1"})
    assert base_identity(SimpleNamespace(id="sha256:3", labels=desktop)).startswith("debian-12-minbase-abc+desktop(")
    assert base_identity(SimpleNamespace(id="sha256:4", labels={})) == "sha256:4"


@pytest.mark.parametrize("log, named", [
    # npm 2 cloning a git URL dependency (GPII/first-discovery-server's first-discovery).
    ("npm ERR! git clone --template=/tmp/x --mirror https://github.com/GPII/first-discovery.git /tmp/y: fatal: "
     "unable to access 'https://github.com/GPII/first-discovery.git/': Could not resolve host: github.com\n",
     "https://github.com/GPII/first-discovery.git"),
    # npm 11 fetching an owner/repo#ref dependency's tarball (simonbates/fluid-authoring's chartAuthoring).
    ("npm error network request to https://codeload.github.com/amb26/chartAuthoring/tar.gz/ed1d3a1 failed, reason: "
     "getaddrinfo ENOTFOUND codeload.github.com\n", "https://codeload.github.com/amb26/chartAuthoring/tar.gz/ed1d3a1"),
])
def test_a_git_hosted_npm_dependency_is_named_as_unreachable(tmp_path, log, named):
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.build_log import hints as _hints
    path = tmp_path / "build.log"
    path.write_text(log)
    hint, = _hints(str(path))
    assert named in hint and "not reachable from this machine" in hint


def test_a_failed_handler_is_named_not_the_task_before_it(tmp_path):
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.build_log import failure_lines
    path = tmp_path / "build.log"
    path.write_text("TASK [role : Say something]\nok: [localhost]\nRUNNING HANDLER [role : Restart it]\n"
                    "fatal: [localhost]: FAILED! => {\"msg\": \"no systemctl\"}\n")
    assert failure_lines(str(path)) == ['RUNNING HANDLER [role : Restart it] fatal: [localhost]: FAILED! => {"msg": "no systemctl"}']


def test_an_excluded_folder_is_neither_fingerprinted_nor_copied_into_the_image(tmp_path):
    import io
    import tarfile
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.container import source_tar
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.fingerprint import fingerprint
    (tmp_path / "provisioning").mkdir()
    (tmp_path / "provisioning" / "loader-vars.yml").write_text("sets: carla\n")
    (tmp_path / "gpii.js").write_text("// app\n")
    root = str(tmp_path)
    before = fingerprint([root], {}, {root: ["provisioning"]})
    (tmp_path / "provisioning" / "loader-vars.yml").write_text("sets: carla,anna\n")
    assert fingerprint([root], {}, {root: ["provisioning"]}) == before
    assert fingerprint([root], {}) != fingerprint([root], {}, {root: ["provisioning"]})
    names = tarfile.open(fileobj=io.BytesIO(source_tar(root, "/home/vagrant/sync", ["provisioning"]))).getnames()
    assert "home/vagrant/sync/gpii.js" in names and not [n for n in names if "provisioning" in n]


def test_a_removed_include_names_every_file_that_uses_it(tmp_path):
    """A 2016-era role (GPII's preferences-server, flow-manager) says `- include: deploy.yml` with tags; ansible-core
    2.16 removed it and its own error names no file."""
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.build_log import hints as _hints
    tasks = tmp_path / "roles" / "legacy-server" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text("---\n# include: not this comment's\n\n- include: deploy.yml\n  tags:\n    - deploy\n")
    (tasks / "deploy.yml").write_text("---\n- name: Deploy\n  ansible.builtin.include_tasks: other.yml\n")
    play = tmp_path / "provisioning"
    play.mkdir()
    (play / "site.yml").write_text("---\n- include: server.yml\n")
    log = tmp_path / "build.log"
    log.write_text("[ERROR]: The 'ansible.builtin.include' action plugin has been removed. Use include_tasks or "
                   "import_tasks instead.\n")
    hint, = _hints(str(log), [str(play), str(tmp_path / "roles")])
    assert "ansible-core 2.16 removed: %s:2, %s:4." % (play / "site.yml", tasks / "main.yml") in hint
    assert "`import_tasks:`" in hint and "`import_playbook:`" in hint and "deploy.yml:" not in hint
