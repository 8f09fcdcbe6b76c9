# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error type that user-facing failures raise: it names the file, the key and what was expected."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class QiError(Exception):
    """An error a user can act on.

    ``path`` is the file, ``key`` the dotted key path inside it, ``line`` the 1-based line when known.
    """

    def __init__(self, message, path=None, key=None, line=None):
        super(QiError, self).__init__(message)
        self.message = message
        self.path = path
        self.key = key
        self.line = line

    def __str__(self):
        where = []
        if self.path:
            where.append(str(self.path) + (":%d" % self.line if self.line else ""))
        if self.key:
            where.append("key '%s'" % self.key)
        return "%s: %s" % (", ".join(where), self.message) if where else self.message
