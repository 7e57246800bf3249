# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Field values as ConnectWise holds them: compared, sent, and predicted in check mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.declarations import CLEAR
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold


def _number(value):
    try:
        return decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return None


def same_value(kind, current, wanted):
    """Whether a server value already equals what the user asked for."""
    if wanted is CLEAR:
        return current is None or current == "" or current == {}
    if kind == "ref":
        current_id = (current or {}).get("id") if isinstance(current, dict) else None
        return wanted.get("id") is not None and current_id == wanted.get("id")
    if kind == "date":
        return bool(current) and str(current)[:10] == str(wanted)[:10]
    if kind in ("float", "int"):
        return current is not None and _number(current) == _number(wanted)
    if kind == "str":
        return (current or "") == (wanted or "")
    return current == wanted


def strip_server_fields(obj):
    return {k: v for k, v in (obj or {}).items() if k != "_info"}


def patched(obj, changes):
    """The object a PATCH of ``changes`` would return: check mode's prediction (None empties a field)."""
    predicted = dict(obj)
    for field, value in changes.items():
        if value is None:
            predicted.pop(field, None)
        else:
            predicted[field] = value
    return predicted


def predicted_create(resource, body):
    """The object a POST of ``body`` would return: check mode's prediction.

    ConnectWise returns every flag of a new object, ``false`` when it was not sent; the flags the
    resource declares are predicted so (``id`` is None: it is not known before the POST).
    """
    predicted = dict(body, id=None)
    for field in resource.fields.values():
        if field.kind == "bool":
            predicted.setdefault(field.api, False)
    return predicted


def key_tuple(filters):
    """A natural key as ConnectWise compares it: identifiers and names folded."""
    return tuple(sorted((k, fold(v)) for k, v in filters.items()))


def wire(value):
    """A value as sent: resolved references without our bookkeeping marks."""
    if value is CLEAR:
        return None
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if not k.startswith("_")}
    return value


def public(body):
    return {k: wire(v) for k, v in body.items()}
