# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run independent API calls concurrently, keeping order and the first error."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

WORKERS = 8


def pmap(fn, items, workers=WORKERS):
    """[fn(item) for item in items], up to `workers` at a time; re-raises the first exception in order."""
    items = list(items)
    if len(items) < 2:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(fn, i) for i in items]
        return [f.result() for f in futures]
