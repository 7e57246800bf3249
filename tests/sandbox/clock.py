"""The sandbox's "today", and fixtures that move with it.

ConnectWise decides things by the date (an agreement whose end date has passed reads
``Expired``; an addition without an effective date starts today) and MSP360 answers "the
current month" when no date is sent. The sandbox reads the date from one ``Clock`` so a test
can fix it: ``Sandbox(today="2027-01-02")``, ``reset(today=...)``, ``POST /_sandbox/clock``,
or ``python -m tests.sandbox --today``. Without one it is the real UTC date.

A fixture may say which date its dates were written for (``"as_of": "2026-12-01"``). Loaded at
another date, every date in it (ConnectWise dates, MSP360 usage months, license expiry and
account creation dates) moves by the whole number of months between the two, so the
demo's usage months (written as 2026-09..2026-11) are always the three months before the
sandbox's today, and billing "the previous month" finds usage and agreements on any date.
A fixture without ``as_of`` is loaded as written.
"""

import calendar
import copy
import re
import threading
from datetime import date, datetime, timezone

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
DATETIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(T.*)?$")
# ConnectWise fields that hold calendar dates (the ones a month shift must move).
DATE_FIELDS = ("startDate", "endDate", "billStartDate", "effectiveDate", "cancelledDate", "dateCancelled",
               "nextInvoiceDate")
# MSP360 rows with dates: (fixture list, field).
MBS_DATE_FIELDS = (("licenses", "DateExpired"), ("accounts", "DateCreated"))


def parse_day(text, what="today"):
    """``2027-01-02`` -> date; anything else is a ValueError naming the value."""
    if isinstance(text, date):
        return text
    try:
        return datetime.strptime(str(text), "%Y-%m-%d").date()
    except ValueError as exc:
        raise ValueError(f"{what} must be a date written YYYY-MM-DD, not {text!r}") from exc


class Clock:
    """A settable today; None means the real UTC date."""

    def __init__(self, today=None):
        self.lock = threading.Lock()
        self._fixed = None
        self.set(today)

    def set(self, today):
        fixed = None if today in (None, "") else parse_day(today)
        with self.lock:
            self._fixed = fixed

    @property
    def fixed(self):
        with self.lock:
            return self._fixed

    def today(self):
        return self.fixed or datetime.now(timezone.utc).date()

    def month(self):
        """The current month, ``YYYY-MM``."""
        return self.today().strftime("%Y-%m")

    def midnight(self):
        """Today at 00:00 in ConnectWise's date format."""
        return self.today().strftime("%Y-%m-%dT00:00:00Z")

    def now(self):
        """A timestamp for ``_info.lastUpdated``: today's date with the real time of day."""
        return self.today().strftime("%Y-%m-%d") + datetime.now(timezone.utc).strftime("T%H:%M:%SZ")


def _months(day):
    return day.year * 12 + day.month - 1


def shift_month(text, months):
    """``2026-10`` moved by N months."""
    match = MONTH_RE.match(text)
    index = int(match.group(1)) * 12 + int(match.group(2)) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def shift_date(text, months):
    """A ``2026-10-31T00:00:00Z`` date moved by N months; the day is clamped to the month's end."""
    match = DATETIME_RE.match(text) if isinstance(text, str) else None
    if not match or not months:
        return text
    year, month = divmod(int(match.group(1)) * 12 + int(match.group(2)) - 1 + months, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    # The last day of a month stays the last day (an agreement ending 2026-10-31 ends 2026-11-30).
    original_last = calendar.monthrange(int(match.group(1)), int(match.group(2)))[1]
    day = last if int(match.group(3)) == original_last else min(int(match.group(3)), last)
    return f"{year:04d}-{month:02d}-{day:02d}{match.group(4) or ''}"


def rebase(fixture, today):
    """A copy of the fixture with its dates moved from its ``as_of`` month to today's month."""
    fixture = copy.deepcopy(fixture)
    as_of = fixture.get("as_of")
    if not as_of:
        return fixture
    months = _months(today) - _months(parse_day(as_of, "the fixture's as_of"))
    if not months:
        return fixture
    for rows in fixture.get("connectwise", {}).values():
        for row in rows:
            for name in DATE_FIELDS:
                if row.get(name):
                    row[name] = shift_date(row[name], months)
    mbs = fixture.get("mbs") or {}
    if mbs.get("usage"):
        mbs["usage"] = {shift_month(month, months): rows for month, rows in mbs["usage"].items()}
    for table, name in MBS_DATE_FIELDS:
        for row in mbs.get(table) or []:
            if row.get(name):
                row[name] = shift_date(row[name], months)
    fixture["as_of"] = shift_date(as_of, months)
    return fixture
