# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConnectWise Manage REST client: auth, codebase discovery, paging, CRUD.

All ConnectWise-specific wire rules are here; retries come from :mod:`transport`, the error
classes from :mod:`errors`. Modules never build URLs or headers themselves.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import threading

from ansible.module_utils.basic import env_fallback, missing_required_lib
from ansible.module_utils.common.warnings import warn
from ansible.module_utils.six.moves.urllib.parse import parse_qsl, urlsplit

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import (
    ApiError,
    InputError,
    NotFoundError,
    OutcomeUnknown,
    TransportError,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.origin import (
    origin_of,
    redact_url,
    refuse_plain_http,
    refuse_userinfo,
    show_origin,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import HAS_REQUESTS, MAX_URL_LENGTH, Transport

DEFAULT_CODEBASE = "v4_6_release/"
DEFAULT_API_VERSION = "2025.8"
ACCEPT_TEMPLATE = "application/vnd.connectwise.com+json; version=%s"
_API_VERSION = re.compile(r"^[0-9]{4}\.[0-9]{1,2}$")
MAX_PAGE_SIZE = 1000
# ``in (...)`` reads are split by the encoded length of the whole URL: that is what keeps
# every URL within MAX_URL_LENGTH whatever the identifiers hold. IN_CHUNK only caps short
# values so one read's answer stays around one page (and the bench's request count holds).
IN_CHUNK = 100
# POSTs of one object whose answers were all lost, before giving up.
POST_ATTEMPTS = 3
# Page numbers grow while paging; reserve room for the longest one a read could reach.
PAGE_PLACEHOLDER = 999999
# Reads in id order page by key: each page asks for the rows after the last id read, so a row
# renamed, deleted or added meanwhile never shifts another out of the pages (offsets would).
KEY_ORDER = "id asc"
_KEY_ORDERS = re.compile(r"^\s*id(\s+asc)?\s*$", re.IGNORECASE)
# Room reserved in a URL for the page key (ConnectWise ids are 32-bit integers).
KEY_PLACEHOLDER = 2147483647

# The one table of connection options. The doc fragment ``mbs.connectwise.connection``
# documents exactly these; tests/unit/test_layout.py keeps the two in step.
CONNECTION_OPTIONS = {
    "site": dict(type="str", required=True, env="CW_SITE"),
    "company_id": dict(type="str", required=True, env="CW_COMPANY_ID"),
    "public_key": dict(type="str", required=True, env="CW_PUBLIC_KEY"),
    "private_key": dict(type="str", required=True, env="CW_PRIVATE_KEY", no_log=True),
    "client_id": dict(type="str", required=True, env="CW_CLIENT_ID"),
    "codebase": dict(type="str", required=False, env="CW_CODEBASE"),
    "validate_certs": dict(type="bool", required=False, default=True),
    "timeout": dict(type="int", required=False, default=30),
    "api_version": dict(type="str", required=False, env="CW_API_VERSION"),
    "allow_http": dict(type="bool", required=False, default=False, env="CW_ALLOW_HTTP"),
}

_HOST = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")


def connection_argument_spec():
    spec = {}
    for name, option in CONNECTION_OPTIONS.items():
        entry = {k: v for k, v in option.items() if k != "env"}
        if "env" in option:
            entry["fallback"] = (env_fallback, [option["env"]])
        spec[name] = entry
    return spec


def site_root(site, allow_http=False, names=("site", "allow_http (or CW_ALLOW_HTTP=true)")):
    """``scheme://host[:port]/`` from a bare host or a full base URL.

    A user name or password in ``site`` is refused without repeating it, and so is plain
    ``http://`` to another machine unless ``allow_http`` (see :func:`origin.check_configured_url`).
    ``names``: how the messages name the site and allow_http options (a role: its variables).
    """
    option, allow_option = names
    if site is None or not str(site).strip():
        raise InputError("%s is empty: give a host such as api-na.myconnectwise.net or a URL" % option)
    site = str(site).strip()
    try:
        refuse_userinfo(site, option)
    except ValueError as exc:
        raise InputError(str(exc))
    if "://" in site:
        parts = urlsplit(site)
        if parts.scheme not in ("http", "https") or not parts.netloc or not _HOST.match(parts.netloc):
            raise InputError("%s %r is not a valid URL: expected https://host[:port]" % (option, site))
        path = parts.path.strip("/")
        root = "%s://%s/%s" % (parts.scheme, parts.netloc, path + "/" if path else "")
    elif not _HOST.match(site):
        raise InputError("%s %r is not a valid host name: expected a host such as "
                         "api-na.myconnectwise.net or a URL with scheme" % (option, site))
    else:
        root = "https://%s/" % site
    try:
        refuse_plain_http(root, option, allow_http, allow_option)
    except ValueError as exc:
        raise InputError(str(exc))
    return root


def field_of(row, path):
    """The value at ``path`` (``company/identifier``) of a ConnectWise object, or None."""
    for part in path.split("/"):
        row = row.get(part) if isinstance(row, dict) else None
    return row


def patch_operations(changes):
    """The ConnectWise PATCH body that sets each ``{field: value}`` of ``changes``.

    One ``replace`` per field, in field order, so a PATCH is the same whoever builds it;
    a value of None empties the field. Values are sent as given (already JSON-ready).
    """
    return [{"op": "replace", "path": field, "value": value} for field, value in sorted(changes.items())]


def _field_names(fields):
    """``fields`` as a list of names (None: every field)."""
    if not fields:
        return None
    return [f.strip() for f in fields.split(",")] if isinstance(fields, str) else list(fields)


def normalise_codebase(codebase):
    codebase = codebase.strip().strip("/")
    return codebase + "/"


class ConnectWiseClient:
    """A ConnectWise Manage API member's session."""

    def __init__(self, site, company_id, public_key, private_key, client_id, codebase=None,
                 validate_certs=True, timeout=30, retry=None, session=None, api_version=None, allow_http=False):
        if not HAS_REQUESTS:
            raise InputError(missing_required_lib("requests"))
        for name, value in (("company_id", company_id), ("public_key", public_key),
                            ("private_key", private_key), ("client_id", client_id)):
            if not value:
                raise InputError("%s is empty: set it or the CW_%s environment variable"
                                 % (name, name.upper()))
        self.api_version = (api_version or DEFAULT_API_VERSION).strip()
        if not _API_VERSION.match(self.api_version):
            raise InputError("api_version %r is not a ConnectWise API version such as %s (option api_version "
                             "or the CW_API_VERSION environment variable)" % (api_version, DEFAULT_API_VERSION))
        self.root_url = site_root(site, allow_http)
        self.origin = origin_of(self.root_url)
        # Said once per run (also through Ansible's warnings): what a read did differently than asked.
        self.warnings = []
        self.company_id = company_id
        self._codebase = normalise_codebase(codebase) if codebase else None
        self._codebase_lock = threading.Lock()
        self.transport = Transport(
            self.root_url,
            headers={"clientId": client_id, "Accept": ACCEPT_TEMPLATE % self.api_version, "Content-Type": "application/json"},
            auth=("%s+%s" % (company_id, public_key), private_key),
            validate_certs=validate_certs,
            timeout=timeout,
            retry=retry,
            session=session,
            secrets=(private_key,),
        )

    @classmethod
    def from_params(cls, params, **kwargs):
        return cls(**dict(((name, params.get(name)) for name in CONNECTION_OPTIONS), **kwargs))

    @property
    def stats(self):
        return self.transport.stats

    @property
    def longest_url(self):
        """Characters in the longest request URL sent so far (ConnectWise's limit is 2,000)."""
        return self.transport.longest_url

    @property
    def codebase(self):
        with self._codebase_lock:
            if self._codebase is None:
                self._codebase = self._discover_codebase()
        return self._codebase

    def _discover_codebase(self):
        """``login/companyinfo`` names the codebase; an odd answer falls back to the default."""
        try:
            response = self.transport.request("GET", "login/companyinfo/%s" % self.company_id)
        except TransportError:
            raise
        except ApiError as exc:
            if exc.status == 400 and "api version" in (exc.api_message or "").lower():
                raise self._explain_version_refusal(exc)
            return DEFAULT_CODEBASE
        try:
            codebase = response.json().get("Codebase")
        except (ValueError, AttributeError):
            codebase = None
        return normalise_codebase(codebase) if codebase else DEFAULT_CODEBASE

    def api_path(self, path):
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return "%sapis/3.0/%s" % (self.codebase, path.strip("/"))

    def _request(self, method, path, **kwargs):
        try:
            return self.transport.request(method, self.api_path(path), **kwargs)
        except ApiError as exc:
            raise self._explain_version_refusal(exc)

    def _explain_version_refusal(self, exc):
        """ConnectWise refuses a retired API version with a bare 400; say what to change."""
        if exc.status == 400 and "does not support the api version" in (exc.api_message or "").lower():
            return exc.with_detail("the site refuses API version %s (sent in the Accept header): set the api_version "
                                   "option or the CW_API_VERSION environment variable to a supported version such as %s"
                                   % (self.api_version, DEFAULT_API_VERSION))
        return exc

    def get(self, path, params=None):
        return self._request("GET", path, params=params).json()

    def get_by_id(self, path, object_id):
        try:
            return self.get("%s/%s" % (path, object_id))
        except NotFoundError:
            return None

    @staticmethod
    def _list_query(conditions=None, fields=None, order_by=None, page_size=MAX_PAGE_SIZE, params=None, page=1):
        query = dict(params or {})
        if conditions:
            query["conditions"] = conditions
        if fields:
            query["fields"] = ",".join(fields) if not isinstance(fields, str) else fields
        if order_by:
            query["orderBy"] = order_by
        query["pageSize"] = min(int(page_size), MAX_PAGE_SIZE)
        query["page"] = page
        return query

    def list(self, path, conditions=None, fields=None, order_by=None, page_size=MAX_PAGE_SIZE,
             params=None):
        """Every matching object, page by page.

        In id order (no ``order_by``, or ``id``/``id asc``) pages go by key: ``orderBy=id asc`` and,
        after the first page, ``id > <last id read>`` added to ``conditions``, so a row renamed,
        deleted or added during the read never hides another (offsets would shift). ``id`` is read
        even when ``fields`` leave it out, and left out of the rows again. Another ``order_by``
        follows ``Link: rel="next"`` within the site (:meth:`_next_page`). Either way the read ends
        where ConnectWise's ``Link`` header has no ``next``: the same number of requests.
        """
        if not order_by or _KEY_ORDERS.match(order_by):
            return self._list_by_key(path, conditions, fields, page_size, params)
        return self._list_by_link(path, conditions, fields, order_by, page_size, params)

    def _list_by_key(self, path, conditions, fields, page_size, params):
        wanted = _field_names(fields)
        asked = wanted + ["id"] if wanted and "id" not in wanted else wanted
        last = None
        while True:
            where = cond.all_of(conditions, None if last is None else cond.condition("id", ">", last))
            response = self._request("GET", path, params=self._list_query(where, asked, KEY_ORDER, page_size, params))
            rows = response.json() or []
            for row in rows:
                yield row if asked == wanted else dict((k, v) for k, v in row.items() if k != "id")
            if not rows or "next" not in response.links:
                return
            key = rows[-1].get("id") if isinstance(rows[-1], dict) else None
            if isinstance(key, bool) or not isinstance(key, int) or (last is not None and key <= last):
                raise ApiError("GET", path, response.status_code,
                               message="paging by id stopped: the page's last id is %r after %r (ConnectWise "
                                       "answered orderBy=id asc out of order)" % (key, last))
            last = key

    def _list_by_link(self, path, conditions, fields, order_by, page_size, params):
        first = self._list_query(conditions, fields, order_by, page_size, params)
        target, query, seen = path, first, set()
        while target is not None:
            response = self._request("GET", target, params=query)
            yield from response.json() or []
            next_url = (response.links.get("next") or {}).get("url")
            if next_url is None:
                return
            if next_url in seen:
                raise ApiError("GET", path, response.status_code,
                               message="pagination loops: next page %s was already read" % redact_url(next_url))
            seen.add(next_url)
            target, query = self._next_page(path, first, next_url)

    def _next_page(self, path, first, next_url):
        """``(target, query)`` of the page ``Link: rel="next"`` names, never away from the site.

        A link to the site's own scheme, host and port is followed as given. One to anywhere else
        (a proxy that rewrites links, an ``http://`` link behind a TLS-terminating balancer) would
        take the API keys with it: that page is read from the site instead, by its page number,
        with a warning.
        """
        if origin_of(next_url) == self.origin:
            return next_url, None
        page = dict(parse_qsl(urlsplit(next_url).query)).get("page", "")
        if not page.isdigit():
            raise ApiError("GET", path, message="the next-page link points to %s, not to the site %s, and names no "
                           "page number: not followed, so that the API keys go only to the site"
                           % (show_origin(origin_of(next_url)) if origin_of(next_url) else redact_url(next_url),
                              show_origin(self.origin)))
        self.warn("ConnectWise's next-page link for %s points to %s, not to the site %s: the pages were read from "
                  "the site instead, so the API keys went only there. A proxy or load balancer in front of "
                  "ConnectWise may be rewriting its links." % (path, show_origin(origin_of(next_url))
                                                               if origin_of(next_url) else redact_url(next_url),
                                                               show_origin(self.origin)))
        return path, dict(first, page=int(page))

    def warn(self, message):
        """Say ``message`` once: in :attr:`warnings` and among the module's (or the controller's) warnings."""
        if message not in self.warnings:
            self.warnings.append(message)
            warn(message)

    def list_in(self, path, field, values, conditions=None, fields=None, order_by=None,
                max_url_length=MAX_URL_LENGTH):
        """Objects whose ``field`` is one of ``values``: ``in (...)`` reads, each URL within the limit."""
        # Split everything first: a value too long to send fails before the first read.
        chunks = list(self.in_chunks(path, field, values, conditions, fields, order_by, max_url_length))
        for chunk in chunks:
            yield from self.list(path, conditions=cond.all_of(cond.is_in(field, chunk), conditions),
                                 fields=fields, order_by=order_by)

    def find_by(self, path, field, values, fields=None, conditions=None):
        """The objects whose ``field`` is one of ``values``, grouped by value: ``{fold(value): [rows]}``.

        This is the one bulk look-up by identifier or name. ConnectWise compares
        case-insensitively, so the answer is grouped by :func:`identity.fold` of each row's
        ``field``, and every value asked for has its entry (``[]`` when nothing matched):
        ``found[fold(value)]`` never misses. Rows keep ConnectWise's order. The reads are
        :meth:`list_in`'s (chunked ``in (...)``, every page); ``field`` (which may be nested,
        ``company/id``) is added to ``fields`` when they leave it out, ``conditions`` narrow
        every read. No values, no request.
        """
        values = list(values)
        if fields and field not in fields and field.split("/")[0] not in fields:
            fields = list(fields) + [field]
        found = {}
        if values:
            for row in self.list_in(path, field, values, conditions=conditions, fields=fields):
                found.setdefault(fold(field_of(row, field)), []).append(row)
        for value in values:
            found.setdefault(fold(value), [])
        return found

    def in_chunks(self, path, field, values, conditions=None, fields=None, order_by=None,
                  max_url_length=MAX_URL_LENGTH):
        """Split ``values`` greedily so each read's full encoded URL (base, codebase, every
        parameter, the longest page number) stays within ``max_url_length``, at most IN_CHUNK a read."""
        target = self.api_path(path)
        by_key = not order_by or _KEY_ORDERS.match(order_by)

        def length(chunk):
            where = cond.all_of(cond.is_in(field, chunk), conditions)
            if by_key:
                where = cond.all_of(where, cond.condition("id", ">", KEY_PLACEHOLDER))
                asked = _field_names(fields)
                query = self._list_query(where, asked + ["id"] if asked and "id" not in asked else asked, KEY_ORDER)
            else:
                query = self._list_query(where, fields, order_by, page=PAGE_PLACEHOLDER)
            return len(self.transport.encoded_url(target, query))

        # Encoding a URL costs far more than the rest of a bulk read's preparation, so a value's
        # share is bounded first: its separator and literal, every character encoded as the longest
        # (4 UTF-8 bytes, %XX each). The URL is encoded only when that bound crosses the limit; the
        # chunks are the same as measuring every candidate.
        chunk, bound = [], 0
        for value in sorted(set(values), key=str):
            if chunk:
                size = bound + 12 * (1 + len(cond.quote(value)))
                if len(chunk) < IN_CHUNK and size > max_url_length:
                    size = length(chunk + [value])
                if len(chunk) >= IN_CHUNK or size > max_url_length:
                    yield chunk
                    chunk = []
            if not chunk:
                size = length([value])
                if size > max_url_length:
                    raise InputError("%s %r is too long to look up: its read would need a URL of %d characters "
                                     "(ConnectWise's limit is %d)" % (field, value, size, max_url_length))
            chunk.append(value)
            bound = size
        if chunk:
            yield chunk

    def count(self, path, conditions=None):
        params = {"conditions": conditions} if conditions else None
        return int(self.get("%s/count" % path, params=params)["count"])

    def create(self, path, body):
        return self._request("POST", path, json=body).json()

    def create_once(self, path, body, find):
        """POST ``body`` so that it takes effect once, whatever happens to the answers.

        ``find()`` re-reads ConnectWise and returns the object this POST would have made, or
        None. A POST whose answer is lost (:class:`OutcomeUnknown`) is never re-sent blindly:
        the object is looked for first, and while the request may still be running on the
        server (no answer, or a gateway's 502/504) the look is repeated over twice the
        timeout before a second POST, so a commit that lands after the client gave up is
        found instead of doubled. Returns ``(object, adopted)``: ``adopted`` is True when the
        object was found on re-reading rather than returned by the POST.
        """
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                return self.create(path, body), False
            except OutcomeUnknown as exc:
                found = self._await_commit(find, exc)
                if found is not None:
                    return found, True
                if attempt == POST_ATTEMPTS:
                    raise exc.with_detail("%s; nothing found on re-reading after %d attempts, so nothing was created"
                                          % (exc.detail or "answer lost", attempt))

    def _await_commit(self, find, lost):
        if not lost.in_flight:
            return find()
        return self.poll(find, lambda found: found is not None)

    def poll(self, read, done):
        """``read()``, then again over the settle window (twice the timeout) until ``done(answer)``.

        Returns the last answer: what ConnectWise holds once a request that may still be running
        on the server (ours or another run's) has had the time to land.
        """
        answer = read()
        retry = self.transport.retry
        for delay in retry.settle_delays(self.transport.timeout):
            if done(answer):
                break
            retry.sleep(delay)
            answer = read()
        return answer

    def patch(self, path, object_id, operations):
        return self._request("PATCH", "%s/%s" % (path, object_id), json=operations).json()

    def patch_fields(self, path, object_id, changes):
        """PATCH the ``{field: value}`` of ``changes`` (see :func:`patch_operations`); the object after."""
        return self.patch(path, object_id, patch_operations(changes))

    def delete(self, path, object_id):
        self._request("DELETE", "%s/%s" % (path, object_id))
