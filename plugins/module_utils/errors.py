# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every exception the collection raises on purpose, and what each one means.

Raised in one layer and caught in another (a module's ``fail_json``, the billing run's per-company
failure, a filter's ``AnsibleFilterError``), so they live here, below every layer: whoever raises or
catches one imports it from this module. The hierarchy::

    Exception
     +-- ApiError                  an HTTP call that failed: method, path, status, ConnectWise's code,
     |    |                        message and field errors (transport.py, client.py)
     |    +-- AuthenticationError  401: the keys (or the clientId, or MSP360's login) were refused
     |    +-- NotFoundError        404 on one object
     |    +-- OutcomeUnknown       a POST sent whose answer was lost: re-read before sending it again
     |    |                        (client.create_once)
     |    +-- TransportError       no HTTP answer at all (DNS, refused connection, TLS, timeout), or a
     |                             request refused before it was sent (another origin than the configured one)
     +-- MBSError                  an MSP360 call that failed, worded for MSP360 (msp360.py, msp360_products.py)
     +-- CompanySkipped            not an error: one company is not billed in this run; ``reason`` says why
     |    +-- NotBillingYet        its agreement starts billing after the period (billing/effective_dates.py)
     +-- ReportFolderError         the billing report's folder or file cannot be used (plugin_utils/report_folder.py)
     +-- MailError                 the billing report was not mailed (plugin_utils/report_mail.py)
     +-- ValueError                data that cannot be right, refused before any write; the message names
          |                        the option, record or field and the value
          +-- InputError           a module's option (every module; the connection options in client.py)
          +-- CustomerError        a customer record of the roles (customer_record.py)
          +-- UsageError           usage records: inline, CSV or JSON (usage_sources.py)
          +-- HistoryError         a license usage-history export (license_history.py)
          +-- LicenseDataError     MSP360 licenses or users not as MSP360 documents them (licenses.py)
          +-- StorageDataError     MSP360 storage accounts not as MSP360 documents them (storage_split.py)
          +-- ProductOptionError   a license or storage product mapping entry (product_options.py)
          +-- UnmappedLicenseTypes licenses that would bill but for their type (license_counts.py)
          +-- BillingRefused       a billing rule refuses one company before any write for it; the
          |    |                   others are billed
          |    +-- EffectiveDateRefused   the billing start date falls inside the period and
          |    |                          effective_date_policy is fail (billing/effective_dates.py)
          |    +-- InvoicedPeriodRefused  the period is already invoiced and invoiced_period_policy
          |                               is fail (billing/effective_dates.py)
          +-- BillsNothing         the configuration matches no agreement of any company with usage (billing/run.py)
          +-- RunRefused           the whole billing run stops before any write: an empty month, a mass
                                   change (billing/guard.py)

Why these bases: the billing run catches ``ValueError`` as one company's failure and ``ApiError``
as one company's (or the run's) failure, and ``NotBillingYet`` before both, so a company that is
not billing yet is skipped, never failed; a module catches ``InputError`` and ``ApiError`` into
``fail_json``. A refusal keeps ``ValueError`` as its base so that those ``except`` clauses need
no list of every refusal.

Where a class is defined: here, unless its message is composed from a rule's own knowledge. Then
the class stays beside that rule and subclasses a base from here (:class:`CompanySkipped`,
:class:`BillingRefused`): ``NotBillingYet``, ``EffectiveDateRefused`` and ``InvoicedPeriodRefused``
word ConnectWise's refusal (its US date format, its invoiced-period message) and name the billing
policies, which are ``billing/effective_dates.py``'s. ``ApiError`` composes its message too, but
only from the HTTP answer it carries, so it is here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


# ---------------------------------------------------------------------------
# HTTP (ConnectWise and MSP360)


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


class MBSError(Exception):
    """An MSP360 API call that failed. Never carries the password or the token."""

    def __init__(self, message, status=None):
        self.status = status
        super(MBSError, self).__init__(message)


# ---------------------------------------------------------------------------
# input and data, refused before any write


class InputError(ValueError):
    """Bad module input, found before any write. The message names field and value."""


class CustomerError(ValueError):
    """A customer record that cannot be used; the message names the customer, where it was declared and the key."""


class UsageError(ValueError):
    """Bad usage data; the message names the record and field."""


class HistoryError(ValueError):
    """A usage-history file that cannot be read right; the message names the row and column."""


class LicenseDataError(ValueError):
    """A license or user that is not what MSP360 documents; the message names it and the field."""


class StorageDataError(ValueError):
    """Storage accounts or details that are not what MSP360 documents; the message names them."""


class ProductOptionError(ValueError):
    """A product mapping entry that cannot be right; the message names the entry and the key."""


class UnmappedLicenseTypes(ValueError):
    """``unmapped_license_types: fail`` and licenses that would bill are of an unmapped type."""


# ---------------------------------------------------------------------------
# billing: one company skipped or refused, the whole run refused


class CompanySkipped(Exception):
    """Not an error: one company is not billed in this run; a subclass's ``reason`` is its result's ``reason``."""


class BillingRefused(ValueError):
    """A billing rule refuses one company before any write for it; the other companies are billed."""


class BillsNothing(ValueError):
    """The configuration matches no agreement of any company with usage: a typo, not a quiet month."""


class RunRefused(ValueError):
    """The run stopped before any write: ``rule`` (``empty month``, ``mass change``) and what it would have done."""

    def __init__(self, rule, message, changes, detail=None):
        self.rule = rule
        self.changes = changes
        self.detail = dict(detail or {})
        super(RunRefused, self).__init__(message)

    def result(self):
        return dict(self.detail, rule=self.rule, changes=self.changes)


# ---------------------------------------------------------------------------
# the billing role's reports (controller side)


class ReportFolderError(Exception):
    """A report folder or file that cannot be used; the message names the setting and says what to do."""


class MailError(Exception):
    """The report was not mailed; the message says why and what to change, never a password."""
