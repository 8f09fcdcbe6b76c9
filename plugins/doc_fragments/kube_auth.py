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
      - Path to the kubeconfig of the cluster (or a list of paths, merged as kubectl merges C(KUBECONFIG)). The
        inventory chooses it (local, dev or production).
      - When omitted, C(K8S_AUTH_KUBECONFIG), else every file of C(KUBECONFIG), else C(~/.kube/config), else the pod's
        service account inside a cluster.
      - Read by the official C(kubernetes) package's loader - exec plugins, auth providers, relative certificate paths,
        C(proxy-url), C(tls-server-name) - plus the user's C(as)/C(as-groups) impersonation and the context's namespace.
        Only the cluster's CA is trusted when the kubeconfig names one.
    type: raw
  context:
    description: The kubeconfig context to use; its current context when omitted. Env C(K8S_AUTH_CONTEXT).
    type: str
  host:
    description: The API server URL, used instead of a kubeconfig. Env C(K8S_AUTH_HOST).
    type: str
  api_key:
    description: A bearer token for O(host). Env C(K8S_AUTH_API_KEY).
    type: str
  ca_cert:
    description: The CA bundle that signed the API server's certificate (with O(host)). Env C(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description: A client certificate file (with O(host)). Env C(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description: The key of O(client_cert). Env C(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  validate_certs:
    description: Verify the API server's certificate (with O(host)). Env C(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  proxy:
    description:
      - An HTTP proxy for the API (C(http://host:port)). When omitted, the kubeconfig's C(proxy-url), else
        C(HTTPS_PROXY)/C(HTTP_PROXY) unless C(NO_PROXY) matches the server. Env C(K8S_AUTH_PROXY).
    type: str
  no_proxy:
    description: Hosts that bypass O(proxy), comma-separated. Env C(K8S_AUTH_NO_PROXY).
    type: str
  impersonate_user:
    description: Act as this user (needs the C(impersonate) verb). Env C(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description: Act with these groups. Env C(K8S_AUTH_IMPERSONATE_GROUPS).
    type: list
    elements: str
requirements:
  - PyYAML
  - kubernetes (Python library), for reading kubeconfigs
"""
