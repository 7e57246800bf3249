# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Usage records: one normalised record per source row, and one company's usage for the period.

Shared with the usage sources (``usage_sources``, ``msp360``), which build :class:`UsageRecord`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from dataclasses import dataclass

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import ZERO


@dataclass(frozen=True)
class UsageRecord:
    """One normalised usage record. ``source_ref`` names it in error messages."""

    company: str
    used_bytes: int
    destination: object = None
    cost: object = None
    price: object = None
    source_ref: str = ""
    user: object = None


@dataclass(frozen=True)
class CompanyUsage:
    """All usage of one company for the period.

    ``bytes_by_destination`` is a sorted tuple of ``(destination or None, bytes)``;
    it is what per-destination cost rates apply to. ``cost``/``price`` are None when
    no record carried that total.
    """

    company: str
    used_bytes: int
    destinations: tuple
    cost: object
    price: object
    records: int
    bytes_by_destination: tuple = ()
    source_refs: tuple = ()


def _dest_key(item):
    dest = item[0]
    return (dest is not None, dest or "")


def aggregate(records):
    """Records -> ``{company: CompanyUsage}``, one entry per company (insertion order
    follows the sorted company names). ValueError when a company mixes records with
    and without a cost (or price) total, naming the records."""
    groups = {}
    for record in records:
        groups.setdefault(record.company, []).append(record)
    result = {}
    for company in sorted(groups):
        items = groups[company]
        per_dest = {}
        for record in items:
            per_dest[record.destination] = per_dest.get(record.destination, 0) + record.used_bytes
        totals = {}
        for side in ("cost", "price"):
            given = [r for r in items if getattr(r, side) is not None]
            if given and len(given) != len(items):
                missing = [r.source_ref for r in items if getattr(r, side) is None]
                raise ValueError(
                    "company %r: some usage records give a %s total and others do not (%s without); "
                    "give it on every record or on none" % (company, side, ", ".join(missing)))
            totals[side] = sum((getattr(r, side) for r in given), ZERO) if given else None
        result[company] = CompanyUsage(
            company=company,
            used_bytes=sum(r.used_bytes for r in items),
            destinations=tuple(sorted(d for d in per_dest if d is not None)),
            cost=totals["cost"],
            price=totals["price"],
            records=len(items),
            bytes_by_destination=tuple(sorted(per_dest.items(), key=_dest_key)),
            source_refs=tuple(r.source_ref for r in items),
        )
    return result
