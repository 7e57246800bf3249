# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report totals: counts per action and money totals, summed from the Decimal values of the outcomes.

Money totals are sums of the 2-decimal line totals, so they equal the sum of the lines to the cent
by construction.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import (
    DEFAULT_UNIT,
    ZERO,
    bytes_to_quantity,
    round_money,
    round_quantity,
    to_decimal,
)

ACTIONS = ("created", "updated", "unchanged", "skipped", "failed")
# A company with no usage whose open addition was cancelled: its additions are counted in
# the totals' ``cancelled`` (additions cancelled), so the action has no count of its own.
NOT_BILLED_CANCELLED = "cancelled"
BILLED_ACTIONS = ("created", "updated", "unchanged")


def _money(value, what):
    return None if value is None else to_decimal(value, what, allow_negative=True)


def summarise(results):
    """Counts per action and money totals over per-company result dicts.

    Each result has ``action`` (one of :data:`ACTIONS`) and, for billed companies,
    ``unit``, ``used_quantity`` (or ``quantity``), ``total_cost``, ``total_price``;
    ``cancelled`` is the list (or count) of earlier additions cancelled for it.
    Money and quantity totals cover the billed actions (created, updated, unchanged)
    only; skipped and failed companies bill nothing.
    """
    counts = dict((action, 0) for action in ACTIONS)
    counts["cancelled"] = 0
    total_cost = total_price = ZERO
    quantities = {}
    for index, result in enumerate(results):
        action = result.get("action")
        if action != NOT_BILLED_CANCELLED and (action not in counts or action == "cancelled"):
            raise ValueError("result %d (%s): action %r is not one of %s"
                             % (index, result.get("company"), action, ", ".join(ACTIONS + (NOT_BILLED_CANCELLED,))))
        if action != NOT_BILLED_CANCELLED:
            counts[action] += 1
        cancelled = result.get("cancelled") or 0
        counts["cancelled"] += cancelled if isinstance(cancelled, int) else len(cancelled)
        if action not in BILLED_ACTIONS:
            continue
        where = "result %d (%s)" % (index, result.get("company"))
        cost = _money(result.get("total_cost"), where + " total_cost")
        price = _money(result.get("total_price"), where + " total_price")
        total_cost += cost or ZERO
        total_price += price or ZERO
        quantity = result.get("used_quantity", result.get("quantity"))
        if quantity is not None:
            unit = result.get("unit") or DEFAULT_UNIT
            quantities[unit] = quantities.get(unit, ZERO) + to_decimal(quantity, where + " quantity")
    return {
        "companies": len(results),
        "counts": counts,
        "total_cost": round_money(total_cost),
        "total_price": round_money(total_price),
        "quantity": quantities,
    }


def _text(value):
    return None if value is None else str(value)


def _sum_given(values):
    given = [value for value in values if value is not None]
    return round_money(sum(given, ZERO)) if given else None


def run_totals(bills, unit, line_of):
    """The module's ``totals``: :func:`summarise` over the companies' Decimal amounts, as exact strings.

    Plus what the safety rules add: ``unmapped`` (the usage ConnectWise has no company for, in bytes,
    quantity and money, priced with the defaults as it would be billed; ``line_of(bill)`` prices
    one), ``corrected`` (what the months corrected to 0 took off the invoices) and ``not_in_usage``
    (companies left as they are because a partial source does not list them).
    """
    summary = summarise([bill.amounts() for bill in bills])
    result = {
        "companies": summary["companies"],
        "counts": summary["counts"],
        "total_cost": _text(summary["total_cost"]),
        "total_price": _text(summary["total_price"]),
        "quantity": dict((name, _text(round_quantity(q))) for name, q in summary["quantity"].items()),
        "unmapped": _unmapped(bills, unit, line_of),
        "not_in_usage": sum(1 for bill in bills if bill.not_in_usage),
        "by_product": by_product([bill.amounts() for bill in bills]),
    }
    corrected = [bill.correction for bill in bills if bill.correction is not None and bill.action != "failed"]
    result["corrected"] = {"companies": len(corrected),
                           "total_price": _text(_sum_given(c.total_price for c in corrected)),
                           "total_cost": _text(_sum_given(c.total_cost for c in corrected))}
    return result


def by_product(amounts):
    """``{product: {kind, unit, lines, billed, quantity, total_cost, total_price}}``: each product's billed lines.

    ``lines`` counts every line of the product, ``billed`` those created, updated or unchanged, whose
    quantity and money the other keys sum (exact strings), so the products add up to the run's totals.
    """
    found = {}
    for amount in amounts:
        entry = found.setdefault(amount.get("product"), {
            "kind": amount.get("kind"), "unit": amount.get("unit"), "lines": 0, "billed": 0,
            "quantity": ZERO, "total_cost": ZERO, "total_price": ZERO})
        entry["lines"] += 1
        if amount.get("action") not in BILLED_ACTIONS:
            continue
        entry["billed"] += 1
        for key in ("total_cost", "total_price"):
            entry[key] += amount.get(key) or ZERO
        entry["quantity"] += amount.get("used_quantity") if amount.get("used_quantity") is not None else ZERO
    for entry in found.values():
        entry.update(quantity=_text(round_quantity(entry["quantity"])), total_cost=_text(round_money(entry["total_cost"])),
                     total_price=_text(round_money(entry["total_price"])))
    return found


def _unmapped(bills, unit, line_of):
    unmapped = [bill for bill in bills if bill.unmapped and bill.used_bytes > 0]
    lines, unpriced = [], 0
    for bill in unmapped:
        try:
            lines.append(line_of(bill))
        except ValueError:
            unpriced += 1
    used = sum(bill.used_bytes for bill in unmapped)
    return {"companies": len(unmapped), "used_bytes": used, "quantity": _text(bytes_to_quantity(used, unit)),
            "total_price": _text(_sum_given(line.total_price for line in lines)),
            "total_cost": _text(_sum_given(line.total_cost for line in lines)), "unpriced": unpriced}
