"""The demo fixture, the generator, fixture loading and the command line."""

import os
import subprocess
import sys
import time

import pytest
from sandbox_helpers import ROOT

from tests.sandbox import Sandbox, generate_fixture, load_fixture
from tests.sandbox.store import FixtureError, Store


def test_demo_is_a_fresh_connectwise():
    store = Store(load_fixture("demo"))
    names = {table: {r.get("name") or r.get("identifier") or r.get("username") for r in store.rows(table)}
             for table in store.tables}
    assert {"Software", "Hardware", "Service"} <= names["productTypes"]
    assert "Monthly" in names["billingCycles"] and "Each" in names["unitOfMeasures"]
    assert "Active" in names["companyStatuses"] and "Backup Stats" in names["configurationTypes"]
    assert "MBSIntegrator" in names["integratorLogins"]
    subcategory = [r for r in store.rows("subcategories") if r["name"] == "Managed Services"][0]
    assert subcategory["category"]["name"] == "Managed Services"
    for table in ("managementItSolutions", "agreementTypes", "catalog", "agreements", "managedDevicesIntegrations"):
        assert store.rows(table) == [], table
    companies = {c["identifier"]: c for c in store.rows("companies")}
    assert companies["StarkWayne"]["name"] == 'Stark & Wayne "Industries"'
    assert "defaultContact" not in companies["NoContactLtd"]
    assert all("defaultContact" in c for i, c in companies.items() if i != "NoContactLtd")
    assert all(len(i) <= 30 for i in companies)


def test_generate_fixture_is_deterministic_and_loads_quickly():
    start = time.monotonic()
    data = generate_fixture(1000)
    store = Store(data)
    assert time.monotonic() - start < 5
    assert data == generate_fixture(1000)
    assert data != generate_fixture(1000, seed=2)
    assert len(store.tables["agreements"]) == len(store.tables["companies"]) == 1000
    agreement = store.get("agreements", 1000)
    assert agreement["name"] == agreement["type"]["name"] == "ManagedBackupService"
    assert agreement["billStartDate"] == "2026-01-01T00:00:00Z" and agreement["company"]["identifier"] == "Company1000"
    assert store.rows("catalog")[0]["identifier"] == "OnlineBackup"
    assert len(store.rows("crossReferences")) == 1
    assert set(data["mbs"]["usage"]) == {"2026-09", "2026-10", "2026-11"}
    assert {u["Company"] for u in data["mbs"]["users"]} == {c["identifier"] for c in store.rows("companies")}


def test_generate_without_agreements_or_usage():
    data = generate_fixture(5, with_agreements=False, with_usage=False)
    store = Store(data)
    assert store.rows("agreements") == [] and store.rows("managementItSolutions") == []
    assert data["mbs"]["usage"] == {}


def test_load_fixture_sources(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text('{"connectwise": {"companies": [{"identifier": "T", "name": "Tiny"}]}}')
    with Sandbox(fixture=str(path)) as sb:
        assert [c["identifier"] for c in sb.store.rows("companies")] == ["T"]
        sb.reset({"connectwise": {}})
        assert sb.store.rows("companies") == []
        sb.reset()
        assert len(sb.store.rows("companies")) == 1
    with pytest.raises(ValueError):
        load_fixture("no-such-fixture")


def test_invalid_fixture_is_refused_and_keeps_old_data():
    store = Store(load_fixture("demo"))
    with pytest.raises(FixtureError, match="companies"):
        store.load({"connectwise": {"companies": [{"identifier": "X" * 31, "name": "Too long"}]}})
    assert len(store.rows("companies")) == 7
    with pytest.raises(FixtureError, match="unknown fixture tables"):
        store.load({"connectwise": {"widgets": []}})


def test_command_line_prints_url_and_credentials():
    process = subprocess.Popen([sys.executable, "-m", "tests.sandbox", "--port", "0", "--companies", "3"],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        lines = [process.stdout.readline() for _line in range(5)]
        assert lines[0].startswith("ConnectWise sandbox on http://127.0.0.1:")
        assert any("sandbox-private" in line for line in lines)
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_generate_licenses_and_storage_accounts_for_a_bench():
    data = generate_fixture(1000, licenses_per_company=10, accounts=3)
    assert data == generate_fixture(1000, licenses_per_company=10, accounts=3)
    licenses, users = data["mbs"]["licenses"], {u["ID"]: u for u in data["mbs"]["users"]}
    assert len(licenses) == 10000 and len({lic["ID"] for lic in licenses}) == 10000
    counted = [lic for lic in licenses if lic["UserID"] and not lic["IsTrial"] and lic["DateExpired"] is None]
    assert len(counted) == 7000 and all(lic["UserID"] in users and lic["IsTaken"] for lic in counted)
    assert sum(lic["IsTrial"] for lic in licenses) == sum(lic["UserID"] is None for lic in licenses) == 1000
    assert {lic["DateExpired"] for lic in licenses} == {None, "2026-08-20T00:00:00+00:00"}
    accounts = {a["AccountID"] for a in data["mbs"]["accounts"]}
    assert len(accounts) == 3
    for rows in data["mbs"]["usage"].values():
        for row in rows:
            assert sum(d["SizeBackup"] for d in row["Details"]) == row["AverageSpace"]
            assert {d["AccountID"] for d in row["Details"]} <= accounts
    two = [u for u in users.values() if len(u["DestinationList"]) == 2]
    assert len(two) == 250
    # without the options: no licenses, one account per destination the usage names, usage as before
    plain = generate_fixture(20)
    assert plain["mbs"]["licenses"] == []
    named = {a["AccountID"] for a in plain["mbs"]["accounts"]}
    assert {d["AccountID"] for rows in plain["mbs"]["usage"].values() for r in rows for d in r["Details"]} <= named
    assert plain["mbs"]["usage"] == generate_fixture(20, licenses_per_company=4)["mbs"]["usage"]
