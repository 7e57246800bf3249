# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pricing: rates per unit and the raw (unrounded) cost and price totals of one company.

Per company and per side (cost, price): when every usage record of the company carries a total
(``cost`` / ``price``), the raw total is their sum and the rates are not used. When no record
carries one, the raw total is computed from the rates: ``cost`` is the sum over the company's
records of ``cost_rate(record.destination) * record_quantity`` (so per-destination rates are
averaged across destinations by weight of usage), ``price`` is ``price_rate(company) *
company_quantity``. Record quantities are the *exact* (unrounded) quantities: rate x quantity is
taken before any rounding. (Records that mix totals and no totals are refused by
:func:`usage.aggregate`.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from dataclasses import dataclass, field

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import EXACT, ZERO, exact_quantity, to_decimal


@dataclass(frozen=True)
class Pricing:
    """Rates per one ``unit`` (per GiB by default), used only when the source gives no totals.

    ``cost_per_unit`` applies to destinations absent from ``cost_per_unit_by_destination``.
    ``None`` means "not set": a company that needs the missing rate fails with a message.
    Per-company rates are per-company ``Pricing`` objects (the billing module's ``companies``).
    """

    cost_per_unit: object = None
    price_per_unit: object = None
    cost_per_unit_by_destination: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("cost_per_unit", "price_per_unit"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_decimal(value, name))
        mapping = self.cost_per_unit_by_destination or {}
        if not isinstance(mapping, dict):
            raise ValueError("cost_per_unit_by_destination must be a mapping, not %r" % (mapping,))
        object.__setattr__(self, "cost_per_unit_by_destination", dict(
            (key, to_decimal(value, "cost_per_unit_by_destination[%s]" % key)) for key, value in mapping.items()))

    def cost_rate(self, destination):
        if destination is not None and destination in self.cost_per_unit_by_destination:
            return self.cost_per_unit_by_destination[destination]
        return self.cost_per_unit


def raw_cost(usage, unit, pricing):
    if usage.cost is not None:
        return usage.cost
    total = ZERO
    for destination, used in usage.bytes_by_destination:
        rate = pricing.cost_rate(destination)
        if rate is None:
            if not used:
                continue
            raise ValueError(
                "company %r: the usage source gives no cost total and no cost per %s is set%s"
                % (usage.company, unit, " for destination %r" % destination if destination else ""))
        total = EXACT.add(total, EXACT.multiply(rate, exact_quantity(used, unit)))
    return total


def raw_price(usage, unit, pricing):
    if usage.price is not None:
        return usage.price
    rate = pricing.price_per_unit
    if rate is None:
        if not usage.used_bytes:
            return ZERO
        raise ValueError("company %r: the usage source gives no price total and no price per %s is set"
                         % (usage.company, unit))
    return EXACT.multiply(rate, exact_quantity(usage.used_bytes, unit))
