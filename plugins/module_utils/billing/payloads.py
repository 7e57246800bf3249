# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addition payloads: the fields of an addition (ConnectWise names, Decimal values), for the wire and to compare."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.effective_dates import EffectiveDate
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.history import addition_marker, one_time_end
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import check_mode
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import to_decimal, to_json_value
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import cw_datetime, parse_cw_date
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold


def addition_fields(line, product, effective, invoice_description=None, mode=None, period=None):
    """The addition's fields (ConnectWise names, Decimal values) for create or compare.

    ``product``: the catalog item's id, or its identifier. ``effective``: an
    :class:`EffectiveDate` or a date. ``unitCost``/``unitPrice`` are omitted in
    ``quantity_only``; ``invoiceDescription`` only when not None; ``lessIncluded`` only for a line
    with an included quantity (license lines). With ``period`` the
    addition carries this collection's marker for it in ``description``, and a late charge
    (``effective.one_time``) its cancel date. Send through :func:`wire_fields`.
    """
    mode = check_mode(mode or line.mode)
    if mode != line.mode:
        raise ValueError("line of company %r was planned in mode %s, not %s" % (line.company, line.mode, mode))
    if product is None or product == "":
        raise ValueError("product identifier is empty")
    day = effective.date if isinstance(effective, EffectiveDate) else effective
    reference = {"id": product} if isinstance(product, int) and not isinstance(product, bool) else {"identifier": product}
    fields = {
        "product": reference,
        "billCustomer": "Billable",
        "quantity": line.quantity,
        "effectiveDate": cw_datetime(day),
    }
    if mode != "quantity_only":
        fields["unitCost"] = line.unit_cost
        fields["unitPrice"] = line.unit_price
    if line.included is not None:
        fields["lessIncluded"] = line.included
    if invoice_description is not None:
        fields["invoiceDescription"] = invoice_description
    if period is not None:
        fields["description"] = addition_marker(period)
    if isinstance(effective, EffectiveDate) and effective.one_time:
        fields["cancelledDate"] = cw_datetime(one_time_end(day))
    return fields


def wire_fields(fields):
    """``fields`` with Decimals as JSON numbers, ready for ``json=``."""
    return to_json_value(fields)


_DATE_FIELDS = frozenset(("effectiveDate", "cancelledDate"))


def _same(field_name, existing, wanted):
    if isinstance(wanted, dict):
        if not isinstance(existing, dict):
            return False
        for key, value in wanted.items():
            have = existing.get(key)
            if isinstance(value, str) and isinstance(have, str) and key in ("identifier", "name"):
                # ConnectWise identifiers and names match case-insensitively.
                if fold(value) != fold(have):
                    return False
            elif not _same(key, have, value):
                return False
        return True
    if field_name in _DATE_FIELDS:
        try:
            return parse_cw_date(existing) == parse_cw_date(wanted)
        except ValueError:
            return False
    if isinstance(wanted, (Decimal, int, float)) and not isinstance(wanted, bool):
        if existing is None or isinstance(existing, bool):
            return False
        try:
            return to_decimal(existing, field_name, allow_negative=True) == to_decimal(
                wanted, field_name, allow_negative=True)
        except ValueError:
            return False
    return existing == wanted


def addition_changes(existing_addition, wanted):
    """``{field: wanted value}`` for the fields of ``wanted`` that differ in the existing addition.

    Numbers compare as Decimals (12.5 == 12.50), dates by day, references by the keys
    given in ``wanted`` (identifier/name case-insensitively).
    """
    return dict((key, value) for key, value in wanted.items()
                if not _same(key, existing_addition.get(key), value))
