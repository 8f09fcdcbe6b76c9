# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to the kubeconfig of the cluster. The inventory chooses it (local, dev or production).
      - When omitted, C(KUBECONFIG) or C(~/.kube/config) is used.
    type: path
  context:
    description: The kubeconfig context to use; its current context when omitted.
    type: str
requirements:
  - kubernetes (Python library)
"""
