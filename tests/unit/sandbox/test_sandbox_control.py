"""Journal, faults, latency, stats and reset through the control API."""

import time

import pytest
import requests

from tests.sandbox.faults import FaultRuleError


def test_journal_records_api_calls_not_control_calls(api, sb):
    requests.get(f"{sb.url}/login/companyinfo/sandbox", timeout=5)
    api.get("company/companies", params={"conditions": 'identifier="AcmeCorp"'})
    api.post("company/companies", {"identifier": "J1", "name": "J"})
    requests.get(f"{sb.url}/v4_6_release/apis/3.0/company/companies", timeout=5)  # no auth: 401, journaled too
    requests.get(f"{sb.url}/_sandbox/stats", timeout=5)
    entries = requests.get(f"{sb.url}/_sandbox/journal", timeout=5).json()["requests"]
    assert [(e["api"], e["method"], e["path"], e["status"]) for e in entries] == [
        ("connectwise", "GET", "login/companyinfo/sandbox", 200),
        ("connectwise", "GET", "company/companies", 200),
        ("connectwise", "POST", "company/companies", 201),
        ("connectwise", "GET", "company/companies", 401),
    ]
    assert entries[1]["query"] == {"conditions": 'identifier="AcmeCorp"'}
    assert entries[2]["body"] == {"identifier": "J1", "name": "J"} and entries[0]["body"] is None
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert requests.delete(f"{sb.url}/_sandbox/journal", timeout=5).status_code == 204
    assert sb.journal() == []


def test_journal_redacts_secrets(api, sb):
    api.post("system/integratorlogins", {"username": "X1", "password": "top-secret"})
    assert "top-secret" not in str(sb.journal())


def test_stats_count_methods_apis_and_writes(api, sb):
    api.get("company/companies")
    api.post("company/companies", {"identifier": "S1", "name": "S"})
    api.delete("company/companies/7")
    stats = requests.get(f"{sb.url}/_sandbox/stats", timeout=5).json()
    assert stats["requests"] == 3 and stats["writes"] == 2
    assert stats["by_method"] == {"GET": 1, "POST": 1, "DELETE": 1} and stats["by_api"] == {"connectwise": 3}


def test_429_with_retry_after_does_not_process(api, sb):
    added = requests.post(f"{sb.url}/_sandbox/faults", json={"rules": [
        {"method": "POST", "path": "^company/companies$", "status": 429, "retry_after": 2, "count": 1}]}, timeout=5)
    assert added.status_code == 201
    refused = api.post("company/companies", {"identifier": "F1", "name": "F"})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    assert refused.json() == {"error": "ConnectWiseAPI", "message": "Too many requests. Please try again in 30 seconds."}
    assert api.find("company/companies", 'identifier="F1"') == []
    assert api.post("company/companies", {"identifier": "F1", "name": "F"}).status_code == 201
    rules = requests.get(f"{sb.url}/_sandbox/faults", timeout=5).json()["rules"]
    assert rules[0]["hits"] == 1 and rules[0]["matches"] == 2
    assert [e["status"] for e in sb.journal() if e["method"] == "POST"] == [429, 201]


def test_count_every_after_and_rate(api, sb):
    sb.add_faults([{"path": "companies/1$", "status": 503, "every": 3},
                   {"path": "companies/2$", "status": 503, "after": 2, "count": 2}])
    one = [api.get("company/companies/1").status_code for _number in range(6)]
    two = [api.get("company/companies/2").status_code for _number in range(6)]
    assert one == [200, 200, 503, 200, 200, 503]
    assert two == [200, 200, 503, 503, 200, 200]

    def pattern():
        sb.clear_faults()
        sb.add_faults([{"path": "companies/3$", "status": 500, "rate": 0.5, "seed": 7}])
        return [api.get("company/companies/3").status_code for _number in range(40)]
    first = pattern()
    assert first == pattern() and 5 < first.count(500) < 35


def test_drop_after_commit_commits_then_drops(api, sb):
    sb.add_faults([{"method": "POST", "path": "company/companies", "drop_after_commit": True, "count": 1}])
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("company/companies", {"identifier": "Dropped", "name": "D"})
    assert len(api.find("company/companies", 'identifier="Dropped"')) == 1
    assert sb.journal()[0].get("dropped") is True and sb.journal()[0]["status"] == 201


def test_latency_rule_and_global_latency(api, sb):
    sb.add_faults([{"path": "companies/1$", "latency_ms": 150}])
    start = time.monotonic()
    assert api.get("company/companies/1").status_code == 200
    assert time.monotonic() - start >= 0.15
    sb.clear_faults()
    assert requests.post(f"{sb.url}/_sandbox/latency", json={"ms": 100}, timeout=5).status_code == 200
    start = time.monotonic()
    api.get("company/companies/2")
    assert time.monotonic() - start >= 0.1
    assert requests.post(f"{sb.url}/_sandbox/latency", json={"ms": 0}, timeout=5).status_code == 200


def test_stats_sum_the_time_spent_answering(api, sb):
    """The benchmarks compare a run's wall time with the time its requests took in the sandbox."""
    assert sb.stats()["seconds"] == 0
    sb.set_latency(60)
    try:
        api.get("company/companies/1")
        api.get("company/companies/2")
    finally:
        sb.set_latency(0)
    requests.get(f"{sb.url}/_sandbox/stats", timeout=5)   # control calls take no part
    assert 0.12 <= sb.stats()["seconds"] < 5


def test_invalid_fault_rules_are_refused(sb):
    response = requests.post(f"{sb.url}/_sandbox/faults", json={"rules": [{"path": "(", "status": 500}]}, timeout=5)
    assert response.status_code == 400
    for rule in ({"bogus": 1}, {"rate": 2}, {"count": -1}, {"api": "other"}):
        with pytest.raises(FaultRuleError):
            sb.add_faults([rule])
    assert sb.faults() == []


def test_reset_endpoint_variants(api, sb):
    api.post("company/companies", {"identifier": "Gone", "name": "Gone"})
    sb.add_faults([{"status": 500}])
    assert requests.post(f"{sb.url}/_sandbox/reset", json={}, timeout=5).status_code == 200
    assert sb.faults() == [] and sb.journal() == []
    assert api.get("company/companies/count").json() == {"count": 7}
    generated = requests.post(f"{sb.url}/_sandbox/reset", json={"generate": {"companies": 30}}, timeout=5)
    assert generated.status_code == 200 and generated.json()["counts"]["agreements"] == 30
    assert api.get("company/companies/count").json() == {"count": 30}
    bad = requests.post(f"{sb.url}/_sandbox/reset", json={"fixture": "/nonexistent.json"}, timeout=5)
    assert bad.status_code == 400
    assert requests.post(f"{sb.url}/_sandbox/reset", json={"fixture": "demo"}, timeout=5).status_code == 200
