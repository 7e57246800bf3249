# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run did (or would do) to a company's additions, one short text per write.

``--diff`` of 300 companies must stay readable: each company that changes is one line of output (a
diff entry in Ansible's ``prepared`` form, :func:`diff_entry`), its writes joined, such as
``AcmeCorp: create addition 2026-10 12.50 GiB x 0.0500 = 0.63; cancel addition 287 from 2026-09-30``.
The same texts are each company's ``changes`` in the results, which the report keeps. Every value is
printed through :func:`printable.printable` and long texts are shortened, so a line stays one line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.dates import parse_cw_date
from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable, shortened

# How much of a text field (an invoice description) one change shows; the report has the line itself.
TEXT_SHOWN = 40
DATE_FIELDS = ("effectiveDate", "cancelledDate")
# Decimals a number field is shown with at least (ConnectWise answers 500.0 for 500.00).
PLACES = {"quantity": 2, "unitCost": 4, "unitPrice": 4}


def _value(field, value):
    """A field's value as a change shows it: dates by day, numbers as written, texts quoted and shortened."""
    if value is None:
        return "none"
    if field in DATE_FIELDS:
        try:
            return parse_cw_date(value).isoformat()
        except (TypeError, ValueError):
            pass
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _number(value, PLACES.get(field, 0))
    if isinstance(value, dict):
        return printable(value.get("identifier") or value.get("name") or value.get("id"))
    return '"%s"' % shortened(printable(value), TEXT_SHOWN)


def _number(value, places):
    """``value`` with at least ``places`` decimals, never fewer than it has (a hand-made 0.12345 stays)."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if -number.as_tuple().exponent < places:
        number = number.quantize(Decimal(1).scaleb(-places))
    return str(number)


def created(period, line, effective_date=None):
    """``create addition 2026-10 12.50 GiB x 0.0500 = 0.63`` (in total mode ``1.00 x 25.0000 = 25.00 (500.00 GiB)``)."""
    if line.mode == "total":
        what = "%s x %s = %s (%s %s)" % (line.quantity, line.unit_price, line.total_price, line.used_quantity, line.unit)
    elif line.unit_price is None:
        what = "%s %s at the product's price" % (line.quantity, line.unit)
    else:
        what = "%s %s x %s = %s" % (line.quantity, line.unit, line.unit_price, line.total_price)
    text = "create addition %s %s" % (period.label, what)
    if effective_date is not None and effective_date != period.first_day:
        text += ", effective %s" % effective_date.isoformat()
    return text


def updated(addition_id, before, after):
    """``update addition 302 quantity 10.0 -> 12.0, unitPrice 0.05 -> 0.06`` (only the fields written)."""
    return "update addition %s %s" % (addition_id, ", ".join(
        "%s %s -> %s" % (field, _value(field, before.get(field)), _value(field, after[field])) for field in sorted(after)))


def cancelled(addition_id, cancelled_date):
    """``cancel addition 303 from 2026-10-31`` (the addition's new cancel date)."""
    return "cancel addition %s from %s" % (addition_id, _value("cancelledDate", cancelled_date))


def removed(addition_id, reason):
    """``remove addition 305, 2026-10's usage corrected to 0``."""
    return "remove addition %s, %s" % (addition_id, printable(reason))


def diff_entry(company, changes):
    """One company's changes as one line of ``--diff`` (Ansible prints a ``prepared`` entry as it is)."""
    return {"prepared": "%s: %s\n" % (printable(company), "; ".join(changes))}
