"""Request handling independent of the socket: routing, auth, lists, journal, faults, control API.

``SandboxApp.handle(Request) -> Response`` is everything the sandbox does; ``server.py``
only moves bytes. Keeping it apart lets the HTTP layer stay small and lets tests call the
app directly when they need to.
"""

import base64
import binascii
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field as dc_field

from . import invoicing, lists
from .clock import Clock, parse_day, rebase
from .errors import STATUS_CODES, ApiError, not_found
from .faults import Faults, FaultRuleError
from .fixtures import generate_fixture, load_fixture
from .mbs import MbsError, MbsService
from .ratelimit import RateLimit
from .store import FixtureError, Store

COMPANY_ID = "sandbox"
PUBLIC_KEY = "sandbox-public"
PRIVATE_KEY = "sandbox-private"
CODEBASE = "v4_6_release/"
# ConnectWise keeps a deprecated API version for 12 months after a breaking change, then
# refuses it. The sandbox's "supported set" starts at 2024.1; a request without a version
# (plain application/json) is served the current one, as ConnectWise does.
OLDEST_API_VERSION = (2024, 1)
_ACCEPT_VERSION_RE = re.compile(r"version\s*=\s*([0-9]{4})\.([0-9]{1,2})")
MAX_PAGE_SIZE = 1000
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
API_RE = re.compile(r"^/(?P<codebase>[^/]+)/apis/3\.0/(?P<resource>.+?)/?$")
COMPANYINFO_RE = re.compile(r"^/login/companyinfo/(?P<company>[^/]+)/?$")
SECRET_KEY_RE = re.compile(r"password|secret|token", re.IGNORECASE)
INVOICE_LINES_RE = re.compile(r"^/invoices/(\d+)/lines$")
KEEP = object()  # reset(today=KEEP): leave the clock as it is


@dataclass
class Request:
    method: str
    path: str                    # decoded path without the query
    query: list                  # [(name, value)] in the order sent
    headers: object              # case-insensitive mapping (email.message.Message)
    body: bytes = b""
    host: str = "127.0.0.1"
    raw_path: str = ""           # path as sent, for Link headers
    scheme: str = "http"         # as the client reached us, for Link headers

    def param(self, name):
        """A query parameter by case-insensitive name (the last one wins), or None."""
        found = None
        for key, value in self.query:
            if key.lower() == name.lower():
                found = value
        return found


@dataclass
class Response:
    status: int
    body: object = None
    headers: dict = dc_field(default_factory=dict)
    drop: bool = False


def _route_regex(res):
    pattern = re.escape(res.path).replace(re.escape("{parent}"), r"(?P<parent>\d+)")
    return re.compile(rf"^{pattern}(?:/(?P<tail>count|\d+))?$")


def routes(resources):
    """(table, path regex) of each resource, longest paths first so "finance/agreements/types"
    is not read as an agreement id."""
    return [(res.table, _route_regex(res)) for res in sorted(resources.values(), key=lambda r: -len(r.path))]


def _redact(value):
    """Journal bodies without secrets (passwords, tokens), which must never reach a log."""
    if isinstance(value, dict):
        return {k: "***" if SECRET_KEY_RE.search(k) and v is not None else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def _query_dict(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            out[key] = (out[key] if isinstance(out[key], list) else [out[key]]) + [value]
        else:
            out[key] = value
    return out


class SandboxApp:
    """The sandbox's state and request handling (thread-safe)."""

    def __init__(self, fixture="demo", latency_ms=0, today=None, resources=None, max_page_size=MAX_PAGE_SIZE,
                 rate_limit=None):
        """``resources`` replaces the tables served (default ``schema.RESOURCES``): tests of generic
        code add tables of their own this way. ``max_page_size`` is ConnectWise's cap on ``pageSize``;
        a test lowers it to read several pages without loading thousands of rows."""
        self.fixture_source = fixture
        self.clock = Clock(today)
        data = rebase(load_fixture(fixture), self.clock.today())
        self.store = Store(data, self.clock, resources)
        self.routes = routes(self.store.resources)
        self.max_page_size = max_page_size
        self.mbs = MbsService(data.get("mbs"), self.clock)
        self.faults = Faults()
        self.latency_ms = latency_ms
        self.rate_limit = RateLimit(rate_limit)  # ratelimit.py: Cloudflare's token bucket, off by default
        self.lock = threading.Lock()   # journal and stats
        self.journal = []
        self.seq = 0
        self.stats = self._empty_stats()

    # ----------------------------------------------------------------- state
    @staticmethod
    def _empty_stats():
        return {"requests": 0, "writes": 0, "by_method": {}, "by_api": {}, "seconds": 0.0}

    def reset(self, fixture=None, today=KEEP):
        """Reload a fixture (default: the one the sandbox started with); clear journal, faults, stats.

        ``today`` sets the clock first (None: the real date); the fixture's dates move with it.
        """
        if today is not KEEP:
            self.clock.set(today)
        data = rebase(load_fixture(self.fixture_source if fixture is None else fixture), self.clock.today())
        self.store.load(data)
        self.mbs.load(data.get("mbs"))
        self.faults.clear()
        self.clear_journal()
        with self.lock:
            self.stats = self._empty_stats()

    def journal_entries(self):
        with self.lock:
            return json.loads(json.dumps(self.journal))

    def clear_journal(self):
        with self.lock:
            self.journal = []

    def _record(self, api, request, path, body, response, seconds):
        with self.lock:
            self.seq += 1
            entry = {"seq": self.seq, "api": api, "method": request.method, "path": path,
                     "query": _query_dict(request.query), "body": _redact(body), "status": response.status}
            if response.drop:
                entry["dropped"] = True
            self.journal.append(entry)
            stats = self.stats
            stats["requests"] += 1
            stats["writes"] += request.method in WRITE_METHODS
            stats["by_method"][request.method] = stats["by_method"].get(request.method, 0) + 1
            stats["by_api"][api] = stats["by_api"].get(api, 0) + 1
            stats["seconds"] += seconds

    # ----------------------------------------------------------------- entry point
    def handle(self, request):
        """Answer one request: control API, or fault check + latency + API call + journal."""
        if request.path == "/_sandbox" or request.path.startswith("/_sandbox/"):
            return self._control(request)
        started = time.perf_counter()
        api, path, action = self._classify(request)
        effect = self.faults.effect_for(api, request.method, path)
        throttled = self.rate_limit.take() if api == "connectwise" else None
        delay = self.latency_ms + effect.latency_ms
        if delay > 0:
            time.sleep(delay / 1000.0)
        body, body_problem = self._parse_body(request)
        refused_version = self._retired_api_version(request) if api == "connectwise" else None
        if throttled is not None:
            response = Response(*self.rate_limit.refusal(throttled))
        elif effect.status:
            response = self._fault_response(api, effect)
        elif refused_version:
            response = self._error(api, ApiError(
                400, f"This site does not support the API version '{refused_version}'.", "ConnectWiseApi"))
        elif body_problem:
            response = self._error(api, ApiError(400, body_problem, "InvalidObject"))
        else:
            response = action(request, body)
        response.drop = effect.drop_after_commit and not effect.status and throttled is None
        self._record(api, request, path, body if not body_problem else request.body.decode("utf-8", "replace"),
                     response, time.perf_counter() - started)
        return response

    @staticmethod
    def _parse_body(request):
        if not request.body.strip():
            return None, None
        try:
            return json.loads(request.body), None
        except (ValueError, UnicodeDecodeError) as exc:
            return None, f"The request body is not valid JSON: {exc}"

    def _classify(self, request):
        """(api, journal path, action) for a non-control request."""
        if request.path == "/mbs" or request.path.startswith("/mbs/"):
            sub = request.path[len("/mbs/"):]
            return "mbs", sub, lambda req, body: self._mbs(req, body, sub)
        match = API_RE.match(request.path)
        if match:
            resource = match.group("resource")
            return "connectwise", resource, lambda req, body: self._api(req, body, resource)
        match = COMPANYINFO_RE.match(request.path)
        if match:
            return "connectwise", f"login/companyinfo/{match.group('company')}", \
                lambda req, body: self._companyinfo(req, match.group("company"))
        path = request.path.lstrip("/")
        return "connectwise", path, lambda req, body: self._error(
            "connectwise", not_found(f"{request.method} /{path}: no such endpoint"))

    @staticmethod
    def _retired_api_version(request):
        """The Accept header's version when ConnectWise would refuse it as retired, else None."""
        match = _ACCEPT_VERSION_RE.search(request.headers.get("Accept") or "")
        if not match:
            return None
        version = (int(match.group(1)), int(match.group(2)))
        if version >= OLDEST_API_VERSION:
            return None
        return f"{match.group(1)}.{match.group(2)}"

    @staticmethod
    def _error(api, exc):
        if api == "mbs":
            return Response(exc.status, {"Message": exc.body["message"]})
        return Response(exc.status, exc.body)

    def _fault_response(self, api, effect):
        status = effect.status
        message = f"Sandbox fault injection: HTTP {status}"
        if status == 429 and api == "connectwise":
            # ConnectWise's throttle body names the error under "error", not "code".
            response = Response(429, {"error": "ConnectWiseAPI",
                                      "message": "Too many requests. Please try again in 30 seconds."})
        else:
            if status == 429:
                message = "Too many requests; slow down and retry later"
            response = self._error(api, ApiError(status, message))
        if effect.retry_after is not None:
            response.headers["Retry-After"] = str(effect.retry_after)
        return response

    # ----------------------------------------------------------------- ConnectWise
    def _companyinfo(self, request, company):
        if company.lower() != COMPANY_ID:
            return self._error("connectwise", ApiError(404, f"Company {company!r} was not found", "NotFound"))
        return Response(200, {"CompanyName": "Sandbox MSP", "Codebase": CODEBASE, "VersionCode": "v2025.1",
                              "VersionNumber": "v2025.1", "CompanyID": COMPANY_ID, "IsCloud": "true",
                              "SiteUrl": request.host})

    @staticmethod
    def _authenticate(headers):
        """Basic company+public:private and a non-empty clientId; never echo what was sent."""
        scheme, _sep, encoded = (headers.get("Authorization") or "").partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        user, _sep, private = decoded.partition(":")
        company, _sep, public = user.partition("+")
        good = scheme.lower() == "basic" and company.lower() == COMPANY_ID and public == PUBLIC_KEY and \
            hmac.compare_digest(private.encode(), PRIVATE_KEY.encode())
        if not good:
            raise ApiError(401, "Authentication failed: send Authorization: Basic base64(companyId+publicKey:"
                                "privateKey) with valid API member keys", "Unauthorized")
        if not (headers.get("clientId") or "").strip():
            raise ApiError(401, "clientId is required: send the clientId header with your integration's client id",
                           "Unauthorized")

    def _api(self, request, body, resource):
        try:
            return self._api_call(request, body, resource)
        except ApiError as exc:
            return self._error("connectwise", exc)

    def _api_call(self, request, body, resource):
        self._authenticate(request.headers)
        table, parent, tail = self.route(resource)
        method = request.method
        if method != "GET" and not self.store.resources[table].api_writes:
            raise ApiError(405, f"{method} {resource}: the sandbox makes {table} itself (agreement invoicing: "
                                "POST /_sandbox/invoice); the API only reads them", "MethodNotAllowed")
        if tail == "count" and method == "GET":
            return Response(200, {"count": len(lists.select(self.store, request, table, parent, ordered=False))})
        if tail is None and method == "GET":
            items, headers = lists.read_page(self.store, request, table, parent, self.max_page_size)
            return Response(200, items, headers)
        if tail is None and method == "POST":
            return Response(201, lists.trim(self.store.create(table, body, parent), lists.fields(request)))
        if tail not in (None, "count"):
            row_id = int(tail)
            if method == "GET":
                return Response(200, lists.trim(self.store.get(table, row_id, parent), lists.fields(request)))
            if method == "PUT":
                return Response(200, self.store.replace(table, row_id, body, parent))
            if method == "PATCH":
                return Response(200, self.store.patch(table, row_id, body, parent))
            if method == "DELETE":
                self.store.delete(table, row_id, parent)
                return Response(204)
        raise ApiError(405, f"{method} is not allowed on {resource}", "MethodNotAllowed")

    def route(self, resource):
        """``finance/agreements/7/additions/3`` -> ("additions", 7, "3"): table, parent id (or None)
        and what follows the collection (a row id, ``count`` or None); 404 when nothing serves it."""
        for table, regex in self.routes:
            match = regex.match(resource)
            if match:
                parent = int(match.group("parent")) if match.groupdict().get("parent") else None
                return table, parent, match.group("tail")
        raise not_found(f"resource {resource!r}")

    # ----------------------------------------------------------------- MSP360
    def _mbs(self, request, body, sub):
        try:
            status, result = self.mbs.handle(request.method, sub, request.headers, body)
        except MbsError as exc:
            return Response(exc.status, exc.body)
        return Response(status, result)

    # ----------------------------------------------------------------- control API
    def handle_control(self, method, path, body=None):
        """A control call without HTTP (the ``Sandbox`` helpers); ``path`` follows ``/_sandbox``."""
        payload = json.dumps(body).encode("utf-8") if body is not None else b""
        return self._control(Request(method, "/_sandbox" + path, [], {}, payload))

    def _control(self, request):
        try:
            return self._control_call(request)
        except ApiError as exc:
            return Response(exc.status, exc.body)

    def _control_call(self, request):
        body, problem = self._parse_body(request)
        if problem:
            raise ApiError(400, problem)
        route = (request.method, request.path.rstrip("/")[len("/_sandbox"):])
        lines = INVOICE_LINES_RE.match(route[1]) if route[0] == "GET" else None
        if lines:
            return self._control_invoice_lines(int(lines.group(1)))
        handler = self._control_routes().get(route)
        if handler is None:
            raise not_found(f"control endpoint {request.method} {request.path}")
        return handler(body if body is not None else {})

    def _control_routes(self):
        return {
            ("GET", "/journal"): lambda body: Response(200, {"requests": self.journal_entries()}),
            ("DELETE", "/journal"): lambda body: (self.clear_journal(), Response(204))[1],
            ("POST", "/reset"): self._control_reset,
            ("GET", "/faults"): lambda body: Response(200, {"rules": self.faults.describe()}),
            ("POST", "/faults"): self._control_add_faults,
            ("DELETE", "/faults"): lambda body: (self.faults.clear(), Response(204))[1],
            ("GET", "/latency"): lambda body: Response(200, {"ms": self.latency_ms}),
            ("POST", "/latency"): self._control_latency,
            ("GET", "/rate-limit"): lambda body: Response(200, self.rate_limit.describe()),
            ("POST", "/rate-limit"): lambda body: Response(200, self.rate_limit.configure(body)),
            ("GET", "/stats"): lambda body: Response(200, self.stats_snapshot()),
            ("GET", "/clock"): lambda body: Response(200, self._clock_state()),
            ("POST", "/clock"): self._control_clock,
            ("POST", "/mbs/expire-tokens"): lambda body: (self.mbs.expire_tokens(), Response(204))[1],
            ("POST", "/invoice"): self._control_invoice,
        }

    def _control_invoice(self, body):
        """Agreement invoicing: ``{"period": "YYYY-MM"}`` or ``{"through": "YYYY-MM-DD"}``, optionally
        ``"agreement": <id>`` (default every agreement) and ``"date"`` (the invoice date; default each
        cycle's first day). Answers the invoices made and the agreements with nothing outstanding."""
        if not isinstance(body, dict) or not isinstance(body.get("agreement", 0), int):
            raise ApiError(400, 'invoice body must be {"period": "YYYY-MM"} or {"through": "YYYY-MM-DD"}, with '
                                '"agreement": <id> to invoice one agreement')
        try:
            through = invoicing.through_of(body)
            invoice_date = parse_day(body["date"], "date") if body.get("date") is not None else None
            made, skipped = invoicing.run(self.store, body.get("agreement"), through, invoice_date)
        except LookupError as exc:
            raise not_found(str(exc)) from exc
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc
        with self.store.lock:
            return Response(200, {"invoices": [self.store.render("invoices", row) for row in made],
                                  "skipped": skipped})

    def _control_invoice_lines(self, invoice_id):
        found = invoicing.lines(self.store, invoice_id)
        if found is None:
            raise not_found(f"invoice {invoice_id}")
        return Response(200, {"invoice": invoice_id, "lines": found})

    def stats_snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.stats))

    def _control_reset(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, "reset body must be an object")
        fixture = body.get("fixture")
        today = body["today"] if "today" in body else KEEP
        if body.get("generate") is not None:
            if not isinstance(body["generate"], dict):
                raise ApiError(400, "generate must be an object of generate_fixture arguments")
            try:
                fixture = generate_fixture(**body["generate"])
            except TypeError as exc:
                raise ApiError(400, f"generate: {exc}") from exc
        try:
            self.reset(fixture, today)
        except (FixtureError, OSError, ValueError) as exc:
            raise ApiError(400, f"reset failed: {exc}") from exc
        return Response(200, {"reset": True, "today": self.clock.today().isoformat(),
                              "counts": {t: len(rows) for t, rows in self.store.tables.items()}})

    def _clock_state(self):
        fixed = self.clock.fixed
        return {"today": self.clock.today().isoformat(), "fixed": fixed is not None}

    def _control_clock(self, body):
        """Move today without reloading (time passes: agreements expire, months end)."""
        if not isinstance(body, dict) or "today" not in body:
            raise ApiError(400, 'clock body must be {"today": "YYYY-MM-DD"} or {"today": null} for the real date')
        try:
            self.clock.set(body["today"])
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc
        return Response(200, self._clock_state())

    def _control_add_faults(self, body):
        try:
            added = self.faults.add(body.get("rules") if isinstance(body, dict) else None)
        except FaultRuleError as exc:
            raise ApiError(400, f"fault rules are invalid: {exc}") from exc
        return Response(201, {"added": added, "rules": self.faults.describe()})

    def _control_latency(self, body):
        ms = body.get("ms") if isinstance(body, dict) else None
        if not isinstance(ms, (int, float)) or isinstance(ms, bool) or ms < 0:
            raise ApiError(400, "latency body must be {\"ms\": <non-negative number>}")
        self.latency_ms = ms
        return Response(200, {"ms": ms})


__all__ = ["SandboxApp", "Request", "Response", "STATUS_CODES", "COMPANY_ID", "PUBLIC_KEY", "PRIVATE_KEY"]
