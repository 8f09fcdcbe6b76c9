# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""qi.convergence.k8s_release runs on the controller, where the kubeconfig is, so that the rollout's progress and
its failures' reasons reach the terminal through Ansible's Display while it waits."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gc
import traceback

from ansible import constants as C
from ansible.plugins.action import ActionBase
from ..module_utils.errors import QiError
from ..plugin_utils.report.progress import progress
from ..module_utils.module_args import K8S_RELEASE

# A task's worker is a fork of the whole controller. Freezing what it inherited keeps the garbage collector from
# walking all of it again and again while the task's options are templated, the libraries load (imported in run(),
# after this) and the app folders are read: 0.1 s of a 30-app rerun that changes nothing.
gc.freeze()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        # Here, not at the top: loaded after the freeze above.
        from ..plugin_utils.release.task import deploy
        from ..plugin_utils.release.app_dirs import from_app_dirs
        result = super(ActionModule, self).run(tmp, task_vars)
        _validation, p = self.validate_argument_spec(**K8S_RELEASE)
        not_deployed = []
        try:
            if p["app_dirs"] is not None:
                p, not_deployed = from_app_dirs(p, self._loader, [c for c in p["collections_path"].split(":") if c]
                                                or list(C.COLLECTIONS_PATHS))
                for app in not_deployed:
                    progress(_said(app))
            if p["specs"] == []:
                result.update(changed=False, releases=[], not_deployed=not_deployed, urls={},
                              summary=[_said(a) for a in not_deployed])
                return result
            out, error = deploy(p, check_mode=bool(self._task.check_mode), want_diff=bool(self._task.diff),
                                progress=progress)
        except QiError as e:
            result.update(failed=True, msg=str(e), not_deployed=not_deployed)
            if e.path:
                result.update(file=e.path, key=e.key, line=e.line)
            return result
        except Exception as e:  # never a traceback in place of a message; the trace stays available with -vvv
            result.update(failed=True, msg="qi.convergence.k8s_release failed unexpectedly: %s: %s" % (
                e.__class__.__name__, e), exception=traceback.format_exc())
            return result
        result.update(out, not_deployed=not_deployed, urls=dict((r["release"], r.get("url")) for r in out["releases"]),
                      summary=[_where(r) for r in out["releases"]] + [_said(a) for a in not_deployed])
        if error:
            result.update(failed=True, msg=error)
        return result


def _where(release):
    answers = "answers at %s" % release["url"] if release.get("url") else "serves no port"
    return "%s revision %s %s" % (release["release"], release.get("revision"), answers)


def _said(app):
    return "%s: %s" % (app["name"], app["why"])
