"""billing_run: configuration checks, and the orchestration against the sandbox ConnectWise in-process."""

import datetime
from decimal import Decimal

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils.billing import call as billing_call
from ansible_collections.mbs.connectwise.plugins.module_utils.billing import config as billing_config
from ansible_collections.mbs.connectwise.plugins.module_utils.billing import run as br
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.config import OUTSIDE_WINDOW, build_config
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.usage import UsageRecord
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError

from tests.sandbox.fixtures import REFERENCE_TABLES, load_fixture, setup_tables

from ..sandbox_client import SandboxConnectWise

GIB = 2 ** 30


def params(**extra):
    base = dict(period="2026-10", timezone="UTC", auto_window_days=3, today=None,
                usage=[{"company": "C1", "used_bytes": GIB}], usage_file=None, mbs=None, company_map={},
                agreement="ManagedBackupService", product="OnlineBackup", cost_mode="average_cost",
                invoice_description="product", unit="GiB", cost_per_gb="0.02", price_per_gb="0.10",
                cost_per_gb_by_destination={}, effective_date_policy="clamp", previous_additions="cancel",
                invoiced_period_policy="fail", absent_companies="cancel",
                send_zero=False, parallel=4, companies={})
    base.update(extra)
    return base


@pytest.mark.parametrize("today, period, expected", [
    ("2026-11-03", "auto", "2026-10"),
    ("2026-01-01", "auto", "2025-12"),
    ("2026-11-04", "auto", None),
    ("2026-03-31", None, "2026-02"),
    ("2026-03-31", "2025-07", "2025-07"),
])
def test_period_resolution(today, period, expected):
    config = build_config(params(period=period, today=today))
    assert (config.period.label if config.period else None) == expected
    assert config.skipped_reason == (None if expected else OUTSIDE_WINDOW)


def test_default_today_follows_the_time_zone(monkeypatch):
    # 2026-11-01 03:00 UTC is still 31 October (23:00) in New York.
    instant = datetime.datetime(2026, 11, 1, 3, 0, tzinfo=datetime.timezone.utc)
    monkeypatch.setattr(billing_config, "_now", instant.astimezone)
    assert build_config(params(period=None)).period.label == "2026-10"
    assert build_config(params(period=None, timezone="America/New_York")).period.label == "2026-09"
    assert build_config(params(period="auto", timezone="America/New_York")).period is None


@pytest.mark.parametrize("extra, text", [
    (dict(auto_window_days=0), "auto_window_days"),
    (dict(cost_per_gb="abc"), "cost_per_gb"),
    (dict(cost_per_gb_by_destination={"Wasabi": "-1"}), "cost_per_gb_by_destination[Wasabi]"),
    (dict(companies={"X": {"skip": "maybe"}}), "companies[X]"),
    (dict(companies={"X": {}, "x": {}}), "given twice"),
    (dict(company_map={"Acme": ""}), "company_map[Acme]"),
    (dict(usage=None), "exactly one usage source"),
    (dict(usage=None, mbs={"url": "https://x", "username": "", "password": "p"}), "username and password"),
])
def test_bad_input_is_refused(extra, text):
    with pytest.raises(InputError, match=text.replace("[", r"\[").replace("]", r"\]")):
        build_config(params(**extra))


def test_company_cost_override_replaces_destination_rates():
    config = build_config(params(cost_per_gb_by_destination={"Wasabi": "0.005"},
                                 companies={"Acme": {"cost_per_gb": "0.03", "cost_mode": "total"}}))
    acme = config.settings_for("ACME")
    assert acme.mode == "total" and acme.pricing.cost_rate("Wasabi") == Decimal("0.03")
    assert acme.pricing.price_per_unit == Decimal("0.10")
    other = config.settings_for("Globex")
    assert other.pricing.cost_rate("Wasabi") == Decimal("0.005") and other.mode == "average_cost"


def connectwise(companies):
    """The sandbox after the setup role: each company with an agreement billed from 2026-01-01."""
    demo = load_fixture("demo")["connectwise"]
    tables = {table: demo[table] for table in REFERENCE_TABLES}
    tables.update(setup_tables())
    tables["companies"] = [{"id": i, "identifier": name, "name": name + " Ltd"} for i, name in enumerate(companies, 1)]
    tables["contacts"] = [{"id": i, "firstName": "Default", "lastName": name, "company": {"id": i}, "defaultFlag": True}
                          for i, name in enumerate(companies, 1)]
    tables["agreements"] = [{"id": 100 + i, "name": "ManagedBackupService", "type": {"name": "ManagedBackupService"},
                             "company": {"id": i}, "contact": {"id": i}, "startDate": "2026-01-01T00:00:00Z",
                             "billStartDate": "2026-01-01T00:00:00Z", "noEndingDateFlag": True}
                            for i, _name in enumerate(companies, 1)]
    return SandboxConnectWise(fixture={"connectwise": tables})


def additions(cw):
    """The additions of each agreement that has any, by agreement id."""
    found = {}
    for row in cw.store.rows("additions"):
        found.setdefault(row["agreementId"], []).append(row)
    return found


def records(names, gib=10):
    return [UsageRecord(company=name, used_bytes=gib * GIB, source_ref=name) for name in names]


def run(client, config, usage):
    """One run: ``(result entries, changed, totals)``."""
    report = br.BillingRun(client, config).run(usage)
    return [bill.result() for bill in report.bills], report.changed, report.totals


def test_parallel_run_bills_each_company_once_then_changes_nothing():
    names = ["C%03d" % i for i in range(60)]
    cw = connectwise(names)
    # seven answers lost after the commit: the connection drops before the client reads them
    cw.app.faults.add([{"method": "POST", "path": "additions", "drop_after_commit": True, "count": 7}])
    client = cw.client()
    config = build_config(params(parallel=16))
    results, changed, totals = run(client, config, records(names))
    assert changed and [r["action"] for r in results] == ["created"] * 60
    assert all(len(rows) == 1 for rows in additions(cw).values()) and len(additions(cw)) == 60
    assert client.stats["POST"] == 60  # a lost answer is found on re-read, never posted twice
    assert sum(1 for r in results if any("was lost" in w for w in r["warnings"])) == 7
    assert totals["total_price"] == "60.00" and totals["quantity"] == {"GiB": "600.00"}

    client.stats.clear()
    results, changed, totals = run(client, config, records(names))
    assert not changed and set(r["action"] for r in results) == {"unchanged"}
    assert client.stats["POST"] == client.stats["PATCH"] == 0

    results, changed, _totals = run(client, config, records(names, gib=11))
    assert changed and set(r["action"] for r in results) == {"updated"}
    assert client.stats["PATCH"] == 60 and all(r["changed_fields"] == ["quantity"] for r in results)


def test_case_insensitive_identifiers_and_skip():
    client = connectwise(["AcmeCorp", "Globex"]).client()
    config = build_config(params(companies={"globex": {"skip": True}}))
    results, _changed, _totals = run(client, config, records(["acmecorp", "Globex"]))
    by_company = {r["company"]: r for r in results}
    assert by_company["acmecorp"]["action"] == "created" and by_company["acmecorp"]["company_name"] == "AcmeCorp Ltd"
    assert by_company["Globex"]["action"] == "skipped" and "skip" in by_company["Globex"]["reason"]
    assert client.stats["GET"] == 4  # companies, agreements, catalog, one agreement's additions


def test_failure_message_lists_companies():
    results = [{"company": "A", "period": "2026-10", "action": "failed", "reason": "boom"},
               {"company": "B", "period": "2026-10", "action": "created", "reason": None}]
    assert billing_call.failure_message(results) == "billing of 2026-10 failed for 1 company: A: boom"
