import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from ansible_collections.mbs.connectwise.plugins.module_utils import client as client_mod
from ansible_collections.mbs.connectwise.plugins.module_utils.client import ConnectWiseClient, site_root
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import (
    ApiError,
    AuthenticationError,
    InputError,
    OutcomeUnknown,
    TransportError,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import RetryPolicy, parse_retry_after

from ..conftest import API, CONNECTION, SITE, no_sleep_policy


def query(call):
    return parse_qs(urlsplit(call.request.url).query)


def test_auth_headers_are_connectwise_basic_client_id_and_versioned_accept(client, mocked):
    mocked.get(API + "company/companies/1", json={"id": 1})
    client.get("company/companies/1")
    headers = mocked.calls[0].request.headers
    expected = base64.b64encode(b"acme+pub:s3cr3t-private-key").decode()
    assert headers["Authorization"] == "Basic " + expected
    assert headers["clientId"] == "client-guid"
    assert headers["Accept"] == "application/vnd.connectwise.com+json; version=2025.8"


def test_codebase_discovered_from_companyinfo(mocked):
    mocked.get(SITE + "/login/companyinfo/acme", json={"Codebase": "v2025_1/", "CompanyName": "Acme"})
    mocked.get(SITE + "/v2025_1/apis/3.0/system/info", json={"version": "x"})
    params = {**CONNECTION, "codebase": None}
    client = ConnectWiseClient(retry=no_sleep_policy(), **params)
    assert client.get("system/info") == {"version": "x"}
    assert [c.request.url for c in mocked.calls][0].endswith("/login/companyinfo/acme")
    client.get("system/info")
    assert len(mocked.calls) == 3  # discovery happens once


def test_codebase_falls_back_when_companyinfo_is_not_found(mocked):
    mocked.get(SITE + "/login/companyinfo/acme", status=404)
    mocked.get(SITE + "/v4_6_release/apis/3.0/system/info", json={})
    client = ConnectWiseClient(retry=no_sleep_policy(), **{**CONNECTION, "codebase": None})
    client.get("system/info")
    assert mocked.calls[1].request.url.startswith(SITE + "/v4_6_release/apis/3.0/")


def test_host_only_site_uses_https():
    assert site_root("api-eu.myconnectwise.net") == "https://api-eu.myconnectwise.net/"
    assert site_root("http://127.0.0.1:8765") == "http://127.0.0.1:8765/"
    assert site_root("https://cw.example.com/proxy/") == "https://cw.example.com/proxy/"


@pytest.mark.parametrize("site", ["", "ftp://host", "http://", "has space.example", "host/with/path", "http://bad host"])
def test_malformed_site_is_refused_with_its_value(site):
    with pytest.raises(InputError) as err:
        site_root(site)
    assert "site" in str(err.value)


def test_pagination_in_another_order_follows_link_next_to_the_end(client, mocked):
    url = API + "company/companies"
    page2 = url + "?orderBy=name+asc&pageSize=2&page=2"
    page3 = url + "?orderBy=name+asc&pageSize=2&page=3"

    def page(number):
        return [responses.matchers.query_param_matcher({"orderBy": "name asc", "pageSize": "2", "page": number})]
    mocked.get(url, json=[{"id": 1}, {"id": 2}], match=page("1"),
               headers={"Link": '<%s>; rel="next", <%s>; rel="last"' % (page2, page3)})
    mocked.get(url, json=[{"id": 3}, {"id": 4}], match=page("2"),
               headers={"Link": '<%s>; rel="next", <%s>; rel="last"' % (page3, page3)})
    mocked.get(url, json=[{"id": 5}], match=page("3"),
               headers={"Link": '<%s>; rel="first"' % (url + "?pageSize=2&page=1")})
    assert [o["id"] for o in client.list("company/companies", page_size=2, order_by="name asc")] == [1, 2, 3, 4, 5]
    assert len(mocked.calls) == 3


@pytest.mark.parametrize("order_by", [None, "id", "ID asc", " id  asc "])
def test_pagination_in_id_order_goes_by_key_and_ends_where_link_has_no_next(client, mocked, order_by):
    url = API + "company/companies"
    more = {"Link": '<%s?page=2>; rel="next", <%s?page=9>; rel="last"' % (url, url)}

    def page(after=None):
        expected = {"conditions": '(name like "A%%") and (id > %d)' % after if after else 'name like "A%"',
                    "orderBy": "id asc", "pageSize": "2", "page": "1"}
        return [responses.matchers.query_param_matcher(expected)]
    mocked.get(url, json=[{"id": 3}, {"id": 7}], match=page(), headers=more)
    mocked.get(url, json=[{"id": 8}, {"id": 12}], match=page(7), headers=more)
    mocked.get(url, json=[{"id": 15}], match=page(12), headers={"Link": '<%s?page=9>; rel="last"' % url})
    rows = client.list("company/companies", conditions='name like "A%"', page_size=2, order_by=order_by)
    assert [o["id"] for o in rows] == [3, 7, 8, 12, 15]
    assert len(mocked.calls) == 3


def test_paging_by_key_reads_the_id_even_when_fields_leave_it_out(client, mocked):
    url = API + "company/companies"
    mocked.get(url, json=[{"id": 1, "name": "A"}], headers={"Link": '<%s?page=2>; rel="next"' % url},
               match=[responses.matchers.query_param_matcher({"fields": "name,id", "orderBy": "id asc",
                                                              "pageSize": "1000", "page": "1"})])
    mocked.get(url, json=[{"id": 2, "name": "B"}],
               match=[responses.matchers.query_param_matcher({"fields": "name,id", "orderBy": "id asc",
                                                              "conditions": "id > 1", "pageSize": "1000",
                                                              "page": "1"})])
    assert list(client.list("company/companies", fields=["name"])) == [{"name": "A"}, {"name": "B"}]


def test_paging_by_key_stops_when_the_ids_do_not_advance(client, mocked):
    url = API + "company/companies"
    mocked.get(url, json=[{"id": 5}, {"id": 1}], headers={"Link": '<%s?page=2>; rel="next"' % url})
    with pytest.raises(ApiError) as err:
        for _row in zip(range(10), client.list("company/companies")):
            pass
    assert "out of order" in str(err.value) and len(mocked.calls) == 2


def test_page_size_is_capped_at_1000_and_conditions_are_sent(client, mocked):
    mocked.get(API + "company/companies", json=[])
    list(client.list("company/companies", conditions='name = "x"', page_size=5000, fields=["id", "name"],
                     order_by="name asc"))
    q = query(mocked.calls[0])
    assert q == {"conditions": ['name = "x"'], "fields": ["id,name"], "orderBy": ["name asc"],
                 "pageSize": ["1000"], "page": ["1"]}


def test_pagination_loop_is_detected(client, mocked):
    url = API + "company/companies"
    loop = url + "?page=2"
    mocked.get(url, json=[{"id": 1}], headers={"Link": '<%s>; rel="next"' % loop})
    with pytest.raises(ApiError) as err:
        for _page in zip(range(10), client.list("company/companies", order_by="name")):
            pass
    assert "loops" in str(err.value)


def test_list_in_chunks_long_value_lists(client, mocked):
    mocked.get(API + "company/companies", json=[])
    list(client.list_in("company/companies", "identifier", ["c%03d" % i for i in range(250)]))
    assert len(mocked.calls) == 3
    first = query(mocked.calls[0])["conditions"][0]
    assert first.startswith('identifier in ("c000","c001"') and first.count(",") == 99


def test_count(client, mocked):
    mocked.get(API + "company/companies/count", json={"count": 12})
    assert client.count("company/companies", 'name like "A%"') == 12
    assert query(mocked.calls[0])["conditions"] == ['name like "A%"']


def test_retry_on_429_honours_retry_after(mocked):
    slept = []
    client = ConnectWiseClient(retry=RetryPolicy(sleep=slept.append), **CONNECTION)
    url = API + "company/companies/1"
    mocked.get(url, status=429, headers={"Retry-After": "7"}, json={"code": "TooManyRequests"})
    mocked.get(url, status=503)
    mocked.get(url, json={"id": 1})
    assert client.get("company/companies/1") == {"id": 1}
    assert slept[0] == 7.0 and len(slept) == 2
    assert client.stats["GET"] == 3


def test_retries_are_bounded_by_total_wait(mocked):
    slept = []
    client = ConnectWiseClient(retry=RetryPolicy(sleep=slept.append, total_wait=10, max_attempts=50), **CONNECTION)
    mocked.get(API + "company/companies/1", status=503, headers={"Retry-After": "4"})
    with pytest.raises(ApiError) as err:
        client.get("company/companies/1")
    assert err.value.status == 503 and sum(slept) <= 10


def test_backoff_is_jittered_exponential_and_capped():
    policy = RetryPolicy(base_delay=1, max_delay=8)
    for attempt, ceiling in ((1, 1), (2, 2), (3, 4), (4, 8), (9, 8)):
        for _try in range(20):
            assert ceiling / 2 <= policy.backoff(attempt) <= ceiling


def test_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("soon") is None


def test_post_is_not_resent_after_a_503(client, mocked):
    mocked.post(API + "company/companies", status=503)
    with pytest.raises(OutcomeUnknown):
        client.create("company/companies", {"identifier": "X"})
    assert len(mocked.calls) == 1


def test_post_is_not_resent_after_a_dropped_connection(client, mocked):
    mocked.post(API + "company/companies", body=requests.exceptions.ConnectionError("Connection aborted, RemoteDisconnected"))
    with pytest.raises(OutcomeUnknown):
        client.create("company/companies", {"identifier": "X"})
    assert len(mocked.calls) == 1


def test_post_is_retried_after_429_because_it_was_refused_unprocessed(client, mocked):
    mocked.post(API + "company/companies", status=429)
    mocked.post(API + "company/companies", status=201, json={"id": 9})
    assert client.create("company/companies", {"identifier": "X"}) == {"id": 9}


def test_get_is_retried_after_connection_error(client, mocked):
    mocked.get(API + "company/companies/1", body=requests.exceptions.ConnectionError("reset"))
    mocked.get(API + "company/companies/1", json={"id": 1})
    assert client.get("company/companies/1") == {"id": 1}


def test_unknown_host_fails_at_once(client, mocked):
    from urllib3.exceptions import MaxRetryError, NameResolutionError
    unresolved = NameResolutionError("cw.invalid", None, OSError("[Errno -2] Name or service not known"))
    mocked.get(API + "company/companies/1", body=requests.exceptions.ConnectionError(
        MaxRetryError(None, "/", unresolved)))
    with pytest.raises(TransportError) as err:
        client.get("company/companies/1")
    assert len(mocked.calls) == 1 and "unknown host" in str(err.value)


def test_error_carries_method_path_status_and_connectwise_body(client, mocked):
    mocked.post(API + "finance/agreements/3/additions", status=400, json={
        "code": "InvalidObject", "message": "addition object is invalid",
        "errors": [{"code": "InvalidField", "field": "effectiveDate",
                    "message": "The Effective Date: 10/1/2026 in agreement addition cannot precede the Billing Start Date: 10/15/2026"}]})
    with pytest.raises(ApiError) as err:
        client.create("finance/agreements/3/additions", {})
    exc = err.value
    assert (exc.method, exc.path, exc.status, exc.code) == ("POST", "v4_6_release/apis/3.0/finance/agreements/3/additions", 400, "InvalidObject")
    assert "effectiveDate: The Effective Date: 10/1/2026" in str(exc)
    assert exc.to_result()["errors"][0]["field"] == "effectiveDate"


def test_401_and_404_have_their_own_classes(client, mocked):
    mocked.get(API + "a/1", status=401, json={"code": "Unauthorized", "message": "bad"})
    mocked.get(API + "a/2", status=404, json={"code": "NotFound", "message": "gone"})
    with pytest.raises(AuthenticationError):
        client.get("a/1")
    assert client.get_by_id("a", 2) is None


def test_secrets_are_scrubbed_from_errors(client, mocked):
    mocked.get(API + "a/1", status=400, json={"code": "Bad", "message": "key s3cr3t-private-key refused"})
    mocked.get(API + "a/2", status=500, body="proxy says s3cr3t-private-key")
    for path in ("a/1", "a/2"):
        with pytest.raises(ApiError) as err:
            client.get(path)
        assert "s3cr3t-private-key" not in str(err.value)
        assert "s3cr3t-private-key" not in json.dumps(err.value.to_result())


@pytest.mark.parametrize("missing", ["company_id", "public_key", "private_key", "client_id"])
def test_empty_credentials_are_refused_by_name(missing):
    with pytest.raises(InputError) as err:
        ConnectWiseClient(**dict(CONNECTION, **{missing: ""}))
    assert missing in str(err.value)


# ---- create_once: a POST whose answer is lost takes effect once ------------------------------------
def test_create_once_adopts_a_commit_that_lands_after_the_timeout(mocked):
    slept = []
    client = ConnectWiseClient(retry=RetryPolicy(sleep=slept.append), **dict(CONNECTION, timeout=4))
    mocked.post(API + "company/companies", body=requests.exceptions.ReadTimeout("read timed out"))
    answers = [None, None, None, {"id": 5}]  # committed while the client was already waiting
    result = client.create_once("company/companies", {"identifier": "X"}, lambda: answers.pop(0))
    assert result == ({"id": 5}, True)
    assert len([c for c in mocked.calls if c.request.method == "POST"]) == 1
    assert slept and sum(slept) >= 3


def test_create_once_waits_longer_than_the_timeout_before_a_second_post(mocked):
    slept = []
    client = ConnectWiseClient(retry=RetryPolicy(sleep=slept.append), **dict(CONNECTION, timeout=4))
    mocked.post(API + "company/companies", body=requests.exceptions.ReadTimeout("read timed out"))
    mocked.post(API + "company/companies", status=201, json={"id": 9})
    result = client.create_once("company/companies", {"identifier": "X"}, lambda: None)
    assert result == ({"id": 9}, False)
    assert sum(slept) == 2 * 4  # the whole settle window passed before the second POST
    assert len([c for c in mocked.calls if c.request.method == "POST"]) == 2


def test_create_once_rereads_once_after_the_servers_own_500(client, mocked):
    mocked.post(API + "company/companies", status=500, json={"code": "Error", "message": "boom"})
    mocked.post(API + "company/companies", status=201, json={"id": 9})
    asked = []
    result = client.create_once("company/companies", {"identifier": "X"}, lambda: asked.append(1))
    assert result == ({"id": 9}, False)
    assert len(asked) == 1


def test_create_once_gives_up_after_the_bounded_attempts(client, mocked):
    mocked.post(API + "company/companies", status=503)
    with pytest.raises(OutcomeUnknown) as raised:
        client.create_once("company/companies", {"identifier": "X"}, lambda: None)
    assert len(mocked.calls) == client_mod.POST_ATTEMPTS
    assert "nothing was created" in str(raised.value)


def test_settle_delays_cover_twice_the_timeout_and_stay_bounded():
    delays = RetryPolicy().settle_delays(30)
    assert sum(delays) == 60
    assert max(delays) <= 15
    assert delays[0] == 1
    assert sum(RetryPolicy().settle_delays(0)) == 2


# ---- find_by: the one bulk look-up by identifier ------------------------------------------------------

def test_find_by_groups_rows_by_the_folded_value_and_answers_every_value_asked(client, mocked):
    mocked.get(API + "company/companies", json=[{"id": 1, "identifier": "AcmeCorp"}, {"id": 2, "identifier": "Globex"},
                                                {"id": 3, "identifier": "GLOBEX"}])
    found = client.find_by("company/companies", "identifier", ["acmecorp", "Globex", "Ghost"])
    assert found == {"acmecorp": [{"id": 1, "identifier": "AcmeCorp"}],
                     "globex": [{"id": 2, "identifier": "Globex"}, {"id": 3, "identifier": "GLOBEX"}],
                     "ghost": []}
    [call] = mocked.calls
    assert query(call)["conditions"] == ['identifier in ("Ghost","Globex","acmecorp")']


def test_find_by_a_nested_field_with_conditions_and_fields_reads_the_field_too(client, mocked):
    mocked.get(API + "finance/agreements", json=[{"id": 7, "company": {"id": 19}}])
    found = client.find_by("finance/agreements", "company/id", [19, 20], fields=["id"], conditions='name = "MBS"')
    assert found == {"19": [{"id": 7, "company": {"id": 19}}], "20": []}
    assert query(mocked.calls[0])["fields"] == ["id,company/id"]
    assert query(mocked.calls[0])["conditions"] == ['(company/id in (19,20)) and (name = "MBS")']


def test_find_by_uses_the_chunked_reads_and_nothing_for_no_values(client, mocked):
    mocked.get(API + "company/companies", json=[])
    assert client.find_by("company/companies", "identifier", []) == {}
    assert len(mocked.calls) == 0
    found = client.find_by("company/companies", "identifier", ["c%03d" % i for i in range(250)], fields=["id", "identifier"])
    assert len(mocked.calls) == 3 and len(found) == 250
    assert query(mocked.calls[0])["fields"] == ["id,identifier"]


# ---- one PATCH builder ---------------------------------------------------------------------------------

def test_patch_operations_replace_each_field_in_field_order():
    assert client_mod.patch_operations({"name": "B", "endDate": None, "billStartDate": "2026-10-01T00:00:00Z"}) == [
        {"op": "replace", "path": "billStartDate", "value": "2026-10-01T00:00:00Z"},
        {"op": "replace", "path": "endDate", "value": None},
        {"op": "replace", "path": "name", "value": "B"}]
    assert client_mod.patch_operations({}) == []


def test_patch_fields_sends_those_operations_and_returns_the_object(client, mocked):
    mocked.patch(API + "finance/agreements/7", json={"id": 7, "name": "B"})
    assert client.patch_fields("finance/agreements", 7, {"name": "B"}) == {"id": 7, "name": "B"}
    assert json.loads(mocked.calls[0].request.body) == [{"op": "replace", "path": "name", "value": "B"}]


def test_field_of_reads_nested_paths():
    row = {"company": {"id": 19, "identifier": "Acme"}, "name": "MBS"}
    assert client_mod.field_of(row, "company/identifier") == "Acme"
    assert client_mod.field_of(row, "name") == "MBS"
    assert client_mod.field_of(row, "contact/id") is None
    assert client_mod.field_of(None, "name") is None
