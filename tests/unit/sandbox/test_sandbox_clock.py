"""The sandbox's today: fixed or real, fixtures that move with it, and everything that reads it."""

import datetime

import pytest
import requests
from sandbox_helpers import Api

from tests.sandbox import Sandbox, generate_fixture
from tests.sandbox.clock import Clock, rebase, shift_date, shift_month


@pytest.mark.parametrize("text, months, expected", [
    ("2026-10-01T00:00:00Z", 1, "2026-11-01T00:00:00Z"),
    ("2026-10-31T00:00:00Z", 1, "2026-11-30T00:00:00Z"),   # a month's last day stays the last day
    ("2026-01-30T00:00:00Z", 1, "2026-02-28T00:00:00Z"),
    ("2026-02-28T00:00:00Z", 12, "2027-02-28T00:00:00Z"),
    ("2027-02-28T00:00:00Z", 12, "2028-02-29T00:00:00Z"),
    ("2026-12-15T00:00:00Z", 1, "2027-01-15T00:00:00Z"),
    ("2027-01-15T00:00:00Z", -1, "2026-12-15T00:00:00Z"),
    ("2026-10-15", 0, "2026-10-15"),
])
def test_shift_date(text, months, expected):
    assert shift_date(text, months) == expected


def test_shift_month_crosses_years():
    assert shift_month("2026-11", 2) == "2027-01"
    assert shift_month("2026-01", -1) == "2025-12"


def test_rebase_moves_usage_months_and_connectwise_dates():
    fixture = generate_fixture(companies=2)
    moved = rebase(fixture, datetime.date(2027, 1, 2))
    assert sorted(moved["mbs"]["usage"]) == ["2026-10", "2026-11", "2026-12"]
    assert moved["mbs"]["usage"]["2026-12"] == fixture["mbs"]["usage"]["2026-11"]
    assert {a["billStartDate"] for a in moved["connectwise"]["agreements"]} == {"2026-02-01T00:00:00Z"}
    assert moved["as_of"] == "2027-01-01"
    assert fixture["mbs"]["usage"].keys() == {"2026-09", "2026-10", "2026-11"}  # the original is untouched


def test_a_fixture_without_as_of_is_loaded_as_written():
    fixture = generate_fixture(companies=1, as_of=None)
    assert rebase(fixture, datetime.date(2030, 6, 1)) == fixture


def test_clock_fixed_and_real():
    clock = Clock("2027-01-02")
    assert clock.today() == datetime.date(2027, 1, 2)
    assert clock.month() == "2027-01" and clock.midnight() == "2027-01-02T00:00:00Z"
    assert clock.now().startswith("2027-01-02T")
    clock.set(None)
    assert clock.today() == datetime.datetime.now(datetime.timezone.utc).date()
    with pytest.raises(ValueError, match="2027-13-01"):
        clock.set("2027-13-01")


def test_the_demo_usage_follows_the_sandbox_date():
    with Sandbox(fixture="demo", today="2027-01-02") as sb:
        assert sorted(sb.mbs.usage) == ["2026-10", "2026-11", "2026-12"]
        sb.reset(today="2026-11-17")
        assert sorted(sb.mbs.usage) == ["2026-08", "2026-09", "2026-10"]
        sb.reset()  # the clock stays where it is
        assert sb.today == datetime.date(2026, 11, 17)


def test_mbs_current_month_and_addition_default_date_read_the_clock():
    with Sandbox(fixture=generate_fixture(companies=2), today="2027-01-02") as sb:
        login = requests.post(sb.mbs_url + "/api/Provider/Login",
                              json={"UserName": "sandbox-mbs", "Password": "sandbox-mbs-password"}, timeout=10)
        auth = {"Authorization": "Bearer " + login.json()["access_token"]}
        assert requests.get(sb.mbs_url + "/api/Billing", headers=auth, timeout=10).json()["StatisticBilling"] == []
        sb.set_today("2027-01-20")  # no usage for the current month; December's is there
        december = requests.put(sb.mbs_url + "/api/Billing", json={"Date": "2026-12-01"}, headers=auth, timeout=10)
        assert len(december.json()["StatisticBilling"]) == 2
        api = Api(sb)
        addition = {"product": {"identifier": "OnlineBackup"}, "billCustomer": "Billable"}
        created = api.post("finance/agreements/1/additions", addition)
        assert created.status_code == 201, created.text
        assert created.json()["effectiveDate"] == "2027-01-20T00:00:00Z"
        api.session.close()


def test_clock_control_api():
    with Sandbox(fixture="demo", today="2026-12-02") as sb:
        assert requests.get(sb.url + "/_sandbox/clock", timeout=10).json() == {"today": "2026-12-02", "fixed": True}
        moved = requests.post(sb.url + "/_sandbox/clock", json={"today": "2027-02-01"}, timeout=10)
        assert moved.json() == {"today": "2027-02-01", "fixed": True}
        bad = requests.post(sb.url + "/_sandbox/clock", json={"today": "February"}, timeout=10)
        assert bad.status_code == 400 and "February" in bad.json()["message"]
        reset = requests.post(sb.url + "/_sandbox/reset", json={"today": "2027-01-02"}, timeout=10)
        assert reset.json()["today"] == "2027-01-02"
        assert sorted(sb.mbs.usage) == ["2026-10", "2026-11", "2026-12"]
