# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's npm settings (registry, proxies, CA bundle) for npm and yarn in a build container.

Nothing is hard-coded: what the host's npm uses is what the build uses. The files go in for the build and
are removed before the commit, so no setting or token reaches an image layer.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import subprocess

KEYS = ("registry", "proxy", "https-proxy", "noproxy", "strict-ssl")
NPMRC = "/usr/local/etc/npmrc"
CA_FILE = "/usr/local/etc/qi-build-ca.pem"


def _npm_config():
    """(settings among KEYS, its cafile or None) from `npm config list` on the controller, if npm is there."""
    npm = shutil.which("npm")
    if not npm:
        return {}, None
    try:
        out = subprocess.run([npm, "config", "list", "--json"], stdin=subprocess.DEVNULL, check=False,
                             capture_output=True, text=True, timeout=30)
        data = json.loads(out.stdout or "{}")
    except (ValueError, OSError, subprocess.TimeoutExpired):
        return {}, None
    return dict((k, data[k]) for k in KEYS if data.get(k) not in (None, "", "null")), data.get("cafile")


def _ca_bundle(npm_cafile):
    for path in (os.environ.get("NODE_EXTRA_CA_CERTS"), npm_cafile, "/etc/ssl/certs/ca-certificates.crt",
                 "/etc/pki/tls/certs/ca-bundle.crt"):
        if path and os.path.isfile(path):
            with open(path, "rb") as f:
                return f.read()
    return None


def host_settings():
    """(settings, CA bundle bytes or None) from the controller's npm config and trust store."""
    values, ca = _npm_config()
    for env, key in (("HTTPS_PROXY", "https-proxy"), ("HTTP_PROXY", "proxy"), ("NO_PROXY", "noproxy")):
        proxy = os.environ.get(env) or os.environ.get(env.lower())
        if key not in values and proxy:
            values[key] = proxy
    bundle = _ca_bundle(ca)
    if bundle:
        values["cafile"] = CA_FILE
    values = dict((k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in values.items())
    return values, bundle


def npmrc_text(values):
    return "".join("%s=%s\n" % kv for kv in sorted(values.items()))


def environment(values):
    """The same settings as environment variables: npm and yarn read npm_config_*; Node.js its CA variable."""
    env = dict(("npm_config_%s" % k.replace("-", "_"), v) for k, v in values.items())
    if "cafile" in values:
        env["NODE_EXTRA_CA_CERTS"] = values["cafile"]
    return env
