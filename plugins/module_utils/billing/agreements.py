# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of a company's agreements of the name bills a period: pure, over the agreements read.

An agreement covers a period by its dates (:func:`effective_dates.agreement_term`). One covering
agreement is billed. Several that cover the same day cannot be told apart: the company fails with
no write. Several that cover the period one after the other (an agreement replaced inside the
month: the old one ends or is cancelled before the new one starts) bill the month once, on the
agreement in force on the period's last day, with a warning naming both.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.effective_dates import agreement_term
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import parse_cw_date


@dataclasses.dataclass(frozen=True)
class AgreementChoice:
    """The agreement to bill (with its ``warnings``) and those it replaced, or why there is none."""

    agreement: object = None
    replaced: tuple = ()
    warnings: tuple = ()
    skipped: object = None
    failed: object = None


def covered_days(agreement, period):
    """``(first, last)``: the days of ``period`` ``agreement`` is in force, both included.

    From its start (or the period's first day) to the earliest of its end date (unless it has no
    ending date), its cancellation date and the period's last day.
    """
    start = parse_cw_date(agreement.get("startDate"))
    ends = [period.last_day, parse_cw_date(agreement.get("dateCancelled"))]
    if not agreement.get("noEndingDateFlag"):
        ends.append(parse_cw_date(agreement.get("endDate")))
    first = max(start, period.first_day) if start is not None else period.first_day
    return first, min(day for day in ends if day is not None)


def _ids(rows):
    return ", ".join(str(row.get("id")) for row in rows)


def choose_agreement(rows, period, name, identifier):
    """The :class:`AgreementChoice` among ``rows`` (the company's agreements named ``name``)."""
    terms = [(row, agreement_term(row, period)) for row in rows]
    covering = [(row, note) for row, (covers, note) in terms if covers]
    if not covering:
        return AgreementChoice(skipped="no agreement named %r of company %s covers %s: %s" % (
            name, identifier, period.label,
            "; ".join("id %s %s" % (row.get("id"), note) for row, (_covers, note) in terms)))
    if len(covering) == 1:
        row, note = covering[0]
        return AgreementChoice(agreement=row, warnings=(note,) if note else ())
    spans = sorted(((covered_days(row, period), row) for row, _note in covering), key=lambda item: item[0])
    if any(spans[i][0][1] >= spans[i + 1][0][0] for i in range(len(spans) - 1)):
        rows_covering = [row for row, _note in covering]
        return AgreementChoice(failed=(
            "company %s has %d active agreements named %r (ids %s) that cover the same days of %s: cannot tell "
            "which one to bill; nothing was written for it. Cancel or rename the extra ones, or end one before "
            "the other starts" % (identifier, len(rows_covering), name, _ids(rows_covering), period.label)))
    # In force on the last day, else (none reaches it) the one that ends last.
    (chosen_days, chosen) = spans[-1]
    replaced = tuple(row for _days, row in spans[:-1])
    warning = ("agreement %s replaced agreement %s inside %s (%s): the month is billed once, on agreement %s, in "
               "force from %s" % (chosen.get("id"), _ids(replaced), period.label,
                                  "; ".join("%s in force %s to %s" % (row.get("id"), days[0].isoformat(),
                                                                      days[1].isoformat()) for days, row in spans),
                                  chosen.get("id"), chosen_days[0].isoformat()))
    notes = tuple(note for row, note in covering if row is chosen and note)
    return AgreementChoice(agreement=chosen, replaced=replaced, warnings=(warning,) + notes)
