# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConnectWise dates: the one reader and the one writer of its wire format.

ConnectWise writes a date as midnight UTC, ``2026-10-01T00:00:00Z``, and compares by
day; the collection works with :class:`datetime.date` and converts only here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime


def parse_cw_date(value):
    """A ConnectWise date or datetime (``2026-10-01T00:00:00Z``, ``2026-10-01``) -> date.

    A :class:`datetime.date` or ``datetime`` is taken as it is; ``None`` and ``""`` give None.
    Raises ``ValueError`` naming the value for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise ValueError("date %r is not a date" % (value,))
    try:
        return datetime.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ValueError("date %r is not a date written YYYY-MM-DD" % (value,))


def cw_datetime(day):
    """A date (or anything :func:`parse_cw_date` reads) -> ``"YYYY-MM-DDT00:00:00Z"``."""
    parsed = parse_cw_date(day)
    if parsed is None:
        raise ValueError("no date given: %r" % (day,))
    return "%sT00:00:00Z" % parsed.isoformat()


def first_of_previous_month(day):
    """The first day of the month before ``day``'s month (2026-11-10 -> 2026-10-01)."""
    day = parse_cw_date(day)
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def utc_today():
    """The current date in UTC: only ever an option's documented default, never a hidden input."""
    return datetime.datetime.now(datetime.timezone.utc).date()
