# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one qi.convergence.k8s_release task does, from its validated options to its result."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ...module_utils.errors import QiError
from ..kube.client import kube_client
from ...module_utils.manifests import render
from .generated import generated_values
from .ingress_tls import ensure_tls_secrets
from .namespace import ensure_namespace
from .releases import Histories, remove_releases, run_releases


def _requested(p):
    """Every input shape as one list of releases, and whether it was the one-release shape: `releases` as given;
    `specs` (with `images`) and the one-release options (release, spec, image, objects, revision) are aliases."""
    if p["releases"] or p["specs"]:
        from_specs = [dict(spec=s, image=p["images"].get(s.get("name")) or p["image"]) for s in p["specs"] or []]
        return (p["releases"] or []) + from_specs, False
    return [dict(release=p["release"], spec=p["spec"], image=p["image"], objects=p["objects"],
                 revision=p["revision"])], True


def _image(p, histories, r, name, single):
    # One named release (app_deploy_release): the image just built for its app, by the app's name.
    image = r.get("image") or (p["images"].get((r.get("spec") or {}).get("name") or name) if single else None)
    # No image given: keep the one the release runs now (a configuration-only deploy).
    image = image or (histories.current(name) or {}).get("image")
    if not image:
        raise QiError("no image for %s: it has no revision yet; build it first (playbooks/site.yml) "
                      "or pass -e app_image=REF" % name)
    return image


def _item(p, histories, i, r, single, generated):
    """One release to run: objects to apply (rendered here from a spec) or a revision to go back to."""
    name = r.get("release") or (r.get("spec") or {}).get("name")
    if not name:
        raise QiError("releases[%d]: a release name is needed when no spec is given" % i)
    objects, image = r.get("objects") or [], r.get("image")
    if r.get("spec"):
        image = _image(p, histories, r, name, single)
        env = dict(p["environment"], **(r.get("environment") or {}))
        env.update(namespace=p["namespace"], secrets=p["secrets"], generated=generated)
        objects = render(r["spec"], image, env, name)
    elif r.get("revision") is None and not objects and p["state"] == "present":
        raise QiError("release %s: give spec and image, objects, or a revision to roll back to" % name)
    elif single and not image:
        image = p["images"].get(name)
    component = (r.get("spec") or {}).get("component")
    return {"release": name, "objects": objects, "image": image, "revision": r.get("revision"),
            "wave": component["wave"] if component else None}


def _items(p, histories):
    requested, single = _requested(p)
    generated = generated_values(histories.kube, p["namespace"], [r["spec"] for r in requested if r.get("spec")])
    return [_item(p, histories, i, r, single, generated) for i, r in enumerate(requested)]


def _removed(histories, items, check_mode):
    results = remove_releases(histories, [i["release"] for i in items], check_mode)
    return dict(changed=any(r["changed"] for r in results), releases=results, **_single(results)), None


def deploy(p, check_mode=False, want_diff=False, progress=None):
    """Run the task; return (result, error message or None). Raises QiError for what stops it before any rollout."""
    kube = kube_client(p)
    p = dict(p, namespace=p["namespace"] or p["environment"].get("namespace") or kube.namespace or "default")
    histories = Histories(kube, p["namespace"])
    items = _items(p, histories)
    if p["state"] == "absent":
        return _removed(histories, items, check_mode)
    ns_created = p["create_namespace"] and ensure_namespace(kube, p["namespace"], check_mode)
    ns_missing = bool(ns_created and check_mode)
    issued = [] if ns_missing else _tls_secrets(kube, p, items, check_mode, progress)
    results, errors, releases = run_releases(kube, p, items, histories, check_mode, want_diff, progress,
                                             namespace_missing=ns_missing)
    out = _result(kube, bool(ns_created or issued), results, releases if want_diff else None)
    if issued:
        out["tls_issued"] = [dict(secret=s, why=w) for s, w in issued]
    return out, ("\n\n".join(errors) if errors else None)


def _result(kube, changed_before, results, diffed_releases):
    out = dict(changed=changed_before or any(r["changed"] for r in results), releases=results, **_single(results))
    if kube.retried:
        out["api_retries"] = kube.retried
    if diffed_releases is not None:
        out["diff"] = [d for r in diffed_releases for d in r.diff]
    return out


def _tls_secrets(kube, p, items, check_mode, progress):
    """The Ingresses' TLS Secrets the local CA issued (or would issue), said as progress."""
    issued = ensure_tls_secrets(kube, p["namespace"], items, p["ingress_ca"], check_mode)
    for secret, why in issued:
        if progress:
            progress("TLS Secret %s issued by the local CA (%s)" % (secret, why))
    return issued


def _single(results):
    """For one release, its result's keys at the top level too (what playbooks for one app read)."""
    if len(results) != 1:
        return {}
    return dict((k, v) for k, v in results[0].items() if k not in ("changed", "failed", "msg"))
