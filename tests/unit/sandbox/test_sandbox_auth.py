"""Authentication, companyinfo and routing answer like ConnectWise."""

import base64

import requests
from sandbox_helpers import GOOD_AUTH


def _get(sb, headers, resource="company/companies"):
    return requests.get(f"{sb.url}/v4_6_release/apis/3.0/{resource}", headers=headers, timeout=5)


def test_good_credentials_list_companies(sb):
    response = _get(sb, {"Authorization": GOOD_AUTH, "clientId": "abc"})
    assert response.status_code == 200
    assert "AcmeCorp" in [c["identifier"] for c in response.json()]


def test_bad_private_key_is_401_and_never_echoed(sb):
    secret = "wrong-private-key-1234"
    bad = "Basic " + base64.b64encode(f"sandbox+sandbox-public:{secret}".encode()).decode()
    response = _get(sb, {"Authorization": bad, "clientId": "abc"})
    assert response.status_code == 401
    assert response.json()["code"] == "Unauthorized"
    assert secret not in response.text and "sandbox-private" not in response.text


def test_missing_authorization_and_wrong_company_are_401(sb):
    assert _get(sb, {"clientId": "abc"}).status_code == 401
    other = "Basic " + base64.b64encode(b"othercompany+sandbox-public:sandbox-private").decode()
    assert _get(sb, {"Authorization": other, "clientId": "abc"}).status_code == 401
    assert _get(sb, {"Authorization": "Basic !!notbase64", "clientId": "abc"}).status_code == 401


def test_missing_or_empty_client_id_is_401_naming_it(sb):
    for headers in ({"Authorization": GOOD_AUTH}, {"Authorization": GOOD_AUTH, "clientId": ""}):
        response = _get(sb, headers)
        assert response.status_code == 401
        assert "clientId is required" in response.json()["message"]


def test_companyinfo_needs_no_auth(sb):
    response = requests.get(f"{sb.url}/login/companyinfo/sandbox", timeout=5)
    assert response.status_code == 200
    info = response.json()
    assert info["Codebase"] == "v4_6_release/" and info["CompanyID"] == "sandbox" and info["IsCloud"] == "true"
    assert requests.get(f"{sb.url}/login/companyinfo/nobody", timeout=5).status_code == 404


def test_any_codebase_segment_and_unknown_resource(api, sb):
    other = requests.get(f"{sb.url}/v2025_1_release/apis/3.0/company/companies/1",
                         headers=dict(api.session.headers), timeout=5)
    assert other.status_code == 200 and other.json()["id"] == 1
    missing = api.get("company/nosuchthing")
    assert missing.status_code == 404 and missing.json()["code"] == "NotFound"
    assert api.get("company/companies/99999").status_code == 404


def test_keep_alive_reuses_connection(api):
    first = api.get("company/companies/1")
    second = api.get("company/companies/2")
    assert first.headers.get("Connection", "").lower() != "close"
    assert first.status_code == second.status_code == 200
    assert len(api.session.adapters["http://"].poolmanager.pools) == 1


def test_retired_api_version_is_refused_like_connectwise(sb):
    def get(accept):
        return requests.get(f"{sb.url}/v4_6_release/apis/3.0/company/companies/1", timeout=5,
                            headers={"Authorization": GOOD_AUTH, "clientId": "abc", "Accept": accept})
    for version in ("2021.1", "2019.5", "2023.12"):
        refused = get(f"application/vnd.connectwise.com+json; version={version}")
        assert refused.status_code == 400
        assert refused.json() == {"code": "ConnectWiseApi",
                                  "message": f"This site does not support the API version '{version}'."}
    for accept in ("application/vnd.connectwise.com+json; version=2024.1",
                   "application/vnd.connectwise.com+json; version=2025.8", "application/json", "*/*"):
        assert get(accept).status_code == 200, accept
