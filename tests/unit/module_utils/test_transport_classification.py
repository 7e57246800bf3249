"""Transport rules that decide between retrying, failing at once and "outcome unknown".

The exceptions are built the way requests/urllib3 raise them (a ConnectionError wrapping a
MaxRetryError whose ``reason`` is the urllib3 error), so the classification is checked by
type, not by a message string that happens to match.
"""

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from ansible_collections.mbs.connectwise.plugins.module_utils.client import ConnectWiseClient
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import (
    ApiError,
    InputError,
    OutcomeUnknown,
    TransportError,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import Transport

from ..conftest import API, CONNECTION, SITE, no_sleep_policy

URL = API + "company/companies"


def refused():
    return requests.exceptions.ConnectionError(MaxRetryError(
        None, "/", NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")))


def dropped_after_sending():
    return requests.exceptions.ConnectionError(ProtocolError(
        "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")))


def test_post_is_resent_when_the_connection_was_never_established(client, mocked):
    mocked.post(URL, body=refused())
    mocked.post(URL, status=201, json={"id": 5})
    assert client.create("company/companies", {"identifier": "X"}) == {"id": 5}
    assert len(mocked.calls) == 2


def test_post_is_resent_after_a_connect_timeout(client, mocked):
    mocked.post(URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    mocked.post(URL, status=201, json={"id": 5})
    assert client.create("company/companies", {"identifier": "X"}) == {"id": 5}


@pytest.mark.parametrize("failure", [
    dropped_after_sending,
    lambda: requests.exceptions.ReadTimeout("read timed out"),
    # Message text that merely mentions a connect failure must not make a POST look unsent.
    lambda: requests.exceptions.ConnectionError("Failed to establish a new connection (but sent)"),
])
def test_post_outcome_is_unknown_once_the_request_may_have_been_sent(client, mocked, failure):
    mocked.post(URL, body=failure())
    with pytest.raises(OutcomeUnknown):
        client.create("company/companies", {"identifier": "X"})
    assert len(mocked.calls) == 1


def test_get_is_retried_after_a_dropped_connection(client, mocked):
    mocked.get(URL + "/1", body=dropped_after_sending())
    mocked.get(URL + "/1", json={"id": 1})
    assert client.get("company/companies/1") == {"id": 1}


def test_500_is_retried_on_idempotent_requests_and_bounded(client, mocked):
    mocked.get(URL + "/1", status=500, json={"code": "ConnectWiseApi", "message": "boom"})
    mocked.get(URL + "/1", json={"id": 1})
    assert client.get("company/companies/1") == {"id": 1}
    mocked.reset()
    mocked.patch(URL + "/1", status=500, json={"code": "ConnectWiseApi", "message": "boom"})
    with pytest.raises(ApiError) as err:
        client.patch("company/companies", 1, [])
    assert err.value.status == 500 and len(mocked.calls) == 6


def test_500_to_a_post_is_outcome_unknown_not_resent(client, mocked):
    mocked.post(URL, status=500, json={"code": "ConnectWiseApi", "message": "boom"})
    with pytest.raises(OutcomeUnknown):
        client.create("company/companies", {"identifier": "X"})
    assert len(mocked.calls) == 1


def test_certificate_error_fails_at_once_naming_validate_certs(client, mocked):
    mocked.get(URL + "/1", body=requests.exceptions.SSLError("certificate verify failed: self-signed certificate"))
    with pytest.raises(TransportError) as err:
        client.get("company/companies/1")
    assert len(mocked.calls) == 1
    assert "validate_certs" in str(err.value) and "certificate verify failed" in str(err.value)


def test_a_post_marked_idempotent_is_retried_like_a_read(mocked):
    transport = Transport(SITE, retry=no_sleep_policy())
    mocked.post(SITE + "/api/Provider/Login", status=503)
    mocked.post(SITE + "/api/Provider/Login", body=dropped_after_sending())
    mocked.post(SITE + "/api/Provider/Login", json={"access_token": "t"})
    response = transport.request("POST", "api/Provider/Login", json={}, idempotent=True)
    assert response.json() == {"access_token": "t"} and len(mocked.calls) == 3


def test_429_body_with_error_instead_of_code_is_parsed(client, mocked):
    body = {"error": "ConnectWiseAPI", "message": "Too many requests. Please try again in 30 seconds."}
    mocked.get(URL + "/1", status=429, json=body)
    with pytest.raises(ApiError) as err:
        client.get("company/companies/1")
    assert err.value.code == "ConnectWiseAPI"
    assert "Too many requests. Please try again in 30 seconds." in str(err.value)


def test_default_accept_is_the_current_version_and_the_option_changes_it(mocked):
    mocked.get(URL + "/1", json={"id": 1})
    ConnectWiseClient(retry=no_sleep_policy(), **CONNECTION).get("company/companies/1")
    ConnectWiseClient(retry=no_sleep_policy(), api_version="2024.1", **CONNECTION).get("company/companies/1")
    accepts = [call.request.headers["Accept"] for call in mocked.calls]
    assert accepts == ["application/vnd.connectwise.com+json; version=2025.8",
                       "application/vnd.connectwise.com+json; version=2024.1"]


def test_a_retired_version_refusal_names_the_version_and_the_option(mocked):
    mocked.get(URL + "/1", status=400, json={
        "code": "ConnectWiseApi", "message": "This site does not support the API version '2021.1'."})
    old = ConnectWiseClient(retry=no_sleep_policy(), api_version="2021.1", **CONNECTION)
    with pytest.raises(ApiError) as err:
        old.get("company/companies/1")
    text = str(err.value)
    assert "2021.1" in text and "api_version" in text and "CW_API_VERSION" in text


def test_a_malformed_api_version_is_refused_before_any_request(mocked):
    with pytest.raises(InputError) as err:
        ConnectWiseClient(api_version="latest", **CONNECTION)
    assert "api_version" in str(err.value) and "'latest'" in str(err.value)
    assert len(mocked.calls) == 0
