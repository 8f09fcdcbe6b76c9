"""What the runtime-only image keeps: the pure parts of runtime_closure.py (the rest runs in test_build)."""
import json
import os
import subprocess
import sys
import tarfile

import pytest

from ansible_collections.qi.convergence.plugins.plugin_utils.image import runtime_closure as rc
from ansible_collections.qi.convergence.plugins.plugin_utils.image.config import healthcheck

STATUS = """Package: festival
Status: install ok installed
Depends: libc6 (>= 2.34), libestools2.5 | libestools-dev, festlex-cmu, sgml-base, adduser
Provides: speech-synthesizer

Package: libc6
Status: install ok installed
Depends: libgcc-s1

Package: libgcc-s1
Status: install ok installed
Pre-Depends: gcc-12-base (= 12.2.0-14)

Package: gcc-12-base
Status: install ok installed

Package: libestools2.5
Status: install ok installed
Depends: libc6,
 libncursesw6

Package: libncursesw6
Status: install ok installed

Package: festlex-cmu
Status: install ok installed
Depends: festival | speech-synthesizer-virtual

Package: sgml-base
Status: install ok installed
Depends: dpkg

Package: dpkg
Status: install ok installed

Package: adduser
Status: install ok installed
Depends: passwd

Package: build-essential
Status: install ok installed
Depends: gcc, make, libc6-dev

Package: libc6-dev
Status: install ok installed
Depends: libc6

Package: removed-one
Status: deinstall ok config-files
Depends: libc6
"""


def test_dpkg_status_gives_the_installed_packages_with_their_dependencies_and_what_they_provide():
    status = rc.parse_status(STATUS)
    assert "removed-one" not in status
    assert status["festival"]["depends"][:2] == [["libc6"], ["libestools2.5", "libestools-dev"]]
    assert status["festival"]["provides"] == ["speech-synthesizer"]
    assert status["libgcc-s1"]["depends"] == [["gcc-12-base"]]
    # A continuation line is part of the field above it.
    assert status["libestools2.5"]["depends"] == [["libc6"], ["libncursesw6"]]


def test_the_closure_follows_dependencies_but_never_into_build_tools_or_package_scripts():
    kept = rc.package_closure(rc.parse_status(STATUS), ["festival", "build-essential"])
    assert kept == {"festival", "libc6", "libgcc-s1", "gcc-12-base", "libestools2.5", "libncursesw6", "festlex-cmu",
                    "sgml-base"}


def test_a_dependency_met_through_a_virtual_package_is_followed():
    status = rc.parse_status(STATUS + "\nPackage: voice\nStatus: install ok installed\nDepends: speech-synthesizer\n")
    assert "festival" in rc.package_closure(status, ["voice"])


def test_apt_says_which_packages_came_only_as_dependencies():
    text = ("Package: perl\nArchitecture: amd64\nAuto-Installed: 1\n\nPackage: git\nArchitecture: amd64\n"
            "Auto-Installed: 0\n\nPackage: liberror-perl\nAuto-Installed: 1\n")
    assert rc.auto_installed(text) == {"perl", "liberror-perl"}


@pytest.mark.parametrize("path, command, gone", [
    ("/usr/share/doc/festival/copyright", "node", True),
    ("/usr/share/man/man1/festival.1.gz", "node", True),
    ("/usr/share/festival/voices/english/kal_diphone/festvox/kal_diphone.scm", "node", False),
    ("/usr/local/lib/qi-node/node-4.3.1/include/node/v8.h", "node", True),
    ("/usr/local/lib/qi-node/npm-2.15.12/bin/npm-cli.js", "node", True),
    ("/usr/local/lib/qi-node/npm-2.15.12/bin/npm-cli.js", "npm", False),
    ("/usr/local/lib/node_modules/npm/index.js", "node", True),
    ("/usr/local/lib/node_modules/npm/index.js", "/usr/local/bin/npm", False),
    ("/usr/local/lib/qi-node/yarn-classic/lib/cli.js", "node", True),
    ("/usr/local/lib/qi-node/node-4.3.1/bin/node", "node", False),
    ("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "node", True),
    ("/usr/local/lib/qi-node/node-4.3.1/share/man/man1/node.1", "node", True),
    ("/usr/lib/x86_64-linux-gnu/libfoo.a", "node", True),
    ("/etc/gpii/flow-manager.json", "node", False),
])
def test_what_no_run_needs_is_left_out(path, command, gone):
    assert rc.dropped(path, command) is gone


def test_bytecode_goes_with_the_module_it_was_compiled_from():
    assert rc.source_of("/usr/lib/python3/dist-packages/apt/__pycache__/cache.cpython-311.pyc") == \
        "/usr/lib/python3/dist-packages/apt/cache.py"
    assert rc.source_of("/opt/app/old.pyc") == "/opt/app/old.py"


def test_a_symlink_into_the_kernels_files_is_kept_alone(tmp_path):
    link = tmp_path / "mtab"
    link.symlink_to("/proc/mounts")
    assert rc._chain(str(link)) == [str(link)]


def test_a_merged_usr_file_goes_by_both_names():
    assert rc.usr_variants("/bin/sh") == ("/bin/sh", "/usr/bin/sh")
    assert rc.usr_variants("/usr/lib/x86_64-linux-gnu/libc.so.6") == ("/usr/lib/x86_64-linux-gnu/libc.so.6",
                                                                      "/lib/x86_64-linux-gnu/libc.so.6")
    assert rc.usr_variants("/opt/app/x") == ("/opt/app/x",)


def test_a_file_the_provisioning_changed_differs_from_the_base_in_time_or_size(tmp_path):
    f = tmp_path / "passwd"
    f.write_text("root:x:0:0::/root:/bin/sh\n")
    st = os.lstat(str(f))
    base = {str(f): "%d.5000000000 %d" % (int(st.st_mtime), st.st_size)}
    assert rc.changed(str(f), st, base) is False
    assert rc.changed(str(f), st, {str(f): "%d.0 %d" % (int(st.st_mtime), st.st_size + 1)}) is True
    assert rc.changed(str(f), st, {}) is True


def test_ldd_output_gives_the_library_paths():
    out = ("\tlinux-vdso.so.1 (0x00007ffd)\n\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f)\n"
           "\tlibmissing.so => not found\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n")
    assert rc.ldd_paths(out) == ["/lib/x86_64-linux-gnu/libdl.so.2", "/lib64/ld-linux-x86-64.so.2"]


def test_a_symlink_on_the_way_is_kept_with_the_file(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "lib.so").write_text("x")
    (tmp_path / "top").symlink_to("real")
    (tmp_path / "real" / "lib.so.1").symlink_to("lib.so")
    chain = rc._chain(str(tmp_path / "top" / "lib.so.1"))
    assert chain == [str(tmp_path / "top"), str(tmp_path / "real" / "lib.so.1"), str(tmp_path / "real" / "lib.so")]


def test_the_layer_is_in_name_order_with_folders_above_and_times_clamped(tmp_path):
    app = tmp_path / "app"
    (app / "node_modules" / "ms").mkdir(parents=True)
    (app / "server.js").write_text("//")
    (app / "node_modules" / "ms" / "index.js").write_text("//")
    (app / ".npm").mkdir()
    (app / ".npm" / "cache").write_text("x")
    out = tmp_path / "layer.tar"
    rc.write_tar(rc.Kept({str(app): True}), str(out), 1700000000, skip=(str(app / ".npm"),))
    with tarfile.open(str(out)) as tar:
        names = tar.getnames()
        assert all(m.mtime <= 1700000000 for m in tar.getmembers())
    inside = [n for n in names if n.startswith(str(app).lstrip("/"))]
    assert inside == sorted(inside) and inside[-1].endswith("server.js")
    assert not any(".npm" in n for n in names)
    assert str(tmp_path).lstrip("/") in names  # the folder above, with its own owner and mode


def test_the_script_runs_alone_with_python3():
    # It is copied into the build container and run there, without the collection around it.
    res = subprocess.run([sys.executable, "-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())",
                          rc.__file__], capture_output=True, check=False)
    assert res.returncode == 0
    with open(rc.__file__) as f:
        imports = [line for line in f if line.startswith(("import ", "from "))]
    assert all(line.split()[1] in ("__future__", "json", "os", "re", "shutil", "stat", "subprocess", "sys", "tarfile")
               for line in imports), imports


@pytest.mark.parametrize("health", [{"port": 8080, "path": "/healthz", "status": 200},
                                    {"port": 8080, "tcp": True}])
def test_node_runs_the_health_check_where_python3_is_not_kept(health):
    check = healthcheck(health, "node")
    assert check["Test"][:3] == ["CMD", "node", "-e"] and "8080" in check["Test"][3]
    assert healthcheck(health, None) is None
    assert healthcheck(health)["Test"][1] == "python3"
    assert json.loads(json.dumps(check)) == check
