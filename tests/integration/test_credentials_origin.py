"""Credentials go only to their configured origin: never along a foreign Link header or a redirect.

Two servers on 127.0.0.1, free ports, stopped by the tests: ``Front``, the configured site, forwards
to the sandbox and can rewrite the ``Link`` header's origin (a proxy or a TLS-terminating balancer
that writes other links) or answer a redirect; ``Recorder``, the other origin, records every request
and the headers it receives. A key, a clientId or a login body reaching the recorder is a leak.
"""

import http.client
import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ansible_collections.mbs.connectwise.plugins.module_utils.client import ConnectWiseClient
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, MBSError
from ansible_collections.mbs.connectwise.plugins.module_utils.msp360 import MBSClient
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import RetryPolicy

from tests.sandbox import MBS_PASSWORD, MBS_USERNAME

from .conftest import BIN, CREDENTIALS, module_play
from .test_inventory_plugin import plain

COMPANIES = "company/companies"
DEMO = {"AcmeCorp", "Globex", "Initech", "Umbrella", "StarkWayne", "Hooli", "NoContactLtd"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.owner.received.append((self.command, self.path, dict(self.headers), body))
        status, headers, payload = self.server.owner.answer(self.command, self.path, self.headers, body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format, *args):  # noqa: A002 - http.server signature
        """Quiet."""


class Recorder:
    """An HTTP server that records what it receives and answers 200 ``[]``; ``url`` names it as ``localhost``."""

    def __init__(self):
        self.received = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def answer(self, method, path, headers, body):
        return 200, {"Content-Type": "application/json"}, b"[]"

    @property
    def url(self):
        return "http://localhost:%d" % self.port

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


class Front(Recorder):
    """The configured site: forwards to the sandbox; rewrites Link origins to ``link_origin``; ``redirects``
    maps a path regex to the Location answered (307) instead of forwarding."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.link_origin = None
        self.redirects = {}
        super().__init__()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def answer(self, method, path, headers, body):
        for pattern, location in self.redirects.items():
            if re.search(pattern, path):
                return 307, {"Location": location}, b""
        connection = http.client.HTTPConnection(self.sandbox.host, self.sandbox.port, timeout=30)
        forwarded = dict((k, v) for k, v in headers.items() if k.lower() not in ("connection", "content-length"))
        connection.request(method, path, body=body or None, headers=forwarded)
        response = connection.getresponse()
        payload = response.read()
        answer_headers = dict((k, v) for k, v in response.getheaders()
                              if k.lower() not in ("content-length", "connection", "transfer-encoding"))
        link = answer_headers.get("Link")
        if link and self.link_origin:
            answer_headers["Link"] = link.replace(self.url, self.link_origin)
        connection.close()
        return response.status, answer_headers, payload


@pytest.fixture
def recorder():
    server = Recorder()
    yield server
    server.stop()


@pytest.fixture
def front(sandbox):
    server = Front(sandbox)
    saved = sandbox.app.max_page_size
    sandbox.app.max_page_size = 2  # seven demo companies: four pages
    yield server
    sandbox.app.max_page_size = saved
    server.stop()


def leaks(recorder):
    """What reached the other origin: any request at all is a leak of where we were reading from."""
    return [(method, path, sorted(h for h in headers if h.lower() in ("authorization", "clientid")), body)
            for method, path, headers, body in recorder.received]


def client(site, **options):
    settings = dict(site=site, company_id="sandbox", public_key="sandbox-public", private_key="sandbox-private",
                    client_id="origin-tests", retry=RetryPolicy(max_attempts=2, sleep=lambda s: None))
    settings.update(options)
    return ConnectWiseClient(**settings)


def test_the_recorder_sees_what_requests_alone_would_send_across_origins(front, recorder):
    """Why redirects are not left to ``requests``: it strips Authorization but keeps clientId and re-sends
    the body (an MSP360 login's password) to another host on a 307. The recorder catches such a leak."""
    front.redirects = {"Login": recorder.url + "/stolen"}
    requests.post(front.url + "/mbs/api/Provider/Login", json={"UserName": "u", "Password": "pw-sent-along"},
                  headers={"clientId": "cid"}, timeout=10)
    [(method, _path, headers, body)] = recorder.received
    assert method == "POST" and b"pw-sent-along" in body and headers.get("clientId") == "cid"


def test_a_next_page_link_to_another_origin_is_read_from_the_site_with_a_warning(front, recorder):
    front.link_origin = recorder.url
    cw = client(front.url)
    rows = list(cw.list(COMPANIES, order_by="identifier asc", fields=["identifier"]))
    assert {row["identifier"] for row in rows} == DEMO and len(rows) == 7
    assert leaks(recorder) == []
    pages = [path for method, path, _h, _b in front.received if COMPANIES in path]
    assert len(pages) == 4 and all("page=%d" % n in page for n, page in enumerate(pages, 1))
    [warning] = cw.warnings
    assert "points to %s, not to the site %s" % (recorder.url, front.url) in warning


def test_reads_in_id_order_never_follow_links(front, recorder):
    front.link_origin = recorder.url
    cw = client(front.url)
    assert {row["identifier"] for row in cw.list(COMPANIES, fields=["identifier"])} == DEMO
    assert leaks(recorder) == [] and cw.warnings == []


def test_a_redirect_to_another_origin_is_refused_with_its_reason(front, recorder):
    front.redirects = {COMPANIES: recorder.url + "/elsewhere"}
    with pytest.raises(ApiError) as err:
        list(client(front.url).list(COMPANIES))
    assert err.value.status == 307
    assert "redirects to %s/elsewhere; not followed" % recorder.url in str(err.value)
    assert leaks(recorder) == []


def test_a_redirect_within_the_site_is_followed_for_a_read(front, sandbox):
    front.redirects = {"/moved/": "/v4_6_release/apis/3.0/company/companies/1"}
    cw = client(front.url)
    assert cw.get(front.url + "/moved/1")["id"] == 1


def test_an_msp360_login_redirected_elsewhere_sends_no_password(front, recorder):
    front.redirects = {"Login": recorder.url + "/api/Provider/Login"}
    mbs = MBSClient(front.url + "/mbs", MBS_USERNAME, MBS_PASSWORD, retry=RetryPolicy(sleep=lambda s: None))
    with pytest.raises(MBSError) as err:
        mbs.companies()
    assert "not followed" in str(err.value) and MBS_PASSWORD not in str(err.value)
    assert leaks(recorder) == []


def test_an_msp360_call_redirected_elsewhere_sends_no_token(front, recorder):
    front.redirects = {"Companies": recorder.url + "/api/Companies"}
    mbs = MBSClient(front.url + "/mbs", MBS_USERNAME, MBS_PASSWORD, retry=RetryPolicy(sleep=lambda s: None))
    with pytest.raises(MBSError):
        mbs.companies()
    assert leaks(recorder) == []


def test_the_info_module_pages_without_leaving_the_site(ansible, front, recorder):
    front.link_origin = recorder.url
    run = ansible.playbook(module_play("company_info", "Read companies", {}), env={"CW_SITE": front.url})
    assert run.rc == 0, run
    assert {c["identifier"] for c in run.task("Read companies")["result"]["companies"]} == DEMO
    assert leaks(recorder) == []


def test_the_inventory_plugin_pages_without_leaving_the_site(ansible, front, recorder, tmp_path):
    front.link_origin = recorder.url
    source = tmp_path / "origin.connectwise.yml"
    source.write_text("plugin: mbs.connectwise.companies\n")
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(source), "--list"], cwd=str(tmp_path),
                          env=ansible.env({"CW_SITE": front.url}), capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert set(plain(json.loads(proc.stdout))["_meta"]["hostvars"]) == DEMO
    # The plugin reads companies and agreements in id order, page by key: the client builds every next page
    # from the site itself, so the foreign Link is never even considered (no warning needed).
    assert "not to the site" not in " ".join(proc.stderr.split())
    assert leaks(recorder) == [] and recorder.received == []
    assert CREDENTIALS["CW_PRIVATE_KEY"] not in proc.stdout + proc.stderr
