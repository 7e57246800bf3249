"""ConnectWise for the unit tests: the sandbox app (``tests/sandbox``) called in-process.

There is one imitation of ConnectWise to keep faithful, the sandbox; the unit tests reach its
``SandboxApp.handle`` through a ``requests`` transport adapter instead of a socket, so a test
costs no port, no thread and no server start, and sees the same validation, conditions, paging
and errors as the integration tests.

``SandboxConnectWise`` holds one sandbox and what a test needs around it:

- ``add(path, **row)`` seeds a row as a fixture would (validated like a POST; ``id`` may be fixed),
  ``rows(path)`` and ``get(path, id)`` read rows back as the API renders them;
- ``log`` ``(method, path, query)`` of every request and ``sent`` ``(method, path, body)`` of every
  write, in the order sent (``path`` relative to ``apis/3.0/``, ``query`` with one value per name);
  ``calls(method, path)`` and ``writes()`` filter them;
- ``refuse(method, path, body)``, when set, is asked before each write reaches the sandbox: it may
  act as another client (``add`` a row: an overlapping run committing first) and may answer
  ``(status, body)`` instead of the sandbox (a proxy's 502, a refusal the sandbox does not model);
  ``after(method, path, body)`` is asked once the sandbox has committed a write, before the client
  sees the answer (another run committing just after this one);
- the sandbox's own fault rules (``app.faults``), including ``drop_after_commit``: the adapter
  then raises the connection error a dropped socket gives.

``client()`` is a ConnectWise client on this sandbox; ``route_every_session(monkeypatch)`` sends
every client the code under test builds (a module's ``main()``) here as well.
"""

import http.client
import json
import threading
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ProtocolError

from ansible_collections.mbs.connectwise.plugins.module_utils import transport
from ansible_collections.mbs.connectwise.plugins.module_utils.client import ConnectWiseClient

from tests.sandbox.app import COMPANY_ID, MAX_PAGE_SIZE, PRIVATE_KEY, PUBLIC_KEY, Request, SandboxApp
from tests.sandbox.errors import ApiError
from tests.sandbox.store import FIXTURE_ACTOR

from . import conftest
from .conftest import SITE, no_sleep_policy

API_MARK = "/apis/3.0/"
# The sandbox's clock in the unit tests: time is an input (an addition's default effective date,
# an agreement's status follow it), so it is fixed.
TODAY = "2026-11-02"
CONNECTION = {
    "site": SITE,
    "company_id": COMPANY_ID,
    "public_key": PUBLIC_KEY,
    "private_key": PRIVATE_KEY,
    "client_id": "unit-tests",
    "codebase": "v4_6_release/",
}
EMPTY = {"connectwise": {}}


class SeedError(AssertionError):
    """A row a test seeds that ConnectWise would refuse (the sandbox's answer says why)."""


class SandboxAdapter(BaseAdapter):
    """Answers every request of a ``requests`` session from a ``SandboxConnectWise``."""

    def __init__(self, connectwise):
        super().__init__()
        self.connectwise = connectwise

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        return self.connectwise.answer(request, self)

    def close(self):
        """Nothing to release: no socket was opened."""


class SandboxConnectWise:
    """One in-process sandbox and the inspection a unit test asserts on."""

    def __init__(self, fixture=None, today=TODAY, resources=None, max_page_size=MAX_PAGE_SIZE):
        self.app = SandboxApp(EMPTY if fixture is None else fixture, today=today, resources=resources,
                              max_page_size=max_page_size)
        self.adapter = SandboxAdapter(self)
        self.log = []
        self.sent = []
        self.refuse = None
        self.after = None
        self._lock = threading.Lock()

    # ---- data -----------------------------------------------------------------------------------
    @property
    def store(self):
        return self.app.store

    def add(self, path, **row):
        """Seed one row of ``path`` (``finance/agreements/7/additions`` for a nested one); returns it rendered."""
        table, parent, _tail = self.app.route(path)
        try:
            return self.store.create(table, row, parent, actor=FIXTURE_ACTOR)
        except ApiError as exc:
            raise SeedError("seeding %s %r: %s" % (path, row, json.dumps(exc.body))) from exc

    def get(self, path, row_id):
        """One row of ``path`` as the API returns it."""
        table, parent, _tail = self.app.route(path)
        return self.store.get(table, row_id, parent)

    def rows(self, path):
        """Every row of ``path`` as the API returns it, by id."""
        table, parent, _tail = self.app.route(path)
        with self.store.lock:
            return [self.store.render(table, row) for row in self.store.select(table, parent)]

    # ---- inspection -----------------------------------------------------------------------------
    def calls(self, method=None, path=None):
        return [c for c in self.log if (method is None or c[0] == method) and (path is None or c[1] == path)]

    def writes(self):
        return [c for c in self.log if c[0] != "GET"]

    # ---- clients --------------------------------------------------------------------------------
    def session(self):
        session = requests.Session()
        session.mount("https://", self.adapter)
        session.mount("http://", self.adapter)
        return session

    def client(self, **options):
        """A ConnectWise client on this sandbox that never sleeps between retries."""
        settings = dict(CONNECTION, retry=no_sleep_policy())
        settings.update(options)
        return ConnectWiseClient(session=self.session(), **settings)

    def route_every_session(self, monkeypatch):
        """Every transport built from now on (a module's own client) talks to this sandbox."""
        monkeypatch.setattr(transport, "HTTPAdapter", lambda **_pool: self.adapter)

    # ---- HTTP -----------------------------------------------------------------------------------
    def answer(self, prepared, adapter):
        parts = urlsplit(prepared.url)
        payload = prepared.body or b""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        method = prepared.method.upper()
        path = parts.path.split(API_MARK, 1)[1].strip("/") if API_MARK in parts.path else parts.path.strip("/")
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body = _json_or_none(payload)
        with self._lock:
            self.log.append((method, path, query))
            if method != "GET":
                self.sent.append((method, path, body))
        if method != "GET" and self.refuse is not None:
            refused = self.refuse(method, path, body)
            if refused:
                return _response(prepared, adapter, refused[0], refused[1], {})
        result = self.app.handle(Request(method, unquote(parts.path), parse_qsl(parts.query, keep_blank_values=True),
                                         prepared.headers, payload, parts.netloc, parts.path, parts.scheme))
        if method != "GET" and self.after is not None:
            self.after(method, path, body)
        if result.drop:
            # What a socket closed after the commit gives the client: no answer at all.
            raise requests.exceptions.ConnectionError(
                ProtocolError("Connection aborted.",
                              http.client.RemoteDisconnected("Remote end closed connection without response")),
                request=prepared)
        return _response(prepared, adapter, result.status, result.body, result.headers)


def _json_or_none(payload):
    if not payload.strip():
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None


def _response(prepared, adapter, status, body, headers):
    response = requests.models.Response()
    response.status_code = status
    response.reason = http.client.responses.get(status, "")
    response.headers = CaseInsensitiveDict(headers)
    if body is not None:
        response.headers["Content-Type"] = "application/json; charset=utf-8"
    response._content = b"" if body is None else json.dumps(body).encode("utf-8")
    response.encoding = "utf-8"
    response.url = prepared.url
    response.request = prepared
    response.connection = adapter
    return response


def run_module(module, args, **options):
    """``conftest.run_module`` with the sandbox's credentials."""
    return conftest.run_module(module, args, connection=CONNECTION, **options)
