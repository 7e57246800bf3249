"""``state: absent`` of an object others refer to: refused before any delete, in check mode too.

ConnectWise refuses deleting a row other rows still refer to (the sandbox does the same, see
tests/sandbox/store.py). The modules read the references first, so ``--check`` predicts the
refusal instead of a delete, and a real run fails naming them before it writes anything.
"""

import pytest

from ansible_collections.mbs.connectwise.plugins.modules import agreement, agreement_type, managed_devices_integration
from ansible_collections.mbs.connectwise.plugins.modules import product

from ..sandbox_client import run_module

TYPES = "finance/agreements/types"
AGREEMENTS = "finance/agreements"
CATALOG = "procurement/catalog"
INTEGRATIONS = "company/managedDevicesIntegrations"
COMPANIES = "company/companies"
NAME = "ManagedBackupService"


@pytest.fixture
def cw(connectwise):
    connectwise.add(TYPES, id=3, name=NAME, billTime="Billable", billExpenses="Billable", billProducts="Billable",
                    employeeCompNotExceed="Billing", employeeCompRate="Actual", invoicingCycle="CalendarYear")
    connectwise.add("procurement/categories", id=1, name="Managed Services")
    connectwise.add("procurement/subcategories", id=1, name="Managed Services", category={"id": 1})
    connectwise.add("procurement/types", id=1, name="Service")
    connectwise.add(CATALOG, id=12, identifier="OnlineBackup", description="Online backup",
                    customerDescription="Online backup", subcategory={"id": 1}, type={"id": 1})
    connectwise.add(INTEGRATIONS, id=6, name=NAME, solution=NAME, loginBy="Global", defaultBillingLevel="Summary")
    for company_id, identifier in ((1, "Acme"), (2, "Globex")):
        connectwise.add(COMPANIES, id=company_id, identifier=identifier, name=identifier)
        connectwise.add("company/contacts", id=company_id, firstName="Default", lastName=identifier,
                        company={"id": company_id}, defaultFlag=True)
    return connectwise


def deletes(cw):
    return [c for c in cw.writes() if c[0] == "DELETE"]


def agreement_row(cw, company_id, name=NAME, **extra):
    return cw.add(AGREEMENTS, company={"id": company_id}, contact={"id": company_id}, name=name, type={"id": 3},
                  **extra)


def add_addition(cw, agreement):
    return cw.add(AGREEMENTS + "/%d/additions" % agreement["id"], product={"id": 12}, quantity=1,
                  billCustomer="Billable")


def cross_reference(cw, **extra):
    return cw.add(INTEGRATIONS + "/6/crossReferences", vendorType="SpaceUsage", vendorLevel="HighLevel", **extra)


@pytest.mark.parametrize("check_mode", [False, True])
def test_agreement_type_in_use_by_agreements_and_cross_references(cw, check_mode):
    first, second = agreement_row(cw, 1), agreement_row(cw, 2, name="Other")
    cross = cross_reference(cw, agreementType={"id": 3})
    result, failed = run_module(agreement_type, {"name": NAME, "state": "absent"}, check_mode=check_mode)
    assert failed
    assert "cannot delete agreement type" in result["msg"] and "in use by 2 agreement(s)" in result["msg"]
    assert "ids %d, %d" % (first["id"], second["id"]) in result["msg"]
    assert "1 cross-reference(s) (ids %d)" % cross["id"] in result["msg"]
    assert cw.writes() == []


def test_check_mode_does_not_count_what_earlier_tasks_delete(cw):
    agreement_row(cw, 1)
    cross_reference(cw, agreementType={"id": 3})
    plan = {"agreements_named": [NAME.lower()],
            "cross_references": [{"integration": NAME, "type": "spaceusage", "level": "HighLevel"}]}
    result, failed = run_module(agreement_type, {"name": NAME, "state": "absent", "deleted_first": plan},
                                check_mode=True)
    assert not failed, result["msg"]
    assert result["changed"] and result["operation"] == "delete"
    # an agreement of another name is not in the plan: still a predicted refusal
    other = agreement_row(cw, 2, name="Other")
    result, failed = run_module(agreement_type, {"name": NAME, "state": "absent", "deleted_first": plan},
                                check_mode=True)
    assert failed and "(ids %d)" % other["id"] in result["msg"]


@pytest.mark.parametrize("check_mode", [False, True])
def test_product_in_use_by_an_addition(cw, check_mode):
    acme = agreement_row(cw, 1)
    addition = add_addition(cw, acme)
    result, failed = run_module(product, {"identifier": "OnlineBackup", "state": "absent"}, check_mode=check_mode)
    assert failed and "1 agreement addition(s) (ids %d)" % addition["id"] in result["msg"]
    assert cw.writes() == []


def test_product_without_references_is_deleted(cw):
    agreement_row(cw, 1)
    cross_reference(cw, agreementType={"id": 3})  # a cross-reference of another product
    result, failed = run_module(product, {"identifier": "OnlineBackup", "state": "absent"})
    assert not failed, result["msg"]
    assert deletes(cw) == [("DELETE", CATALOG + "/12", {})]


@pytest.mark.parametrize("check_mode", [False, True])
def test_integration_with_cross_references(cw, check_mode):
    cross = cross_reference(cw, agreementType={"id": 3})
    result, failed = run_module(managed_devices_integration, {"name": NAME, "state": "absent"},
                                check_mode=check_mode)
    assert failed and "1 cross-reference(s) (ids %d)" % cross["id"] in result["msg"]
    assert cw.writes() == []


def test_billed_agreement_fails_alone_and_every_check_precedes_the_first_delete(cw):
    acme, globex = agreement_row(cw, 1), agreement_row(cw, 2)
    addition = add_addition(cw, acme)
    result, failed = run_module(agreement, {"name": NAME, "companies": ["Acme", "Globex"], "state": "absent"})
    assert failed
    assert "Acme" in result["failed_companies"] and "(ids %d)" % addition["id"] in result["failed_companies"]["Acme"]
    assert [r["operation"] for r in result["results"]] == ["none", "delete"]
    assert deletes(cw) == [("DELETE", AGREEMENTS + "/%d" % globex["id"], {})]
    first_delete = cw.log.index(next(c for c in cw.log if c[0] == "DELETE"))
    reads = [c[1] for c in cw.log[:first_delete]]
    assert AGREEMENTS + "/%d/additions" % acme["id"] in reads and AGREEMENTS + "/%d/additions" % globex["id"] in reads


def test_billed_agreement_in_check_mode_predicts_the_refusal(cw):
    acme = agreement_row(cw, 1)
    agreement_row(cw, 2)
    add_addition(cw, acme)
    result, failed = run_module(agreement, {"name": NAME, "companies": ["Acme", "Globex"], "state": "absent"},
                                check_mode=True)
    assert failed and list(result["failed_companies"]) == ["Acme"]
    assert result["counts"] == {"create": 0, "update": 0, "delete": 1, "none": 0, "failed": 1}
    assert cw.writes() == []
