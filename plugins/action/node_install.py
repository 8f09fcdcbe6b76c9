# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""qi.convergence.node_install: asks the host which Node.js folders it lacks, copies only those archives from the
controller, and installs in a second call; a host that has them all gets one call and no copy."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

MODULE = "qi.convergence.node_install"


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        try:
            probe = self._execute_module(module_name=MODULE, module_args=dict(args, probe=True), task_vars=task_vars)
            if probe.get("failed"):
                result.update(probe)
                return result
            if not self._task.check_mode:
                copied = []
                for component in probe.get("needed") or []:
                    local = args.get(component + "_archive")
                    if not local or not os.path.isfile(local):
                        result.update(failed=True, msg="the %s archive %s is not on the controller (fetch it with "
                                                       "qi.convergence.node_runtime first)" % (component, local))
                        return result
                    remote = self._connection._shell.join_path(self._connection._shell.tmpdir, component + ".tar")
                    self._transfer_file(local, remote)
                    args[component + "_archive"] = remote
                    copied.append(remote)
                if copied:
                    self._fixup_perms2([self._connection._shell.tmpdir] + copied)
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
