# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A month billed in parts (the billing role's ``billing_batch_size``), put back together as one result.

The role checks the whole month once (check mode, the usage read once, the run-level checks), then
bills its companies in batches (``only_companies``). :func:`merge_month` makes the batches' results
one billing result as if one call had billed the month: every company of the month's check exactly
once (a company two batches report is an error; one no batch reports - its batch stopped before
billing, or a later one never ran - is ``failed`` with the reason, so the run fails and a re-run bills
it), totals summed again from the lines (to the cent and the byte), the requests of every call.
:func:`progress_line` is the one line the role prints after each batch.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import (
    ZERO,
    bytes_to_quantity,
    round_money,
    round_quantity,
    to_decimal,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.text import plural
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.totals import ACTIONS, summarise
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable, shortened

# What the month's result keeps from its check (the batches bill the same month, unit and usage; the
# licenses read and how they were counted are the whole month's, not a batch's).
MONTH_KEYS = ("period", "unit", "current_period", "usage_complete", "stops", "licenses")
# How much of a stopped batch's message each of its companies' reasons repeats (the run log has it all).
STOPPED_SHOWN = 300


def _results(run, what):
    results = run.get("results") if isinstance(run, dict) else None
    if not isinstance(results, list):
        raise ValueError("%s has no results: give the billing module's registered result" % what)
    return results


def stopped(run):
    """Whether a billing call stopped before billing any company (no results), such as a refused run."""
    return not isinstance(run, dict) or not isinstance(run.get("results"), list)


def _not_billed(row, why):
    """A company of the month no batch billed: failed, with why, its usage kept for the reconciliation."""
    return dict(row, action="failed", reason=why, changes=[], cancelled=[], removed=[], changed_fields=[],
                correction=None, warnings=[])


def _line(row):
    """A result's line: its company and product (a company billed for licenses too has a line of each)."""
    return fold(row.get("company")), fold(row.get("product") or "")


def _companies(results):
    return len(set(fold(row.get("company")) for row in results))


def _by_line(parts):
    found = {}
    for index, run in enumerate(parts):
        if stopped(run):
            continue
        for row in run["results"]:
            key = _line(row)
            if key in found:
                product = " (product %s)" % printable(row["product"]) if row.get("product") else ""
                raise ValueError("company %s%s is in the results of batches %d and %d: a company is billed by one "
                                 "batch" % (printable(row.get("company")), product, found[key][0] + 1, index + 1))
            found[key] = (index, row)
    return found


def _stopped_reason(parts, count):
    for index, run in enumerate(parts):
        if stopped(run):
            message = shortened(printable((run or {}).get("msg") or "unknown error"), STOPPED_SHOWN)
            return ("not billed: batch %d of %d stopped before billing (%s), and the batches after it did not run; "
                    "nothing was written for this company, run billing again" % (index + 1, count, message))
    return "not billed: no batch reported this company; run billing again"


def merge_month(month, parts, count=None):
    """The month's check (``month``) and its batches' results (``parts``, in order) -> one billing result.

    ``count``: how many batches the month had (the ones after a stopped batch do not run).
    """
    checked = _results(month, "the month's check")
    found = _by_line(parts)
    why = _stopped_reason(parts, count or len(parts))
    results, seen = [], set()
    for row in checked:
        key = _line(row)
        seen.add(key)
        results.append(found[key][1] if key in found else _not_billed(row, why))
    results.extend(row for key, (_index, row) in sorted(found.items(), key=lambda item: item[1][0]) if key not in seen)
    done = [run for run in parts if not stopped(run)]
    merged = dict((key, month[key]) for key in MONTH_KEYS if key in month)
    merged.update(changed=any(run.get("changed") for run in done), results=results,
                  totals=_totals(results, done, month.get("unit")),
                  requests=_requests([month] + list(parts)),
                  longest_url=max([run.get("longest_url") or 0 for run in [month] + done]))
    if any("diff" in run for run in done):
        merged["diff"] = [entry for run in done for entry in run.get("diff") or []]
    return merged


def _money(values):
    given = [to_decimal(value, "a total", allow_negative=True) for value in values if value is not None]
    return str(round_money(sum(given, ZERO))) if given else None


def _totals(results, parts, unit):
    """The module's ``totals`` over the merged results: counts and money summed again from the lines."""
    summary = summarise(results)
    unmapped = [(run.get("totals") or {}).get("unmapped") or {} for run in parts]
    corrected = [(run.get("totals") or {}).get("corrected") or {} for run in parts]
    used = sum(int(part.get("used_bytes") or 0) for part in unmapped)
    return {
        "companies": summary["companies"],
        "counts": summary["counts"],
        "total_cost": str(summary["total_cost"]),
        "total_price": str(summary["total_price"]),
        "quantity": dict((name, str(round_quantity(q))) for name, q in summary["quantity"].items()),
        "unmapped": {"companies": sum(int(part.get("companies") or 0) for part in unmapped), "used_bytes": used,
                     "quantity": str(bytes_to_quantity(used, unit)) if unit else None,
                     "total_price": _money(part.get("total_price") for part in unmapped),
                     "total_cost": _money(part.get("total_cost") for part in unmapped),
                     "unpriced": sum(int(part.get("unpriced") or 0) for part in unmapped)},
        "corrected": {"companies": sum(int(part.get("companies") or 0) for part in corrected),
                      "total_price": _money(part.get("total_price") for part in corrected),
                      "total_cost": _money(part.get("total_cost") for part in corrected)},
        "not_in_usage": sum(int((run.get("totals") or {}).get("not_in_usage") or 0) for run in parts),
    }


def _requests(runs):
    """Requests by API and method, summed over every call of the month."""
    total = {}
    for run in runs:
        for api, methods in ((run or {}).get("requests") or {}).items():
            for method, number in (methods or {}).items():
                total.setdefault(api, {})
                total[api][method] = total[api].get(method, 0) + int(number)
    return total


def progress_line(parts, month, count):
    """``Billing 2026-10: batch 2 of 6 - 50 companies: 12 created, ...; 100 of 300 companies done``."""
    checked = _results(month, "the month's check")
    run, number = parts[-1], len(parts)
    period = printable(month.get("period"))
    if stopped(run):
        after = count - number
        return ("Billing %s: batch %d of %d STOPPED before billing: %s%s" % (
            period, number, count, shortened(printable((run or {}).get("msg") or "unknown error"), STOPPED_SHOWN),
            "; %s after it %s not run" % (plural(after, "batch", "batches"), "does" if after == 1 else "do")
            if after > 0 else ""))
    counts = summarise(run["results"])["counts"]
    done = sum(_companies(part["results"]) for part in parts if not stopped(part))
    cancelled = counts["cancelled"]
    return "Billing %s: batch %d of %d - %s: %s%s; %d of %d companies done" % (
        period, number, count, plural(_companies(run["results"]), "company", "companies"), ", ".join("%d %s" % (counts[a], a) for a in ACTIONS),
        ", %d earlier addition%s cancelled" % (cancelled, "" if cancelled == 1 else "s") if cancelled else "",
        done, _companies(checked))
