from ansible_collections.mbs.connectwise.plugins.modules import management_solution

from ..conftest import API, body, run_module, writes

PATH = API + "company/managementItSolutions"
EXISTING = {"id": 7, "name": "ManagedBackupService", "managementItSolutionType": "Custom",
            "managementSolutionName": "ManagedBackupService", "_info": {"lastUpdated": "x"}}


def test_creates_when_missing(mocked):
    mocked.get(PATH, json=[])
    mocked.post(PATH, json=dict(EXISTING), status=201)
    result, failed = run_module(management_solution, {"name": "ManagedBackupService"})
    assert not failed, result
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["id"] == 7 and "_info" not in result["object"]
    [post] = writes(mocked)
    assert body(post) == {"name": "ManagedBackupService", "managementItSolutionType": "Custom",
                          "managementSolutionName": "ManagedBackupService"}
    query = mocked.calls[0].request.url
    assert "conditions=name+%3D+%22ManagedBackupService%22" in query


def test_second_run_changes_nothing(mocked):
    mocked.get(PATH, json=[EXISTING])
    result, failed = run_module(management_solution, {"name": "ManagedBackupService"})
    assert not failed
    assert not result["changed"] and result["operation"] == "none"
    assert writes(mocked) == []


def test_check_mode_predicts_without_writing(mocked):
    mocked.get(PATH, json=[])
    result, failed = run_module(management_solution, {"name": "ManagedBackupService"},
                                check_mode=True, diff=True)
    assert not failed
    assert result["changed"] and result["operation"] == "create"
    assert result["object"]["id"] is None
    assert result["diff"]["after"]["managementSolutionName"] == "ManagedBackupService"
    assert writes(mocked) == []


def test_update_patches_only_changed_field(mocked):
    mocked.get(PATH, json=[dict(EXISTING, managementSolutionName="Old")])
    mocked.patch(PATH + "/7", json=EXISTING)
    result, failed = run_module(management_solution, {"name": "ManagedBackupService"}, diff=True)
    assert not failed and result["operation"] == "update"
    [patch] = writes(mocked)
    assert body(patch) == [{"op": "replace", "path": "managementSolutionName",
                            "value": "ManagedBackupService"}]
    assert result["diff"]["before"] == {"managementSolutionName": "Old"}


def test_absent_deletes(mocked):
    mocked.get(PATH, json=[EXISTING])
    mocked.delete(PATH + "/7", status=204)
    result, failed = run_module(management_solution, {"name": "ManagedBackupService", "state": "absent"})
    assert not failed and result["operation"] == "delete" and result["changed"]


def test_absent_when_missing_is_no_change(mocked):
    mocked.get(PATH, json=[])
    result, failed = run_module(management_solution, {"name": "Gone", "state": "absent"})
    assert not failed and not result["changed"]
    assert writes(mocked) == []


def test_name_too_long_fails_before_any_request(mocked):
    result, failed = run_module(management_solution, {"name": "x" * 31})
    assert failed
    assert "name" in result["msg"] and "at most 30" in result["msg"]
    assert len(mocked.calls) == 0


def test_ambiguous_match_fails_without_write(mocked):
    mocked.get(PATH, json=[EXISTING, dict(EXISTING, id=8)])
    result, failed = run_module(management_solution, {"name": "ManagedBackupService"})
    assert failed and "ambiguous" in result["msg"] and "7, 8" in result["msg"]
    assert writes(mocked) == []


def test_unauthorized_is_readable_and_secret_free(mocked):
    mocked.get(PATH, status=401, json={"code": "Unauthorized", "message": "Invalid credentials"})
    result, failed = run_module(management_solution, {"name": "ManagedBackupService"})
    assert failed
    assert "401" in result["msg"] and "Invalid credentials" in result["msg"]
    assert "GET" in result["msg"] and "company/managementItSolutions" in result["msg"]
    assert "s3cr3t-private-key" not in repr(result)
    assert result["error"]["status"] == 401


def test_malformed_site_is_refused_before_any_request(mocked):
    result, failed = run_module(management_solution, {"name": "X", "site": "ht!tp://bad host"})
    assert failed and "site" in result["msg"] and "bad host" in result["msg"]
    assert len(mocked.calls) == 0
