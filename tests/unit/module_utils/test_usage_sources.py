# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from decimal import Decimal

import pytest
import responses
from responses import matchers

from ansible_collections.mbs.connectwise.plugins.module_utils import billing_compute as bc
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import RetryPolicy
from ansible_collections.mbs.connectwise.plugins.module_utils.usage_sources import (
    MBSClient,
    MBSError,
    UsageError,
    billing_list,
    normalise_inline,
    read_usage_file,
)

D = Decimal
GIB = 2 ** 30
DATA = os.path.join(os.path.dirname(__file__), "data")
URL = "https://mbs.test"
PASSWORD = "S3cr3t-pa55word"
TOKEN = "tok-AAAA-1111"


# ---------------------------------------------------------------- inline


def test_inline_happy_path():
    records = normalise_inline([
        {"company": "Acme", "used_bytes": 10 * GIB, "destination": "S3", "cost": "0.5", "price": 2},
        {"company": " Globex ", "used_bytes": "1073741824", "destination": "", "cost": None},
        {"company": "Acme", "used_bytes": 1e9, "destination": "B2", "price": 0.1},
    ])
    assert [(r.company, r.used_bytes, r.destination, r.cost, r.price, r.source_ref) for r in records] == [
        ("Acme", 10 * GIB, "S3", D("0.5"), D(2), "usage[0]"),
        ("Globex", GIB, None, None, None, "usage[1]"),
        ("Acme", 10 ** 9, "B2", None, D("0.1"), "usage[2]"),
    ]


@pytest.mark.parametrize("record, message", [
    ({"company": "A", "used_bytes": "-5"}, r"^usage\[1\]\.used_bytes: '-5' is negative$"),
    ({"company": "A", "used_bytes": -5}, r"usage\[1\]\.used_bytes: -5 is negative"),
    ({"company": "A", "used_bytes": "lots"}, r"usage\[1\]\.used_bytes: 'lots' is not a number"),
    ({"company": "A", "used_bytes": "1.5"}, r"usage\[1\]\.used_bytes: '1.5' is not a whole number"),
    ({"company": "A", "used_bytes": True}, r"usage\[1\]\.used_bytes: True is a boolean"),
    ({"company": "A", "used_bytes": ""}, r"usage\[1\]\.used_bytes: is empty"),
    ({"company": "A", "used_bytes": "NaN"}, r"usage\[1\]\.used_bytes: .*finite"),
    ({"company": "A"}, r"usage\[1\]\.used_bytes: is missing"),
    ({"used_bytes": 1}, r"usage\[1\]\.company: is missing or empty"),
    ({"company": "  ", "used_bytes": 1}, r"usage\[1\]\.company: is missing or empty"),
    ({"company": ["A"], "used_bytes": 1}, r"usage\[1\]\.company: \['A'\] is not a string"),
    ({"company": "A", "used_bytes": 1, "price": False}, r"usage\[1\]\.price: False is a boolean"),
    ({"company": "A", "used_bytes": 1, "cost": "cheap"}, r"usage\[1\]\.cost: 'cheap' is not a number"),
    ({"company": "A", "used_bytes": 1, "cost": "-1"}, r"usage\[1\]\.cost: '-1' is negative"),
    ({"company": "A", "used_bytes": 1, "used_gb": 3}, r"usage\[1\]: unknown field 'used_gb'"),
    ({"company": "A", "CompanyName": "A", "used_bytes": 1}, r"usage\[1\]: mixes canonical fields"),
    ("Acme", r"usage\[1\]: is str, not a mapping"),
])
def test_inline_errors_name_the_record(record, message):
    with pytest.raises(UsageError, match=message):
        normalise_inline([{"company": "ok", "used_bytes": 0}, record])


def test_inline_must_be_a_list_and_duplicates_refused():
    with pytest.raises(UsageError, match="must be a list"):
        normalise_inline({"company": "A", "used_bytes": 1})
    with pytest.raises(UsageError, match=r"usage\[2\]: duplicate of usage\[0\]"):
        normalise_inline([{"company": "A", "used_bytes": 1, "destination": "S3"},
                          {"company": "A", "used_bytes": 1, "destination": "B2"},
                          {"company": "A", "used_bytes": 2, "destination": "S3"}])


def test_inline_msp360_names_and_total_cost_mapping():
    row = {"CompanyName": "Acme", "AverageSpace": 1.5, "TotalCost": "2.50", "UserId": "u1", "PlanCost": 9}
    as_price = normalise_inline([row])[0]
    assert (as_price.used_bytes, as_price.price, as_price.cost, as_price.user) == (2, D("2.50"), None, "u1")
    as_cost = normalise_inline([row], total_cost_is="cost")[0]
    assert (as_cost.price, as_cost.cost) == (None, D("2.50"))
    with pytest.raises(ValueError, match="total_cost_is"):
        normalise_inline([row], total_cost_is="both")


# ---------------------------------------------------------------- files


def test_csv_canonical():
    records = read_usage_file(os.path.join(DATA, "usage_canonical.csv"))
    assert [r.source_ref for r in records] == ["usage_file row %d" % n for n in (2, 3, 4, 5)]
    assert records[3].company == "Globex, Inc." and records[3].destination is None and records[3].user is None
    acme = bc.aggregate(records)["Acme"]
    assert acme.used_bytes == 16 * GIB and acme.destinations == ("B2", "S3")
    assert acme.cost == D("0.65") and acme.price == D("3.25")


def msp360_export_as_excel_saves_it(tmp_path):
    """The export as spreadsheet tools write it: UTF-8 byte order mark and CRLF line ends.

    Kept LF/no-BOM in the repository (sanity rules) and converted here.
    """
    with open(os.path.join(DATA, "usage_msp360_export.csv"), encoding="utf-8") as handle:
        text = handle.read()
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    return str(path)


def test_csv_msp360_export_with_bom_and_crlf(tmp_path):
    export = msp360_export_as_excel_saves_it(tmp_path)
    records = read_usage_file(export)
    assert [(r.company, r.used_bytes, r.price, r.cost) for r in records] == [
        ("Acme", 2 * GIB, D("3.00"), None),  # 2147483648.4 -> half-up to whole bytes
        ("Acme", GIB, D("1.50"), None),      # 1073741823.5 -> 1073741824
        ("Initech", 0, D("0"), None),
    ]
    assert records[0].user == "6f1c0000-0000-0000-0000-000000000001"
    cost_side = read_usage_file(export, total_cost_is="cost")
    assert cost_side[0].cost == D("3.00") and cost_side[0].price is None


def test_json_records_billing_object_and_list():
    records = read_usage_file(os.path.join(DATA, "usage_records.json"))
    assert [(r.company, r.used_bytes, r.source_ref) for r in records] == [
        ("Acme", 10 * GIB, "usage_file[0]"), ("Acme", GIB, "usage_file[1]"), ("Globex", 0, "usage_file[2]")]
    obj = read_usage_file(os.path.join(DATA, "billing_object.json"))
    assert [(r.company, r.used_bytes, r.price) for r in obj] == [("Acme", 2 * GIB, D("3.0")), ("Acme", GIB, D("1.1"))]
    assert obj[1].source_ref == "usage_file[0].StatisticBilling[1]"
    lst = read_usage_file(os.path.join(DATA, "billing_list.json"))
    assert sorted(bc.aggregate(lst)) == ["Acme", "Globex"]
    assert bc.aggregate(lst)["Globex"].price == D("0.3")


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name, text, message", [
    ("u.csv", "", "is empty"),
    ("u.csv", "  \n\n", "is empty"),
    ("u.json", "", "is empty"),
    ("u.csv", "company,used_bytes,colour\nA,1,red\n", r"row 1: unknown column 'colour'"),
    ("u.csv", "company,destination\nA,S3\n", "needs a company column .* and a usage column"),
    ("u.csv", "company,used_bytes,company\nA,1,A\n", "duplicate column names"),
    ("u.csv", "company,used_bytes\n", "header but no rows"),
    ("u.csv", "company,used_bytes\nA,1\nB,1O\n", r"usage_file row 3 column used_bytes: '1O' is not a number"),
    ("u.csv", "company,used_bytes,price\nA,1,1,00\n", "row 2: has more values than the header"),
    ("u.csv", "company,used_bytes\nA,1\n,5\n", r"usage_file row 3 column company: is missing"),
    ("u.csv", "company,used_bytes,price\nA,1,\nB,-2,1\n", r"row 3 column used_bytes: '-2' is negative"),
    ("u.csv", "company,used_bytes,destination\nA,1,S3\nB,1,S3\nA,2,S3\n",
     r"usage_file row 4: duplicate of usage_file row 2 \(company 'A', destination 'S3', user None\)"),
    ("u.csv", "CompanyName,UserId,AverageSpace\nA,u1,1\nA,u1,2\n", "row 3: duplicate of usage_file row 2"),
    ("u.csv", "company,used_bytes,TotalCost\nA,1,1\n", "mixes canonical fields"),
    ("u.csv", 'company,used_bytes\n"A,1\n', "not valid CSV: unexpected end of data"),
    ("u.json", "[{\"company\": \"A\", \"used_bytes\": 1},]", "not valid JSON"),
    ("u.json", "{\"company\": \"A\", \"used_bytes\": 1}", "MSP360 Billing object"),
    ("u.json", "\"text\"", "must be a list"),
    ("u.json", "[]", "holds no usage records"),
    ("u.json", "{\"StatisticBilling\": []}", "holds no usage records"),
    ("u.json", "{\"StatisticBilling\": {}}", r"usage_file\[0\]\.StatisticBilling: is not a list"),
    ("u.json", "[{\"company\": \"A\", \"used_bytes\": -1}]", r"usage_file\[0\]\.used_bytes: -1 is negative"),
    ("u.json", "[{\"company\": \"A\", \"used_bytes\": 1.5}]", r"usage_file\[0\]\.used_bytes: .* not a whole"),
    ("u.json", "[{\"company\": \"A\", \"used_bytes\": true}]", r"usage_file\[0\]\.used_bytes: True is a boolean"),
    ("u.json", "[{\"company\": \"A\", \"used_bytes\": 1}, {\"company\": \"A\", \"used_bytes\": 2}]",
     r"usage_file\[1\]: duplicate of usage_file\[0\]"),
    ("u.json", "{\"StatisticBilling\": [{\"CompanyName\": \"A\", \"AverageSpace\": 1, \"Colour\": 1}]}",
     r"StatisticBilling\[0\]: unknown field 'Colour'"),
    ("u.json", "[1, 2]", r"usage_file\[0\]: is int, not a mapping"),
])
def test_file_errors(tmp_path, name, text, message):
    with pytest.raises(UsageError, match=message):
        read_usage_file(_write(tmp_path, name, text))


def test_file_format_sniffed_without_extension_and_missing_file(tmp_path):
    records = read_usage_file(_write(tmp_path, "usage.txt", '[{"company": "A", "used_bytes": 3}]'))
    assert records[0].used_bytes == 3
    records = read_usage_file(_write(tmp_path, "usage.dat", "company,used_bytes\nA,4\n"))
    assert records[0].used_bytes == 4
    with pytest.raises(UsageError, match="cannot be read"):
        read_usage_file(str(tmp_path / "nope.csv"))


def test_file_not_utf8(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(b"company,used_bytes\n\xff\xfe,1\n")
    with pytest.raises(UsageError, match="cannot be read"):
        read_usage_file(str(path))


# ---------------------------------------------------------------- MSP360 API


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
        rsps.add(responses.POST, URL + "/api/Provider/Login", status=status, json={"Message": "busy"})
        _login(rsps)
        rsps.add(responses.GET, URL + "/api/Companies", json=[])
        client = _client()
        assert client.companies() == []
        assert client.logins == 1 and dict(client.stats) == {"POST": 2, "GET": 1}


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
        assert client.logins == 1 and client.stats["POST"] == 1 and client.stats["GET"] == 4


def test_relogin_once_on_401_then_success():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, URL + "/api/Provider/Login", json={"access_token": "old-token"})
        rsps.add(responses.POST, URL + "/api/Provider/Login", json={"access_token": "new-token"})
        rsps.add(responses.GET, URL + "/api/Companies", status=401, json={"Message": "expired"},
                 match=_bearer("old-token"))
        ok = rsps.add(responses.GET, URL + "/api/Companies", json=[], match=_bearer("new-token"))
        client = _client()
        assert client.companies() == []
        assert client.logins == 2 and ok.call_count == 1


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
                 match=[matchers.json_params_matcher({"CompanyName": "Acme", "Date": "2026-10-01"})])
        rsps.add(responses.PUT, URL + "/api/Billing", json=[{"StatisticBilling": []}, {"StatisticBilling": []}],
                 match=[matchers.json_params_matcher({"Date": "2026-09-01"})])
        client = _client()
        assert client.billing("2026-10", "Acme") == [{"StatisticBilling": []}]
        assert len(client.billing(bc.Period(2026, 9))) == 2


def test_billing_list_shapes():
    assert billing_list(None) == [] and billing_list({"a": 1}) == [{"a": 1}]
    with pytest.raises(MBSError, match="neither"):
        billing_list("x")


def _stat(company, user, space, total, email=None):
    return {"UserId": user, "Email": email or user + "@x.example", "FirstName": "F", "LastName": "L",
            "CompanyName": company, "AverageSpace": space, "TotalVolumeRestore": 0, "PlanCost": 0,
            "StorageCost": total, "RestoreCost": 0, "TotalCost": total}


def _usage_api(rsps, billing_status=200, users=False):
    """One month in MSP360's real shapes: one PUT /api/Billing with only Date answers every company."""
    _login(rsps)
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


def test_usage_for_period_is_one_billing_read_for_every_company():
    with responses.RequestsMock() as rsps:  # every registered call must be made, and no other
        _usage_api(rsps)
        client = _client()
        records, warnings = client.usage_for_period("2026-10")
        assert client.logins == 1
        assert dict(client.stats) == {"POST": 1, "GET": 1, "PUT": 1}
    usage = bc.aggregate(records)
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
    line = bc.plan_line(usage["Acme"], "average_cost", "GiB", bc.Pricing(cost_per_unit="0.01"))
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
    usage = bc.aggregate(records)
    # Billing rows name no destination: the user's destination list does, as one label per user.
    assert usage["Acme"].destinations == ("Amazon S3, Wasabi",)
    assert usage["Globex"].destinations == ()


def test_usage_total_cost_as_cost():
    with responses.RequestsMock() as rsps:
        _usage_api(rsps)
        records, _warnings = _client().usage_for_period(bc.Period(2026, 10), total_cost_is="cost")
    usage = bc.aggregate(records)
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
    usage = bc.aggregate(records)
    assert sorted(usage) == ["Acme"]
    assert usage["Acme"].used_bytes == 2 * GIB and usage["Acme"].price == D("3")
    assert warnings == []
