"""The MSP360 part: login, bearer tokens, companies/users, billing, re-login after expiry."""

from datetime import datetime, timezone

import pytest
import requests

LOGIN = {"UserName": "sandbox-mbs", "Password": "sandbox-mbs-password"}


def _login(sb):
    response = requests.post(f"{sb.mbs_url}/api/Provider/Login", json=LOGIN, timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 1209599
    return {"Authorization": f"Bearer {body['access_token']}"}


@pytest.fixture
def auth(sb):
    return _login(sb)


def test_bad_login_and_missing_token_are_401(sb):
    bad = requests.post(f"{sb.mbs_url}/api/Provider/Login", json=dict(LOGIN, Password="nope"), timeout=5)
    assert bad.status_code == 401 and "nope" not in bad.text
    assert requests.get(f"{sb.mbs_url}/api/Companies", timeout=5).status_code == 401
    assert requests.get(f"{sb.mbs_url}/api/Companies", headers={"Authorization": "Bearer forged"},
                        timeout=5).status_code == 401


def test_companies_and_users(sb, auth):
    companies = requests.get(f"{sb.mbs_url}/api/Companies", headers=auth, timeout=5).json()
    names = {c["Name"] for c in companies}
    assert {"AcmeCorp", "Initech Inc.", "Unmapped Co"} <= names and "Initech" not in names
    one = requests.get(f"{sb.mbs_url}/api/Companies/{companies[0]['Id']}", headers=auth, timeout=5)
    assert one.status_code == 200 and one.json() == companies[0]
    assert requests.get(f"{sb.mbs_url}/api/Companies/nope", headers=auth, timeout=5).status_code == 404
    users = requests.get(f"{sb.mbs_url}/api/Users", headers=auth, timeout=5).json()
    assert any(u["Company"] == "" for u in users) and all(u["DestinationList"] for u in users)


def test_billing_for_one_company_and_month(sb, auth):
    response = requests.put(f"{sb.mbs_url}/api/Billing", json={"CompanyName": "Umbrella", "Date": "2026-10-17"},
                            headers=auth, timeout=5)
    assert response.status_code == 200
    billing = response.json()
    rows = billing["StatisticBilling"]
    assert len(rows) == 3 and {r["CompanyName"] for r in rows} == {"Umbrella"}
    assert billing["AverageSpaceUsed"] == sum(r["AverageSpace"] for r in rows) > 4 * 2 ** 40
    for row in rows:
        assert set(row) >= {"UserId", "Email", "FirstName", "LastName", "AverageSpace", "TotalVolumeRestore",
                            "PlanCost", "StorageCost", "RestoreCost", "TotalCost"}
        assert round(row["PlanCost"] + row["StorageCost"] + row["RestoreCost"], 2) == row["TotalCost"]
    hooli = requests.put(f"{sb.mbs_url}/api/Billing", json={"CompanyName": "Hooli", "Date": "2026-10-01"},
                         headers=auth, timeout=5).json()
    assert hooli["AverageSpaceUsed"] == 0 and hooli["StatisticBilling"][0]["TotalCost"] == 0
    assert requests.put(f"{sb.mbs_url}/api/Billing", json={"CompanyName": "Nobody", "Date": "2026-10-01"},
                        headers=auth, timeout=5).status_code == 404
    assert requests.put(f"{sb.mbs_url}/api/Billing", json={"Date": "not-a-date"}, headers=auth,
                        timeout=5).status_code == 400


def test_billing_all_users_months_and_details(sb, auth):
    september = requests.put(f"{sb.mbs_url}/api/Billing", json={"Date": "2026-09-30T00:00:00Z"}, headers=auth,
                             timeout=5).json()
    october = requests.put(f"{sb.mbs_url}/api/Billing", json={"Date": "2026-10-01"}, headers=auth, timeout=5).json()
    assert "" in {r["CompanyName"] for r in october["StatisticBilling"]}
    assert september["AverageSpaceUsed"] < october["AverageSpaceUsed"]
    current = requests.get(f"{sb.mbs_url}/api/Billing", headers=auth, timeout=5)
    assert current.status_code == 200 and set(current.json()) == {"CurrentSpaceUsed", "AverageSpaceUsed",
                                                                  "TotalRestore", "StatisticBilling"}
    user = october["StatisticBilling"][0]
    details = requests.put(f"{sb.mbs_url}/api/Billing/Details", json={"UserID": user["UserId"], "Date": "2026-10-01"},
                           headers=auth, timeout=5).json()
    assert details["TotalBackupBytes"] == user["AverageSpace"] and details["UserDetailList"][0]["Destination"]


def test_expired_token_needs_relogin(sb, auth):
    assert requests.get(f"{sb.mbs_url}/api/Users", headers=auth, timeout=5).status_code == 200
    assert requests.post(f"{sb.url}/_sandbox/mbs/expire-tokens", timeout=5).status_code == 204
    assert requests.get(f"{sb.mbs_url}/api/Users", headers=auth, timeout=5).status_code == 401
    assert requests.get(f"{sb.mbs_url}/api/Users", headers=_login(sb), timeout=5).status_code == 200
    entries = [e for e in sb.journal() if e["api"] == "mbs"]
    assert [e["path"] for e in entries][-2:] == ["api/Provider/Login", "api/Users"]
    assert all("sandbox-mbs-password" not in str(e["body"]) for e in entries)


def test_mbs_faults_by_api(sb, auth):
    sb.add_faults([{"api": "mbs", "path": "api/Billing", "status": 503, "count": 1}])
    url = f"{sb.mbs_url}/api/Billing"
    assert requests.put(url, json={"Date": "2026-10-01"}, headers=auth, timeout=5).status_code == 503
    assert requests.put(url, json={"Date": "2026-10-01"}, headers=auth, timeout=5).status_code == 200
    assert datetime.now(timezone.utc).year >= 2024
