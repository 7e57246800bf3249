"""The one reader and writer of ConnectWise's dates (``module_utils/dates.py``)."""

import datetime

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils.dates import (
    cw_datetime,
    first_of_previous_month,
    parse_cw_date,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.options import api_date, option_date
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError


@pytest.mark.parametrize("value, expected", [
    ("2026-10-01T00:00:00Z", datetime.date(2026, 10, 1)),
    ("2026-10-01", datetime.date(2026, 10, 1)),
    (" 2026-10-01 ", datetime.date(2026, 10, 1)),
    (datetime.date(2026, 10, 1), datetime.date(2026, 10, 1)),
    (datetime.datetime(2026, 10, 1, 13, 5), datetime.date(2026, 10, 1)),
    (None, None),
    ("", None),
])
def test_parse_cw_date_reads_dates_and_datetimes(value, expected):
    assert parse_cw_date(value) == expected


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", 20261001])
def test_parse_cw_date_refuses_what_is_no_date_naming_it(value):
    with pytest.raises(ValueError, match=repr(value).replace("(", r"\(")):
        parse_cw_date(value)


@pytest.mark.parametrize("value", [datetime.date(2026, 2, 28), "2026-02-28", "2026-02-28T00:00:00Z",
                                   datetime.datetime(2026, 2, 28, 23, 59)])
def test_cw_datetime_writes_midnight_utc(value):
    assert cw_datetime(value) == "2026-02-28T00:00:00Z"


def test_cw_datetime_without_a_date_is_an_error():
    with pytest.raises(ValueError):
        cw_datetime(None)


@pytest.mark.parametrize("today, expected", [
    ("2026-11-10", datetime.date(2026, 10, 1)),
    ("2026-11-01", datetime.date(2026, 10, 1)),
    ("2026-11-30", datetime.date(2026, 10, 1)),
    ("2027-01-15", datetime.date(2026, 12, 1)),
    ("2028-03-31", datetime.date(2028, 2, 1)),
    (datetime.date(2026, 1, 1), datetime.date(2025, 12, 1)),
])
def test_first_of_previous_month(today, expected):
    assert first_of_previous_month(today) == expected


def test_an_options_date_is_validated_naming_the_option_and_written_like_every_other():
    assert option_date("2026-10-01", "today") == datetime.date(2026, 10, 1)
    assert api_date("2026-10-01", "start_date") == cw_datetime("2026-10-01") == "2026-10-01T00:00:00Z"
    with pytest.raises(InputError, match=r"^today: '2026-02-30' is not a valid calendar date$"):
        option_date("2026-02-30", "today")
    with pytest.raises(InputError, match=r"^start_date: '2026-10-01garbage' is not a date in the form YYYY-MM-DD$"):
        api_date("2026-10-01garbage", "start_date")
