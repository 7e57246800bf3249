# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lines: what one company is billed, per cost mode.

``average_cost``: quantity = rounded used quantity; unit cost/price = ``ROUND4(raw_total /
quantity)``; ``total_* = ROUND2(quantity * unit_*)``, i.e. exactly what ConnectWise invoices (it
computes ``extPrice = quantity x unitPrice``). Consequences, both tested: ``|quantity*unit_price -
total_price| <= 0.005`` and ``|total_price - raw_total_price| <= 0.005 + quantity * 0.00005`` (the
unit price is off by at most half its last digit, multiplied by the quantity).

``total``: quantity = 1.00; ``total_* = ROUND2(raw_total_*)`` and ``unit_* = total_*`` (written
with 4 decimals), so 1 x unit = total exactly.

``quantity_only``: quantity = rounded used quantity; unit values and totals are ``None`` (not
sent: ConnectWise applies the product's own cost and price).

Money lost to rounding is a warning on the line: a quantity that rounds to 0.00 while the raw
total does not (nothing can be invoiced), and a positive quantity whose total rounds to 0.00
while the raw total does not (a unit value too small for 4 decimals).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import (
    DEFAULT_UNIT,
    EXACT,
    ZERO,
    bytes_to_quantity,
    check_unit,
    round_money,
    round_quantity,
    round_unit,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.pricing import Pricing, raw_cost, raw_price

MODES = ("average_cost", "total", "quantity_only")
DEFAULT_MODE = "average_cost"


@dataclass(frozen=True)
class Line:
    """What one company is billed. Money fields are Decimals (None in quantity_only).

    ``quantity`` is what is sent (1.00 in ``total`` mode); ``used_quantity`` is always
    the storage used in ``unit``.
    """

    company: str
    quantity: Decimal
    unit: str
    unit_cost: object
    unit_price: object
    total_cost: object
    total_price: object
    used_bytes: int
    destinations: tuple
    mode: str = DEFAULT_MODE
    used_quantity: Decimal = ZERO
    warnings: tuple = ()
    # The addition's lessIncluded (license lines; None: not sent). ConnectWise bills quantity - included.
    included: object = None

    @property
    def no_usage(self):
        """Nothing to bill: no storage (rounded to 0.00) and, in ``total`` mode, no money either."""
        if self.used_quantity != 0:
            return False
        if self.mode == "total":
            return not self.total_price and not self.total_cost
        return True


def check_mode(mode):
    if mode not in MODES:
        raise ValueError("billing mode %r is not one of %s" % (mode, ", ".join(MODES)))
    return mode


def plan_line(usage, mode=DEFAULT_MODE, unit=DEFAULT_UNIT, pricing=None, used_quantity=None):
    """The line of one company (see the module docstring for the rules).

    ``used_quantity``: the line's share of its company's rounded quantity, when the company's storage
    is split over several lines whose quantities must add up to the company's (default: its bytes,
    rounded). ValueError (naming the company) when a needed rate is missing.
    """
    check_mode(mode)
    check_unit(unit)
    pricing = pricing or Pricing()
    if used_quantity is None:
        used_quantity = bytes_to_quantity(usage.used_bytes, unit)
    common = dict(company=usage.company, unit=unit, used_bytes=usage.used_bytes,
                  destinations=tuple(usage.destinations), mode=mode, used_quantity=used_quantity)
    if mode == "quantity_only":
        return Line(quantity=used_quantity, unit_cost=None, unit_price=None,
                    total_cost=None, total_price=None, **common)

    cost = raw_cost(usage, unit, pricing)
    price = raw_price(usage, unit, pricing)
    if mode == "total":
        total_cost, total_price = round_money(cost), round_money(price)
        line = Line(quantity=round_quantity(1), unit_cost=round_unit(total_cost), unit_price=round_unit(total_price),
                    total_cost=total_cost, total_price=total_price, **common)
    elif used_quantity == 0:
        zero = round_unit(0)
        line = Line(quantity=used_quantity, unit_cost=zero, unit_price=zero, total_cost=round_money(0),
                    total_price=round_money(0), **common)
    else:
        unit_cost = round_unit(EXACT.divide(cost, used_quantity))
        unit_price = round_unit(EXACT.divide(price, used_quantity))
        line = Line(quantity=used_quantity, unit_cost=unit_cost, unit_price=unit_price,
                    total_cost=round_money(EXACT.multiply(used_quantity, unit_cost)),
                    total_price=round_money(EXACT.multiply(used_quantity, unit_price)), **common)
    return dataclasses.replace(line, warnings=rounding_warnings(line, cost, price))


def rounding_warnings(line, cost, price):
    """Money lost (or made up) by rounding: a quantity and its money that do not both round to 0 or both not.

    ``cost`` and ``price`` are the raw totals. A positive quantity whose total rounds to 0.00 while the
    raw total does not (a unit value too small for 4 decimals: absurd usage, a wrong rate), and money
    with a quantity of 0.00 (nothing to bill it on, or in ``total`` mode billed without storage).
    """
    warnings = []
    unit = line.unit
    for side, raw, total in (("cost", cost, line.total_cost), ("price", price, line.total_price)):
        if line.used_quantity == 0 and round_money(raw) != 0:
            if line.mode == "total":
                warnings.append("total %s %s is billed for 0.00 %s of storage" % (side, round_money(raw), unit))
            else:
                warnings.append("total %s %s cannot be billed per %s: the quantity rounds to 0.00 %s"
                                % (side, round_money(raw), unit, unit))
        elif line.used_quantity != 0 and raw != 0 and total == 0:
            if line.mode == "total":
                lost = "the total %s %s rounds to 0.00" % (side, format(raw, ".3g"))
            else:
                lost = "the %s per %s (%s) rounds to 0.0000" % (side, unit, format(EXACT.divide(raw, line.used_quantity), ".3g"))
            warnings.append("%s %s bills a total %s of 0.00: %s; check the usage and the rates"
                            % (line.used_quantity, unit, side, lost))
    return tuple(warnings)
