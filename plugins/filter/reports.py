# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The billing report, built in Python so the template only formats; the setup summary's filter.

Each row is a company's state in ConnectWise for the month (``plugin_utils.month_state``: billed,
cancelled, skipped, failed...) beside what this run did to it (its ``action``), so the report of a
month reads the same after a re-run that changed nothing. Names and messages are data typed by
other people: every text taken from a result is printed with its control characters escaped
(``module_utils.printable``), so one company is one line in the summary, the page and the CSV.

Money and quantities are ``Decimal`` from the module's exact strings until the report is handed
back to Ansible, which cannot hold a Decimal: then each becomes its exact text once (and its
grouped text for the page), and the CSV writes those texts as they are. Nothing goes through a
float (chart bar widths are geometry, not money); a float in the module's result is refused.
Byte counts are ints throughout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.effective_dates import NOT_BILLING_YET
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import (
    UNITS,
    bytes_to_quantity,
    to_decimal,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.totals import BILLED_ACTIONS
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import UsageError
from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable, shortened
from ansible_collections.mbs.connectwise.plugins.module_utils.usage_sources import normalise_inline
from ansible_collections.mbs.connectwise.plugins.plugin_utils import month_state as ms
from ansible_collections.mbs.connectwise.plugins.plugin_utils import report_outputs
from ansible_collections.mbs.connectwise.plugins.plugin_utils import report_products as rp
from ansible_collections.mbs.connectwise.plugins.plugin_utils.report_outputs import billing_csv
from ansible_collections.mbs.connectwise.plugins.plugin_utils.setup_summary import setup_summary

BILLED = BILLED_ACTIONS
# The billing module's actions today; a result with another action is shown as "unknown", never refused.
ACTIONS = ("created", "updated", "unchanged", "skipped", "cancelled", "failed")
COUNTED = ("created", "updated", "unchanged", "skipped", "failed")
# A line of the summary says why a company needs a look in at most this many characters (the
# report has the whole reason), so a failure of hundreds of companies prints one short line each.
DETAIL_LIMIT = 240
ZERO = Decimal("0")
CHART_TOP = 25
MONEY_AND_QUANTITIES = (("quantity", 2), ("used_quantity", 2), ("unit_cost", 4), ("unit_price", 4),
                        ("total_cost", 2), ("total_price", 2))
# The reconciliation's groups in the order the report lists them: what was billed, each reason a
# ConnectWise company was not billed, the companies whose earlier addition was cancelled, the failed
# ones, and last the usage ConnectWise has no company for.
BILLED_GROUP = "billed"
NO_USAGE_GROUP = "no usage"
BILL_FALSE_GROUP = "not billed (bill: false)"
NOT_BILLING_YET_GROUP = "agreement not billing yet"
NOT_COVERED_GROUP = "agreement does not cover the month"
NO_AGREEMENT_GROUP = "no agreement"
OTHER_SKIP_GROUP = "skipped: other reason"
CANCELLED_GROUP = "cancelled (no usage this month)"
CORRECTED_GROUP = "corrected"
NOT_IN_USAGE_GROUP = ms.NOT_IN_USAGE
FAILED_GROUP = "failed"
UNKNOWN_GROUP = "unknown result"
UNMAPPED_GROUP = "unmapped (no ConnectWise company)"
GROUP_ORDER = (BILLED_GROUP, NO_USAGE_GROUP, BILL_FALSE_GROUP, NOT_BILLING_YET_GROUP, NOT_COVERED_GROUP,
               NO_AGREEMENT_GROUP, OTHER_SKIP_GROUP, CANCELLED_GROUP, CORRECTED_GROUP, NOT_IN_USAGE_GROUP,
               FAILED_GROUP, UNKNOWN_GROUP, UNMAPPED_GROUP)
# The reconciliation group of each state but skipped (whose group is its reason).
STATE_GROUPS = {ms.BILLED: BILLED_GROUP, ms.CANCELLED: CANCELLED_GROUP, ms.CORRECTED: CORRECTED_GROUP,
                ms.NOT_IN_USAGE: NOT_IN_USAGE_GROUP, ms.FAILED: FAILED_GROUP, ms.UNKNOWN: UNKNOWN_GROUP}
# The billing module's skip reasons (billing_run.py) name the company and the agreement, so each is
# known by its fixed start; the more specific "no agreement ... covers" comes before "no agreement".
SKIP_REASONS = (
    (re.compile(r"no ConnectWise company with identifier "), UNMAPPED_GROUP),
    (re.compile(r"skip is set for company "), BILL_FALSE_GROUP),
    (re.compile(r"no agreement named .* covers "), NOT_COVERED_GROUP),
    (re.compile(r"no agreement named "), NO_AGREEMENT_GROUP),
    (re.compile(re.escape(NOT_BILLING_YET)), NOT_BILLING_YET_GROUP),
    (re.compile(r"no usage\Z"), NO_USAGE_GROUP),
)
# Skipped on purpose, so not something to look at even with usage.
EXPECTED_SKIPS = (NO_USAGE_GROUP, BILL_FALSE_GROUP)
LATE_CHARGE = "late one-time charge: the effective date moved to the agreement's next invoice date"


# ---------------------------------------------------------------- numbers
def _decimal(value, where):
    """An amount or quantity of the module's result as a Decimal; None when absent.

    The module returns exact decimal strings, so a float means the exactness was lost before
    the report: refused rather than guessed back.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (bool, float)):
        raise AnsibleFilterError("%s is %r: the billing module gives amounts as exact decimal strings such as "
                                 "\"12.50\", not %s" % (where, value, type(value).__name__))
    try:
        return to_decimal(value, where, allow_negative=True)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def _whole_bytes(value, where):
    """A byte count as an int; None when absent."""
    number = _decimal(value, where)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise AnsibleFilterError("%s is %r, not a whole number of bytes" % (where, value))
    return int(number)


def group_digits(value, places=2):
    """``Decimal('1234567.5')`` -> ``'1,234,567.50'`` (half-up to ``places``); None -> ''."""
    if value is None:
        return ""
    try:
        number = to_decimal(value, "group_digits input", allow_negative=True)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))
    return "{:,.{}f}".format(number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), places)


def _bytes_text(value):
    return "" if value is None else "{:,}".format(value)


# ---------------------------------------------------------------- billing report
def _group_of(row):
    """The reconciliation group of one row: its state, or for a skipped row its reason."""
    if row["status"] in STATE_GROUPS:
        return STATE_GROUPS[row["status"]]
    for pattern, group in SKIP_REASONS:
        if pattern.match(row["reason"]):
            return group
    return OTHER_SKIP_GROUP


def _usage_records(usage):
    """The role's inline usage records (as the module read them) -> ``{company name: bytes}``."""
    try:
        records = normalise_inline(list(usage), "billing_usage")
    except UsageError as exc:
        raise AnsibleFilterError(str(exc))
    bytes_of = {}
    for record in records:
        bytes_of[record.company] = bytes_of.get(record.company, 0) + record.used_bytes
    return bytes_of


def _bytes_of_usage_companies(usage_company, bytes_of):
    """The bytes of a result's usage companies, None when one of them is not in ``bytes_of``.

    The module joins a result's usage company names with ", " and a name may hold ", " itself
    ("Globex, Inc."), so the parts are put back together into names that ``bytes_of`` knows.
    """
    names = _known_names(usage_company.split(", "), bytes_of) if usage_company else None
    return None if names is None else sum(bytes_of[name] for name in names)


def _known_names(parts, known):
    if not parts:
        return []
    for end in range(1, len(parts) + 1):
        name = ", ".join(parts[:end])
        rest = _known_names(parts[end:], known) if name in known else None
        if rest is not None:
            return [name] + rest
    return None


def _text(value):
    """A text of a result, one line whatever it holds."""
    return printable(None if value is None else to_text(value))


def _row(result, unit, currency, usage_bytes_of, preview):
    where = "result for %s" % _text(result.get("company"))
    action = result.get("action")
    if not isinstance(action, str) or not action.strip():
        raise AnsibleFilterError("%s: action %r is not an action of the billing module (created, updated, ...)"
                                 % (where, action))
    status, status_label = ms.state_of(result, preview)
    row = {
        "company": _text(result.get("company")),
        "company_name": _text(result.get("company_name")) or None,
        "usage_company": _text(result.get("usage_company")),
        "action": _text(action),
        "status": status,
        "status_label": status_label,
        "reason": _text(result.get("reason")),
        "warnings": [_text(w) for w in result.get("warnings") or []],
        # What this run wrote (or would write), one text each: --diff prints them joined on one line.
        "changes": [_text(c) for c in result.get("changes") or []],
        "effective_date": _text(result.get("effective_date")),
        "addition_id": result.get("addition_id"),
        "cancelled": list(result.get("cancelled") or []),
        "marker": _text(result.get("marker")),
        "invoiced_moved": bool(result.get("invoiced_moved")),
        "unit": _text(result.get("unit") or unit),
        # ConnectWise's agreement currency when the module returns it, else the role's option.
        "currency": _text(result.get("currency") or currency).upper(),
        # The line's product (a company has one line per product: storage, storage accounts, licenses).
        "product": _text(result.get("product")) or None, "kind": rp.kind_of(result),
        "licenses": result.get("licenses"), "included": result.get("included"),
        "accounts": [_text(a) for a in result.get("accounts") or []],
        "company_bytes": _whole_bytes(result.get("company_bytes"), where + " company_bytes"),
    }
    row["key"] = rp.row_key(row["company"], row["product"], row["kind"])
    for key, _places in MONEY_AND_QUANTITIES:
        row[key] = _decimal(result.get(key), "%s %s" % (where, key))
    used_bytes = _whole_bytes(result.get("used_bytes"), where + " used_bytes")
    if used_bytes is None and usage_bytes_of is not None:
        # A billing module that does not return used_bytes: the bytes come from the inline records
        # (looked up by the names as given, before they were escaped for printing).
        used_bytes = _bytes_of_usage_companies(to_text(result.get("usage_company") or ""), usage_bytes_of)
    row["used_bytes"] = used_bytes
    if row["used_quantity"] is None and used_bytes is not None:
        row["used_quantity"] = bytes_to_quantity(used_bytes, unit)
    row["group"] = _group_of(row)
    row["billed"] = status == ms.BILLED
    row["revenue"] = row["total_price"] if row["billed"] and row["total_price"] is not None else ZERO
    return row


def _needs_look(row):
    """Failed, unknown, warned, moved to a later invoice, or skipped with usage for a reason nobody chose."""
    return (row["status"] in (ms.FAILED, ms.UNKNOWN) or bool(row["warnings"]) or row["invoiced_moved"]
            or (row["status"] == ms.SKIPPED and row["group"] not in EXPECTED_SKIPS and rp.has_usage(row) is not False))


def _with_earlier_state(rows, earlier, now, preview):
    """Each row's ``since`` (when it reached its state) and, for a company billed earlier that this run did not bill, a warning."""
    for row in rows:
        before = earlier.get(row["key"])
        if preview:
            # Nothing was written: a state the month does not have yet has no "since".
            same = before and before.get("status") == row["status"] and before.get("addition_id") == row["addition_id"]
            row["since"] = (before.get("since") or "") if same else ""
        else:
            row["since"] = ms.since_of(row, before, now)
        note = ms.earlier_billing_note(row, before)
        if note:
            row["warnings"].append(note)
        row["needs_look"] = _needs_look(row)


def _sum(rows, key):
    return sum((r[key] for r in rows if r[key] is not None), ZERO)


def _sum_given(rows, key):
    """The sum of the rows that have ``key``; None when none has (no price is not a price of 0)."""
    given = [r[key] for r in rows if r[key] is not None]
    return sum(given, ZERO) if given else None


def _bytes_sum(rows):
    """The rows' bytes, or None when a row's bytes are unknown (a partial sum would not reconcile)."""
    if any(r["used_bytes"] is None for r in rows):
        return None
    return sum(r["used_bytes"] for r in rows)


def _group_line(name, members):
    line = {"name": name, "companies": len(set(r["company"] for r in members)), "lines": len(members),
            "used_bytes": _bytes_sum(members),
            "used_quantity": _sum(members, "used_quantity"),
            "total_cost": _sum_given(members, "total_cost"), "total_price": _sum_given(members, "total_price")}
    if name == BILLED_GROUP:
        # What is billed is always an amount, 0.00 when nothing was.
        line["total_cost"], line["total_price"] = _sum(members, "total_cost"), _sum(members, "total_price")
    return line


def _reconciliation(rows, totals, usage_bytes_of):
    """Usage = billed + each skip reason + cancelled + failed + unmapped, to the byte; billed rows = totals, to the cent."""
    groups = [_group_line(name, [r for r in rows if r["group"] == name]) for name in GROUP_ORDER
              if name == BILLED_GROUP or any(r["group"] == name for r in rows)]
    everything = _group_line("all companies", rows)
    everything["total_cost"] = _sum_given(groups, "total_cost")
    everything["total_price"] = _sum_given(groups, "total_price")
    if usage_bytes_of is not None:
        source_bytes, source = sum(usage_bytes_of.values()), "the usage records given (billing_usage)"
    else:
        source_bytes = _whole_bytes(totals.get("used_bytes"), "totals.used_bytes")
        source = "the billing module's usage total" if source_bytes is not None else None
    billed = groups[0]
    module_price = _decimal(totals.get("total_price"), "totals.total_price")
    module_cost = _decimal(totals.get("total_cost"), "totals.total_cost")
    rows_bytes = everything["used_bytes"]
    return {
        "groups": groups, "all": everything,
        "source": source, "source_bytes": source_bytes, "rows_bytes": rows_bytes,
        "bytes_balance": None if source_bytes is None or rows_bytes is None else source_bytes == rows_bytes,
        "billed_price": billed["total_price"], "billed_cost": billed["total_cost"],
        "module_price": module_price, "module_cost": module_cost,
        "money_balance": module_price in (None, billed["total_price"]) and module_cost in (None, billed["total_cost"]),
    }


def _per_company(rows):
    """One chart entry per company: the revenue of all its lines, the storage of its storage lines."""
    found = {}
    for row in rows:
        entry = found.setdefault(row["company"], {"company": row["company"], "revenue": ZERO, "used_quantity": ZERO,
                                                  "billed": False, "status_label": row["status_label"]})
        entry["revenue"] += row["revenue"]
        entry["used_quantity"] += (row["used_quantity"] or ZERO) if row["kind"] != rp.LICENSE else ZERO
        entry["billed"] = entry["billed"] or row["billed"]
    return list(found.values())


def _chart(rows, unit, top):
    rows = _per_company(rows)
    ranked = sorted(rows, key=lambda r: (-r["revenue"], -(r["used_quantity"] or ZERO), r["company"].casefold()))
    bars = [{"label": r["company"], "title": r["company"], "storage": r["used_quantity"] or ZERO,
             "revenue": r["revenue"], "billed": r["billed"], "action": r["status_label"]} for r in ranked[:top]]
    rest = ranked[top:]
    if rest:
        bars.append({"label": "others (%d companies)" % len(rest), "title": "%d other companies" % len(rest),
                     "storage": _sum(rest, "used_quantity"), "revenue": _sum(rest, "revenue"), "billed": True,
                     "action": "others"})
    # The scale is the largest named company; the "others" bar (the sum of hundreds) would flatten
    # every other bar, so it is drawn at most full width and marked when it is cut.
    named = bars[:top] or bars
    max_storage = max([b["storage"] for b in named] + [Decimal("0.000001")])
    max_revenue = max([b["revenue"] for b in named] + [Decimal("0.000001")])
    width = 220
    for index, item in enumerate(bars):
        item["y"] = 34 + index * 24
        # Geometry only: pixels, never money.
        item["storage_width"] = round(min(float(item["storage"] / max_storage), 1.0) * width, 1)
        item["revenue_width"] = round(min(float(item["revenue"] / max_revenue), 1.0) * width, 1)
        item["cut"] = item["storage"] > max_storage or item["revenue"] > max_revenue
        item["storage_text"] = group_digits(item["storage"])
        item["revenue_text"] = group_digits(item["revenue"])
    return {"bars": bars, "height": 44 + len(bars) * 24 + 8, "top": top, "companies": len(rows), "unit": unit}


def _add_texts(rows, reconciliation):
    """The grouped texts the page shows beside each exact value."""
    for row in rows:
        row["used_bytes_text"] = _bytes_text(row["used_bytes"])
        for key, places in MONEY_AND_QUANTITIES:
            row[key + "_text"] = group_digits(row[key], places)
    for line in reconciliation["groups"] + [reconciliation["all"]]:
        line["used_bytes_text"] = _bytes_text(line["used_bytes"])
        line["used_quantity_text"] = group_digits(line["used_quantity"])
        line["total_price_text"] = group_digits(line["total_price"])
        line["total_cost_text"] = group_digits(line["total_cost"])
    for key in ("source_bytes", "rows_bytes"):
        reconciliation[key + "_text"] = _bytes_text(reconciliation[key])
    for key in ("billed_price", "billed_cost", "module_price", "module_cost"):
        reconciliation[key + "_text"] = group_digits(reconciliation[key])


def _month_name(period):
    try:
        return datetime.datetime.strptime(period + "-01", "%Y-%m-%d").strftime("%B %Y")
    except ValueError:
        return period


def _summary(report, rows, reconciliation):
    unit, currency = report["unit"], report["currency"]
    lines = ["%sbilling %s - %s (this run: %s); %s %s billed, cost %s %s, price %s %s" % (
        "PREVIEW, nothing written: " if report["preview"] else "", report["period"], report["states_text"],
        report["counts_text"], report["billed_quantity_text"], unit, currency, report["billed_cost_text"], currency,
        report["billed_price_text"])]
    if report["earlier_problem"]:
        lines.append(report["earlier_problem"])
    if report["current_period"]:
        lines.append("%s is not over yet: this bills the usage so far" % report["period"])
    total = reconciliation["source_bytes"] if reconciliation["source_bytes"] is not None \
        else reconciliation["rows_bytes"]
    if total is not None:
        line = "usage %s bytes = %s" % (_bytes_text(total), " + ".join(
            "%s %s" % (g["name"], g["used_bytes_text"] or "?") for g in reconciliation["groups"]))
        if reconciliation["bytes_balance"] is False:
            line += " (DOES NOT BALANCE: the rows add up to %s)" % (reconciliation["rows_bytes_text"] or "?")
        lines.append(line)
    if not reconciliation["money_balance"]:
        lines.append("billed rows %s %s do not add up to the module's total %s %s (DOES NOT BALANCE)" % (
            currency, reconciliation["billed_price_text"], currency, reconciliation["module_price_text"]))
    lines.extend(line for line in (rp.licenses_line(report["licenses"]), rp.storage_split_line(report["storage_split"]))
                 if line)
    look = [r for r in rows if r["needs_look"]]
    for row in look:
        detail = row["reason"] or ("%s %s" % (row["used_quantity_text"] or row["quantity_text"], row["unit"]))
        if row["used_bytes"] is not None and row["status"] != ms.FAILED and not row["billed"]:
            detail += " (usage %s %s)" % (row["used_quantity_text"], row["unit"])
        notes = list(row["warnings"])
        if row["invoiced_moved"] and not notes:
            notes.append(LATE_CHARGE)
        if notes:
            detail += " [%s]" % "; ".join(notes)
        name = row["company"] if row["kind"] == rp.STORAGE else "%s (%s)" % (row["company"], row["product"])
        lines.append("%s: %s - %s" % (name, row["status_label"], shortened(detail, DETAIL_LIMIT)))
    if not look:
        lines.append("no company needs a look")
    return lines


def _counts(rows):
    """This run's actions (the module's, any new one after them) and the month's states, with their texts."""
    counts = dict((action, 0) for action in ACTIONS)
    states = dict((state, 0) for state in ms.STATES)
    for row in rows:
        counts[row["action"]] = counts.get(row["action"], 0) + 1
        states[row["status"]] += 1
    counts_text = "; ".join("%d %s" % (counts[a], a) for a in COUNTED)
    others = [a for a in counts if a not in COUNTED and counts[a]]
    if others:
        counts_text += "; " + "; ".join("%d %s" % (counts[a], a) for a in others)
    return counts, counts_text, states, ms.counts_text(states, ms.STATES)


def billing_report(run, unit="GiB", currency="USD", preview=False, failed=False, usage=None, agreement="",
                   product="", mode="", top=CHART_TOP, earlier=None, now=""):
    """The billing module's result -> the report: rows, counts, reconciliation, chart, summary lines.

    ``earlier`` is the text of the month's state file as the last real run left it (or nothing);
    ``now`` the run's time, which a company's ``since`` takes when its state changes.
    """
    if not isinstance(run, dict) or "results" not in run:
        raise AnsibleFilterError("billing_report needs the billing module's result (with results)")
    unit = run.get("unit") or unit
    if unit not in UNITS:
        raise AnsibleFilterError("unit %r is not one of %s" % (unit, ", ".join(UNITS)))
    totals = run.get("totals") or {}
    period = _text(run.get("period"))
    currency = _text(currency or "USD").strip().upper()
    usage_bytes_of = _usage_records(usage) if usage else None
    rows = sorted((_row(result, unit, currency, usage_bytes_of, bool(preview)) for result in run["results"]),
                  key=rp.row_order)
    earlier_states, earlier_problem = ms.read_state_file(to_text(earlier or ""), period)
    _with_earlier_state(rows, earlier_states, _text(now), bool(preview))
    currencies = sorted(set(r["currency"] for r in rows))
    if len(currencies) == 1:
        currency = currencies[0]
    counts, counts_text, states, states_text = _counts(rows)
    reconciliation = _reconciliation(rows, totals, usage_bytes_of)
    billed_quantity = _sum([r for r in rows if r["billed"]], "quantity")
    _add_texts(rows, reconciliation)
    report = {
        "preview": bool(preview), "failed": bool(failed) or states[ms.FAILED] > 0,
        "current_period": bool(run.get("current_period")),
        "period": period, "month": _month_name(period) if period else "", "unit": unit, "currency": currency,
        "agreement": _text(agreement), "product": _text(product), "mode": _text(mode), "generated": _text(now),
        "rows": rows, "counts": counts, "counts_text": counts_text, "states": states, "states_text": states_text,
        "earlier_problem": earlier_problem,
        "cancelled_additions": int((totals.get("counts") or {}).get("cancelled", 0) or 0),
        "billed_quantity": billed_quantity, "billed_quantity_text": group_digits(billed_quantity),
        "billed_price_text": reconciliation["billed_price_text"], "billed_cost_text": reconciliation["billed_cost_text"],
        "reconciliation": reconciliation, "chart": _chart(rows, unit, int(top)),
        "needs_look": sorted(set(r["company"] for r in rows if r["needs_look"]), key=str.casefold),
        "products": rp.products_table(rows, group_digits),
        "licenses": rp.licenses_section(run.get("licenses"), rows),
        "storage_split": rp.storage_split(rows, group_digits),
    }
    report["summary"] = _summary(report, rows, reconciliation)
    return _portable(report)


def _portable(value):
    """Decimals as their exact text: the report goes back to Ansible, which holds no Decimal."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return dict((key, _portable(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_portable(item) for item in value]
    return value


class FilterModule(object):
    def filters(self):
        return {
            "setup_summary": setup_summary,
            "billing_report": billing_report,
            "billing_csv": billing_csv,
            "billing_state": report_outputs.billing_state,
            "billing_run_log": report_outputs.billing_run_log,
            "billing_failure": report_outputs.billing_failure,
            "billing_mail": report_outputs.billing_mail,
            "group_digits": group_digits,
        }
