# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MSP360's license "Usage History" CSV export -> license counts of a month. Pure but for reading the file.

The console's Licenses > Usage History page exports one row per license assignment to an endpoint,
with the columns ``Type, Company, User, Endpoint, Status, Activated, Deactivated, Days Active``
(some consoles add ``Purchased, Purchase ID, Cost``: accepted and ignored; column names match
case-insensitively). It is the only source with activation dates, so unlike ``GET api/Licenses``
(a snapshot at run time) it can count a past month. The result has the shape of
:func:`licenses.count_licenses`: a :class:`license_counts.LicenseCounts`, every row in one bucket.

When a row counts for a month
    A row is active from its ``Activated`` day through its ``Deactivated`` day, both included
    (a license released on the 1st was in use that day; the vendor bills each started day). It
    counts for the month when ``Activated <= last day`` and (no ``Deactivated`` or
    ``Deactivated >= first day``): activated on the last day counts, deactivated on the first day
    counts, deactivated on the last day of the month before does not, no ``Deactivated`` is still
    active. A row whose ``Status`` is ``Expired`` and that has no ``Deactivated`` ended at
    ``Activated + Days Active`` (as a date and time); with neither, the row is refused.

Reasons not billed, first that applies (:data:`HISTORY_REASONS`)
    ``trial`` (Status ``Active trial`` or ``Expired trial``), ``unassigned`` (no User),
    ``not_taken`` (no Activated date), ``not_active`` (not active during the month),
    ``no_company`` (no Company), ``unmapped_type`` (no ``license_products`` entry maps Type),
    ``repeat`` (the same Company, Type, User and Endpoint already counted this month: a license
    released and taken again by one endpoint is one license of that month).

Dates
    The console's export format is not published; these are read, as the calendar date and
    time written (an offset is ignored): ISO (``2026-09-01``, ``2026-09-01T08:30:00.1234567+00:00``,
    ``2026/09/01``); numbers with slashes or dashes (``9/1/2026 8:30 AM``, ``01-09-2026 08:30``);
    numbers with dots, always day first (``01.09.2026``); month names (``Sep 1, 2026``,
    ``1 September 2026``, ``01-Sep-2026``). Years have four digits. Whether slashed or dashed numbers
    are month or day first is told by the file itself (a date whose first number is above 12 is day
    first, whose second is, month first; the console writes one order), or by ``date_order``; a file
    that proves both orders, or a date that could be either (``03/04/2026``) when nothing tells, is
    refused with the row and column.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import datetime
import difflib
import io
import re
from decimal import Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils import license_counts as lc
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import HistoryError
from ansible_collections.mbs.connectwise.plugins.module_utils.licenses import LicenseProducts
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import to_decimal
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import parse_period
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

COLUMNS = ("Type", "Company", "User", "Endpoint", "Status", "Activated", "Deactivated", "Days Active")
REQUIRED_COLUMNS = ("Type", "Company", "User", "Endpoint", "Status", "Activated", "Deactivated")
IGNORED_COLUMNS = ("Purchased", "Purchase ID", "Cost")
HISTORY_REASONS = (lc.TRIAL, lc.UNASSIGNED, lc.NOT_TAKEN, lc.NOT_ACTIVE, lc.NO_COMPANY, lc.UNMAPPED_TYPE,
                   lc.REPEAT)

TRIAL_STATUSES = ("active trial", "expired trial")
STATUSES = TRIAL_STATUSES + ("paid", "expired")
DATE_ORDERS = ("month_first", "day_first")

_MONTHS = dict((name, number) for number, names in enumerate(
    (None, ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december"))) if names for name in names)
_TIME = r"(?:[T ]+(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?\s*$"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ].*)?$")
_YEAR_FIRST = re.compile(r"^(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})" + _TIME)
_NUMERIC = re.compile(r"^(?P<first>\d{1,2})(?P<sep>[/.-])(?P<second>\d{1,2})(?P=sep)(?P<year>\d+)" + _TIME)
_NAMED = re.compile(r"^(?:(?P<day1>\d{1,2})[ -](?P<month1>[A-Za-z]+)\.?[ -](?P<year1>\d{4})|"
                    r"(?P<month2>[A-Za-z]+)\.? (?P<day2>\d{1,2}),? (?P<year2>\d{4}))" + _TIME)


# ---------------------------------------------------------------------------
# dates


def _clock(match, where, text):
    """The time of day of a date match (midnight when none); HistoryError for an impossible one."""
    if not match.group("time"):
        return datetime.time()
    parts = [Decimal(part) for part in match.group("time").split(":")]
    hour, minute, second = int(parts[0]), int(parts[1]), (parts[2] if len(parts) > 2 else Decimal(0))
    ampm = (match.group("ampm") or "").replace(".", "").lower()
    if ampm and not 1 <= hour <= 12:
        raise HistoryError("%s: %r has an hour %d with %s" % (where, text, hour, ampm.upper()))
    hour = hour % 12 + (12 if ampm == "pm" else 0) if ampm else hour
    if hour > 23 or minute > 59 or second >= 60:
        raise HistoryError("%s: %r is not a time of day" % (where, text))
    return datetime.time(hour, minute, int(second))


def _moment(year, month, day, match, where, text):
    try:
        day = datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise HistoryError("%s: %r is not a date" % (where, text))
    return datetime.datetime.combine(day, _clock(match, where, text))


def numeric_order_evidence(text):
    """``"day_first"``, ``"month_first"`` or None: what one slashed or dashed date proves about the order."""
    match = _NUMERIC.match(text.strip())
    if not match or match.group("sep") == ".":
        return None
    first, second = int(match.group("first")), int(match.group("second"))
    if first > 12 >= second:
        return "day_first"
    if second > 12 >= first:
        return "month_first"
    return None


def _numeric(match, where, text, date_order):
    first, second = int(match.group("first")), int(match.group("second"))
    if len(match.group("year")) != 4:
        raise HistoryError("%s: %r has a %d-digit year: export dates with four-digit years"
                           % (where, text, len(match.group("year"))))
    if match.group("sep") == ".":
        date_order = "day_first"
    elif date_order is None and first != second and first <= 12 and second <= 12:
        raise HistoryError(
            "%s: %r could be day %d of month %d or day %d of month %d, and no date in the file tells which order "
            "it uses: give the date order (day_first or month_first), or export with ISO dates (YYYY-MM-DD)"
            % (where, text, first, second, second, first))
    elif date_order is None:
        date_order = "day_first" if first > 12 else "month_first"
    day, month = (first, second) if date_order == "day_first" else (second, first)
    return _moment(match.group("year"), month, day, match, where, text)


def parse_history_date(value, where, date_order=None):
    """One Activated/Deactivated cell -> ``datetime`` (naive, as written), None when empty.

    ``date_order`` (``day_first``/``month_first``) reads ``03/04/2026``; without it such a date is refused.
    """
    text = (value or "").strip()
    if not text:
        return None
    if _ISO.match(text):
        try:
            return datetime.datetime.fromisoformat(text).replace(tzinfo=None)
        except ValueError:
            raise HistoryError("%s: %r is not a date" % (where, value))
    match = _YEAR_FIRST.match(text)
    if match:
        return _moment(match.group("year"), match.group("month"), match.group("day"), match, where, text)
    match = _NUMERIC.match(text)
    if match:
        return _numeric(match, where, text, date_order)
    match = _NAMED.match(text)
    if match:
        month_name = (match.group("month1") or match.group("month2")).lower()
        if month_name not in _MONTHS:
            raise HistoryError("%s: %r names no month" % (where, value))
        return _moment(match.group("year1") or match.group("year2"), _MONTHS[month_name],
                       match.group("day1") or match.group("day2"), match, where, text)
    raise HistoryError("%s: %r is not a date (write 2026-09-01, 9/1/2026 or Sep 1, 2026)" % (where, value))


def file_date_order(rows, date_order):
    """The order the file's slashed or dashed dates use: ``date_order``, or what its dates prove, or None.

    ``rows`` are ``[(row ref, {column: cell})]``. HistoryError when the file proves both orders, or
    proves the one that contradicts ``date_order``.
    """
    if date_order is not None and date_order not in DATE_ORDERS:
        raise HistoryError("date order %r is not one of %s" % (date_order, ", ".join(DATE_ORDERS)))
    proof = {}
    for ref, row in rows:
        for column in ("Activated", "Deactivated"):
            evidence = numeric_order_evidence(row.get(column) or "")
            if evidence:
                proof.setdefault(evidence, "%s column %s %r" % (ref, column, row[column].strip()))
    if len(proof) == 2:
        raise HistoryError("the file writes dates day first (%s) and month first (%s): export it again from one "
                           "console" % (proof["day_first"], proof["month_first"]))
    if date_order is not None and proof and date_order not in proof:
        found = list(proof)[0]
        raise HistoryError("the date order is %s, but %s is %s" % (date_order, proof[found], found.replace("_", " ")))
    return date_order or (list(proof)[0] if proof else None)


# ---------------------------------------------------------------------------
# rows


def _header(name, fieldnames):
    """``{file column: canonical column}``; HistoryError (row 1) for unknown, repeated or missing columns."""
    known = dict((fold(column), column) for column in COLUMNS + IGNORED_COLUMNS)
    mapping, seen = {}, {}
    for column in fieldnames or []:
        canonical = known.get(fold(column))
        if canonical is None:
            close = difflib.get_close_matches(str(column).strip(), COLUMNS + IGNORED_COLUMNS, n=1, cutoff=0.6)
            raise HistoryError("%s row 1: unknown column %r; %sthe usage-history export has %s"
                               % (name, column, "did you mean %r? " % close[0] if close else "",
                                  ", ".join(COLUMNS + IGNORED_COLUMNS)))
        if canonical in seen:
            raise HistoryError("%s row 1: columns %r and %r are both %s" % (name, seen[canonical], column, canonical))
        seen[canonical] = column
        mapping[column] = canonical
    missing = [column for column in REQUIRED_COLUMNS if column not in seen]
    if missing:
        raise HistoryError("%s row 1: the usage-history export's column%s %s %s missing"
                           % (name, "s" if len(missing) > 1 else "", ", ".join(missing),
                              "are" if len(missing) > 1 else "is"))
    return mapping


def read_rows(name, text):
    """CSV text -> ``[(ref, {canonical column: cell})]``; rows referenced as a spreadsheet shows them."""
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        mapping = _header(name, reader.fieldnames)
        rows = []
        for number, raw in enumerate(reader, start=2):
            ref = "%s row %d" % (name, number)
            if None in raw:
                raise HistoryError("%s: has more values than the header has columns" % ref)
            if all(not (cell or "").strip() for cell in raw.values()):
                continue  # a spreadsheet's empty line (",,,,"), not a license
            rows.append((ref, dict((mapping[column], cell) for column, cell in raw.items())))
    except csv.Error as exc:
        raise HistoryError("%s is not valid CSV: %s" % (name, exc))
    return rows


def _cell(row, column):
    return (row.get(column) or "").strip() or None


def _days_active(row, where):
    cell = _cell(row, "Days Active")
    if cell is None:
        return None
    try:
        return to_decimal(cell, where)
    except ValueError as exc:
        raise HistoryError(str(exc))


def _status(row, ref):
    status = fold(_cell(row, "Status"))
    if status not in STATUSES:
        raise HistoryError("%s column Status: %r is not one of the console's statuses (Active trial, Expired trial, "
                           "Paid, Expired)" % (ref, row.get("Status")))
    return status


def active_span(row, ref, date_order):
    """``(activated, deactivated)`` datetimes of a row (either None), checked against each other."""
    activated = parse_history_date(row.get("Activated"), "%s column Activated" % ref, date_order)
    deactivated = parse_history_date(row.get("Deactivated"), "%s column Deactivated" % ref, date_order)
    days = _days_active(row, "%s column Days Active" % ref)
    if activated is not None and deactivated is not None and deactivated.date() < activated.date():
        raise HistoryError("%s column Deactivated: %r is before the Activated date %r"
                           % (ref, row["Deactivated"].strip(), row["Activated"].strip()))
    if activated is not None and deactivated is None and _status(row, ref) == "expired":
        if days is None:
            raise HistoryError("%s column Deactivated: an Expired license with no Deactivated date and no Days Active: "
                               "when it stopped is unknown; export with the Days Active column" % ref)
        deactivated = activated + datetime.timedelta(seconds=int(days * 86400))
    return activated, deactivated


def is_active_in(period, activated, deactivated):
    """Active during ``period``: activated on or before its last day, not deactivated before its first."""
    return activated.date() <= period.last_day and (deactivated is None or deactivated.date() >= period.first_day)


def _classify(row, ref, period, products, date_order):
    """The reason a row is not billed (first that applies), or None. Every row's dates are checked."""
    activated, deactivated = active_span(row, ref, date_order)
    if _status(row, ref) in TRIAL_STATUSES:
        return lc.TRIAL
    if _cell(row, "User") is None:
        return lc.UNASSIGNED
    if activated is None:
        return lc.NOT_TAKEN
    if not is_active_in(period, activated, deactivated):
        return lc.NOT_ACTIVE
    if _cell(row, "Company") is None:
        return lc.NO_COMPANY
    if products.entry_for(_cell(row, "Type")) is None:
        return lc.UNMAPPED_TYPE
    return None


def count_history_rows(rows, period, products, source, date_order=None):
    """Rows of :func:`read_rows` -> :class:`license_counts.LicenseCounts` for ``period``."""
    if not isinstance(products, LicenseProducts):
        raise TypeError("products must be parse_license_products()'s result")
    period = parse_period(period)
    date_order = file_date_order(rows, date_order)
    classified, seats = [], set()
    for ref, row in rows:
        reason = _classify(row, ref, period, products, date_order)
        seat = tuple(fold(_cell(row, column)) for column in ("Company", "Type", "User", "Endpoint"))
        if reason is None and seat[3] is not None:
            reason = lc.REPEAT if seat in seats else None
            seats.add(seat)
        entry = None if reason else products.entry_for(_cell(row, "Type"))
        item = lc.LicenseItem(ref=ref, license_type=_cell(row, "Type"), company=_cell(row, "Company"),
                              user=_cell(row, "User"), endpoint=_cell(row, "Endpoint"))
        classified.append((item, reason, products.terms(entry.product).product if entry else None))
    return lc.tally(period, source, classified, HISTORY_REASONS)


def count_license_history(text, period, products, name="license_history_file", date_order=None):
    """Usage-history CSV text -> :class:`license_counts.LicenseCounts`; errors name ``name``, the row and column."""
    rows = read_rows(name, text)
    return count_history_rows(rows, period, products, "%s (license usage history)" % name, date_order)


def read_license_history(path, period, products, name="license_history_file", date_order=None):
    """The usage-history CSV file at ``path`` -> :class:`license_counts.LicenseCounts` of ``period``."""
    try:
        with open(path, "r", encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError("%s %s cannot be read: %s" % (name, path, exc))
    if not text.strip():
        raise HistoryError("%s %s is empty" % (name, path))
    return count_license_history(text, period, products, name, date_order)
