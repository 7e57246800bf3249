from ansible_collections.mbs.connectwise.plugins.modules import managed_devices_integration as mdi

from ..conftest import API, body, run_module, writes
from .helpers import conditions

PATH = API + "company/managedDevicesIntegrations"
LOGINS = API + "system/integratorlogins"
LOGIN = {"id": 1, "username": "mbs-integrator", "inactiveFlag": False, "_info": {}}
OTHER_LOGIN = {"id": 2, "username": "other-login", "inactiveFlag": False, "_info": {}}
EXISTING = {"id": 6, "name": "ManagedBackupService", "solution": "ManagedBackupService",
            "loginBy": "Global", "defaultBillingLevel": "Summary",
            "integratorLogin": {"id": 1, "name": "mbs-integrator"}, "_info": {"lastUpdated": "x"}}
GUIDE = {"name": "ManagedBackupService", "integrator_login": "mbs-integrator"}


def test_creates_as_the_guide_does(mocked):
    mocked.get(PATH, json=[])
    mocked.get(LOGINS, json=[LOGIN])
    mocked.post(PATH, json=dict(EXISTING), status=201)
    result, failed = run_module(mdi, GUIDE)
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["id"] == 6 and "_info" not in result["object"]
    [post] = writes(mocked)
    assert post.url == PATH
    assert body(post) == {"name": "ManagedBackupService", "solution": "ManagedBackupService",
                          "integratorLogin": {"id": 1}, "loginBy": "Global", "defaultBillingLevel": "Summary"}
    assert conditions(mocked, PATH) == ['name = "ManagedBackupService"'] * 2  # find, and the re-read after the create
    assert conditions(mocked, LOGINS) == ['username = "mbs-integrator"']


def test_given_options_are_sent_on_create(mocked):
    mocked.get(PATH, json=[])
    mocked.post(PATH, json=dict(EXISTING), status=201)
    result, failed = run_module(mdi, {"name": "Backup", "solution": "BackupSolution", "login_by": "Member",
                                      "default_billing_level": "Detail", "portal_url": "https://portal"})
    assert not failed, result
    [post] = writes(mocked)
    assert body(post) == {"name": "Backup", "solution": "BackupSolution", "loginBy": "Member",
                          "defaultBillingLevel": "Detail", "portalUrl": "https://portal"}


def test_second_run_changes_nothing(mocked):
    mocked.get(PATH, json=[EXISTING])
    mocked.get(LOGINS, json=[LOGIN])
    result, failed = run_module(mdi, GUIDE)
    assert not failed, result
    assert not result["changed"] and result["operation"] == "none"
    assert writes(mocked) == []


def test_create_defaults_are_not_compared(mocked):
    mocked.get(PATH, json=[dict(EXISTING, loginBy="Member", defaultBillingLevel="Detail")])
    result, failed = run_module(mdi, {"name": "ManagedBackupService"})
    assert not failed, result
    assert not result["changed"]
    assert writes(mocked) == []


def test_update_patches_only_the_integrator_login(mocked):
    mocked.get(PATH, json=[EXISTING])
    mocked.get(LOGINS, json=[OTHER_LOGIN])
    mocked.patch(PATH + "/6", json=dict(EXISTING, integratorLogin={"id": 2, "name": "other-login"}))
    result, failed = run_module(mdi, dict(GUIDE, integrator_login="other-login"), diff=True)
    assert not failed, result
    assert result["operation"] == "update"
    [patch] = writes(mocked)
    assert patch.method == "PATCH" and patch.url == PATH + "/6"
    assert body(patch) == [{"op": "replace", "path": "integratorLogin", "value": {"id": 2}}]
    assert result["diff"]["after"] == {"integratorLogin": {"id": 2}}


def test_solution_defaults_to_name_on_create_only(mocked):
    # ConnectWise may hold another solution (changed in its UI): a run that does not give
    # solution leaves it alone instead of PATCHing it back to the name every time.
    mocked.get(PATH, json=[dict(EXISTING, solution="Other")])
    result, failed = run_module(mdi, {"name": "ManagedBackupService"}, diff=True)
    assert not failed, result
    assert not result["changed"] and result["operation"] == "none"
    assert writes(mocked) == []


def test_given_solution_is_compared(mocked):
    mocked.get(PATH, json=[dict(EXISTING, solution="Other")])
    mocked.patch(PATH + "/6", json=EXISTING)
    result, failed = run_module(mdi, {"name": "ManagedBackupService", "solution": "ManagedBackupService"},
                                diff=True)
    assert not failed, result
    [patch] = writes(mocked)
    assert body(patch) == [{"op": "replace", "path": "solution", "value": "ManagedBackupService"}]
    assert result["diff"]["before"] == {"solution": "Other"}


def test_check_mode_predicts_create_without_writing(mocked):
    mocked.get(PATH, json=[])
    mocked.get(LOGINS, json=[LOGIN])
    result, failed = run_module(mdi, GUIDE, check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["id"] is None
    assert result["diff"]["after"] == {"name": "ManagedBackupService", "solution": "ManagedBackupService",
                                       "integratorLogin": {"id": 1}, "loginBy": "Global",
                                       "defaultBillingLevel": "Summary"}
    assert writes(mocked) == []


def test_check_mode_predicts_update_without_writing(mocked):
    mocked.get(PATH, json=[EXISTING])
    result, failed = run_module(mdi, {"name": "ManagedBackupService", "login_by": "Member"},
                                check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] and result["operation"] == "update"
    assert result["object"]["loginBy"] == "Member"
    assert result["diff"]["before"] == {"loginBy": "Global"}
    assert writes(mocked) == []


def test_unknown_integrator_login_fails_naming_it(mocked):
    mocked.get(PATH, json=[])
    mocked.get(LOGINS, json=[])
    result, failed = run_module(mdi, dict(GUIDE, integrator_login="nobody"))
    assert failed
    assert "integrator login" in result["msg"] and "'nobody'" in result["msg"]
    assert writes(mocked) == []


def test_unknown_integrator_login_in_check_mode_warns(mocked, warned):
    mocked.get(PATH, json=[])
    mocked.get(LOGINS, json=[])
    result, failed = run_module(mdi, dict(GUIDE, integrator_login="nobody"), check_mode=True)
    assert not failed, result
    assert result["operation"] == "create"
    assert any("integrator login 'nobody'" in w for w in warned())
    assert writes(mocked) == []


def test_ambiguous_integrator_login_fails(mocked):
    mocked.get(PATH, json=[])
    mocked.get(LOGINS, json=[LOGIN, dict(LOGIN, id=3)])
    result, failed = run_module(mdi, GUIDE)
    assert failed and "integrator_login" in result["msg"] and "matches 2" in result["msg"]
    assert writes(mocked) == []


def test_ambiguous_integration_fails_without_write(mocked):
    mocked.get(PATH, json=[EXISTING, dict(EXISTING, id=7)])
    mocked.get(LOGINS, json=[LOGIN])
    result, failed = run_module(mdi, GUIDE)
    assert failed and "ambiguous" in result["msg"] and "6, 7" in result["msg"]
    assert writes(mocked) == []


def test_name_too_long_fails_before_any_request(mocked):
    result, failed = run_module(mdi, {"name": "x" * 31})
    assert failed and "name" in result["msg"] and "at most 30" in result["msg"]
    assert len(mocked.calls) == 0


def test_solution_too_long_fails_before_any_request(mocked):
    result, failed = run_module(mdi, {"name": "Backup", "solution": "s" * 31})
    assert failed and "solution" in result["msg"] and "at most 30" in result["msg"]
    assert len(mocked.calls) == 0


def test_portal_url_too_long_fails_before_any_request(mocked):
    result, failed = run_module(mdi, {"name": "Backup", "portal_url": "u" * 201})
    assert failed and "portal_url" in result["msg"] and "at most 200" in result["msg"]
    assert len(mocked.calls) == 0


def test_absent_deletes(mocked):
    mocked.get(PATH, json=[EXISTING])
    mocked.get(PATH + "/6/crossReferences", json=[])
    mocked.delete(PATH + "/6", status=204)
    result, failed = run_module(mdi, {"name": "ManagedBackupService", "state": "absent"})
    assert not failed, result
    assert result["changed"] and result["operation"] == "delete"
    [delete] = writes(mocked)
    assert delete.method == "DELETE" and delete.url == PATH + "/6"


def test_absent_when_missing_is_no_change(mocked):
    mocked.get(PATH, json=[])
    result, failed = run_module(mdi, {"name": "Gone", "state": "absent"})
    assert not failed and not result["changed"]
    assert writes(mocked) == []
