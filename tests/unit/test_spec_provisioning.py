"""Legacy provisioning read as Ansible reads it: variables one by one, precedence, templating, import_playbook,
role defaults, the playbook choice and the errors of each."""
import os

import pytest

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.spec.reader import read_apps

from appfolder import BASE_VARS, make_app, read_app, write

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = [os.path.join(ROOT, "build", "collections")]


def legacy(tmp_path, **extra):
    return read_app(make_app(tmp_path / "app", vars_yml=dict(BASE_VARS, **extra)))


def app_with(tmp_path, playbook, files):
    root = tmp_path / "app"
    write(str(root / "provisioning" / "playbook.yml"), playbook)
    for name, content in files.items():
        write(str(root / "provisioning" / name), content)
    return str(root)


@pytest.mark.parametrize("var, value, path, expected", [
    ("nodejs_app_name", "ul-website", ("name",), "ul-website"),
    ("nodejs_app_tcp_port", 9090, ("run", "port"), 9090),
    ("nodejs_app_tcp_port", "9090", ("run", "port"), 9090),
    ("nodejs_app_start_script", "bin/www", ("run", "command"), ["node", "bin/www"]),
    ("nodejs_app_install_dir", "/srv/hello", ("source", "dest"), "/srv/hello"),
    ("nodejs_app_install_dir", "/srv/hello", ("run", "workdir"), "/srv/hello"),
    ("nodejs_app_env_vars", ["A=1", "B=x=y", 'C="quoted"'], ("run", "env"),
     {"A": "1", "B": "x=y", "C": "quoted", "HELLO_TCP_PORT": "8080"}),
    ("nodejs_app_username", "svc", ("run", "user"), "svc"),
    ("nodejs_app_groupname", "svcgrp", ("run", "group"), "svcgrp"),
    ("nodejs_version", 18, ("stack", "version"), "18"),
    # The role's `test` tag: a smoke test after the rollout, not a probe.
    ("nodejs_app_test_http_endpoint", "/health", ("smoke_test", "path"), "/health"),
    ("nodejs_app_test_http_endpoint", "http://localhost:9000/ping", ("smoke_test", "port"), 9000),
    ("nodejs_app_test_string", "pong", ("smoke_test", "text"), "pong"),
    ("nodejs_app_test_http_status_code", "204", ("smoke_test", "status"), 204),
    ("nodejs_app_test_http_endpoint", "/health", ("health", "tcp"), True),
])
def test_legacy_variable(tmp_path, var, value, path, expected):
    extra = dict({"nodejs_app_test_http_endpoint": "/", "nodejs_app_test_http_status_code": 200,
                  "nodejs_app_test_string": "ok"}, **{var: value})
    got = legacy(tmp_path, **extra)
    for key in path:
        got = got[key]
    assert got == expected


def test_no_smoke_test_unless_endpoint_status_and_text_are_all_set(tmp_path):
    assert legacy(tmp_path, nodejs_app_test_http_endpoint="/health", nodejs_app_test_string="ok")["smoke_test"] is None


def test_the_port_variable_the_real_role_exported(tmp_path):
    assert legacy(tmp_path)["run"]["env"] == {"HELLO_TCP_PORT": "8080"}


def test_vars_files_win_over_play_vars_as_in_ansible(tmp_path):
    play = {"hosts": "localhost", "vars_files": ["vars.yml"], "vars": {"nodejs_app_tcp_port": 7000, "nodejs_app_name": "x"}}
    root = app_with(tmp_path, [play], {"vars.yml": BASE_VARS})
    spec = read_app(root)
    assert spec["run"]["port"] == 8080 and spec["name"] == "hello"


def test_later_vars_file_wins(tmp_path):
    root = app_with(tmp_path, [{"hosts": "localhost", "vars_files": ["vars.yml", "override.yml"]}],
                    {"vars.yml": BASE_VARS, "override.yml": {"nodejs_app_tcp_port": 7100}})
    assert read_app(root)["run"]["port"] == 7100


def test_play_vars_map_qi_keys_with_jinja_as_the_qi_vagrantfile_did(tmp_path):
    root = tmp_path / "app"
    write(str(root / ".qi.yml"), {"app_name": "mapped", "app_tcp_port": 9081, "app_start_script": "m.js",
                                  "software_stack_version": "4.3.1", "setup": ["npm install"],
                                  "app_start_service": True})
    write(str(root / "provisioning" / "playbook.yml"), [{
        "hosts": "localhost", "user": "root", "vars_files": ["../.qi.yml"],
        "vars": {"nodejs_app_name": "{{ app_name }}", "nodejs_version": "{{ software_stack_version }}",
                 "nodejs_app_commands": "{{ setup }}", "nodejs_app_start_script": "{{ app_start_script }}",
                 "nodejs_app_tcp_port": "{{ app_tcp_port }}", "nodejs_app_git_clone": False},
        "roles": ["facts", "nodejs"]}])
    spec = read_app(str(root), collections_paths=COLLECTIONS)
    assert spec["build"]["roles"] == ["facts", "nodejs"] and spec["run"]["port"] == 9081
    assert spec["build"]["setup"] == []  # the playbook runs them, through nodejs_app_commands
    assert spec["run"]["env"] == {"MAPPED_TCP_PORT": "9081"} and spec["run"]["user"] == "nodejs"


def test_templated_vars_files_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("QI_TEST_TARGET", "docker")
    root = app_with(tmp_path, [{"hosts": "localhost", "vars_files": [
        "vars.yml", "{{ lookup('env', 'QI_TEST_TARGET') }}-vars.yml"]}],
        {"vars.yml": BASE_VARS, "docker-vars.yml": {"nodejs_app_start_script": "docker.js"}})
    assert read_app(root)["run"]["command"] == ["node", "docker.js"]


def test_first_found_vars_files_list(tmp_path):
    root = app_with(tmp_path, [{"hosts": "localhost", "vars_files": ["vars.yml", ["missing.yml", "found.yml"]]}],
                    {"vars.yml": BASE_VARS, "found.yml": {"nodejs_app_tcp_port": 7300}})
    assert read_app(root)["run"]["port"] == 7300


def test_import_playbook_is_followed(tmp_path):
    root = app_with(tmp_path, [{"import_playbook": "base.yml"}],
                    {"base.yml": [{"hosts": "web", "vars_files": ["vars.yml"], "roles": ["nodejs"]}],
                     "vars.yml": BASE_VARS})
    spec = read_app(root)
    assert spec["name"] == "hello" and spec["build"]["hosts"] == ["web"] and spec["build"]["roles"] == ["nodejs"]


def test_a_2016_play_level_include_is_followed_like_import_playbook(tmp_path):
    root = app_with(tmp_path, [{"include": "base.yml app=x"}],
                    {"base.yml": [{"hosts": "web", "vars_files": ["vars.yml"], "roles": ["nodejs"]}],
                     "vars.yml": BASE_VARS})
    spec = read_app(root)
    assert spec["build"]["hosts"] == ["web"] and spec["build"]["roles"] == ["nodejs"]


def test_role_defaults_are_the_lowest_layer(tmp_path):
    root = app_with(tmp_path, [{"hosts": "localhost", "vars_files": ["vars.yml"], "roles": ["myrole"]}], {
        "vars.yml": {"nodejs_app_name": "hello", "nodejs_app_start_script": "s.js"},
        "roles/myrole/defaults/main.yml": {"nodejs_app_tcp_port": 6100, "nodejs_app_start_script": "default.js"}})
    spec = read_app(root)
    assert spec["run"]["port"] == 6100 and spec["run"]["command"] == ["node", "s.js"]


def test_values_from_env_lookups_and_references(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTALL_DIR", "/srv/from-env")
    root = app_with(tmp_path, [{"hosts": "localhost", "vars_files": ["vars.yml"]}], {"vars.yml": dict(
        BASE_VARS, nodejs_app_install_dir="{{ lookup('env', 'INSTALL_DIR') }}",
        nodejs_app_env_vars=["HELLO_URL=http://localhost:{{ nodejs_app_tcp_port }}"])})
    spec = read_app(root)
    assert spec["source"]["dest"] == "/srv/from-env"
    assert spec["run"]["env"]["HELLO_URL"] == "http://localhost:8080"
    assert "{{" not in repr(spec)


def test_an_empty_env_lookup_means_unset(tmp_path, monkeypatch):
    monkeypatch.delenv("INSTALL_DIR", raising=False)
    root = app_with(tmp_path, [{"hosts": "localhost", "vars_files": ["vars.yml"]}], {"vars.yml": dict(
        BASE_VARS, nodejs_app_install_dir="{{ lookup('env', 'INSTALL_DIR') }}")})
    assert read_app(root)["source"]["dest"] == "/opt/hello"


def test_an_undefined_variable_names_the_file_and_the_variable(tmp_path):
    root = app_with(tmp_path, [{"hosts": "localhost", "vars_files": ["vars.yml"]}], {"vars.yml": dict(
        BASE_VARS, nodejs_app_start_script="{{ entry_point }}")})
    with pytest.raises(QiError) as e:
        read_app(root)
    assert "provisioning/vars.yml" in str(e.value) and "'nodejs_app_start_script'" in str(e.value)
    assert "entry_point" in str(e.value)


def test_playbook_choice_order_and_the_list_when_none_matches(tmp_path):
    root = app_with(tmp_path, [{"hosts": "localhost", "vars_files": ["vars.yml", "docker-vars.yml"]}],
                    {"vars.yml": BASE_VARS, "docker-vars.yml": {"nodejs_app_start_script": "docker.js"}})
    os.rename(os.path.join(root, "provisioning", "playbook.yml"), os.path.join(root, "provisioning", "docker.yml"))
    assert read_app(root)["run"]["command"] == ["node", "docker.js"]
    os.rename(os.path.join(root, "provisioning", "docker.yml"), os.path.join(root, "provisioning", "vagrant.yml"))
    write(os.path.join(root, "provisioning", "deploy-k8s.yml"), [{"hosts": "all", "tasks": []}])
    with pytest.raises(QiError) as e:
        read_app(root)
    assert "playbooks found: deploy-k8s.yml, vagrant.yml" in str(e.value) and "build.playbook" in str(e.value)


def test_build_playbook_from_qi_yml(tmp_path):
    root = app_with(tmp_path, [{"hosts": "localhost", "vars_files": ["vars.yml"]}], {"vars.yml": BASE_VARS})
    os.rename(os.path.join(root, "provisioning", "playbook.yml"), os.path.join(root, "provisioning", "vagrant.yml"))
    write(os.path.join(root, ".qi.yml"), {"app_name": "hello", "app_start_service": True,
                                          "build": {"playbook": "provisioning/vagrant.yml"}})
    spec = read_app(root)
    assert spec["build"]["playbook"].endswith("vagrant.yml") and spec["run"]["port"] == 8080


def test_requirements_roles_are_read(tmp_path):
    spec = read_app(make_app(tmp_path / "a", vars_yml=BASE_VARS, requirements=[
        {"src": "https://github.com/idi-ops/ansible-nodejs", "name": "nodejs"}, "geerlingguy.git"]))
    assert spec["build"]["requirements"] == [{"src": "https://github.com/idi-ops/ansible-nodejs", "name": "nodejs"},
                                             {"name": "geerlingguy.git"}]


def test_rpm_lines_in_the_roles_commands_are_translated_for_the_build(tmp_path):
    spec = legacy(tmp_path, nodejs_app_commands=["sudo yum -y install maven.noarch", "npm install"])
    assert spec["build"]["vars"]["nodejs_app_commands"][0].startswith("sudo sh -c 'apt-get update")
    assert spec["build"]["vars"]["nodejs_app_commands"][1] == "npm install"


def test_vars_yml_alone_is_enough(tmp_path):
    spec = read_app(make_app(tmp_path / "a", vars_yml=BASE_VARS, playbook=None))
    assert spec["name"] == "hello" and spec["build"]["generated"] is True


@pytest.mark.parametrize("extra, expected", [
    ({"nodejs_app_tcp_port": 0}, ["provisioning/vars.yml", "'nodejs_app_tcp_port'", "from 1 to 65535"]),
    ({"nodejs_app_env_vars": ["1BAD=x"]}, ["'nodejs_app_env_vars'"]),
    ({"nodejs_app_install_dir": "opt/app"}, ["'nodejs_app_install_dir'", "absolute path"]),
    ({"nodejs_app_name": "Bad Name"}, ["'nodejs_app_name'", "letters, digits and '-'", "'Bad Name'"]),
    ({"nodejs_app_test_http_status_code": "ok"}, ["'nodejs_app_test_http_status_code'", "whole number"]),
])
def test_bad_legacy_vars(tmp_path, extra, expected):
    with pytest.raises(QiError) as e:
        legacy(tmp_path, **extra)
    for part in expected:
        assert part in str(e.value), str(e.value)


def test_examples_read():
    root = os.path.join(ROOT, "examples")
    names = sorted(s["name"] for d in os.listdir(root)
                   for s in read_apps(os.path.join(root, d), collections_paths=COLLECTIONS))
    assert "nodejs-hello" in names and "greeter" in names and "text-utils" in names


def test_without_a_start_script_the_legacy_role_started_nothing_so_it_is_a_library(tmp_path):
    vars_yml = {"nodejs_app_name": "gpii-express", "nodejs_version": "0.10.40", "nodejs_app_commands": ["npm install"]}
    root = make_app(tmp_path / "app", vars_yml=vars_yml)
    write(os.path.join(root, "package.json"), '{"name": "gpii-express", "main": "index.js"}')
    spec = read_app(root)
    assert spec["service"] is False and spec["run"]["command"] == ["node", "index.js"]


def test_a_provisioning_that_names_no_app_takes_package_json_s_name(tmp_path):
    play = [{"hosts": "localhost", "vars_files": ["vars.yml"], "roles": ["nginx-static"]}]
    root = make_app(tmp_path / "app", vars_yml={"nginx_static_base_path": "/srv/www"}, playbook=play)
    write(os.path.join(root, "package.json"), '{"name": "@gpii/qi-dashboard-frontend", "version": "0.1.0"}')
    assert read_app(root)["name"] == "qi-dashboard-frontend"


def test_the_roles_port_variable_wins_over_an_empty_one_from_an_unset_env_lookup(tmp_path):
    spec = legacy(tmp_path, nodejs_app_env_vars=['HELLO_TCP_PORT=""', "A=1"])
    assert spec["run"]["env"] == {"HELLO_TCP_PORT": "8080", "A": "1"}
