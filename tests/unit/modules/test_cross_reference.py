from ansible_collections.mbs.connectwise.plugins.modules import cross_reference

from ..conftest import API, body, run_module, writes
from .helpers import conditions

INTEGRATIONS = API + "company/managedDevicesIntegrations"
PATH = INTEGRATIONS + "/5/crossReferences"
AGREEMENT_TYPES = API + "finance/agreements/types"
CATALOG = API + "procurement/catalog"
CONFIG_TYPES = API + "company/configurations/types"

INTEGRATION = {"id": 5, "name": "ManagedBackupService", "_info": {}}
GUIDE = {"integration": "ManagedBackupService", "type": "SpaceUsage", "level": "HighLevel",
         "agreement_type": "ManagedBackupService", "product": "OnlineBackup",
         "configuration_type": "Backup Stats"}
EXISTING = {"id": 9, "vendorType": "SpaceUsage", "vendorLevel": "HighLevel",
            "managedDevicesIntegration": {"id": 5, "name": "ManagedBackupService"},
            "agreementType": {"id": 4, "name": "ManagedBackupService"},
            "product": {"id": 12, "identifier": "OnlineBackup"},
            "configurationType": {"id": 3, "name": "Backup Stats"},
            "inactiveFlag": False, "_info": {"lastUpdated": "x"}}
KEY_CONDITIONS = '(vendorLevel = "HighLevel") and (vendorType = "SpaceUsage")'


def mock_references(mocked, integration=True, config_type=True):
    mocked.get(INTEGRATIONS, json=[INTEGRATION] if integration else [])
    mocked.get(AGREEMENT_TYPES, json=[{"id": 4, "name": "ManagedBackupService"}])
    mocked.get(CATALOG, json=[{"id": 12, "identifier": "OnlineBackup"}])
    mocked.get(CONFIG_TYPES, json=[{"id": 3, "name": "Backup Stats"}] if config_type else [])


def test_creates_the_guides_cross_reference(mocked):
    mock_references(mocked)
    mocked.get(PATH, json=[])
    mocked.post(PATH, json=dict(EXISTING), status=201)
    result, failed = run_module(cross_reference, GUIDE)
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["id"] == 9 and "_info" not in result["object"]
    [post] = writes(mocked)
    assert post.url == PATH
    assert body(post) == {"vendorType": "SpaceUsage", "vendorLevel": "HighLevel",
                          "agreementType": {"id": 4}, "product": {"id": 12}, "configurationType": {"id": 3}}
    assert conditions(mocked, INTEGRATIONS) == ['name = "ManagedBackupService"']
    assert conditions(mocked, AGREEMENT_TYPES) == ['name = "ManagedBackupService"']
    assert conditions(mocked, CATALOG) == ['identifier = "OnlineBackup"']
    assert conditions(mocked, CONFIG_TYPES) == ['name = "Backup Stats"']
    assert conditions(mocked, PATH) == [KEY_CONDITIONS] * 2  # find, and the re-read after the create


def test_second_run_changes_nothing(mocked):
    mock_references(mocked)
    mocked.get(PATH, json=[EXISTING])
    result, failed = run_module(cross_reference, GUIDE)
    assert not failed, result
    assert not result["changed"] and result["operation"] == "none"
    assert writes(mocked) == []


def test_update_patches_only_the_product(mocked):
    mock_references(mocked)
    mocked.replace("GET", CATALOG, json=[{"id": 13, "identifier": "OnlineBackupV2"}])
    mocked.get(PATH, json=[EXISTING])
    mocked.patch(PATH + "/9", json=dict(EXISTING, product={"id": 13, "identifier": "OnlineBackupV2"}))
    result, failed = run_module(cross_reference, dict(GUIDE, product="OnlineBackupV2"), diff=True)
    assert not failed, result
    assert result["operation"] == "update"
    [patch] = writes(mocked)
    assert patch.method == "PATCH" and patch.url == PATH + "/9"
    assert body(patch) == [{"op": "replace", "path": "product", "value": {"id": 13}}]
    assert result["diff"]["before"] == {"product": {"id": 12, "identifier": "OnlineBackup"}}
    assert result["diff"]["after"] == {"product": {"id": 13}}


def test_update_of_an_existing_row_needs_neither_type(mocked):
    mocked.get(INTEGRATIONS, json=[INTEGRATION])
    mocked.get(PATH, json=[EXISTING])
    mocked.patch(PATH + "/9", json=dict(EXISTING, inactiveFlag=True))
    result, failed = run_module(cross_reference, {"integration": "ManagedBackupService", "type": "SpaceUsage",
                                                  "level": "HighLevel", "inactive": True})
    assert not failed, result
    [patch] = writes(mocked)
    assert body(patch) == [{"op": "replace", "path": "inactiveFlag", "value": True}]


def test_create_without_agreement_type_or_configuration_type_fails(mocked):
    mocked.get(INTEGRATIONS, json=[INTEGRATION])
    mocked.get(CATALOG, json=[{"id": 12, "identifier": "OnlineBackup"}])
    mocked.get(PATH, json=[])
    result, failed = run_module(cross_reference, {"integration": "ManagedBackupService", "type": "SpaceUsage",
                                                  "level": "HighLevel", "product": "OnlineBackup"})
    assert failed
    assert "agreement_type or configuration_type" in result["msg"]
    assert writes(mocked) == []


def test_configuration_type_alone_is_enough_to_create(mocked):
    mocked.get(INTEGRATIONS, json=[INTEGRATION])
    mocked.get(CONFIG_TYPES, json=[{"id": 3, "name": "Backup Stats"}])
    mocked.get(PATH, json=[])
    mocked.post(PATH, json=dict(EXISTING), status=201)
    result, failed = run_module(cross_reference, {"integration": "ManagedBackupService", "type": "SpaceUsage",
                                                  "level": "HighLevel", "configuration_type": "Backup Stats"})
    assert not failed, result
    [post] = writes(mocked)
    assert body(post) == {"vendorType": "SpaceUsage", "vendorLevel": "HighLevel", "configurationType": {"id": 3}}


def test_missing_backup_stats_fails_naming_it(mocked):
    mock_references(mocked, config_type=False)
    mocked.get(PATH, json=[])
    result, failed = run_module(cross_reference, GUIDE)
    assert failed
    assert "configuration type" in result["msg"] and "'Backup Stats'" in result["msg"]
    assert writes(mocked) == []


def test_missing_backup_stats_in_check_mode_warns_and_predicts(mocked, warned):
    mock_references(mocked, config_type=False)
    mocked.get(PATH, json=[])
    result, failed = run_module(cross_reference, GUIDE, check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["configurationType"] == {"name": "Backup Stats"}
    assert any("configuration type 'Backup Stats'" in w for w in warned())
    assert writes(mocked) == []


def test_check_mode_predicts_create_without_writing(mocked):
    mock_references(mocked)
    mocked.get(PATH, json=[])
    result, failed = run_module(cross_reference, GUIDE, check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["id"] is None
    assert result["diff"]["after"] == {"vendorType": "SpaceUsage", "vendorLevel": "HighLevel",
                                       "agreementType": {"id": 4}, "product": {"id": 12},
                                       "configurationType": {"id": 3}}
    assert result["diff"]["before_header"] == "cross-reference SpaceUsage HighLevel"
    assert writes(mocked) == []


def test_check_mode_predicts_update_without_writing(mocked):
    mock_references(mocked)
    mocked.get(PATH, json=[EXISTING])
    result, failed = run_module(cross_reference, dict(GUIDE, inactive=True), check_mode=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "update"
    assert result["object"]["inactiveFlag"] is True
    assert writes(mocked) == []


def test_missing_integration_in_check_mode_predicts_create(mocked, warned):
    mock_references(mocked, integration=False)
    result, failed = run_module(cross_reference, GUIDE, check_mode=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert any("managed devices integration 'ManagedBackupService'" in w for w in warned())
    # No integration id, so its cross-references are not read.
    assert [c for c in mocked.calls if "crossReferences" in c.request.url] == []
    assert writes(mocked) == []


def test_missing_integration_fails_naming_it(mocked):
    mock_references(mocked, integration=False)
    result, failed = run_module(cross_reference, GUIDE)
    assert failed
    assert "integration" in result["msg"] and "'ManagedBackupService'" in result["msg"]
    assert "managed devices integration" in result["msg"]
    assert writes(mocked) == []


def test_unknown_agreement_type_fails_naming_it(mocked):
    mock_references(mocked)
    mocked.replace("GET", AGREEMENT_TYPES, json=[])
    result, failed = run_module(cross_reference, dict(GUIDE, agreement_type="Nope"))
    assert failed and "agreement_type" in result["msg"] and "'Nope'" in result["msg"]
    assert writes(mocked) == []


def test_ambiguous_product_fails_without_write(mocked):
    mock_references(mocked)
    mocked.replace("GET", CATALOG, json=[{"id": 12, "identifier": "OnlineBackup"},
                                         {"id": 14, "identifier": "OnlineBackup"}])
    result, failed = run_module(cross_reference, GUIDE)
    assert failed and "product" in result["msg"] and "matches 2" in result["msg"]
    assert writes(mocked) == []


def test_ambiguous_cross_reference_fails_without_write(mocked):
    mock_references(mocked)
    mocked.get(PATH, json=[EXISTING, dict(EXISTING, id=10)])
    result, failed = run_module(cross_reference, GUIDE)
    assert failed and "ambiguous" in result["msg"] and "9, 10" in result["msg"]
    assert writes(mocked) == []


def test_type_too_long_fails_before_any_request(mocked):
    result, failed = run_module(cross_reference, dict(GUIDE, type="t" * 256))
    assert failed and "type" in result["msg"] and "at most 255" in result["msg"]
    assert len(mocked.calls) == 0


def test_level_is_required(mocked):
    args = dict(GUIDE)
    del args["level"]
    result, failed = run_module(cross_reference, args)
    assert failed and "level" in result["msg"]
    assert len(mocked.calls) == 0


def test_absent_deletes(mocked):
    mocked.get(INTEGRATIONS, json=[INTEGRATION])
    mocked.get(PATH, json=[EXISTING])
    mocked.delete(PATH + "/9", status=204)
    result, failed = run_module(cross_reference, {"integration": "ManagedBackupService", "type": "SpaceUsage",
                                                  "level": "HighLevel", "state": "absent"})
    assert not failed, result
    assert result["changed"] and result["operation"] == "delete"
    [delete] = writes(mocked)
    assert delete.method == "DELETE" and delete.url == PATH + "/9"


def test_absent_when_missing_is_no_change(mocked):
    mocked.get(INTEGRATIONS, json=[INTEGRATION])
    mocked.get(PATH, json=[])
    result, failed = run_module(cross_reference, {"integration": "ManagedBackupService", "type": "SpaceUsage",
                                                  "level": "LowLevel", "state": "absent"})
    assert not failed and not result["changed"]
    assert writes(mocked) == []


def test_absent_when_the_integration_is_missing_is_no_change(mocked):
    mocked.get(INTEGRATIONS, json=[])
    result, failed = run_module(cross_reference, {"integration": "Gone", "type": "SpaceUsage",
                                                  "level": "HighLevel", "state": "absent"})
    assert not failed, result
    assert not result["changed"] and result["operation"] == "none"
    assert conditions(mocked, INTEGRATIONS) == ['name = "Gone"']
    assert writes(mocked) == []
