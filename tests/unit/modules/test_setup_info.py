"""setup_info: what each setup module would do, for every object of the setup in one read-only run.

The ConnectWise is the in-process sandbox with the demo fixture (reference data, the demo companies,
no setup yet). Each prediction is compared with what the object's own module returns in check mode.
"""

import pytest
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.mbs.connectwise.plugins.modules import (
    agreement,
    agreement_type,
    cross_reference,
    managed_devices_integration,
    management_solution,
    product,
    setup_info,
)

from tests.sandbox import load_fixture

from ..sandbox_client import SandboxConnectWise, run_module

NAME = "ManagedBackupService"
DEMO_COMPANIES = ["AcmeCorp", "Globex", "Initech", "Umbrella", "StarkWayne", "Hooli"]
# The setup role's options for each object (its defaults).
SETUP = {
    "management_solution": {"name": NAME, "custom_solution_name": NAME},
    "agreement_type": {"name": NAME},
    "product": {"identifier": "OnlineBackup", "description": "Managed Backup Service online backup",
                "customer_description": "Managed Backup Service provides a reliable backup solution.",
                "category": "Managed Services", "subcategory": "Managed Services", "product_type": "Software",
                "product_class": "Service"},
    "managed_devices_integration": {"name": NAME, "solution": NAME, "integrator_login": "MBSIntegrator"},
    "cross_reference": {"integration": NAME, "type": "SpaceUsage", "level": "HighLevel", "agreement_type": NAME,
                        "product": "OnlineBackup", "configuration_type": "Backup Stats"},
    "agreement": {"name": NAME, "agreement_type": NAME, "companies": DEMO_COMPANIES, "today": "2026-11-10"},
}
MODULES = {"management_solution": management_solution, "agreement_type": agreement_type, "product": product,
           "managed_devices_integration": managed_devices_integration, "cross_reference": cross_reference,
           "agreement": agreement}
# The setup's order: what an object refers to exists before it.
ORDER = ["management_solution", "agreement_type", "product", "agreement", "managed_devices_integration",
         "cross_reference"]


@pytest.fixture
def cw(monkeypatch):
    sandbox = SandboxConnectWise(fixture=load_fixture("demo"))
    sandbox.route_every_session(monkeypatch)
    return sandbox


def set_up(cw, setup=None):
    """Every object of the setup, made by its own module as the role makes it."""
    for name in ORDER:
        result, failed = run_module(MODULES[name], (setup or SETUP)[name])
        assert not failed, result["msg"]
    cw.log.clear()


def predict(cw, objects=None, **kwargs):
    result, failed = run_module(setup_info, SETUP if objects is None else objects, **kwargs)
    return result, failed


def check_mode_result(name, options):
    """What the object's own module returns in check mode (``--diff``), and the warnings it issues."""
    ansible_warnings._global_warnings.clear()
    result, failed = run_module(MODULES[name], options, check_mode=True, diff=True)
    if failed:
        result["failed"] = True
    return result, list(ansible_warnings.get_warning_messages())


@pytest.mark.parametrize("done", [False, True], ids=["first-run", "after-setup"])
def test_each_prediction_is_what_its_module_returns_in_check_mode(cw, warned, done):
    if done:
        set_up(cw)
    result, failed = predict(cw)
    assert not failed, result["msg"]
    assert result["changed"] is False and cw.writes() == []
    for name in ORDER:
        predicted = dict(result[name])
        warnings = predicted.pop("warnings")
        expected, expected_warnings = check_mode_result(name, SETUP[name])
        assert predicted == expected, name
        assert warnings == expected_warnings, name


def test_after_the_setup_nothing_is_predicted_and_the_reads_are_bulk(cw):
    set_up(cw)
    result, failed = predict(cw)
    assert not failed, result["msg"]
    assert {name: result[name]["operation"] for name in ORDER if name != "agreement"} == dict.fromkeys(
        set(ORDER) - {"agreement"}, "none")
    assert result["agreement"]["counts"] == {"create": 0, "update": 0, "delete": 0, "none": 6, "failed": 0}
    assert not any(result[name]["changed"] or result[name]["unresolved"] for name in ORDER if name != "agreement")
    assert result["agreement"]["missing_companies"] == [] and "failed_companies" not in result["agreement"]
    assert all("diff" not in result[name] for name in ORDER)
    # One read per object and per reference it names; the companies and their agreements in bulk.
    assert cw.writes() == []
    assert len(cw.calls("GET", "company/companies")) == 1
    assert len(cw.calls("GET", "finance/agreements")) == 1
    assert len(cw.calls("GET")) <= 16, cw.calls("GET")


def test_a_drifted_object_is_predicted_with_its_diff(cw):
    set_up(cw)
    [row] = cw.rows("procurement/catalog")
    cw.client().patch_fields("procurement/catalog", row["id"], {"description": "Changed by hand"})
    cw.log.clear()
    result, failed = predict(cw)
    assert not failed, result["msg"]
    assert result["product"]["operation"] == "update" and result["product"]["changed"]
    assert result["product"]["diff"]["before"] == {"description": "Changed by hand"}
    assert result["product"]["diff"]["after"] == {"description": SETUP["product"]["description"]}
    assert result["product"]["object"]["description"] == SETUP["product"]["description"]
    assert result["changed"] is False and cw.writes() == []
    assert cw.rows("procurement/catalog")[0]["description"] == "Changed by hand"


def test_on_a_first_run_the_objects_the_setup_creates_first_are_placeholders(cw):
    result, failed = predict(cw)
    assert not failed, result["msg"]
    assert {name: result[name]["operation"] for name in ORDER if name != "agreement"} == dict.fromkeys(
        set(ORDER) - {"agreement"}, "create")
    assert result["agreement"]["counts"]["create"] == len(DEMO_COMPANIES)
    assert sorted(ref["option"] for ref in result["cross_reference"]["unresolved"]) == [
        "agreement_type", "integration", "product"]
    assert result["agreement"]["results"][0]["object"]["type"] == {"name": NAME}
    # The create-only start date: the first day of the month before ``today``.
    assert {r["object"]["startDate"] for r in result["agreement"]["results"]} == {"2026-10-01T00:00:00Z"}
    assert any("does not exist yet" in warning for warning in result["agreement"]["warnings"])
    assert cw.writes() == []


def test_customers_without_a_company_or_a_contact_are_predicted_failures_not_a_failure(cw):
    companies = ["AcmeCorp", "Ghost", "NoContactLtd"]
    result, failed = predict(cw, dict(SETUP, agreement=dict(SETUP["agreement"], companies=companies)))
    assert not failed, result["msg"]
    predicted = result["agreement"]
    assert predicted["failed"] is True
    assert predicted["missing_companies"] == ["Ghost"]
    assert sorted(predicted["failed_companies"]) == ["Ghost", "NoContactLtd"]
    assert "no company with this identifier" in predicted["failed_companies"]["Ghost"]
    assert "default contact" in predicted["failed_companies"]["NoContactLtd"]
    assert predicted["msg"].startswith("2 of 3 companies failed: ")
    assert predicted["counts"] == {"create": 1, "update": 0, "delete": 0, "none": 0, "failed": 2}
    assert cw.writes() == []


def test_only_the_objects_given_are_predicted(cw):
    result, failed = predict(cw, {"product": SETUP["product"]})
    assert not failed, result["msg"]
    assert set(result) - {"changed"} == {"product"}
    read = {c[1] for c in cw.calls("GET")}
    assert read <= {"procurement/catalog", "procurement/categories", "procurement/subcategories", "procurement/types"}


@pytest.mark.parametrize("objects, message", [
    ({"product": dict(SETUP["product"], colour="blue")}, "product: Unsupported parameters: colour"),
    ({"product": dict(SETUP["product"], product_class="Gadget")},
     "product: value of product_class must be one of: Agreement, Bundle, Inventory, NonInventory, Service, got: Gadget"),
    ({"agreement_type": {"bill_time": "DoNotBill"}}, "agreement_type: missing required arguments: name"),
    ({"agreement": {"name": NAME, "agreement_type": NAME}},
     "agreement: one of the following is required: company, companies"),
    ({"product": dict(SETUP["product"], category=None)}, "product: missing parameter(s) required by 'subcategory': "
                                                         "category"),
    ({"cross_reference": "SpaceUsage"}, "argument 'cross_reference' is of type str and we were unable to convert "
                                        "to dict"),
], ids=["unknown-option", "bad-choice", "required", "one-of", "required-by", "not-a-dict"])
def test_bad_options_fail_naming_the_object_and_the_option_before_any_request(cw, objects, message):
    # The other objects are good: every object is checked before the first request.
    result, failed = predict(cw, dict(SETUP, **objects))
    assert failed
    assert message in result["msg"], result["msg"]
    assert cw.log == []


def test_an_error_while_predicting_fails_naming_the_object_and_writes_nothing(cw):
    result, failed = predict(cw, dict(SETUP, product=dict(SETUP["product"], identifier="X" * 76)))
    assert failed
    assert result["msg"] == "product: identifier: %r is 76 characters long; ConnectWise allows at most 75" % ("X" * 76)
    # What was predicted before it is returned with the failure.
    assert result["agreement_type"]["operation"] == "create"
    assert cw.writes() == []


def test_at_least_one_object_is_required(cw):
    result, failed = predict(cw, {})
    assert failed and "one of the following is required: management_solution" in result["msg"]
    assert cw.log == []


def test_check_mode_changes_nothing_in_the_prediction(cw):
    set_up(cw)
    real, failed = predict(cw)
    assert not failed, real["msg"]
    checked, failed = predict(cw, check_mode=True)
    assert not failed and checked == real and cw.writes() == []


def test_without_objects_the_predictions_are_the_same_but_the_objects(cw):
    set_up(cw)
    [row] = cw.rows("procurement/catalog")
    cw.client().patch_fields("procurement/catalog", row["id"], {"description": "Changed by hand"})
    full, failed = predict(cw)
    assert not failed, full["msg"]
    lean, failed = predict(cw, dict(SETUP, objects=False))
    assert not failed, lean["msg"]
    for name in ORDER:
        if name == "agreement":
            assert [dict(r, object=None) for r in full[name]["results"]] == lean[name]["results"]
            assert all(r["object"] is None for r in lean[name]["results"])
            assert dict(lean[name], results=None) == dict(full[name], results=None)
        else:
            assert lean[name]["object"] is None and full[name]["object"] is not None
            assert dict(lean[name], object=None) == dict(full[name], object=None)
    assert lean["product"]["diff"] == full["product"]["diff"] and lean["product"]["operation"] == "update"


LICENSE_ITEM = {"identifier": "BackupServer", "description": "MSP360 Server backup license",
                "customer_description": "Backup of one server", "category": "Managed Services",
                "subcategory": "Managed Services", "product_type": "Software", "product_class": "Service",
                "unit_of_measure": "Each", "price": 25.0}


def test_more_catalog_items_are_predicted_each_as_their_module_would(cw):
    items = [LICENSE_ITEM, dict(LICENSE_ITEM, identifier="WasabiStorage", description="Storage on Wasabi",
                                unit_of_measure=None, price=0.08)]
    items[1].pop("unit_of_measure")
    result, failed = predict(cw, dict(SETUP, products=items))
    assert not failed, result
    assert [p["operation"] for p in result["products"]] == ["create", "create"]
    for options, predicted in zip(items, result["products"]):
        expected, _warnings = check_mode_result("product", options)
        assert predicted["operation"] == expected["operation"] and predicted["object"] == expected["object"]
    assert result["product"]["operation"] == "create"
    run_module(product, items[0])
    cw.log.clear()
    again, failed = predict(cw, {"products": items})
    assert not failed and [p["operation"] for p in again["products"]] == ["none", "create"]
    assert set(again) == {"changed", "products"} and again["changed"] is False
    assert cw.writes() == []


def test_a_bad_catalog_item_is_named_by_its_place_before_any_request(cw):
    result, failed = predict(cw, dict(SETUP, products=[LICENSE_ITEM, {"identifier": "X", "colour": "red"}]))
    assert failed and result["msg"].startswith("products[1] (product: Unsupported parameters")
    assert cw.log == []
