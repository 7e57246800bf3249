# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP transport shared by the ConnectWise and MSP360 clients.

Everything about the wire that is not specific to one API lives here: the
``requests.Session``, timeouts, TLS verification, retries with jittered
exponential backoff that honour ``Retry-After``, and which error class (:mod:`errors`) each
failure raises, carrying method, path and status up to ``fail_json``.

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

Throttling: a 429 (or a 503 with ``Retry-After``) is the server asking for a slower pace, so it is
retried at the pace it names for as long as the wait budget (``RetryPolicy.total_wait``) lasts,
however many attempts that takes; and :class:`pacing.AdaptiveConcurrency` lowers how many requests the
threads sharing one transport keep in flight, raising it again as answers come back clean. While
a throttled request waits its ``Retry-After``, the other threads send nothing either.

Credentials stay with their origin (:mod:`origin`): a request to another scheme, host or port
than the transport's base URL is refused before it is sent, and redirects are not followed by
``requests`` (which would keep the ``clientId`` header and re-send a login body to another host):
only a GET redirected within the origin is followed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import contextlib
import json
import random
import ssl
import threading
import time
import traceback

from ansible.module_utils.six.moves.urllib.parse import urljoin

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    OutcomeUnknown,
    TransportError,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.origin import origin_of, redact_url, show_origin
from ansible_collections.mbs.connectwise.plugins.module_utils.pacing import AdaptiveConcurrency

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
# Redirects followed within the origin (GET only) before giving up.
MAX_REDIRECTS = 5
# OpenSSL's reasons for a handshake whose answer was not TLS at all: a plain-HTTP server on an
# https:// address (the names differ between OpenSSL versions).
PLAIN_HTTP_TLS_REASONS = frozenset(("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG",
                                    "UNKNOWN_PROTOCOL", "HTTP_REQUEST"))


class RetryPolicy:
    """How hard to try. ``total_wait`` bounds the sum of all sleeps of one call.

    ``max_attempts`` bounds the retries of errors (5xx, lost connections); a throttled request
    (429, or 503 with ``Retry-After``) is retried for as long as ``total_wait`` lasts.
    """

    def __init__(self, max_attempts=6, base_delay=0.5, max_delay=30.0, total_wait=120.0,
                 sleep=time.sleep, rng=None):
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.total_wait = total_wait
        self.sleep = sleep
        self.rng = rng or random.Random()

    def may_wait(self, attempt, waited, delay, throttled):
        """Whether to sleep ``delay`` and try again after ``attempt`` attempts that waited ``waited`` seconds."""
        if waited + delay > self.total_wait:
            return False
        return throttled or attempt < self.max_attempts

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
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1).

        The server's ``Retry-After`` when it gives a positive one (capped at ``max_delay``); else (none,
        or "0", which would make a throttled retry spin) jittered exponential backoff.
        """
        if retry_after is not None and retry_after > 0:
            return min(retry_after, self.max_delay)
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


def _ssl_cause(exc):
    """The ``ssl.SSLError`` inside a requests/urllib3 TLS failure, or None."""
    seen = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        todo.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        todo.extend((getattr(current, "reason", None), current.__cause__, current.__context__))
    return None


def _tls_failure(exc):
    """What went wrong in a TLS handshake, from the ssl error's type and OpenSSL reason code."""
    cause = _ssl_cause(exc)
    reason = getattr(cause, "reason", None)
    if reason in PLAIN_HTTP_TLS_REASONS:
        return ("the server answered plain HTTP on an https:// address (not retried): check the scheme and port "
                "of the address; a server that only speaks plain HTTP needs an http:// address (and allow_http "
                "when it is not on this machine)")
    if reason and not isinstance(cause, ssl.SSLCertVerificationError):
        return "TLS handshake failed (%s, not retried); check the address and the server's TLS setup" % reason
    return ("TLS certificate verification failed (not retried); fix the certificate, "
            "or for a test server only set validate_certs: false")


def _classify_connection_error(exc):
    """``(fatal_reason, sent_nothing)`` from the exception's type, never from its text.

    A certificate error will not heal by waiting (fatal). ``ConnectTimeout`` and a
    ``NewConnectionError`` (refused, unknown host) mean the request never reached the
    server, so even a POST may be re-sent. Anything else (read timeout, dropped
    connection, protocol error) came after the request was sent: outcome unknown.
    """
    if isinstance(exc, requests.exceptions.SSLError):
        return _tls_failure(exc), True
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


_NO_PAUSE = contextlib.nullcontext()


def is_throttled(response):
    """The server asks for a slower pace: a 429, or a 503 that says when to come back."""
    return response.status_code == 429 or (response.status_code == 503 and bool(response.headers.get("Retry-After")))


class Transport:
    """One ``requests.Session`` with the collection's retry, origin and error rules."""

    def __init__(self, base_url, headers=None, auth=None, validate_certs=True, timeout=30,
                 retry=None, session=None, secrets=(), pool_size=16):
        self.base_url = base_url.rstrip("/") + "/"
        self.origin = origin_of(self.base_url)
        self.headers = dict(headers or {})
        self.auth = auth
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.secrets = tuple(s for s in secrets if s)
        self.stats = collections.Counter()
        # Throttled answers (429, 503 with Retry-After), kept apart from ``stats`` (a count per method).
        self.throttled = 0
        # Length of the longest URL sent, kept apart from ``stats`` (a count per method).
        self.longest_url = 0
        self.concurrency = AdaptiveConcurrency(pool_size)
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
        """The path as shown in messages: relative to the API base, no query, no secrets, no userinfo."""
        if path.startswith(self.base_url):
            path = path[len(self.base_url):]
        path = path.split("?", 1)[0]
        return scrub(redact_url(path) if "://" in path else path, self.secrets)

    def request(self, method, path, params=None, json=None, headers=None, data=None, idempotent=None):
        """One call with retries. ``idempotent=True`` marks a POST without side effects
        (a login) so it is retried like a read; by default only non-POST methods are."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self.url_for(path)
        shown = self.display_path(path)
        self._check_origin(method, url, shown)
        merged_headers = dict(self.headers)
        merged_headers.update(headers or {})
        send = dict(params=params, json=json, data=data, headers=merged_headers)
        url_length = len(self.encoded_url(path, params))
        with self._stats_lock:
            self.longest_url = max(self.longest_url, url_length)
        waited, attempt = 0.0, 0
        while True:
            attempt += 1
            try:
                response = self._send(method, url, shown, send)
            except requests.exceptions.RequestException as exc:
                error, delay, throttled = self._connection_failure(method, shown, exc, idempotent, attempt)
            else:
                if 200 <= response.status_code < 300:
                    return response
                error, delay, throttled = self._answer_failure(method, shown, response, idempotent, attempt)
            if not self.retry.may_wait(attempt, waited, delay, throttled):
                raise error
            waited += delay
            with self.concurrency.paused() if throttled else _NO_PAUSE:
                self.retry.sleep(delay)

    def _check_origin(self, method, url, shown):
        """Never send the credentials to another scheme, host or port than the base URL's."""
        if origin_of(url) != self.origin:
            raise TransportError(method, shown, message="not sent: %s is not %s, the only address the credentials "
                                 "go to" % (show_origin(origin_of(url)), show_origin(self.origin)))

    def _send(self, method, url, shown, send):
        """One HTTP exchange (a redirect within the origin followed for a GET), paced by the concurrency limit."""
        for _hop in range(MAX_REDIRECTS + 1):
            with self._stats_lock:
                self.stats[method] += 1
            sent_in = self.concurrency.acquire()
            response = None
            try:
                response = self.session.request(method, url, auth=self.auth, verify=self.validate_certs,
                                                timeout=self.timeout, allow_redirects=False, **send)
            finally:
                throttled = response is not None and is_throttled(response)
                self.concurrency.release(sent_in, throttled=throttled, clean=response is not None and not throttled)
            if throttled:
                with self._stats_lock:
                    self.throttled += 1
            if not response.is_redirect:
                return response
            url = self._redirect_target(method, shown, response)
        raise ApiError(method, shown, response.status_code,
                       message="more than %d redirects within %s" % (MAX_REDIRECTS, show_origin(self.origin)))

    def _redirect_target(self, method, shown, response):
        target = urljoin(response.url or self.base_url, response.headers.get("Location"))
        if method in ("GET", "HEAD") and origin_of(target) == self.origin:
            return target
        raise ApiError(method, shown, response.status_code, message=(
            "the server redirects to %s; not followed, so that the credentials go only to %s. If the service has "
            "moved, configure its new address" % (scrub(redact_url(target.split("?", 1)[0]), self.secrets),
                                                  show_origin(self.origin))))

    def _connection_failure(self, method, shown, exc, idempotent, attempt):
        """``(error to raise, delay before a retry, throttled)`` for a request that got no answer."""
        reason = scrub("%s: %s" % (type(exc).__name__, exc), self.secrets)
        fatal, sent_nothing = _classify_connection_error(exc)
        if fatal:
            raise TransportError(method, shown, message="%s: %s" % (fatal, reason))
        if not idempotent and not sent_nothing:
            raise OutcomeUnknown(method, shown, message=reason)
        return TransportError(method, shown, message=reason), self.retry.backoff(attempt), False

    def _answer_failure(self, method, shown, response, idempotent, attempt):
        """``(error to raise, delay before a retry, throttled)`` for an answer that is not a success."""
        status = response.status_code
        body = _decode_body(response)
        if status not in RETRY_STATUSES:
            raise self._error(method, shown, status, body, response)
        if not idempotent and status != 429:
            # A 429 is a refusal before processing; any other 5xx to a POST may have done its work.
            raise OutcomeUnknown(method, shown, status, body, message="the server may have processed the request",
                                 in_flight=status in GATEWAY_STATUSES)
        delay = self.retry.backoff(attempt, parse_retry_after(response.headers.get("Retry-After")))
        return self._error(method, shown, status, body, response), delay, is_throttled(response)

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
