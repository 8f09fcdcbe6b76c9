# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate loaded YAML against a JSON Schema (the jsonschema library) and report the first problem as a
QiError that names the file, the line, the dotted key path, what was expected and, for an unknown key,
the closest known one."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib

from ...module_utils.errors import QiError

try:
    import jsonschema
    HAS_JSONSCHEMA = True
except ImportError:  # pragma: no cover - a dependency of the collection
    HAS_JSONSCHEMA = False

_TYPE_NAMES = {"string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "a mapping", "null": "nothing"}


def _type_name(value):
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean (%s)" % str(value).lower()
    if isinstance(value, (int, float)):
        return "a number (%s)" % value
    if isinstance(value, str):
        return "a string ('%s')" % (value if len(value) < 60 else value[:57] + "...")
    return "a list" if isinstance(value, list) else "a mapping"


def _key_path(path):
    out = ""
    for part in path:
        out += "[%d]" % part if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _line(document, path):
    """The line of the deepest key on path that the loader recorded."""
    node, line = document, None
    for part in path:
        lines = getattr(node, "lines", None)
        if lines and part in lines:
            line = lines[part]
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return line


def _expected(schema):
    if "enum" in schema:
        return "one of %s" % ", ".join(str(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_expected(s) for s in schema["anyOf"])
    types = schema.get("type")
    if isinstance(types, list):
        return " or ".join(_TYPE_NAMES.get(t, t) for t in types)
    what = _TYPE_NAMES.get(types, "a valid value")
    if schema.get("description") and types in ("string", "integer"):
        what = "%s (%s)" % (what, schema["description"][0].lower() + schema["description"][1:])
    return what


def _additional(error, s):
    known = sorted(s.get("properties", {}))
    extra = [k for k in error.instance if k not in s.get("properties", {})]
    return list(error.path) + extra[:1], _unknown_key(extra[0] if extra else "", known)


def _enum(error, s):
    hint = difflib.get_close_matches(str(error.instance), [str(x) for x in s["enum"]], n=1)
    return list(error.path), "expected one of %s, got %s%s" % (
        ", ".join(str(x) for x in s["enum"]), _type_name(error.instance), " (did you mean '%s'?)" % hint[0] if hint else "")


def _pattern(error, s):
    what = s.get("description") or "a value matching %s" % s["pattern"]
    return list(error.path), "expected %s, got '%s'" % (what[0].lower() + what[1:], error.instance)


def _wrong_type(error, s):
    if error.validator == "type" and error.path and error.path[-1] == "deploy" and isinstance(error.instance, dict):
        return list(error.path), ("expected true or false (QI's meaning: run the app as a service); the "
                                  "Kubernetes settings that were under 'deploy:' moved to 'kubernetes:'")
    return list(error.path), "expected %s, got %s" % (_expected(s), _type_name(error.instance))


def _bounds(error, s):
    return list(error.path), "expected %s from %s to %s, got %s" % (
        _expected(s), s.get("minimum"), s.get("maximum"), error.instance)


_MESSAGES = {
    "additionalProperties": _additional,
    "required": lambda e, s: (list(e.path), "missing required key '%s'" % e.message.split("'")[1]),
    "enum": _enum,
    "pattern": _pattern,
    "type": _wrong_type,
    "anyOf": _wrong_type,
    "propertyNames": _wrong_type,
    "minimum": _bounds,
    "maximum": _bounds,
    "minItems": lambda e, s: (list(e.path), "expected at least %d entries" % s["minItems"]),
    "maxLength": lambda e, s: (list(e.path), "expected at most %d characters" % s["maxLength"]),
}


def _message(error):
    """(the key path, a message naming what was expected) for one schema violation."""
    handler = _MESSAGES.get(error.validator)
    return handler(error, error.schema) if handler else (list(error.path), error.message)


def _unknown_key(key, known):
    hint = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    return "unknown key%s; known keys: %s" % (" (did you mean '%s'?)" % hint[0] if hint else "", ", ".join(known))


def validate(document, schema, path, prefix=()):
    """Raise QiError for the first schema violation of document (read from file path)."""
    if not HAS_JSONSCHEMA:
        raise QiError("the jsonschema Python library is required to validate %s" % path)
    validator = jsonschema.Draft7Validator(schema)
    errors = list(validator.iter_errors(document))
    if not errors:
        return
    # Report the first problem in file order; among errors at one place, the most specific.
    error = min(errors, key=lambda e: (_line(document, list(e.path)) or 0, -len(e.path)))
    key_path, message = _message(error)
    full = list(prefix) + key_path
    raise QiError(message, path=path, key=_key_path(full) or None, line=_line(document, key_path))
