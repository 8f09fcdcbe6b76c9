# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load user YAML safely and quickly, keeping line numbers for error messages.

Guards against what would otherwise hang or crash: huge files, binary junk, duplicate keys,
alias bombs and recursive aliases.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ...module_utils.errors import QiError

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False

MAX_BYTES = 1024 * 1024
MAX_NODES = 100000


class LineDict(dict):
    """A dict that remembers the line of each key (``lines[key]``, 1-based)."""

    def __init__(self, *args, **kwargs):
        super(LineDict, self).__init__(*args, **kwargs)
        self.lines = {}


def _expanded_size(root, path):
    """Count nodes as a consumer would see them with aliases expanded; stop early past MAX_NODES."""
    memo = {}
    active = set()

    def size(node):
        key = id(node)
        if key in memo:
            return memo[key]
        if key in active:
            raise QiError("recursive YAML alias: a node contains itself", path=path,
                          line=node.start_mark.line + 1)
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child)
                if total > MAX_NODES:
                    break
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
                if total > MAX_NODES:
                    break
        active.discard(key)
        memo[key] = total
        if total > MAX_NODES:
            raise QiError("document expands to more than %d nodes (YAML alias bomb?)" % MAX_NODES,
                          path=path, line=node.start_mark.line + 1)
        return total

    return size(root)


if HAS_YAML:
    class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        """SafeLoader (libyaml's parser where PyYAML has it: 4x faster) that rejects duplicate keys and keeps
        key lines."""

        def construct_mapping(self, node, deep=False):
            if not isinstance(node, yaml.MappingNode):
                raise yaml.constructor.ConstructorError(None, None, "expected a mapping", node.start_mark)
            self.flatten_mapping(node)
            result = LineDict()
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise QiError("a mapping key must be a plain value, not a list or mapping",
                                  path=self.qi_path, line=key_node.start_mark.line + 1)
                if key in result:
                    raise QiError("duplicate key '%s' (first at line %d)" % (key, result.lines[key]),
                                  path=self.qi_path, line=key_node.start_mark.line + 1)
                result[key] = self.construct_object(value_node, deep=deep)
                result.lines[key] = key_node.start_mark.line + 1
            return result

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)


def _check_text(text, path):
    if not HAS_YAML:
        raise QiError("PyYAML is required to read YAML files", path=path)
    if len(text) > MAX_BYTES:
        raise QiError("file is larger than %d bytes; expected a small YAML file" % MAX_BYTES, path=path)
    if "\x00" in text:
        raise QiError("file contains NUL bytes; expected a YAML text file", path=path)


def _marked_error(e, path):
    mark = e.problem_mark or e.context_mark
    context = e.context
    if context and e.context_mark and mark and e.context_mark.line != mark.line:
        context = "%s that starts at line %d," % (context, e.context_mark.line + 1)
    msg = " ".join(x for x in (context, e.problem) if x) or "invalid YAML"
    return QiError("invalid YAML: %s" % msg, path=path, line=mark.line + 1 if mark else None)


def _parse(text, path):
    loader = _Loader(text)
    try:
        loader.qi_path = path
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, path)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_text(text, path="<string>"):
    """Parse one YAML document from text; raise QiError on anything unusable."""
    _check_text(text, path)
    try:
        return _parse(text, path)
    except QiError:
        raise
    except yaml.MarkedYAMLError as e:
        raise _marked_error(e, path)
    except yaml.YAMLError as e:
        raise QiError("invalid YAML: %s" % e, path=path)
    except (RecursionError, ValueError, TypeError, OverflowError) as e:
        raise QiError("YAML cannot be read: %s" % e, path=path)


def load_file(path):
    """Read and parse a YAML file with the same guards as load_text."""
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise QiError("file is %d bytes, larger than %d; expected a small YAML file" % (size, MAX_BYTES),
                          path=path)
        with open(path, "rb") as f:
            raw = f.read()
    except (IOError, OSError) as e:
        raise QiError("cannot read file: %s" % e.strerror, path=path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise QiError("not UTF-8 text (byte %d); expected a YAML text file" % e.start, path=path)
    return load_text(text, path)
