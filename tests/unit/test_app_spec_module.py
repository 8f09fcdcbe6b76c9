"""The app_spec module through AnsibleModule: arguments in, exit_json/fail_json out (kubernetes.core style)."""
import json
import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.qi.convergence.plugins.modules import app_spec

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "nodejs-hello")


class Exit(Exception):
    pass


class Fail(Exception):
    pass


def _exit(self, **kw):
    raise Exit(kw)


def _fail(self, **kw):
    raise Fail(kw)


@pytest.fixture(autouse=True)
def patched(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail)


def run(args):
    with patch_module_args(args):
        app_spec.main()


def test_reads_example():
    with pytest.raises(Exit) as e:
        run({"app_dir": EXAMPLE})
    result = e.value.args[0]
    assert result["changed"] is False and result["spec"]["name"] == "nodejs-hello"
    json.dumps(result["spec"])


def test_check_mode_supported():
    with pytest.raises(Exit):
        run({"app_dir": EXAMPLE, "_ansible_check_mode": True})


def test_error_names_file_and_key(tmp_path):
    (tmp_path / ".qi.yml").write_text("app_name: web\napp_start_script: a\napp_tcp_prt: 1\n")
    with pytest.raises(Fail) as e:
        run({"app_dir": str(tmp_path)})
    result = e.value.args[0]
    assert "app_tcp_prt" in result["msg"] and "did you mean 'app_tcp_port'" in result["msg"]
    assert result["key"] == "app_tcp_prt" and result["line"] == 3 and result["file"].endswith(".qi.yml")
