# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The same inputs give the same image, byte for byte, on any engine.

`docker commit` stamps the time into the config (created, history, the container's ID) and the layer keeps the
build's file times. Here the committed image's own layer is rewritten with every time clamped to the source's date
(SOURCE_DATE_EPOCH, else the app folder's last commit, else 1970), and its config without what names the build
container; the result is loaded back under the tag. The base layers are not touched: the same base image and the
same inputs give the same image ID, and the same registry digest from engines of the same version.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile

from .docker_client import docker_errors
from ...module_utils.errors import QiError

# Times a tar member may carry besides its mtime: they differ on every build and nothing needs them.
_PAX_TIMES = ("atime", "ctime", "mtime")
_CHUNK = 1 << 20


def source_date_epoch(app_dir, environ=None):
    """SOURCE_DATE_EPOCH when set, else the time of the last commit touching app_dir, else 0."""
    value = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH")
    if value not in (None, ""):
        try:
            return int(value)
        except ValueError:
            raise QiError("SOURCE_DATE_EPOCH must be a number of seconds since 1970, got %r" % value)
    try:
        res = subprocess.run(["git", "log", "-1", "--format=%ct", "--", "."], cwd=app_dir, capture_output=True,
                             text=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    out = res.stdout.strip()
    return int(out) if res.returncode == 0 and out.isdigit() else 0


def rfc3339(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def shadow_clamp_command(epoch):
    """Shell: clamp the 'last password change' day of /etc/shadow (useradd writes today's) to the epoch's day."""
    days = epoch // 86400
    return ("for f in /etc/shadow /etc/shadow-; do [ -f \"$f\" ] || continue; "
            "awk -F: -v OFS=: -v d=%d '$3 != \"\" && $3 > d {$3 = d} 1' \"$f\" > \"$f.qi\" "
            "&& { cmp -s \"$f.qi\" \"$f\" || cat \"$f.qi\" > \"$f\"; }; rm -f \"$f.qi\"; done" % days)


class _Hashing:
    def __init__(self, raw):
        self.raw, self.sha = raw, hashlib.sha256()

    def write(self, data):
        self.sha.update(data)
        return self.raw.write(data)


def normalise_layer(src, dst, epoch):
    """Copy the layer tar src (a file object) to dst (a file object) with every time clamped to epoch; return
    its sha256 (the layer's diff ID). Members keep their order (the engine writes them sorted), owners, modes,
    links and extended attributes."""
    out = _Hashing(dst)
    # r|* : an engine that keeps layers compressed (containerd's image store) saves them so.
    with tarfile.open(fileobj=src, mode="r|*") as reader:
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as writer:
            for member in reader:
                member.mtime = min(int(member.mtime), epoch)
                member.pax_headers = dict((k, v) for k, v in member.pax_headers.items() if k not in _PAX_TIMES)
                writer.addfile(member, reader.extractfile(member) if member.isreg() else None)
    return out.sha.hexdigest()


def normalise_config(config, diff_id, epoch, created_by):
    """The committed image's config without what names the build container or the time of the build (pure)."""
    when = rfc3339(epoch)
    out = dict((k, v) for k, v in config.items() if k not in ("container", "container_config", "docker_version"))
    out["created"] = when
    history = [dict(h) for h in config.get("history") or []]
    if history:
        history[-1] = dict({"created": when, "created_by": created_by},
                           **({"empty_layer": True} if history[-1].get("empty_layer") else {}))
    out["history"] = history
    if diff_id:
        rootfs = dict(config["rootfs"])
        rootfs["diff_ids"] = list(rootfs["diff_ids"][:-1]) + ["sha256:" + diff_id]
        out["rootfs"] = rootfs
    inner = dict(out.get("config") or {})
    inner.update(Hostname="", Domainname="", Image="")
    out["config"] = inner
    return out


def add_bytes(tar, name, data, mode=0o644):
    """Add a file member with the given content to an open tar."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _bundle(path, ref, config_bytes, image_id, layers, layer_file, saved=None):
    """A docker-load archive of the rewritten image: its config, its manifest, its own layer from layer_file and,
    when saved (the committed image's archive) is given, the base layers from there too."""
    with tarfile.open(path, "w") as tar:
        add_bytes(tar, "%s.json" % image_id, config_bytes)
        add_bytes(tar, "manifest.json", json.dumps(
            [{"Config": "%s.json" % image_id, "RepoTags": [ref], "Layers": layers}]).encode("utf-8"))
        if saved is not None:
            for name in layers[:-1] if layer_file else layers:
                member = saved.getmember(name)
                tar.addfile(member, saved.extractfile(member))
        if layer_file:
            tar.add(layer_file, arcname=layers[-1])


def _load(client, path):
    with open(path, "rb") as f:
        client.images.load(f)


def load_layer(client, ref, config, layer_file, diff_id, epoch, created_by, platform=("amd64", "linux")):
    """Load an image of one layer (a normalised layer tar and its sha256) with the container config config, as
    ref; return the ID of its image config. Nothing in it names the time of the build."""
    when = rfc3339(epoch)
    image_config = {"architecture": platform[0], "os": platform[1], "config": config, "created": when,
                    "history": [{"created": when, "created_by": created_by}],
                    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]}}
    config_bytes = json.dumps(image_config, sort_keys=True, separators=(",", ":")).encode("utf-8")
    image_id = hashlib.sha256(config_bytes).hexdigest()
    with tempfile.TemporaryDirectory(prefix="qi-load-") as work:
        bundle = os.path.join(work, "load.tar")
        _bundle(bundle, ref, config_bytes, image_id, ["%s/layer.tar" % diff_id], layer_file)
        _load(client, bundle)
    return "sha256:" + image_id


def make_reproducible(client, image, ref, epoch, created_by):
    """Rewrite the committed image (its own layer and its config) and load the result as ref; return the ID of
    its config. The committed image is removed."""
    with tempfile.TemporaryDirectory(prefix="qi-reproducible-") as work:
        saved_path = os.path.join(work, "saved.tar")
        with open(saved_path, "wb") as f:
            for chunk in image.save(chunk_size=_CHUNK, named=False):
                f.write(chunk)
        layer = None
        with tarfile.open(saved_path) as saved:
            manifest = json.load(saved.extractfile("manifest.json"))[0]
            config = json.load(saved.extractfile(manifest["Config"]))
            diff_id = None
            # A commit without a change adds no layer (an empty_layer history entry): only the config is redone.
            if not (config.get("history") or [{}])[-1].get("empty_layer"):
                layer = os.path.join(work, "layer.tar")
                with open(layer, "wb") as dst:
                    diff_id = normalise_layer(saved.extractfile(manifest["Layers"][-1]), dst, epoch)
            config_bytes = json.dumps(normalise_config(config, diff_id, epoch, created_by), sort_keys=True,
                                      separators=(",", ":")).encode("utf-8")
            image_id = hashlib.sha256(config_bytes).hexdigest()
            layers = list(manifest["Layers"][:-1]) + ["%s/layer.tar" % diff_id] if diff_id else list(manifest["Layers"])
            bundle = os.path.join(work, "load.tar")
            # The base layers are in the engine already: its load finds them by chain ID and needs no file for
            # them. An engine that wants every layer (containerd's image store) gets them from the saved archive.
            _bundle(bundle, ref, config_bytes, image_id, layers, layer)
            try:
                _load(client, bundle)
            except docker_errors():
                _bundle(bundle, ref, config_bytes, image_id, layers, layer, saved)
                _load(client, bundle)
    if image.id != "sha256:" + image_id:
        client.images.remove(image.id, force=True)
    return "sha256:" + image_id
