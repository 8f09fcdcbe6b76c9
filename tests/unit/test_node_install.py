"""qi.convergence.node_install: Node.js, npm and yarn unpacked whole or not at all, linked into a prefix, and a
second run (or check mode) that changes nothing; also as Ansible runs it, action plugin and module together."""
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.module_utils.node_install import (
    ensure_link, missing, npmrc_text, pending, planned_links, unpack)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "build", "collections")


def archive(path, files):
    """A registry-style tarball: every file under package/, some owner-only as real ones have."""
    with tarfile.open(path, "w:gz") as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo("package/" + name)
            info.size, info.mode, info.uid, info.uname = len(data), mode, 1234, "someone"
            tar.addfile(info, io.BytesIO(data))
    return str(path)


@pytest.fixture
def archives(tmp_path):
    return {
        "node": archive(tmp_path / "node.tgz", {"bin/node": (b"#!/bin/sh\necho v4.3.1\n", 0o700)}),
        "npm": archive(tmp_path / "npm.tgz", {"package.json": (b"{}", 0o600), "bin/npm-cli.js": (b"//", 0o700)}),
        "yarn": archive(tmp_path / "yarn.tgz", {"bin/yarn.js": (b"//", 0o644)}),
    }


def test_npmrc_sets_nodedir_only_for_npm_older_than_9():
    assert npmrc_text("/usr/local", "/opt/node-4", "2.15.12") == \
        "prefix=/usr/local\nupdate-notifier=false\nnodedir=/opt/node-4\n"
    assert "nodedir" not in npmrc_text("/usr/local", "/opt/node-22", "10.9.2")


def test_links_are_relative_in_bin_as_npm_makes_them():
    links = dict(planned_links("/p", {"node": "/n", "npm": "/m", "yarn": "/y"}))
    assert links == {"/p/bin/node": "/n/bin/node", "/p/lib/node_modules/npm": "/m",
                     "/p/bin/npm": "../lib/node_modules/npm/bin/npm-cli.js", "/p/lib/node_modules/yarn": "/y",
                     "/p/bin/yarn": "../lib/node_modules/yarn/bin/yarn.js"}


def test_unpack_strips_the_top_folder_and_lets_everyone_read(tmp_path, archives):
    dest = str(tmp_path / "lib" / "node-4.3.1")
    unpack(archives["node"], dest)
    node = os.path.join(dest, "bin", "node")
    assert subprocess.run([node], capture_output=True, text=True, check=True).stdout == "v4.3.1\n"
    assert os.stat(node).st_mode & 0o555 == 0o555 and os.stat(dest).st_mode & 0o777 == 0o755
    assert os.stat(node).st_uid == os.getuid()
    assert os.listdir(str(tmp_path / "lib")) == ["node-4.3.1"]


def test_a_broken_archive_leaves_nothing_half_done(tmp_path):
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(QiError) as e:
        unpack(str(bad), str(tmp_path / "lib" / "node-1"))
    assert "tar -xf" in str(e.value) and "exit 2" in str(e.value)
    assert os.listdir(str(tmp_path / "lib")) == []


def test_an_incomplete_folder_is_replaced_whole(tmp_path, archives):
    dest = tmp_path / "node"
    (dest / "bin").mkdir(parents=True)
    (dest / "stale").write_text("from a run that died")
    dirs = {"node": str(dest), "npm": str(tmp_path / "npm")}
    assert missing(dirs) == ["node", "npm"]
    unpack(archives["node"], str(dest))
    assert missing(dirs) == ["npm"] and not (dest / "stale").exists()


def test_check_mode_plan_changes_nothing(tmp_path):
    dirs = {"node": str(tmp_path / "n"), "npm": str(tmp_path / "m")}
    links = planned_links(str(tmp_path / "prefix"), dirs)
    plan = pending(dirs, links, str(tmp_path / "m" / "npmrc"), "prefix=x\n")
    assert plan == {"unpacked": ["node", "npm"], "linked": list(dict(links)), "npmrc_written": True}
    assert sorted(os.listdir(str(tmp_path))) == []


def test_a_link_replaces_a_file_but_never_a_folder(tmp_path):
    (tmp_path / "node").write_text("an old copy")
    assert ensure_link(str(tmp_path / "node"), "/opt/n/bin/node") is True
    assert os.readlink(str(tmp_path / "node")) == "/opt/n/bin/node"
    assert ensure_link(str(tmp_path / "node"), "/opt/n/bin/node") is False
    (tmp_path / "npm").mkdir()
    with pytest.raises(QiError) as e:
        ensure_link(str(tmp_path / "npm"), "/opt/m")
    assert "is a folder, not a link" in str(e.value)


def play(tmp_path, archives, *flags):
    """The module as a task runs it (action plugin, transfer, module) on this machine; the task's result."""
    prefix = tmp_path / "prefix"
    task = {"qi.convergence.node_install": {
        "node_archive": archives["node"], "npm_archive": archives["npm"], "yarn_archive": archives["yarn"],
        "node_dir": str(prefix / "lib/qi-node/node-4.3.1"), "npm_dir": str(prefix / "lib/qi-node/npm-2.15.12"),
        "yarn_dir": str(prefix / "lib/qi-node/yarn"), "npm_version": "2.15.12", "prefix": str(prefix)},
        "register": "out"}
    pb = tmp_path / "pb.json"
    pb.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        task, {"ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": str(tmp_path / "out.json")},
               "check_mode": False, "diff": False}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    res = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                          "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable, str(pb)] + list(flags),
                         capture_output=True, text=True, env=env, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads((tmp_path / "out.json").read_text()), res.stdout


def test_as_a_task_in_check_mode_then_again_then_repaired(tmp_path, archives):
    prefix = tmp_path / "prefix"
    out = play(tmp_path, archives, "--check", "--diff")[0]
    assert out["changed"] is True and out["unpacked"] == ["node", "npm", "yarn"] and not prefix.exists()
    out, shown = play(tmp_path, archives, "--diff")
    assert out["changed"] is True and out["unpacked"] == ["node", "npm", "yarn"] and out["npmrc_written"]
    assert "+%s/bin/node -> %s/lib/qi-node/node-4.3.1/bin/node" % (prefix, prefix) in shown
    assert subprocess.run([str(prefix / "bin/node")], capture_output=True, text=True, check=True).stdout == "v4.3.1\n"
    assert (prefix / "lib/node_modules/npm/npmrc").read_text().endswith("nodedir=%s/lib/qi-node/node-4.3.1\n" % prefix)
    assert os.path.isfile(str(prefix / "bin/yarn")) and os.path.isfile(str(prefix / "bin/npm"))
    out = play(tmp_path, archives)[0]
    assert out["changed"] is False and out["unpacked"] == [] and out["linked"] == []
    os.remove(str(prefix / "bin/node"))
    out = play(tmp_path, archives)[0]
    assert out["changed"] is True and out["unpacked"] == [] and out["linked"] == [str(prefix / "bin/node")]


def test_a_missing_archive_on_the_controller_is_named(tmp_path, archives):
    archives = dict(archives, node=str(tmp_path / "gone.tgz"))
    with pytest.raises(AssertionError) as e:
        play(tmp_path, archives)
    assert "the node archive %s is not on the controller" % (tmp_path / "gone.tgz") in str(e.value)
