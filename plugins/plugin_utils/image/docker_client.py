# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ONE place a Docker client is built. Modules never import the SDK directly."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
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


# Removals under way: a container with a provisioned layer takes a second or two to remove, which the build's next
# step need not wait for. wait_for_removals() ends every build, so nothing is left behind when it returns.
_PENDING = []


def _later(target, *args):
    thread = threading.Thread(target=target, args=args, name="qi-remove")
    thread.start()
    _PENDING.append(thread)


def _remove_container(container):
    try:
        container.remove(force=True)
    except docker_errors():
        pass


def _remove_image(client, ref, after):
    # A container of this image may still be being removed: the image goes once it has.
    for thread in after:
        thread.join()
    try:
        client.images.remove(ref, force=True)
    except docker_errors():
        pass


def remove_quietly(container):
    """Remove a throwaway container whatever state it is in, in the background; used in finally blocks, so it
    never raises."""
    if container is not None:
        _later(_remove_container, container)


def remove_image_quietly(client, ref):
    """Remove an image (or one of its tags) if it is there, in the background, after the containers being removed;
    for clean-up paths, so it never raises."""
    _later(_remove_image, client, ref, list(_PENDING))


def wait_for_removals():
    """Wait for every removal started so far."""
    while _PENDING:
        _PENDING.pop(0).join()
