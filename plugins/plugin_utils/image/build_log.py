# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed build's log says, in the words that matter: the failed tasks, and causes the output buries."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

# A package.json dependency written owner/repo#ref: npm fetches its tarball from GitHub.
_GITHUB_TARBALL = re.compile(r"request to (https://codeload\.github\.com/[^\s\"']+) failed")
# The task (or play) keyword ansible-core 2.16 removed; 2016-era roles use it everywhere.
_REMOVED_INCLUDE = "'ansible.builtin.include' action plugin has been removed"
_INCLUDE_LINE = re.compile(r"^[ \t]*(?:-[ \t]+)?include[ \t]*:", re.M)
# A pinned version the registry does not serve: npm's ETARGET/E404, yarn classic's two ways of saying it.
_NOT_SERVED = (
    re.compile(r"No matching version found for (\S+?)\.?$", re.M),
    re.compile(r"'(\S+@\S+)' is not in this registry", re.M),
    re.compile(r"Couldn't find any versions for \"([^\"]+)\" that matches \"([^\"]+)\""),
    re.compile(r"https?://[^/\s]+/((?:@[^/\s]+/)?[^/\s]+)/-/\S+?-(\d[\w.+-]*?)\.tgz: Request failed \"404"),
)
# A JavaScript stack frame ("    at f (file:1:2)"): noise under the message it belongs to.
_STACK_FRAME = re.compile(r"\s+at \S")
_GIT_DEP = re.compile(r"(?:git|ls-remote)[^\n]*?((?:git\+)?(?:ssh|https?|git)://[^\s\"']+?\.git(?=[\s\"'/#:]|$)|github:[\w./-]+)")


def failure_lines(log_path):
    """The task failures the playbook printed, so the build error carries the task's own message."""
    out = []
    with open(log_path, "r", errors="replace") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        ignored = any(l.startswith("...ignoring") for l in lines[i + 1:i + 3])
        if not ignored and line.startswith(("fatal:", "failed:", "ERROR!", "[ERROR]")) and not (
                line.startswith("[ERROR]") and any(l.startswith("...ignoring") for l in lines[i + 1:i + 4])):
            task = next((lines[j] for j in range(i, -1, -1) if lines[j].startswith(("TASK [", "RUNNING HANDLER ["))), "")
            out.append((task.rstrip("* ") + " " + line).strip())
    return out or lines[-15:]


def _include_uses(search_dirs, most=8):
    """'file:line' of each task or play `include:` under the folders, the first `most` of them."""
    found = []
    for top in search_dirs:
        for root, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(f for f in files if f.endswith((".yml", ".yaml"))):
                path = os.path.join(root, name)
                with open(path, "r", errors="replace") as f:
                    text = f.read()
                found += ["%s:%d" % (path, text.count("\n", 0, m.start()) + 1) for m in _INCLUDE_LINE.finditer(text)]
    return found[:most] + (["..."] if len(found) > most else [])


def hints(log_path, search_dirs=()):
    """Plain words for failures whose own output buries the cause; search_dirs: the playbook's folder and the
    roles it may run, to name the files behind a cause."""
    with open(log_path, "r", errors="replace") as f:
        text = f.read()
    if _REMOVED_INCLUDE in text:
        uses = _include_uses(search_dirs)
        return ["the provisioning uses `include:`, which ansible-core 2.16 removed%s. Replace a task `include:` by "
                "`import_tasks:` (static: its tags still reach the included tasks, as the old include did) or "
                "`include_tasks:` where it loops, and a play-level `include:` by `import_playbook:`."
                % ((": " + ", ".join(uses)) if uses else "")]
    deps = sorted(set(m.group(1) for m in _GIT_DEP.finditer(text) if "npm" in text) |
                  set(m.group(1) for m in _GITHUB_TARBALL.finditer(text)))
    if deps and ("npm error" in text or "npm ERR!" in text or "error Command failed" in text):
        return ["npm could not fetch the git-hosted dependency %s: its git host is not reachable from this "
                "machine. Publish it to the npm registry and depend on a version, or vendor it into the app."
                % ", ".join(deps)]
    missing = _not_served(text)
    if missing:
        return ["the npm registry this machine reaches serves no %s (unpublished since, or not mirrored here). Depend "
                "on a version it serves (`npm view NAME versions` lists them), or vendor the package into the app."
                % ", ".join(missing)]
    return []


def _not_served(text):
    """'name@version' of each pinned dependency the registry answered it has not."""
    found = []
    for pattern in _NOT_SERVED:
        for m in pattern.finditer(text):
            name = "@".join(m.groups())
            if name not in found:
                found.append(name)
    return found


def output_tail(out, most=20):
    """The last lines of a command's output that say something: no JavaScript stack frames, no Node.js
    deprecation notices."""
    said = [l for l in out.strip().splitlines()
            if not _STACK_FRAME.match(l) and "DeprecationWarning" not in l and "--trace-deprecation" not in l]
    return "\n".join(said[-most:])
