# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Usage sources: inline records, CSV/JSON files, the MSP360 Managed Backup API.

All three produce :class:`~billing_compute.UsageRecord` lists. Errors are
:class:`UsageError` (a ValueError) naming the record: ``usage[3].used_bytes``,
``usage_file row 4``, ``MSP360 billing of company 'Acme' row 2``.

Field mapping (documented in the module options too):

==================  ==================  ============================================
normalised          canonical name      MSP360 name (API ``BillingStatistic`` / export)
==================  ==================  ============================================
company             ``company``         ``CompanyName``
used_bytes          ``used_bytes``      ``AverageSpace`` (bytes averaged over the month;
                                        fractional bytes are rounded half-up)
destination         ``destination``     ``Destination``
user                ``user``            ``UserId`` (else ``Email``)
price *or* cost     ``price``/``cost``  ``TotalCost``: the price total by default;
                                        ``total_cost_is="cost"`` makes it the cost total
==================  ==================  ============================================

Other MSP360 columns (``Email``, ``FirstName``, ``LastName``, ``TotalVolumeRestore``,
``PlanCost``, ``StorageCost``, ``RestoreCost``, ``CurrentSpaceUsed``) are accepted and
ignored; any other column is an error. A record uses one naming or the other, not both.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json
import os
import threading
from decimal import ROUND_HALF_UP, Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.billing_compute import (
    UsageRecord,
    parse_period,
    to_decimal,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import company_key
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import (
    ApiError,
    AuthenticationError,
    RetryPolicy,
    Transport,
    scrub,
)

DEFAULT_MBS_API_URL = "https://api.mspbackups.com"
TOTAL_COST_IS = ("price", "cost")

CANONICAL_FIELDS = ("company", "used_bytes", "destination", "cost", "price", "user")
MSP360_FIELDS = {
    "CompanyName": "company",
    "AverageSpace": "used_bytes",
    "Destination": "destination",
    "UserId": "user",
    "TotalCost": None,  # price or cost: see total_cost_is
}
MSP360_IGNORED = frozenset(("Email", "FirstName", "LastName", "TotalVolumeRestore", "PlanCost",
                            "StorageCost", "RestoreCost", "CurrentSpaceUsed"))


# The company of MSP360 usage rows that name none: one bucket, reported like any unknown
# company, and billable by mapping it (company_map) to a ConnectWise identifier.
NO_COMPANY = "(no MSP360 company)"


class UsageError(ValueError):
    """Bad usage data; the message names the record and field."""


class MBSError(Exception):
    """An MSP360 API call that failed. Never carries the password or the token."""

    def __init__(self, message, status=None):
        self.status = status
        super(MBSError, self).__init__(message)


def _check_total_cost_is(total_cost_is):
    if total_cost_is not in TOTAL_COST_IS:
        raise ValueError("total_cost_is %r is not one of %s" % (total_cost_is, ", ".join(TOTAL_COST_IS)))


# ---------------------------------------------------------------------------
# one record


def _bytes(value, where, round_fraction=False):
    if isinstance(value, bool):
        raise UsageError("%s: %r is a boolean, not a number of bytes" % (where, value))
    if isinstance(value, str) and not value.strip():
        raise UsageError("%s: is empty" % where)
    try:
        number = to_decimal(value, where)
    except ValueError as exc:
        raise UsageError(str(exc))
    if number != number.to_integral_value():
        if not round_fraction:
            raise UsageError("%s: %r is not a whole number of bytes" % (where, value))
        number = number.to_integral_value(rounding=ROUND_HALF_UP)
    return int(number)


def _money(value, where):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise UsageError("%s: %r is a boolean, not an amount" % (where, value))
    try:
        return to_decimal(value, where)
    except ValueError as exc:
        raise UsageError(str(exc))


def _text(value, where, required=False):
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise UsageError("%s: is missing or empty" % where)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise UsageError("%s: %r is not a string" % (where, value))
    return str(value).strip()


def _record(raw, ref, field_ref, total_cost_is="price"):
    """One dict (canonical or MSP360 names) -> UsageRecord.

    ``field_ref(name)`` gives the reference of one field for messages.
    """
    if not isinstance(raw, dict):
        raise UsageError("%s: is %s, not a mapping" % (ref, type(raw).__name__))
    keys = set(k for k in raw if k is not None)
    if None in raw:
        raise UsageError("%s: has more values than the header has columns" % ref)
    msp = keys & (set(MSP360_FIELDS) | MSP360_IGNORED)
    canonical = keys & set(CANONICAL_FIELDS)
    unknown = sorted(keys - set(MSP360_FIELDS) - MSP360_IGNORED - set(CANONICAL_FIELDS), key=str)
    if unknown:
        raise UsageError("%s: unknown field%s %s; allowed: %s (or the MSP360 names %s)"
                         % (ref, "s" if len(unknown) > 1 else "", ", ".join(repr(k) for k in unknown),
                            ", ".join(CANONICAL_FIELDS), ", ".join(sorted(MSP360_FIELDS))))
    if msp and canonical:
        raise UsageError("%s: mixes canonical fields (%s) with MSP360 fields (%s); use one naming"
                         % (ref, ", ".join(sorted(canonical)), ", ".join(sorted(msp))))
    if msp:
        names = dict((v, k) for k, v in MSP360_FIELDS.items() if v)
        values = dict((MSP360_FIELDS[k], raw[k]) for k in raw if MSP360_FIELDS.get(k))
        if not values.get("user"):
            values["user"] = raw.get("Email")
        total = _money(raw.get("TotalCost"), field_ref("TotalCost"))
        cost, price = (None, total) if total_cost_is == "price" else (total, None)
        round_fraction = True
    else:
        names = dict((k, k) for k in CANONICAL_FIELDS)
        values = raw
        cost = _money(raw.get("cost"), field_ref("cost"))
        price = _money(raw.get("price"), field_ref("price"))
        round_fraction = False
    company = _text(values.get("company"), field_ref(names["company"]), required=True)
    if "used_bytes" not in values or values["used_bytes"] is None:
        raise UsageError("%s: is missing" % field_ref(names["used_bytes"]))
    used = _bytes(values["used_bytes"], field_ref(names["used_bytes"]), round_fraction=round_fraction)
    return UsageRecord(company=company, used_bytes=used,
                       destination=_text(values.get("destination"), field_ref(names["destination"])),
                       cost=cost, price=price, source_ref=ref,
                       user=_text(values.get("user"), field_ref(names["user"])))


def _check_duplicates(records):
    seen = {}
    for record in records:
        key = (company_key(record.company), record.destination, record.user)
        if key in seen:
            raise UsageError(
                "%s: duplicate of %s (company %r, destination %r, user %r): each company, destination and "
                "user must appear once"
                % (record.source_ref, seen[key], record.company, record.destination, record.user))
        seen[key] = record.source_ref
    return records


# ---------------------------------------------------------------------------
# inline


def normalise_inline(records, name="usage", total_cost_is="price"):
    """Inline records (module option ``usage``) -> UsageRecords; refs ``usage[i]`` (0-based)."""
    _check_total_cost_is(total_cost_is)
    if not isinstance(records, (list, tuple)):
        raise UsageError("%s: must be a list of records, not %s" % (name, type(records).__name__))
    result = []
    for index, raw in enumerate(records):
        ref = "%s[%d]" % (name, index)
        result.append(_record(raw, ref, lambda f, ref=ref: "%s.%s" % (ref, f), total_cost_is))
    return _check_duplicates(result)


# ---------------------------------------------------------------------------
# files


def read_usage_file(path, total_cost_is="price"):
    """A CSV or JSON usage export -> UsageRecords.

    The format follows the extension (``.csv``, ``.json``), else the first character
    (``[``/``{`` -> JSON). CSV rows are referenced as a spreadsheet shows them (the
    header is row 1); JSON records as ``usage_file[i]``.
    """
    _check_total_cost_is(total_cost_is)
    try:
        with open(path, "r", encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError("usage_file %s cannot be read: %s" % (path, exc))
    if not text.strip():
        raise UsageError("usage_file %s is empty" % path)
    extension = os.path.splitext(path)[1].lower()
    if extension == ".json" or (extension != ".csv" and text.lstrip()[:1] in ("[", "{")):
        return _read_json(path, text, total_cost_is)
    return _read_csv(path, text, total_cost_is)


def _read_csv(path, text, total_cost_is):
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames
        if not header:
            raise UsageError("usage_file %s has no header row" % path)
        stripped = [h.strip() for h in header]
        if len(set(stripped)) != len(stripped):
            raise UsageError("usage_file %s row 1: duplicate column names in %s" % (path, ", ".join(stripped)))
        reader.fieldnames = stripped
        # Check the header once, so an unknown column is reported as such even with no data rows.
        _check_header(path, stripped)
        records = []
        for row_number, row in enumerate(reader, start=2):
            ref = "usage_file row %d" % row_number
            records.append(_record(row, ref, lambda f, ref=ref: "%s column %s" % (ref, f), total_cost_is))
    except csv.Error as exc:
        raise UsageError("usage_file %s is not valid CSV: %s" % (path, exc))
    if not records:
        raise UsageError("usage_file %s has a header but no rows" % path)
    return _check_duplicates(records)


def _check_header(path, columns):
    known = set(CANONICAL_FIELDS) | set(MSP360_FIELDS) | MSP360_IGNORED
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise UsageError("usage_file %s row 1: unknown column%s %s; allowed: %s (or the MSP360 names %s)"
                         % (path, "s" if len(unknown) > 1 else "", ", ".join(repr(c) for c in unknown),
                            ", ".join(CANONICAL_FIELDS), ", ".join(sorted(MSP360_FIELDS))))
    has_company = "company" in columns or "CompanyName" in columns
    has_bytes = "used_bytes" in columns or "AverageSpace" in columns
    if not (has_company and has_bytes):
        raise UsageError("usage_file %s row 1: the header needs a company column (company or CompanyName) and "
                         "a usage column (used_bytes or AverageSpace); found %s" % (path, ", ".join(columns)))


def _read_json(path, text, total_cost_is):
    try:
        data = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise UsageError("usage_file %s is not valid JSON: %s" % (path, exc))
    rows = []
    if isinstance(data, dict):
        if "StatisticBilling" not in data:
            raise UsageError("usage_file %s: a JSON object must be an MSP360 Billing object with "
                             "StatisticBilling; otherwise give a list of records" % path)
        data = [data]
    if not isinstance(data, list):
        raise UsageError("usage_file %s: JSON must be a list of records or MSP360 Billing objects" % path)
    for index, item in enumerate(data):
        if isinstance(item, dict) and "StatisticBilling" in item:
            statistics = item["StatisticBilling"]
            if statistics is None:
                statistics = []
            if not isinstance(statistics, list):
                raise UsageError("usage_file[%d].StatisticBilling: is not a list" % index)
            for row_index, row in enumerate(statistics):
                rows.append(("usage_file[%d].StatisticBilling[%d]" % (index, row_index), row))
        else:
            rows.append(("usage_file[%d]" % index, item))
    if not rows:
        raise UsageError("usage_file %s holds no usage records" % path)
    records = [_record(row, ref, lambda f, ref=ref: "%s.%s" % (ref, f), total_cost_is) for ref, row in rows]
    return _check_duplicates(records)


# ---------------------------------------------------------------------------
# MSP360 API


def billing_list(answer):
    """A ``Billing`` answer as a list (the API returns an object, the vendor's module a list)."""
    if answer is None:
        return []
    if isinstance(answer, dict):
        return [answer]
    if isinstance(answer, list) and all(isinstance(item, dict) for item in answer):
        return answer
    raise MBSError("MSP360 Billing answer is neither a Billing object nor a list of them")


class MBSClient:
    """MSP360 Managed Backup API client: one login per run, one re-login on a 401."""

    LOGIN_PATH = "api/Provider/Login"

    def __init__(self, url, username, password, timeout=30, validate_certs=True, session=None,
                 transport=None, retry=None):
        if not url:
            raise ValueError("mbs_api_url is empty")
        if not username or not password:
            raise ValueError("MSP360 API username and password are required")
        self.url = url.rstrip("/")
        self.username = username
        self._password = password
        self._token = None
        self._lock = threading.Lock()
        self.logins = 0
        self._transport = transport or Transport(
            self.url, headers={"Accept": "application/json", "Content-Type": "application/json"},
            validate_certs=validate_certs, timeout=timeout, retry=retry or RetryPolicy(),
            session=session, secrets=(password,))

    def __repr__(self):
        return "MBSClient(url=%r, username=%r)" % (self.url, self.username)

    @property
    def stats(self):
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
        self.logins += 1
        self._transport.secrets = tuple(self._transport.secrets) + (token,)
        return token

    def _current_token(self, stale=None):
        with self._lock:
            if self._token is None or self._token == stale:
                self._login()
            return self._token

    def call(self, method, path, json=None, params=None):
        """One API call with the bearer token; re-login once on a 401. Returns decoded JSON."""
        token = self._current_token()
        for attempt in (1, 2):
            try:
                response = self._transport.request(method, path, params=params, json=json,
                                                   headers={"Authorization": "Bearer " + token})
                break
            except AuthenticationError as exc:
                if attempt == 2:
                    raise MBSError("MSP360 refused %s %s with HTTP 401 again after a fresh login: the API user "
                                   "%r may lack permission" % (method, path, self.username), exc.status)
                token = self._current_token(stale=token)
            except ApiError as exc:
                raise self._error(exc, "MSP360 API call failed")
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

    def billing(self, period, company_name=None):
        """Billing objects (always a list) for ``period`` (``YYYY-MM`` or Period), one company or all."""
        period = parse_period(period)
        body = {"Date": period.first_day.isoformat()}
        if company_name is not None:
            body["CompanyName"] = company_name
        return billing_list(self.call("PUT", "api/Billing", json=body))

    def usage_for_period(self, period, total_cost_is="price", with_destinations=False):
        """``(records, warnings)`` for every MSP360 company in ``period``, from one billing read.

        ``PUT /api/Billing`` with only ``Date`` answers every company's rows at once, so a run
        makes three MSP360 requests whatever the number of companies: the login, the company
        list and the billing. ``GET /api/Users`` is read only ``with_destinations`` (the
        ``{destinations}`` placeholder), since billing rows name no destination. Each row
        becomes a record (:func:`aggregate` sums a company's rows); a listed company without
        rows gets one zero record ("no usage"). No usage is dropped: a row of a company the
        list lacks is billed by its name, and rows without a company become one
        :data:`NO_COMPANY` record that is reported (or mapped with ``company_map``).
        """
        _check_total_cost_is(total_cost_is)
        period = parse_period(period)
        warnings = []
        listed = self._listed_companies(warnings)
        destinations_of = self._user_destinations() if with_destinations else {}
        spelled = dict(listed)
        rows_of = {}
        for number, row in enumerate(self._billing_rows(period), 1):
            ref = "MSP360 billing %s row %d" % (period, number)
            name = (row.get("CompanyName") or "").strip()
            if not name:
                warnings.append("%s: user %s has no MSP360 company: its usage is reported as %r"
                                % (ref, _user_label(row, "UserId"), NO_COMPANY))
                name = NO_COMPANY
            key = company_key(name)
            # One spelling per company: the company list's, whatever case or spacing a row uses.
            spelled.setdefault(key, name)
            rows_of.setdefault(key, []).append((ref, row))
        records = []
        for key in sorted(spelled, key=lambda k: spelled[k]):
            name = spelled[key]
            company_rows = rows_of.get(key)
            if not company_rows:
                records.append(_zero_record(name, total_cost_is))
                continue
            for ref, row in company_rows:
                usable = dict((k, v) for k, v in row.items() if k in MSP360_FIELDS or k in MSP360_IGNORED)
                usable["CompanyName"] = name
                if not usable.get("Destination"):
                    usable["Destination"] = destinations_of.get(str(row.get("UserId")))
                records.append(_record(usable, ref, lambda f, ref=ref: "%s.%s" % (ref, f), total_cost_is))
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

    def _user_destinations(self):
        return dict((str(user.get("ID")), _destination_names(user)) for user in self.users()
                    if isinstance(user, dict))

    def _billing_rows(self, period):
        rows = []
        for billing in self.billing(period):
            statistics = billing.get("StatisticBilling")
            if statistics is not None and not isinstance(statistics, list):
                raise MBSError("MSP360 billing of %s: StatisticBilling is not a list" % period)
            rows.extend(row for row in statistics or [] if isinstance(row, dict))
        return rows


def _zero_record(name, total_cost_is):
    zero = Decimal("0")
    return UsageRecord(company=name, used_bytes=0, destination=None,
                       cost=zero if total_cost_is == "cost" else None,
                       price=zero if total_cost_is == "price" else None,
                       source_ref="MSP360 billing of company %r (no rows)" % name)


def _destination_names(user):
    """The user's storage destinations as one label ("Amazon S3, Wasabi"), or None.

    A user's usage is one number for all its destinations, so several destinations
    stay one label rather than an invented split of the bytes.
    """
    names = sorted(set((d.get("Destination") or "").strip() for d in user.get("DestinationList") or []
                       if isinstance(d, dict)) - {""})
    return ", ".join(names) or None


def _user_label(user, id_key="ID"):
    email = user.get("Email")
    ident = user.get(id_key)
    if email and ident:
        return "%r (%s)" % (email, ident)
    return repr(email or ident or "?")
