# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lines of the products besides storage: pure, Decimal, no I/O.

License line
    quantity = the licenses counted (a whole number); ``lessIncluded`` = ``included``; unit cost
    and price the customer's, else the ``license_products`` entry's, else the catalog item's (0
    when the catalog item has none, as the vendor's integration sends 0 when not set), rounded to
    4 decimals; totals = (quantity - included, at least 0) x unit value, rounded half-up to 2:
    what ConnectWise invoices (``billedQuantity`` x unit price).

Storage split by storage account
    A company's storage (its records) goes to one share per ``storage_products`` product, by the
    bytes of :func:`storage_split.split_storage` (whole bytes, adding up to the company's); usage no
    entry takes (unmapped or unknown accounts, users without details) stays on the storage product.
    Quantities: the company's quantity, rounded as storage billing rounds it, is split over the
    shares by largest remainder in hundredths, weighted by bytes, so the shares' quantities add up
    to it exactly. Money totals the records carry (MSP360's ``TotalCost``) are split in proportion
    to the bytes; a share whose product has its own rate takes the rate instead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses
from decimal import Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import Line
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import (
    EXACT,
    QUANTITY_STEP,
    ZERO,
    bytes_to_quantity,
    round_money,
    round_unit,
    to_decimal,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.usage import UsageRecord
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.storage_split import PRODUCT, largest_remainder

LICENSE_MODE = "average_cost"


def catalog_value(item, field):
    """A catalog item's ``cost`` or ``price`` as a 4-decimal Decimal (0 when the item has none)."""
    value = (item or {}).get(field)
    if value is None:
        return round_unit(ZERO)
    return round_unit(to_decimal(value, "the catalog item's %s" % field))


def license_line(company, count, unit_cost, unit_price, included, catalog_item, unit):
    """The line of ``count`` licenses of one product (see the module docstring)."""
    quantity = Decimal(int(count))
    unit_cost = round_unit(unit_cost) if unit_cost is not None else catalog_value(catalog_item, "cost")
    unit_price = round_unit(unit_price) if unit_price is not None else catalog_value(catalog_item, "price")
    included = int(included or 0)
    billed = max(quantity - included, ZERO)
    return Line(company=company, quantity=quantity, unit=unit, unit_cost=unit_cost, unit_price=unit_price,
                total_cost=round_money(EXACT.multiply(billed, unit_cost)),
                total_price=round_money(EXACT.multiply(billed, unit_price)), used_bytes=0, destinations=(),
                mode=LICENSE_MODE, used_quantity=quantity, included=included)


@dataclasses.dataclass(frozen=True)
class StorageShare:
    """One line's part of a company's storage: ``product`` (None: the storage product), its records,
    its quantity (a share of the company's) and the storage accounts it bills."""

    product: object
    records: tuple
    used_quantity: object
    accounts: tuple = ()


def _total(records, side):
    """The records' money total on ``side`` (``cost``/``price``), None unless every record carries one."""
    values = [getattr(record, side) for record in records]
    if not values or any(value is None for value in values):
        return None
    return sum(values, ZERO)


def _account_names(part, routes):
    names = []
    for account_id, _destination in part.sources:
        account = routes.accounts.get(fold(account_id)) if isinstance(account_id, str) else None
        name = account.name if account is not None else part.label
        if name not in names:
            names.append(name)
    return names


def _groups(split, routes):
    """``{product key or None: {"product", "bytes", "parts", "accounts"}}`` over the split's parts, products first."""
    groups = {}
    for part in split.parts:
        key = fold(part.product) if part.kind == PRODUCT else None
        group = groups.setdefault(key, {"product": part.product if part.kind == PRODUCT else None, "bytes": 0,
                                        "parts": [], "accounts": []})
        group["bytes"] += part.used_bytes
        group["parts"].append(part)
        group["accounts"].extend(name for name in _account_names(part, routes) if name not in group["accounts"])
    return groups


def _share(total, part_bytes, total_bytes):
    """A part's share of a money total, in proportion to its bytes (None without a total)."""
    return None if total is None else EXACT.divide(EXACT.multiply(total, part_bytes), total_bytes)


def _share_records(identifier, group, total_bytes, totals, routes):
    """One record per part of a group, carrying its share of the company's money totals; its destination the
    part's storage accounts (what ``{destinations}`` prints)."""
    records = []
    for part in group["parts"]:
        accounts = ", ".join(_account_names(part, routes)) or part.label
        shares = dict((side, _share(totals[side], part.used_bytes, total_bytes)) for side in ("cost", "price"))
        records.append(UsageRecord(company=identifier, used_bytes=part.used_bytes, destination=accounts,
                                   cost=shares["cost"], price=shares["price"],
                                   source_ref="%s's storage on %s" % (identifier, part.label)))
    return tuple(records)


def storage_shares(identifier, records, split, routes, unit):
    """A company's records and its :class:`storage_split.StorageSplit` -> ``[StorageShare]`` (see the module docstring).

    The storage product's share comes first (empty when every byte has a product); without bytes
    to split, the company's records stay whole on the storage product.
    """
    total_bytes = sum(record.used_bytes for record in records)
    if not total_bytes or not split.parts:
        return [StorageShare(product=None, records=tuple(records), used_quantity=bytes_to_quantity(total_bytes, unit))]
    groups = _groups(split, routes)
    groups.setdefault(None, {"product": None, "bytes": 0, "parts": [], "accounts": []})
    hundredths = int(bytes_to_quantity(total_bytes, unit) / QUANTITY_STEP)
    keys = [None] + sorted(key for key in groups if key is not None)
    parts = largest_remainder(hundredths, [(key, groups[key]["bytes"]) for key in keys]) if hundredths else {}
    totals = {"cost": _total(records, "cost"), "price": _total(records, "price")}
    return [StorageShare(product=groups[key]["product"], records=_share_records(identifier, groups[key], total_bytes, totals, routes),
                         used_quantity=(Decimal(parts.get(key, 0)) * QUANTITY_STEP).quantize(QUANTITY_STEP),
                         accounts=tuple(groups[key]["accounts"]))
            for key in keys]


def without_total(records, side):
    """The records with no money total on ``side``: the line's own rate applies instead."""
    return tuple(dataclasses.replace(record, **{side: None}) for record in records)
