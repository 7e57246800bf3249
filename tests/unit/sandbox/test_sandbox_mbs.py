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


# ---------------------------------------------------------------- licenses and storage accounts (issue 21)
# mbs-api.md: "Licenses (for license billing)" and "Storage accounts and usage per destination".
LICENSE_KEYS = {"ID", "Number", "ComputerName", "OperatingSystem", "IsTrial", "IsTaken", "LicenseType", "DateExpired",
                "Transaction", "User", "UserID"}
ACCOUNT_KEYS = {"ResellerAccountID", "AccountID", "DateCreated", "DisplayName", "StorageType", "Destinations"}
DESTINATION_KEYS = {"DestinationID", "AccountID", "Destination", "DestinationDisplayName"}


def _get(sb, auth, path):
    return requests.get(f"{sb.mbs_url}/{path}", headers=auth, timeout=5)


def test_users_in_msp360_s_shape(sb, auth):
    """mbs-api.md, "Companies and users": GET api/Users -> {ID, Email, FirstName, LastName, Company (the
    company name), Enabled, SpaceUsed, DestinationList}; a license's company is its user's."""
    users = _get(sb, auth, "api/Users").json()
    assert users and all(set(u) == {"ID", "Email", "FirstName", "LastName", "Company", "Enabled", "SpaceUsed",
                                    "DestinationList"} for u in users)
    assert all(set(d) == {"AccountID", "Destination"} for u in users for d in u["DestinationList"])


def test_licenses_in_msp360_s_license_shape(sb, auth):
    licenses = _get(sb, auth, "api/Licenses").json()
    assert licenses and all(set(lic) == LICENSE_KEYS for lic in licenses)
    assert all(isinstance(lic["Number"], int) and isinstance(lic["IsTrial"], bool) for lic in licenses)
    one = _get(sb, auth, f"api/Licenses/{licenses[3]['ID'].upper()}")
    assert one.status_code == 200 and one.json() == licenses[3]
    missing = _get(sb, auth, "api/Licenses/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and "not found" in missing.json()["Message"]
    assert requests.get(f"{sb.mbs_url}/api/Licenses", timeout=5).status_code == 401


def test_the_demo_holds_every_kind_of_license_billing_must_tell_apart(sb, auth):
    """Paid and taken, trial, expired before the billed month, pool (no user), a type nobody maps,
    a company-less user's, an unknown user's; the company is the user's (GET api/Users)."""
    licenses = _get(sb, auth, "api/Licenses").json()
    users = {u["ID"]: u for u in _get(sb, auth, "api/Users").json()}
    billed_month_start = "2026-11-01"   # the demo's clock is 2026-12-02: November is billed

    def company(lic):
        return users[lic["UserID"]]["Company"] if lic["UserID"] in users else None
    acme = [lic for lic in licenses if company(lic) == "AcmeCorp" and lic["LicenseType"] == "Server"]
    counted = [lic for lic in acme if not lic["IsTrial"] and lic["IsTaken"] and
               (lic["DateExpired"] is None or lic["DateExpired"][:10] >= billed_month_start)]
    assert (len(acme), len(counted)) == (5, 3)
    assert [lic["Number"] for lic in acme if lic["IsTrial"]] == [1004]
    assert [lic["Number"] for lic in acme if lic["DateExpired"] and lic["DateExpired"] < billed_month_start] == [1005]
    pool = [lic for lic in licenses if lic["UserID"] is None]
    assert len(pool) == 3 and all(not lic["IsTaken"] and lic["ComputerName"] == "" for lic in pool)
    assert {lic["LicenseType"] for lic in licenses} == {"Server", "Desktop", "VM Server", "MS Exchange"}
    assert [company(lic) for lic in licenses if lic["LicenseType"] == "MS Exchange"] == ["AcmeCorp"]
    assert [lic["Number"] for lic in licenses if company(lic) == ""] == [1018]
    assert [lic["User"] for lic in licenses if lic["UserID"] and lic["UserID"] not in users] == \
        ["former.employee@globex.example"]
    assert "Unmapped Co" in {company(lic) for lic in licenses}


def test_license_dates_move_with_the_sandbox_clock(sb, auth):
    sb.reset(today="2027-01-02")
    moved = {lic["Number"]: lic["DateExpired"] for lic in _get(sb, _login(sb), "api/Licenses").json()}
    assert moved[1005] == "2026-11-20T11:07:01.0922535+00:00"   # written 2026-10-20 as of 2026-12-01


def test_storage_accounts_with_destinations(sb, auth):
    accounts = _get(sb, auth, "api/Accounts").json()
    assert [a["DisplayName"] for a in accounts] == ["Amazon S3", "Wasabi"]
    assert all(set(a) == ACCOUNT_KEYS and a["Destinations"] for a in accounts)
    assert all(set(d) == DESTINATION_KEYS and d["AccountID"] == a["AccountID"]
               for a in accounts for d in a["Destinations"])
    one = _get(sb, auth, f"api/Accounts/{accounts[1]['AccountID']}")
    assert one.status_code == 200 and one.json() == accounts[1]
    assert _get(sb, auth, "api/Accounts/nope").status_code == 404


def test_a_user_backing_up_to_two_accounts_has_details_per_account(sb, auth):
    """PUT api/Billing/Details: bytes per computer and AccountID (joins GET api/Accounts); the split adds
    up to the user's AverageSpace, so storage per account adds up to the storage total."""
    accounts = {a["AccountID"]: a["DisplayName"] for a in _get(sb, auth, "api/Accounts").json()}
    users = _get(sb, auth, "api/Users").json()
    globex = [u for u in users if u["Company"] == "Globex"][0]
    assert sorted(accounts[d["AccountID"]] for d in globex["DestinationList"]) == ["Amazon S3", "Wasabi"]
    billing = requests.put(f"{sb.mbs_url}/api/Billing", json={"Date": "2026-10-01"}, headers=auth, timeout=5).json()
    for row in billing["StatisticBilling"]:
        details = requests.put(f"{sb.mbs_url}/api/Billing/Details", json={"UserID": row["UserId"], "Date": "2026-10-01"},
                               headers=auth, timeout=5).json()
        assert set(details) == {"TotalBackupBytes", "TotalRestoreBytes", "UserID", "UserDetailList"}
        assert details["TotalBackupBytes"] == row["AverageSpace"]
        assert all(d["AccountID"] in accounts for d in details["UserDetailList"])
        if row["UserId"] == globex["ID"]:
            assert sorted((accounts[d["AccountID"]], d["SizeBackup"]) for d in details["UserDetailList"]) == \
                [("Amazon S3", 2061584302080), ("Wasabi", 687194767360)]


def test_the_demo_storage_usage_is_what_it_was(sb, auth):
    """Licenses and accounts changed nothing the storage billing reads (make demo bills the same)."""
    for month, average, restore, cost in (("2026-09", 10371115757798, 0, 229.46),
                                          ("2026-10", 10916963955579, 14495514624, 238.77),
                                          ("2026-11", 11462812153355, 0, 247.81)):
        billing = requests.put(f"{sb.mbs_url}/api/Billing", json={"Date": f"{month}-01"}, headers=auth, timeout=5).json()
        assert (billing["AverageSpaceUsed"], billing["TotalRestore"]) == (average, restore), month
        assert round(sum(r["TotalCost"] for r in billing["StatisticBilling"]), 2) == cost, month
