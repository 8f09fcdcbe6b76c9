# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option groups shared by the Kubernetes modules (documented in the kube_auth doc fragment)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import env_fallback


def _env(name):
    return (env_fallback, ["K8S_AUTH_" + name])


# The options and K8S_AUTH_* variables kubernetes.core users know.
AUTH_ARGS = dict(
    kubeconfig=dict(type="raw", fallback=_env("KUBECONFIG")),
    context=dict(type="str", fallback=_env("CONTEXT")),
    host=dict(type="str", fallback=_env("HOST")),
    api_key=dict(type="str", no_log=True, fallback=_env("API_KEY")),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"], fallback=_env("SSL_CA_CERT")),
    client_cert=dict(type="path", aliases=["cert_file"], fallback=_env("CERT_FILE")),
    client_key=dict(type="path", aliases=["key_file"], no_log=False, fallback=_env("KEY_FILE")),
    validate_certs=dict(type="bool", aliases=["verify_ssl"], fallback=_env("VERIFY_SSL")),
    proxy=dict(type="str", fallback=_env("PROXY")),
    no_proxy=dict(type="str", fallback=_env("NO_PROXY")),
    impersonate_user=dict(type="str", fallback=_env("IMPERSONATE_USER")),
    impersonate_groups=dict(type="list", elements="str", fallback=_env("IMPERSONATE_GROUPS")),
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
