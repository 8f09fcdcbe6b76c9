# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small cluster look-ups around a release: its namespace, and where its Service answers."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def ensure_namespace(kube, name, check_mode):
    """Create the namespace when missing; True when it was (or would be) created."""
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    if kube.get(ns) is not None:
        return False
    if not check_mode:
        kube.apply(ns)
    return True


def service_info(kube, namespace, release, objects):
    """Type, port and node port of the release's first Service, as the cluster assigned them."""
    svc = next((o for o in objects or [] if o["kind"] == "Service"), None)
    if svc is None:
        return None
    live = kube.get(svc) or svc
    port = live["spec"]["ports"][0]
    return {"name": svc["metadata"]["name"], "namespace": namespace, "type": live["spec"]["type"],
            "port": port["port"], "node_port": port.get("nodePort")}
