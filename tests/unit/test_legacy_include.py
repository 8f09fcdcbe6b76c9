"""2016-era `include:` (GPII's preferences-server, flow-manager and data-loader roles) rewritten into what
ansible-core 2.16 kept, and the staged copy ansible-core really accepts with the tags reaching the included tasks."""
import os
import subprocess
import sys

import pytest

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.image.legacy_include import rewrite
from ansible_collections.qi.convergence.plugins.plugin_utils.image.legacy_staging import stage

ROLE_MAIN = """---
# tasks file for a 2016 role
- include: configure.yml greeting_file=/etc/app/greeting
  tags:
    - configure

- include: mark.yml
  with_items:
    - install
  tags: install

- include: "{{ ansible_os_family }}.yml"
  static: no

- name: A block keeps its includes too
  block:
    - include: inner.yml
      when: inner | default(true) | bool
- include_tasks: already-new.yml
- include_vars: vars.yml
"""


def test_task_includes_become_import_or_include_tasks_and_keep_every_other_line():
    new, count, plays = rewrite(ROLE_MAIN, "roles/app/tasks/main.yml")
    assert count == 4 and plays == []
    assert new == """---
# tasks file for a 2016 role
- import_tasks: configure.yml
  vars: {"greeting_file": "/etc/app/greeting"}
  tags:
    - configure

- include_tasks: {"file": "mark.yml", "apply": {"tags": ["install"]}}
  with_items:
    - install
  tags: install

- include_tasks: "{{ ansible_os_family }}.yml"

- name: A block keeps its includes too
  block:
    - import_tasks: inner.yml
      when: inner | default(true) | bool
- include_tasks: already-new.yml
- include_vars: vars.yml
"""


def test_play_level_include_becomes_import_playbook_and_tasks_in_plays_are_rewritten():
    text = "- hosts: all\n  tasks:\n    - include: a.yml\n  handlers:\n    - include: h.yml\n- include: other.yml x=1\n"
    new, count, plays = rewrite(text, "site.yml")
    assert count == 3 and plays == ["other.yml"]
    assert new == ("- hosts: all\n  tasks:\n    - import_tasks: a.yml\n  handlers:\n    - import_tasks: h.yml\n"
                   "- import_playbook: other.yml\n  vars: {\"x\": \"1\"}\n")


def test_params_join_an_existing_vars_mapping_and_flow_tasks_are_rewritten():
    text = "- include: a.yml y=2\n  vars:\n    x: 1\n- {include: b.yml, when: z}\n"
    new, count, _plays = rewrite(text, "t.yml")
    assert count == 2
    assert new == "- import_tasks: a.yml\n  vars:\n    y: \"2\"\n    x: 1\n- {import_tasks: b.yml, when: z}\n"


def test_what_cannot_be_rewritten_safely_is_named():
    with pytest.raises(QiError, match=r"t.yml line 1: `static:` shares its line"):
        rewrite("- {include: a.yml, static: no}\n", "t.yml")
    # Not YAML, or not a task list: left as it is, for ansible-playbook to judge.
    assert rewrite("a: [", "t.yml") == ("a: [", 0, [])
    assert rewrite("include: x\n", "vars.yml") == ("include: x\n", 0, [])


def _legacy_app(tmp_path):
    app = tmp_path / "app"
    tasks = app / "provisioning" / "roles" / "legacy" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text(ROLE_MAIN.split("- include: \"{{", maxsplit=1)[0])
    (tasks / "configure.yml").write_text("- name: Configure\n  ansible.builtin.debug:\n    msg: \"greeting in {{ greeting_file }}\"\n")
    (tasks / "mark.yml").write_text("- name: Mark\n  ansible.builtin.debug:\n    msg: \"marked {{ item }}\"\n")
    (app / "provisioning" / "site.yml").write_text("---\n- include: play.yml\n")
    (app / "provisioning" / "play.yml").write_text("---\n- hosts: localhost\n  gather_facts: false\n  roles:\n    - legacy\n")
    (app / "package.json").write_text("{}")
    return app


def test_the_staged_copy_runs_on_ansible_core_with_the_tags_reaching_included_tasks(tmp_path):
    app = _legacy_app(tmp_path)
    original = (app / "provisioning" / "site.yml").read_text()
    work = tmp_path / "work"
    work.mkdir()
    playbook, paths, notes = stage(str(app / "provisioning" / "site.yml"), [str(app / "provisioning" / "roles")],
                                   str(work))
    assert playbook == str(work / "legacy-staged" / "app" / "provisioning" / "site.yml")
    assert paths == [str(work / "legacy-staged" / "app" / "provisioning" / "roles")]
    assert notes == ["%s: 3 `include:` rewritten in a staged copy (ansible-core 2.16 removed it)"
                     % (app / "provisioning")]
    assert (app / "provisioning" / "site.yml").read_text() == original  # the app's own files are untouched
    assert os.path.islink(work / "legacy-staged" / "app" / "package.json")  # ../ from the playbook still resolves
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    for tags, said, not_said in (("configure", "greeting in /etc/app/greeting", "marked"),
                                 ("install", "marked install", "greeting in")):
        res = subprocess.run([exe, "-i", "localhost,", "-c", "local", playbook, "--tags", tags], capture_output=True,
                             text=True, check=False, env=dict(os.environ, ANSIBLE_ROLES_PATH=":".join(paths)))
        assert res.returncode == 0, res.stderr
        assert said in res.stdout and not_said not in res.stdout, res.stdout


def test_a_role_elsewhere_on_the_roles_path_is_staged_only_where_ansible_would_pick_it(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for top, text in ((first, "- include: a.yml\n"), (second, "- include: b.yml\n")):
        (top / "r" / "tasks").mkdir(parents=True)
        (top / "r" / "tasks" / "main.yml").write_text(text)
    (second / "clean" / "tasks").mkdir(parents=True)
    (second / "clean" / "tasks" / "main.yml").write_text("- ansible.builtin.import_tasks: a.yml\n")
    work = tmp_path / "work"
    work.mkdir()
    playbook, paths, notes = stage(None, [str(first), str(second)], str(work))
    staged = work / "legacy-staged-roles"
    assert playbook is None and paths == [str(staged), str(first), str(second)]
    assert notes == ["role r: 1 `include:` rewritten in a staged copy of %s" % (first / "r")]
    assert (staged / "r" / "tasks" / "main.yml").read_text() == "- import_tasks: a.yml\n"
    assert not (staged / "clean").exists()


def test_only_the_roles_the_play_runs_and_their_dependencies_are_staged(tmp_path):
    top = tmp_path / "roles"
    for name, meta in (("app", "dependencies:\n  - role: base\n"), ("base", ""), ("unused", "")):
        (top / name / "tasks").mkdir(parents=True)
        (top / name / "tasks" / "main.yml").write_text("- include: x.yml\n")
        (top / name / "meta").mkdir()
        (top / name / "meta" / "main.yml").write_text(meta)
    work = tmp_path / "work"
    work.mkdir()
    _playbook, _paths, notes = stage(None, [str(top)], str(work), ["app"])
    assert [n.split(":")[0] for n in notes] == ["role app", "role base"]
