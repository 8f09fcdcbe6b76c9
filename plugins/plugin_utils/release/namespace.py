# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The namespace a release goes to."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


from ..kube.client import ApiError


def ensure_namespace(kube, name, check_mode):
    """Create the namespace when missing; True when it was (or would be) created.

    A deployer limited to its namespace (a namespaced Role) may not read Namespaces: it exists, then."""
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    try:
        if kube.get(ns) is not None:
            return False
    except ApiError as e:
        if e.status == 403:
            return False
        raise
    if not check_mode:
        kube.apply(ns)
    return True
