# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Numbers: units, exact decimal arithmetic, the three roundings, and JSON numbers for the wire.

All arithmetic is ``decimal.Decimal``. Quantities are rounded half-up to 2 decimals
(``ROUND_HALF_UP``; 2.345 -> 2.35), unit cost and unit price to 4, totals to 2; nothing is
rounded anywhere else. ``GiB`` (2**30 bytes) is the default unit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import decimal
from decimal import ROUND_HALF_UP, Decimal

UNITS = {
    "GiB": 2 ** 30,
    "GB": 10 ** 9,
    "TiB": 2 ** 40,
    "TB": 10 ** 12,
}
DEFAULT_UNIT = "GiB"

QUANTITY_STEP = Decimal("0.01")
UNIT_STEP = Decimal("0.0001")
MONEY_STEP = Decimal("0.01")
ZERO = Decimal(0)

# Exact arithmetic for the intermediate values: 60 digits hold any byte count times any
# rate billing will see; rounding happens only where the rules say so.
EXACT = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN,
                        traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


def to_decimal(value, what="value", allow_negative=False):
    """``value`` (int, str, Decimal or float) as a finite Decimal; ValueError naming ``what``.

    Floats go through ``repr`` so ``0.1`` becomes ``Decimal('0.1')``, not its binary
    expansion. Booleans are refused (YAML ``yes`` is not a number).
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("%s: %r is not a number" % (what, value))
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValueError("%s: %r is not a number" % (what, value))
    else:
        raise ValueError("%s: %r is not a number" % (what, value))
    if not result.is_finite():
        raise ValueError("%s: %r is not a finite number" % (what, value))
    if result < 0 and not allow_negative:
        raise ValueError("%s: %r is negative" % (what, value))
    return result


def round_quantity(value):
    """Half-up to 2 decimals (quantities)."""
    return Decimal(value).quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP, context=EXACT)


def round_unit(value):
    """Half-up to 4 decimals (unit cost, unit price)."""
    return Decimal(value).quantize(UNIT_STEP, rounding=ROUND_HALF_UP, context=EXACT)


def round_money(value):
    """Half-up to 2 decimals (totals)."""
    return Decimal(value).quantize(MONEY_STEP, rounding=ROUND_HALF_UP, context=EXACT)


def check_unit(unit):
    if unit not in UNITS:
        raise ValueError("unit %r is not one of %s" % (unit, ", ".join(UNITS)))
    return unit


def exact_quantity(used_bytes, unit=DEFAULT_UNIT):
    """``used_bytes`` in ``unit``, unrounded."""
    check_unit(unit)
    return EXACT.divide(Decimal(used_bytes), Decimal(UNITS[unit]))


def bytes_to_quantity(used_bytes, unit=DEFAULT_UNIT):
    """``used_bytes`` in ``unit``, rounded half-up to 2 decimals (1073741824 B -> 1.00 GiB)."""
    return round_quantity(exact_quantity(used_bytes, unit))


def to_json_number(value):
    """A Decimal as a JSON number for the wire: int when whole, else a float.

    The float is checked to read back as the same decimal value (true for the
    2- and 4-decimal amounts this module produces); ValueError otherwise.
    ``None`` stays ``None``.
    """
    if value is None:
        return None
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError("%s cannot be sent as a JSON number without losing precision" % value)
    return number


def to_json_value(obj):
    """``obj`` with every Decimal (in dicts, lists, tuples) converted by :func:`to_json_number`,
    and dates as ``YYYY-MM-DD``: for module results."""
    if isinstance(obj, Decimal):
        return to_json_number(obj)
    if isinstance(obj, dict):
        return dict((k, to_json_value(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return [to_json_value(v) for v in obj]
    if isinstance(obj, (datetime.date, datetime.datetime)):
        return obj.isoformat()
    return obj
