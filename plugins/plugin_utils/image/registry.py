# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry side of a build: what it holds for a tag, and pushing."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ...module_utils.errors import QiError
from .docker_client import docker_errors


def registry_digest(client, ref, auth=None):
    """The digest the registry holds for ref, or None (absent, or the registry cannot say)."""
    try:
        return client.images.get_registry_data(ref, auth_config=auth).id
    except docker_errors():
        return None


def push(client, repo, tag, auth):
    digest = None
    for line in client.images.push(repo, tag=tag, stream=True, decode=True, auth_config=auth):
        if line.get("error"):
            raise QiError("push of %s:%s failed: %s" % (repo, tag, line["error"]))
        digest = (line.get("aux") or {}).get("Digest") or digest
    if not digest:
        raise QiError("push of %s:%s returned no digest" % (repo, tag))
    return digest
