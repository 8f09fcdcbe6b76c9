"""The legacy Dockerfile and Vagrantfile as part of the existing config: what they say, what wins, and the error
when an env lookup names a variable nothing sets."""
import os
import shutil

import pytest

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.release.smoke_test import judge
from ansible_collections.qi.convergence.plugins.plugin_utils.spec.legacy_build_files import (
    forwarded_ports, parse_ansible_command, read_dockerfile, read_vagrantfile, synced_folders, vm_memory_mb)

from appfolder import read_app, write

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "tests", "integration", "fixtures", "legacy-dockerfile-app")
COLLECTIONS = [os.path.join(ROOT, "build", "collections")]


@pytest.fixture
def app(tmp_path, monkeypatch):
    for name in ("EXTRA_VARS_FILE", "INSTALL_DIR", "FIXTURE_SMOKE_TEXT"):
        monkeypatch.delenv(name, raising=False)
    dest = tmp_path / "app"
    shutil.copytree(FIXTURE, dest)
    return dest


def read(app):
    return read_app(str(app), collections_paths=COLLECTIONS)


def test_the_dockerfile_gives_vars_file_install_dir_node_and_phases(app):
    spec = read(app)
    assert spec["source"]["dest"] == "/opt/camel-case-service"  # lookup('env', 'INSTALL_DIR') from its ENV
    assert spec["run"]["env"] == {"NODE_ENV": "production", "CAMELCASESERVICE_TCP_PORT": "8080"}  # vars-docker.yml
    assert spec["stack"]["version"] == "0.10.48"  # FROM inclusivedesign/nodejs:0.10.48
    assert spec["build"]["phases"] == ["install", "configure"]
    assert spec["build"]["env"] == {"INSTALL_DIR": "/opt/camel-case-service", "EXTRA_VARS_FILE": "vars-docker.yml"}
    assert any("vars-docker.yml" in f for f in spec["read_files"])
    notes = "\n".join(spec["notes"])
    assert "playbook provisioning/playbook.yml: from Dockerfile" in notes
    assert "Node.js 0.10.48: from the Dockerfile's FROM" in notes
    assert "EXTRA_VARS_FILE=vars-docker.yml" in notes


def test_a_camel_case_name_is_lower_cased_for_kubernetes_and_kept_for_the_environment(app):
    spec = read(app)
    assert spec["name"] == "camelcaseservice" and spec["legacy_name"] == "CamelCaseService"
    assert "CAMELCASESERVICE_TCP_PORT" in spec["run"]["env"]
    assert "app name CamelCaseService: deployed and tagged as camelcaseservice" in "\n".join(spec["notes"])


def test_without_a_dockerfile_the_vagrantfile_drives_and_drops_the_vm_only_tag(app):
    os.remove(str(app / "Dockerfile"))
    spec = read(app)
    assert spec["run"]["env"]["NODE_ENV"] == "development"  # vars-vagrant.yml
    assert spec["source"]["dest"] == "/home/vagrant/sync"
    assert spec["build"]["phases"] == ["install", "configure"]
    assert "deploy: the cluster starts and checks the app" in "\n".join(spec["notes"])


def test_the_controller_environment_does_not_beat_the_apps_own_dockerfile(app, monkeypatch):
    monkeypatch.setenv("EXTRA_VARS_FILE", "vars-vagrant.yml")
    assert read(app)["run"]["env"]["NODE_ENV"] == "production"


def test_an_env_lookup_nothing_sets_names_the_variable_and_the_candidates(app):
    os.remove(str(app / "Dockerfile"))
    os.remove(str(app / "Vagrantfile"))
    with pytest.raises(QiError) as e:
        read(app)
    msg = str(e.value)
    assert "provisioning/playbook.yml" in msg and "vars_files[0]" in msg
    assert "environment variable EXTRA_VARS_FILE is not set" in msg
    assert "vars-docker.yml, vars-vagrant.yml" in msg


def test_a_name_lower_casing_cannot_fix_fails_naming_the_key(app):
    vars_yml = app / "provisioning" / "vars.yml"
    vars_yml.write_text(vars_yml.read_text().replace("CamelCaseService", "Camel_Case"))
    with pytest.raises(QiError) as e:
        read(app)
    assert "key 'nodejs_app_name'" in str(e.value) and "'Camel_Case'" in str(e.value)


def test_qi_yml_wins_over_the_dockerfile(app):
    write(str(app / ".qi.yml"), {"app_name": "camel", "build": {"phases": ["install"]},
                                 "software_stack_version": "18"})
    spec = read(app)
    assert spec["build"]["phases"] == ["install"] and spec["stack"]["version"] == "18"


@pytest.mark.parametrize("line, expected", [
    ('ansible-playbook docker.yml --tags "install,configure"',
     {"playbook": "docker.yml", "tags": ["install", "configure"], "extra_vars": {}, "env": {}}),
    ("EXTRA_VARS_FILE=vars-vagrant.yml sudo PYTHONUNBUFFERED=1 ansible-playbook /p/site.yml -t=install "
     "-e 'a=1 b=two' --inventory='localhost,'",
     {"playbook": "/p/site.yml", "tags": ["install"], "extra_vars": {"a": "1", "b": "two"},
      "env": {"EXTRA_VARS_FILE": "vars-vagrant.yml", "PYTHONUNBUFFERED": "1"}}),
    ('cd /x && ansible-playbook -i hosts play.yml --extra-vars \'{"n": 2}\' && echo done',
     {"playbook": "play.yml", "tags": None, "extra_vars": {"n": 2}, "env": {}}),
    ("npm install", None),
])
def test_ansible_playbook_command_lines(line, expected):
    assert parse_ansible_command(line) == expected


def test_a_vagrantfile_ansible_provisioner(tmp_path):
    path = str(tmp_path / "Vagrantfile")
    write(path, 'Vagrant.configure(2) do |config|\n  config.vm.provision "ansible_local" do |ansible|\n'
                '    ansible.playbook = "provisioning/vagrant.yml"\n    ansible.tags = ["install", "configure"]\n'
                '    ansible.extra_vars = { target: "vagrant", "port" => "9000" }\n  end\nend\n')
    got = read_vagrantfile(path)
    assert got["playbook"] == "provisioning/vagrant.yml" and got["tags"] == ["install", "configure"]
    assert got["extra_vars"] == {"target": "vagrant", "port": "9000"}


@pytest.mark.parametrize("image, version", [
    ("inclusivedesign/nodejs:4.3.1", "4.3.1"), ("node:12.18.3-alpine", "12.18.3"), ("node:lts", "lts"),
    ("docker.io/library/node:18", "18"), ("centos:7", None), ("inclusivedesign/nodejs", None)])
def test_node_version_of_a_from_line(tmp_path, image, version):
    path = str(tmp_path / "Dockerfile")
    write(path, "FROM %s\nRUN true\n" % image)
    assert read_dockerfile(path)["node_version"] == version


def test_a_non_ansible_dockerfile_gives_only_its_env_copy_and_from(tmp_path):
    path = str(tmp_path / "Dockerfile")
    write(path, "FROM node:12.18.3-alpine\nENV A=1\nWORKDIR /app\nCOPY --chown=node . .\nRUN npm install\n")
    got = read_dockerfile(path)
    assert got["ansible"] is False and got["playbook"] is None
    assert got["env"] == {"A": "1"} and got["install_dir"] == "/app" and got["node_version"] == "12.18.3"


@pytest.mark.parametrize("status, body, verdict", [
    (200, "all ok here", None),
    (503, "down", "answered 503 (expected 200): 'down'"),
    (200, "nothing", "answered 200 without the text 'ok here': 'nothing'"),
])
def test_smoke_test_verdicts(status, body, verdict):
    assert judge({"path": "/", "port": 1, "status": 200, "text": "ok here"}, status, body) == verdict


@pytest.mark.parametrize("text, mb", [
    ('ram = ENV["VM_RAM"] || 1048\n  vm.customize ["modifyvm", :id, "--memory", ram]\n', 1048),
    ('vm.customize ["modifyvm", :id, "--memory", 2048]\n', 2048),
    ('config.vm.provider "virtualbox" do |vb|\n  vb.memory = "4096"\nend\n', 4096),
    ('config.vm.box = "centos/7"\n', None)])
def test_the_vms_memory_in_a_vagrantfile(text, mb):
    assert vm_memory_mb(text) == mb


def test_the_vms_memory_is_the_default_memory_limit(app):
    vagrantfile = app / "Vagrantfile"
    vagrantfile.write_text(vagrantfile.read_text().replace(
        '  config.vm.box', '  config.vm.provider :virtualbox do |vm|\n    vm.customize ["modifyvm", :id, "--memory", 1024]'
        '\n  end\n  config.vm.box'))
    spec = read(app)
    assert spec["deploy"]["resources"]["limits"]["memory"] == "1024Mi"
    assert "memory limit 1024Mi: the memory of the VM in the Vagrantfile" in "\n".join(spec["notes"])


def test_the_port_of_a_legacy_build_when_the_provisioning_names_none(app):
    vars_yml = app / "provisioning" / "vars.yml"
    vars_yml.write_text(vars_yml.read_text().replace("nodejs_app_tcp_port: 8080", ""))
    dockerfile = app / "Dockerfile"
    assert read(app)["run"]["port"] == 8080  # the Dockerfile's EXPOSE 8080
    dockerfile.write_text(dockerfile.read_text().replace("EXPOSE 8080", "EXPOSE 8080 9090"))
    with pytest.raises(QiError) as e:
        read(app)
    assert "set app_tcp_port (the Dockerfile names several: 8080, 9090)" in str(e.value)


def test_forwarded_guest_ports_of_a_vagrantfile():
    text = ('guest_tcp_port = ENV["VM_GUEST_TCP_PORT"] || ansible_vars["nodejs_app_tcp_port"] || 8080\n'
            'config.vm.network "forwarded_port", guest: guest_tcp_port, host: 1\n'
            'config.vm.network "forwarded_port", guest: 19531, host: 19531\n'
            '#config.vm.network "forwarded_port", guest: 7000, host: 7000\n'
            'config.vm.network :forwarded_port, guest: 5984, host: 5984\n')
    assert forwarded_ports(text) == [8080, 5984]


def test_synced_folders_resolve_ruby_variables_and_skip_disabled_ones():
    text = ('app_directory = "/home/vagrant/sync"\n# config.vm.synced_folder "no", "/no"\n'
            'config.vm.synced_folder ".", "/vagrant", disabled: true\n'
            'config.vm.synced_folder "../..", "#{app_directory}"\n'
            "config.vm.synced_folder('src', '/srv/src', type: 'rsync')\n")
    assert synced_folders(text) == [("../..", "/home/vagrant/sync"), ("src", "/srv/src")]
