# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What billing one company's period would do, decided from the additions read and nothing else: no I/O.

:func:`plan_company` turns a priced :class:`~outcome.CompanyBill` and its agreement's additions into
a :class:`Plan`: bill the period (create or update its addition), leave it idle (no usage: only
earlier additions stop), or correct it (usage corrected to 0: the period's addition removed or set
to 0). The plan also says what the run's checks need before any write: the billing it would stop
or lower (:class:`Change`) and whether the company had an addition billing into the period. A
rule that refuses the company raises (ValueError, ``NotBillingYet``); the run records it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses
import datetime
from decimal import Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.billing import history
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.effective_dates import (
    effective_date,
    invoiced_effective_date,
    invoiced_since,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.invoice_text import render_invoice_description
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import ZERO, bytes_to_quantity, round_unit, to_decimal
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.outcome import LICENSE, Correction
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.payloads import addition_changes, addition_fields
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import cw_datetime, parse_cw_date

BILL, IDLE, CORRECT = "bill", "idle", "correct"
TENTH = Decimal("0.1")
# Below this a month is not judged by its growth (documented with max_growth): 100 GiB, 20 licenses.
GROWTH_FLOOR_BYTES = 100 * 2 ** 30
LICENSE_GROWTH_FLOOR = 20


@dataclasses.dataclass(frozen=True)
class Change:
    """Billing a plan stops or lowers: ``cancel`` earlier additions, ``remove`` or ``zero`` the period's, ``lower`` it.

    ``total_price`` is what it takes off one month's invoice (None when the additions carry no price).
    """

    kind: str
    additions: tuple
    total_price: object
    text: str

    def result(self, company, agreement_id):
        return {"company": company, "agreement_id": agreement_id, "change": self.kind,
                "additions": list(self.additions), "total_price": None if self.total_price is None else str(self.total_price),
                "what": self.text}


@dataclasses.dataclass
class Plan:
    """One agreement's decision for the period, as read before any write."""

    kind: str
    additions: list
    winner: object = None
    wanted: object = None
    effective: object = None
    starts: object = None
    backfill: bool = False
    changes: object = None
    correction: object = None
    change: object = None
    billing_before: tuple = ()
    warnings: list = dataclasses.field(default_factory=list)

    def warn(self, warning):
        if warning:
            self.warnings.append(warning)

    @property
    def create(self):
        return self.kind == BILL and self.winner is None


def _money(value):
    return "-" if value is None else str(value)


def _sum(values):
    given = [v for v in values if v is not None]
    return sum(given, ZERO) if given else None


def _unit_value(addition, field="unitPrice"):
    try:
        return round_unit(to_decimal(addition.get(field), field, allow_negative=True))
    except ValueError:
        return "-"


def _describe(addition, unit):
    """``addition 301 (2026-10: 100.00 GiB x 0.1000 = 10.00 a month)``: an addition as an invoice shows it."""
    period = history.addition_period(addition)
    return "addition %s (%s: %s %s x %s = %s a month)" % (
        addition.get("id"), period.label if period else "?", history.addition_quantity(addition), unit,
        _unit_value(addition), _money(history.addition_amount(addition)))


def bills_usage(bill, config):
    """Whether the company's plan bills the period (an addition), rather than only stopping what bills it."""
    return not (bill.absent or (bill.line.no_usage and not config.send_zero))


def check_started(bill, config):
    """NotBillingYet (or the ``fail`` policy's refusal) before anything is read, for a company that bills usage."""
    if bills_usage(bill, config):
        effective_date(bill.period, bill.agreement.get("billStartDate"), config.effective_date_policy,
                       config.names("effective_date_policy"))


def plan_company(bill, additions, config, replaced_additions=()):
    """The :class:`Plan` of ``bill`` (priced, with its agreement and product) over ``additions``."""
    period, product = bill.period, bill.product["id"]
    _refuse_month_on_a_replaced_agreement(bill, replaced_additions)
    winner, duplicates = history.period_winner(history.period_additions(additions, product, period), period)
    before = tuple(history.billing_into(additions, product, period))
    if not bills_usage(bill, config):
        plan = _idle(bill, additions, winner, duplicates, config)
    else:
        plan = _bill(bill, additions, winner, config)
    plan.billing_before = before
    return plan


def _refuse_month_on_a_replaced_agreement(bill, replaced_additions):
    for agreement, additions in replaced_additions:
        found = history.period_additions(additions, bill.product["id"], bill.period)
        if found:
            raise ValueError(
                "%s is already billed on agreement %s (addition %s), which agreement %s replaced inside the month: "
                "nothing was written, so the month is not billed twice. Remove that addition by hand to bill %s on "
                "agreement %s, or leave it billed on agreement %s and give this company skip: true for %s"
                % (bill.period.label, agreement.get("id"), ", ".join(str(a.get("id")) for a in found),
                   bill.agreement.get("id"), bill.period.label, bill.agreement.get("id"), agreement.get("id"),
                   bill.period.label))


# ---------------------------------------------------------------------------
# no usage: the period's addition corrected, earlier ones stopped


def _idle(bill, additions, winner, duplicates, config):
    plan = Plan(IDLE, additions, winner=winner, starts=bill.period.first_day)
    why = bill.idle_reason()
    if winner is not None and history.addition_quantity(winner) != 0:
        if history.marked_period(winner) is None:
            plan.warn("addition %s of %s was made by hand (it has no marker) and is left as it is although %s; "
                      "remove it by hand if %s should not be billed" % (winner.get("id"), bill.period.label, why,
                                                                        bill.period.label))
        else:
            _correct(plan, bill, winner, config.safety.zero_usage_correction, why)
    stopped = []
    if config.previous_additions == "cancel":
        gone = set(id(a) for a in duplicates) | set([id(winner)] if plan.kind == CORRECT else [])
        kept = [a for a in additions if id(a) not in gone]
        stopped = [c.addition for c in history.history_cancellations(kept, bill.product["id"], bill.period, plan.starts)
                   if c.addition is not winner and c.day < bill.period.first_day]
    if stopped and plan.change is None:
        plan.change = Change("cancel", tuple(a.get("id") for a in stopped),
                             _sum(history.addition_amount(a) for a in stopped),
                             "cancel %s - %s" % (", ".join(_describe(a, bill.unit) for a in stopped), why))
    return plan


def _correct(plan, bill, winner, policy, why):
    """The period's addition of a company whose usage is now 0: removed (policy ``remove``) or set to 0."""
    plan.kind, plan.winner = CORRECT, winner
    how = "removed" if policy == "remove" else "zeroed"
    plan.correction = Correction(winner.get("id"), how, history.addition_quantity(winner),
                                 history.addition_amount(winner), history.addition_amount(winner, "unitCost"))
    if how == "zeroed":
        plan.changes = {"quantity": ZERO}
    plan.change = Change("remove" if how == "removed" else "zero", (winner.get("id"),), plan.correction.total_price,
                         "%s %s - %s" % ("remove" if how == "removed" else "set to 0 the quantity of",
                                         _describe(winner, bill.unit), why))


# ---------------------------------------------------------------------------
# usage: the period's addition created or brought to the line


def _bill(bill, additions, winner, config):
    period, line = bill.period, bill.line
    effective = effective_date(period, bill.agreement.get("billStartDate"), config.effective_date_policy,
                               config.names("effective_date_policy"))
    invoiced = invoiced_since(effective, bill.agreement)
    if winner is None:
        effective = invoiced_effective_date(effective, period, bill.agreement, config.invoiced_period_policy,
                                            config.names("invoiced_period_policy"))
    check_growth(bill, history.previous_billed(additions, bill.product["id"], period))
    plan = Plan(BILL, additions, winner=winner, effective=effective,
                # A late charge is one-time: the month's place in the history starts on its first day.
                starts=period.first_day if effective.one_time else effective.date)
    if effective.one_time:
        plan.warn(invoiced_twice_warning(additions, bill, effective))
    description = render_invoice_description(bill.settings.template, line, period, bill.company.get("name"))
    plan.wanted = addition_fields(line, bill.product["id"], effective, description, period=period)
    plan.backfill = history.later_periods_billed(additions, bill.product["id"], period) or (
        winner is None and period.first_day < config.latest_ended_period.first_day)
    if winner is None:
        if plan.backfill and not effective.one_time:
            # A month billed after a later one: a one-time charge, ending on its own last day.
            plan.wanted = dict(plan.wanted, cancelledDate=cw_datetime(period.last_day))
        if line.no_usage:
            _zeroing(plan, bill, additions)
        return plan
    # The period's addition exists: the invoiced-period policy is for creating it. An invoiced month keeps its
    # dates (moving them would bill it again on the next invoice), and a change to it does not reach that invoice.
    plan.changes = addition_changes(winner, update_fields(winner, plan.wanted, keep_dates=invoiced is not None))
    if history.is_late_charge(winner):
        plan.warn("%s was already invoiced when it was billed: addition %s bills it on a later invoice as a one-time "
                  "charge effective %s" % (period.label, winner.get("id"), (winner.get("effectiveDate") or "")[:10]))
    if invoiced is not None and plan.changes:
        plan.warn("%s is already invoiced on this agreement (next invoice date %s): addition %s is brought to this "
                  "run's usage (%s), but the invoice already made keeps its old amount (%s): credit or bill the "
                  "difference by hand" % (period.label, invoiced.isoformat(), winner.get("id"),
                                          ", ".join(sorted(plan.changes)), _money(history.addition_amount(winner))))
    _lowering(plan, bill, winner)
    return plan


def update_fields(existing, wanted, keep_dates=False):
    """The fields an update compares: never a cancel date (the history's), nor the dates of a late charge or
    (``keep_dates``) of an addition whose month is already invoiced."""
    keep_dates = keep_dates or history.is_late_charge(existing)
    skipped = ("effectiveDate", "cancelledDate") if keep_dates else ("cancelledDate",)
    return dict((key, value) for key, value in wanted.items() if key not in skipped)


def _zeroing(plan, bill, additions):
    """``send_zero`` with zero usage while an earlier addition still bills: the month drops to 0."""
    stopping = [a for a in history.billing_into(additions, bill.product["id"], bill.period)
                if history.addition_amount(a) or history.addition_quantity(a)]
    if stopping:
        described = ", ".join(_describe(a, bill.unit) for a in stopping)
        plan.change = Change("zero", tuple(a.get("id") for a in stopping),
                             _sum(history.addition_amount(a) for a in stopping),
                             "bill %s at 0 after %s" % (bill.period.label, described))


def _lowering(plan, bill, winner):
    """An update that takes money (or quantity) off the period's addition already billed."""
    if not plan.changes or not ({"quantity", "unitPrice"} & set(plan.changes)):
        return
    before, after = history.addition_amount(winner), bill.line.total_price
    if before is not None and after is not None:
        lower, amount = after < before, before - after
    else:
        lower, amount = bill.line.quantity < history.addition_quantity(winner), None
    if not lower:
        return
    if bill.line.quantity == 0 and history.addition_quantity(winner) != 0:
        plan.correction = Correction(winner.get("id"), "zeroed", history.addition_quantity(winner), before,
                                     history.addition_amount(winner, "unitCost"))
    plan.change = Change("lower", (winner.get("id"),), amount,
                         "lower %s to %s %s x %s = %s" % (
                             _describe(winner, bill.unit), bill.line.quantity, bill.unit,
                             _money(bill.line.unit_price), _money(after)))


def check_growth(bill, previous):
    """ValueError naming the values and the option when the usage grew more than the bound allows.

    A month under :data:`GROWTH_FLOOR_BYTES` is not judged by growth: a customer whose first month was a
    few days of backups grows tenfold in its first full month, and small amounts are not where a wrong
    number hurts.
    """
    factor = bill.settings.bounds.max_growth
    if factor is None or previous is None or _below_growth_floor(bill):
        return
    line, period, option = bill.line, history.addition_period(previous), bill.settings.bounds.max_growth_option
    if line.mode == "total":
        what, now, then, unit = "the total price", line.total_price, history.addition_amount(previous), ""
    else:
        what, now, then, unit = "the usage", line.used_quantity, history.addition_quantity(previous), " " + bill.unit
    if now is None or not then or then <= 0 or now <= then * factor:
        return
    raise ValueError(
        "%s of %s is %s%s, %s times %s's %s%s (addition %s), above %s %s: nothing was written for this company. "
        "Check the usage of %s at its source; if it is right, raise %s (0 turns the check off)"
        % (what, bill.period.label, now, unit, (now / then).quantize(TENTH), period.label, then, unit,
           previous.get("id"), option, factor, bill.period.label, option))


def _below_growth_floor(bill):
    if bill.kind == LICENSE:
        return (bill.count or 0) < LICENSE_GROWTH_FLOOR
    return bill.used_bytes < GROWTH_FLOOR_BYTES


def check_size(bill):
    """ValueError naming the values and the option when the company's usage is above the absolute bound.

    Storage is judged by the company's whole storage (all its storage lines), licenses by the line's count.
    """
    if bill.kind == LICENSE:
        _check_licenses(bill)
        return
    bound = bill.settings.bounds.max_bytes
    used = bill.company_bytes if bill.company_bytes is not None else bill.used_bytes
    if bound is None or used <= bound:
        return
    raise ValueError(
        "the usage of %s is %s bytes (%s %s), above %s %s bytes: nothing was written for this company. Check the usage "
        "of %s at its source; if it is right, raise %s (0 turns the check off)"
        % (bill.period.label, "{:,}".format(used), bytes_to_quantity(used, bill.unit), bill.unit,
           bill.settings.bounds.max_bytes_option, "{:,}".format(bound), bill.period.label,
           bill.settings.bounds.max_bytes_option))


def _check_licenses(bill):
    bound, option = bill.settings.bounds.max_licenses, bill.settings.bounds.max_licenses_option
    if bound is None or (bill.count or 0) <= bound:
        return
    raise ValueError(
        "%d licenses of product %s are counted for %s, above %s %d: nothing was written for this line. Check the "
        "licenses in MSP360; if they are right, raise %s (0 turns the check off)"
        % (bill.count, bill.settings.product, bill.period.label, option, bound, option))


def invoiced_twice_warning(additions, bill, effective):
    """A late charge for a month an earlier addition, still open then, was invoiced for already; None if none was.

    ConnectWise invoiced the period with what was open on it: an earlier month's addition that was
    not cancelled before the period billed the period too, so the late charge bills it a second time.
    """
    period, through = bill.period, effective.date - datetime.timedelta(days=1)
    open_then = [a for a in history.billing_into(additions, bill.product["id"], period)
                 if history.addition_period(a) != period and not history.is_late_charge(a)
                 and parse_cw_date(a.get("effectiveDate")) < period.first_day]
    if not open_then:
        return None
    invoiced = _sum(history.addition_amount(a) for a in open_then)
    return ("%s was invoiced already (the agreement is invoiced through %s) with %s still open on it, so this "
            "one-time charge of %s bills %s a second time: credit the customer %s on the next invoice, or bill only "
            "the difference by hand" % (period.label, through.isoformat(), ", ".join(_describe(a, bill.unit) for a in open_then),
                                        _money(bill.line.total_price), period.label, _money(invoiced)))
