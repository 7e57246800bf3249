# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builder for ConnectWise ``conditions`` expressions.

Values are never pasted into a condition by hand anywhere else in the
collection: company names contain quotes, backslashes, ampersands and
brackets, and one unescaped quote turns a lookup into a 400 (or worse, into
a different lookup). Inside a double-quoted string a quote is written ``\\"``
and a backslash ``\\\\``; the sandbox's parser reads exactly that.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import decimal
import re

from ansible_collections.mbs.connectwise.plugins.module_utils.dates import cw_datetime

OPERATORS = frozenset(("=", "!=", "<", "<=", ">", ">=", "contains", "like", "in", "not in",
                       "not contains", "not like"))
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")


def quote(value):
    """One value in ConnectWise syntax."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, decimal.Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return "[%s]" % value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return "[%s]" % cw_datetime(value)
    if isinstance(value, str):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    raise TypeError("cannot use %r in a ConnectWise condition" % (value,))


def condition(field, operator, value):
    """``field operator value``; ``in``/``not in`` take a list."""
    if not _FIELD.match(field):
        raise ValueError("invalid condition field %r" % (field,))
    operator = operator.lower()
    if operator not in OPERATORS:
        raise ValueError("invalid condition operator %r" % (operator,))
    if operator in ("in", "not in"):
        values = list(value)
        if not values:
            raise ValueError("an %r condition on %s needs at least one value" % (operator, field))
        rendered = "(%s)" % ",".join(quote(v) for v in values)
    else:
        rendered = quote(value)
    return "%s %s %s" % (field, operator, rendered)


def equals(field, value):
    return condition(field, "=", value)


def is_in(field, values):
    return condition(field, "in", values)


def _join(word, parts):
    parts = [p for p in parts if p]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return (" %s " % word).join("(%s)" % p for p in parts)


def all_of(*parts):
    """Conjunction; empty parts are dropped, each part is parenthesised."""
    return _join("and", parts)


def any_of(*parts):
    return _join("or", parts)


def matching(values):
    """Conjunction of equality conditions from a ``{field: value}`` mapping."""
    return all_of(*(equals(field, value) for field, value in sorted(values.items())))
