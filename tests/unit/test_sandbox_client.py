"""The in-process route from the collection's client to the sandbox (``sandbox_client.py``)."""

import pytest
import yaml

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import AuthenticationError, OutcomeUnknown
from ansible_collections.mbs.connectwise.plugins.modules import company_info

from tests.sandbox.fixtures import load_fixture

from .sandbox_client import SandboxConnectWise, SeedError, run_module

COMPANIES = "company/companies"


def test_a_client_the_code_builds_itself_reaches_the_sandbox(connectwise):
    connectwise.add(COMPANIES, identifier="Acme", name="Acme Inc")
    result, failed = run_module(company_info, {"identifiers": ["acme"]})
    assert not failed and [c["name"] for c in result["companies"]] == ["Acme Inc"]
    [entry] = connectwise.app.journal_entries()
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", COMPANIES, 200)
    assert connectwise.log == [("GET", COMPANIES, entry["query"])]


def test_pages_are_followed_through_the_https_links_of_the_site():
    cw = SandboxConnectWise(max_page_size=2)
    for n in range(5):
        cw.add(COMPANIES, identifier="C%d" % n, name="Company %d" % n)
    read = cw.client().list(COMPANIES, order_by="identifier asc")
    assert [c["identifier"] for c in read] == ["C0", "C1", "C2", "C3", "C4"]
    assert [q["page"] for _m, _p, q in cw.calls("GET", COMPANIES)] == ["1", "2", "3"]


def test_the_sandbox_checks_the_keys():
    with pytest.raises(AuthenticationError):
        SandboxConnectWise().client(private_key="wrong").get(COMPANIES)


def test_a_dropped_answer_is_an_unknown_outcome_and_the_row_exists():
    cw = SandboxConnectWise()
    cw.app.faults.add([{"method": "POST", "path": "companies", "drop_after_commit": True, "count": 1}])
    with pytest.raises(OutcomeUnknown):
        cw.client().create(COMPANIES, {"identifier": "Acme", "name": "Acme Inc"})
    assert [c["identifier"] for c in cw.rows(COMPANIES)] == ["Acme"]


def test_refuse_answers_instead_of_the_sandbox_and_after_runs_once_it_committed():
    cw = SandboxConnectWise()
    seen = []
    cw.refuse = lambda method, path, body: (503, {"code": "Unavailable"}) if body["identifier"] == "No" else None
    cw.after = lambda method, path, body: seen.append(len(cw.rows(COMPANIES)))
    client = cw.client()
    client.create(COMPANIES, {"identifier": "Yes", "name": "Yes Inc"})
    with pytest.raises(OutcomeUnknown):
        client.create(COMPANIES, {"identifier": "No", "name": "No Inc"})
    assert [c["identifier"] for c in cw.rows(COMPANIES)] == ["Yes"] and seen == [1]
    assert [(m, b["identifier"]) for m, _p, b in cw.sent] == [("POST", "Yes"), ("POST", "No")]


def test_a_seed_connectwise_would_refuse_fails_naming_why():
    with pytest.raises(SeedError, match="name is required"):
        SandboxConnectWise().add(COMPANIES, identifier="Acme")


def test_the_documented_company_info_example_reads_every_active_company_not_deleted(monkeypatch):
    """company_info's EXAMPLES ``status/name = "Active" and deletedFlag = false`` against the demo
    companies: ConnectWise reads a flag never set as false (connectwise-api.md, line 46), so the example
    returns each active company, and leaves out a deleted one and an inactive one."""
    [example] = [task for task in yaml.safe_load(company_info.EXAMPLES)
                 if "conditions" in task["mbs.connectwise.company_info"]]
    conditions = example["mbs.connectwise.company_info"]["conditions"]
    assert conditions == 'status/name = "Active" and deletedFlag = false'
    cw = SandboxConnectWise(fixture=load_fixture("demo"))
    cw.route_every_session(monkeypatch)
    demo = [c["identifier"] for c in cw.rows(COMPANIES)]
    result, failed = run_module(company_info, {"conditions": conditions})
    assert not failed and [c["identifier"] for c in result["companies"]] == demo and len(demo) == 7
    cw.store.patch("companies", 2, [{"op": "replace", "path": "deletedFlag", "value": True}])
    cw.store.patch("companies", 3, [{"op": "replace", "path": "status", "value": {"name": "Inactive"}}])
    result, failed = run_module(company_info, {"conditions": conditions})
    assert not failed and [c["identifier"] for c in result["companies"]] == [i for i in demo if i not in
                                                                             ("Globex", "Initech")]
