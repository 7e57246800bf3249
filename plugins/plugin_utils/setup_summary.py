# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The setup role's summary: counts, one line per object, the failed companies (filter ``setup_summary``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable

OPERATION_WORDS = {"create": "created", "update": "updated", "delete": "deleted", "none": "unchanged"}
SETUP_ORDER = ("management solution", "agreement type", "product", "catalog item", "agreements",
               "managed devices integration", "cross-reference")


def _item_objects(items):
    """The catalog items' loop results as ``[label, key, result]``; an item skipped because the preflight
    predicted no change is unchanged."""
    found = []
    for result in items or []:
        identifier = printable(str((result.get("item") or {}).get("identifier")))
        if result.get("skipped") and result.get("operation") is None:
            result = {"operation": "none"}
        found.append(["catalog item", identifier, result])
    return found


def setup_summary(objects, agreements, state, check_mode, solution_name, items=None):
    """The setup run's outcome: counts, one line per object, the failed companies.

    ``objects`` is ``[[label, key, registered result]]``; ``agreements`` the agreement task's result;
    ``items`` the catalog items' loop results (the license and storage-account products).
    """
    totals = dict((word, 0) for word in OPERATION_WORDS.values())
    lines = {}
    for label, key, result in list(objects) + _item_objects(items):
        result = result or {}
        if result.get("operation") not in OPERATION_WORDS:
            continue
        word = OPERATION_WORDS[result["operation"]]
        totals[word] += 1
        shown = "already absent" if state == "absent" and word == "unchanged" else word
        lines.setdefault(label, []).append("%s %s: %s" % (label, key, shown))
    agreements = agreements or {}
    counts = agreements.get("counts") or {}
    for operation, word in OPERATION_WORDS.items():
        totals[word] += int(counts.get(operation, 0) or 0)
    # Company identifiers and ConnectWise's messages are data: one line each, whatever they hold.
    failed = dict((printable(company), printable(reason))
                  for company, reason in (agreements.get("failed_companies") or {}).items())
    companies = len(agreements.get("results") or [])
    if "results" in agreements:
        lines["agreements"] = ["agreements %s of %d companies: %d created, %d updated, %d deleted, %d unchanged, "
                               "%d failed" % (solution_name, companies, counts.get("create", 0),
                                              counts.get("update", 0), counts.get("delete", 0),
                                              counts.get("none", 0), len(failed))]
    lines.setdefault("agreements", []).extend("  FAILED %s: %s" % item for item in failed.items())
    order = reversed(SETUP_ORDER) if state == "absent" else SETUP_ORDER
    head = "%sConnectWise setup %s (%s): %d created, %d updated, %d deleted, %d unchanged, %d failed" % (
        "CHECK MODE, nothing written - would be: " if check_mode else "", solution_name, state,
        totals["created"], totals["updated"], totals["deleted"], totals["unchanged"], len(failed))
    ordered = [line for label in order for line in lines.get(label, [])]
    return {"lines": [head] + ordered, "created": totals["created"], "updated": totals["updated"],
            "deleted": totals["deleted"], "unchanged": totals["unchanged"], "failed": failed,
            "companies": companies, "check_mode": bool(check_mode)}
