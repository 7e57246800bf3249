from ansible_collections.mbs.connectwise.plugins.modules import product

from ..conftest import API, body, run_module, writes
from .helpers import conditions

PATH = API + "procurement/catalog"
CATEGORIES = API + "procurement/categories"
SUBCATEGORIES = API + "procurement/subcategories"
TYPES = API + "procurement/types"
UOMS = API + "procurement/unitOfMeasures"

GUIDE = {
    "identifier": "OnlineBackup",
    "description": "MBS Backup for Windows",
    "customer_description": "Managed Backup Service provides a reliable backup solution.",
    "category": "Managed Services",
    "subcategory": "Managed Services",
    "product_type": "Software",
    "product_class": "Service",
}
EXISTING = {"id": 12, "identifier": "OnlineBackup", "description": "MBS Backup for Windows",
            "customerDescription": "Managed Backup Service provides a reliable backup solution.",
            "category": {"id": 3, "name": "Managed Services"},
            "subcategory": {"id": 5, "name": "Managed Services"},
            "type": {"id": 2, "name": "Software"}, "productClass": "Service",
            "price": 0.05, "cost": 0.01, "unitOfMeasure": {"id": 1, "name": "Each"},
            "taxableFlag": False, "inactiveFlag": False, "_info": {"lastUpdated": "x"}}


def mock_references(mocked):
    mocked.get(CATEGORIES, json=[{"id": 3, "name": "Managed Services"}])
    mocked.get(SUBCATEGORIES, json=[{"id": 5, "name": "Managed Services", "category": {"id": 3}}])
    mocked.get(TYPES, json=[{"id": 2, "name": "Software"}])
    mocked.get(UOMS, json=[{"id": 1, "name": "Each"}])


def test_creates_the_guides_product(mocked):
    mocked.get(PATH, json=[])
    mock_references(mocked)
    mocked.post(PATH, json=dict(EXISTING), status=201)
    result, failed = run_module(product, dict(GUIDE, price=0.05, cost=0.01, unit_of_measure="Each",
                                              taxable=False))
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["id"] == 12 and "_info" not in result["object"]
    [post] = writes(mocked)
    assert post.url == PATH
    assert body(post) == {
        "identifier": "OnlineBackup", "description": "MBS Backup for Windows",
        "customerDescription": "Managed Backup Service provides a reliable backup solution.",
        "category": {"id": 3}, "subcategory": {"id": 5}, "type": {"id": 2}, "productClass": "Service",
        "price": 0.05, "cost": 0.01, "unitOfMeasure": {"id": 1}, "taxableFlag": False}
    assert conditions(mocked, PATH) == ['identifier = "OnlineBackup"'] * 2  # find, and the re-read after the create
    assert conditions(mocked, CATEGORIES) == ['name = "Managed Services"']
    # The subcategory is looked up within its category.
    assert conditions(mocked, SUBCATEGORIES) == ['(category/id = 3) and (name = "Managed Services")']
    assert conditions(mocked, TYPES) == ['name = "Software"']
    assert conditions(mocked, UOMS) == ['name = "Each"']


def test_second_run_changes_nothing(mocked):
    mocked.get(PATH, json=[EXISTING])
    mock_references(mocked)
    result, failed = run_module(product, dict(GUIDE, price=0.05, cost=0.01, unit_of_measure="Each"))
    assert not failed, result
    assert not result["changed"] and result["operation"] == "none"
    assert writes(mocked) == []


def test_update_patches_only_the_price(mocked):
    mocked.get(PATH, json=[EXISTING])
    mock_references(mocked)
    mocked.patch(PATH + "/12", json=dict(EXISTING, price=0.07))
    result, failed = run_module(product, dict(GUIDE, price=0.07), diff=True)
    assert not failed, result
    assert result["operation"] == "update"
    [patch] = writes(mocked)
    assert patch.method == "PATCH" and patch.url == PATH + "/12"
    assert body(patch) == [{"op": "replace", "path": "price", "value": 0.07}]
    assert result["diff"]["before"] == {"price": 0.05}
    assert result["diff"]["after"] == {"price": 0.07}


def test_update_needs_no_create_only_fields(mocked):
    mocked.get(PATH, json=[EXISTING])
    mocked.patch(PATH + "/12", json=dict(EXISTING, inactiveFlag=True))
    result, failed = run_module(product, {"identifier": "OnlineBackup", "inactive": True})
    assert not failed, result
    [patch] = writes(mocked)
    assert body(patch) == [{"op": "replace", "path": "inactiveFlag", "value": True}]


def test_update_of_subcategory_reference(mocked):
    mocked.get(PATH, json=[EXISTING])
    mocked.get(CATEGORIES, json=[{"id": 3, "name": "Managed Services"}])
    mocked.get(SUBCATEGORIES, json=[{"id": 6, "name": "Backup", "category": {"id": 3}}])
    mocked.patch(PATH + "/12", json=dict(EXISTING, subcategory={"id": 6, "name": "Backup"}))
    result, failed = run_module(product, {"identifier": "OnlineBackup", "category": "Managed Services",
                                          "subcategory": "Backup"})
    assert not failed, result
    [patch] = writes(mocked)
    assert body(patch) == [{"op": "replace", "path": "subcategory", "value": {"id": 6}}]


def test_create_without_required_fields_fails_naming_them(mocked):
    mocked.get(PATH, json=[])
    result, failed = run_module(product, {"identifier": "OnlineBackup", "description": "MBS Backup"})
    assert failed
    assert "OnlineBackup" in result["msg"]
    assert "customer_description, subcategory, product_type" in result["msg"]
    assert "description," not in result["msg"].replace("customer_description,", "")
    assert writes(mocked) == []


def test_create_without_required_fields_fails_in_check_mode_too(mocked):
    mocked.get(PATH, json=[])
    mocked.get(TYPES, json=[{"id": 2, "name": "Software"}])
    result, failed = run_module(product, {"identifier": "OnlineBackup", "product_type": "Software"},
                                check_mode=True)
    assert failed
    assert "description, customer_description, subcategory" in result["msg"]
    assert writes(mocked) == []


def test_check_mode_predicts_create_without_writing(mocked):
    mocked.get(PATH, json=[])
    mock_references(mocked)
    result, failed = run_module(product, GUIDE, check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["id"] is None
    assert result["object"]["subcategory"] == {"id": 5}
    assert result["diff"]["after"]["identifier"] == "OnlineBackup"
    assert writes(mocked) == []


def test_check_mode_with_missing_category_warns_and_predicts(mocked, warned):
    mocked.get(PATH, json=[])
    mocked.get(CATEGORIES, json=[])
    mocked.get(TYPES, json=[{"id": 2, "name": "Software"}])
    result, failed = run_module(product, GUIDE, check_mode=True)
    assert not failed, result
    assert result["operation"] == "create"
    assert any("product category 'Managed Services'" in w for w in warned())
    # Without a category id the subcategory cannot be looked up yet.
    assert conditions(mocked, SUBCATEGORIES) == []
    assert writes(mocked) == []


def test_unknown_subcategory_fails_naming_it(mocked):
    mocked.get(PATH, json=[])
    mocked.get(CATEGORIES, json=[{"id": 3, "name": "Managed Services"}])
    mocked.get(SUBCATEGORIES, json=[])
    mocked.get(TYPES, json=[{"id": 2, "name": "Software"}])
    result, failed = run_module(product, dict(GUIDE, subcategory="Nope"))
    assert failed
    assert "subcategory" in result["msg"] and "'Nope'" in result["msg"]
    assert writes(mocked) == []


def test_ambiguous_product_type_fails_without_write(mocked):
    mocked.get(PATH, json=[])
    mocked.get(CATEGORIES, json=[{"id": 3, "name": "Managed Services"}])
    mocked.get(SUBCATEGORIES, json=[{"id": 5, "name": "Managed Services", "category": {"id": 3}}])
    mocked.get(TYPES, json=[{"id": 2, "name": "Software"}, {"id": 7, "name": "Software"}])
    result, failed = run_module(product, GUIDE)
    assert failed and "product_type" in result["msg"] and "matches 2" in result["msg"]
    assert writes(mocked) == []


def test_ambiguous_product_fails_without_write(mocked):
    mocked.get(PATH, json=[EXISTING, dict(EXISTING, id=13)])
    mock_references(mocked)
    result, failed = run_module(product, GUIDE)
    assert failed and "ambiguous" in result["msg"] and "12, 13" in result["msg"]
    assert writes(mocked) == []


def test_subcategory_without_category_is_refused_before_any_request(mocked):
    result, failed = run_module(product, {"identifier": "OnlineBackup", "subcategory": "Managed Services"})
    assert failed and "category" in result["msg"]
    assert len(mocked.calls) == 0


def test_identifier_too_long_fails_before_any_request(mocked):
    # ConnectWise's 2025.8 schema allows 75 characters (older schemas said 60).
    result, failed = run_module(product, dict(GUIDE, identifier="x" * 76))
    assert failed and "identifier" in result["msg"] and "at most 75" in result["msg"]
    assert len(mocked.calls) == 0


def test_description_too_long_fails_before_any_request(mocked):
    result, failed = run_module(product, dict(GUIDE, description="d" * 61))
    assert failed and "description" in result["msg"] and "at most 60" in result["msg"]
    assert len(mocked.calls) == 0


def test_absent_deletes(mocked):
    mocked.get(PATH, json=[EXISTING])
    mocked.get(API + "finance/agreements", json=[])  # no agreement, so no addition
    mocked.get(API + "company/managedDevicesIntegrations", json=[])  # no cross-reference
    mocked.delete(PATH + "/12", status=204)
    result, failed = run_module(product, {"identifier": "OnlineBackup", "state": "absent"})
    assert not failed, result
    assert result["changed"] and result["operation"] == "delete"
    [delete] = writes(mocked)
    assert delete.method == "DELETE" and delete.url == PATH + "/12"


def test_absent_when_missing_is_no_change(mocked):
    mocked.get(PATH, json=[])
    result, failed = run_module(product, {"identifier": "Gone", "state": "absent"})
    assert not failed and not result["changed"]
    assert writes(mocked) == []
