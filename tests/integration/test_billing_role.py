"""playbooks/billing.yml (the mbs.connectwise.billing role) on the demo fixture, after playbooks/setup.yml.

The demo inventory (playbooks/inventory/group_vars/all/billing.yml) bills the month before today
(conftest.TODAY, 2026-11-10, unless a test moves the clock: 2026-10) from the sandbox's MSP360 API, maps
"Initech Inc." to Initech (its customer record's mbs_company), takes MSP360's TotalCost as the cost and
charges 0.06 per GiB.
"""

import csv
import os
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.sandbox import MBS_PASSWORD, MBS_USERNAME, PRIVATE_KEY

from .conftest import ROOT, writes

BILLING = os.path.join(ROOT, "playbooks", "billing.yml")
SETUP = os.path.join(ROOT, "playbooks", "setup.yml")
COMPANY_MAP = {"Initech Inc.": "Initech"}
# ConnectWise companies with an agreement (setup inventory) and MSP360 usage in the demo fixture.
BILLABLE = {"AcmeCorp", "Globex", "Initech", "StarkWayne", "Umbrella"}
PRICE_PER_GIB = Decimal("0.06")
CENT = Decimal("0.01")


def expected_quantities(sandbox, period):
    """GiB per ConnectWise company, computed from the sandbox's MSP360 data independently of the collection.

    The sandbox's usage months follow its clock (conftest.TODAY unless a test moves it).
    """
    company_of = {user["ID"]: user["Company"] for user in sandbox.mbs.users}
    used = {}
    for row in sandbox.mbs.usage[period]:
        name = company_of[row["UserId"]]
        if not name:
            continue
        company = COMPANY_MAP.get(name, name)
        used[company] = used.get(company, 0) + row["AverageSpace"]
    return {company: (Decimal(value) / Decimal(2 ** 30)).quantize(CENT, rounding=ROUND_HALF_UP)
            for company, value in used.items() if company in BILLABLE}


def module_result(run):
    found = [r for r in run.results if r["action"] == "mbs.connectwise.billing"]
    assert len(found) == 1, [r["task"] for r in run.results]  # one module call for every company
    return found[0]["result"]


def read_csv(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows] == ["company"] * (len(rows) - 1) + ["total"], rows[-1]
    return rows[:-1], rows[-1]


def money(value):
    return Decimal(value) if value else Decimal(0)


def sandbox_additions(sandbox):
    """{company identifier: [additions]} from the sandbox's own state (not through the collection)."""
    company_of = {a["id"]: a["company"]["identifier"] for a in sandbox.store.rows("agreements")}
    found = {}
    for addition in sandbox.store.rows("additions"):
        found.setdefault(company_of[addition["agreementId"]], []).append(addition)
    return found


@pytest.fixture
def set_up(ansible, sandbox):
    run = ansible.playbook(SETUP)
    assert run.rc == 0, run
    sandbox.clear_journal()
    return ansible


@pytest.fixture
def reports(tmp_path):
    """The report directory (the harness keeps its own files in tmp_path); the role creates it."""
    return tmp_path / "reports"


def billing(ansible, report_dir, *args, check=False, diff=False, **extra):
    return ansible.playbook(BILLING, *args, check=check, diff=diff,
                            extra_vars=dict(extra, billing_report_dir=str(report_dir)),
                            env={"MBS_USERNAME": MBS_USERNAME, "MBS_PASSWORD": MBS_PASSWORD})


def test_preview_writes_nothing_but_a_preview_report(set_up, sandbox, reports):
    run = billing(set_up, reports, check=True, diff=True)
    assert run.rc == 0, run
    assert writes(sandbox) == []
    assert module_result(run)["totals"]["counts"]["created"] == len(BILLABLE)
    # A preview writes its own report and a line of the run log, never the month's state.
    assert sorted(os.listdir(reports)) == ["billing-2026-10-preview.csv", "billing-2026-10-preview.html",
                                           "billing-runs.log"]
    rows, total = read_csv(reports / "billing-2026-10-preview.csv")
    assert {r["company"] for r in rows if r["action"] == "created"} == BILLABLE
    assert all(r["addition_id"] == "" for r in rows)
    assert "preview" in total["reason"]
    page = (reports / "billing-2026-10-preview.html").read_text()
    assert "PREVIEW (check mode)" in page and "Nothing was written to ConnectWise" in page
    # --diff: one line per company that would change, with what it would bill.
    quantities = expected_quantities(sandbox, "2026-10")
    lines = [line for line in run.stdout.splitlines() if line.split(": create addition ")[0] in BILLABLE]
    assert sorted(line.split(":")[0] for line in lines) == sorted(BILLABLE)
    acme = quantities["AcmeCorp"]
    assert "AcmeCorp: create addition 2026-10 %s GiB x 0.0600 = %s" % (
        acme, (acme * PRICE_PER_GIB).quantize(CENT, ROUND_HALF_UP)) in lines


def test_real_run_bills_each_company_once_then_changes_nothing(set_up, sandbox, reports):
    run = billing(set_up, reports)
    assert run.rc == 0, run
    assert run.recap["changed"] == 1 and run.recap["failed"] == 0
    posts = [w for w in writes(sandbox) if w["method"] == "POST"]
    assert len(posts) == len(BILLABLE)
    assert all(w["path"].endswith("/additions") for w in posts)

    quantities = expected_quantities(sandbox, "2026-10")
    additions = sandbox_additions(sandbox)
    assert set(additions) == BILLABLE
    for company, [addition] in additions.items():
        assert Decimal(repr(addition["quantity"])) == quantities[company], company
        assert Decimal(repr(addition["unitPrice"])) == PRICE_PER_GIB
        assert addition["billCustomer"] == "Billable"
        assert addition["invoiceDescription"] == "Online backup October 2026: %s GiB at 0.0600 per GiB" % quantities[
            company]
    # Initech's agreement bills from 2026-10-15: clamped, with the warning in the report.
    assert additions["Initech"][0]["effectiveDate"].startswith("2026-10-15")
    assert additions["AcmeCorp"][0]["effectiveDate"].startswith("2026-10-01")

    rows, total = read_csv(reports / "billing-2026-10.csv")
    by_company = {r["company"]: r for r in rows}
    assert "billing start date 2026-10-15" in by_company["Initech"]["warnings"]
    assert by_company["Hooli"]["action"] == "skipped" and by_company["Hooli"]["reason"] == "no usage"
    assert by_company["Unmapped Co"]["action"] == "skipped"
    # The demo's MSP360 user without a company: its usage is reported, never dropped.
    assert by_company["(no MSP360 company)"]["action"] == "skipped"
    for company in BILLABLE:
        assert by_company[company]["action"] == "created"
        assert int(by_company[company]["addition_id"]) == additions[company][0]["id"]
        assert Decimal(by_company[company]["quantity"]) == quantities[company]
    assert "billing-2026-10.csv" in run.stdout and "billing-2026-10.html" in run.stdout

    sandbox.clear_journal()
    again = billing(set_up, reports)
    assert again.rc == 0, again
    assert again.recap["changed"] == 0
    assert writes(sandbox) == []
    rows = read_csv(reports / "billing-2026-10.csv")[0]
    assert {r["company"] for r in rows if r["action"] == "unchanged"} == BILLABLE
    assert sum(len(v) for v in sandbox_additions(sandbox).values()) == len(BILLABLE)


def test_report_totals_equal_rows_and_sandbox_additions(set_up, sandbox, reports):
    run = billing(set_up, reports)
    assert run.rc == 0, run
    rows, total = read_csv(reports / "billing-2026-10.csv")
    billed = [r for r in rows if r["action"] in ("created", "updated", "unchanged")]
    assert money(total["total_price"]) == sum(money(r["total_price"]) for r in billed)
    assert money(total["total_cost"]) == sum(money(r["total_cost"]) for r in billed)
    assert money(total["quantity"]) == sum(money(r["quantity"]) for r in billed)
    # Skipped: Hooli (no usage), Unmapped Co and the demo's user without a company (kept, not dropped).
    assert total["action"] == "5 created; 0 updated; 0 unchanged; 3 skipped; 0 failed"

    # What ConnectWise invoices: quantity x unit price (x unit cost) per addition, to the cent.
    additions = [a for found in sandbox_additions(sandbox).values() for a in found]
    invoiced = sum((Decimal(repr(a["quantity"])) * Decimal(repr(a["unitPrice"]))).quantize(CENT, ROUND_HALF_UP)
                   for a in additions)
    cost = sum((Decimal(repr(a["quantity"])) * Decimal(repr(a["unitCost"]))).quantize(CENT, ROUND_HALF_UP)
               for a in additions)
    assert money(total["total_price"]) == invoiced
    assert money(total["total_cost"]) == cost

    page = (reports / "billing-2026-10.html").read_text()
    assert "PREVIEW" not in page
    for value in (total["total_price"], total["total_cost"], total["quantity"]):
        assert "{:,}".format(Decimal(value)) in page  # the page groups thousands: 10,549.57
    assert "<script" not in page.lower() and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "<svg" in page and "<style>" in page
    # The company name with & and quotes is escaped, never raw.
    assert "Stark &amp; Wayne &#34;Industries&#34;" in page or "Stark &amp; Wayne &quot;Industries&quot;" in page
    assert 'Wayne "Industries"' not in page


def test_auto_mode_outside_the_window_does_nothing(set_up, sandbox, reports):
    run = billing(set_up, reports, billing_auto=True, billing_today="2026-11-10")
    assert run.rc == 0, run
    assert run.recap["changed"] == 0 and run.recap["failed"] == 0
    assert "outside the auto-billing window" in run.stdout
    assert sandbox.journal() == []  # no request at all, to either API
    assert not reports.exists()


@pytest.mark.parametrize("today, period", [
    ("2026-12-02", "2026-11"),   # inside the auto-billing window
    ("2027-01-02", "2026-12"),   # across the year boundary
    ("2027-03-01", "2027-02"),   # first day of the window, after a short month
])
def test_auto_mode_inside_the_window_bills_the_previous_month(ansible, sandbox, reports, today, period):
    """Setup and billing at another date: the clock reaches the setup default, billing and the sandbox."""
    sandbox.reset(today=today)
    assert ansible.playbook(SETUP).rc == 0
    run = billing(ansible, reports, billing_auto=True)
    assert run.rc == 0, run
    assert module_result(run)["period"] == period
    quantities = expected_quantities(sandbox, period)
    additions = sandbox_additions(sandbox)
    assert set(additions) == BILLABLE
    for company, [addition] in additions.items():
        # Initech's billing start (2026-10-15, inventory) is before every period here: no clamp.
        assert addition["effectiveDate"].startswith(period + "-01"), company
        assert Decimal(repr(addition["quantity"])) == quantities[company], company
    assert sorted(os.listdir(reports)) == ["billing-%s.csv" % period, "billing-%s.html" % period,
                                           "billing-%s.state.json" % period, "billing-runs.log"]
    # The setup role's default start date is the first day of the month before its today.
    starts = {a["startDate"] for a in sandbox.store.rows("agreements")}
    assert starts == {period + "-01T00:00:00Z"}


@pytest.mark.parametrize("today, period", [("2026-11-17", "2026-10"), ("2027-01-20", "2026-12")])
def test_mid_month_auto_does_nothing_and_the_default_period_is_last_month(ansible, sandbox, reports, today, period):
    sandbox.reset(today=today)
    assert ansible.playbook(SETUP).rc == 0
    sandbox.clear_journal()
    quiet = billing(ansible, reports, billing_auto=True)
    assert quiet.rc == 0 and "outside the auto-billing window" in quiet.stdout, quiet
    assert sandbox.journal() == []
    run = billing(ansible, reports)
    assert run.rc == 0, run
    assert module_result(run)["period"] == period
    assert set(sandbox_additions(sandbox)) == BILLABLE


def test_a_failed_company_still_gets_its_report_and_fails_the_run(set_up, sandbox, reports):
    run = billing(set_up, reports, billing_effective_date_policy="fail")
    assert run.rc != 0, run
    rows, total = read_csv(reports / "billing-2026-10.csv")
    by_company = {r["company"]: r for r in rows}
    assert by_company["Initech"]["action"] == "failed"
    assert "Billing Start Date: 10/15/2026" in by_company["Initech"]["reason"]
    assert {c for c, r in by_company.items() if r["action"] == "created"} == BILLABLE - {"Initech"}
    assert set(sandbox_additions(sandbox)) == BILLABLE - {"Initech"}
    assert total["action"].endswith("1 failed")
    assert "Billing 2026-10 failed for 1 of 8 companies: Initech (" in run.stdout
    assert "failed" in (reports / "billing-2026-10.html").read_text()


def test_no_secret_in_reports_or_output(set_up, sandbox, reports):
    runs = [billing(set_up, reports, check=True, diff=True), billing(set_up, reports, "-vvv")]
    for run in runs:
        assert run.rc == 0, run
        assert PRIVATE_KEY not in run.stdout + run.stderr
        assert MBS_PASSWORD not in run.stdout + run.stderr
    files = sorted(os.listdir(reports))
    assert len(files) == 6   # preview and real CSV and HTML, the month's state, the run log
    for name in files:
        text = (reports / name).read_text()
        assert PRIVATE_KEY not in text and MBS_PASSWORD not in text, name
        assert "sandbox-public" not in text, name


def test_bad_variable_stops_before_any_request_without_printing_secrets(set_up, sandbox, reports):
    run = billing(set_up, reports, billing_cost_mode="bogus",
                  billing_mbs={"password": MBS_PASSWORD, "total_cost_is": "cost"})
    assert run.rc != 0, run
    assert "value of billing_cost_mode must be one of" in run.stdout
    assert sandbox.journal() == []
    assert not reports.exists()
    # A failed validation prints the spec with its rendered defaults: no secret may be among them.
    assert PRIVATE_KEY not in run.stdout + run.stderr
    assert MBS_PASSWORD not in run.stdout + run.stderr
