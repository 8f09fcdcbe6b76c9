# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""qi.convergence.container_image runs on the controller: it reads provisioning with Ansible's own machinery,
drives the nested ansible-playbook and streams its task lines live through Ansible's Display."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase
from ..module_utils.errors import QiError
from ..plugin_utils.report.progress import progress
from ..module_utils.module_args import CONTAINER_IMAGE

try:
    from ..plugin_utils.image.build_all import build_all
    IMPORT_ERROR = None
except ImportError as e:  # the docker SDK
    build_all = None
    IMPORT_ERROR = e


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _validation, p = self.validate_argument_spec(**CONTAINER_IMAGE)
        if build_all is None:
            result.update(failed=True, msg="the docker Python SDK is required on the controller: %s" % IMPORT_ERROR)
            return result

        try:
            result.update(build_all(p, check_mode=bool(self._task.check_mode), progress=progress))
        except QiError as e:
            result.update(failed=True, msg=str(e), **getattr(e, "extra", {}))
        return result
