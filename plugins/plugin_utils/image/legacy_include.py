# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rewrite the `include:` that ansible-core 2.16 removed into what replaced it, keeping the rest of the text.

A task `include:` becomes `import_tasks:` (static, as Ansible 2.x made an include without a loop or a templated
name: its tags and conditions reach every included task) or `include_tasks:` where it loops, names a templated
file or says `static: no`. Its old `k=v` parameters move to `vars:`. A play-level `include:` becomes
`import_playbook:`. Only the characters of those keys and values change, so every other line, comment and tag
keeps its place (pure: text in, text out).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

import yaml
from ansible.parsing.splitter import parse_kv

from ...module_utils.errors import QiError

PLAY_KEYS = ("hosts", "import_playbook", "roles", "tasks")
TASK_LISTS = ("pre_tasks", "tasks", "post_tasks", "handlers")
BLOCK_LISTS = ("block", "rescue", "always")
_MENTION = re.compile(r"(?<![\w.-])include[ \t]*:")


def mentions_include(text):
    """A cheap first look: could this text hold an `include:` key at all."""
    return bool(_MENTION.search(text))


def _keys(node):
    return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _false(value):
    return str(value).strip().lower() in ("no", "false", "0", "off")


class _Edits:
    """Replacements by character span, applied back to front so earlier spans keep their offsets."""

    def __init__(self, text):
        self.text, self.spans, self.playbooks = text, [], []

    def add(self, start, end, new):
        self.spans.append((start, end, new))

    def drop_line_of(self, key, value):
        """Remove a `key: value` that sits alone on its line; False when it shares the line with other keys."""
        line_start = self.text.rfind("\n", 0, key.start_mark.index) + 1
        if self.text[line_start:key.start_mark.index].strip() or value.end_mark.line != key.start_mark.line:
            return False
        line_end = self.text.find("\n", value.end_mark.index)
        self.add(line_start, len(self.text) if line_end < 0 else line_end + 1, "")
        return True

    def apply(self):
        text = self.text
        for start, end, new in sorted(self.spans, reverse=True):
            text = text[:start] + new + text[end:]
        return text


def _vars_edit(edits, node, keys, extra, where):
    """Move an old include's k=v parameters into the task's vars."""
    if "vars" in keys:
        vnode = keys["vars"][1]
        if not isinstance(vnode, yaml.MappingNode) or vnode.flow_style or not vnode.value:
            raise QiError("%s: an `include:` with k=v parameters and a vars: that is not a block mapping; move the "
                          "parameters into vars: by hand" % where)
        first = vnode.value[0][0].start_mark
        edits.add(first.index, first.index, "".join("%s: %s\n%s" % (k, json.dumps(v), " " * first.column)
                                                    for k, v in extra.items()))
        return
    if node.flow_style:
        pos = node.end_mark.index - 1  # before the closing brace
        edits.add(pos, pos, ", vars: %s" % json.dumps(extra))
    else:
        key, pos = keys["include"][0].start_mark, keys["include"][1].end_mark.index
        edits.add(pos, pos, "\n%svars: %s" % (" " * key.column, json.dumps(extra)))


def _scalars(node):
    if isinstance(node, yaml.ScalarNode):
        return [t.strip() for t in node.value.split(",") if t.strip()]
    return [n.value for n in getattr(node, "value", []) if isinstance(n, yaml.ScalarNode)]


def _name_and_params(vnode):
    """The included file and the old include's k=v parameters."""
    if isinstance(vnode, yaml.MappingNode):
        return _keys(vnode).get("file", (None, yaml.ScalarNode("", "")))[1].value, {}
    args = parse_kv(vnode.value)
    name = args.pop("_raw_params", args.get("file", ""))
    return name, {k: v for k, v in args.items() if k != "file"}


def _task_action(edits, keys, name, vnode, where):
    """(import_tasks or include_tasks, the new value or None) for a task-level include."""
    dynamic = "{{" in name or any(k == "loop" or k.startswith("with_") for k in keys)
    if "static" in keys:
        dynamic = dynamic or _false(keys["static"][1].value)
        if not edits.drop_line_of(*keys["static"]):
            raise QiError("%s: `static:` shares its line with another key; put it on a line of its own" % where)
    # The old dynamic include passed its tags on to the included tasks; include_tasks does so only through apply.
    if dynamic and "tags" in keys and isinstance(vnode, yaml.ScalarNode):
        return "include_tasks", {"file": name, "apply": {"tags": _scalars(keys["tags"][1])}}
    return ("include_tasks" if dynamic else "import_tasks"), None


def _include(edits, node, play_level, where):
    keys = _keys(node)
    knode, vnode = keys["include"]
    name, extra = _name_and_params(vnode)
    if extra:
        _vars_edit(edits, node, keys, extra, where)
    if play_level:
        action, value = "import_playbook", None
        edits.playbooks.append(name)
    else:
        action, value = _task_action(edits, keys, name, vnode, where)
    if value is None and extra:
        value = name
    if value is not None:
        edits.add(vnode.start_mark.index, vnode.end_mark.index,
                  json.dumps(value) if isinstance(value, dict) or ":" in value or "{" in value else value)
    edits.add(knode.start_mark.index, knode.end_mark.index, action)


def _tasks(edits, seq, where):
    if not isinstance(seq, yaml.SequenceNode):
        return
    for item in seq.value:
        if not isinstance(item, yaml.MappingNode):
            continue
        keys = _keys(item)
        for block in BLOCK_LISTS:
            if block in keys:
                _tasks(edits, keys[block][1], where)
        if "include" in keys:
            _include(edits, item, False, "%s line %d" % (where, keys["include"][0].start_mark.line + 1))


def is_playbook(root):
    """A list whose items are plays (a legacy file of play-level includes only is told by its includer)."""
    return isinstance(root, yaml.SequenceNode) and any(
        isinstance(i, yaml.MappingNode) and any(k in _keys(i) for k in PLAY_KEYS) for i in root.value)


def rewrite(text, where, playbook=None):
    """(new text, number of includes rewritten, files included at play level).

    where: the file's name for errors; playbook: True/False when the caller knows, None to tell from the text."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return text, 0, []
    if not isinstance(root, yaml.SequenceNode):
        return text, 0, []
    edits = _Edits(text)
    if playbook if playbook is not None else is_playbook(root):
        for play in root.value:
            if not isinstance(play, yaml.MappingNode):
                continue
            keys = _keys(play)
            if "include" in keys and "hosts" not in keys:
                _include(edits, play, True, "%s line %d" % (where, keys["include"][0].start_mark.line + 1))
            for name in TASK_LISTS:
                if name in keys:
                    _tasks(edits, keys[name][1], where)
    else:
        _tasks(edits, root, where)
    count = sum(1 for s in edits.spans if s[2] in ("import_tasks", "include_tasks", "import_playbook"))
    return edits.apply(), count, edits.playbooks
