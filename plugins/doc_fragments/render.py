# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The options that shape rendered objects, shared by k8s_manifests and k8s_release.
    DOCUMENTATION = r"""
options:
  environment:
    description:
      - Where the app runs, from inventory variables. Keys - C(namespace), C(replicas), C(service_type),
        C(node_port), C(resources), C(env), C(ingress) (host with C({name}) for the app name, path, class,
        tls_secret), C(pdb), C(hpa) (min, max, cpu, scale_down_after), C(anti_affinity), C(network_policy), C(progress_deadline),
        C(part_of), C(storage_class), C(volume_claims_on_delete) (C(Retain) or C(Delete)),
        C(image_pull_secrets) (names), C(node_selector), C(tolerations), C(topology_spread) (a topology
        key, or max_skew, topology_key, when_unsatisfiable), C(pod_annotations), C(service_annotations),
        C(ingress_annotations).
    type: dict
    default: {}
  secrets:
    description: Values of the Secrets the app declares, by secret name (keep them in Vault; never logged).
    type: dict
    default: {}
"""

    # Attributes of a module that only reads or computes.
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: The module changes nothing, so check mode runs it as it is.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to show.
  idempotent:
    support: full
    description: The same inputs give the same result.
"""
