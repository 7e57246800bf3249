"""License and storage-account billing through the roles (playbooks/setup.yml, playbooks/billing.yml) with the
example inventory as shipped (group_vars/all/products.yml): the demo's licenses billed as BackupServer and
BackupDesktop, its Wasabi storage as StorageWasabi, against the sandbox's MSP360 API.

At conftest.TODAY (2026-11-10) the month billed is 2026-10. The demo's AcmeCorp has 3 paid Server licenses in
use (1001-1003), a Server trial (1004), a Server license expired before October (1005), an MS Exchange license
no entry maps (1006), and the MSP's pool holds a Server license nobody has (1019).
"""

import collections
import copy
import json
import os
import subprocess
import tempfile
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.sandbox import MBS_PASSWORD, MBS_USERNAME, generate_fixture
from tests.sandbox.fixtures import PRODUCT_ID

from .conftest import BIN, ROOT, writes

BILLING = os.path.join(ROOT, "playbooks", "billing.yml")
SETUP = os.path.join(ROOT, "playbooks", "setup.yml")
MARKER = "mbs.connectwise billing "
GIB = 2 ** 30
CENT = Decimal("0.01")
MBS_ENV = {"MBS_USERNAME": MBS_USERNAME, "MBS_PASSWORD": MBS_PASSWORD}


@pytest.fixture
def set_up(ansible, sandbox):
    run = ansible.playbook(SETUP, products=True)
    assert run.rc == 0, run
    sandbox.clear_journal()
    return ansible


def billing(ansible, tmp_path, *args, check=False, **extra):
    return ansible.playbook(BILLING, *args, check=check, products=True,
                            extra_vars=dict(extra, billing_report_dir=str(tmp_path / "reports")), env=MBS_ENV)


def module_result(run):
    [found] = [r for r in run.results if r["action"] == "mbs.connectwise.billing"]
    return found["result"]


def additions_of(sandbox, company, product):
    """The additions of ``product`` on the agreements of ``company`` (the sandbox's own state)."""
    agreements = [a["id"] for a in sandbox.store.rows("agreements") if a["company"]["identifier"] == company]
    return sorted((a for a in sandbox.store.rows("additions")
                   if a["agreementId"] in agreements and a["product"]["identifier"] == product), key=lambda a: a["id"])


def line(result, company, product):
    [found] = [r for r in result["results"] if r["company"] == company and r["product"] == product]
    return found


def test_paid_licenses_are_one_addition_a_rerun_changes_nothing_and_a_preview_writes_nothing(set_up, sandbox, tmp_path):
    preview = billing(set_up, tmp_path, check=True)
    assert preview.rc == 0, preview
    assert writes(sandbox) == []
    assert line(module_result(preview), "AcmeCorp", "BackupServer")["action"] == "created"

    run = billing(set_up, tmp_path)
    assert run.rc == 0, run
    [server] = additions_of(sandbox, "AcmeCorp", "BackupServer")
    # 3 paid licenses in use; the trial, the expired, the pool license and the MS Exchange one are not billed
    assert (server["quantity"], server["description"], server["unitPrice"]) == (3, MARKER + "2026-10", 25)
    assert server["effectiveDate"].startswith("2026-10-01") and server["lessIncluded"] == 0
    result = module_result(run)
    assert result["licenses"]["not_billed_by_reason"]["unmapped_type"] == 1
    assert result["licenses"]["unmapped_types"] == {"MS Exchange": 1}
    assert any("MS Exchange" in warning for warning in run.task("mbs.connectwise.billing : Send billing to ConnectWise "
                                                                "(one call for every company)")["result"]["warnings"])
    acme = dict((entry["usage_company"], entry["reasons"]) for entry in result["licenses"]["not_billed_by_company"])
    assert acme["AcmeCorp"] == {"trial": 1, "expired": 1, "unmapped_type": 1}
    # The report: each company's lines by product, the licenses reconciled
    report = (tmp_path / "reports" / "billing-2026-10.html").read_text()
    assert "<h2>Licenses</h2>" in report and "read = billed + not billed" in report and "MS Exchange (1)" in report
    summary = run.task("mbs.connectwise.billing : Billing summary")["result"]["msg"]
    assert any(text.startswith("licenses 21 read = ") and "DOES NOT BALANCE" not in text for text in summary)

    sandbox.clear_journal()
    again = billing(set_up, tmp_path)
    assert again.rc == 0 and again.recap["changed"] == 0, again
    assert writes(sandbox) == []
    actions = dict(((r["company"], r["product"]), r["action"]) for r in module_result(again)["results"]
                   if r["kind"] == "license")
    # Unmapped Co's license has no ConnectWise company: reported, never billed
    assert actions.pop(("Unmapped Co", "BackupDesktop")) == "skipped"
    assert set(actions.values()) == {"unchanged"} and len(actions) == 7


def test_a_later_month_with_two_licenses_replaces_the_earlier_addition(set_up, sandbox, tmp_path):
    assert billing(set_up, tmp_path).rc == 0
    sandbox.mbs.licenses = [row for row in sandbox.mbs.licenses if row["Number"] != 1003]
    # November ends: MSP360 has its usage (as October's) and one Server license of AcmeCorp less
    sandbox.mbs.usage["2026-11"] = copy.deepcopy(sandbox.mbs.usage["2026-10"])
    sandbox.set_today("2026-12-02")
    run = billing(set_up, tmp_path, billing_period="2026-11")
    assert run.rc == 0, run
    october, november = additions_of(sandbox, "AcmeCorp", "BackupServer")
    assert (october["quantity"], october["cancelledDate"][:10]) == (3, "2026-10-31")
    assert (november["quantity"], november["description"], november.get("cancelledDate")) == (
        2, MARKER + "2026-11", None)
    assert line(module_result(run), "AcmeCorp", "BackupServer")["cancelled"] == [october["id"]]


def test_an_unmapped_type_fails_before_any_write_with_the_option(set_up, sandbox, tmp_path):
    run = billing(set_up, tmp_path, billing_unmapped_license_types="fail")
    assert run.rc != 0, run
    assert "'MS Exchange': 1 (AcmeCorp 1)" in run.stdout and "unmapped_license_types" in run.stdout
    assert writes(sandbox) == [] and sandbox.store.rows("additions") == []
    # the billing module stopped after reading MSP360: ConnectWise was only read by the role's preflight
    assert [e["path"] for e in sandbox.journal() if e["api"] == "connectwise"] == ["login/companyinfo/sandbox",
                                                                                   "company/companies"]


def expected_storage(sandbox, period, company):
    """``(GiB of the company, bytes per account)`` from the sandbox's MSP360 data, independently of the collection."""
    users = {user["ID"] for user in sandbox.mbs.users if user["Company"] == company}
    accounts = {account["AccountID"]: account["DisplayName"] for account in sandbox.mbs.accounts}
    total, by_account = 0, collections.Counter()
    for row in sandbox.mbs.usage[period]:
        if row["UserId"] not in users:
            continue
        total += row["AverageSpace"]
        weights = collections.Counter()
        for detail in row["Details"]:
            weights[accounts[detail["AccountID"]]] += detail["SizeBackup"]
        for name, weight in weights.items():
            by_account[name] += Decimal(row["AverageSpace"]) * weight / sum(weights.values())
    return (Decimal(total) / GIB).quantize(CENT, ROUND_HALF_UP), by_account


def test_a_company_on_two_storage_accounts_gets_two_storage_additions_that_add_up(set_up, sandbox, tmp_path):
    run = billing(set_up, tmp_path)
    assert run.rc == 0, run
    total, by_account = expected_storage(sandbox, "2026-10", "Globex")
    [s3] = additions_of(sandbox, "Globex", PRODUCT_ID)
    [wasabi] = additions_of(sandbox, "Globex", "StorageWasabi")
    assert Decimal(repr(s3["quantity"])) + Decimal(repr(wasabi["quantity"])) == total
    assert abs(Decimal(repr(wasabi["quantity"])) - by_account["Wasabi"] / GIB) <= CENT
    assert Decimal(repr(wasabi["unitPrice"])) == Decimal("0.05")
    result = module_result(run)
    storage = [r for r in result["results"] if r["company"] == "Globex" and r["kind"] != "license"]
    assert sum(r["used_bytes"] for r in storage) == storage[0]["company_bytes"]
    assert [r["accounts"] for r in storage] == [["Amazon S3"], ["Wasabi"]]
    # MSP360: login, users, companies, billing, licenses, accounts, and one details read per user with usage
    users_with_usage = sum(1 for row in sandbox.mbs.usage["2026-10"] if row["AverageSpace"] > 0)
    assert result["requests"]["mbs"] == {"POST": 1, "GET": 4, "PUT": 1 + users_with_usage}
    assert "storage split by storage account for" in " ".join(run.task("mbs.connectwise.billing : Billing summary")
                                                              ["result"]["msg"])


def test_an_invoice_after_license_billing_has_each_companys_product_month_once(set_up, sandbox, tmp_path):
    run = billing(set_up, tmp_path)
    assert run.rc == 0, run
    seen = collections.Counter()
    additions = dict((a["id"], a) for a in sandbox.store.rows("additions"))
    companies = dict((a["id"], a["company"]["identifier"]) for a in sandbox.store.rows("agreements"))
    for invoice in sandbox.invoice(period="2026-10"):
        for invoice_line in sandbox.invoice_lines(invoice["id"]):
            addition = additions[invoice_line["additionId"]]
            seen[(companies[addition["agreementId"]], addition["product"]["identifier"],
                  invoice_line["description"][len(MARKER):])] += 1
    billed = {(r["company"], r["product"], "2026-10") for r in module_result(run)["results"]
              if r["action"] == "created"}
    assert seen == collections.Counter(billed)
    assert ("AcmeCorp", "BackupServer", "2026-10") in seen and ("Globex", "StorageWasabi", "2026-10") in seen


# ---------------------------------------------------------------- overlapping runs, real processes

PLAY = """
- name: Billing
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Bill the period
      mbs.connectwise.billing:
        period: "2026-10"
        today: "{{ connectwise_today }}"
        mbs: {}
        cost_per_gb: "0.01"
        license_products:
          - {license_type: Server, product: BackupServer, unit_price: "25"}
          - {license_type: Desktop, product: BackupDesktop, unit_price: "8"}
          - {license_type: VM Server, product: BackupServer}
        parallel: 8
"""


def with_license_products(fixture):
    for identifier in ("BackupServer", "BackupDesktop"):
        fixture["connectwise"]["catalog"].append(dict(fixture["connectwise"]["catalog"][0], identifier=identifier,
                                                      description=identifier))
    return fixture


def test_overlapping_runs_with_licenses_leave_one_addition_per_company_product_and_month(ansible, sandbox):
    sandbox.reset(with_license_products(generate_fixture(companies=16, licenses_per_company=5)), today="2026-11-10")
    with tempfile.NamedTemporaryFile("w", suffix=".yml", dir=ansible.tmp_path, delete=False) as handle:
        handle.write(PLAY)
    extra = json.dumps({"connectwise_today": "2026-11-10"})
    sandbox.set_latency(10)
    try:
        procs = [subprocess.Popen([os.path.join(BIN, "ansible-playbook"), handle.name, "-e", extra], cwd=ROOT,
                                  env=ansible.env(MBS_ENV), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _run in range(3)]
        finished = [(proc.wait(timeout=600), proc.stdout.read()) for proc in procs]
    finally:
        sandbox.set_latency(0)
    for rc, output in finished:
        assert rc == 0, output[-4000:]
    per_key = collections.Counter((a["agreementId"], a["product"]["identifier"], a["description"])
                                  for a in sandbox.store.rows("additions"))
    assert per_key and set(per_key.values()) == {1}, per_key
    products = collections.Counter(product for _agreement, product, _marker in per_key)
    # 5 licenses each (Server, Desktop, VM Server, Server, Desktop): Server+VM Server 3, Desktop 2
    assert products == {PRODUCT_ID: 16, "BackupServer": 16, "BackupDesktop": 16}
    quantities = collections.Counter((a["product"]["identifier"], a["quantity"]) for a in sandbox.store.rows("additions")
                                     if a["product"]["identifier"] != PRODUCT_ID)
    assert quantities == {("BackupServer", 3): 16, ("BackupDesktop", 2): 16}
    again = ansible.playbook(PLAY, env=MBS_ENV)
    assert again.rc == 0 and not again.task("Bill the period")["result"]["changed"], again


def test_in_batches_each_company_and_product_is_billed_once_as_one_call_bills_it(set_up, sandbox, tmp_path):
    """billing_batch_size with license and storage-account products: a company's lines stay in one batch, the
    month's result is the one call's (every line once, the licenses read for the whole month), a re-run is quiet."""
    one_call = billing(set_up, tmp_path, check=True)
    assert one_call.rc == 0, one_call
    expected = sorted((r["company"], r["product"], r["action"]) for r in module_result(one_call)["results"])
    run = billing(set_up, tmp_path, billing_batch_size=2)
    assert run.rc == 0, run
    calls = [r for r in run.results if r["action"] == "mbs.connectwise.billing" and r["status"] != "skipped"]
    check, batches = calls[0]["result"], [call["result"] for call in calls[1:]]
    assert len(batches) == len(set(r["company"] for r in check["results"])) // 2 + len(
        set(r["company"] for r in check["results"])) % 2
    for batch in batches:
        assert len(set(r["company"] for r in batch["results"])) <= 2
    billed = sorted((r["company"], r["product"], r["action"]) for batch in batches for r in batch["results"])
    assert billed == expected                                # every line once, as the one call predicted
    per_key = collections.Counter((a["agreementId"], a["product"]["identifier"], a["description"])
                                  for a in sandbox.store.rows("additions"))
    assert per_key and set(per_key.values()) == {1}
    assert "StorageWasabi" in {product for _agreement, product, _marker in per_key}
    # The report is the month's: its licenses are the whole month's, read = billed + not billed
    report = (tmp_path / "reports" / "billing-2026-10.html").read_text()
    assert "<h2>Licenses</h2>" in report and "MS Exchange (1)" in report
    summary = run.task("mbs.connectwise.billing : Billing summary")["result"]["msg"]
    assert any(text.startswith("licenses 21 read = ") and "DOES NOT BALANCE" not in text for text in summary)

    sandbox.clear_journal()
    again = billing(set_up, tmp_path, billing_batch_size=2)
    assert again.rc == 0 and again.recap["changed"] == 0, again
    assert writes(sandbox) == []
