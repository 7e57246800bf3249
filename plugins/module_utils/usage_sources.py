# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Usage records: inline, from CSV/JSON files, and the normalisation the MSP360 API client shares.

Every source produces :class:`billing.usage.UsageRecord` lists (the MSP360 API through
:mod:`msp360`, whose rows are normalised by :func:`make_record` like an export file's). Errors are
:class:`UsageError` (a ValueError) naming the record: ``usage[3].used_bytes``,
``usage_file row 4``, ``MSP360 billing 2026-10 row 2``.

Field mapping (documented in the module options too):

==================  ==================  ============================================
normalised          canonical name      MSP360 name (API ``BillingStatistic`` / export)
==================  ==================  ============================================
company             ``company``         ``CompanyName``
used_bytes          ``used_bytes``      ``AverageSpace`` (bytes averaged over the month;
                                        fractional bytes are rounded half-up)
destination         ``destination``     ``Destination``
user                ``user``            ``UserId`` (else ``Email``)
price *or* cost     ``price``/``cost``  ``TotalCost``: the price total by default;
                                        ``total_cost_is="cost"`` makes it the cost total
==================  ==================  ============================================

Other MSP360 columns (``Email``, ``FirstName``, ``LastName``, ``TotalVolumeRestore``,
``PlanCost``, ``StorageCost``, ``RestoreCost``, ``CurrentSpaceUsed``) are accepted and
ignored; any other column is an error. A record uses one naming or the other, not both.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json
import os
from decimal import ROUND_HALF_UP, Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import to_decimal
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.usage import UsageRecord
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import UsageError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import company_key

TOTAL_COST_IS = ("price", "cost")

CANONICAL_FIELDS = ("company", "used_bytes", "destination", "cost", "price", "user")
MSP360_FIELDS = {
    "CompanyName": "company",
    "AverageSpace": "used_bytes",
    "Destination": "destination",
    "UserId": "user",
    "TotalCost": None,  # price or cost: see total_cost_is
}
MSP360_IGNORED = frozenset(("Email", "FirstName", "LastName", "TotalVolumeRestore", "PlanCost",
                            "StorageCost", "RestoreCost", "CurrentSpaceUsed"))


def check_total_cost_is(total_cost_is):
    if total_cost_is not in TOTAL_COST_IS:
        raise ValueError("total_cost_is %r is not one of %s" % (total_cost_is, ", ".join(TOTAL_COST_IS)))


# ---------------------------------------------------------------------------
# one record


def _bytes(value, where, round_fraction=False):
    if isinstance(value, bool):
        raise UsageError("%s: %r is a boolean, not a number of bytes" % (where, value))
    if isinstance(value, str) and not value.strip():
        raise UsageError("%s: is empty" % where)
    try:
        number = to_decimal(value, where)
    except ValueError as exc:
        raise UsageError(str(exc))
    if number != number.to_integral_value():
        if not round_fraction:
            raise UsageError("%s: %r is not a whole number of bytes" % (where, value))
        number = number.to_integral_value(rounding=ROUND_HALF_UP)
    return int(number)


def _money(value, where):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise UsageError("%s: %r is a boolean, not an amount" % (where, value))
    try:
        return to_decimal(value, where)
    except ValueError as exc:
        raise UsageError(str(exc))


def _text(value, where, required=False):
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise UsageError("%s: is missing or empty" % where)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise UsageError("%s: %r is not a string" % (where, value))
    return str(value).strip()


def make_record(raw, ref, field_ref, total_cost_is="price"):
    """One dict (canonical or MSP360 names) -> UsageRecord.

    ``field_ref(name)`` gives the reference of one field for messages.
    """
    if not isinstance(raw, dict):
        raise UsageError("%s: is %s, not a mapping" % (ref, type(raw).__name__))
    keys = set(k for k in raw if k is not None)
    if None in raw:
        raise UsageError("%s: has more values than the header has columns" % ref)
    msp = keys & (set(MSP360_FIELDS) | MSP360_IGNORED)
    canonical = keys & set(CANONICAL_FIELDS)
    unknown = sorted(keys - set(MSP360_FIELDS) - MSP360_IGNORED - set(CANONICAL_FIELDS), key=str)
    if unknown:
        raise UsageError("%s: unknown field%s %s; allowed: %s (or the MSP360 names %s)"
                         % (ref, "s" if len(unknown) > 1 else "", ", ".join(repr(k) for k in unknown),
                            ", ".join(CANONICAL_FIELDS), ", ".join(sorted(MSP360_FIELDS))))
    if msp and canonical:
        raise UsageError("%s: mixes canonical fields (%s) with MSP360 fields (%s); use one naming"
                         % (ref, ", ".join(sorted(canonical)), ", ".join(sorted(msp))))
    if msp:
        names = dict((v, k) for k, v in MSP360_FIELDS.items() if v)
        values = dict((MSP360_FIELDS[k], raw[k]) for k in raw if MSP360_FIELDS.get(k))
        if not values.get("user"):
            values["user"] = raw.get("Email")
        total = _money(raw.get("TotalCost"), field_ref("TotalCost"))
        cost, price = (None, total) if total_cost_is == "price" else (total, None)
        round_fraction = True
    else:
        names = dict((k, k) for k in CANONICAL_FIELDS)
        values = raw
        cost = _money(raw.get("cost"), field_ref("cost"))
        price = _money(raw.get("price"), field_ref("price"))
        round_fraction = False
    company = _text(values.get("company"), field_ref(names["company"]), required=True)
    if "used_bytes" not in values or values["used_bytes"] is None:
        raise UsageError("%s: is missing" % field_ref(names["used_bytes"]))
    used = _bytes(values["used_bytes"], field_ref(names["used_bytes"]), round_fraction=round_fraction)
    return UsageRecord(company=company, used_bytes=used,
                       destination=_text(values.get("destination"), field_ref(names["destination"])),
                       cost=cost, price=price, source_ref=ref,
                       user=_text(values.get("user"), field_ref(names["user"])))


def _check_duplicates(records):
    seen = {}
    for record in records:
        key = (company_key(record.company), record.destination, record.user)
        if key in seen:
            raise UsageError(
                "%s: duplicate of %s (company %r, destination %r, user %r): each company, destination and "
                "user must appear once"
                % (record.source_ref, seen[key], record.company, record.destination, record.user))
        seen[key] = record.source_ref
    return records


# ---------------------------------------------------------------------------
# inline


def normalise_inline(records, name="usage", total_cost_is="price"):
    """Inline records (module option ``usage``) -> UsageRecords; refs ``usage[i]`` (0-based)."""
    check_total_cost_is(total_cost_is)
    if not isinstance(records, (list, tuple)):
        raise UsageError("%s: must be a list of records, not %s" % (name, type(records).__name__))
    result = []
    for index, raw in enumerate(records):
        ref = "%s[%d]" % (name, index)
        result.append(make_record(raw, ref, lambda f, ref=ref: "%s.%s" % (ref, f), total_cost_is))
    return _check_duplicates(result)


# ---------------------------------------------------------------------------
# files


def read_usage_file(path, total_cost_is="price"):
    """A CSV or JSON usage export -> UsageRecords.

    The format follows the extension (``.csv``, ``.json``), else the first character
    (``[``/``{`` -> JSON). CSV rows are referenced as a spreadsheet shows them (the
    header is row 1); JSON records as ``usage_file[i]``.
    """
    check_total_cost_is(total_cost_is)
    try:
        with open(path, "r", encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError("usage_file %s cannot be read: %s" % (path, exc))
    if not text.strip():
        raise UsageError("usage_file %s is empty" % path)
    extension = os.path.splitext(path)[1].lower()
    if extension == ".json" or (extension != ".csv" and text.lstrip()[:1] in ("[", "{")):
        return _read_json(path, text, total_cost_is)
    return _read_csv(path, text, total_cost_is)


def _read_csv(path, text, total_cost_is):
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames
        if not header:
            raise UsageError("usage_file %s has no header row" % path)
        stripped = [h.strip() for h in header]
        if len(set(stripped)) != len(stripped):
            raise UsageError("usage_file %s row 1: duplicate column names in %s" % (path, ", ".join(stripped)))
        reader.fieldnames = stripped
        # Check the header once, so an unknown column is reported as such even with no data rows.
        _check_header(path, stripped)
        records = []
        for row_number, row in enumerate(reader, start=2):
            ref = "usage_file row %d" % row_number
            records.append(make_record(row, ref, lambda f, ref=ref: "%s column %s" % (ref, f), total_cost_is))
    except csv.Error as exc:
        raise UsageError("usage_file %s is not valid CSV: %s" % (path, exc))
    if not records:
        raise UsageError("usage_file %s has a header but no rows" % path)
    return _check_duplicates(records)


def _check_header(path, columns):
    known = set(CANONICAL_FIELDS) | set(MSP360_FIELDS) | MSP360_IGNORED
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise UsageError("usage_file %s row 1: unknown column%s %s; allowed: %s (or the MSP360 names %s)"
                         % (path, "s" if len(unknown) > 1 else "", ", ".join(repr(c) for c in unknown),
                            ", ".join(CANONICAL_FIELDS), ", ".join(sorted(MSP360_FIELDS))))
    has_company = "company" in columns or "CompanyName" in columns
    has_bytes = "used_bytes" in columns or "AverageSpace" in columns
    if not (has_company and has_bytes):
        raise UsageError("usage_file %s row 1: the header needs a company column (company or CompanyName) and "
                         "a usage column (used_bytes or AverageSpace); found %s" % (path, ", ".join(columns)))


def _read_json(path, text, total_cost_is):
    try:
        data = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise UsageError("usage_file %s is not valid JSON: %s" % (path, exc))
    rows = []
    if isinstance(data, dict):
        if "StatisticBilling" not in data:
            raise UsageError("usage_file %s: a JSON object must be an MSP360 Billing object with "
                             "StatisticBilling; otherwise give a list of records" % path)
        data = [data]
    if not isinstance(data, list):
        raise UsageError("usage_file %s: JSON must be a list of records or MSP360 Billing objects" % path)
    for index, item in enumerate(data):
        if isinstance(item, dict) and "StatisticBilling" in item:
            statistics = item["StatisticBilling"]
            if statistics is None:
                statistics = []
            if not isinstance(statistics, list):
                raise UsageError("usage_file[%d].StatisticBilling: is not a list" % index)
            for row_index, row in enumerate(statistics):
                rows.append(("usage_file[%d].StatisticBilling[%d]" % (index, row_index), row))
        else:
            rows.append(("usage_file[%d]" % index, item))
    if not rows:
        raise UsageError("usage_file %s holds no usage records" % path)
    records = [make_record(row, ref, lambda f, ref=ref: "%s.%s" % (ref, f), total_cost_is) for ref, row in rows]
    return _check_duplicates(records)
