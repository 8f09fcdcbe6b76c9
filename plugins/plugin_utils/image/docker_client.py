# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ONE place a Docker client is built. Modules never import the SDK directly."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

from ...module_utils.errors import QiError

try:
    import docker
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    docker = None
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

_CLIENTS = {}


def docker_client(base_url=None, timeout=300):
    """Return a cached client for base_url (DOCKER_HOST or the local socket when None)."""
    key = (base_url, timeout)
    if key not in _CLIENTS:
        try:
            client = docker.DockerClient(base_url=base_url, timeout=timeout) if base_url else \
                docker.from_env(timeout=timeout)
            client.ping()
        except Exception as e:
            raise QiError("cannot reach the Docker engine at %s: %s" % (base_url or "the default socket", e))
        _CLIENTS[key] = client
    return _CLIENTS[key]


def docker_errors():
    """The SDK's error base classes, for callers that translate them into QiError."""
    return (docker.errors.DockerException,) if HAS_DOCKER else ()


def remove_quietly(container):
    """Remove a throwaway container whatever state it is in; used in finally blocks, so it never raises."""
    if container is None:
        return
    try:
        container.remove(force=True)
    except docker_errors():
        pass


def remove_image_quietly(client, ref):
    """Remove an image (or one of its tags) if it is there; for clean-up paths, so it never raises."""
    try:
        client.images.remove(ref, force=True)
    except docker_errors():
        pass
