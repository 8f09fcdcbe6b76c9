# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: junit_report
type: aggregate
short_description: Write the run's app spec, build, QI test, push and rollout results as JUnit XML
version_added: 0.2.0
description:
  - When O(junit_dir) is set, each playbook run writes one JUnit XML file there, with one testsuite per app and
    test cases for its spec, its image build, each of its QI test commands (C(commands)/C(test_cmds)), the push
    and the rollout; failures carry the message and the captured output.
  - It records only the collection's own tasks (M(qi.convergence.app_spec), M(qi.convergence.container_image),
    M(qi.convergence.k8s_release)); enable it beside any stdout callback.
author:
  - qi.convergence developers (@qi-convergence)
requirements:
  - enable it in C(callbacks_enabled) (the project's C(ansible.cfg) does)
options:
  junit_dir:
    description: The folder the XML file goes to; nothing is written when empty.
    type: path
    env:
      - name: QI_JUNIT_DIR
    ini:
      - section: callback_junit_report
        key: junit_dir
"""

import os
import time

from ansible.plugins.callback import CallbackBase
from ..plugin_utils.report.junit import (
    build_cases, rollout_cases, spec_cases, to_xml)

ACTIONS = {"app_spec": "spec", "container_image": "build", "k8s_release": "rollout"}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "qi.convergence.junit_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._suites = {}
        self._started = {}
        self._services = []
        self._playbook = "playbook"
        self._dir_from_vars = None

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.splitext(os.path.basename(playbook._file_name))[0]

    def v2_playbook_on_play_start(self, play):
        # The inventory variable qi_junit_dir, as an alternative to QI_JUNIT_DIR.
        try:
            manager = play.get_variable_manager()
            host = manager._inventory.get_host("localhost")
            value = manager.get_vars(play=play, host=host).get("qi_junit_dir")
            if value and "{{" not in str(value):
                self._dir_from_vars = str(value)
        except Exception as e:  # a report must never break the run it reports on
            self._display.warning("junit_report: cannot read qi_junit_dir: %s" % e)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = time.time()

    def _kind(self, result):
        action = result._task.action or ""
        ours = action.startswith(("qi.convergence.", "app_spec", "container_image", "k8s_release"))
        return ACTIONS.get(action.split(".")[-1]) if ours else None

    def _record(self, result, failed=False):
        kind = self._kind(result)
        if not kind:
            return
        seconds = time.time() - self._started.get(result._task._uuid, time.time())
        data = dict(result._result, failed=failed)
        if kind == "spec":
            found = spec_cases(data, seconds)
            self._services = [s["name"] for s in data.get("specs") or [] if s.get("service")] or self._services
        elif kind == "build":
            found = build_cases(data, seconds)
        else:
            found = rollout_cases(data, seconds, self._services)
        for app, cases in found.items():
            existing = self._suites.setdefault(app, [])
            names = [c["name"] for c in cases]
            existing[:] = [c for c in existing if c["name"] not in names] + cases

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_playbook_on_stats(self, stats):
        folder = self.get_option("junit_dir") or self._dir_from_vars
        if not folder or not self._suites:
            return
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "qi-%s-%s-%d.xml" % (self._playbook, time.strftime("%Y%m%dT%H%M%S"), os.getpid()))
        with open(path, "wb") as f:
            f.write(to_xml(self._suites, name="qi.convergence %s" % self._playbook))
        self._display.display("JUnit report: %s" % path, stderr=True)
