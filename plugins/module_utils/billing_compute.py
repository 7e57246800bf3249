# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure billing computation: usage -> ConnectWise agreement addition values.

No I/O, no HTTP, ``decimal.Decimal`` for every amount. The rules are the ones of
``billing-rules.md``; the decisions that document leaves open are taken here and
listed once:

Quantities and units
    ``quantity = used_bytes / UNITS[unit]``, computed exactly, then rounded half-up
    to 2 decimals (``ROUND_HALF_UP``; 2.345 -> 2.35). ``GiB`` (2**30) is the default.

Totals ("raw totals")
    Per company and per side (cost, price): when every usage record of the company
    carries a total (``cost`` / ``price``), the raw total is their sum and the rates
    are not used. When no record carries one, the raw total is computed from the
    rates: ``cost`` is the sum over the company's records of
    ``cost_rate(record.destination) * record_quantity`` (so per-destination rates
    are averaged across destinations by weight of usage), ``price`` is
    ``price_rate(company) * company_quantity``. Record quantities are the *exact*
    (unrounded) quantities: rate x quantity is taken before any rounding. When some
    records carry a total and others do not, :func:`aggregate` refuses the company
    (a partial total would bill part of the usage silently).

Modes (what is sent and what the line reports)
    ``average_cost``: quantity = rounded used quantity; unit cost/price =
    ``ROUND4(raw_total / quantity)``; ``total_* = ROUND2(quantity * unit_*)``, i.e.
    exactly what ConnectWise invoices (it computes ``extPrice = quantity x unitPrice``).
    Consequences, both tested: ``|quantity*unit_price - total_price| <= 0.005`` and
    ``|total_price - raw_total_price| <= 0.005 + quantity * 0.00005`` (the unit price
    is off by at most half its last digit, multiplied by the quantity). With a
    quantity of 0.00 nothing can be invoiced: unit values and totals are 0 and the
    line carries a warning when a non-zero raw total was lost this way.
    ``total``: quantity = 1.00; ``total_* = ROUND2(raw_total_*)`` and
    ``unit_* = total_*`` (written with 4 decimals), so 1 x unit = total exactly.
    ``quantity_only``: quantity = rounded used quantity; unit values and totals are
    ``None`` (not sent: ConnectWise applies the product's own cost and price).

Report totals (:func:`summarise`) are sums of the 2-decimal line totals, so they
equal the sum of the lines to the cent by construction.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import datetime
import decimal
import re
import string
from collections import namedtuple
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.dates import cw_datetime, parse_cw_date
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

UNITS = {
    "GiB": 2 ** 30,
    "GB": 10 ** 9,
    "TiB": 2 ** 40,
    "TB": 10 ** 12,
}
DEFAULT_UNIT = "GiB"

MODES = ("average_cost", "total", "quantity_only")
DEFAULT_MODE = "average_cost"

EFFECTIVE_DATE_POLICIES = ("clamp", "fail")

TEMPLATE_PLACEHOLDERS = (
    "company", "company_name", "period", "month", "quantity", "unit",
    "unit_price", "total_price", "destinations",
)
PRODUCT_DESCRIPTION = "product"
INVOICE_DESCRIPTION_MAX = 6000

ACTIONS = ("created", "updated", "unchanged", "skipped", "failed")
# A company with no usage whose open addition was cancelled: its additions are counted in
# the totals' ``cancelled`` (additions cancelled), so the action has no count of its own.
NOT_BILLED_CANCELLED = "cancelled"
BILLED_ACTIONS = ("created", "updated", "unchanged")

NOT_BILLING_YET = "agreement not billing yet"

QUANTITY_STEP = Decimal("0.01")
UNIT_STEP = Decimal("0.0001")
MONEY_STEP = Decimal("0.01")
ZERO = Decimal(0)

_MONTH_NAMES = (None, "January", "February", "March", "April", "May", "June", "July",
                "August", "September", "October", "November", "December")

# Exact arithmetic for the intermediate values: 60 digits hold any byte count times any
# rate this module will see; rounding happens only where the rules say so.
_CTX = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN,
                       traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


# ---------------------------------------------------------------------------
# numbers


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
    return Decimal(value).quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP, context=_CTX)


def round_unit(value):
    """Half-up to 4 decimals (unit cost, unit price)."""
    return Decimal(value).quantize(UNIT_STEP, rounding=ROUND_HALF_UP, context=_CTX)


def round_money(value):
    """Half-up to 2 decimals (totals)."""
    return Decimal(value).quantize(MONEY_STEP, rounding=ROUND_HALF_UP, context=_CTX)


def check_unit(unit):
    if unit not in UNITS:
        raise ValueError("unit %r is not one of %s" % (unit, ", ".join(UNITS)))
    return unit


def exact_quantity(used_bytes, unit=DEFAULT_UNIT):
    """``used_bytes`` in ``unit``, unrounded."""
    check_unit(unit)
    return _CTX.divide(Decimal(used_bytes), Decimal(UNITS[unit]))


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


# ---------------------------------------------------------------------------
# periods


@dataclass(frozen=True)
class Period:
    """One calendar month."""

    year: int
    month: int

    def __post_init__(self):
        if isinstance(self.year, bool) or not isinstance(self.year, int) or not 1 <= self.year <= 9999:
            raise ValueError("period year %r is not valid" % (self.year,))
        if isinstance(self.month, bool) or not isinstance(self.month, int) or not 1 <= self.month <= 12:
            raise ValueError("period month %r is not valid (1 to 12)" % (self.month,))

    @property
    def first_day(self):
        return datetime.date(self.year, self.month, 1)

    @property
    def last_day(self):
        return datetime.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def label(self):
        return "%04d-%02d" % (self.year, self.month)

    @property
    def month_name(self):
        # Fixed English names: calendar.month_name follows the process locale.
        return "%s %d" % (_MONTH_NAMES[self.month], self.year)

    def contains(self, day):
        return self.first_day <= _as_date(day) <= self.last_day

    def previous(self):
        if self.month == 1:
            return Period(self.year - 1, 12)
        return Period(self.year, self.month - 1)

    def __str__(self):
        return self.label


_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(value):
    """``"2026-10"`` -> Period(2026, 10). A Period is returned as is."""
    if isinstance(value, Period):
        return value
    match = _PERIOD_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError("period %r is not a month written YYYY-MM (for example 2026-10)" % (value,))
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1:
        raise ValueError("period %r is not a valid month: month must be 01 to 12" % (value,))
    return Period(year, month)


def period_of(day):
    day = _as_date(day)
    return Period(day.year, day.month)


def previous_period(today):
    """The month before ``today``'s month (the default billing period)."""
    return period_of(today).previous()


def check_period_ended(period, today, allow_current=False):
    """ValueError for a month after ``today``'s month, or ``today``'s own month unless allowed.

    An addition for a month that has not begun would bill a customer in advance and push back the
    cancel date of the month before; the unfinished current month is only billed on request.
    Returns True when ``period`` is the current, unfinished month.
    """
    current = period_of(today)
    if period.first_day > current.first_day:
        raise ValueError("period %s is after the current month %s (today is %s): only a month that has "
                         "begun can be billed" % (period.label, current.label, _as_date(today).isoformat()))
    if period == current:
        if not allow_current:
            raise ValueError("period %s is the current month, which has not ended (today is %s): bill it "
                             "with allow_current_period: true, or bill %s"
                             % (period.label, _as_date(today).isoformat(), current.previous().label))
        return True
    return False


def auto_billing_period(today, window_days=3):
    """On days 1..``window_days`` of a month: the previous month. Otherwise None."""
    if isinstance(window_days, bool) or not isinstance(window_days, int) or not 1 <= window_days <= 28:
        raise ValueError("auto-billing window %r must be a whole number of days from 1 to 28" % (window_days,))
    today = _as_date(today)
    if today.day <= window_days:
        return previous_period(today)
    return None


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return parse_cw_date(value)


# ---------------------------------------------------------------------------
# usage


@dataclass(frozen=True)
class UsageRecord:
    """One normalised usage record. ``source_ref`` names it in error messages."""

    company: str
    used_bytes: int
    destination: object = None
    cost: object = None
    price: object = None
    source_ref: str = ""
    user: object = None


@dataclass(frozen=True)
class CompanyUsage:
    """All usage of one company for the period.

    ``bytes_by_destination`` is a sorted tuple of ``(destination or None, bytes)``;
    it is what per-destination cost rates apply to. ``cost``/``price`` are None when
    no record carried that total.
    """

    company: str
    used_bytes: int
    destinations: tuple
    cost: object
    price: object
    records: int
    bytes_by_destination: tuple = ()
    source_refs: tuple = ()


def _dest_key(item):
    dest = item[0]
    return (dest is not None, dest or "")


def aggregate(records):
    """Records -> ``{company: CompanyUsage}``, one entry per company (insertion order
    follows the sorted company names). ValueError when a company mixes records with
    and without a cost (or price) total, naming the records."""
    groups = {}
    for record in records:
        groups.setdefault(record.company, []).append(record)
    result = {}
    for company in sorted(groups):
        items = groups[company]
        per_dest = {}
        for record in items:
            per_dest[record.destination] = per_dest.get(record.destination, 0) + record.used_bytes
        totals = {}
        for side in ("cost", "price"):
            given = [r for r in items if getattr(r, side) is not None]
            if given and len(given) != len(items):
                missing = [r.source_ref for r in items if getattr(r, side) is None]
                raise ValueError(
                    "company %r: some usage records give a %s total and others do not (%s without); "
                    "give it on every record or on none" % (company, side, ", ".join(missing)))
            totals[side] = sum((getattr(r, side) for r in given), ZERO) if given else None
        result[company] = CompanyUsage(
            company=company,
            used_bytes=sum(r.used_bytes for r in items),
            destinations=tuple(sorted(d for d in per_dest if d is not None)),
            cost=totals["cost"],
            price=totals["price"],
            records=len(items),
            bytes_by_destination=tuple(sorted(per_dest.items(), key=_dest_key)),
            source_refs=tuple(r.source_ref for r in items),
        )
    return result


# ---------------------------------------------------------------------------
# pricing


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


def _raw_cost(usage, unit, pricing):
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
        total = _CTX.add(total, _CTX.multiply(rate, exact_quantity(used, unit)))
    return total


def _raw_price(usage, unit, pricing):
    if usage.price is not None:
        return usage.price
    rate = pricing.price_per_unit
    if rate is None:
        if not usage.used_bytes:
            return ZERO
        raise ValueError("company %r: the usage source gives no price total and no price per %s is set"
                         % (usage.company, unit))
    return _CTX.multiply(rate, exact_quantity(usage.used_bytes, unit))


# ---------------------------------------------------------------------------
# lines


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


def plan_line(usage, mode=DEFAULT_MODE, unit=DEFAULT_UNIT, pricing=None):
    """The line of one company (see the module docstring for the rules).

    ValueError (naming the company) when a needed rate is missing.
    """
    check_mode(mode)
    check_unit(unit)
    pricing = pricing or Pricing()
    used_quantity = bytes_to_quantity(usage.used_bytes, unit)
    common = dict(company=usage.company, unit=unit, used_bytes=usage.used_bytes,
                  destinations=tuple(usage.destinations), mode=mode, used_quantity=used_quantity)
    if mode == "quantity_only":
        return Line(quantity=used_quantity, unit_cost=None, unit_price=None,
                    total_cost=None, total_price=None, **common)

    raw_cost = _raw_cost(usage, unit, pricing)
    raw_price = _raw_price(usage, unit, pricing)
    if mode == "total":
        total_cost, total_price = round_money(raw_cost), round_money(raw_price)
        return Line(quantity=round_quantity(1), unit_cost=round_unit(total_cost), unit_price=round_unit(total_price),
                    total_cost=total_cost, total_price=total_price, **common)

    # average_cost
    warnings = []
    if used_quantity == 0:
        unit_cost = unit_price = round_unit(0)
        for side, raw in (("cost", raw_cost), ("price", raw_price)):
            if round_money(raw) != 0:
                warnings.append("total %s %s cannot be billed per %s: the quantity rounds to 0.00 %s"
                                % (side, round_money(raw), unit, unit))
    else:
        unit_cost = round_unit(_CTX.divide(raw_cost, used_quantity))
        unit_price = round_unit(_CTX.divide(raw_price, used_quantity))
    return Line(quantity=used_quantity, unit_cost=unit_cost, unit_price=unit_price,
                total_cost=round_money(_CTX.multiply(used_quantity, unit_cost)),
                total_price=round_money(_CTX.multiply(used_quantity, unit_price)),
                warnings=tuple(warnings), **common)


# ---------------------------------------------------------------------------
# invoice description

_FORMATTER = string.Formatter()


def _template_fields(template):
    """Field names of ``template``; ValueError on malformed braces or unsafe fields."""
    if not isinstance(template, str):
        raise ValueError("invoice description template must be a string, not %r" % (template,))
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise ValueError("invoice description template has malformed braces (%s); write a literal brace "
                         "as {{ or }}" % exc)
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise ValueError("invoice description template: positional placeholder {%s} is not allowed; "
                             "use one of %s" % (name, _placeholder_list()))
        if conversion is not None:
            raise ValueError("invoice description template: conversion !%s in {%s} is not allowed"
                             % (conversion, name))
        if spec and ("{" in spec or "}" in spec):
            raise ValueError("invoice description template: nested placeholder in {%s:%s} is not allowed"
                             % (name, spec))
        names.append((name, spec))
    return names


def _placeholder_list():
    return ", ".join("{%s}" % p for p in TEMPLATE_PLACEHOLDERS)


def validate_template(template, mode=None):
    """Check an invoice description template before any write.

    ``"product"`` is valid (no description). Otherwise: ValueError naming the unknown
    placeholders; malformed braces; ``{unit_price}``/``{total_price}`` in
    ``quantity_only`` mode (there is no price to show); a format spec that does not
    apply to the value (checked by rendering sample values).
    """
    if template == PRODUCT_DESCRIPTION:
        return template
    fields = _template_fields(template)
    if not template.strip():
        raise ValueError("invoice description template is empty; use %r for the product's description"
                         % PRODUCT_DESCRIPTION)
    unknown = sorted(set(name for name, _spec in fields if name not in TEMPLATE_PLACEHOLDERS))
    if unknown:
        raise ValueError("invoice description template: unknown placeholder%s %s; allowed: %s"
                         % ("s" if len(unknown) > 1 else "", ", ".join("{%s}" % n for n in unknown),
                            _placeholder_list()))
    if mode == "quantity_only":
        priced = sorted(set(n for n, _s in fields if n in ("unit_price", "total_price")))
        if priced:
            raise ValueError("invoice description template uses %s but mode quantity_only sends no price"
                             % ", ".join("{%s}" % n for n in priced))
    sample = dict(company="Acme", company_name="Acme Inc.", period="2026-10", month="October 2026",
                  quantity=Decimal("1.00"), unit=DEFAULT_UNIT, unit_price=Decimal("0.0000"),
                  total_price=Decimal("0.00"), destinations="")
    for name, spec in fields:
        try:
            format(sample[name], spec)
        except ValueError as exc:
            raise ValueError("invoice description template: format {%s:%s} is not valid (%s)" % (name, spec, exc))
    return template


def render_invoice_description(template, line, period, company_name):
    """The ``invoiceDescription`` for ``line``, or None for ``"product"``.

    ValueError when the result exceeds ConnectWise's 6000 characters.
    """
    if template == PRODUCT_DESCRIPTION or template is None:
        return None
    validate_template(template, line.mode)
    period = parse_period(period)
    values = dict(
        company=line.company,
        company_name=company_name if company_name is not None else line.company,
        period=period.label,
        month=period.month_name,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        total_price=line.total_price,
        destinations=", ".join(line.destinations),
    )
    text = template.format(**values)
    if len(text) > INVOICE_DESCRIPTION_MAX:
        raise ValueError("invoice description for company %r is %d characters; ConnectWise accepts at most %d"
                         % (line.company, len(text), INVOICE_DESCRIPTION_MAX))
    return text


# ---------------------------------------------------------------------------
# effective date

# ``one_time``: a late charge, effective after its own month and cancelled at the end of the month it starts in.
EffectiveDate = namedtuple("EffectiveDate", ["date", "warning", "one_time"], defaults=(False,))


class NotBillingYet(Exception):
    """The agreement starts billing after the period: skip the company."""

    reason = NOT_BILLING_YET

    def __init__(self, period, bill_start_date):
        self.period = period
        self.bill_start_date = bill_start_date
        super(NotBillingYet, self).__init__(
            "%s: its billing start date %s is after the last day of %s (%s)"
            % (NOT_BILLING_YET, bill_start_date.isoformat(), period.label, period.last_day.isoformat()))


class EffectiveDateRefused(ValueError):
    """Policy ``fail`` and the billing start date falls inside the period."""

    def __init__(self, period, bill_start_date):
        self.period = period
        self.bill_start_date = bill_start_date
        super(EffectiveDateRefused, self).__init__(
            "The Effective Date: %s in agreement addition cannot precede the Billing Start Date: %s. "
            "The agreement starts billing inside %s, so the addition for the period would start before it; "
            "with effective_date_policy=fail nothing is written for this company. Use "
            "effective_date_policy=clamp to start the addition on the billing start date, or change the "
            "agreement's billing start date."
            % (_us_date(period.first_day), _us_date(bill_start_date), period.label))


def _us_date(day):
    return "%d/%d/%d" % (day.month, day.day, day.year)


def agreement_term(agreement, period):
    """Whether ``agreement``'s term covers ``period``: ``(covers, reason_or_warning)``.

    ConnectWise's ``agreementStatus`` describes the day it is read (an agreement that ended on
    2026-10-31 reads ``Expired`` in December), so the period is judged by the dates instead:
    start on or before the period's last day; no end date (or ``noEndingDateFlag``), or an end on or
    after its first day; not cancelled before the period began. When it covers, the second value
    is a warning (cancelled inside the period) or None; when it does not, it is the reason.
    """
    start = parse_cw_date(agreement.get("startDate"))
    if start is not None and start > period.last_day:
        return False, "starts on %s, after %s" % (start.isoformat(), period.label)
    end = None if agreement.get("noEndingDateFlag") else parse_cw_date(agreement.get("endDate"))
    if end is not None and end < period.first_day:
        return False, "ended on %s, before %s" % (end.isoformat(), period.label)
    cancelled = parse_cw_date(agreement.get("dateCancelled"))
    status = agreement.get("agreementStatus") or ""
    if cancelled is None and (agreement.get("cancelledFlag") or status == "Cancelled"):
        return False, "cancelled (no cancellation date to tell whether %s was covered)" % period.label
    # Without the date that explains it, a status other than Active cannot be judged: do not bill.
    if status == "Expired" and end is None:
        return False, "expired (no end date to tell whether %s was covered)" % period.label
    if status == "Inactive":
        return False, "inactive"
    if cancelled is not None:
        if cancelled < period.first_day:
            return False, "cancelled on %s, before %s" % (cancelled.isoformat(), period.label)
        if cancelled <= period.last_day:
            return True, ("agreement %s was cancelled on %s, inside %s: the period is billed"
                          % (agreement.get("id"), cancelled.isoformat(), period.label))
    return True, None


def effective_date(period, bill_start_date=None, policy="clamp"):
    """The addition's effective date for ``period`` under the agreement's ``billStartDate``.

    Returns ``EffectiveDate(date, warning)``; raises :class:`NotBillingYet` or
    :class:`EffectiveDateRefused`. ``bill_start_date`` may be a date or a ConnectWise
    datetime string.
    """
    if policy not in EFFECTIVE_DATE_POLICIES:
        raise ValueError("effective_date_policy %r is not one of %s" % (policy, ", ".join(EFFECTIVE_DATE_POLICIES)))
    period = parse_period(period)
    start = parse_cw_date(bill_start_date) if bill_start_date is not None else None
    if start is None or start <= period.first_day:
        return EffectiveDate(period.first_day, None)
    if start > period.last_day:
        raise NotBillingYet(period, start)
    if policy == "fail":
        raise EffectiveDateRefused(period, start)
    return EffectiveDate(start, "effective date moved from %s to the agreement's billing start date %s "
                                "(ConnectWise refuses an addition that starts before it)"
                         % (period.first_day.isoformat(), start.isoformat()))


INVOICED_POLICIES = ("fail", "next_invoice_date")
# ConnectWise's refusal of an addition inside an invoiced period (the shared API document's wording).
INVOICED_REFUSAL = ("Since this period has already been invoiced there will not be an invoice generated for "
                    "additional products for this period. Please prorate the agreement or update the start date "
                    "to on or after the Next Invoice Date.")


def is_invoiced_refusal(message):
    return "already been invoiced" in (message or "").lower()


class InvoicedPeriodRefused(ValueError):
    """Policy ``fail`` and ConnectWise refuses (or would refuse) an addition inside an invoiced span."""

    def __init__(self, period, next_invoice_date=None, api_message=None):
        self.period = period
        self.next_invoice_date = next_invoice_date
        through = (" (invoiced through %s; next invoice date %s)"
                   % ((next_invoice_date - datetime.timedelta(days=1)).isoformat(), next_invoice_date.isoformat())
                   if next_invoice_date else "")
        super(InvoicedPeriodRefused, self).__init__(
            "%s The agreement does not prorate and %s is already invoiced%s, so ConnectWise refuses the "
            "addition; nothing was written for this company. Set invoiced_period_policy: next_invoice_date to bill "
            "%s on the next invoice as a one-time charge, or prorate the agreement (or bill it by hand)."
            % (api_message or INVOICED_REFUSAL, period.label, through, period.label))


def past_invoiced_span(effective, period, next_invoice_date, policy, api_message=None):
    """``effective`` moved to ``next_invoice_date`` as a one-time late charge, or InvoicedPeriodRefused.

    On an agreement that does not prorate, ConnectWise refuses an addition effective before its
    next invoice date. Policy ``next_invoice_date`` bills the month on the next invoice instead:
    effective that day and cancelled at the end of its month, so it bills once; the addition
    keeps its month's marker, so a re-run finds it. Policy ``fail`` refuses.
    """
    if policy not in INVOICED_POLICIES:
        raise ValueError("invoiced_period_policy %r is not one of %s" % (policy, ", ".join(INVOICED_POLICIES)))
    period = parse_period(period)
    if policy == "fail" or next_invoice_date is None:
        raise InvoicedPeriodRefused(period, next_invoice_date, api_message)
    warning = ("%s is already invoiced on this agreement: billed on the next invoice as a one-time charge "
               "effective %s (instead of %s)" % (period.label, next_invoice_date.isoformat(),
                                                 effective.date.isoformat()))
    if effective.warning:
        warning = "%s; %s" % (effective.warning, warning)
    return EffectiveDate(next_invoice_date, warning, True)


def invoiced_effective_date(effective, period, agreement, policy):
    """The effective date once the agreement's invoiced span is known (see :func:`past_invoiced_span`).

    ``agreement`` carries ``prorateFlag`` and ``nextInvoiceDate``; a prorated agreement, or an
    effective date on or after the next invoice date, leaves ``effective`` as it is.
    """
    next_invoice = parse_cw_date(agreement.get("nextInvoiceDate"))
    if agreement.get("prorateFlag") or next_invoice is None or effective.date >= next_invoice:
        return effective
    return past_invoiced_span(effective, period, next_invoice, policy)


# ---------------------------------------------------------------------------
# addition payloads


def addition_fields(line, product, effective, invoice_description=None, mode=None, period=None):
    """The addition's fields (ConnectWise names, Decimal values) for create or compare.

    ``product``: the catalog item's id, or its identifier. ``effective``: an
    :class:`EffectiveDate` or a date. ``unitCost``/``unitPrice`` are omitted in
    ``quantity_only``; ``invoiceDescription`` only when not None. With ``period`` the
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


def _product_matches(addition, product):
    ref = addition.get("product") or {}
    if isinstance(product, int) and not isinstance(product, bool):
        return ref.get("id") == product
    identifier = ref.get("identifier")
    return isinstance(identifier, str) and isinstance(product, str) and fold(identifier) == fold(product)


# ---------------------------------------------------------------------------
# the period an addition bills, and the history of a product's additions
#
# An addition this collection makes carries MARKER + its period in ``description`` (the Additions
# tab's description column; invoices print ``invoiceDescription``). The marker, not the effective
# date, says which month an addition bills: an addition moved to the next invoice date (an
# invoiced period) or clamped to a billing start date stays its own month's, so a re-run finds it
# and never makes a second one. An addition without the marker (made by hand, or by an earlier
# version) bills the month its effective date falls in.

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
    found = [a for a in additions if _product_matches(a, product) and addition_period(a) == period]
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
    return any(_product_matches(a, product) and (addition_period(a) or period).first_day > period.last_day
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
    before_start = _as_date(starts) - datetime.timedelta(days=1)
    later = later_periods_billed(additions, product, period)
    found = []
    candidates = [a for a in additions if _product_matches(a, product) and _effective(a) is not None
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
    day = _as_date(effective)
    return period_of(day).last_day


# ---------------------------------------------------------------------------
# report totals


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
