# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One ConnectWise company's billing in a run: its usage, agreement, line, plan and what came of it.

A :class:`CompanyBill` is the one owner of a company's state during a run: the run's steps change it
only through its methods, its money stays ``Decimal`` and only :meth:`CompanyBill.result` writes the
module's result entry (exact decimal strings, names :func:`text.shown`). Totals are summed from
:meth:`CompanyBill.amounts`, never read back from the result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.history import is_late_charge
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import bytes_to_quantity
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.text import shown
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import parse_cw_date

NO_USAGE = "no usage"
NOT_IN_USAGE = "not in this run's usage"
NO_COMPANY = "no ConnectWise company"
SKIP_SET = "skip is set for company %s in companies"

# What a company's line bills: its storage on the storage product, its storage on one storage
# account's product (``storage_products``), or its licenses of one product (``license_products``).
STORAGE = "storage"
STORAGE_ACCOUNT = "storage_account"
LICENSE = "license"
KINDS = (STORAGE, STORAGE_ACCOUNT, LICENSE)
LICENSE_UNIT = "licenses"


@dataclasses.dataclass(frozen=True)
class Correction:
    """The period's addition of a company whose usage was corrected to 0: removed, or set to quantity 0."""

    addition_id: int
    how: str
    quantity: object
    total_price: object
    total_cost: object

    def result(self):
        return {"addition_id": self.addition_id, "how": self.how, "quantity": _text(self.quantity),
                "total_price": _text(self.total_price), "total_cost": _text(self.total_cost)}


@dataclasses.dataclass
class CompanyBill:
    """One line of one ConnectWise company in the run: its storage, or one of its other products (``kind``).

    ``absent``: the company has an agreement but no usage record (for a license line: no license
    of the product counted). Each line is planned and applied on its own, by the same rules.
    """

    identifier: str
    usage_names: list
    records: list
    settings: object
    period: object
    unit: str
    absent: bool = False
    company: dict = None
    agreement: dict = None
    # Agreements of the name that ended inside the period, replaced by ``agreement``.
    replaced: tuple = ()
    product: dict = None
    line: object = None
    # Whether the line is part of the result (it is once the company was priced for this period).
    priced: bool = False
    action: str = None
    reason: str = None
    warnings: list = dataclasses.field(default_factory=list)
    addition_id: object = None
    marker: object = None
    effective_date: object = None
    invoiced_moved: bool = False
    backfill: bool = False
    changed_fields: list = dataclasses.field(default_factory=list)
    cancelled: list = dataclasses.field(default_factory=list)
    removed: list = dataclasses.field(default_factory=list)
    correction: Correction = None
    no_named_agreement: bool = False
    unmapped: bool = False
    not_in_usage: bool = False
    wrote: bool = False
    # What the run did (or would do) to the additions, one short text per write (change_lines).
    changes: list = dataclasses.field(default_factory=list)
    plan: object = None
    # Which product line of the company this is (STORAGE, STORAGE_ACCOUNT, LICENSE).
    kind: str = STORAGE
    # A license line: the licenses counted, and the license types its product maps.
    count: object = None
    license_types: tuple = ()
    # A storage line of a company split by storage account: the company's whole storage (what the
    # plausibility bound judges), this line's share of the company's quantity, the accounts it bills.
    company_bytes: object = None
    quantity_share: object = None
    accounts: tuple = ()

    @property
    def used_bytes(self):
        return sum(record.used_bytes for record in self.records)

    @property
    def has_usage(self):
        """Whether the line has something to bill: licenses counted, or bytes used."""
        if self.kind == LICENSE:
            return bool(self.count)
        return self.used_bytes > 0

    @property
    def label(self):
        """The company, and the product of a line other than the storage product's: how messages name the line."""
        return self.identifier if self.kind == STORAGE else "%s (%s)" % (self.identifier, self.settings.product)

    def usage_text(self):
        """The line's usage in its unit: ``25.00 GiB``, ``3 licenses``."""
        if self.kind == LICENSE:
            return "%d %s" % (self.count or 0, self.unit)
        return "%s %s" % (bytes_to_quantity(self.used_bytes, self.unit), self.unit)

    def idle_reason(self):
        """Why the line bills nothing in the period (its open addition, if any, then stops)."""
        if self.kind == LICENSE:
            return "no license of product %s counted for %s" % (shown(self.settings.product), self.period.label)
        if self.company_bytes and not self.records:
            return "its storage in %s is billed on its storage-account products" % self.period.label
        if self.absent:
            return "absent from the usage of %s" % self.period.label
        return "no usage in %s" % self.period.label

    @property
    def pending(self):
        return self.action is None

    @property
    def changed(self):
        return bool(self.action in ("created", "updated", "cancelled") or self.cancelled or self.removed or self.wrote)

    @property
    def usage_company(self):
        return ", ".join(shown(name) for name in self.usage_names) or None

    # ---------------------------------------------------------------- changes
    def finish(self, action, reason=None):
        self.action = action
        if reason is not None:
            self.reason = reason

    def fail(self, reason):
        self.finish("failed", reason)

    def skip(self, reason):
        self.finish("skipped", reason)

    def warn(self, warning):
        if warning and warning not in self.warnings:
            self.warnings.append(warning)

    def price(self, line):
        """The company's line for the period (shown in the result from now on)."""
        self.line = line
        self.priced = True
        for warning in line.warnings:
            self.warn(warning)

    def found_agreement(self, agreement, company):
        self.agreement = agreement
        self.company = dict(company or {})

    def adopt(self, plan):
        """The plan's decisions, as the result shows them before anything is applied (or predicted)."""
        self.plan = plan
        self.backfill = plan.backfill
        if plan.effective is not None:
            self.dated(plan.effective)
        for warning in plan.warnings:
            self.warn(warning)
        if plan.wanted is not None:
            self.marker = plan.wanted.get("description")
        self.correction = plan.correction
        winner = plan.winner
        if winner is not None and not (plan.correction and plan.correction.how == "removed"):
            self.addition_id = winner.get("id")
            if plan.kind == "bill" and is_late_charge(winner):
                # Moved past an invoiced span by an earlier run: its date and one-time end stay.
                self.effective_date = parse_cw_date(winner.get("effectiveDate"))
                self.invoiced_moved = True

    def dated(self, effective):
        """The addition's effective date (an ``EffectiveDate``), and its warning."""
        self.effective_date = effective.date
        self.invoiced_moved = bool(effective.one_time)
        self.warn(effective.warning)

    def note_cancelled(self, addition_id):
        if addition_id != self.addition_id and addition_id not in self.cancelled:
            self.cancelled.append(addition_id)

    # ---------------------------------------------------------------- reading
    def amounts(self):
        """What :func:`totals.summarise` adds up: the action, the cancelled additions and the line's Decimals."""
        line = self.line if self.priced else None
        return {"company": self.identifier, "action": self.action, "cancelled": self.cancelled, "unit": self.unit,
                "kind": self.kind, "product": self.settings.product,
                "used_quantity": line.used_quantity if line else None,
                "quantity": line.quantity if line else None,
                "total_cost": line.total_cost if line else None,
                "total_price": line.total_price if line else None}

    def result(self):
        """The module's result entry: exact decimal strings, every name and message on one line."""
        line = self.line if self.priced else None
        company = self.company or {}
        agreement = self.agreement or {}
        return {
            "company": shown(self.identifier),
            "company_name": shown(company.get("name")),
            "usage_company": self.usage_company,
            "agreement": shown(self.settings.agreement),
            "agreement_id": agreement.get("id"),
            "replaced_agreements": [row.get("id") for row in self.replaced],
            "product": shown(self.settings.product),
            "cost_mode": self.settings.mode,
            "period": self.period.label,
            "effective_date": _date(self.effective_date),
            "used_bytes": self.used_bytes,
            "quantity": _text(line.quantity) if line else None,
            "used_quantity": _text(line.used_quantity if line else self._used_quantity()),
            "unit": self.unit,
            "destinations": [shown(d) for d in line.destinations] if line else [],
            "unit_cost": _text(line.unit_cost) if line else None,
            "unit_price": _text(line.unit_price) if line else None,
            "total_cost": _text(line.total_cost) if line else None,
            "total_price": _text(line.total_price) if line else None,
            "action": self.action,
            "addition_id": self.addition_id,
            "marker": self.marker,
            "cancelled": list(self.cancelled),
            "removed": list(self.removed),
            "correction": self.correction.result() if self.correction else None,
            "backfill": self.backfill,
            "invoiced_moved": self.invoiced_moved,
            "changed_fields": list(self.changed_fields),
            "changes": list(self.changes),
            "reason": shown(self.reason),
            "warnings": [shown(w) for w in self.warnings],
            "kind": self.kind,
            "licenses": self.count if self.kind == LICENSE else None,
            "license_types": [shown(t) for t in self.license_types],
            "included": line.included if line else None,
            "accounts": [shown(a) for a in self.accounts],
            "company_bytes": self.company_bytes,
        }

    def _used_quantity(self):
        if self.kind == LICENSE:
            return self.count or 0
        return bytes_to_quantity(self.used_bytes, self.unit)


def _text(value):
    """A Decimal as its exact string ("12.50"); None stays None."""
    return None if value is None else str(value)


def _date(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
