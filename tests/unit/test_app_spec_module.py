"""qi.convergence.app_spec as Ansible runs it: the action plugin, arguments validated by Ansible's argument spec."""
import importlib
import json
import os
from unittest import mock

import pytest
import yaml
from ansible.errors import AnsibleActionFail

from ansible_collections.qi.convergence.plugins.action.app_spec import ActionModule
from ansible_collections.qi.convergence.plugins.module_utils.module_args import APP_SPEC
from ansible_collections.qi.convergence.plugins.modules import app_spec as module_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "nodejs-hello")
COLLECTIONS = os.path.join(ROOT, "build", "collections")
FRAGMENTS = "ansible_collections.qi.convergence.plugins.doc_fragments."


def run(args, check_mode=False):
    task = mock.MagicMock(args=args, async_val=0, check_mode=check_mode, diff=False)
    action = ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                          shared_loader_obj=None)
    return action.run(task_vars={})


def test_reads_example():
    result = run({"app_dir": EXAMPLE, "collections_path": COLLECTIONS})
    assert not result.get("failed"), result
    assert result["changed"] is False and result["spec"]["name"] == "nodejs-hello"
    assert [s["name"] for s in result["specs"]] == ["nodejs-hello"]
    # Plain JSON types only: the spec crosses the task boundary as a fact.
    assert json.loads(json.dumps(result["spec"])) == result["spec"]


def test_check_mode_supported():
    assert not run({"app_dir": EXAMPLE}, check_mode=True).get("failed")


def test_several_folders_in_one_call():
    result = run({"app_dirs": [EXAMPLE, os.path.join(ROOT, "examples", "qi-apps")]})
    assert [s["name"] for s in result["specs"]] == ["nodejs-hello", "text-utils", "greeter"]


def test_error_names_file_and_key(tmp_path):
    (tmp_path / ".qi.yml").write_text("app_name: web\napp_start_script: a\napp_tcp_prt: 1\n")
    result = run({"app_dir": str(tmp_path)})
    assert result["failed"] and "did you mean 'app_tcp_port'" in result["msg"]
    assert result["key"] == "app_tcp_prt" and result["line"] == 3 and result["file"].endswith(".qi.yml")


def test_bad_arguments_are_refused_by_the_argument_spec():
    with pytest.raises(AnsibleActionFail) as e:
        run({"app_dir": EXAMPLE, "app_dirs": [EXAMPLE]})
    assert "mutually exclusive" in str(e.value)


def test_the_documented_options_are_the_ones_the_action_accepts():
    # As ansible-doc shows them: the module's own options and those of the doc fragments it names.
    doc = yaml.safe_load(module_file.DOCUMENTATION)
    documented = dict(doc.get("options") or {})
    for name in doc["extends_documentation_fragment"]:
        fragment, _dot, variable = name.split(".", 2)[2].partition(".")
        text = getattr(importlib.import_module(FRAGMENTS + fragment).ModuleDocFragment, variable or "DOCUMENTATION")
        documented.update(yaml.safe_load(text).get("options") or {})
    assert sorted(documented) == sorted(APP_SPEC["argument_spec"])
    with pytest.raises(AnsibleActionFail) as e:
        run({"app_dir": EXAMPLE, "app_folder": EXAMPLE})
    assert "app_folder" in str(e.value)
