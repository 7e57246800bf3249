"""The billing report (plugins/filter/reports.py and roles/billing/templates/report.html.j2) from hand-made
billing module results in the module's result contract: every row carries ``used_bytes``, ``cancelled`` rows,
``invoiced_moved`` and ``marker``, ``totals`` and ``current_period``."""

import csv
import io
import json
import os
import random
from decimal import Decimal

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils import _internal

from ansible_collections.mbs.connectwise.plugins.filter import reports
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.effective_dates import NotBillingYet
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import (
    bytes_to_quantity,
    round_money,
    round_unit,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import Period
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import parse_cw_date
from tests.report_page import Structure, tables

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
TEMPLATE = os.path.join(ROOT, "roles", "billing", "templates", "report.html.j2")
GIB = 2 ** 30
PERIOD = "2026-10"
UNMAPPED = ("no ConnectWise company with identifier %r (usage company %s); map the usage company to a ConnectWise "
            "identifier with company_map (the roles: the customer's mbs_company)")


def result(company, action, used_bytes, price_per_gib=None, cost_per_gib=None, **fields):
    """One result as the billing module returns it; money computed the module's way when rates are given."""
    row = {"company": company, "company_name": company + " Inc.", "usage_company": company, "period": PERIOD,
           "action": action, "used_bytes": used_bytes, "unit": "GiB", "quantity": None, "used_quantity": None,
           "unit_cost": None, "unit_price": None, "total_cost": None, "total_price": None, "addition_id": None,
           "effective_date": None, "cancelled": [], "reason": None, "warnings": []}
    if price_per_gib is not None:
        quantity = bytes_to_quantity(used_bytes, "GiB")
        row.update(quantity=str(quantity), used_quantity=str(quantity), unit_price=str(round_unit(price_per_gib)),
                   unit_cost=str(round_unit(cost_per_gib)),
                   total_price=str(round_money(quantity * Decimal(price_per_gib))),
                   total_cost=str(round_money(quantity * Decimal(cost_per_gib))), effective_date=PERIOD + "-01")
    row.update(fields)
    return row


def module_result(results, **totals):
    billed = [r for r in results if r["action"] in ("created", "updated", "unchanged")]
    summed = {"total_price": str(sum((Decimal(r["total_price"]) for r in billed), Decimal("0.00"))),
              "total_cost": str(sum((Decimal(r["total_cost"]) for r in billed), Decimal("0.00"))),
              "counts": {"cancelled": sum(len(r["cancelled"]) for r in results)}}
    summed.update(totals)
    return {"period": PERIOD, "unit": "GiB", "current_period": False, "totals": summed, "results": results}


def seven_companies():
    """Seven ConnectWise companies and one usage company ConnectWise does not know, one of each outcome."""
    return [
        result("AcmeCorp", "created", 500 * GIB, "0.06", "0.02", addition_id=301, cancelled=[287], marker="MBS 2026-10"),
        result("Globex", "updated", 1234567890123, "0.08", "0.02", addition_id=302, marker="MBS 2026-10"),
        result("Initech", "unchanged", 3 * GIB + 5, "0.06", "0.02", addition_id=303, invoiced_moved=True,
               effective_date="2026-11-01", marker="MBS 2026-10",
               warnings=["effective date moved to the agreement's next invoice date 2026-11-01: a late, one-time "
                         "charge"]),
        result("Hooli", "skipped", 0, reason="no usage"),
        result("StarkWayne", "skipped", 7 * GIB, reason="skip is set for company StarkWayne in companies"),
        result("Umbrella", "cancelled", 0, cancelled=[41],
               reason="no usage in 2026-10: open addition 41 cancelled on 2026-09-30 so it does no longer bill"),
        result("Wayne", "failed", 2 * GIB, "0.06", "0.02",
               reason="POST finance/agreements/9/additions returned HTTP 500"),
        result("Nobody Ltd", "skipped", 123456789, reason=UNMAPPED % ("Nobody Ltd", "Nobody Ltd"), company_name=None),
    ]


def read_csv(text):
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["row"] for r in rows] == ["company"] * (len(rows) - 1) + ["total"], [r["row"] for r in rows]
    assert rows[-1]["company"] == "", rows[-1]
    return rows[:-1], rows[-1]


@pytest.fixture
def render(monkeypatch):
    """The role's template rendered by Ansible's own templating, as the template task renders it."""
    monkeypatch.setattr(_internal, "is_controller", True)
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    with open(TEMPLATE, encoding="utf-8") as handle:
        source = handle.read()

    def rendered(report):
        page = Templar(loader=DataLoader(), variables={"billing_report": report}).template(trust_as_template(source))
        Structure().check(page)
        return page
    return rendered


# ---- reconciliation -------------------------------------------------------------------------------

def test_seven_companies_reconcile_to_the_byte_and_the_cent(render):
    results = seven_companies()
    total_bytes = sum(r["used_bytes"] for r in results)
    report = reports.billing_report(module_result(results, used_bytes=total_bytes), agreement="ManagedBackupService")
    rec = report["reconciliation"]
    groups = dict((g["name"], g) for g in rec["groups"])
    assert list(groups) == ["billed", "no usage", "not billed (bill: false)", "cancelled (no usage this month)",
                            "failed", "unmapped (no ConnectWise company)"]
    assert groups["billed"]["used_bytes"] == 500 * GIB + 1234567890123 + 3 * GIB + 5
    assert groups["not billed (bill: false)"]["used_bytes"] == 7 * GIB
    assert groups["cancelled (no usage this month)"]["used_bytes"] == 0
    assert groups["failed"]["used_bytes"] == 2 * GIB
    assert groups["unmapped (no ConnectWise company)"]["used_bytes"] == 123456789
    assert sum(g["used_bytes"] for g in groups.values()) == total_bytes == rec["rows_bytes"] == rec["source_bytes"]
    assert rec["bytes_balance"] is True and rec["source"] == "the billing module's usage total"
    # Money: the billed rows are the module's totals to the cent; the failed row keeps its computed price.
    assert groups["billed"]["total_price"] == "122.16" == rec["module_price"] == rec["billed_price"]
    assert groups["failed"]["total_price"] == "0.12" and groups["no usage"]["total_price"] is None
    assert groups["billed"]["total_cost"] == "33.06" == rec["module_cost"]
    assert rec["all"]["total_price"] == "122.28" and rec["money_balance"] is True
    assert report["counts_text"] == "1 created; 1 updated; 1 unchanged; 3 skipped; 1 failed; 1 cancelled"
    assert report["cancelled_additions"] == 2

    rows, total = read_csv(reports.billing_csv(report))
    by_company = dict((r["company"], r) for r in rows)
    assert sum(int(r["used_bytes"]) for r in rows) == int(total["used_bytes"]) == total_bytes
    assert sum(Decimal(r["total_price"]) for r in rows if r["action"] in reports.BILLED) == Decimal(total["total_price"])
    # Skipped, cancelled and failed rows keep their usage and their reason.
    assert by_company["StarkWayne"]["used_bytes"] == str(7 * GIB) and by_company["StarkWayne"]["used_quantity"] == "7.00"
    assert by_company["Nobody Ltd"]["used_bytes"] == "123456789" and "no ConnectWise company" in by_company["Nobody Ltd"]["reason"]
    assert by_company["Umbrella"]["cancelled"] == "41" and by_company["Umbrella"]["action"] == "cancelled"
    assert by_company["Wayne"]["reason"].endswith("HTTP 500") and by_company["Wayne"]["used_bytes"] == str(2 * GIB)
    assert by_company["Initech"]["invoiced_moved"] == "true" and by_company["Initech"]["marker"] == "MBS 2026-10"
    assert by_company["AcmeCorp"]["cancelled"] == "287" and by_company["AcmeCorp"]["invoiced_moved"] == ""

    assert report["needs_look"] == ["Initech", "Nobody Ltd", "Wayne"]
    summary = report["summary"]
    assert summary[1] == ("usage 1,784,447,160,805 bytes = billed 1,774,660,027,600 + no usage 0 + not billed "
                          "(bill: false) 7,516,192,768 + cancelled (no usage this month) 0 + failed 2,147,483,648 + "
                          "unmapped (no ConnectWise company) 123,456,789")
    assert any(line.startswith("Initech: billed - ") and "late, one-time charge" in line for line in summary)

    page = render(report)
    reconciliation, _companies = tables(page)
    assert reconciliation[0] == ["", "Companies", "Usage (bytes)", "Usage (GiB)", "Cost (USD)", "Price (USD)"]
    assert reconciliation[1] == ["billed", "3", "1,774,660,027,600", "1,652.78", "33.06", "122.16"]
    assert reconciliation[2] == ["no usage", "1", "0", "0.00", "", ""]
    assert reconciliation[-4] == ["All companies", "8", "1,784,447,160,805", "1,661.89", "33.10", "122.28"]
    assert reconciliation[-3][:3] == ["Usage of the month (the billing module's usage total)", "", "1,784,447,160,805"]
    assert reconciliation[-2][-2:] == ["33.06", "122.16"]
    assert "balances to the byte" in page and "billed rows = totals to the cent" in page
    assert "late one-time charge" in page and "cancelled 41" in page


def test_a_byte_lost_between_the_usage_and_the_rows_is_shown(render):
    results = seven_companies()
    report = reports.billing_report(module_result(results, used_bytes=sum(r["used_bytes"] for r in results) + 1))
    assert report["reconciliation"]["bytes_balance"] is False
    assert "(DOES NOT BALANCE: the rows add up to 1,784,447,160,805)" in report["summary"][1]
    assert "DOES NOT BALANCE: rows 1,784,447,160,805" in render(report)


def test_without_an_independent_total_the_rows_are_the_usage(render):
    report = reports.billing_report(module_result(seven_companies()))
    rec = report["reconciliation"]
    assert rec["source_bytes"] is None and rec["bytes_balance"] is None and rec["rows_bytes"] == 1784447160805
    assert report["summary"][1].startswith("usage 1,784,447,160,805 bytes = billed ")
    _rows, total = read_csv(reports.billing_csv(report))
    assert total["used_bytes"] == "1784447160805"
    assert "the rows are the usage (no other total to check)" in render(report)


def test_money_that_does_not_add_up_is_shown():
    report = reports.billing_report(module_result(seven_companies(), total_price="128.75"))
    assert report["reconciliation"]["money_balance"] is False
    assert any("DOES NOT BALANCE" in line and "128.75" in line for line in report["summary"])


def test_three_hundred_companies_reconcile_and_the_page_stays_short(render):
    rng = random.Random(300)
    results = []
    for number in range(1, 301):
        name, used = "Company%04d" % number, rng.randrange(0, 5 * 2 ** 40)
        kind = number % 10
        if kind == 0:
            results.append(result(name, "skipped", 0, reason="no usage"))
        elif kind == 1:
            results.append(result(name, "skipped", used, reason=UNMAPPED % (name, name)))
        elif kind == 2:
            results.append(result(name, "failed", used, reason="agreement 7 holds 2 additions"))
        elif kind == 3:
            results.append(result(name, "cancelled", 0, cancelled=[number], reason="no usage in 2026-10: ..."))
        else:
            results.append(result(name, ("created", "updated", "unchanged")[kind % 3], used,
                                  "0.0%d" % (5 + kind % 4), "0.02", addition_id=1000 + number))
    total_bytes = sum(r["used_bytes"] for r in results)
    report = reports.billing_report(module_result(results, used_bytes=total_bytes))
    rec = report["reconciliation"]
    assert rec["bytes_balance"] is True and sum(g["used_bytes"] for g in rec["groups"]) == total_bytes
    billed_price = sum(Decimal(r["total_price"]) for r in results if r["action"] in reports.BILLED)
    assert Decimal(rec["billed_price"]) == billed_price == Decimal(rec["module_price"])
    rows, total = read_csv(reports.billing_csv(report))
    assert len(rows) == 300 and int(total["used_bytes"]) == sum(int(r["used_bytes"]) for r in rows) == total_bytes
    assert Decimal(total["total_price"]) == billed_price
    for row in rows:
        for key in ("used_bytes", "used_quantity", "quantity", "unit_price", "total_price"):
            assert "e" not in row[key].lower() and "," not in row[key], (key, row[key])
    assert len(report["summary"]) < 70  # counts, totals, the reconciliation and the failed and unmapped only
    page = render(report)
    assert page.count("<g>") == 26 and "others (275 companies)" in page
    _reconciliation, companies = tables(page)
    assert len(companies) == 300 + 2  # header, the rows, the total


# ---- rows -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason, group", [
    ("no usage", "no usage"),
    ("skip is set for company Hooli in companies", "not billed (bill: false)"),
    (UNMAPPED % ("no usage", "no usage"), "unmapped (no ConnectWise company)"),
    ("no agreement named 'ManagedBackupService' for company Hooli", "no agreement"),
    ("no agreement named 'ManagedBackupService' of company Hooli covers 2026-10: id 5 ended on 2026-09-30, "
     "before 2026-10", "agreement does not cover the month"),
    (str(NotBillingYet(Period(2026, 10), parse_cw_date("2026-11-15T00:00:00Z"))), "agreement not billing yet"),
    ("something new", "skipped: other reason"),
])
def test_skip_reasons_are_grouped_by_the_modules_reason(reason, group):
    report = reports.billing_report(module_result([result("Hooli", "skipped", 5, reason=reason)]))
    assert report["rows"][0]["group"] == group
    line = report["reconciliation"]["groups"][1]
    assert (line["name"], line["companies"], line["used_bytes"]) == (group, 1, 5)


def test_a_float_amount_is_refused_naming_the_company_and_field():
    run = module_result([result("AcmeCorp", "created", GIB, "0.06", "0.02")])
    run["results"][0]["total_price"] = 0.06
    with pytest.raises(AnsibleFilterError, match=r"result for AcmeCorp total_price is 0\.06: .*exact decimal strings"):
        reports.billing_report(run)


@pytest.mark.parametrize("field, value, message", [
    ("action", None, r"result for AcmeCorp: action None is not an action of the billing module"),
    ("used_bytes", "1.5", r"result for AcmeCorp used_bytes is '1\.5', not a whole number of bytes"),
    ("unit_price", "cheap", r"result for AcmeCorp unit_price: 'cheap' is not a number"),
])
def test_a_bad_result_is_refused_naming_the_field(field, value, message):
    run = module_result([result("AcmeCorp", "created", GIB, "0.06", "0.02")])
    run["results"][0][field] = value
    with pytest.raises(AnsibleFilterError, match=message):
        reports.billing_report(run)


def test_inline_usage_is_read_as_the_module_reads_it():
    """Bytes written as a YAML float (1e9) and names with spaces or commas, as billing_usage may hold them."""
    results = [result("Globex", "created", None, usage_company="Globex, Globex, Inc.", quantity="0.93",
                      used_quantity=None, total_price="0.06", total_cost="0.02"),
               result("Hooli", "skipped", None, reason="no usage")]
    usage = [{"company": " Globex ", "used_bytes": 1e9}, {"company": "Globex, Inc.", "used_bytes": 5},
             {"company": "Hooli", "used_bytes": 0}]
    report = reports.billing_report(module_result(results), usage=usage)
    rows = dict((r["company"], r) for r in report["rows"])
    assert rows["Globex"]["used_bytes"] == 1000000005 and rows["Globex"]["used_quantity"] == "0.93"
    assert report["reconciliation"]["source_bytes"] == 1000000005 and report["reconciliation"]["bytes_balance"] is True
    _rows, total = read_csv(reports.billing_csv(report))
    assert total["used_bytes"] == "1000000005"
    with pytest.raises(AnsibleFilterError, match=r"billing_usage\[1\]\.used_bytes: '-5' is negative"):
        reports.billing_report(module_result(results), usage=[usage[0], {"company": "Globex", "used_bytes": "-5"}])


def test_used_quantity_of_an_unbilled_row_is_rounded_like_the_modules():
    # 0.125 GiB: half-up gives 0.13, as the module rounds quantities; half-even would give 0.12.
    reason = "no agreement named 'X' for company Tiny"
    report = reports.billing_report(module_result([result("Tiny", "skipped", GIB // 8, reason=reason)]))
    assert report["rows"][0]["used_quantity"] == str(bytes_to_quantity(GIB // 8)) == "0.13"
    assert report["needs_look"] == ["Tiny"]   # usage that no agreement bills


def test_current_period_is_said_in_the_summary_and_the_page(render):
    run = module_result([result("AcmeCorp", "created", GIB, "0.06", "0.02")])
    run["current_period"] = True
    report = reports.billing_report(run)
    assert report["summary"][1] == "2026-10 is not over yet: this bills the usage so far"
    assert "2026-10 is not over yet" in render(report)


def test_group_digits_is_exact_and_half_up():
    assert reports.group_digits("1234567.5") == "1,234,567.50"
    assert reports.group_digits(Decimal("0.125")) == "0.13"
    assert reports.group_digits(0.1, 4) == "0.1000"  # a float through its shortest text
    assert reports.group_digits(None) == ""
    assert reports.group_digits("22093311372780", 0) == "22,093,311,372,780"
    with pytest.raises(AnsibleFilterError, match="not a number"):
        reports.group_digits("many")


# ---- products besides storage ---------------------------------------------------------------------

def license_result(company, action, count, unit_price, product="BackupServer", included=0, **fields):
    billed = max(count - included, 0)
    row = result(company, action, 0, product=product, kind="license", licenses=count, included=included,
                 quantity=str(count), used_quantity=str(count), unit="licenses", unit_price=unit_price,
                 unit_cost="0.0000", total_price=str(round_money(billed * Decimal(unit_price))), total_cost="0.00")
    row.update(fields)
    return row


def products_run():
    """AcmeCorp: storage on OnlineBackup and on Wasabi (its storage split), 3 Server licenses; Globex: 2 Desktops
    (1 included); Nobody Ltd: a license of a company ConnectWise does not know."""
    acme_s3 = result("AcmeCorp", "created", 300 * GIB, "0.06", "0.02", addition_id=301, product="OnlineBackup",
                     kind="storage", company_bytes=400 * GIB, accounts=["Amazon S3"])
    acme_wasabi = result("AcmeCorp", "created", 100 * GIB, "0.05", "0.01", addition_id=302, product="StorageWasabi",
                         kind="storage_account", company_bytes=400 * GIB, accounts=["Wasabi"])
    results = [acme_s3, acme_wasabi, license_result("AcmeCorp", "created", 3, "25.0000", addition_id=303),
               license_result("Globex", "unchanged", 2, "8.0000", product="BackupDesktop", included=1, addition_id=304),
               license_result("Nobody Ltd", "skipped", 1, "25.0000", total_price=None, reason=UNMAPPED % (
                   "Nobody Ltd", "Nobody Ltd"))]
    run = module_result(results, used_bytes=400 * GIB)
    run["licenses"] = {"source": "MSP360 licenses of 2026-10 (a snapshot at run time)", "read": 11, "counted": 6,
                       "not_billed": 5, "not_billed_by_reason": {"trial": 2, "expired": 1, "unassigned": 1,
                                                                 "unmapped_type": 1},
                       "reasons": {"trial": "trial", "expired": "expired before the period began",
                                   "unassigned": "in a pool, assigned to no user",
                                   "unmapped_type": "no license_products entry maps its license type"},
                       "unmapped_types": {"MS Exchange": 1},
                       "not_billed_by_company": [{"company": "AcmeCorp", "usage_company": "AcmeCorp",
                                                  "reasons": {"trial": 1, "expired": 1, "unmapped_type": 1}},
                                                 {"company": None, "usage_company": None,
                                                  "reasons": {"trial": 1, "unassigned": 1}}]}
    return run


def test_each_companys_lines_by_product_and_the_licenses_reconcile(render):
    report = reports.billing_report(products_run(), product="OnlineBackup")
    assert [(r["company"], r["product"], r["kind"]) for r in report["rows"]] == [
        ("AcmeCorp", "OnlineBackup", "storage"), ("AcmeCorp", "StorageWasabi", "storage_account"),
        ("AcmeCorp", "BackupServer", "license"), ("Globex", "BackupDesktop", "license"),
        ("Nobody Ltd", "BackupServer", "license")]
    products = dict((p["product"], p) for p in report["products"])
    assert products["BackupServer"] == dict(products["BackupServer"], lines=2, billed=1, quantity="3",
                                            total_price="75.00", unit="licenses")
    assert (products["BackupDesktop"]["quantity"], products["BackupDesktop"]["total_price"]) == ("2", "8.00")
    licenses = report["licenses"]
    # 11 read = 5 on billed lines + 1 on Nobody Ltd's line (not billed) + 5 not billed for a reason
    assert (licenses["on_billed_lines"], licenses["on_lines_not_billed"], licenses["not_billed"]) == (5, 1, 5)
    assert licenses["balance"] is True
    assert any(line.startswith("licenses 11 read = 5 billed + 1 on lines not billed + 5 not billed (2 trial")
               for line in report["summary"])
    [split] = report["storage_split"]
    assert (split["company"], split["company_bytes"], split["lines_bytes"], split["balance"]) == (
        "AcmeCorp", 400 * GIB, 400 * GIB, True)
    assert "Nobody Ltd" in report["needs_look"]
    assert any(line.startswith("Nobody Ltd (BackupServer): skipped") for line in report["summary"])
    # The chart: one bar per company, its revenue over all its lines
    bars = dict((b["label"], b) for b in report["chart"]["bars"])
    assert bars["AcmeCorp"]["revenue"] == "98.00" and bars["AcmeCorp"]["storage"] == "400.00"
    # The month's state: a company's storage line by the company, its other lines by company and product
    state = reports.report_outputs.billing_state(dict(report, rows=[dict(r, since="t") for r in report["rows"]]))
    assert sorted(json.loads(state)["companies"]) == [
        "AcmeCorp", "AcmeCorp | BackupServer", "AcmeCorp | StorageWasabi", "Globex | BackupDesktop",
        "Nobody Ltd | BackupServer"]
    rows = list(csv.DictReader(io.StringIO(reports.billing_csv(report))))
    assert [r["row"] for r in rows] == ["company"] * 5 + ["licenses"] * 4 + ["total"]
    assert [(r["product"], r["kind"], r["licenses"], r["included"]) for r in rows[3:5]] == [
        ("BackupDesktop", "license", "2", "1"), ("BackupServer", "license", "1", "0")]
    assert [(r["status"], r["quantity"]) for r in rows[5:9]] == [
        ("not billed: trial", "2"), ("not billed: expired", "1"), ("not billed: unassigned", "1"),
        ("not billed: unmapped_type", "1")]
    page = render(report)
    assert "<h2>Licenses</h2>" in page and "read = billed + not billed" in page and "MS Exchange (1)" in page
    assert "<h2>Storage by storage account</h2>" in page and "<h2>Products</h2>" in page
    assert "3 licenses" in page and "1 included" in page


def test_licenses_that_do_not_add_up_are_shown():
    run = products_run()
    run["licenses"]["read"] = 12
    report = reports.billing_report(run)
    assert report["licenses"]["balance"] is False
    assert any(line.endswith("(DOES NOT BALANCE)") and line.startswith("licenses 12 read") for line in report["summary"])
