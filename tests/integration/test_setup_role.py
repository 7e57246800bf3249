"""The setup role (playbooks/setup.yml, playbooks/teardown.yml) against the sandbox.

The playbooks run with the example inventory (playbooks/inventory): the demo companies AcmeCorp,
Globex, Initech (billing start 2026-10-15), Umbrella, StarkWayne, Hooli and the integrator login
MBSIntegrator.
"""

import re

import pytest
import requests

from tests.sandbox import load_fixture

from .conftest import CREDENTIALS, writes

SETUP = "playbooks/setup.yml"
TEARDOWN = "playbooks/teardown.yml"
NAME = "ManagedBackupService"
DEMO_COMPANIES = ["AcmeCorp", "Globex", "Initech", "Umbrella", "StarkWayne", "Hooli"]
ROLE = "mbs.connectwise.setup : "
AGREEMENTS_TASK = ROLE + "Agreements of all declared companies (one bulk task)"
FAIL_TASK = ROLE + "Fail for the companies that failed (the others are done)"
SETUP_TABLES = ("managementItSolutions", "agreementTypes", "catalog", "agreements",
                "managedDevicesIntegrations", "crossReferences")


def api(sandbox, method, path, body=None):
    """A direct ConnectWise API call on the sandbox, as another user of ConnectWise would make it."""
    response = requests.request(
        method, "%s/v4_6_release/apis/3.0/%s" % (sandbox.url, path), json=body, timeout=10,
        auth=("%s+%s" % (CREDENTIALS["CW_COMPANY_ID"], CREDENTIALS["CW_PUBLIC_KEY"]), CREDENTIALS["CW_PRIVATE_KEY"]),
        headers={"clientId": "integration-tests"})
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def rows(sandbox, table):
    return sandbox.store.rows(table)


def only(sandbox, table):
    found = rows(sandbox, table)
    assert len(found) == 1, found
    return found[0]


def ref_name(ref):
    return (ref or {}).get("name") or (ref or {}).get("identifier")


def summary(run):
    return run.task(ROLE + "Summary")["result"]["msg"]


def write_paths(sandbox):
    """``[(method, path with ids as N)]`` of the writes, in order."""
    return [(e["method"], re.sub(r"/\d+", "/N", e["path"])) for e in writes(sandbox)]


# ---- the guide's objects ------------------------------------------------------------------------

def test_setup_creates_exactly_the_guides_objects(ansible, sandbox):
    run = ansible.playbook(SETUP)
    assert run.rc == 0, run
    assert run.recap["changed"] == 6 and run.recap["failed"] == 0

    # The guide's order; the agreements of all companies come from one task.
    assert write_paths(sandbox) == (
        [("POST", "company/managementItSolutions"), ("POST", "finance/agreements/types"),
         ("POST", "procurement/catalog")]
        + [("POST", "finance/agreements")] * len(DEMO_COMPANIES)
        + [("POST", "company/managedDevicesIntegrations"),
           ("POST", "company/managedDevicesIntegrations/N/crossReferences")])
    assert [r["task"] for r in run.results].count(AGREEMENTS_TASK) == 1

    solution = only(sandbox, "managementItSolutions")
    assert (solution["name"], solution["managementItSolutionType"], solution["managementSolutionName"]) == (
        NAME, "Custom", NAME)
    agreement_type = only(sandbox, "agreementTypes")
    assert agreement_type["name"] == NAME

    product = only(sandbox, "catalog")
    assert product["identifier"] == "OnlineBackup"
    assert product["customerDescription"] == "Managed Backup Service provides a reliable backup solution."
    assert product["description"]
    assert ref_name(product["category"]) == "Managed Services"
    assert ref_name(product["subcategory"]) == "Managed Services"
    assert ref_name(product["type"]) == "Software"
    assert product["productClass"] == "Service"

    agreements = {a["company"]["identifier"]: a for a in rows(sandbox, "agreements")}
    assert sorted(agreements) == sorted(DEMO_COMPANIES)
    for company, agreement in agreements.items():
        assert agreement["name"] == NAME, company
        assert agreement["type"]["id"] == agreement_type["id"], company
        assert agreement["contact"]["id"], company
        assert agreement["noEndingDateFlag"] is True, company
        assert agreement["startDate"].endswith("-01T00:00:00Z"), company
    assert agreements["Initech"]["billStartDate"] == "2026-10-15T00:00:00Z"

    integration = only(sandbox, "managedDevicesIntegrations")
    assert (integration["name"], integration["solution"]) == (NAME, NAME)
    login = next(r for r in rows(sandbox, "integratorLogins") if r["username"] == "MBSIntegrator")
    assert integration["integratorLogin"]["id"] == login["id"]

    xref = only(sandbox, "crossReferences")
    assert (xref["vendorType"], xref["vendorLevel"]) == ("SpaceUsage", "HighLevel")
    assert xref["managedDevicesIntegration"]["id"] == integration["id"]
    assert xref["agreementType"]["id"] == agreement_type["id"]
    assert xref["product"]["id"] == product["id"]
    assert ref_name(xref["configurationType"]) == "Backup Stats"

    lines = summary(run)
    assert "11 created, 0 updated, 0 deleted, 0 unchanged, 0 failed" in lines[0]
    assert "agreements %s of 6 companies: 6 created, 0 updated, 0 deleted, 0 unchanged, 0 failed" % NAME in lines


def test_second_run_changes_nothing(ansible, sandbox):
    assert ansible.playbook(SETUP).rc == 0
    sandbox.clear_journal()
    again = ansible.playbook(SETUP)
    assert again.rc == 0, again
    assert again.recap["changed"] == 0
    assert writes(sandbox) == []
    assert "0 created, 0 updated, 0 deleted, 11 unchanged, 0 failed" in summary(again)[0]


def test_existing_start_dates_are_left_alone(ansible, sandbox):
    """The default start date applies on create only, so it never drifts from month to month."""
    assert ansible.playbook(SETUP).rc == 0
    acme = next(a for a in rows(sandbox, "agreements") if a["company"]["identifier"] == "AcmeCorp")
    api(sandbox, "PATCH", "finance/agreements/%d" % acme["id"],
        [{"op": "replace", "path": "startDate", "value": "2025-01-01T00:00:00Z"}])
    sandbox.clear_journal()
    run = ansible.playbook(SETUP)
    assert run.rc == 0 and run.recap["changed"] == 0, run
    assert writes(sandbox) == []

    # An explicit start date is enforced on every declared agreement.
    enforced = ansible.playbook(SETUP, extra_vars={"connectwise_agreement_start_date": "2026-09-01"})
    assert enforced.rc == 0, enforced
    assert {a["startDate"] for a in rows(sandbox, "agreements")} == {"2026-09-01T00:00:00Z"}


def test_check_mode_on_a_fresh_sandbox_previews_everything_without_writing(ansible, sandbox):
    run = ansible.playbook(SETUP, check=True, diff=True)
    assert run.rc == 0, run
    assert run.recap["changed"] == 6
    assert writes(sandbox) == []
    # What only an earlier task of the same run would create is a warning, not a failure.
    assert "agreement type 'ManagedBackupService' does not exist yet" in run.stderr
    assert "product 'OnlineBackup' does not exist yet" in run.stderr
    assert '"identifier": "OnlineBackup"' in run.stdout          # the diffs are shown
    assert '"vendorType": "SpaceUsage"' in run.stdout
    agreements = run.task(AGREEMENTS_TASK)["result"]
    assert sorted(r["company"] for r in agreements["results"]) == sorted(DEMO_COMPANIES)
    assert {r["operation"] for r in agreements["results"]} == {"create"}
    assert summary(run)[0].startswith("CHECK MODE, nothing written")
    assert all(not rows(sandbox, table) for table in SETUP_TABLES)


def test_check_mode_after_setup_predicts_no_change(ansible, sandbox):
    assert ansible.playbook(SETUP).rc == 0
    sandbox.clear_journal()
    run = ansible.playbook(SETUP, check=True, diff=True)
    assert run.rc == 0 and run.recap["changed"] == 0, run
    assert "does not exist yet" not in run.stdout + run.stderr
    assert writes(sandbox) == []


def test_drift_is_corrected_and_shown_in_the_diff(ansible, sandbox):
    assert ansible.playbook(SETUP).rc == 0
    product = only(sandbox, "catalog")
    wanted = product["description"]
    api(sandbox, "PATCH", "procurement/catalog/%d" % product["id"],
        [{"op": "replace", "path": "description", "value": "Changed by hand"}])
    sandbox.clear_journal()

    run = ansible.playbook(SETUP, diff=True)
    assert run.rc == 0, run
    assert run.recap["changed"] == 1
    assert '-    "description": "Changed by hand"' in run.stdout
    assert '+    "description": "%s"' % wanted in run.stdout
    [patch] = writes(sandbox)
    assert (patch["method"], patch["path"]) == ("PATCH", "procurement/catalog/%d" % product["id"])
    assert patch["body"] == [{"op": "replace", "path": "description", "value": wanted}]
    assert only(sandbox, "catalog")["description"] == wanted


def test_partial_product_dict_merges_over_the_guides_product(ansible, sandbox):
    run = ansible.playbook(SETUP, extra_vars={"connectwise_product": {"description": "MSP360 backup", "price": 0.05}})
    assert run.rc == 0, run
    product = only(sandbox, "catalog")
    assert product["description"] == "MSP360 backup"
    assert float(product["price"]) == 0.05
    assert product["identifier"] == "OnlineBackup" and ref_name(product["type"]) == "Software"


def test_teardown_removes_everything_in_dependency_order(ansible, sandbox):
    assert ansible.playbook(SETUP).rc == 0
    sandbox.clear_journal()
    run = ansible.playbook(TEARDOWN)
    assert run.rc == 0, run
    assert write_paths(sandbox) == (
        [("DELETE", "company/managedDevicesIntegrations/N/crossReferences/N"),
         ("DELETE", "company/managedDevicesIntegrations/N")]
        + [("DELETE", "finance/agreements/N")] * len(DEMO_COMPANIES)
        + [("DELETE", "procurement/catalog/N"), ("DELETE", "finance/agreements/types/N"),
           ("DELETE", "company/managementItSolutions/N")])
    assert {table: rows(sandbox, table) for table in SETUP_TABLES} == {table: [] for table in SETUP_TABLES}
    assert "0 created, 0 updated, 11 deleted" in summary(run)[0]

    sandbox.clear_journal()
    again = ansible.playbook(TEARDOWN)
    assert again.rc == 0 and again.recap["changed"] == 0, again
    assert writes(sandbox) == []


def test_teardown_keeps_what_billed_agreements_still_use(ansible, sandbox):
    """ConnectWise refuses to delete an agreement with additions: that company fails, the others go,
    and the product, agreement type and solution it still uses are kept rather than failing on them."""
    assert ansible.playbook(SETUP).rc == 0
    acme = next(a for a in rows(sandbox, "agreements") if a["company"]["identifier"] == "AcmeCorp")
    api(sandbox, "POST", "finance/agreements/%d/additions" % acme["id"], {
        "product": {"id": only(sandbox, "catalog")["id"]}, "billCustomer": "Billable", "quantity": 1,
        "effectiveDate": acme["billStartDate"]})
    sandbox.clear_journal()
    run = ansible.playbook(TEARDOWN)
    assert run.rc != 0
    failure = run.task(FAIL_TASK)["result"]["msg"]
    assert "1 of 6 companies failed: AcmeCorp:" in failure and "were kept" in failure
    assert [a["company"]["identifier"] for a in rows(sandbox, "agreements")] == ["AcmeCorp"]
    assert rows(sandbox, "crossReferences") == [] and rows(sandbox, "managedDevicesIntegrations") == []
    assert rows(sandbox, "catalog") and rows(sandbox, "agreementTypes") and rows(sandbox, "managementItSolutions")
    assert not [w for w in writes(sandbox) if w["status"] >= 400 and "agreements/" not in w["path"]]


def test_teardown_check_mode_writes_nothing(ansible, sandbox):
    assert ansible.playbook(SETUP).rc == 0
    sandbox.clear_journal()
    run = ansible.playbook(TEARDOWN, check=True)
    assert run.rc == 0 and run.recap["changed"] == 6, run
    assert writes(sandbox) == []
    assert len(rows(sandbox, "agreements")) == len(DEMO_COMPANIES)


def test_teardown_preview_predicts_the_changes_the_real_run_reports(ansible, sandbox):
    """The real run checks every delete first (in check mode): that pass reports no change, so --check and the
    real run report the same changed tasks, one per delete task, in the same order."""
    def changed_tasks(run):
        return [r["task"] for r in run.results if r["status"] == "changed"]

    assert ansible.playbook(SETUP).rc == 0
    preview = ansible.playbook(TEARDOWN, check=True)
    assert preview.rc == 0, preview
    real = ansible.playbook(TEARDOWN)
    assert real.rc == 0, real
    assert preview.recap["changed"] == real.recap["changed"] == 6
    assert changed_tasks(preview) == changed_tasks(real) == [ROLE + task for task in (
        "Cross-reference", "Managed devices integration", "Agreements of the setup (one bulk task)", "Product",
        "Agreement type", "Management solution")]
    assert summary(preview)[1:] == summary(real)[1:]


@pytest.mark.parametrize("check", [False, True])
def test_teardown_refused_by_a_reference_outside_the_setup_deletes_nothing(ansible, sandbox, check):
    """Another agreement uses the agreement type: ConnectWise would refuse deleting the type at the
    end, so the teardown fails before its first delete (and its preview predicts that refusal)."""
    assert ansible.playbook(SETUP).rc == 0
    acme = next(a for a in rows(sandbox, "agreements") if a["company"]["identifier"] == "AcmeCorp")
    other = api(sandbox, "POST", "finance/agreements", {
        "name": "Other agreement", "type": {"id": acme["type"]["id"]}, "company": {"id": acme["company"]["id"]},
        "contact": {"id": acme["contact"]["id"]}})
    before = {table: rows(sandbox, table) for table in SETUP_TABLES}
    sandbox.clear_journal()
    run = ansible.playbook(TEARDOWN, check=check)
    assert run.rc != 0, run
    assert "cannot delete agreement type" in run.stdout and "(ids %d)" % other["id"] in run.stdout
    assert writes(sandbox) == []
    assert {table: rows(sandbox, table) for table in SETUP_TABLES} == before


def test_teardown_preview_of_a_billed_agreement_predicts_the_real_run(ansible, sandbox):
    assert ansible.playbook(SETUP).rc == 0
    acme = next(a for a in rows(sandbox, "agreements") if a["company"]["identifier"] == "AcmeCorp")
    api(sandbox, "POST", "finance/agreements/%d/additions" % acme["id"], {
        "product": {"id": only(sandbox, "catalog")["id"]}, "billCustomer": "Billable", "quantity": 1,
        "effectiveDate": acme["billStartDate"]})
    sandbox.clear_journal()
    preview = ansible.playbook(TEARDOWN, check=True)
    assert writes(sandbox) == []
    assert preview.rc != 0 and "1 of 6 companies failed: AcmeCorp:" in preview.task(FAIL_TASK)["result"]["msg"]
    real = ansible.playbook(TEARDOWN)
    assert real.rc != 0
    assert summary(preview)[1:] == summary(real)[1:]
    # no refused write: every refusal was known before the request
    assert not [w for w in writes(sandbox) if w["status"] >= 400]


# ---- bad input: a clear error, nothing written ---------------------------------------------------

def test_unknown_company_is_refused_before_any_write(ansible, sandbox):
    """A customer whose identifier ConnectWise does not know stops the run in the preflight."""
    run = ansible.playbook(SETUP, extra_vars={"connectwise_customers": ["AcmeCorp", "Ghost", "Globex"]})
    assert run.rc != 0
    failed = [r for r in run.results if r["status"] == "failed"]
    assert len(failed) == 1, failed
    message = failed[0]["result"]["msg"]
    assert "1 customer has no ConnectWise company" in message and "'Ghost' (connectwise_customers[1])" in message
    assert "nothing was written" in message
    assert writes(sandbox) == []


def test_company_without_contact_fails_and_gets_no_agreement(ansible, sandbox):
    run = ansible.playbook(SETUP, extra_vars={"connectwise_customers": ["NoContactLtd"]})
    assert run.rc != 0
    failure = run.task(FAIL_TASK)["result"]["msg"]
    assert "NoContactLtd" in failure and "default contact" in failure
    assert not [w for w in writes(sandbox) if w["path"].startswith("finance/agreements") and "types" not in w["path"]]
    assert rows(sandbox, "agreements") == []


@pytest.mark.parametrize("extra_vars, message", [
    ({"connectwise_product": {"category": "No Such Category"}},
     'ConnectWise lacks product category "No Such Category" (procurement/categories)'),
    ({"connectwise_product": {"subcategory": "No Such Subcategory"}},
     'ConnectWise lacks product subcategory "No Such Subcategory"'),
    ({"connectwise_product": {"product_type": "Firmware"}}, 'ConnectWise lacks product type "Firmware"'),
    ({"connectwise_integrator_login": "NoSuchLogin"},
     'ConnectWise lacks integrator login "NoSuchLogin" (system/integratorlogins)'),
    ({"connectwise_product": {"identifier": "X" * 76}}, "is 76 characters long; ConnectWise allows at most 75"),
    ({"connectwise_product": {"description": "D" * 61}}, "is 61 characters long; ConnectWise allows at most 60"),
    ({"connectwise_cross_reference": {"level": "L" * 256}}, "is 256 characters long; ConnectWise allows at most 255"),
], ids=["category", "subcategory", "product-type", "integrator-login", "identifier-length",
        "description-length", "level-length"])
def test_what_cannot_be_completed_stops_before_any_write(ansible, sandbox, extra_vars, message):
    run = ansible.playbook(SETUP, extra_vars=extra_vars)
    assert run.rc != 0
    failed = [r for r in run.results if r["status"] == "failed"]
    messages = message if isinstance(message, tuple) else (message,)
    assert len(failed) == 1 and all(m in failed[0]["result"]["msg"] for m in messages), failed
    assert writes(sandbox) == []


def test_missing_backup_stats_configuration_type_is_named_before_any_write(ansible, sandbox):
    fixture = load_fixture("demo")
    types = fixture["connectwise"]["configurationTypes"]
    fixture["connectwise"]["configurationTypes"] = [t for t in types if t["name"] != "Backup Stats"]
    sandbox.reset(fixture=fixture)
    run = ansible.playbook(SETUP)
    assert run.rc != 0
    failure = run.task(ROLE + "Preflight | stop before any write if ConnectWise lacks what the guide selects or a customer's company")
    assert 'configuration type "Backup Stats" (company/configurations/types)' in failure["result"]["msg"]
    assert "Nothing was written" in failure["result"]["msg"]
    assert writes(sandbox) == []


def test_two_agreements_of_the_same_name_fail_that_company_only(ansible, sandbox):
    assert ansible.playbook(SETUP).rc == 0
    globex = next(a for a in rows(sandbox, "agreements") if a["company"]["identifier"] == "Globex")
    api(sandbox, "POST", "finance/agreements", {
        "name": NAME, "type": {"id": globex["type"]["id"]}, "company": {"id": globex["company"]["id"]},
        "contact": {"id": globex["contact"]["id"]}})
    sandbox.clear_journal()
    run = ansible.playbook(SETUP)
    assert run.rc != 0
    failure = run.task(FAIL_TASK)["result"]["msg"]
    assert "1 of 6 companies failed" in failure and "Globex" in failure and "ambiguous" in failure
    assert writes(sandbox) == []


def test_solution_name_longer_than_connectwise_allows_sends_no_request(ansible, sandbox):
    run = ansible.playbook(SETUP, extra_vars={"connectwise_solution_name": "M" * 31})
    assert run.rc != 0
    assert "is 31 characters long; ConnectWise allows at most 30" in run.stdout
    assert sandbox.journal() == []


@pytest.mark.parametrize("variable", ["connectwise_agreement_name", "connectwise_agreement_type_name",
                                      "connectwise_management_solution_name"])
def test_a_name_overridden_alone_is_refused_before_any_request(ansible, sandbox, variable):
    run = ansible.playbook(SETUP, extra_vars={variable: "OtherName"})
    assert run.rc != 0
    failed = [r for r in run.results if r["status"] == "failed"]
    assert len(failed) == 1
    message = failed[0]["result"]["msg"]
    assert '%s is "OtherName" but connectwise_solution_name is "%s"' % (variable, NAME) in message
    assert sandbox.journal() == []


def test_the_same_name_given_twice_is_accepted(ansible, sandbox):
    run = ansible.playbook(SETUP, extra_vars={"connectwise_agreement_name": NAME, "connectwise_agreement_type_name": NAME})
    assert run.rc == 0, run


@pytest.mark.parametrize("extra_vars, message", [
    ({"connectwise_customers": ["AcmeCorp", {"identifier": "Globex", "bill_start": "2026-10-01"}]},
     "customer 'Globex' (connectwise_customers[1]): unknown key bill_start (did you mean bill_start_date?); the "
     "allowed keys are identifier,"),
    ({"connectwise_customers": [{"identifier": "Globex", "end_date": "2026-02-30"}]},
     ("customer 'Globex' (connectwise_customers[0]): argument 'end_date'",
      '"2026-02-30" is not a date in the form YYYY-MM-DD')),
    ({"connectwise_customers": ["AcmeCorp", "acmecorp"]}, "customer 'acmecorp' (connectwise_customers[1]) is declared twice"),
    ({"connectwise_customers": [{"start_date": "2026-10-01"}]}, "connectwise_customers[0] needs an identifier"),
    ({"connectwise_agreement_start_date": "1 October"}, "not a date in the form YYYY-MM-DD"),
    ({"connectwise_integrator_login": ""}, "connectwise_integrator_login is empty"),
    ({"connectwise_state": "gone"}, "connectwise_state"),
    ({"connectwise_product": {"colour": "blue"}}, "colour"),
], ids=["unknown-key", "bad-date", "duplicate", "no-identifier", "start-date", "no-login", "state", "product-key"])
def test_invalid_variables_are_refused_before_any_request(ansible, sandbox, extra_vars, message):
    run = ansible.playbook(SETUP, extra_vars=extra_vars)
    assert run.rc != 0
    failed = [r for r in run.results if r["status"] == "failed"]
    messages = message if isinstance(message, tuple) else (message,)
    assert len(failed) == 1 and all(m in failed[0]["result"]["msg"] for m in messages), failed
    assert sandbox.journal() == []
    # A failed validation prints the spec with its rendered defaults: the key must not be among them.
    assert CREDENTIALS["CW_PRIVATE_KEY"] not in run.stdout + run.stderr


def test_missing_credentials_are_named_before_any_request(ansible, sandbox):
    run = ansible.playbook(SETUP, env={"CW_PRIVATE_KEY": ""})
    assert run.rc != 0
    assert "connectwise_private_key is empty: set it, or the CW_PRIVATE_KEY environment variable" in run.stdout
    assert sandbox.journal() == []
