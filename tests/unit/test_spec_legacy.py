"""The legacy provisioning variables, one by one, and the .qi.yml keys, one by one."""
import pytest

from ansible_collections.qi.convergence.plugins.module_utils.spec import read_app

from appfolder import BASE_VARS, make_app


def legacy(tmp_path, **extra):
    return read_app(make_app(tmp_path / "app", vars_yml=dict(BASE_VARS, **extra)))


@pytest.mark.parametrize("var, value, path, expected", [
    ("nodejs_app_name", "ul-website", ("name",), "ul-website"),
    ("nodejs_app_tcp_port", 9090, ("run", "port"), 9090),
    ("nodejs_app_tcp_port", "9090", ("run", "port"), 9090),
    ("nodejs_app_start_script", "bin/www", ("run", "command"), ["node", "bin/www"]),
    ("nodejs_app_install_dir", "/srv/hello", ("source", "dest"), "/srv/hello"),
    ("nodejs_app_install_dir", "/srv/hello", ("run", "workdir"), "/srv/hello"),
    ("nodejs_app_env_vars", ["A=1", "B=x=y"], ("run", "env"), {"A": "1", "B": "x=y"}),
    ("nodejs_app_env_vars", {"A": 1, "B": True}, ("run", "env"), {"A": "1", "B": "true"}),
    ("nodejs_app_username", "svc", ("run", "user"), "svc"),
    ("nodejs_app_groupname", "svcgrp", ("run", "group"), "svcgrp"),
    ("nodejs_version", 18, ("stack", "version"), "18"),
    ("nodejs_app_test_http_endpoint", "/health", ("health", "path"), "/health"),
    ("nodejs_app_test_http_endpoint", "http://localhost:9000/ping", ("health", "port"), 9000),
    ("nodejs_app_test_http_endpoint", "http://localhost:9000/ping", ("health", "path"), "/ping"),
    ("nodejs_app_test_string", "pong", ("health", "text"), "pong"),
])
def test_legacy_variable(tmp_path, var, value, path, expected):
    spec = legacy(tmp_path, **{var: value, "nodejs_app_test_http_endpoint": "/"}) if var not in (
        "nodejs_app_test_http_endpoint",) else legacy(tmp_path, **{var: value})
    got = spec
    for key in path:
        got = got[key]
    assert got == expected


def test_legacy_status_code(tmp_path):
    spec = legacy(tmp_path, nodejs_app_test_http_endpoint="/", nodejs_app_test_http_status_code=204)
    assert spec["health"]["status"] == 204


def test_legacy_git_clone(tmp_path):
    spec = legacy(tmp_path, nodejs_app_git_clone=True, nodejs_app_git_repo="https://example.invalid/a.git",
                  nodejs_app_git_branch="v2")
    assert spec["source"]["git"] == {"repo": "https://example.invalid/a.git", "branch": "v2"}


def test_legacy_commands_and_packages_are_accepted(tmp_path):
    spec = legacy(tmp_path, nodejs_app_commands=["npm ci"], nodejs_app_rpm_packages=["gcc"],
                  nodejs_app_npm_packages=[{"name": "pm2"}])
    assert spec["name"] == "hello"


def test_legacy_templates_between_vars_resolve(tmp_path):
    spec = legacy(tmp_path, nodejs_app_install_dir="/opt/{{ nodejs_app_name }}")
    assert spec["source"]["dest"] == "/opt/hello"


def test_legacy_playbook_names_vars_files_and_roles(tmp_path):
    spec = legacy(tmp_path)
    assert spec["build"]["roles"] == ["qi.convergence.nodejs_app"]
    assert spec["build"]["hosts"] == ["localhost"]
    assert spec["build"]["vars_files"][0].endswith("provisioning/vars.yml")
    assert spec["stack"]["name"] == "nodejs"


def test_requirements_roles_are_read(tmp_path):
    spec = read_app(make_app(tmp_path / "a", vars_yml=BASE_VARS,
                             requirements=[{"src": "gpii.nodejs", "version": "1.0"}, "geerlingguy.git"]))
    assert spec["build"]["requirements"] == [{"src": "gpii.nodejs", "version": "1.0"}, {"name": "geerlingguy.git"}]


QI_BASE = {"app_name": "web", "app_start_script": "app.py", "software_stack": "python", "app_tcp_port": 8000}


def qi_only(tmp_path, **extra):
    return read_app(make_app(tmp_path / "app", qi=dict(QI_BASE, **extra)))


@pytest.mark.parametrize("key, value, path, expected", [
    ("app_name", "other", ("name",), "other"),
    ("software_stack", "python", ("run", "command"), ["python3", "app.py"]),
    ("software_stack_version", "3.11", ("stack", "version"), "3.11"),
    ("env_runtime", "linux-desktop", ("env_runtime",), "linux-desktop"),
    ("setup", ["apt-get update"], ("build", "setup"), ["apt-get update"]),
    ("setup", "echo one", ("build", "setup"), ["echo one"]),
    ("app_start_service", "web.service", ("service_name",), "web.service"),
    ("app_tcp_port", 9000, ("run", "port"), 9000),
    ("test", ["make test"], ("tests",), ["make test"]),
    ("build", {"phases": ["install"]}, ("build", "phases"), ["install"]),
    ("build", {"source_dest": "/srv/web"}, ("source", "dest"), "/srv/web"),
    ("build", {"overrides": {"x": 1}}, ("build", "overrides"), {"x": 1}),
    ("run", {"command": ["gunicorn", "app"]}, ("run", "command"), ["gunicorn", "app"]),
    ("run", {"args": ["--debug"]}, ("run", "args"), ["--debug"]),
    ("run", {"user": "web"}, ("run", "user"), "web"),
    ("run", {"env": {"A": "b"}}, ("run", "env"), {"A": "b"}),
    ("run", {"writable_paths": ["/var/cache/web"]}, ("run", "writable_paths"), ["/var/cache/web"]),
    ("health", {"path": "/h", "status": 204}, ("health", "status"), 204),
    ("deploy", {"replicas": 2}, ("deploy", "replicas"), 2),
    ("deploy", {"service_type": "NodePort"}, ("deploy", "service_type"), "NodePort"),
    ("deploy", {"ingress": {"host": "web.example"}}, ("deploy", "ingress", "host"), "web.example"),
    ("deploy", {"secrets": [{"name": "db", "env": ["DB_PASSWORD"]}]}, ("deploy", "secrets", 0, "env"), ["DB_PASSWORD"]),
    ("deploy", {"sidecars": [{"name": "proxy", "image": "r/p:1", "pattern": "ambassador"}]},
     ("deploy", "sidecars", 0, "pattern"), "ambassador"),
    ("deploy", {"init_containers": [{"name": "migrate", "image": "r/m:1"}]}, ("deploy", "init_containers", 0, "name"),
     "migrate"),
    ("deploy", {"config_files": [{"name": "cfg", "mount_path": "/etc/web", "files": {"a.ini": "x=1"}}]},
     ("deploy", "config_files", 0, "files"), {"a.ini": "x=1"}),
])
def test_qi_key(tmp_path, key, value, path, expected):
    got = qi_only(tmp_path, **{key: value})
    for k in path:
        got = got[k]
    assert got == expected


def test_defaults(tmp_path):
    spec = qi_only(tmp_path)
    assert spec["build"]["phases"] == ["install", "configure"]
    assert spec["deploy"]["replicas"] == 1
    assert spec["deploy"]["service_type"] == "ClusterIP"
    assert spec["deploy"]["resources"]["limits"]["memory"] == "256Mi"
    assert spec["source"]["dest"] == "/opt/web"
    assert spec["run"]["user"] == "web"
    assert spec["run"]["writable_paths"] == ["/tmp"]
    assert spec["health"] is None
    assert spec["env_runtime"] == "linux"


def test_health_defaults_to_app_port_and_200(tmp_path):
    spec = qi_only(tmp_path, health={"path": "/up"})
    assert spec["health"] == {"path": "/up", "port": 8000, "status": 200, "text": None, "initial_delay": 0}


def test_qi_yml_wins_over_vars_yml(tmp_path):
    root = make_app(tmp_path / "a", vars_yml=dict(BASE_VARS, nodejs_app_env_vars=["A=vars", "B=vars"]),
                    qi={"app_tcp_port": 9999, "app_name": "renamed", "run": {"env": {"A": "qi"}}})
    spec = read_app(root)
    assert spec["run"]["port"] == 9999
    assert spec["name"] == "renamed"
    assert spec["run"]["env"] == {"A": "qi", "B": "vars"}


def test_play_vars_win_over_vars_files(tmp_path):
    playbook = [{"hosts": "localhost", "vars_files": ["vars.yml"], "vars": {"nodejs_app_tcp_port": 7000}}]
    spec = read_app(make_app(tmp_path / "a", vars_yml=BASE_VARS, playbook=playbook))
    assert spec["run"]["port"] == 7000


def test_later_vars_file_wins(tmp_path):
    playbook = [{"hosts": "localhost", "vars_files": ["vars.yml", "override.yml"]}]
    root = make_app(tmp_path / "a", vars_yml=BASE_VARS, playbook=playbook)
    (tmp_path / "a" / "provisioning" / "override.yml").write_text("nodejs_app_tcp_port: 7100\n")
    assert read_app(root)["run"]["port"] == 7100


def test_vars_yml_alone_is_enough(tmp_path):
    spec = read_app(make_app(tmp_path / "a", vars_yml=BASE_VARS, playbook=None))
    assert spec["name"] == "hello" and spec["build"]["playbook"] is None


def test_examples_read(tmp_path):
    import os
    root = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
    names = sorted(read_app(os.path.join(root, d))["name"] for d in os.listdir(root))
    assert names == ["nodejs-hello", "python-notes"]
