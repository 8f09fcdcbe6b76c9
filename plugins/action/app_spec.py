# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""qi.convergence.app_spec runs on the controller: reading a provisioning playbook needs Ansible's own
DataLoader and Templar, which a module shipped to a host cannot import."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase
from ..module_utils.errors import QiError
from ..module_utils.module_args import APP_SPEC
from ..plugin_utils.spec.reader import read_apps


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _validation, p = self.validate_argument_spec(**APP_SPEC)
        options = dict(collections_paths=[c for c in p["collections_path"].split(":") if c], role_map=p["role_map"],
                       rpm_map=p["rpm_map"], prebuilt=p["prebuilt"])
        try:
            if p["app_dirs"] is not None:
                result.update(changed=False, specs=[s for d in p["app_dirs"] for s in read_apps(d, **options)])
                return result
            specs = read_apps(p["app_dir"], qi_file=p["qi_file"], **options)
        except QiError as e:
            result.update(failed=True, msg=str(e), file=e.path, key=e.key, line=e.line)
            return result
        result.update(changed=False, spec=specs[0], specs=specs)
        return result
