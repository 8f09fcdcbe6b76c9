# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: remote_kubeconfig
short_description: Point a kubeconfig fetched from a cluster host at that host instead of its loopback
version_added: 0.2.0
description:
  - A kubeconfig written on the cluster host may name the API server at C(127.0.0.1) or C(localhost) (the binaries
    method of M(qi.convergence.k8s_single_node) does). Read on the controller, such a server would be the controller's
    own loopback.
  - Each such cluster entry gets O(host) as its server address, the port kept, and C(tls-server-name) set to
    O(server_name) (a name the API server's certificate carries) unless it has one; other entries are left alone.
  - A text that is not a kubeconfig fails, saying so.
author:
  - qi.convergence developers (@qi-convergence)
positional: host, server_name
options:
  _input:
    description: The kubeconfig's text.
    type: str
    required: true
  host:
    description: The cluster host's address as the controller reaches it.
    type: str
    required: true
  server_name:
    description: The name to check the API server's certificate against.
    type: str
    default: kubernetes
"""

EXAMPLES = r"""
- name: Write the fetched kubeconfig
  ansible.builtin.copy:
    content: "{{ remote.content | b64decode | qi.convergence.remote_kubeconfig(ansible_host) }}"
    dest: build/dev.kubeconfig
    mode: "0600"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The kubeconfig's text, as YAML.
  type: str
"""

from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.yaml import yaml_dump, yaml_load

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _point_at(cluster, host, server_name):
    url = urlsplit(cluster.get("server") or "")
    if url.hostname not in LOOPBACK:
        return
    netloc = ("[%s]" % host if ":" in host else host) + (":%d" % url.port if url.port else "")
    cluster["server"] = url._replace(netloc=netloc).geturl()
    cluster.setdefault("tls-server-name", server_name)


def _remote_kubeconfig(text, host, server_name="kubernetes"):
    try:
        config = yaml_load(text)
    except Exception as e:
        raise AnsibleFilterError("the fetched kubeconfig is not YAML: %s" % e)
    if not isinstance(config, dict) or not isinstance(config.get("clusters"), list):
        raise AnsibleFilterError("the fetched file is not a kubeconfig: it has no clusters list")
    for entry in config["clusters"]:
        if isinstance(entry, dict) and isinstance(entry.get("cluster"), dict):
            _point_at(entry["cluster"], host, server_name)
    return yaml_dump(config, default_flow_style=False, sort_keys=False)


class FilterModule(object):
    def filters(self):
        return {"remote_kubeconfig": _remote_kubeconfig}
