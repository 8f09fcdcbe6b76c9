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
    assert host["ansible_pipelining"] is True
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


@pytest.mark.parametrize("log, named", [
    # npm 11 (GPII/gpii-pouchdb-lucene, 2017): an exact pin the registry no longer serves.
    ("npm error code ETARGET\nnpm error notarget No matching version found for gpii-express@1.0.2.\n", "gpii-express@1.0.2"),
    ("npm error 404 '@gpii/nothing@2.0.0' is not in this registry.\n", "@gpii/nothing@2.0.0"),
    # yarn classic resolving a range (fluid-project/fluid-express-user) and fetching a locked tarball
    # (the-t-in-rtf/fluid-handlebars).
    ('error Couldn\'t find any versions for "gpii-pouchdb" that matches "1.0.0"\n', "gpii-pouchdb@1.0.0"),
    ('error Error: https://registry.example/gpii-express/-/gpii-express-1.0.1.tgz: Request failed "404 Not Found"\n'
     "    at ResponseError.ExtendableBuiltin (/usr/local/lib/qi-node/yarn-classic/lib/cli.js:696:66)\n",
     "gpii-express@1.0.1"),
    ('error Error: https://registry.example/@scope/pkg/-/pkg-0.3.0-dev.1.tgz: Request failed "404 Not Found"\n',
     "@scope/pkg@0.3.0-dev.1"),
])
def test_a_version_the_registry_does_not_serve_is_named(tmp_path, log, named):
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.build_log import hints as _hints
    path = tmp_path / "build.log"
    path.write_text(log)
    hint, = _hints(str(path))
    assert "serves no %s (" % named in hint and "npm view NAME versions" in hint


def test_the_output_tail_leaves_out_stack_frames_and_deprecation_notices():
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.build_log import output_tail
    out = ("yarn install v1.22.22\n(node:1425) [DEP0169] DeprecationWarning: `url.parse()` behavior\n"
           "(Use `node --trace-deprecation ...` to show where the warning was created)\n"
           'error Error: https://r.example/a/-/a-1.0.0.tgz: Request failed "404 Not Found"\n'
           "    at ResponseError.ExtendableBuiltin (/x/cli.js:696:66)\n    at new ResponseError (/x/cli.js:802:124)\n"
           "info Visit https://yarnpkg.com/en/docs/cli/install for documentation about this command.\n")
    assert output_tail(out).splitlines() == [
        "yarn install v1.22.22", 'error Error: https://r.example/a/-/a-1.0.0.tgz: Request failed "404 Not Found"',
        "info Visit https://yarnpkg.com/en/docs/cli/install for documentation about this command."]
    assert output_tail("\n".join(str(i) for i in range(30)), most=3) == "27\n28\n29"


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
