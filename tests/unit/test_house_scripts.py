"""The house checks of make test fail on what they are there to catch."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def run(script, *args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", script)] + list(args),
                          capture_output=True, text=True, check=False)


def test_an_import_that_points_back_up_a_stage_fails(tmp_path):
    write(tmp_path, "plugins/module_utils/errors.py", "class QiError(Exception):\n    pass\n")
    write(tmp_path, "plugins/plugin_utils/spec/reader.py", "from ...module_utils.errors import QiError\n")
    write(tmp_path, "plugins/plugin_utils/release/task.py", "from ..spec.reader import QiError\n")
    ok = run("import-graph.py", "--root", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert "release       -> module_utils (0)" not in ok.stdout and "release       -> spec (1)" in ok.stdout
    # The reader (stage 2) reaching into the release (stage 4): the spec would depend on what uses it.
    write(tmp_path, "plugins/plugin_utils/spec/reader.py", "from ..release.task import QiError\n")
    bad = run("import-graph.py", "--root", str(tmp_path))
    assert bad.returncode == 1
    assert "plugins/plugin_utils/spec/reader.py:1: spec imports plugins.plugin_utils.release.task" in bad.stderr
    assert "points back up" in bad.stderr


def test_a_module_may_ship_module_utils_only_and_imports_are_relative(tmp_path):
    write(tmp_path, "plugins/plugin_utils/kube/client.py", "X = 1\n")
    write(tmp_path, "plugins/modules/thing.py",
          "from ansible_collections.qi.convergence.plugins.plugin_utils.kube.client import X\n")
    bad = run("import-graph.py", "--root", str(tmp_path))
    assert bad.returncode == 1
    assert "absolute import of plugins.plugin_utils.kube.client" in bad.stderr
    assert "only module_utils ships to the managed host" in bad.stderr


def test_a_function_over_the_limits_fails(tmp_path):
    branches = "".join("    if x == %d:\n        return %d\n" % (i, i) for i in range(16))
    write(tmp_path, "plugins/module_utils/big.py", "def big(x):\n" + branches + "    return x\n")
    bad = run("complexity.py", str(tmp_path / "plugins"))
    assert bad.returncode == 1
    assert "big: complexity 17 (max 15)" in bad.stderr
    assert run("complexity.py", "--max-complexity", "17", str(tmp_path / "plugins")).returncode == 0
