# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The build container: commands run in it, files put into it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import os
import tarfile

from ...module_utils.errors import QiError
from .build_log import hints, output_tail
from .fingerprint import SKIP_DIRS
from .reproducible import add_bytes


def run_in(container, cmd, user="root", what="command", workdir=None, env=None, log=None):
    """Run cmd in the container as user; its output, or QiError naming what failed with the output's last lines
    and, when a log is kept, the causes the log shows."""
    res = container.exec_run(["/bin/sh", "-c", cmd], user=user, workdir=workdir, environment=env)
    out = res.output.decode("utf-8", "replace")
    if log is not None:
        log.write(out)
    if res.exit_code != 0:
        tail = output_tail(out)
        said = ""
        if log is not None:
            log.flush()
            said = "\n".join(hints(log.name))
        raise QiError("%s failed in the build container (exit %d):\n%s%s" % (
            what, res.exit_code, said + "\n" if said else "", tail))
    return out.strip()


def source_tar(src, dest, exclude=()):
    """A tar of the app folder to extract at '/', placed at dest as the Vagrant synced folder would be, without
    the folders of src named in exclude."""
    buf = io.BytesIO()
    excluded = set(os.path.normpath(os.path.join(dest.lstrip("/"), e)) for e in exclude)
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def keep(info):
            return None if os.path.basename(info.name) in SKIP_DIRS or info.name in excluded else info
        tar.add(src, arcname=dest.lstrip("/"), filter=keep)
    return buf.getvalue()


def files_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data, mode in files:
            add_bytes(tar, path.lstrip("/"), data, mode)
    return buf.getvalue()


def quote(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"
