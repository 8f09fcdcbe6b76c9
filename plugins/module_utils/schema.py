# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small declarative schema checker: types, ranges, names, unknown keys with 'did you mean'."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import re

from ansible_collections.qi.convergence.plugins.module_utils.errors import QiError

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$")


class Ctx:
    """Where a value sits: file, dotted key path and line."""

    def __init__(self, path, key="", line=None):
        self.path = path
        self.key = key
        self.line = line

    def child(self, parent, name):
        lines = getattr(parent, "lines", {})
        key = "%s.%s" % (self.key, name) if self.key else str(name)
        if isinstance(name, int):
            key = "%s[%d]" % (self.key, name)
        return Ctx(self.path, key, lines.get(name, self.line))

    def fail(self, message):
        raise QiError(message, path=self.path, key=self.key or None, line=self.line)


def _type_name(value):
    if value is None:
        return "nothing (null)"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list"}.get(type(value), "a mapping" if isinstance(value, dict) else type(value).__name__)


class Field:
    def check(self, value, ctx):
        raise NotImplementedError


class Str(Field):
    def __init__(self, choices=None, pattern=None, what=None, max_len=4096):
        self.choices = choices
        self.pattern = pattern
        self.what = what
        self.max_len = max_len

    def check(self, value, ctx):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            ctx.fail("expected %s, got %s" % (self.what or "a string", _type_name(value)))
        value = str(value)
        if len(value) > self.max_len:
            ctx.fail("expected at most %d characters, got %d" % (self.max_len, len(value)))
        if self.choices and value not in self.choices:
            hint = difflib.get_close_matches(value, self.choices, n=1)
            ctx.fail("expected one of %s, got '%s'%s" % (", ".join(self.choices), value,
                                                         " (did you mean '%s'?)" % hint[0] if hint else ""))
        if self.pattern and not self.pattern.match(value):
            ctx.fail("expected %s, got '%s'" % (self.what, value))
        return value


class Name(Str):
    """A Kubernetes DNS-1123 label: lower case alphanumerics and '-', at most 63 characters."""

    def __init__(self):
        super(Name, self).__init__(
            pattern=DNS1123_LABEL,
            what="a DNS-1123 name (lower case letters, digits and '-', starting and ending with a letter or digit)",
            max_len=63)


class Quantity(Str):
    def __init__(self):
        super(Quantity, self).__init__(pattern=QUANTITY, what="a Kubernetes quantity such as 100m, 0.5, 128Mi or 1Gi")


class Int(Field):
    def __init__(self, minimum=None, maximum=None, what="a whole number"):
        self.minimum = minimum
        self.maximum = maximum
        self.what = what

    def check(self, value, ctx):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            ctx.fail("expected %s, got %s" % (self.what, _type_name(value)))
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            ctx.fail("expected %s from %s to %s, got %d" % (self.what, self.minimum, self.maximum, value))
        return value


class Port(Int):
    def __init__(self):
        super(Port, self).__init__(1, 65535, "a TCP port")


class Bool(Field):
    TRUE = ("yes", "true", "on", "1")
    FALSE = ("no", "false", "off", "0")

    def check(self, value, ctx):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in self.TRUE + self.FALSE:
            return value.lower() in self.TRUE
        ctx.fail("expected true or false, got %s" % _type_name(value))


class List(Field):
    def __init__(self, item, coerce_scalar=False):
        self.item = item
        self.coerce_scalar = coerce_scalar

    def check(self, value, ctx):
        if value is None:
            return []
        if self.coerce_scalar and isinstance(value, (str, int)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list):
            ctx.fail("expected a list, got %s" % _type_name(value))
        return [self.item.check(v, ctx.child(value, i)) for i, v in enumerate(value)]


class Env(Field):
    """Environment variables: a mapping, or the legacy list of 'NAME=value' strings."""

    def check(self, value, ctx):
        if value is None:
            return {}
        out = {}
        if isinstance(value, list):
            for i, item in enumerate(value):
                sub = ctx.child(value, i)
                if isinstance(item, dict) and len(item) == 1:
                    item = "%s=%s" % next(iter(item.items()))
                if not isinstance(item, str) or "=" not in item:
                    sub.fail("expected 'NAME=value', got %s" % (repr(item) if isinstance(item, str) else _type_name(item)))
                k, v = item.split("=", 1)
                out[self._name(k.strip(), sub)] = v
            return out
        if not isinstance(value, dict):
            ctx.fail("expected a mapping of NAME: value or a list of 'NAME=value', got %s" % _type_name(value))
        for k, v in value.items():
            sub = ctx.child(value, k)
            if isinstance(v, (dict, list)):
                sub.fail("expected a plain value, got %s" % _type_name(v))
            out[self._name(str(k), sub)] = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
        return out

    @staticmethod
    def _name(name, ctx):
        if not ENV_NAME.match(name):
            ctx.fail("'%s' is not a valid environment variable name" % name)
        return name


class Any(Field):
    def check(self, value, ctx):
        return value


class Map(Field):
    """A mapping with known keys; unknown keys are errors with a 'did you mean'."""

    def __init__(self, fields, required=(), open_keys=False):
        self.fields = fields
        self.required = required
        self.open_keys = open_keys

    def check(self, value, ctx):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            ctx.fail("expected a mapping, got %s" % _type_name(value))
        out = {}
        for key in value:
            sub = ctx.child(value, key)
            if not isinstance(key, str):
                sub.fail("keys must be strings, got %s" % _type_name(key))
            if key not in self.fields:
                if self.open_keys:
                    out[key] = value[key]
                    continue
                hint = difflib.get_close_matches(key, list(self.fields), n=1, cutoff=0.6)
                sub.fail("unknown key%s; known keys: %s" % (
                    " (did you mean '%s'?)" % hint[0] if hint else "", ", ".join(sorted(self.fields))))
            out[key] = self.fields[key].check(value[key], sub)
        for key in self.required:
            if key not in value:
                ctx.fail("missing required key '%s'" % key)
        return out
