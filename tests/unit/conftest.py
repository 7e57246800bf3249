"""Shared unit-test helpers: a client wired to ``responses``, the in-process sandbox and a module runner."""

import json

import pytest
import responses

from ansible.module_utils import _internal, basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.mbs.connectwise.plugins.module_utils.client import ConnectWiseClient
from ansible_collections.mbs.connectwise.plugins.module_utils import transport
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import RetryPolicy

SITE = "https://cw.example.test"
API = SITE + "/v4_6_release/apis/3.0/"
CONNECTION = {
    "site": SITE,
    "company_id": "acme",
    "public_key": "pub",
    "private_key": "s3cr3t-private-key",
    "client_id": "client-guid",
    "codebase": "v4_6_release/",
}


def no_sleep_policy(**kwargs):
    kwargs.setdefault("sleep", lambda seconds: None)
    return RetryPolicy(**kwargs)


@pytest.fixture(autouse=True)
def module_side(monkeypatch):
    """Run every unit test as the module side of Ansible.

    Importing controller code anywhere in the session (the integration tests' filter imports,
    ``ansible.errors``) flips the process-wide ``is_controller`` switch, which reroutes module
    warnings to the display, where the module tests cannot read them. Tests that need the
    controller side set it back themselves.
    """
    monkeypatch.setattr(_internal, "is_controller", False)
    # A module run builds its own client, whose retries and settle re-reads would really sleep.
    init = transport.RetryPolicy.__init__

    def never_sleeping(self, *args, **kwargs):
        kwargs.setdefault("sleep", lambda seconds: None)
        init(self, *args, **kwargs)
    monkeypatch.setattr(transport.RetryPolicy, "__init__", never_sleeping)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def client(mocked):
    return ConnectWiseClient(retry=no_sleep_policy(), **CONNECTION)


@pytest.fixture
def connectwise(monkeypatch):
    """An empty in-process sandbox ConnectWise that every client the test builds talks to.

    See ``sandbox_client.py``; run modules against it with ``sandbox_client.run_module``.
    """
    from .sandbox_client import SandboxConnectWise
    sandbox = SandboxConnectWise()
    sandbox.route_every_session(monkeypatch)
    return sandbox


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get("msg"))
        self.result = result
        self.failed = failed


def run_module(module, args, check_mode=False, diff=False, monkeypatch=None, connection=None):
    """Run a module's main() in-process and return (result, failed)."""
    params = dict(CONNECTION if connection is None else connection)
    params.update(args)
    params["_ansible_check_mode"] = check_mode
    params["_ansible_diff"] = diff
    params["_ansible_remote_tmp"] = "/tmp"
    params["_ansible_keep_remote_files"] = False
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": params}))
    basic._ANSIBLE_PROFILE = "legacy"

    def exit_json(self, **kwargs):
        kwargs.setdefault("changed", False)
        raise ModuleExit(kwargs, False)

    def fail_json(self, **kwargs):
        raise ModuleExit(kwargs, True)

    original = (basic.AnsibleModule.exit_json, basic.AnsibleModule.fail_json)
    basic.AnsibleModule.exit_json = exit_json
    basic.AnsibleModule.fail_json = fail_json
    try:
        module.main()
    except ModuleExit as done:
        return done.result, done.failed
    finally:
        basic.AnsibleModule.exit_json, basic.AnsibleModule.fail_json = original
    raise AssertionError("module did not exit")


def writes(rsps):
    return [c.request for c in rsps.calls if c.request.method in ("POST", "PUT", "PATCH", "DELETE")]


def body(request):
    return json.loads(request.body)
