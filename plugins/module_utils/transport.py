# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP transport shared by the ConnectWise and MSP360 clients.

Everything about the wire that is not specific to one API lives here: the
``requests.Session``, timeouts, TLS verification, retries with jittered
exponential backoff that honour ``Retry-After``, and the error classes that
carry method, path and status up to ``fail_json``.

Retry policy, and why a POST is special: GET/PUT/PATCH/DELETE are idempotent,
so a 429/500/502/503/504 or a connection error is simply retried. A POST creates
something; when its outcome is unknown (read timeout, connection dropped after
the request was sent, 500/502/503/504 from a server or proxy that may have forwarded it) a
blind re-send can create a duplicate, so :class:`OutcomeUnknown` is raised and
the caller re-reads by natural key before deciding to POST again. A 429 is a
refusal before processing, and a connection that was never established sent
nothing, so those two are retried for POST too. Connection errors are told apart
by exception type (urllib3/requests classes), never by message text; a TLS
certificate error or an unknown host fails at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json
import random
import threading
import time
import traceback

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
# A gateway's answer: the server behind it may still be working on the request.
GATEWAY_STATUSES = frozenset((502, 504))
# ConnectWise (IIS behind a proxy) is documented safe up to 2,000 characters per URL.
MAX_URL_LENGTH = 2000
IDEMPOTENT_METHODS = frozenset(("GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))
REDACTED = "********"


class ApiError(Exception):
    """An HTTP call that failed, with everything a user needs to act on it."""

    def __init__(self, method, path, status=None, body=None, message=None):
        self.method = method
        self.path = path
        self.status = status
        self.body = body if isinstance(body, dict) else None
        # ConnectWise names the error under "code", except its 429 body which uses "error".
        self.code = (self.body.get("code") or self.body.get("error")) if self.body else None
        self.api_message = self.body.get("message") if self.body else None
        self.errors = list(self.body.get("errors") or []) if self.body else []
        self.detail = message
        super(ApiError, self).__init__(self._compose())

    def with_detail(self, detail):
        """The same error, its message ending with ``detail`` instead (what the caller learned after)."""
        self.detail = detail
        self.args = (self._compose(),)
        return self

    def _compose(self):
        where = "%s %s" % (self.method, self.path)
        if self.status is not None:
            where += " returned HTTP %s" % self.status
        parts = [where]
        if self.code or self.api_message:
            parts.append(": ".join(p for p in (self.code, self.api_message) if p))
        for error in self.errors:
            field = error.get("field")
            text = error.get("message") or error.get("code") or ""
            parts.append("%s: %s" % (field, text) if field else text)
        if self.detail:
            parts.append(self.detail)
        return " - ".join(parts)

    def to_result(self):
        """Structured form for a module's ``fail_json``."""
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "code": self.code,
            "errors": self.errors,
        }


class AuthenticationError(ApiError):
    """401: the keys (or the clientId) were refused."""


class NotFoundError(ApiError):
    """404 on a specific object."""


class OutcomeUnknown(ApiError):
    """A POST was sent but no reliable answer came back; re-read before retrying.

    ``in_flight`` says whether the request may still be running on the server: no answer at
    all (read timeout, dropped connection) or a gateway's 502/504. A 500 or 503 is the
    server's own answer, so whatever it did is done by the time the caller re-reads.
    """

    def __init__(self, method, path, status=None, body=None, message=None, in_flight=True):
        self.in_flight = in_flight
        super(OutcomeUnknown, self).__init__(method, path, status, body, message)


class TransportError(ApiError):
    """No HTTP answer at all (DNS, refused connection, TLS, timeout) after retries."""


class RetryPolicy:
    """How hard to try. ``total_wait`` bounds the sum of all sleeps of one call."""

    def __init__(self, max_attempts=6, base_delay=0.5, max_delay=30.0, total_wait=120.0,
                 sleep=time.sleep, rng=None):
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.total_wait = total_wait
        self.sleep = sleep
        self.rng = rng or random.Random()

    def settle_delays(self, timeout):
        """Pauses between re-reads while a POST with a lost answer may still commit.

        The server may go on working on a request after the client's ``timeout`` gave up on
        it, so the re-reads cover twice that timeout after the failure: short pauses first
        (most lost answers were committed already), then at most half the timeout apart.
        """
        window = 2.0 * max(float(timeout or 0), 1.0)
        ceiling = max(window / 4.0, 1.0)
        delays, step, total = [], 1.0, 0.0
        while total < window:
            delay = min(step, window - total)
            delays.append(delay)
            total += delay
            step = min(step * 2, ceiling)
        return delays

    def backoff(self, attempt, retry_after=None):
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        # Full jitter: parallel workers that hit a 429 together spread out again.
        return self.rng.uniform(ceiling / 2.0, ceiling)


def parse_retry_after(value):
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    import datetime
    now = datetime.datetime.now(when.tzinfo or datetime.timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def scrub(text, secrets):
    """Replace every secret in ``text``; secrets must never reach a message or result."""
    if not isinstance(text, str):
        return text
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _decode_body(response):
    try:
        return response.json()
    except ValueError:
        return None


def _classify_connection_error(exc):
    """``(fatal_reason, sent_nothing)`` from the exception's type, never from its text.

    A certificate error will not heal by waiting (fatal). ``ConnectTimeout`` and a
    ``NewConnectionError`` (refused, unknown host) mean the request never reached the
    server, so even a POST may be re-sent. Anything else (read timeout, dropped
    connection, protocol error) came after the request was sent: outcome unknown.
    """
    if isinstance(exc, requests.exceptions.SSLError):
        return ("TLS certificate verification failed (not retried); fix the certificate, "
                "or for a test server only set validate_certs: false"), True
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return None, True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)
        if isinstance(reason, NameResolutionError):
            # An unknown host will not appear by waiting.
            return "unknown host (not retried)", True
        if isinstance(reason, NewConnectionError):
            return None, True
    return None, False


class Transport:
    """One ``requests.Session`` with the collection's retry and error rules."""

    def __init__(self, base_url, headers=None, auth=None, validate_certs=True, timeout=30,
                 retry=None, session=None, secrets=(), pool_size=16):
        self.base_url = base_url.rstrip("/") + "/"
        self.headers = dict(headers or {})
        self.auth = auth
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.secrets = tuple(s for s in secrets if s)
        self.stats = collections.Counter()
        # Length of the longest URL sent, kept apart from ``stats`` (a count per method).
        self.longest_url = 0
        self._stats_lock = threading.Lock()
        if session is None:
            session = requests.Session()
            # Parallel workers share this session; size the pool to match.
            adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session

    def url_for(self, path):
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return self.base_url + path.lstrip("/")

    def encoded_url(self, path, params=None):
        """The URL exactly as requests will send it (percent-encoding and all)."""
        prepared = requests.models.PreparedRequest()
        prepared.prepare_url(self.url_for(path), params)
        return prepared.url

    def display_path(self, path):
        """The path as shown in messages: relative to the API base, no query secrets."""
        if path.startswith(self.base_url):
            path = path[len(self.base_url):]
        return scrub(path.split("?", 1)[0], self.secrets)

    def request(self, method, path, params=None, json=None, headers=None, data=None, idempotent=None):
        """One call with retries. ``idempotent=True`` marks a POST without side effects
        (a login) so it is retried like a read; by default only non-POST methods are."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self.url_for(path)
        shown = self.display_path(path)
        merged_headers = dict(self.headers)
        merged_headers.update(headers or {})
        url_length = len(self.encoded_url(path, params))
        with self._stats_lock:
            self.longest_url = max(self.longest_url, url_length)
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            with self._stats_lock:
                self.stats[method] += 1
            try:
                response = self.session.request(
                    method, url, params=params, json=json, data=data, headers=merged_headers,
                    auth=self.auth, verify=self.validate_certs, timeout=self.timeout,
                )
            except requests.exceptions.RequestException as exc:
                reason = scrub("%s: %s" % (type(exc).__name__, exc), self.secrets)
                fatal, sent_nothing = _classify_connection_error(exc)
                if fatal:
                    raise TransportError(method, shown, message="%s: %s" % (fatal, reason))
                if not idempotent and not sent_nothing:
                    raise OutcomeUnknown(method, shown, message=reason)
                delay = self.retry.backoff(attempt)
                if attempt >= self.retry.max_attempts or waited + delay > self.retry.total_wait:
                    raise TransportError(method, shown, message=reason)
                waited += delay
                self.retry.sleep(delay)
                continue

            status = response.status_code
            if 200 <= status < 300:
                return response
            body = _decode_body(response)
            if status in RETRY_STATUSES:
                retryable = idempotent or status == 429
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                delay = self.retry.backoff(attempt, retry_after)
                if not retryable:
                    raise OutcomeUnknown(method, shown, status, body,
                                         message="the server may have processed the request",
                                         in_flight=status in GATEWAY_STATUSES)
                if attempt < self.retry.max_attempts and waited + delay <= self.retry.total_wait:
                    waited += delay
                    self.retry.sleep(delay)
                    continue
            raise self._error(method, shown, status, body, response)

    def _error(self, method, shown, status, body, response):
        detail = None
        if body is None:
            detail = scrub((response.text or "").strip()[:300], self.secrets) or None
        else:
            body = json.loads(scrub(json.dumps(body), self.secrets))
        cls = ApiError
        if status == 401:
            cls = AuthenticationError
        elif status == 404:
            cls = NotFoundError
        return cls(method, shown, status, body, message=detail)
