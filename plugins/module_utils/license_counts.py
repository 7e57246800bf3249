# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""License counts of a month, whatever their source: the shape billing and the report read. Pure, no I/O.

Both license sources, MSP360's API (:mod:`licenses`, a snapshot at run time) and the console's
usage-history export (:mod:`license_history`), classify each license they read into exactly one
bucket: counted for a (company, product), or not billed for one reason (:data:`REASON_TEXT`), and
:func:`tally` turns that into a :class:`LicenseCounts` that proves ``read = counted + not billed``.
Companies and products group by :func:`identity.fold`; a company is spelled as its first counted
license spells it.

``unmapped_license_types`` (``report`` or ``fail``) is checked here, before any write, by
:func:`check_unmapped_license_types`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from dataclasses import dataclass

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import LicenseDataError, UnmappedLicenseTypes
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

TRIAL = "trial"
EXPIRED = "expired"
UNASSIGNED = "unassigned"
NOT_TAKEN = "not_taken"
UNKNOWN_USER = "unknown_user"
NO_COMPANY = "no_company"
UNMAPPED_TYPE = "unmapped_type"
# The usage-history export's own (license_history.py).
NOT_ACTIVE = "not_active"
REPEAT = "repeat"

REASON_TEXT = {
    TRIAL: "trial",
    EXPIRED: "expired before the period began",
    UNASSIGNED: "in a pool, assigned to no user",
    NOT_TAKEN: "assigned to a user but in use on no computer",
    UNKNOWN_USER: "its user is not one of MSP360's users",
    NO_COMPANY: "its user has no company in MSP360",
    UNMAPPED_TYPE: "no license_products entry maps its license type",
    NOT_ACTIVE: "not active during the period",
    REPEAT: "the same endpoint's license of that type, already counted for the period",
}

UNMAPPED_POLICIES = ("report", "fail")


def check_unmapped_policy(policy):
    """The ``unmapped_license_types`` option's value, or ValueError naming it."""
    if policy not in UNMAPPED_POLICIES:
        raise ValueError("unmapped_license_types %r is not one of %s" % (policy, ", ".join(UNMAPPED_POLICIES)))
    return policy


# ---------------------------------------------------------------------------
# the counts


@dataclass(frozen=True)
class LicenseItem:
    """One license (or usage-history row) as the report names it."""

    ref: str
    license_type: object
    company: object = None
    user: object = None
    endpoint: object = None
    license_id: object = None
    number: object = None

    def as_dict(self):
        return dict((name, getattr(self, name)) for name in
                    ("ref", "license_type", "company", "user", "endpoint", "license_id", "number"))


@dataclass(frozen=True)
class BilledLicenses:
    """The licenses counted for one (company, product): ``quantity`` is their number."""

    company: str
    product: str
    items: tuple

    @property
    def quantity(self):
        return len(self.items)


@dataclass(frozen=True)
class NotBilled:
    """The licenses not billed for one reason (a key of :data:`REASON_TEXT`)."""

    reason: str
    items: tuple

    @property
    def count(self):
        return len(self.items)


@dataclass(frozen=True)
class LicenseCounts:
    """Every license read, in exactly one bucket: ``billed`` per (company, product), or ``not_billed``.

    ``read`` is the number of licenses (or rows) read; :meth:`reconcile` proves
    ``read == counted + not billed``. ``billed`` is sorted by company then product;
    ``not_billed`` lists every reason of the source, in precedence order, empty ones too.
    """

    period: object
    source: str
    read: int
    billed: tuple
    not_billed: tuple

    def quantities(self):
        """``{(company, product): quantity}``."""
        return dict(((group.company, group.product), group.quantity) for group in self.billed)

    def quantity(self, company, product):
        """The count for ``company`` and ``product`` (both folded); 0 when none counted."""
        return sum(group.quantity for group in self.billed
                   if fold(group.company) == fold(company) and fold(group.product) == fold(product))

    def not_billed_counts(self, company=None):
        """``{reason: count}`` of every reason, for all companies or for ``company`` (folded)."""
        return dict((bucket.reason, sum(1 for item in bucket.items
                                        if company is None or fold(item.company) == fold(company)))
                    for bucket in self.not_billed)

    def not_billed_items(self, reason):
        for bucket in self.not_billed:
            if bucket.reason == reason:
                return bucket.items
        return ()

    def reconcile(self):
        """``(read, counted, not_billed)``; LicenseDataError when they do not add up (a defect, never data)."""
        counted = sum(group.quantity for group in self.billed)
        not_billed = sum(bucket.count for bucket in self.not_billed)
        if counted + not_billed != self.read:
            raise LicenseDataError("%s: %d licenses read but %d counted and %d not billed"
                                   % (self.source, self.read, counted, not_billed))
        return self.read, counted, not_billed


def tally(period, source, classified, reasons):
    """``[(LicenseItem, reason or None, product or None)]`` -> :class:`LicenseCounts`.

    Each item has either a reason (not billed) or a product (counted for its company), so each
    lands in exactly one bucket. Companies and products group by :func:`identity.fold`.
    """
    groups, spelled, by_reason = {}, {}, dict((reason, []) for reason in reasons)
    for item, reason, product in classified:
        if reason is not None:
            by_reason[reason].append(item)
            continue
        key = (fold(item.company), fold(product))
        spelled.setdefault(key, (item.company, product))
        groups.setdefault(key, []).append(item)
    billed = tuple(BilledLicenses(company=spelled[key][0], product=spelled[key][1], items=tuple(groups[key]))
                   for key in sorted(groups))
    counts = LicenseCounts(period=period, source=source, read=len(classified), billed=billed,
                           not_billed=tuple(NotBilled(reason, tuple(by_reason[reason])) for reason in reasons))
    counts.reconcile()
    return counts


# ---------------------------------------------------------------------------
# unmapped types


def _grouped(items, name_of):
    """``[(name, [item])]`` grouped by folded name, each spelled as its first item spells it, sorted."""
    groups = {}
    for item in items:
        name = name_of(item)
        groups.setdefault(fold(name), (name, []))[1].append(item)
    return sorted(groups.values(), key=lambda group: fold(group[0]))


def unmapped_types(counts):
    """``{license type: [LicenseItem]}`` of the licenses not billed only because their type is unmapped."""
    return dict(_grouped(counts.not_billed_items(UNMAPPED_TYPE), lambda item: item.license_type or "(no license type)"))


def _unmapped_summary(found):
    return "; ".join("%r: %d (%s)" % (license_type, len(items),
                                      ", ".join("%s %d" % (company, len(of_company)) for company, of_company
                                                in _grouped(items, lambda item: item.company or "?")))
                     for license_type, items in found.items())


def check_unmapped_license_types(counts, policy):
    """Call before any write. ``fail``: UnmappedLicenseTypes when a license would bill but for its type.

    ``report``: the warnings naming the unmapped types, with their counts per company ([] when none).
    """
    check_unmapped_policy(policy)
    found = unmapped_types(counts)
    if not found:
        return []
    summary = _unmapped_summary(found)
    if policy == "fail":
        raise UnmappedLicenseTypes(
            "licenses of types no license_products entry maps would otherwise be billed for %s: %s. Map each type "
            "to a product in license_products, or set unmapped_license_types: report to bill the mapped types and "
            "report these. Nothing was sent." % (counts.period, summary))
    return ["licenses not billed for %s because no license_products entry maps their type: %s"
            % (counts.period, summary)]
