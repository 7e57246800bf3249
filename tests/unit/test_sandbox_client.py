"""The in-process route from the collection's client to the sandbox (``sandbox_client.py``)."""

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils.transport import AuthenticationError, OutcomeUnknown
from ansible_collections.mbs.connectwise.plugins.modules import company_info

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
