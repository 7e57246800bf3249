# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Periods: one calendar month (``YYYY-MM``), the default and auto-billing months, months that have ended.

Shared with the usage sources (``usage_sources``, ``msp360``), so it sits below them and below the money.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import datetime
import re
from dataclasses import dataclass

from ansible_collections.mbs.connectwise.plugins.module_utils.dates import parse_cw_date

_MONTH_NAMES = (None, "January", "February", "March", "April", "May", "June", "July",
                "August", "September", "October", "November", "December")


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
        return self.first_day <= as_date(day) <= self.last_day

    def previous(self):
        if self.month == 1:
            return Period(self.year - 1, 12)
        return Period(self.year, self.month - 1)

    def __str__(self):
        return self.label


_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(value, what="period"):
    """``"2026-10"`` -> Period(2026, 10). A Period is returned as is; ``what`` names the value in the message."""
    if isinstance(value, Period):
        return value
    match = _PERIOD_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError("%s %r is not a month written YYYY-MM (for example 2026-10)" % (what, value))
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1:
        raise ValueError("%s %r is not a valid month: month must be 01 to 12" % (what, value))
    return Period(year, month)


def period_of(day):
    day = as_date(day)
    return Period(day.year, day.month)


def previous_period(today):
    """The month before ``today``'s month (the default billing period)."""
    return period_of(today).previous()


def check_period_ended(period, today, allow_current=False, option="allow_current_period", what="period"):
    """ValueError for a month after ``today``'s month, or ``today``'s own month unless allowed.

    An addition for a month that has not begun would bill a customer in advance and push back the
    cancel date of the month before; the unfinished current month is only billed on request.
    Returns True when ``period`` is the current, unfinished month.
    """
    current = period_of(today)
    if period.first_day > current.first_day:
        raise ValueError("%s %s is after the current month %s (today is %s): only a month that has "
                         "begun can be billed" % (what, period.label, current.label, as_date(today).isoformat()))
    if period == current:
        if not allow_current:
            # ``option`` None: the caller cannot bill the current month, so it is not suggested.
            raise ValueError("%s %s is the current month, which has not ended (today is %s): %sbill %s"
                             % (what, period.label, as_date(today).isoformat(),
                                "bill it with %s: true, or " % option if option else "", current.previous().label))
        return True
    return False


def auto_billing_period(today, window_days=3):
    """On days 1..``window_days`` of a month: the previous month. Otherwise None."""
    if isinstance(window_days, bool) or not isinstance(window_days, int) or not 1 <= window_days <= 28:
        raise ValueError("auto-billing window %r must be a whole number of days from 1 to 28" % (window_days,))
    today = as_date(today)
    if today.day <= window_days:
        return previous_period(today)
    return None


def as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return parse_cw_date(value)
