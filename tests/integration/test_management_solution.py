"""management_solution through ansible-playbook against the sandbox."""

from .conftest import module_play, writes


def play(name="ManagedBackupService", state="present", **options):
    return module_play("management_solution", "Ensure solution", dict(name=name, state=state, **options),
                       play="Management solution")


def test_create_then_no_change(ansible, sandbox):
    first = ansible.playbook(play())
    assert first.rc == 0, first
    assert first.recap["changed"] == 1
    created = first.task("Ensure solution")["result"]
    assert created["operation"] == "create"
    assert created["object"]["managementItSolutionType"] == "Custom"
    assert created["object"]["managementSolutionName"] == "ManagedBackupService"
    assert len(writes(sandbox)) == 1

    sandbox.clear_journal()
    second = ansible.playbook(play())
    assert second.rc == 0, second
    assert second.recap["changed"] == 0
    assert second.task("Ensure solution")["result"]["operation"] == "none"
    assert writes(sandbox) == []


def test_check_mode_writes_nothing_and_predicts_change(ansible, sandbox):
    run = ansible.playbook(play(), check=True, diff=True)
    assert run.rc == 0, run
    assert run.recap["changed"] == 1
    assert writes(sandbox) == []
    assert "managementSolutionName" in run.stdout  # the diff is shown
    assert run.task("Ensure solution")["result"]["object"]["id"] is None


def test_diff_shows_drift_correction(ansible, sandbox):
    assert ansible.playbook(play()).rc == 0
    sandbox.clear_journal()
    run = ansible.playbook(play(custom_solution_name="Renamed"), diff=True)
    assert run.rc == 0, run
    assert '-    "managementSolutionName": "ManagedBackupService"' in run.stdout
    assert '+    "managementSolutionName": "Renamed"' in run.stdout
    [patch] = writes(sandbox)
    assert patch["method"] == "PATCH"
    assert patch["body"] == [{"op": "replace", "path": "managementSolutionName", "value": "Renamed"}]


def test_absent_removes_and_is_idempotent(ansible, sandbox):
    assert ansible.playbook(play()).rc == 0
    gone = ansible.playbook(play(state="absent"))
    assert gone.rc == 0 and gone.recap["changed"] == 1
    again = ansible.playbook(play(state="absent"))
    assert again.rc == 0 and again.recap["changed"] == 0


def test_wrong_keys_give_a_readable_401_without_the_key(ansible, sandbox):
    run = ansible.playbook(play(), "-vvvv", env={"CW_PRIVATE_KEY": "wrong-private-key"})
    assert run.rc != 0
    failure = run.task("Ensure solution")["result"]
    assert "401" in failure["msg"] and "company/managementItSolutions" in failure["msg"]
    assert "wrong-private-key" not in run.stdout + run.stderr
    assert writes(sandbox) == []


def test_a_password_in_site_is_refused_naming_the_option_and_never_printed(ansible, sandbox):
    secret_site = sandbox.url.replace("http://", "http://admin:Site-Pa55word@")
    run = ansible.playbook(play(), "-vvvv", env={"CW_SITE": secret_site})
    assert run.rc != 0
    msg = run.task("Ensure solution")["result"]["msg"]
    assert msg.startswith("site must not hold a user name or password (http://admin:***@127.0.0.1:")
    assert "Site-Pa55word" not in run.stdout + run.stderr  # nor in the -vvvv invocation
    assert sandbox.journal() == []


def test_plain_http_to_another_machine_is_refused_unless_allowed(ansible, sandbox):
    run = ansible.playbook(play(), env={"CW_SITE": "http://cw.invalid"})
    assert run.rc != 0
    msg = run.task("Ensure solution")["result"]["msg"]
    assert "site http://cw.invalid uses plain HTTP" in msg and "allow_http" in msg
    allowed = ansible.playbook(play(), env={"CW_SITE": "http://cw.invalid", "CW_ALLOW_HTTP": "true"})
    assert allowed.rc != 0
    assert "plain HTTP" not in allowed.task("Ensure solution")["result"]["msg"]  # let through: the host is unknown


def test_name_too_long_is_refused_before_any_request(ansible, sandbox):
    run = ansible.playbook(play(name="N" * 31))
    assert run.rc != 0
    assert "at most 30" in run.task("Ensure solution")["result"]["msg"]
    assert sandbox.journal() == []


def test_unknown_site_fails_clearly(ansible, sandbox):
    run = ansible.playbook(play(), env={"CW_SITE": "cw.invalid"})
    assert run.rc != 0
    assert "cw.invalid" in run.task("Ensure solution")["result"]["msg"]


def test_malformed_site_fails_clearly(ansible, sandbox):
    run = ansible.playbook(play(), env={"CW_SITE": "http//broken site"})
    assert run.rc != 0
    assert "site" in run.task("Ensure solution")["result"]["msg"]
