# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to the kubeconfig of the cluster. The inventory chooses it (local, dev or production).
      - When omitted, C(KUBECONFIG) or C(~/.kube/config) is used, or the pod's service account inside a cluster.
    type: path
  context:
    description: The kubeconfig context to use; its current context when omitted.
    type: str
requirements:
  - PyYAML
  - kubernetes (Python library), only for kubeconfigs whose user authenticates with an exec plugin or auth provider
"""
