# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MSP360 Managed Backup API client: a month's usage of every company in three requests.

``PUT /api/Billing`` with only ``Date`` answers every company's rows at once, so a run makes
three MSP360 requests whatever the number of companies: the login, the company list and the
billing (``GET /api/Users`` too, only when the destinations are wanted, or once for the licenses).
The rows become :class:`billing.usage.UsageRecord` through the same normalisation as an MSP360 export file
(:func:`usage_sources.make_record`), so the field mapping is written once.

No usage is dropped: a row of a company the list lacks is usage of that name, rows without a
company become one :data:`NO_COMPANY` record, and a listed company without rows gets one zero
record, so the report can say "no usage" for it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
from decimal import Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import parse_period
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.usage import UsageRecord
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, AuthenticationError, MBSError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import company_key
from ansible_collections.mbs.connectwise.plugins.module_utils.origin import check_configured_url
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import RetryPolicy, Transport, scrub
from ansible_collections.mbs.connectwise.plugins.module_utils.usage_sources import (
    MSP360_FIELDS,
    MSP360_IGNORED,
    check_total_cost_is,
    make_record,
)

DEFAULT_MBS_API_URL = "https://api.mspbackups.com"

# The company of MSP360 usage rows that name none: one bucket, reported like any unknown
# company, and billable by mapping it (company_map) to a ConnectWise identifier.
NO_COMPANY = "(no MSP360 company)"
# How much of an answer that is not billing data its error shows.
SHOWN_BODY = 200


class MBSClient:
    """MSP360 Managed Backup API client: one login per run, one re-login on a 401."""

    LOGIN_PATH = "api/Provider/Login"

    def __init__(self, url, username, password, timeout=30, validate_certs=True, retry=None, allow_http=False):
        if not url:
            raise ValueError("mbs_api_url is empty")
        if not username or not password:
            raise ValueError("MSP360 API username and password are required")
        check_configured_url(url, "mbs.url", allow_http, "mbs.allow_http")
        self.url = url.rstrip("/")
        self.username = username
        self._password = password
        self._token = None
        self._lock = threading.Lock()
        self._transport = Transport(
            self.url, headers={"Accept": "application/json", "Content-Type": "application/json"},
            validate_certs=validate_certs, timeout=timeout, retry=retry or RetryPolicy(), secrets=(password,))

    def __repr__(self):
        return "MBSClient(url=%r, username=%r)" % (self.url, self.username)

    @property
    def stats(self):
        """Requests sent, by method (retries included): the module's ``requests`` result."""
        return self._transport.stats

    def _secrets(self):
        return tuple(s for s in (self._password, self._token) if s)

    def _error(self, exc, what):
        text = scrub("%s: %s" % (what, exc), self._secrets())
        return MBSError(text, getattr(exc, "status", None))

    def _login(self):
        try:
            response = self._transport.request(
                "POST", self.LOGIN_PATH, json={"UserName": self.username, "Password": self._password},
                # A login has no side effect: a 503 or a lost answer is retried like a read.
                idempotent=True)
        except AuthenticationError as exc:
            raise MBSError("MSP360 login refused for user %r (HTTP %s): check the MSP360 API username and password "
                           "(changing them in the MBS console expires the old ones)" % (self.username, exc.status),
                           exc.status)
        except ApiError as exc:
            raise self._error(exc, "MSP360 login failed")
        try:
            token = response.json().get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not token or not isinstance(token, str):
            raise MBSError("MSP360 login answered without an access_token")
        self._token = token
        self._transport.secrets = tuple(self._transport.secrets) + (token,)
        return token

    def _current_token(self, stale=None):
        with self._lock:
            if self._token is None or self._token == stale:
                self._login()
            return self._token

    def answer(self, method, path, json=None):
        """One API call with the bearer token; re-login once on a 401. Returns the ``requests`` response."""
        token = self._current_token()
        for attempt in (1, 2):
            try:
                return self._transport.request(method, path, json=json, headers={"Authorization": "Bearer " + token})
            except AuthenticationError as exc:
                if attempt == 2:
                    raise MBSError("MSP360 refused %s %s with HTTP 401 again after a fresh login: the API user "
                                   "%r may lack permission" % (method, path, self.username), exc.status)
                token = self._current_token(stale=token)
            except ApiError as exc:
                raise self._error(exc, "MSP360 API call failed")

    def call(self, method, path, json=None):
        """:meth:`answer` decoded (decimals as ``Decimal``); None for an empty answer."""
        response = self.answer(method, path, json=json)
        if not response.content:
            return None
        try:
            return response.json(parse_float=Decimal)
        except ValueError:
            raise MBSError("MSP360 %s %s answered with something that is not JSON" % (method, path))

    def companies(self):
        return self.call("GET", "api/Companies") or []

    def users(self):
        return self.call("GET", "api/Users") or []

    def billing(self, period):
        """Every company's ``Billing`` objects (always a list) for ``period`` (``YYYY-MM`` or Period).

        An answer that is not billing data (an empty body, ``[]``, an error object such as
        ``{"Message": "An error has occurred."}`` sent with a 200) is an :class:`MBSError` naming the
        URL, the status and the first bytes of the body: taken as "no rows", it would stop every
        company's billing.
        """
        period = parse_period(period)
        response = self.answer("PUT", "api/Billing", json={"Date": period.first_day.isoformat()})
        try:
            answer = response.json(parse_float=Decimal) if response.content else None
        except ValueError:
            answer = None
        billing = _as_billing_list(answer)
        if billing is None:
            raise MBSError("MSP360 PUT %s for %s answered HTTP %s with something that is not billing data (a Billing "
                           "object with StatisticBilling, or a list of them): %s. Nothing was billed from it; run "
                           "again later, and if the answer stays the same, check the MSP360 API's status"
                           % (self._transport.url_for("api/Billing"), period.label, response.status_code,
                              self._shown_body(response)), response.status_code)
        return billing

    def _shown_body(self, response):
        """The first bytes of an answer, secrets scrubbed, control characters escaped."""
        text = (response.content or b"")[:SHOWN_BODY].decode("utf-8", "replace")
        shown = repr(scrub(text, self._secrets())) if text else "an empty body"
        return shown + (" (first %d bytes)" % SHOWN_BODY if len(response.content or b"") > SHOWN_BODY else "")

    def usage_for_period(self, period, total_cost_is="price", with_destinations=False, users=None):
        """``(records, warnings)`` for every MSP360 company in ``period``, from one billing read.

        ``GET /api/Users`` is read only ``with_destinations`` (the ``{destinations}``
        placeholder), since billing rows name no destination, and not at all when ``users`` (its
        answer, already read for the licenses) is given. Each row becomes a record
        (:func:`billing.usage.aggregate` sums a company's rows), in the order of the
        company names.
        """
        check_total_cost_is(total_cost_is)
        period = parse_period(period)
        warnings = []
        listed = self._listed_companies(warnings)
        destination_of_user = self._user_destinations(users) if with_destinations else {}
        rows = _numbered_rows(self._billing_rows(period), period)
        records = []
        for name, company_rows in _rows_by_company(rows, listed, warnings):
            if not company_rows:
                records.append(_no_usage_record(name, total_cost_is))
            for ref, row in company_rows:
                records.append(_row_record(name, ref, row, destination_of_user, total_cost_is))
        return records, warnings

    def _listed_companies(self, warnings):
        """``{company_key: name}`` of ``GET /api/Companies`` (``Id`` in the API, ``ID`` tolerated)."""
        listed = {}
        for company in self.companies():
            if not isinstance(company, dict):
                continue
            name = (company.get("Name") or "").strip()
            if not name:
                warnings.append("MSP360 company %r has no name: its usage, if any, is reported by user"
                                % (company.get("Id") or company.get("ID"),))
            else:
                listed.setdefault(company_key(name), name)
        return listed

    def _user_destinations(self, users=None):
        """``{user id: destination label}`` of ``GET /api/Users`` (``users``: its answer, when already read)."""
        return dict((str(user.get("ID")), _destination_label(user)) for user in (self.users() if users is None else users)
                    if isinstance(user, dict))

    def _billing_rows(self, period):
        """The ``StatisticBilling`` rows of every company in ``period``, in the API's order."""
        rows = []
        for billing in self.billing(period):
            statistics = billing.get("StatisticBilling")
            if statistics is not None and not isinstance(statistics, list):
                raise MBSError("MSP360 billing of %s: StatisticBilling is not a list" % period)
            rows.extend(row for row in statistics or [] if isinstance(row, dict))
        return rows


def _is_billing(item):
    """A ``Billing`` object: a JSON object with its ``StatisticBilling`` rows (their shape is checked as they are read)."""
    return isinstance(item, dict) and "StatisticBilling" in item


def _as_billing_list(answer):
    """A ``Billing`` answer as a list (the API returns an object, the vendor's module a list); None when it is
    neither one ``Billing`` object nor a non-empty list of them."""
    if _is_billing(answer):
        return [answer]
    if isinstance(answer, list) and answer and all(_is_billing(item) for item in answer):
        return answer
    return None


def _numbered_rows(rows, period):
    """``[(ref, row)]``: each row with the reference its messages use ("... row 3", from 1)."""
    return [("MSP360 billing %s row %d" % (period, number), row) for number, row in enumerate(rows, 1)]


def _company_of_row(ref, row, warnings):
    """The row's company name, or :data:`NO_COMPANY` (with a warning naming the user) when it has none."""
    name = (row.get("CompanyName") or "").strip()
    if name:
        return name
    warnings.append("%s: user %s has no MSP360 company: its usage is reported as %r"
                    % (ref, _user_label(row), NO_COMPANY))
    return NO_COMPANY


def _rows_by_company(rows, listed, warnings):
    """``[(name, [(ref, row)])]`` sorted by name: every listed company (rows or not) and every row's company.

    Rows are grouped by company identity (:func:`identity.company_key`), so "ACME " and "Acme"
    are one company; its name is spelled as the company list spells it, else as its first row does.
    """
    spelled = dict(listed)
    rows_of = {}
    for ref, row in rows:
        name = _company_of_row(ref, row, warnings)
        key = company_key(name)
        spelled.setdefault(key, name)
        rows_of.setdefault(key, []).append((ref, row))
    return [(spelled[key], rows_of.get(key, [])) for key in sorted(spelled, key=lambda k: spelled[k])]


def _row_record(name, ref, row, destination_of_user, total_cost_is):
    """One billing row -> a UsageRecord of company ``name``; columns the API may add are left out."""
    usable = dict((k, v) for k, v in row.items() if k in MSP360_FIELDS or k in MSP360_IGNORED)
    usable["CompanyName"] = name
    if not usable.get("Destination"):
        usable["Destination"] = destination_of_user.get(str(row.get("UserId")))
    return make_record(usable, ref, lambda field: "%s.%s" % (ref, field), total_cost_is)


def _no_usage_record(name, total_cost_is):
    """A listed company without billing rows: zero bytes and a zero total on the ``total_cost_is`` side."""
    zero = Decimal("0")
    return UsageRecord(company=name, used_bytes=0, destination=None,
                       cost=zero if total_cost_is == "cost" else None,
                       price=zero if total_cost_is == "price" else None,
                       source_ref="MSP360 billing of company %r (no rows)" % name)


def _destination_label(user):
    """The user's storage destinations as one label ("Amazon S3, Wasabi"), or None.

    A user's usage is one number for all its destinations, so several destinations
    stay one label rather than an invented split of the bytes.
    """
    names = sorted(set((d.get("Destination") or "").strip() for d in user.get("DestinationList") or []
                       if isinstance(d, dict)) - {""})
    return ", ".join(names) or None


def _user_label(row):
    email = row.get("Email")
    ident = row.get("UserId")
    if email and ident:
        return "%r (%s)" % (email, ident)
    return repr(email or ident or "?")
