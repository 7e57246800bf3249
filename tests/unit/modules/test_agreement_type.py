from ansible_collections.mbs.connectwise.plugins.modules import agreement_type

from ..conftest import API, body, run_module, writes
from .helpers import conditions

PATH = API + "finance/agreements/types"
CYCLES = API + "finance/billingCycles"
MONTHLY = {"id": 1, "name": "Monthly", "_info": {}}
QUARTERLY = {"id": 2, "name": "Quarterly", "_info": {}}
EXISTING = {"id": 4, "name": "ManagedBackupService", "billTime": "DoNotBill", "billExpenses": "DoNotBill",
            "billProducts": "Billable", "employeeCompRate": "Actual", "employeeCompNotExceed": "Billing",
            "invoicingCycle": "CalendarYear", "billingCycle": {"id": 1, "name": "Monthly"},
            "prorateFlag": False, "inactiveFlag": False, "_info": {"lastUpdated": "x"}}
NAME = {"name": "ManagedBackupService"}
DEFAULT_BODY = {"name": "ManagedBackupService", "billTime": "DoNotBill", "billExpenses": "DoNotBill",
                "billProducts": "Billable", "employeeCompRate": "Actual", "employeeCompNotExceed": "Billing",
                "invoicingCycle": "CalendarYear", "billingCycle": {"id": 1}}


def test_creates_with_documented_defaults(mocked):
    mocked.get(PATH, json=[])
    mocked.get(CYCLES, json=[MONTHLY])
    mocked.post(PATH, json=dict(EXISTING), status=201)
    result, failed = run_module(agreement_type, NAME)
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["id"] == 4 and "_info" not in result["object"]
    [post] = writes(mocked)
    assert post.url == PATH
    assert body(post) == DEFAULT_BODY
    assert conditions(mocked, PATH) == ['name = "ManagedBackupService"'] * 2  # find, and the re-read after the create
    assert conditions(mocked, CYCLES) == ['name = "Monthly"']


def test_given_options_override_defaults_on_create(mocked):
    mocked.get(PATH, json=[])
    mocked.get(CYCLES, json=[QUARTERLY])
    mocked.post(PATH, json=dict(EXISTING, id=5), status=201)
    result, failed = run_module(agreement_type, dict(
        NAME, bill_time="Billable", invoicing_cycle="ContractYear", billing_cycle="Quarterly",
        prorate=True, invoice_description="Backup", inactive=False))
    assert not failed, result
    [post] = writes(mocked)
    assert body(post) == dict(DEFAULT_BODY, billTime="Billable", invoicingCycle="ContractYear",
                              billingCycle={"id": 2}, prorateFlag=True, invoiceDescription="Backup",
                              inactiveFlag=False)
    assert conditions(mocked, CYCLES) == ['name = "Quarterly"']


def test_second_run_changes_nothing(mocked):
    mocked.get(PATH, json=[EXISTING])
    result, failed = run_module(agreement_type, NAME)
    assert not failed, result
    assert not result["changed"] and result["operation"] == "none"
    assert writes(mocked) == []


def test_defaults_are_not_compared_on_update(mocked):
    # Changed in ConnectWise by hand; the user never asked for these values.
    changed_by_hand = dict(EXISTING, billTime="Billable", invoicingCycle="ContractYear",
                           billingCycle={"id": 2, "name": "Quarterly"})
    mocked.get(PATH, json=[changed_by_hand])
    result, failed = run_module(agreement_type, NAME)
    assert not failed, result
    assert not result["changed"]
    assert writes(mocked) == []
    assert conditions(mocked, CYCLES) == []


def test_update_patches_only_the_changed_given_field(mocked):
    mocked.get(PATH, json=[EXISTING])
    mocked.patch(PATH + "/4", json=dict(EXISTING, billTime="Billable"))
    result, failed = run_module(agreement_type, dict(NAME, bill_time="Billable", bill_products="Billable"),
                                diff=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "update"
    [patch] = writes(mocked)
    assert patch.method == "PATCH" and patch.url == PATH + "/4"
    assert body(patch) == [{"op": "replace", "path": "billTime", "value": "Billable"}]
    assert result["diff"]["before"] == {"billTime": "DoNotBill"}
    assert result["diff"]["after"] == {"billTime": "Billable"}
    assert result["object"]["billTime"] == "Billable"


def test_update_of_billing_cycle_reference(mocked):
    mocked.get(PATH, json=[EXISTING])
    mocked.get(CYCLES, json=[QUARTERLY])
    mocked.patch(PATH + "/4", json=dict(EXISTING, billingCycle={"id": 2, "name": "Quarterly"}))
    result, failed = run_module(agreement_type, dict(NAME, billing_cycle="Quarterly"))
    assert not failed, result
    [patch] = writes(mocked)
    assert body(patch) == [{"op": "replace", "path": "billingCycle", "value": {"id": 2}}]


def test_check_mode_create_predicts_without_writing(mocked):
    mocked.get(PATH, json=[])
    mocked.get(CYCLES, json=[MONTHLY])
    result, failed = run_module(agreement_type, NAME, check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["id"] is None
    assert result["diff"]["after"] == DEFAULT_BODY
    assert result["diff"]["before"] == {}
    assert writes(mocked) == []


def test_check_mode_update_predicts_without_writing(mocked):
    mocked.get(PATH, json=[EXISTING])
    result, failed = run_module(agreement_type, dict(NAME, prorate=True), check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "update"
    assert result["object"]["prorateFlag"] is True and result["object"]["id"] == 4
    assert result["diff"] == {"before": {"prorateFlag": False}, "after": {"prorateFlag": True},
                              "before_header": "agreement type ManagedBackupService",
                              "after_header": "agreement type ManagedBackupService"}
    assert writes(mocked) == []


def test_check_mode_with_missing_billing_cycle_warns(mocked, warned):
    mocked.get(PATH, json=[])
    mocked.get(CYCLES, json=[])
    result, failed = run_module(agreement_type, NAME, check_mode=True)
    assert not failed, result
    assert result["operation"] == "create"
    assert result["object"]["billingCycle"] == {"name": "Monthly"}
    assert any("billing cycle 'Monthly' does not exist" in w for w in warned())
    assert writes(mocked) == []


def test_unknown_billing_cycle_fails_without_write(mocked):
    mocked.get(PATH, json=[])
    mocked.get(CYCLES, json=[])
    result, failed = run_module(agreement_type, dict(NAME, billing_cycle="Fortnightly"))
    assert failed
    assert "billing_cycle" in result["msg"] and "'Fortnightly'" in result["msg"]
    assert "billing cycle" in result["msg"]
    assert writes(mocked) == []


def test_missing_default_billing_cycle_fails_on_create_naming_it(mocked):
    mocked.get(PATH, json=[])
    mocked.get(CYCLES, json=[])
    result, failed = run_module(agreement_type, NAME)
    assert failed and "'Monthly'" in result["msg"]
    assert writes(mocked) == []


def test_ambiguous_billing_cycle_fails_without_write(mocked):
    mocked.get(PATH, json=[])
    mocked.get(CYCLES, json=[MONTHLY, dict(MONTHLY, id=9)])
    result, failed = run_module(agreement_type, dict(NAME, billing_cycle="Monthly"))
    assert failed and "matches 2" in result["msg"] and "unique" in result["msg"]
    assert writes(mocked) == []


def no_references(mocked):
    """Nothing refers to the agreement type: no agreement, no integration (so no cross-reference)."""
    mocked.get(API + "finance/agreements", json=[])
    mocked.get(API + "company/managedDevicesIntegrations", json=[])


def test_absent_deletes(mocked):
    mocked.get(PATH, json=[EXISTING])
    no_references(mocked)
    mocked.delete(PATH + "/4", status=204)
    result, failed = run_module(agreement_type, dict(NAME, state="absent"), diff=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "delete" and result["object"] is None
    [delete] = writes(mocked)
    assert delete.method == "DELETE" and delete.url == PATH + "/4"
    assert result["diff"]["before"]["name"] == "ManagedBackupService"


def test_absent_in_check_mode_does_not_delete(mocked):
    mocked.get(PATH, json=[EXISTING])
    no_references(mocked)
    result, failed = run_module(agreement_type, dict(NAME, state="absent"), check_mode=True)
    assert not failed and result["changed"] and result["operation"] == "delete"
    assert writes(mocked) == []


def test_absent_when_missing_is_no_change(mocked):
    mocked.get(PATH, json=[])
    result, failed = run_module(agreement_type, dict(NAME, state="absent"))
    assert not failed and not result["changed"]
    assert writes(mocked) == []


def test_name_too_long_fails_before_any_request(mocked):
    result, failed = run_module(agreement_type, {"name": "x" * 51})
    assert failed and "name" in result["msg"] and "at most 50" in result["msg"]
    assert len(mocked.calls) == 0


def test_invoice_description_too_long_fails_before_any_request(mocked):
    result, failed = run_module(agreement_type, dict(NAME, invoice_description="d" * 4001))
    assert failed and "invoice_description" in result["msg"] and "at most 4000" in result["msg"]
    assert len(mocked.calls) == 0


def test_invalid_choice_fails_before_any_request(mocked):
    result, failed = run_module(agreement_type, dict(NAME, bill_time="Sometimes"))
    assert failed and "bill_time" in result["msg"]
    assert len(mocked.calls) == 0


def test_ambiguous_match_fails_without_write(mocked):
    mocked.get(PATH, json=[EXISTING, dict(EXISTING, id=8)])
    result, failed = run_module(agreement_type, dict(NAME, bill_time="Billable"))
    assert failed and "ambiguous" in result["msg"] and "4, 8" in result["msg"]
    assert writes(mocked) == []
