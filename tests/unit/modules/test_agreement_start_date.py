"""agreement: the create-only start date default (option ``today``) and per-company input context."""

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils import resources
from ansible_collections.mbs.connectwise.plugins.modules import agreement

from ..sandbox_client import run_module
from .test_agreement import AGREEMENTS, NAME, TYPE, TYPES, add_agreement, add_company

BASE = {"name": NAME, "agreement_type": NAME}


@pytest.fixture
def cw(connectwise):
    connectwise.add(TYPES, id=3, name=NAME, **TYPE)
    return connectwise


@pytest.mark.parametrize("today, start", [("2026-11-10", "2026-10-01T00:00:00Z"),
                                          ("2027-01-31", "2026-12-01T00:00:00Z"),
                                          ("2028-03-01", "2028-02-01T00:00:00Z")])
def test_a_new_agreement_without_start_date_starts_on_the_first_of_the_previous_month(cw, today, start):
    add_company(cw, "Acme")
    result, failed = run_module(agreement, dict(BASE, company="Acme", today=today))
    assert not failed, result["msg"]
    [(method, _path, body)] = cw.sent
    assert method == "POST" and body["startDate"] == start
    assert result["object"]["startDate"] == start


def test_the_default_is_never_compared_so_it_does_not_move_next_month(cw):
    company = add_company(cw, "Acme")
    add_agreement(cw, company, startDate="2025-01-01T00:00:00Z")
    result, failed = run_module(agreement, dict(BASE, company="Acme", today="2026-11-10"))
    assert not failed and result["operation"] == "none" and cw.writes() == []


def test_a_given_start_date_wins_over_the_default_and_is_compared(cw):
    company = add_company(cw, "Acme")
    add_company(cw, "Globex")
    add_agreement(cw, company, startDate="2025-01-01T00:00:00Z")
    result, failed = run_module(agreement, dict(BASE, today="2026-11-10", companies=[
        {"identifier": "Acme", "start_date": "2026-06-01"}, {"identifier": "Globex", "start_date": "2026-07-01"}]))
    assert not failed, result["msg"]
    assert [r["operation"] for r in result["results"]] == ["update", "create"]
    patch, post = cw.sent
    assert patch[2] == [{"op": "replace", "path": "startDate", "value": "2026-06-01T00:00:00Z"}]
    assert post[2]["startDate"] == "2026-07-01T00:00:00Z"


def test_check_mode_predicts_the_default(cw):
    add_company(cw, "Acme")
    result, failed = run_module(agreement, dict(BASE, company="Acme", today="2026-11-10"), check_mode=True)
    assert not failed and result["operation"] == "create" and cw.writes() == []
    assert result["object"]["startDate"] == "2026-10-01T00:00:00Z"


def test_without_today_the_default_is_the_first_of_the_month_before_the_utc_date(cw, monkeypatch):
    import datetime
    monkeypatch.setattr(resources, "utc_today", lambda: datetime.date(2026, 3, 15))
    add_company(cw, "Acme")
    result, failed = run_module(agreement, dict(BASE, company="Acme"))
    assert not failed and cw.sent[0][2]["startDate"] == "2026-02-01T00:00:00Z"


@pytest.mark.parametrize("today, message", [("2026-02-30", "today: '2026-02-30' is not a valid calendar date"),
                                            ("10.11.2026", "today: '10.11.2026' is not a date in the form YYYY-MM-DD")])
def test_a_bad_today_fails_naming_it_before_any_request(cw, today, message):
    result, failed = run_module(agreement, dict(BASE, company="Acme", today=today))
    assert failed and result["msg"] == message and cw.log == []


def test_a_bad_value_of_one_company_fails_the_task_naming_that_company_before_any_request(cw):
    result, failed = run_module(agreement, dict(BASE, companies=[
        "Acme", {"identifier": "Globex", "bill_start_date": "2026-13-01"}]))
    assert failed and cw.log == []
    assert result["msg"] == "company 'Globex': bill_start_date: '2026-13-01' is not a valid calendar date"


def test_absent_needs_no_today_and_creates_nothing(cw):
    company = add_company(cw, "Acme")
    add_agreement(cw, company)
    result, failed = run_module(agreement, {"name": NAME, "company": "Acme", "state": "absent"})
    assert not failed and result["operation"] == "delete"
    assert [m for m, _p, _b in cw.sent] == ["DELETE"] and cw.rows(AGREEMENTS) == []
