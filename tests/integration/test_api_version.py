"""The ConnectWise API version: a current default, an option, and a clear refusal."""

from .conftest import module_play


def play(**options):
    return module_play("company_info", "Read companies", options, play="API version")


def test_default_version_is_accepted(ansible, sandbox):
    run = ansible.playbook(play())
    assert run.rc == 0, run


def test_retired_version_option_fails_naming_the_version_and_the_option(ansible, sandbox):
    run = ansible.playbook(play(api_version="2021.1"))
    assert run.rc != 0, run
    message = run.task("Read companies")["result"]["msg"]
    assert "2021.1" in message and "api_version" in message and "CW_API_VERSION" in message
    assert "does not support the API version '2021.1'" in message


def test_retired_version_from_the_environment_fails_the_same_way(ansible, sandbox):
    run = ansible.playbook(play(), env={"CW_API_VERSION": "2019.4"})
    assert run.rc != 0, run
    message = run.task("Read companies")["result"]["msg"]
    assert "2019.4" in message and "CW_API_VERSION" in message


def test_supported_older_version_from_the_environment_is_accepted(ansible, sandbox):
    run = ansible.playbook(play(), env={"CW_API_VERSION": "2024.1"})
    assert run.rc == 0, run
