"""Where the credentials may go (origin.py), and the client's refusals of URLs that would expose them."""

import http.server
import threading

import pytest
import responses

from ansible_collections.mbs.connectwise.plugins.module_utils.client import ConnectWiseClient, site_root
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, InputError, TransportError
from ansible_collections.mbs.connectwise.plugins.module_utils.origin import (
    check_configured_url,
    is_loopback,
    origin_of,
    redact_url,
    url_secrets,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import Transport

from ..conftest import API, CONNECTION, SITE, no_sleep_policy


@pytest.mark.parametrize("url, origin", [
    ("https://CW.example.com/v4/apis", ("https", "cw.example.com", 443)),
    ("https://cw.example.com:443/", ("https", "cw.example.com", 443)),
    ("http://127.0.0.1:8765/x?page=2", ("http", "127.0.0.1", 8765)),
    ("http://[::1]/", ("http", "::1", 80)),
    ("ftp://host/", None),
    ("company/companies", None),
])
def test_an_origin_is_scheme_host_and_port(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize("url, shown", [
    ("http://user:pa55@host:8/p?q=1", "http://user:***@host:8/p?q=1"),
    ("https://token@host/", "https://***@host/"),
    ("http//user:pa55@host", "***@host"),
    ("https://host/api/Destinations/a@b.example", "https://host/api/Destinations/a@b.example"),
    ("https://host/", "https://host/"),
])
def test_urls_are_shown_without_userinfo(url, shown):
    assert redact_url(url) == shown


def test_url_secrets_finds_passwords_in_nested_options_not_bare_user_names():
    params = {"site": "http://admin:pa55word@cw", "mbs": {"url": "https://tok3n@mbs"}, "other": ["x@y"]}
    assert url_secrets(params) >= {"admin:pa55word", "pa55word", "tok3n"}
    assert "admin" not in url_secrets(params)


@pytest.mark.parametrize("host, loopback", [("localhost", True), ("127.0.0.1", True), ("127.8.9.10", True),
                                            ("::1", True), ("[::1]", True), ("10.0.0.1", False),
                                            ("localhost.example.com", False), ("cw.example.com", False)])
def test_loopback_is_this_machine_only(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("site", ["http://admin:S3CRET@cw.example.com", "https://admin:S3CRET@cw.example.com/x",
                                  "admin:S3CRET@cw.example.com", "http//admin:S3CRET@cw.example.com"])
def test_a_password_in_site_is_refused_by_naming_the_option_not_the_value(site):
    with pytest.raises(InputError) as err:
        site_root(site)
    message = str(err.value)
    assert message.startswith("site must not hold a user name or password") and "S3CRET" not in message
    assert "***@cw.example.com" in message


@pytest.mark.parametrize("site", ["http://cw.example.com", "http://10.1.2.3:8080/", "http://localhost.example.com"])
def test_plain_http_to_another_machine_is_refused_unless_allowed(site):
    with pytest.raises(InputError) as err:
        site_root(site)
    assert "uses plain HTTP" in str(err.value) and "allow_http (or CW_ALLOW_HTTP=true): true" in str(err.value)
    assert site_root(site, allow_http=True).startswith("http://")
    with pytest.raises(InputError):
        ConnectWiseClient(**{**CONNECTION, "site": site})
    assert ConnectWiseClient(**{**CONNECTION, "site": site, "allow_http": True}).root_url.startswith("http://")


@pytest.mark.parametrize("site", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:8765", "cw.example.com"])
def test_loopback_http_and_bare_hosts_need_no_permission(site):
    assert site_root(site)


def test_check_configured_url_returns_the_url():
    assert check_configured_url("https://api.mspbackups.com", "mbs.url") == "https://api.mspbackups.com"


def test_a_transport_never_sends_to_another_origin(mocked):
    transport = Transport(SITE, retry=no_sleep_policy())
    for url in ("https://elsewhere.example/x", "http://cw.example.test/x", "https://cw.example.test:8443/x"):
        with pytest.raises(TransportError) as err:
            transport.request("GET", url)
        assert "not sent" in str(err.value) and "https://cw.example.test" in str(err.value)
    assert len(mocked.calls) == 0


def test_an_http_next_link_after_an_https_site_is_read_over_https(client, mocked):
    """A TLS-terminating balancer writing http:// links: the page is read from the https site."""
    url = API + "company/companies"
    mocked.get(url, json=[{"id": 2}, {"id": 1}], headers={
        "Link": '<%s?orderBy=name+asc&page=2>; rel="next"' % url.replace("https://", "http://")},
        match=[responses.matchers.query_param_matcher({"orderBy": "name asc", "pageSize": "1000", "page": "1"})])
    mocked.get(url, json=[{"id": 3}],
               match=[responses.matchers.query_param_matcher({"orderBy": "name asc", "pageSize": "1000", "page": "2"})])
    assert [row["id"] for row in client.list("company/companies", order_by="name asc")] == [2, 1, 3]
    assert all(call.request.url.startswith("https://") for call in mocked.calls)
    [warning] = client.warnings
    assert "points to http://cw.example.test, not to the site https://cw.example.test" in warning


def test_a_foreign_next_link_without_a_page_number_is_not_followed(client, mocked):
    url = API + "company/companies"
    mocked.get(url, json=[{"id": 1}], headers={"Link": '<https://evil.example/next?pageId=9>; rel="next"'})
    with pytest.raises(ApiError) as err:
        list(client.list("company/companies", order_by="name"))
    assert "not followed" in str(err.value) and len(mocked.calls) == 1


class _PlainHttp(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server naming
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, format, *args):  # noqa: A002 - http.server signature
        """Quiet."""


def test_an_https_site_that_answers_plain_http_is_named_as_such():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PlainHttp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        site = "https://127.0.0.1:%d" % server.server_address[1]
        cw = ConnectWiseClient(retry=no_sleep_policy(), **{**CONNECTION, "site": site})
        with pytest.raises(TransportError) as err:
            cw.get("company/companies")
    finally:
        server.shutdown()
        server.server_close()
    assert "answered plain HTTP on an https:// address" in str(err.value)
    assert "certificate" not in str(err.value).split(":", maxsplit=1)[0]
