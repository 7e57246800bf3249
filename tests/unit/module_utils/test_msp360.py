# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MSP360 API client (plugins/module_utils/msp360.py) against MSP360's answers as responses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import Decimal

import pytest
import responses
from responses import matchers

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import plan_line
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import Period
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.pricing import Pricing
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.usage import aggregate
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import MBSError
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360 import MBSClient
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import RetryPolicy

D = Decimal
GIB = 2 ** 30
URL = "https://mbs.test"
PASSWORD = "S3cr3t-pa55word"
TOKEN = "tok-AAAA-1111"


def _client(**kw):
    retry = RetryPolicy(max_attempts=3, sleep=lambda seconds: None)
    return MBSClient(URL + "/", "api-user", PASSWORD, retry=retry, **kw)


def _login(rsps, token=TOKEN, status=200):
    body = {"access_token": token, "token_type": "bearer", "expires_in": 1209599} if status == 200 else {
        "Message": "invalid credentials"}
    return rsps.add(responses.POST, URL + "/api/Provider/Login", json=body, status=status,
                    match=[matchers.json_params_matcher({"UserName": "api-user", "Password": PASSWORD})])


def _bearer(token=TOKEN):
    return [matchers.header_matcher({"Authorization": "Bearer " + token})]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_transient_login_failure_is_retried_like_a_read(status):
    with responses.RequestsMock() as rsps:
        busy = rsps.add(responses.POST, URL + "/api/Provider/Login", status=status, json={"Message": "busy"})
        login = _login(rsps)
        rsps.add(responses.GET, URL + "/api/Companies", json=[])
        client = _client()
        assert client.companies() == []
        assert busy.call_count == 1 and login.call_count == 1 and dict(client.stats) == {"POST": 2, "GET": 1}


def test_login_once_for_many_calls():
    with responses.RequestsMock() as rsps:
        login = _login(rsps)
        companies = rsps.add(responses.GET, URL + "/api/Companies", json=[{"ID": "c1", "Name": "Acme"}],
                             match=_bearer())
        users = rsps.add(responses.GET, URL + "/api/Users", json=[], match=_bearer())
        client = _client()
        for dummy in range(3):
            assert client.companies() == [{"ID": "c1", "Name": "Acme"}]
        assert client.users() == []
        assert login.call_count == 1 and companies.call_count == 3 and users.call_count == 1
        assert client.stats["POST"] == 1 and client.stats["GET"] == 4


def test_relogin_once_on_401_then_success():
    with responses.RequestsMock() as rsps:
        first = rsps.add(responses.POST, URL + "/api/Provider/Login", json={"access_token": "old-token"})
        second = rsps.add(responses.POST, URL + "/api/Provider/Login", json={"access_token": "new-token"})
        rsps.add(responses.GET, URL + "/api/Companies", status=401, json={"Message": "expired"},
                 match=_bearer("old-token"))
        ok = rsps.add(responses.GET, URL + "/api/Companies", json=[], match=_bearer("new-token"))
        client = _client()
        assert client.companies() == []
        assert first.call_count == 1 and second.call_count == 1 and ok.call_count == 1


def test_second_401_is_a_clear_error_without_secrets():
    with responses.RequestsMock() as rsps:
        login = _login(rsps)
        calls = rsps.add(responses.GET, URL + "/api/Users", status=401, json={"Message": "token " + TOKEN})
        client = _client()
        with pytest.raises(MBSError) as info:
            client.users()
        text = str(info.value)
        assert "401 again after a fresh login" in text and "GET api/Users" in text
        assert PASSWORD not in text and TOKEN not in text
        assert info.value.status == 401
        assert login.call_count == 2 and calls.call_count == 2


def test_login_refused_message_has_no_password():
    with responses.RequestsMock() as rsps:
        _login(rsps, status=401)
        client = _client()
        with pytest.raises(MBSError) as info:
            client.companies()
        assert "login refused for user 'api-user'" in str(info.value)
        assert PASSWORD not in str(info.value) and PASSWORD not in repr(info.value)


def test_login_error_echoing_password_is_scrubbed():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, URL + "/api/Provider/Login", status=400,
                 json={"message": "bad password " + PASSWORD})
        with pytest.raises(MBSError) as info:
            _client().companies()
        assert "HTTP 400" in str(info.value) and PASSWORD not in str(info.value)


def test_login_without_token():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, URL + "/api/Provider/Login", json={"token_type": "bearer"})
        with pytest.raises(MBSError, match="without an access_token"):
            _client().companies()


def test_api_error_echoing_token_is_scrubbed():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Companies", status=500, body="boom for Bearer " + TOKEN)
        with pytest.raises(MBSError) as info:
            _client().companies()
        assert "HTTP 500" in str(info.value) and TOKEN not in str(info.value)


def test_repr_and_attributes_hide_secrets():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Companies", json=[])
        client = _client()
        client.companies()
        assert repr(client) == "MBSClient(url='https://mbs.test', username='api-user')"
        assert PASSWORD not in repr(client) and TOKEN not in repr(client) and PASSWORD not in str(client)


def test_client_requires_credentials():
    with pytest.raises(ValueError, match="username and password"):
        MBSClient(URL, "user", "")
    with pytest.raises(ValueError, match="mbs_api_url"):
        MBSClient("", "user", "pw")


def test_billing_put_body_and_object_or_list():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.PUT, URL + "/api/Billing", json={"StatisticBilling": []},
                 match=[matchers.json_params_matcher({"Date": "2026-10-01"})])
        rsps.add(responses.PUT, URL + "/api/Billing", json=[{"StatisticBilling": []}, {"StatisticBilling": []}],
                 match=[matchers.json_params_matcher({"Date": "2026-09-01"})])
        client = _client()
        assert client.billing("2026-10") == [{"StatisticBilling": []}]
        assert len(client.billing(Period(2026, 9))) == 2


BILLING = {"CurrentSpaceUsed": 0, "AverageSpaceUsed": 0, "TotalRestore": 0, "StatisticBilling": []}


@pytest.mark.parametrize("answer, expected", [
    ({"json": BILLING}, [BILLING]),                            # the API's one object, even with no rows
    ({"json": [BILLING, {"StatisticBilling": None}]}, [BILLING, {"StatisticBilling": None}]),  # the vendor's list
])
def test_billing_answer_shapes(answer, expected):
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.PUT, URL + "/api/Billing", **answer)
        assert _client().billing("2026-10") == expected


@pytest.mark.parametrize("answer, shown", [
    ({"body": ""}, "an empty body"),
    ({"json": []}, "'[]'"),
    ({"json": {"Message": "An error has occurred."}}, """'{"Message": "An error has occurred."}'"""),
    ({"json": {"a": 1}}, """'{"a": 1}'"""),
    ({"json": "x"}, """'"x"'"""),
    ({"json": [BILLING, 2]}, "'[{"),
    ({"body": "<html>\n<h1>Maintenance</h1>"}, "'<html>\\n<h1>Maintenance</h1>'"),
    ({"body": "x" * 500}, "'%s' (first 200 bytes)" % ("x" * 200)),
])
def test_an_answer_that_is_not_billing_data_is_an_error_naming_url_status_and_body(answer, shown):
    """Taken as "no rows", such an answer would stop billing every company of the month."""
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.PUT, URL + "/api/Billing", **answer)
        with pytest.raises(MBSError) as err:
            _client().billing("2026-10")
    message = str(err.value)
    assert message.startswith("MSP360 PUT https://mbs.test/api/Billing for 2026-10 answered HTTP 200 with something "
                              "that is not billing data")
    assert shown in message and "Nothing was billed" in message
    assert err.value.status == 200


def test_a_token_echoed_in_a_non_billing_answer_is_scrubbed():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.PUT, URL + "/api/Billing", json={"Message": "bad token " + TOKEN})
        with pytest.raises(MBSError) as err:
            _client().billing("2026-10")
    assert TOKEN not in str(err.value) and "bad token" in str(err.value)


def test_usage_for_period_refuses_an_error_object_answered_with_200():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Companies", json=[{"Id": "1", "Name": "Acme"}])
        rsps.add(responses.PUT, URL + "/api/Billing", json={"Message": "An error has occurred."})
        with pytest.raises(MBSError, match="not billing data"):
            _client().usage_for_period("2026-10")


@pytest.mark.parametrize("url, message", [
    ("https://user:pa55@mbs.test", "mbs.url must not hold a user name or password (https://user:***@mbs.test)"),
    ("http://mbs.example.com", "mbs.url http://mbs.example.com uses plain HTTP"),
])
def test_an_mbs_url_that_would_expose_the_password_is_refused_by_option(url, message):
    with pytest.raises(ValueError) as err:
        MBSClient(url, "api-user", PASSWORD)
    assert message in str(err.value) and "pa55" not in str(err.value)
    if url.startswith("http://"):
        assert "mbs.allow_http: true" in str(err.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765/mbs", "http://localhost/mbs", "http://[::1]:9/mbs"])
def test_plain_http_on_this_machine_needs_no_permission(url):
    assert MBSClient(url, "api-user", PASSWORD).url == url


def test_plain_http_elsewhere_with_allow_http():
    assert MBSClient("http://mbs.lan", "api-user", PASSWORD, allow_http=True).url == "http://mbs.lan"


def _stat(company, user, space, total, email=None):
    return {"UserId": user, "Email": email or user + "@x.example", "FirstName": "F", "LastName": "L",
            "CompanyName": company, "AverageSpace": space, "TotalVolumeRestore": 0, "PlanCost": 0,
            "StorageCost": total, "RestoreCost": 0, "TotalCost": total}


def _usage_api(rsps, billing_status=200, users=False):
    """One month in MSP360's real shapes: one PUT /api/Billing with only Date answers every company."""
    login = _login(rsps)
    rsps.add(responses.GET, URL + "/api/Companies", json=[
        {"Id": "c1", "Name": "Acme", "Destinations": [{"DestinationId": "d1", "PlanId": "p1"}]},
        {"Id": "c2", "Name": "Globex", "Destinations": []}, {"Id": "c3", "Name": "Empty Co"},
        {"Id": "c4", "Name": ""}])
    if users:
        rsps.add(responses.GET, URL + "/api/Users", json=[
            {"ID": "u1", "Email": "a@acme.example", "Company": "Acme",
             "DestinationList": [{"Destination": "Wasabi"}, {"Destination": "Amazon S3"}, {"Destination": "Wasabi"}]},
            {"ID": "u3", "Email": "g@globex.example", "Company": "Globex", "DestinationList": []}])
    rsps.add(responses.PUT, URL + "/api/Billing", status=billing_status,
             json=[{"StatisticBilling": [_stat("Acme", "u1", 10 * GIB, 1.25), _stat("Acme", "u2", 2.5 * GIB, 0.5),
                                         _stat("", "u9", GIB, 9), _stat("Globex", "u3", GIB, 0.1)]},
                   {"StatisticBilling": [_stat("Globex", "u4", GIB, 0.2), _stat("Initech", "u5", 3 * GIB, 0.3)]}],
             match=[matchers.json_params_matcher({"Date": "2026-10-01"})])
    return login


def test_usage_for_period_is_one_billing_read_for_every_company():
    with responses.RequestsMock() as rsps:  # every registered call must be made, and no other
        login = _usage_api(rsps)
        client = _client()
        records, warnings = client.usage_for_period("2026-10")
        assert login.call_count == 1
        assert dict(client.stats) == {"POST": 1, "GET": 1, "PUT": 1}
    usage = aggregate(records)
    assert sorted(usage) == ["(no MSP360 company)", "Acme", "Empty Co", "Globex", "Initech"]
    assert usage["Acme"].used_bytes == 12.5 * GIB and usage["Acme"].price == D("1.75") and usage["Acme"].cost is None
    assert usage["Globex"].used_bytes == 2 * GIB and usage["Globex"].price == D("0.3")
    assert usage["Empty Co"].used_bytes == 0 and usage["Empty Co"].price == 0
    # A company missing from GET /api/Companies is still usage, billed by its name.
    assert usage["Initech"].used_bytes == 3 * GIB
    # Rows without a company are kept, with their bytes, in one reported bucket.
    assert usage["(no MSP360 company)"].used_bytes == GIB and usage["(no MSP360 company)"].price == D("9")
    text = "\n".join(warnings)
    assert "u9" in text and "(no MSP360 company)" in text
    assert "'c4' has no name" in text
    assert len(warnings) == 2
    line = plan_line(usage["Acme"], "average_cost", "GiB", Pricing(cost_per_unit="0.01"))
    assert line.quantity == D("12.50") and line.unit_price == D("0.1400") and line.total_price == D("1.75")


def test_usage_total_bytes_equal_the_billing_answer():
    with responses.RequestsMock() as rsps:
        _usage_api(rsps)
        records, _warnings = _client().usage_for_period("2026-10")
    assert sum(r.used_bytes for r in records) == int((10 + 2.5 + 1 + 1 + 1 + 3) * GIB)


def test_usage_destinations_read_users_only_when_asked():
    with responses.RequestsMock() as rsps:
        _usage_api(rsps, users=True)
        client = _client()
        records, _warnings = client.usage_for_period("2026-10", with_destinations=True)
        assert dict(client.stats) == {"POST": 1, "GET": 2, "PUT": 1}
    usage = aggregate(records)
    # Billing rows name no destination: the user's destination list does, as one label per user.
    assert usage["Acme"].destinations == ("Amazon S3, Wasabi",)
    assert usage["Globex"].destinations == ()


def test_usage_total_cost_as_cost():
    with responses.RequestsMock() as rsps:
        _usage_api(rsps)
        records, _warnings = _client().usage_for_period(Period(2026, 10), total_cost_is="cost")
    usage = aggregate(records)
    assert usage["Acme"].cost == D("1.75") and usage["Acme"].price is None
    assert usage["Empty Co"].cost == 0 and usage["Empty Co"].price is None


def test_usage_fetch_failure_bills_nothing():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _usage_api(rsps, billing_status=403)
        with pytest.raises(MBSError) as info:
            _client().usage_for_period("2026-10")
    assert "HTTP 403" in str(info.value)


def test_usage_retries_transient_billing_error():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Companies", json=[{"Id": "1", "Name": "Acme"}])
        rsps.add(responses.PUT, URL + "/api/Billing", status=503)
        rsps.add(responses.PUT, URL + "/api/Billing", json={"StatisticBilling": [_stat("Acme", "u1", GIB, 1)]})
        records, _w = _client().usage_for_period("2026-10")
    assert records[0].used_bytes == GIB


def test_usage_statistic_billing_not_a_list():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Companies", json=[{"Id": "1", "Name": "Acme"}])
        rsps.add(responses.PUT, URL + "/api/Billing", json={"StatisticBilling": {"CompanyName": "Acme"}})
        with pytest.raises(MBSError, match="2026-10: StatisticBilling is not a list"):
            _client().usage_for_period("2026-10")


def test_usage_for_period_bills_a_row_whose_company_differs_only_in_case():
    # Issue 9.6: a row of "ACME " for the listed "Acme" was dropped with a warning (under-billed).
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Companies", json=[{"Id": "c1", "Name": "Acme"}, {"Id": "c2", "Name": "acme"}])
        rsps.add(responses.PUT, URL + "/api/Billing",
                 json={"StatisticBilling": [_stat("ACME ", "u1", GIB, 1), _stat("Acme", "u2", GIB, 2)]},
                 match=[matchers.json_params_matcher({"Date": "2026-10-01"})])
        records, warnings = _client().usage_for_period("2026-10")
    usage = aggregate(records)
    assert sorted(usage) == ["Acme"]
    assert usage["Acme"].used_bytes == 2 * GIB and usage["Acme"].price == D("3")
    assert warnings == []


def test_usage_records_come_in_company_order_with_their_row_references():
    with responses.RequestsMock() as rsps:
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Companies", json=[{"Id": "c1", "Name": "Zeta"}, {"Id": "c2", "Name": "Alpha"}])
        # A column MSP360 may add one day is left out, not refused: the API's rows are not the user's input.
        row = dict(_stat("zeta", "u1", GIB, 1), ArchiveSpace=5)
        rsps.add(responses.PUT, URL + "/api/Billing", json={"StatisticBilling": [_stat("Beta", "u2", 2, 0), row]})
        records, warnings = _client().usage_for_period("2026-10")
    assert [(r.company, r.used_bytes, r.source_ref) for r in records] == [
        ("Alpha", 0, "MSP360 billing of company 'Alpha' (no rows)"),
        ("Beta", 2, "MSP360 billing 2026-10 row 1"),
        ("Zeta", GIB, "MSP360 billing 2026-10 row 2"),   # spelled as the company list spells it
    ]
    assert warnings == []
