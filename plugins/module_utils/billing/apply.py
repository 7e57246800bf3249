# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply one agreement's plan: write it (or predict it in check mode), then settle the history.

Every write is followed by a re-read; the history rules (:mod:`history`) are computed again from
what ConnectWise holds (another run may have written meanwhile) until nothing is left to do: of two
additions of one period the lowest id is kept and the others removed, earlier ones cancelled. Check
mode runs the same steps on the additions as they would be, with no write. The plan itself was
decided from the additions read before any write (:mod:`plan`), so nothing here reads them first.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.billing import change_lines, history
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.effective_dates import (
    is_invoiced_refusal,
    past_invoiced_span,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.invoice_text import render_invoice_description
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.outcome import NO_USAGE
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.payloads import (
    addition_changes,
    addition_fields,
    wire_fields,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.plan import BILL, CORRECT, invoiced_twice_warning, update_fields
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import cw_datetime, parse_cw_date
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, NotFoundError

AGREEMENTS = "finance/agreements"
ADDITION_FIELDS = ("id", "product/id", "product/identifier", "effectiveDate", "cancelledDate", "quantity",
                   "unitCost", "unitPrice", "invoiceDescription", "billCustomer", "description", "lessIncluded")
# Write, re-read, fix: rounds before a run gives up settling one agreement's history (another run
# keeps changing it) and says so.
SETTLE_ROUNDS = 4


def additions_path(agreement):
    return "%s/%s/additions" % (AGREEMENTS, agreement["id"])


def read_additions(client, agreement, product, period):
    """The product's additions on ``agreement`` that bill ``period``, or later, or still bill into it."""
    return read_agreement_additions(client, agreement, [product], period)


def read_agreement_additions(client, agreement, products, period):
    """The additions of ``products`` (catalog rows) on ``agreement`` that bill ``period``, or later, or still
    bill into it: one read for every product line of the agreement."""
    first = period.first_day
    ids = sorted(set(product["id"] for product in products))
    conditions = cond.all_of(
        cond.equals("product/id", ids[0]) if len(ids) == 1 else cond.is_in("product/id", ids),
        cond.any_of(cond.equals("cancelledDate", None),
                    cond.condition("cancelledDate", ">=", first - datetime.timedelta(days=1)),
                    cond.condition("effectiveDate", ">=", first)))
    return list(client.list(additions_path(agreement), conditions=conditions, fields=ADDITION_FIELDS,
                            order_by="id asc"))


def _invoiced_refusal(exc):
    """ConnectWise's "already been invoiced" text from a refused write (top-level or a field error), or None."""
    if exc.status != 400:
        return None
    for text in [exc.api_message] + [error.get("message") for error in exc.errors]:
        if is_invoiced_refusal(text):
            return text
    return None


class Applier:
    """One agreement's plan, written (or predicted) and settled."""

    def __init__(self, client, config, bill, check_mode=False, diff=False):
        self.client = client
        self.config = config
        self.bill = bill
        self.plan = bill.plan
        self.check_mode = check_mode
        self.diff = diff
        self.period = config.period
        self.product_id = bill.product["id"]
        self.path = additions_path(bill.agreement)
        self.wanted = self.plan.wanted
        self.starts = self.plan.starts
        self.ours = None  # the id of the addition this run created, if any

    def read(self):
        return read_additions(self.client, self.bill.agreement, self.bill.product, self.period)

    def period_additions(self, additions):
        return history.period_additions(additions, self.product_id, self.period)

    def find_period_addition(self):
        """The period's addition as ConnectWise holds it now (the lowest id), or None."""
        found = self.period_additions(self.read())
        return found[0] if found else None

    def apply(self):
        self.finish(self.write())

    def write(self):
        """The plan's write (or its prediction): the additions as they are after it."""
        plan = self.plan
        if plan.kind == BILL:
            return self.create() if plan.create else self.update()
        if plan.kind == CORRECT:
            return self.correct()
        return plan.additions

    def finish(self, additions, reread=None):
        """Settle the history after :meth:`write`, and say what came of a plan without usage.

        ``reread``: the agreement's additions read again once after every line of the agreement wrote
        (:func:`apply_lines`), which stands for this line's own re-read.
        """
        if reread is not None:
            self.settle(reread, wrote=False)
        else:
            self.settle(additions, wrote=self.bill.wrote)
        if self.plan.kind != BILL:
            self.finish_without_usage()

    # ---------------------------------------------------------------- the period's addition
    def create(self):
        """POST the period's addition (or predict it); returns the additions as they now are."""
        bill, additions = self.bill, self.plan.additions
        if self.check_mode:
            self.diff_entry(None, self.wanted)
            bill.finish("created")
            return additions + [dict(wire_fields(self.wanted), id=None)]
        try:
            created, adopted = self.client.create_once(self.path, wire_fields(self.wanted), self.find_period_addition)
        except ApiError as exc:
            refusal = _invoiced_refusal(exc)
            if refusal is None:
                raise
            self.wanted = self._past_invoiced_span(refusal)
            created, adopted = self.client.create_once(self.path, wire_fields(self.wanted), self.find_period_addition)
        bill.wrote = True
        self.diff_entry(None, self.wanted)
        self.ours = created.get("id")
        if adopted:
            bill.warn("the answer to POST %s was lost; addition %s found on re-reading and adopted"
                      % (self.path, created.get("id")))
        bill.finish("created")
        bill.addition_id = created.get("id")
        return additions + [created]

    def _past_invoiced_span(self, refusal):
        """ConnectWise refused the period as invoiced although the agreement did not say so: apply the policy."""
        bill, plan = self.bill, self.plan
        agreement = self.client.get_by_id(AGREEMENTS, bill.agreement["id"]) or {}
        moved = past_invoiced_span(plan.effective, self.period, parse_cw_date(agreement.get("nextInvoiceDate")),
                                   self.config.invoiced_period_policy, refusal,
                                   self.config.names("invoiced_period_policy"))
        bill.dated(moved)
        bill.warn(invoiced_twice_warning(plan.additions, bill, moved))
        self.starts = self.period.first_day
        description = render_invoice_description(bill.settings.template, bill.line, self.period,
                                                 bill.company.get("name"))
        return addition_fields(bill.line, self.product_id, moved, description, period=self.period)

    def update(self):
        """Bring the period's addition to the line (PATCH of the changed fields only)."""
        bill, plan, existing = self.bill, self.plan, self.plan.winner
        if not plan.changes:
            bill.finish("unchanged")
            return plan.additions
        return self._patch(existing, plan.changes, "updated")

    def _patch(self, existing, changes, action):
        bill = self.bill
        bill.changed_fields = sorted(changes)
        self.diff_entry(existing, changes)
        if not self.check_mode:
            self.client.patch_fields(self.path, existing["id"], wire_fields(changes))
            bill.wrote = True
        bill.finish(action)
        updated = dict(existing, **wire_fields(changes))
        return [updated if a.get("id") == existing.get("id") else a for a in self.plan.additions]

    def correct(self):
        """The period's addition of a company whose usage is now 0: removed, or its quantity set to 0."""
        plan, winner = self.plan, self.plan.winner
        if plan.correction.how == "zeroed":
            return self._patch(winner, plan.changes, "updated")
        self._remove(winner, "%s's usage corrected to 0" % self.period.label)
        return [a for a in plan.additions if a is not winner]

    def _remove(self, addition, reason):
        if not self.check_mode:
            try:
                self.client.delete(self.path, addition["id"])
            except NotFoundError:
                pass  # removed meanwhile (the run that made it, or another run correcting it)
            self.bill.wrote = True
        self.diff_removal(addition, reason)

    # ---------------------------------------------------------------- the history
    def settle(self, additions, wrote):
        """Re-read after writing and fix what the re-read shows, until nothing is left to fix."""
        for _round in range(SETTLE_ROUNDS):
            if wrote and not self.check_mode:
                additions = self.read()
            steps = self.steps(additions)
            if not steps:
                return
            additions = self.apply_steps(steps, additions)
            wrote = True
            if self.check_mode:
                return
        self.bill.warn("the additions of agreement %s kept changing while this run settled them (another run at "
                       "work?); run billing again to check" % self.bill.agreement["id"])

    def steps(self, additions):
        """``[("remove", addition, reason) | ("cancel", addition, day, reason)]`` for ``additions``."""
        winner, duplicates = history.period_winner(self.period_additions(additions), self.period)
        self._adopt(winner)
        steps = [("remove", a, "a duplicate of %s's addition %s (the lowest id is kept)"
                  % (self.period.label, winner.get("id"))) for a in duplicates]
        if self.config.previous_additions == "cancel":
            gone = set(id(a) for a in duplicates)
            kept = [a for a in additions if id(a) not in gone]
            steps += [("cancel", c.addition, c.day, c.reason)
                      for c in history.history_cancellations(kept, self.product_id, self.period, self.starts)]
        return steps

    def _adopt(self, winner):
        """Another run's addition of the period has the lowest id: it is kept, brought to what this run bills."""
        bill = self.bill
        if winner is None or self.ours is None or winner.get("id") in (self.ours, bill.addition_id):
            return
        bill.warn("another run billed %s at the same time: its addition %s (the lowest id) is kept and this run's %s "
                  "removed" % (self.period.label, winner.get("id"), self.ours))
        changes = addition_changes(winner, update_fields(winner, self.wanted))
        if changes:
            self.client.patch_fields(self.path, winner["id"], wire_fields(changes))
            bill.changed_fields = sorted(changes)
            self.diff_entry(winner, changes)
        bill.finish("updated" if changes else "unchanged")
        bill.addition_id = winner.get("id")

    def apply_steps(self, steps, additions):
        for step in steps:
            addition = step[1]
            if step[0] == "remove":
                self._remove(addition, step[2])
                if addition.get("id") not in self.bill.removed:
                    self.bill.removed.append(addition.get("id"))
                additions = [a for a in additions if a is not addition]
                continue
            changes = {"cancelledDate": cw_datetime(step[2])}
            if not self.check_mode:
                try:
                    self.client.patch_fields(self.path, addition["id"], changes)
                except NotFoundError:
                    # A duplicate of its month, removed meanwhile by the run that settled that month:
                    # nothing left to cancel (the next round's re-read no longer has it).
                    additions = [a for a in additions if a is not addition]
                    continue
                self.bill.wrote = True
            self.diff_entry(addition, changes, label="cancel")
            self.bill.note_cancelled(addition.get("id"))
            additions = [dict(a, **changes) if a is addition else a for a in additions]
        return additions

    def finish_without_usage(self):
        bill, correction = self.bill, self.plan.correction
        why = bill.idle_reason()
        if correction is not None and correction.how == "zeroed":
            return  # "updated": the addition bills 0 now
        done = []
        if correction is not None:
            done.append("%s's addition %s (%s %s, price %s) removed" % (
                self.period.label, correction.addition_id, correction.quantity, bill.unit,
                "-" if correction.total_price is None else correction.total_price))
        if bill.cancelled:
            one = len(bill.cancelled) == 1
            done.append("earlier addition%s %s cancelled on %s so %s no longer bill" % (
                "" if one else "s", ", ".join(str(i) for i in bill.cancelled),
                (self.period.first_day - datetime.timedelta(days=1)).isoformat(), "it does" if one else "they do"))
        if not done:
            bill.finish("skipped", NO_USAGE)
            return
        bill.finish("cancelled", "%s: %s" % (why, "; ".join(done)))

    # ---------------------------------------------------------------- what was done, for --diff and the report
    def diff_entry(self, existing, changes, label=None):
        """One write (or predicted write) as a short text: the company's ``changes``, one line of ``--diff``."""
        if existing is None:
            text = change_lines.created(self.period, self.bill.line, parse_cw_date(changes.get("effectiveDate")))
        elif label == "cancel":
            text = change_lines.cancelled(existing.get("id"), changes.get("cancelledDate"))
        else:
            text = change_lines.updated(existing.get("id"), existing, changes)
        self.bill.changes.append(text)

    def diff_removal(self, addition, reason):
        self.bill.changes.append(change_lines.removed(addition.get("id"), reason))


def apply_lines(client, config, bills, check_mode=False, diff=False):
    """Apply the plans of one agreement's lines (one per product): every line's write, then ONE re-read of the
    agreement's additions for all of them (when one wrote), then each line's history settled on it.

    So a company billed for several products costs one re-read, not one per product. A line's failure is
    its own (``bill.fail``); the others are applied.
    """
    written = []
    for bill in bills:
        applier = Applier(client, config, bill, check_mode=check_mode, diff=diff)
        try:
            written.append((applier, applier.write()))
        except (ApiError, ValueError) as exc:
            bill.fail(str(exc))
    reread = None
    if not check_mode and len(written) > 1 and any(applier.bill.wrote for applier, _additions in written):
        try:
            reread = read_agreement_additions(client, bills[0].agreement, [a.bill.product for a, _x in written],
                                              config.period)
        except ApiError as exc:
            for applier, _additions in written:
                applier.bill.fail(str(exc))
            return
    for applier, additions in written:
        try:
            applier.finish(additions, reread)
        except (ApiError, ValueError) as exc:
            applier.bill.fail(str(exc))
