# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The specs of a system's components, joined: kind, dependencies and wave of each, and the wiring that the VM's
shared localhost did (localhost:5984 is the database's Service in the cluster)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from .components import check_graph
from .generated_secrets import with_credentials
from ...module_utils.url_credentials import hide_password
from .legacy_roles import database_standin
from .provisioning import LOCAL_ADDRESS


def kind_of(spec):
    """What a component found in a provisioning script is: a database role makes it stateful, a started app with
    a port a service, anything else a job (it runs its program or its provisioning and is done)."""
    if database_standin(spec["build"]["roles"], spec["build"]["requirements"]):
        return "stateful"
    return "service" if spec["service"] and spec["run"].get("port") else "job"


def _rewired(value, ports, own):
    return LOCAL_ADDRESS.sub(lambda m: "%s:%s" % (ports[int(m.group(1))], m.group(1))
                             if int(m.group(1)) in ports and int(m.group(1)) != own else m.group(0), value)


def wire(spec, ports):
    """localhost:PORT in the component's environment, where PORT is another component's, becomes that component's
    Service name: on the VM they shared one host, in the cluster each has its own. Returns what was rewired."""
    own = spec["run"].get("port")
    wired = {}
    for name, value in sorted(spec["run"]["env"].items()):
        new = _rewired(value, ports, own)
        if new != value:
            spec["run"]["env"][name] = wired[name] = new
    for name, value in wired.items():
        spec["notes"].append("component %s: %s=%s (localhost on the VM; the Service in the cluster)"
                             % (spec["name"], name, hide_password(value)))
    return wired


def wire_role_vars(spec, ports):
    """The same for the role variables of the component's provisioning (GPII's preferences_server_couchdb_host_address:
    localhost:5984): they go to its build as extra variables, so the roles template the Service name into their
    config files."""
    own = spec["run"].get("port")
    for name, value in sorted((spec["build"].get("addresses") or {}).items()):
        new = _rewired(value, ports, own)
        if new != value:
            spec["build"]["vars"][name] = new
            spec["notes"].append("component %s: role variable %s=%s for the build (localhost on the VM; the "
                                 "Service in the cluster)" % (spec["name"], name, hide_password(new)))


def addresses(specs):
    """Every component's address as the others see it: QI_<NAME>_URL=http://name:port, for the services."""
    return dict(("QI_%s_URL" % s["name"].upper().replace("-", "_"), "http://%s:%d" % (s["name"], s["run"]["port"]))
                for s in specs if s["run"].get("port"))


def _storage(spec, node):
    """The component's volume; a database stand-in's data folder when none is given."""
    found = database_standin(spec["build"]["roles"], spec["build"]["requirements"])
    if node.get("storage") or node["kind"] != "stateful" or not found:
        return node.get("storage")
    return {"path": spec["run"].get("data_dir") or found[1]["data"]}


def join(specs, nodes, path=None):
    """The specs with their component section: kind, depends_on, wave, wired; raises QiError on a bad graph.

    nodes: [{name, kind, depends_on}] in the specs' order."""
    graph = [dict(n, port=s["run"].get("port")) for s, n in zip(specs, nodes)]
    wave_of = dict((name, i) for i, wave in enumerate(check_graph(graph, path)) for name in wave)
    ports = dict((s["run"]["port"], s["name"]) for s in specs if s["run"].get("port"))
    others = addresses(specs)
    owners = dict((s["name"], e) for s in specs for e in s["deploy"].get("generated_secrets") or [] if e["owned"])
    for spec, node in zip(specs, nodes):
        wired = wire(spec, ports)
        wire_role_vars(spec, ports)
        with_credentials(spec, wired, owners)
        for key, value in others.items():
            spec["run"]["env"].setdefault(key, value)
        # Every component with something to run is deployed, a job too (it has no port to serve on).
        spec["service"] = bool(spec["run"]["command"])
        spec["component"] = {"kind": node["kind"], "depends_on": node["depends_on"], "wave": wave_of[node["name"]],
                             "wired": wired, "storage": _storage(spec, node), "schedule": node.get("schedule")}
    return specs
