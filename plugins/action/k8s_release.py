# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""qi.convergence.k8s_release runs on the controller, where the kubeconfig is, so that the rollout's progress and
its failures' reasons reach the terminal through Ansible's Display while it waits."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

from ansible.plugins.action import ActionBase
from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError
from ansible_collections.qi.convergence.plugins.plugin_utils.progress import progress
from ansible_collections.qi.convergence.plugins.module_utils.module_args import K8S_RELEASE
from ansible_collections.qi.convergence.plugins.module_utils.release_task import deploy


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _validation, p = self.validate_argument_spec(**K8S_RELEASE)

        try:
            out, error = deploy(p, check_mode=bool(self._task.check_mode), want_diff=bool(self._task.diff),
                                progress=progress)
        except QiError as e:
            result.update(failed=True, msg=str(e))
            return result
        except Exception as e:  # never a traceback in place of a message; the trace stays available with -vvv
            result.update(failed=True, msg="qi.convergence.k8s_release failed unexpectedly: %s: %s" % (
                e.__class__.__name__, e), exception=traceback.format_exc())
            return result
        result.update(out)
        if error:
            result.update(failed=True, msg=error)
        return result
