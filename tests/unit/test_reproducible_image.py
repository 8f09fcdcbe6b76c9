"""Pure parts of making an image reproducible: the layer's times, the config, the source date, shadow's days."""
import gzip
import io
import json
import os
import subprocess
import tarfile

import pytest

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.image.build import portable_roles
from ansible_collections.qi.convergence.plugins.plugin_utils.image.reproducible import (
    _bundle, normalise_config, normalise_layer, rfc3339, shadow_clamp_command, source_date_epoch)

EPOCH = 1700000000


def layer(mtime, extra_pax=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        d = tarfile.TarInfo("opt/app")
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, mtime
        tar.addfile(d)
        f = tarfile.TarInfo("opt/app/server.js")
        f.size, f.mtime, f.uid, f.gid, f.mode = 5, mtime, 999, 999, 0o644
        f.pax_headers = dict({"SCHILY.xattr.user.kept": "yes"}, **(extra_pax or {}))
        tar.addfile(f, io.BytesIO(b"hello"))
        link = tarfile.TarInfo("opt/app/index.js")
        link.type, link.linkname, link.mtime = tarfile.LNKTYPE, "opt/app/server.js", mtime
        tar.addfile(link)
        old = tarfile.TarInfo("opt/app/.wh.old.js")
        old.mtime = EPOCH - 100
        tar.addfile(old, io.BytesIO(b""))
    buf.seek(0)
    return buf


def test_layers_built_at_different_times_become_the_same_bytes():
    one, two = io.BytesIO(), io.BytesIO()
    a = normalise_layer(layer(1790000000), one, EPOCH)
    b = normalise_layer(layer(1790000999, {"atime": "1790001000.5", "ctime": "1790001000.5"}), two, EPOCH)
    assert a == b and one.getvalue() == two.getvalue()
    one.seek(0)
    with tarfile.open(fileobj=one) as tar:
        members = dict((m.name, m) for m in tar)
        assert [m.mtime for m in members.values()] == [EPOCH, EPOCH, EPOCH, EPOCH - 100]
        f = members["opt/app/server.js"]
        assert (f.uid, f.gid, f.mode, f.pax_headers.get("SCHILY.xattr.user.kept")) == (999, 999, 0o644, "yes")
        assert tar.extractfile(f).read() == b"hello"
        assert members["opt/app/index.js"].islnk() and members["opt/app/index.js"].linkname == "opt/app/server.js"


def test_config_loses_the_build_container_and_the_build_time():
    committed = {
        "architecture": "amd64", "os": "linux", "container": "fcd5a6249bb9", "docker_version": "20.10.24",
        "container_config": {"Hostname": "fcd5a6249bb9"}, "created": "2026-11-23T14:13:23.300224735Z",
        "config": {"Hostname": "fcd5a6249bb9", "Image": "sha256:c9c2", "Cmd": ["node", "server.js"]},
        "history": [{"created": "2026-11-23T12:28:32Z", "comment": "Imported from -"},
                    {"created": "2026-11-23T14:13:23.3Z", "created_by": "tail -f /dev/null"}],
        "rootfs": {"type": "layers", "diff_ids": ["sha256:base", "sha256:built"]},
    }
    out = normalise_config(committed, "abc", EPOCH, "qi.convergence build")
    assert not set(out) & {"container", "container_config", "docker_version"}
    assert out["created"] == "2023-11-14T22:13:20Z" == rfc3339(EPOCH)
    assert out["history"] == [committed["history"][0], {"created": out["created"], "created_by": "qi.convergence build"}]
    assert out["rootfs"]["diff_ids"] == ["sha256:base", "sha256:abc"]
    assert out["config"] == {"Hostname": "", "Domainname": "", "Image": "", "Cmd": ["node", "server.js"]}
    assert committed["rootfs"]["diff_ids"][-1] == "sha256:built"


def test_source_date_from_the_environment_then_git_then_1970(tmp_path):
    assert source_date_epoch(str(tmp_path), {"SOURCE_DATE_EPOCH": "1234"}) == 1234
    with pytest.raises(QiError, match="SOURCE_DATE_EPOCH must be a number"):
        source_date_epoch(str(tmp_path), {"SOURCE_DATE_EPOCH": "yesterday"})
    assert source_date_epoch(str(tmp_path), {}) == 0
    app = tmp_path / "app"
    app.mkdir()
    (app / "server.js").write_text("x")
    (tmp_path / "other.txt").write_text("y")
    env = dict(os.environ, GIT_AUTHOR_DATE="@1600000000 +0000", GIT_COMMITTER_DATE="@1600000000 +0000",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.org")
    git = ["git", "-c", "safe.directory=*", "-C", str(tmp_path)]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "app"], check=True)
    subprocess.run(git + ["commit", "-qm", "app"], check=True, env=env)
    later = dict(env, GIT_COMMITTER_DATE="@1650000000 +0000")
    subprocess.run(git + ["add", "other.txt"], check=True)
    subprocess.run(git + ["commit", "-qm", "elsewhere"], check=True, env=later)
    # The last commit that touched the app's folder, not the repository's last.
    assert source_date_epoch(str(app), {}) == 1600000000


def test_shadow_days_are_clamped_to_the_source_date(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.write_text("root:*:19000:0:99999:7:::\napp:!:20415:0:99999:7:::\nnobody:*::0:99999:7:::\n")
    script = shadow_clamp_command(EPOCH).replace("/etc/shadow /etc/shadow-", str(shadow))
    subprocess.run(["sh", "-c", script], check=True)
    assert shadow.read_text() == ("root:*:19000:0:99999:7:::\napp:!:19675:0:99999:7:::\n"
                                  "nobody:*::0:99999:7:::\n")


def test_role_sources_in_labels_name_no_folder_of_the_building_machine():
    report = [{"role": "facts", "how": "substituted", "source": "qi.convergence.facts"},
              {"role": "site", "how": "installed", "source": "/home/ci/app/provisioning/roles/site"},
              {"role": "nginx", "how": "galaxy", "source": "/root/.cache/qi-convergence/galaxy/abc/nginx"}]
    assert [r["source"] for r in portable_roles(report, "/home/ci/app")] == [
        "qi.convergence.facts", "provisioning/roles/site", "nginx"]


def test_a_compressed_layer_is_read_and_written_plain():
    plain, from_gzip = io.BytesIO(), io.BytesIO()
    source = layer(1790000000).getvalue()
    assert normalise_layer(io.BytesIO(source), plain, EPOCH) == normalise_layer(
        io.BytesIO(gzip.compress(source)), from_gzip, EPOCH)
    assert plain.getvalue() == from_gzip.getvalue()


def test_the_load_archive_carries_the_base_layers_only_when_asked(tmp_path):
    saved_path, own = tmp_path / "saved.tar", tmp_path / "own.tar"
    own.write_bytes(b"own layer")
    with tarfile.open(saved_path, "w") as saved:
        info = tarfile.TarInfo("base/layer.tar")
        info.size = 4
        saved.addfile(info, io.BytesIO(b"base"))
    layers = ["base/layer.tar", "abc/layer.tar"]
    lean, full = tmp_path / "lean.tar", tmp_path / "full.tar"
    _bundle(str(lean), "r/app:1", b"{}", "cfg", layers, str(own))
    with tarfile.open(saved_path) as saved:
        _bundle(str(full), "r/app:1", b"{}", "cfg", layers, str(own), saved)
    with tarfile.open(lean) as tar:
        assert tar.getnames() == ["cfg.json", "manifest.json", "abc/layer.tar"]
        assert json.load(tar.extractfile("manifest.json")) == [
            {"Config": "cfg.json", "RepoTags": ["r/app:1"], "Layers": layers}]
    with tarfile.open(full) as tar:
        assert tar.getnames() == ["cfg.json", "manifest.json", "base/layer.tar", "abc/layer.tar"]
        assert tar.extractfile("base/layer.tar").read() == b"base"
