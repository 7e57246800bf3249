"""Customers declared once (connectwise_customers, connectwise_customers_group) and the billing
report that reconciles, against the sandbox (real ansible-playbook runs) and on the filters alone."""

import csv
import io
import os
from decimal import Decimal

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.mbs.connectwise.plugins.filter import customers as customer_filters
from ansible_collections.mbs.connectwise.plugins.filter import reports as report_filters
from tests.report_page import reconciliation_bytes
from tests.sandbox import MBS_PASSWORD, MBS_USERNAME, generate_fixture

from .conftest import ROOT, writes

BILLING = os.path.join(ROOT, "playbooks", "billing.yml")
SETUP = os.path.join(ROOT, "playbooks", "setup.yml")
ROLE = "mbs.connectwise.billing : "
PERIOD = "2026-10"
AWX_JOB_VARIABLES = {"awx_job_id": 42, "awx_job_template_name": "mbs.connectwise billing (month)",
                     "awx_inventory_name": "mbs.connectwise controller", "awx_user_name": "admin",
                     "tower_job_id": 42, "tower_user_name": "admin"}


def read_csv(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows] == ["company"] * (len(rows) - 1) + ["total"], rows[-1]
    return rows[:-1], rows[-1]


def inline_usage(sandbox, period=PERIOD, extra=()):
    """The sandbox's MSP360 usage of the month as inline records (company, used_bytes), as MSP360 has it."""
    company_of = {user["ID"]: user["Company"] for user in sandbox.mbs.users}
    records = [{"company": company_of[row["UserId"]], "used_bytes": row["AverageSpace"], "user": row["UserId"],
                "destination": row.get("Destination") or row.get("DestinationName") or "default"}
               for row in sandbox.mbs.usage[period] if company_of.get(row["UserId"])]
    return records + list(extra)


def billing(ansible, reports, *args, check=False, **extra):
    return ansible.playbook(BILLING, *args, check=check,
                            extra_vars=dict(extra, billing_report_dir=str(reports)),
                            env={"MBS_USERNAME": MBS_USERNAME, "MBS_PASSWORD": MBS_PASSWORD})


def assert_reconciles(rows, total, usage):
    """MSP360's total = billed + skipped (by reason) + failed + unmapped, to the byte and the cent."""
    source = sum(Decimal(r["used_bytes"]) for r in usage)
    assert Decimal(total["used_bytes"]) == source
    assert sum(Decimal(r["used_bytes"]) for r in rows) == source   # every usage company has a row with its bytes
    billed = [r for r in rows if r["action"] in ("created", "updated", "unchanged")]
    assert Decimal(total["total_price"]) == sum(Decimal(r["total_price"]) for r in billed)
    assert Decimal(total["total_cost"]) == sum(Decimal(r["total_cost"]) for r in billed)
    for row in rows:
        assert "e" not in row["total_price"].lower() and "e" not in row["used_bytes"].lower(), row


# ---- the filters on their own --------------------------------------------------------------------

def test_unknown_key_names_customer_key_and_allowed_keys():
    with pytest.raises(AnsibleFilterError) as error:
        customer_filters.customers(["AcmeCorp", {"identifier": "Globex", "price_per_gib": "0.08"}])
    message = str(error.value)
    assert "customer 'Globex' (connectwise_customers[1]): unknown key price_per_gib (did you mean price_per_gb?)" \
        in message
    assert "the allowed keys are identifier, mbs_company, bill, start_date" in message


def test_host_vars_become_records_without_ansibles_awxs_or_the_roles_variables():
    hostvars = {"Initech": {"ansible_connection": "local", "connectwise_solution_name": "X", "billing_unit": "GiB",
                            "inventory_hostname": "Initech", "group_names": ["customers"],
                            "awx_job_id": 42, "tower_job_template_name": "billing", "tier": "gold",
                            "mbs_company": "Initech Inc.", "price_per_gb": 0.08, "bill_start_date": "2026-10-15"},
                "Typo": {"inventory_hostname": "Typo", "bil": False}}
    [record] = customer_filters.customers([], hostvars, ["Initech"])
    assert (record["identifier"], record["mbs_company"], record["price_per_gb"]) == ("Initech", ["Initech Inc."], "0.08")
    assert customer_filters.billing_customers([record]) == {
        "company_map": {"Initech Inc.": "Initech"}, "companies": {"Initech": {"price_per_gb": "0.08"}}}
    with pytest.raises(AnsibleFilterError,
                       match="customer 'Typo' \\(inventory host Typo\\): unknown key bil \\(did you mean bill\\?\\);"):
        customer_filters.customers([], hostvars, ["Typo"])


def test_default_start_date_applies_to_new_agreements_only(ansible, sandbox):
    """A new agreement without a start date starts on the first day of the month before connectwise_today
    (the agreement module's create-only default); an existing one keeps its own; a customer's own date wins."""
    first = ansible.playbook(SETUP, extra_vars={"connectwise_customers": ["AcmeCorp"], "connectwise_today": "2026-06-15"})
    assert first.rc == 0, first
    later = ansible.playbook(SETUP, extra_vars={"connectwise_today": "2027-01-20", "connectwise_customers": [
        "AcmeCorp", "Globex", {"identifier": "Initech", "start_date": "2026-01-01"}]})
    assert later.rc == 0, later
    starts = {a["company"]["identifier"]: a["startDate"] for a in sandbox.store.rows("agreements")}
    assert starts["Globex"] == "2026-12-01T00:00:00Z"
    assert starts == {"AcmeCorp": "2026-05-01T00:00:00Z", "Globex": "2026-12-01T00:00:00Z",
                      "Initech": "2026-01-01T00:00:00Z"}


def test_report_keeps_exact_decimals_handles_cancelled_and_groups_digits():
    run = {"period": PERIOD, "unit": "GiB", "totals": {"total_price": "1234.57", "total_cost": "0.10"},
           "results": [
               {"company": "Big", "action": "created", "quantity": "20576.17", "used_quantity": "20576.17",
                "unit_price": "0.0600", "total_price": "1234.57", "total_cost": "0.10", "usage_company": "Big"},
               {"company": "Quiet", "action": "cancelled", "reason": "no usage", "usage_company": "Quiet"},
               {"company": "=Evil", "action": "failed", "reason": "x", "usage_company": "=Evil",
                "used_bytes": 5}]}
    usage = [{"company": "Big", "used_bytes": 22093311372780}, {"company": "Quiet", "used_bytes": 0}]
    report = report_filters.billing_report(run, usage=usage, currency="eur")
    assert report["currency"] == "EUR" and report["counts"]["cancelled"] == 1
    assert report["billed_price_text"] == "1,234.57"
    assert report["reconciliation"]["source_bytes"] == 22093311372780
    assert report["reconciliation"]["bytes_balance"] is False  # =Evil's 5 bytes are not in the usage
    assert report["needs_look"] == ["=Evil"]
    rows = list(csv.reader(io.StringIO(report_filters.billing_csv(report))))
    assert rows[1][1] == "'=Evil"                      # never a spreadsheet formula
    assert rows[2][rows[0].index("unit_price")] == "0.0600"
    assert rows[-1][rows[0].index("total_price")] == "1234.57"


# ---- the roles ------------------------------------------------------------------------------------

def test_billing_refuses_a_typo_key_before_any_request(ansible, sandbox, tmp_path):
    run = billing(ansible, tmp_path / "reports", connectwise_customers=[
        "AcmeCorp", {"identifier": "Globex", "price_per_gib": "0.08"}])
    assert run.rc != 0
    assert "customer 'Globex' (connectwise_customers[1]): unknown key price_per_gib" in run.stdout
    assert "the allowed keys are identifier, mbs_company, bill" in run.stdout
    assert sandbox.journal() == []


def test_billing_refuses_a_replaced_variable_before_any_request(ansible, sandbox, tmp_path):
    run = billing(ansible, tmp_path / "reports", billing_company_map={"Initech Inc.": "Initech"})
    assert run.rc != 0
    [failed] = [r for r in run.results if r["status"] == "failed"]
    assert failed["task"] == ROLE + "Refuse the variables that connectwise_customers replaced", failed
    message = failed["result"]["msg"]
    assert message.startswith("billing_company_map is no longer read and was replaced by connectwise_customers: ")
    assert '[{identifier: Initech, mbs_company: "Initech Inc."}]' in message
    assert sandbox.journal() == []


def test_setup_refuses_a_replaced_variable_before_any_request(ansible, sandbox):
    run = ansible.playbook(SETUP, extra_vars={"connectwise_companies": ["AcmeCorp", "Globex"]})
    assert run.rc != 0
    [failed] = [r for r in run.results if r["status"] == "failed"]
    message = failed["result"]["msg"]
    assert message.startswith("connectwise_companies is no longer read and was replaced by connectwise_customers: ")
    assert "for example connectwise_customers: [AcmeCorp, {identifier: Initech" in message
    assert sandbox.journal() == []


def test_billing_refuses_an_unknown_customer_before_any_write(ansible, sandbox, tmp_path):
    assert ansible.playbook(SETUP).rc == 0
    sandbox.clear_journal()
    run = billing(ansible, tmp_path / "reports", connectwise_customers=["AcmeCorp", "Ghost"])
    assert run.rc != 0
    failed = [r for r in run.results if r["status"] == "failed"]
    assert len(failed) == 1 and "'Ghost' (connectwise_customers[1])" in failed[0]["result"]["msg"], failed
    assert writes(sandbox) == []


def test_customers_as_inventory_hosts_for_setup_and_billing(ansible, sandbox, tmp_path):
    """One host_vars/<customer>.yml per customer: setup and billing both read the group."""
    inventory = tmp_path / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {
        "hosts": {"localhost": {"ansible_connection": "local"}},
        "children": {"customers": {"hosts": {name: None for name in
                                             ("AcmeCorp", "Globex", "Initech", "Umbrella", "StarkWayne", "Hooli")}}}}}))
    (inventory / "host_vars" / "Initech.yml").write_text("mbs_company: Initech Inc.\nbill_start_date: '2026-10-15'\n")
    (inventory / "host_vars" / "Globex.yml").write_text("price_per_gb: '0.08'\ntier: gold\n")
    (inventory / "host_vars" / "Umbrella.yml").write_text("bill: false\naccount_manager: Albert\n")
    (inventory / "group_vars" / "customers").mkdir(parents=True)
    (inventory / "group_vars" / "customers" / "crm.yml").write_text("region: EMEA\ncontact_email: it@example.test\n")
    (inventory / "group_vars" / "all" / "vars.yml").write_text(yaml.safe_dump({
        "connectwise_customers_group": "customers", "connectwise_integrator_login": "MBSIntegrator",
        "billing_mbs": {"total_cost_is": "cost"}, "billing_price_per_gb": "0.06"}))
    # AWX puts its job variables in the extra vars, so every host has them.
    setup = ansible.playbook(SETUP, inventory=str(inventory), extra_vars=AWX_JOB_VARIABLES)
    assert setup.rc == 0, setup
    agreements = {a["company"]["identifier"]: a for a in sandbox.store.rows("agreements")}
    assert sorted(agreements) == sorted(["AcmeCorp", "Globex", "Initech", "Umbrella", "StarkWayne", "Hooli"])
    assert agreements["Initech"]["billStartDate"] == "2026-10-15T00:00:00Z"

    reports = tmp_path / "reports"
    run = ansible.playbook(BILLING, inventory=str(inventory),
                           extra_vars=dict(AWX_JOB_VARIABLES, billing_report_dir=str(reports)),
                           env={"MBS_USERNAME": MBS_USERNAME, "MBS_PASSWORD": MBS_PASSWORD})
    assert run.rc == 0, run
    rows = {r["company"]: r for r in read_csv(reports / "billing-2026-10.csv")[0]}
    assert rows["Initech"]["action"] == "created" and rows["Initech"]["usage_company"] == "Initech Inc."
    assert rows["Globex"]["unit_price"] == "0.0800" and rows["AcmeCorp"]["unit_price"] == "0.0600"
    assert rows["Umbrella"]["action"] == "skipped" and "skip is set" in rows["Umbrella"]["reason"]
    billed = {a["agreementId"] for a in sandbox.store.rows("additions")}
    assert agreements["Umbrella"]["id"] not in billed and agreements["Globex"]["id"] in billed


def test_report_reconciles_at_7_companies(ansible, sandbox, tmp_path):
    assert ansible.playbook(SETUP).rc == 0
    usage = inline_usage(sandbox, extra=[{"company": "Nobody Ltd", "used_bytes": 123456789}])
    reports = tmp_path / "reports"
    customers = ["AcmeCorp", "Globex",
                 {"identifier": "Initech", "mbs_company": "Initech Inc.", "bill_start_date": "2026-10-15"},
                 "Umbrella", {"identifier": "StarkWayne", "bill": False}, "Hooli"]
    run = billing(ansible, reports, billing_usage=usage, billing_cost_per_gb="0.02", connectwise_customers=customers)
    assert run.rc == 0, [r["result"].get("msg") for r in run.results if r["status"] == "failed"]
    rows, total = read_csv(reports / "billing-2026-10.csv")
    assert_reconciles(rows, total, usage)
    by_company = {r["company"]: r for r in rows}
    # Skipped companies keep their usage and reason.
    assert by_company["Nobody Ltd"]["used_bytes"] == "123456789" and "no ConnectWise company" in by_company["Nobody Ltd"]["reason"]
    assert by_company["StarkWayne"]["action"] == "skipped" and int(by_company["StarkWayne"]["used_bytes"]) > 0
    summary = run.task(ROLE + "Billing summary")["result"]["msg"]
    assert "DOES NOT BALANCE" not in "\n".join(summary)
    assert any(line.startswith("Nobody Ltd: skipped") for line in summary)
    assert not any(line.startswith("AcmeCorp:") for line in summary)   # only the companies that need a look
    page = (reports / "billing-2026-10.html").read_text()
    assert "balances to the byte" in page and "rows = totals to the cent" in page
    assert "{:,}".format(int(total["used_bytes"])) in page
    groups, everything = reconciliation_bytes(page)
    assert sum(groups.values()) == everything == int(total["used_bytes"])
    assert groups["unmapped (no ConnectWise company)"] == sum(
        int(r["used_bytes"]) for r in rows if r["reason"].startswith("no ConnectWise company"))
    assert groups["not billed (bill: false)"] == int(by_company["StarkWayne"]["used_bytes"])


def test_report_reconciles_at_300_companies(ansible, sandbox, tmp_path):
    sandbox.reset(fixture=generate_fixture(companies=300), today="2026-11-10")
    usage = inline_usage(sandbox, extra=[{"company": "Unmapped Co", "used_bytes": 987654321}])
    reports = tmp_path / "reports"
    run = billing(ansible, reports, billing_usage=usage, billing_cost_per_gb="0.02",
                  connectwise_customers=[{"identifier": "Company0001", "bill": False},
                                         {"identifier": "Company0002", "price_per_gb": "0.08"}])
    assert run.rc == 0, run
    rows, total = read_csv(reports / "billing-2026-10.csv")
    assert len(rows) == 301
    assert_reconciles(rows, total, usage)
    by_company = {r["company"]: r for r in rows}
    assert by_company["Company0002"]["unit_price"] == "0.0800"
    assert by_company["Company0001"]["action"] == "skipped"
    summary = run.task(ROLE + "Billing summary")["result"]["msg"]
    assert len(summary) < 20, summary            # counts, totals, the reconciliation, the few that need a look
    page = (reports / "billing-2026-10.html").read_text()
    assert page.count("<g>") == 26 and "others (276 companies)" in page   # 301 rows: the top 25, then the rest
    assert "balances to the byte" in page
    groups, everything = reconciliation_bytes(page)
    assert sum(groups.values()) == everything == int(total["used_bytes"])
