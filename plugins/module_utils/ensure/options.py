# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An object's options as the user gives them, checked against its :class:`Resource` before any request.

A bad value fails here with an ``InputError`` naming the option and the value; nothing in
this file reads or writes ConnectWise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.mbs.connectwise.plugins.module_utils.dates import cw_datetime
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.declarations import CLEAR
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(T00:00:00(Z)?)?$")
_ID = re.compile(r"^\s*[0-9]+\s*$")


def option_date(value, option):
    """The date an option gives (``2026-10-01``, or a date); a bad one fails naming the option."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    match = _DATE.match(str(value).strip())
    if not match:
        raise InputError("%s: %r is not a date in the form YYYY-MM-DD" % (option, value))
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise InputError("%s: %r is not a valid calendar date" % (option, value))


def api_date(value, option):
    """``2026-10-01`` (or a date) as ConnectWise writes dates: ``2026-10-01T00:00:00Z``."""
    return cw_datetime(option_date(value, option))


def desired_fields(resource, params):
    """``{option: value}`` for the options the user gave, validated, references unresolved."""
    desired = {}
    for option, field in resource.fields.items():
        value = params.get(option)
        if value is None:
            continue
        if value is CLEAR:
            desired[option] = value
            continue
        if field.max_length is not None and isinstance(value, str) and len(value) > field.max_length:
            raise InputError("%s: %r is %d characters long; ConnectWise allows at most %d"
                             % (option, value, len(value), field.max_length))
        if isinstance(value, str) and field.kind in ("str", "ref") and not value.strip() \
                and (option in resource.key or field.kind == "ref"):
            raise InputError("%s must not be empty" % option)
        if field.kind == "date":
            value = api_date(value, option)
        elif field.kind == "ref":
            value = reference_value(option, field.ref, value)
        desired[option] = value
    missing = [option for option in resource.key if desired.get(option) is None]
    if missing:
        raise InputError("missing required option(s): %s" % ", ".join(missing))
    return desired


def reference_value(option, ref, value):
    """A reference as given: a name, ``{"id": N}``, or (``ref.ids``) a number meaning its id."""
    if isinstance(value, bool) or not isinstance(value, (str, int, dict)):
        raise InputError("%s must be %s, got %r" % (option, "an id or a name" if ref.ids else "a name", value))
    if ref.ids and (isinstance(value, int) or _ID.match(value if isinstance(value, str) else "")):
        return {"id": int(value)}
    return value


def wanted_for(resource, params, state):
    """The validated options that decide ``state`` for one object.

    The one ``absent`` rule, with the engine's reference resolution: a delete is decided by
    the natural key alone, and a key reference that does not exist means there is nothing to
    delete (the object then has no key filters), in a real run as in check mode.
    """
    desired = desired_fields(resource, params)
    if state == "absent":
        return {option: desired[option] for option in resource.key}
    return desired
