# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Effective dates: which agreement term covers a period, the billing start date, invoiced spans."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
from collections import namedtuple

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import parse_period
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import parse_cw_date
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import BillingRefused, CompanySkipped

EFFECTIVE_DATE_POLICIES = ("clamp", "fail")
NOT_BILLING_YET = "agreement not billing yet"


# ``one_time``: a late charge, effective after its own month and cancelled at the end of the month it starts in.
EffectiveDate = namedtuple("EffectiveDate", ["date", "warning", "one_time"], defaults=(False,))


class NotBillingYet(CompanySkipped):
    """The agreement starts billing after the period: skip the company."""

    reason = NOT_BILLING_YET

    def __init__(self, period, bill_start_date):
        self.period = period
        self.bill_start_date = bill_start_date
        super(NotBillingYet, self).__init__(
            "%s: its billing start date %s is after the last day of %s (%s)"
            % (NOT_BILLING_YET, bill_start_date.isoformat(), period.label, period.last_day.isoformat()))


class EffectiveDateRefused(BillingRefused):
    """Policy ``fail`` and the billing start date falls inside the period."""

    def __init__(self, period, bill_start_date, option="effective_date_policy"):
        self.period = period
        self.bill_start_date = bill_start_date
        super(EffectiveDateRefused, self).__init__(
            "The Effective Date: %s in agreement addition cannot precede the Billing Start Date: %s. "
            "The agreement starts billing inside %s, so the addition for the period would start before it; "
            "with %s=fail nothing is written for this company. Use %s=clamp to start the addition on the "
            "billing start date, or change the agreement's billing start date."
            % (_us_date(period.first_day), _us_date(bill_start_date), period.label, option, option))


def _us_date(day):
    return "%d/%d/%d" % (day.month, day.day, day.year)


def agreement_term(agreement, period):
    """Whether ``agreement``'s term covers ``period``: ``(covers, reason_or_warning)``.

    ConnectWise's ``agreementStatus`` describes the day it is read (an agreement that ended on
    2026-10-31 reads ``Expired`` in December), so the period is judged by the dates instead:
    start on or before the period's last day; no end date (or ``noEndingDateFlag``), or an end on or
    after its first day; not cancelled before the period began. When it covers, the second value
    is a warning (cancelled inside the period) or None; when it does not, it is the reason.
    """
    start = parse_cw_date(agreement.get("startDate"))
    if start is not None and start > period.last_day:
        return False, "starts on %s, after %s" % (start.isoformat(), period.label)
    end = None if agreement.get("noEndingDateFlag") else parse_cw_date(agreement.get("endDate"))
    if end is not None and end < period.first_day:
        return False, "ended on %s, before %s" % (end.isoformat(), period.label)
    cancelled = parse_cw_date(agreement.get("dateCancelled"))
    status = agreement.get("agreementStatus") or ""
    if cancelled is None and (agreement.get("cancelledFlag") or status == "Cancelled"):
        return False, "cancelled (no cancellation date to tell whether %s was covered)" % period.label
    # Without the date that explains it, a status other than Active cannot be judged: do not bill.
    if status == "Expired" and end is None:
        return False, "expired (no end date to tell whether %s was covered)" % period.label
    # ConnectWise reads an agreement that has not started yet Inactive: one that starts inside the period (the
    # current month, billed on request) is judged by its dates; any other Inactive one is not billed.
    if status == "Inactive" and (start is None or start <= period.first_day):
        return False, "inactive"
    if cancelled is not None:
        if cancelled < period.first_day:
            return False, "cancelled on %s, before %s" % (cancelled.isoformat(), period.label)
        if cancelled <= period.last_day:
            return True, ("agreement %s was cancelled on %s, inside %s: the period is billed"
                          % (agreement.get("id"), cancelled.isoformat(), period.label))
    return True, None


def effective_date(period, bill_start_date=None, policy="clamp", option="effective_date_policy"):
    """The addition's effective date for ``period`` under the agreement's ``billStartDate``.

    Returns ``EffectiveDate(date, warning)``; raises :class:`NotBillingYet` or
    :class:`EffectiveDateRefused` (naming the policy as ``option``). ``bill_start_date`` may be a
    date or a ConnectWise datetime string.
    """
    if policy not in EFFECTIVE_DATE_POLICIES:
        raise ValueError("effective_date_policy %r is not one of %s" % (policy, ", ".join(EFFECTIVE_DATE_POLICIES)))
    period = parse_period(period)
    start = parse_cw_date(bill_start_date) if bill_start_date is not None else None
    if start is None or start <= period.first_day:
        return EffectiveDate(period.first_day, None)
    if start > period.last_day:
        raise NotBillingYet(period, start)
    if policy == "fail":
        raise EffectiveDateRefused(period, start, option)
    return EffectiveDate(start, "effective date moved from %s to the agreement's billing start date %s "
                                "(ConnectWise refuses an addition that starts before it)"
                         % (period.first_day.isoformat(), start.isoformat()))


INVOICED_POLICIES = ("fail", "next_invoice_date")
# ConnectWise's refusal of an addition inside an invoiced period (the shared API document's wording).
INVOICED_REFUSAL = ("Since this period has already been invoiced there will not be an invoice generated for "
                    "additional products for this period. Please prorate the agreement or update the start date "
                    "to on or after the Next Invoice Date.")


def is_invoiced_refusal(message):
    return "already been invoiced" in (message or "").lower()


class InvoicedPeriodRefused(BillingRefused):
    """Policy ``fail`` and ConnectWise refuses (or would refuse) an addition inside an invoiced span."""

    def __init__(self, period, next_invoice_date=None, api_message=None, option="invoiced_period_policy"):
        self.period = period
        self.next_invoice_date = next_invoice_date
        through = (" (invoiced through %s; next invoice date %s)"
                   % ((next_invoice_date - datetime.timedelta(days=1)).isoformat(), next_invoice_date.isoformat())
                   if next_invoice_date else "")
        super(InvoicedPeriodRefused, self).__init__(
            "%s The agreement does not prorate and %s is already invoiced%s, so ConnectWise refuses the "
            "addition; nothing was written for this company. Set %s: next_invoice_date to bill "
            "%s on the next invoice as a one-time charge, or prorate the agreement (or bill it by hand)."
            % (api_message or INVOICED_REFUSAL, period.label, through, option, period.label))


def past_invoiced_span(effective, period, next_invoice_date, policy, api_message=None, option="invoiced_period_policy"):
    """``effective`` moved to ``next_invoice_date`` as a one-time late charge, or InvoicedPeriodRefused.

    On an agreement that does not prorate, ConnectWise refuses an addition effective before its
    next invoice date. Policy ``next_invoice_date`` bills the month on the next invoice instead:
    effective that day and cancelled at the end of its month, so it bills once; the addition
    keeps its month's marker, so a re-run finds it. Policy ``fail`` refuses.
    """
    if policy not in INVOICED_POLICIES:
        raise ValueError("invoiced_period_policy %r is not one of %s" % (policy, ", ".join(INVOICED_POLICIES)))
    period = parse_period(period)
    if policy == "fail" or next_invoice_date is None:
        raise InvoicedPeriodRefused(period, next_invoice_date, api_message, option)
    warning = ("%s is already invoiced on this agreement: billed on the next invoice as a one-time charge "
               "effective %s (instead of %s)" % (period.label, next_invoice_date.isoformat(),
                                                 effective.date.isoformat()))
    if effective.warning:
        warning = "%s; %s" % (effective.warning, warning)
    return EffectiveDate(next_invoice_date, warning, True)


def invoiced_since(effective, agreement):
    """The agreement's next invoice date when ``effective`` falls in its invoiced span (no proration), else None."""
    next_invoice = parse_cw_date(agreement.get("nextInvoiceDate"))
    if agreement.get("prorateFlag") or next_invoice is None or effective.date >= next_invoice:
        return None
    return next_invoice


def invoiced_effective_date(effective, period, agreement, policy, option="invoiced_period_policy"):
    """The effective date once the agreement's invoiced span is known (see :func:`past_invoiced_span`).

    ``agreement`` carries ``prorateFlag`` and ``nextInvoiceDate``; a prorated agreement, or an
    effective date on or after the next invoice date, leaves ``effective`` as it is.
    """
    next_invoice = invoiced_since(effective, agreement)
    if next_invoice is None:
        return effective
    return past_invoiced_span(effective, period, next_invoice, policy, option=option)
