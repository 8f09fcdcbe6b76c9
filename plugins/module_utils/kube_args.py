# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option groups shared by the Kubernetes modules (documented in the kube_auth doc fragment)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

AUTH_ARGS = dict(
    kubeconfig=dict(type="path"),
    context=dict(type="str"),
)

RENDER_ARGS = dict(
    environment=dict(type="dict", default={}),
    secrets=dict(type="dict", default={}, no_log=True),
)


def with_auth(spec):
    out = dict(AUTH_ARGS)
    out.update(spec)
    return out


def with_render(spec):
    out = dict(RENDER_ARGS)
    out.update(spec)
    return out
