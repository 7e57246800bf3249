# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The period an addition bills, and the history of a product's additions: pure rules over what was read.

An addition this collection makes carries MARKER + its period in ``description`` (the Additions
tab's description column; invoices print ``invoiceDescription``). The marker, not the effective
date, says which month an addition bills: an addition moved to the next invoice date (an
invoiced period) or clamped to a billing start date stays its own month's, so a re-run finds it
and never makes a second one. An addition without the marker (made by hand, or by an earlier
version) bills the month its effective date falls in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
from collections import namedtuple

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import round_money, round_quantity, to_decimal
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import as_date, parse_period, period_of
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import parse_cw_date
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold


def product_matches(addition, product):
    """Whether ``addition`` is of ``product`` (an id, or an identifier compared by :func:`identity.fold`)."""
    ref = addition.get("product") or {}
    if isinstance(product, int) and not isinstance(product, bool):
        return ref.get("id") == product
    identifier = ref.get("identifier")
    return isinstance(identifier, str) and isinstance(product, str) and fold(identifier) == fold(product)


MARKER = "mbs.connectwise billing "
_MARKED = re.compile(r"^mbs\.connectwise billing (\d{4}-\d{2})\b")

Cancel = namedtuple("Cancel", ["addition", "day", "reason"])


def addition_marker(period):
    """The ``description`` that marks an addition as this collection's, for ``period``."""
    return MARKER + parse_period(period).label


def marked_period(addition):
    """The period named by an addition's marker, or None for an addition without one."""
    match = _MARKED.match(addition.get("description") or "")
    if match is None:
        return None
    try:
        return parse_period(match.group(1))
    except ValueError:
        return None


def addition_period(addition):
    """The month an addition bills: its marker's, else its effective date's (None without either)."""
    marked = marked_period(addition)
    if marked is not None:
        return marked
    effective = parse_cw_date(addition.get("effectiveDate"))
    return period_of(effective) if effective is not None else None


def is_late_charge(addition):
    """A one-time addition moved after its own month (the month was already invoiced)."""
    period = addition_period(addition)
    effective = parse_cw_date(addition.get("effectiveDate"))
    return period is not None and effective is not None and effective > period.last_day


def period_additions(additions, product, period):
    """Additions of ``product`` (id or identifier) that bill ``period``, lowest id first."""
    period = parse_period(period)
    found = [a for a in additions if product_matches(a, product) and addition_period(a) == period]
    return sorted(found, key=lambda a: a.get("id") or 0)


def period_winner(found, period):
    """``(kept, duplicates)`` among one period's additions: the lowest id wins.

    Overlapping runs (two AWX nodes, a schedule and a manual send) can each create the period's
    addition; each run re-reads after writing and the rule is the same everywhere, so they agree.
    Only additions carrying this collection's marker are removed as duplicates: two additions of a
    period of which one was made by hand cannot be told apart safely (ValueError, nothing written).
    """
    if len(found) <= 1:
        return (found[0] if found else None), []
    if any(marked_period(a) is None for a in found):
        raise ValueError("%d additions of the product bill %s (ids %s); there must be one per period: remove "
                         "the extra ones by hand, nothing was written"
                         % (len(found), parse_period(period).label, ", ".join(str(a.get("id")) for a in found)))
    return found[0], found[1:]


def _effective(addition):
    return parse_cw_date(addition.get("effectiveDate"))


def later_periods_billed(additions, product, period):
    """Whether ``product`` has an addition for a month after ``period`` (then ``period`` is a backfill)."""
    period = parse_period(period)
    return any(product_matches(a, product) and (addition_period(a) or period).first_day > period.last_day
               for a in additions)


def history_cancellations(additions, product, period, starts):
    """The cancel dates that keep one addition of ``product`` billing at a time, up to ``period``.

    ConnectWise bills an addition every month until its ``cancelledDate``. ``starts`` is the day
    this run's ``period`` starts billing (its addition's effective date, or the period's first day
    when the period bills nothing and earlier additions must stop). An addition of an earlier month
    made by this collection (marked) ends on the last day of its own month; one made otherwise ends
    the day before ``starts``. The period's own addition is a one-time charge ending on the
    period's last day when a later month is billed already (a backfill). Dates are only ever
    brought forward: a run never makes an addition bill longer, and never touches an addition of a
    month after ``period``. Late charges (moved after their month) are one-time from the start and
    left alone. Returns :class:`Cancel` entries, oldest first.
    """
    period = parse_period(period)
    before_start = as_date(starts) - datetime.timedelta(days=1)
    later = later_periods_billed(additions, product, period)
    found = []
    candidates = [a for a in additions if product_matches(a, product) and _effective(a) is not None
                  and not is_late_charge(a) and addition_period(a).first_day <= period.first_day]
    for addition in sorted(candidates, key=lambda a: (_effective(a), a.get("id") or 0)):
        own = addition_period(addition)
        if own == period:
            if not later:
                continue
            bound, reason = period.last_day, "%s is billed after a later month: a one-time charge" % period.label
        elif marked_period(addition) is not None:
            bound, reason = own.last_day, "%s ends with its month" % own.label
        else:
            bound, reason = before_start, "an earlier addition ends the day before %s starts" % period.label
        current = parse_cw_date(addition.get("cancelledDate"))
        if bound < _effective(addition) or (current is not None and current <= bound):
            continue
        found.append(Cancel(addition, bound, reason))
    return found


def one_time_end(effective):
    """The last day of the month ``effective`` falls in: a late charge bills that month only."""
    day = as_date(effective)
    return period_of(day).last_day


def billing_into(additions, product, period):
    """Additions of ``product`` that ConnectWise bills for ``period`` as they stand: open on one of its days.

    Effective on or before its last day and not cancelled before its first day; a late charge
    (moved after its own month) bills its own month only, so it counts for that month alone.
    """
    period = parse_period(period)
    found = []
    for addition in additions:
        effective, cancelled = _effective(addition), parse_cw_date(addition.get("cancelledDate"))
        if not product_matches(addition, product) or effective is None:
            continue
        if is_late_charge(addition):
            if addition_period(addition) == period:
                found.append(addition)
            continue
        if effective <= period.last_day and (cancelled is None or cancelled >= period.first_day):
            found.append(addition)
    return sorted(found, key=lambda a: a.get("id") or 0)


def previous_billed(additions, product, period):
    """The addition of the latest month before ``period`` that has one (lowest id of that month), or None.

    Only additions read with the period's (those still billing into it) are seen: a month with a gap
    before the period has no previous month to compare with.
    """
    period = parse_period(period)
    earlier = [a for a in additions if product_matches(a, product) and addition_period(a) is not None
               and addition_period(a).first_day < period.first_day]
    if not earlier:
        return None
    return min(earlier, key=lambda a: (-addition_period(a).first_day.toordinal(), a.get("id") or 0))


def addition_amount(addition, field="unitPrice"):
    """What ConnectWise invoices for ``addition`` in one month: ``quantity x unitPrice`` (or ``unitCost``) to the cent.

    None when the addition has no unit value (ConnectWise then applies the product's own).
    """
    unit_value = addition.get(field)
    if unit_value is None or isinstance(unit_value, bool):
        return None
    try:
        quantity = to_decimal(addition.get("quantity") or 0, "quantity", allow_negative=True)
        return round_money(quantity * to_decimal(unit_value, field, allow_negative=True))
    except ValueError:
        return None


def addition_quantity(addition):
    """The addition's quantity as a 2-decimal Decimal, as billing writes it (0 when it has none or it is not a number)."""
    try:
        return round_quantity(to_decimal(addition.get("quantity") or 0, "quantity", allow_negative=True))
    except ValueError:
        return round_quantity(0)
