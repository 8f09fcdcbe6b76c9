"""Bad input gives a clear error naming the file, the key (and line) and what was expected."""
import pytest

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError

from appfolder import BASE_VARS, make_app, read_app

QI = "app_name: web\napp_start_script: app.js\napp_tcp_port: 8000\napp_start_service: true\n"


def error_of(root):
    with pytest.raises(QiError) as e:
        read_app(root)
    return str(e.value)


@pytest.mark.parametrize("text, expected", [
    (QI + "app_nmae: x\n", ["'app_nmae'", "did you mean 'app_name'", ".qi.yml:5"]),
    ("app_name: Web_App\napp_start_script: a\n", ["'app_name'", "DNS-1123", "Web_App"]),
    (QI.replace("8000", "70000"), ["'app_tcp_port'", "from 1 to 65535", "70000"]),
    (QI.replace("8000", "eighty"), ["'app_tcp_port'", "expected a whole number", "got a string ('eighty')"]),
    (QI + "kubernetes:\n  sidecars: {name: x}\n", ["'kubernetes.sidecars'", "expected a list, got a mapping"]),
    (QI + "env_runtime: linx\n", ["'env_runtime'", "did you mean 'linux'"]),
    (QI + "app_name: again\n", ["duplicate key 'app_name'", ".qi.yml:5", "first at line 1"]),
    (QI + "health: {status: 700}\n", ["'health.status'", "from 100 to 599"]),
    (QI + "kubernetes: {service_type: NodePrt}\n", ["'kubernetes.service_type'", "did you mean 'NodePort'"]),
    (QI + "kubernetes: {resources: {limits: {memory: lots}}}\n",
     ["'kubernetes.resources.limits.memory'", "memory quantity"]),
    (QI + "kubernetes: {sidecars: [{name: proxy}]}\n", ["'kubernetes.sidecars[0]'", "missing required key 'image'"]),
    (QI + "run: {env: {'1BAD': x}}\n", ["'run.env'", "expected a mapping"]),
    (QI + "run: {workdir: relative/dir}\n", ["'run.workdir'", "absolute path"]),
    (QI + "kubernetes:\n  replicas: [1]\n", ["'kubernetes.replicas'", "expected a whole number, got a list"]),
    ("- just\n- a list\n", [".qi.yml", "expected a mapping", "got list"]),
    (QI + "kubernetes: {unknown: 1\n", [".qi.yml", "invalid YAML", "starts at line 5"]),
    ("app_name: web\napp_start_service: true\napp_tcp_port: 80\n", ["needs a start command", "app_start_script"]),
    (QI + "kubernetes:\n  config_files: [{name: c, mount_path: /etc/c, files: [a]}]\n",
     ["'kubernetes.config_files[0].files'", "expected a mapping"]),
])
def test_bad_qi_yml(tmp_path, text, expected):
    msg = error_of(make_app(tmp_path / "a", qi=text))
    for part in expected:
        assert part in msg, msg


@pytest.mark.parametrize("extra, expected", [
    ({"nodejs_app_tcp_port": 0}, ["provisioning/vars.yml", "'nodejs_app_tcp_port'", "from 1 to 65535"]),
    ({"nodejs_app_env_vars": 42}, ["'nodejs_app_env_vars'", "expected a mapping"]),
    ({"nodejs_app_install_dir": "opt/app"}, ["'nodejs_app_install_dir'", "absolute path"]),
    ({"nodejs_app_name": "Bad Name"}, ["'nodejs_app_name'", "letters, digits and '-'", "'Bad Name'"]),
    ({"nodejs_app_test_http_status_code": "ok"}, ["'nodejs_app_test_http_status_code'", "whole number"]),
    ({"nodejs_app_commands": "npm install"}, ["'nodejs_app_commands'", "expected a list"]),
])
def test_bad_legacy_vars(tmp_path, extra, expected):
    msg = error_of(make_app(tmp_path / "a", vars_yml=dict(BASE_VARS, **extra)))
    for part in expected:
        assert part in msg, msg


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append("a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10)))
    msg = error_of(make_app(tmp_path / "a", qi="\n".join(lines) + "\n"))
    assert "alias bomb" in msg and ".qi.yml" in msg


def test_recursive_alias(tmp_path):
    assert "recursive YAML alias" in error_of(make_app(tmp_path / "a", qi="a: &x [*x]\n"))


def test_binary_junk(tmp_path):
    msg = error_of(make_app(tmp_path / "a", qi=b"\x00\x01\x02binary"))
    assert ".qi.yml" in msg and "NUL bytes" in msg


def test_not_utf8(tmp_path):
    msg = error_of(make_app(tmp_path / "a", qi=b"app_name: \xff\xfe\n"))
    assert "not UTF-8" in msg


def test_huge_file(tmp_path):
    msg = error_of(make_app(tmp_path / "a", qi="# " + "x" * (2 * 1024 * 1024)))
    assert "larger than" in msg and ".qi.yml" in msg


def test_missing_vars_file_named_by_playbook(tmp_path):
    playbook = [{"hosts": "localhost", "vars_files": ["vars.yml", "missing.yml"]}]
    msg = error_of(make_app(tmp_path / "a", vars_yml=BASE_VARS, playbook=playbook))
    assert "provisioning/playbook.yml" in msg and "'missing.yml'" in msg and "does not exist" in msg


def test_playbook_not_a_list(tmp_path):
    msg = error_of(make_app(tmp_path / "a", vars_yml=BASE_VARS, playbook={"hosts": "x"}))
    assert "provisioning/playbook.yml" in msg and "list of plays" in msg


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "expected at least one of them" in error_of(str(tmp_path / "empty"))


def test_missing_folder(tmp_path):
    assert "does not exist" in error_of(str(tmp_path / "nope"))


def test_no_name(tmp_path):
    msg = error_of(make_app(tmp_path / "a", qi="app_start_script: a.py\n"))
    assert "no application name" in msg and "'app_name'" in msg
