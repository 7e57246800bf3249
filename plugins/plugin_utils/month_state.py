# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A month's billing state per company, as ConnectWise holds it, from one run's results.

The billing module says what one run did to each company (``created``, ``updated``, ``unchanged``...).
Finance needs what the month *is*: a company billed on day 1 is still "billed" after the day-2 run
left it ``unchanged``. ``STATE_RULES`` is the one table from a result to that state; a result the
table does not know (a new action of a newer billing module) becomes ``unknown``, shown and listed
as needing a look, never dropped and never counted as billed.

The state of the last real run of a month is kept beside its reports (``billing-<period>.state.json``),
so a later run knows since when a company has been in its state, and says so when a company billed
earlier fails now or is not in this run's usage.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json
import re

BILLED = "billed"
CORRECTED = "corrected"
CANCELLED = "cancelled"
SKIPPED = "skipped"
NOT_IN_USAGE = "not in this run's usage"
FAILED = "failed"
UNKNOWN = "unknown"
# The order the report counts and lists the states in.
STATES = (BILLED, CORRECTED, CANCELLED, SKIPPED, NOT_IN_USAGE, FAILED, UNKNOWN)
STATE_FILE_FORMAT = 1

StateRule = collections.namedtuple("StateRule", "state preview actions fields reason")

# From one result of the billing module to the month's state, first match wins. A rule matches a
# result whose ``action`` is one of ``actions``, or that has one of ``fields`` set (not empty), or
# whose ``reason`` starts with ``reason``. ``preview`` is the state the row shows in check mode,
# where nothing was written yet. Failed comes first: a company whose run failed is failed, whatever
# else its result says.
STATE_RULES = (
    StateRule(FAILED, FAILED, ("failed",), (), None),
    # A billed month whose usage a complete source corrected: its addition removed or zeroed.
    StateRule(CORRECTED, "to be corrected", ("corrected", "removed", "zeroed"), ("correction", "corrected"), None),
    # A company absent from a partial source: left exactly as it is in ConnectWise.
    StateRule(NOT_IN_USAGE, NOT_IN_USAGE, ("absent", "not_in_usage", "kept"), ("not_in_usage", "absent_from_usage"),
              re.compile(r"not in (this run's|the) usage", re.IGNORECASE)),
    StateRule(BILLED, "to be billed", ("created",), (), None),
    StateRule(BILLED, "billed, to be updated", ("updated",), (), None),
    StateRule(BILLED, BILLED, ("unchanged",), (), None),
    StateRule(CANCELLED, "to be cancelled", ("cancelled",), (), None),
    StateRule(SKIPPED, SKIPPED, ("skipped",), (), None),
)


def _matches(rule, result):
    if result.get("action") in rule.actions:
        return True
    if any(result.get(field) not in (None, "", [], {}, False) for field in rule.fields):
        return True
    return bool(rule.reason and rule.reason.match(str(result.get("reason") or "")))


def state_of(result, preview=False):
    """``(state, label)`` of one billing result: the month's state, and what the row shows (a preview's prediction)."""
    for rule in STATE_RULES:
        if _matches(rule, result):
            return rule.state, (rule.preview if preview else rule.state)
    return UNKNOWN, "unknown (the billing module's action %s)" % result.get("action")


def counts_text(counts, order):
    """``{"billed": 5, "skipped": 2}`` -> ``"5 billed; 2 skipped"`` in ``order``, then any other key, zeros left out."""
    keys = [key for key in order if counts.get(key)] + sorted(key for key in counts if key not in order and counts[key])
    return "; ".join("%d %s" % (counts[key], key) for key in keys) or "no company"


def read_state_file(text, period):
    """``({company: earlier state}, problem)`` from the text of a state file; a file that cannot be used is a problem, not an error.

    An unreadable state file loses only the "since" times, never a report, so it is reported and ignored.
    """
    if not text:
        return {}, None
    try:
        data = json.loads(text)
    except ValueError as exc:
        return {}, "the earlier state file is not JSON (%s): it is replaced" % exc
    if not isinstance(data, dict) or data.get("format") != STATE_FILE_FORMAT or not isinstance(data.get("companies"), dict):
        return {}, "the earlier state file is not one this collection wrote: it is replaced"
    if data.get("period") != period:
        return {}, "the earlier state file is of %s, not %s: it is replaced" % (data.get("period"), period)
    return dict((name, entry) for name, entry in data["companies"].items() if isinstance(entry, dict)), None


def since_of(row, earlier, now):
    """When the company reached its present state: kept from the earlier run when the state and the addition are the same."""
    if earlier and earlier.get("status") == row["status"] and earlier.get("addition_id") == row["addition_id"]:
        return earlier.get("since") or now
    return now


def earlier_billing_note(row, earlier):
    """A warning for a company billed by an earlier run that this run did not bill (failed, not in its usage, unknown)."""
    if not earlier or earlier.get("status") != BILLED or row["status"] in (BILLED, CORRECTED, CANCELLED, SKIPPED):
        return None
    return "billed by an earlier run since %s (addition %s, %s %s); this run: %s" % (
        earlier.get("since") or "?", earlier.get("addition_id"), earlier.get("currency") or "", earlier.get("total_price") or "",
        row["status"])


def state_file(period, rows, now):
    """The state file of a real run (JSON text): each company's state, since when, its addition and its price.

    A company's storage line is keyed by the company, each of its other product lines by ``row["key"]``
    (the company and the product).
    """
    companies = dict((row.get("key", row["company"]), {
        "status": row["status"], "since": row["since"], "addition_id": row["addition_id"],
        "total_price": None if row["total_price"] is None else str(row["total_price"]), "currency": row["currency"],
    }) for row in rows)
    return json.dumps({"format": STATE_FILE_FORMAT, "period": period, "updated": now, "companies": companies},
                      indent=1, sort_keys=True) + "\n"
