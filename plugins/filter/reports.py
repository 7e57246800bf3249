# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' summaries and the billing report, built in Python so the templates only format.

Money and quantities stay ``Decimal`` from the module's exact strings to the CSV text and the
formatted HTML values; nothing goes through a float (chart bar widths are geometry, not money).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import datetime
import io
from decimal import Decimal, InvalidOperation

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

BILLED = ("created", "updated", "unchanged")
ACTIONS = ("created", "updated", "unchanged", "skipped", "cancelled", "failed")
COUNTED = ("created", "updated", "unchanged", "skipped", "failed")
BYTES_PER_UNIT = {"GiB": 2 ** 30, "GB": 10 ** 9, "TiB": 2 ** 40, "TB": 10 ** 12}
ZERO = Decimal("0")
CENT = Decimal("0.01")
CHART_TOP = 25
CSV_COLUMNS = ("company", "action", "used_bytes", "used_quantity", "quantity", "unit", "unit_cost", "unit_price",
               "total_cost", "total_price", "currency", "effective_date", "addition_id", "reason", "warnings",
               "company_name", "usage_company")
# Skip reasons grouped for the reconciliation (the module's reasons name the company, so they differ).
REASON_GROUPS = (
    ("no ConnectWise company", "unmapped (no ConnectWise company)"),
    ("skip is set", "not billed (bill: false)"),
    ("no agreement named", "no agreement"),
    ("agreement not billing yet", "agreement not billing yet"),
    ("billing start", "agreement not billing yet"),
    ("no usage", "no usage"),
)


# ---------------------------------------------------------------- numbers
def _decimal(value, where):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise AnsibleFilterError("%s is %r, not a number" % (where, value))
    try:
        return Decimal(repr(value) if isinstance(value, float) else to_text(value))
    except (InvalidOperation, ValueError):
        raise AnsibleFilterError("%s is %r, not a number" % (where, value))


def group_digits(value, places=2):
    """``Decimal('1234567.5')`` -> ``'1,234,567.50'``; None -> ''."""
    if value is None:
        return ""
    return "{:,.{}f}".format(Decimal(value).quantize(Decimal(1).scaleb(-places)) if places else Decimal(value), places)


def _bytes_text(value):
    return "" if value is None else "{:,}".format(int(value))


# ---------------------------------------------------------------- setup summary
OPERATION_WORDS = {"create": "created", "update": "updated", "delete": "deleted", "none": "unchanged"}
SETUP_ORDER = ("management solution", "agreement type", "product", "agreements", "managed devices integration",
               "cross-reference")


def setup_summary(objects, agreements, state, check_mode, solution_name):
    """The setup run's outcome: counts, one line per object, the failed companies.

    ``objects`` is ``[[label, key, registered result]]``; ``agreements`` the agreement task's result.
    """
    totals = dict((word, 0) for word in OPERATION_WORDS.values())
    lines = {}
    for label, key, result in objects:
        result = result or {}
        if result.get("operation") not in OPERATION_WORDS:
            continue
        word = OPERATION_WORDS[result["operation"]]
        totals[word] += 1
        shown = "already absent" if state == "absent" and word == "unchanged" else word
        lines[label] = ["%s %s: %s" % (label, key, shown)]
    agreements = agreements or {}
    counts = agreements.get("counts") or {}
    for operation, word in OPERATION_WORDS.items():
        totals[word] += int(counts.get(operation, 0) or 0)
    failed = dict(agreements.get("failed_companies") or {})
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


# ---------------------------------------------------------------- billing report
def _reason_group(row):
    if row["action"] == "failed":
        return "failed"
    if row["action"] == "cancelled":
        return "cancelled (no usage this month)"
    if row["action"] in BILLED:
        return "billed"
    reason = row.get("reason") or ""
    for prefix, group in REASON_GROUPS:
        if prefix in reason:
            return group
    if "agreement" in reason:
        return "agreement inactive"
    return "skipped: other"


def _usage_bytes_by_name(usage):
    """Inline usage records (canonical or MSP360 export names) -> {company name: bytes}."""
    found = {}
    for index, record in enumerate(usage or []):
        name = record.get("company", record.get("CompanyName"))
        value = record.get("used_bytes", record.get("AverageSpace"))
        if name is None or value is None:
            continue
        amount = _decimal(value, "billing_usage[%d] used_bytes" % index)
        found[to_text(name)] = found.get(to_text(name), ZERO) + amount
    return found


def _row(result, unit, unit_bytes, usage_by_name, currency):
    where = "result for %s" % result.get("company")
    row = {
        "company": to_text(result.get("company")),
        "company_name": result.get("company_name"),
        "usage_company": result.get("usage_company") or "",
        "action": result.get("action"),
        "reason": result.get("reason") or "",
        "warnings": list(result.get("warnings") or []),
        "effective_date": result.get("effective_date") or "",
        "addition_id": result.get("addition_id"),
        "unit": result.get("unit") or unit,
        # ConnectWise's agreement currency when the module returns it, else the role's option.
        "currency": to_text(result.get("currency") or currency).upper(),
    }
    for key in ("quantity", "used_quantity", "unit_cost", "unit_price", "total_cost", "total_price"):
        row[key] = _decimal(result.get(key), "%s %s" % (where, key))
    used_bytes = _decimal(result.get("used_bytes"), where + " used_bytes")
    if used_bytes is None and usage_by_name is not None:
        names = [n for n in row["usage_company"].split(", ") if n]
        if names and all(n in usage_by_name for n in names):
            used_bytes = sum((usage_by_name[n] for n in names), ZERO)
    row["used_bytes"] = used_bytes
    if row["used_quantity"] is None and used_bytes is not None:
        row["used_quantity"] = (used_bytes / unit_bytes).quantize(CENT)
    row["group"] = _reason_group(row)
    row["billed"] = row["action"] in BILLED
    row["revenue"] = row["total_price"] if row["billed"] and row["total_price"] is not None else ZERO
    row["needs_look"] = (row["action"] == "failed" or bool(row["warnings"])
                         or (row["action"] == "skipped" and row["group"] != "no usage"
                             and row["group"] != "not billed (bill: false)"
                             and (used_bytes is None or used_bytes > 0)))
    return row


def _sum(rows, key):
    values = [r[key] for r in rows if r[key] is not None]
    return sum(values, ZERO) if values else ZERO


def _chart(rows, unit, top):
    ranked = sorted(rows, key=lambda r: (-r["revenue"], -(r["used_quantity"] or ZERO), r["company"].casefold()))
    bars = [{"label": r["company"], "title": r["company"], "storage": r["used_quantity"] or ZERO,
             "revenue": r["revenue"], "billed": r["billed"], "action": r["action"]} for r in ranked[:top]]
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


def billing_report(run, unit="GiB", currency="USD", preview=False, failed=False, usage=None, agreement="",
                   product="", mode="", top=CHART_TOP):
    """The billing module's result -> the report: rows, counts, reconciliation, chart, summary lines."""
    if not isinstance(run, dict) or "results" not in run:
        raise AnsibleFilterError("billing_report needs the billing module's result (with results)")
    unit = run.get("unit") or unit
    if unit not in BYTES_PER_UNIT:
        raise AnsibleFilterError("unit %r is not one of %s" % (unit, ", ".join(BYTES_PER_UNIT)))
    unit_bytes = Decimal(BYTES_PER_UNIT[unit])
    totals = run.get("totals") or {}
    period = run.get("period") or ""
    currency = to_text(currency or "USD").strip().upper()
    usage_by_name = _usage_bytes_by_name(usage) if usage else None
    rows = [_row(result, unit, unit_bytes, usage_by_name, currency) for result in run["results"]]
    rows.sort(key=lambda r: r["company"].casefold())
    currencies = sorted(set(r["currency"] for r in rows))
    if len(currencies) == 1:
        currency = currencies[0]
    counts = dict((action, 0) for action in ACTIONS)
    for row in rows:
        counts[row["action"]] = counts.get(row["action"], 0) + 1
    counts_text = "; ".join("%d %s" % (counts[a], a) for a in COUNTED)
    if counts["cancelled"]:
        counts_text += "; %d cancelled" % counts["cancelled"]
    billed = [r for r in rows if r["billed"]]
    billed_price, billed_cost = _sum(billed, "total_price"), _sum(billed, "total_cost")
    billed_quantity = _sum(billed, "quantity")
    module_price = _decimal(totals.get("total_price"), "totals.total_price")
    module_cost = _decimal(totals.get("total_cost"), "totals.total_cost")

    groups = []
    for name in ["billed"] + sorted(set(r["group"] for r in rows) - {"billed"}):
        members = [r for r in rows if r["group"] == name]
        known = [r for r in members if r["used_bytes"] is not None]
        groups.append({
            "name": name, "companies": len(members),
            "used_bytes": sum((r["used_bytes"] for r in known), ZERO) if len(known) == len(members) else None,
            "used_quantity": _sum(members, "used_quantity"),
            "total_price": _sum(members, "total_price") if name == "billed" else None,
            "total_cost": _sum(members, "total_cost") if name == "billed" else None,
        })
    rows_bytes = None if any(g["used_bytes"] is None for g in groups) else sum((g["used_bytes"] for g in groups), ZERO)
    source_bytes = _decimal(totals.get("used_bytes"), "totals.used_bytes")
    if source_bytes is None and usage_by_name is not None:
        source_bytes = sum(usage_by_name.values(), ZERO)
    reconciliation = {
        "source_bytes": source_bytes,
        "rows_bytes": rows_bytes,
        "bytes_balance": (source_bytes == rows_bytes) if None not in (source_bytes, rows_bytes) else None,
        "billed_price": billed_price, "billed_cost": billed_cost,
        "module_price": module_price, "module_cost": module_cost,
        "money_balance": (module_price in (None, billed_price)) and (module_cost in (None, billed_cost)),
        "groups": groups,
    }
    for group in groups:
        group["used_bytes_text"] = _bytes_text(group["used_bytes"])
        group["used_quantity_text"] = group_digits(group["used_quantity"])
        group["total_price_text"] = group_digits(group["total_price"])
        group["total_cost_text"] = group_digits(group["total_cost"])
    for key in ("source_bytes", "rows_bytes"):
        reconciliation[key + "_text"] = _bytes_text(reconciliation[key])
    for key in ("billed_price", "billed_cost", "module_price", "module_cost"):
        reconciliation[key + "_text"] = group_digits(reconciliation[key])
    for row in rows:
        row["used_bytes_text"] = _bytes_text(row["used_bytes"])
        for key, places in (("quantity", 2), ("used_quantity", 2), ("unit_cost", 4), ("unit_price", 4),
                            ("total_cost", 2), ("total_price", 2)):
            row[key + "_text"] = group_digits(row[key], places)

    look = [r for r in rows if r["needs_look"]]
    month = ""
    if period:
        try:
            month = datetime.datetime.strptime(period + "-01", "%Y-%m-%d").strftime("%B %Y")
        except ValueError:
            month = period
    head = "%sbilling %s - %s; %s %s billed, cost %s %s, price %s %s" % (
        "PREVIEW, nothing written: " if preview else "", period, counts_text, group_digits(billed_quantity), unit,
        currency, group_digits(billed_cost), currency, group_digits(billed_price))
    lines = [head]
    if source_bytes is not None:
        lines.append("usage %s bytes = %s" % (_bytes_text(source_bytes), " + ".join(
            "%s %s" % (g["name"], g["used_bytes_text"] or "?") for g in groups))
            + ("" if reconciliation["bytes_balance"] else " (DOES NOT BALANCE)"))
    for row in look:
        detail = row["reason"] or ("%s %s" % (row["used_quantity_text"] or row["quantity_text"], unit))
        if row["used_bytes"] is not None and row["action"] != "failed" and not row["billed"]:
            detail += " (usage %s %s)" % (row["used_quantity_text"], unit)
        if row["warnings"]:
            detail += " [%s]" % "; ".join(row["warnings"])
        lines.append("%s: %s - %s" % (row["company"], row["action"], detail))
    if not look:
        lines.append("no company needs a look")
    return _portable({
        "preview": bool(preview), "failed": bool(failed), "period": period, "month": month, "unit": unit,
        "currency": currency, "agreement": agreement, "product": product, "mode": mode,
        "rows": rows, "counts": counts, "counts_text": counts_text, "cancelled_additions":
            int((totals.get("counts") or {}).get("cancelled", 0) or 0),
        "billed_quantity": billed_quantity, "billed_quantity_text": group_digits(billed_quantity),
        "billed_price_text": group_digits(billed_price), "billed_cost_text": group_digits(billed_cost),
        "reconciliation": reconciliation, "chart": _chart(rows, unit, int(top)), "needs_look": [r["company"] for r in look],
        "summary": lines,
    })


def _portable(value):
    """Decimals as their exact text, so Ansible stores the report as plain data."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return dict((key, _portable(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_portable(item) for item in value]
    return value


def _cell(value):
    """Text for a CSV cell; a text starting with = + - @ gets a leading ' so no spreadsheet runs it."""
    text = "" if value is None else to_text(value)
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    return text


def _plain(value):
    """A Decimal as its exact text (no grouping: the CSV is for machines)."""
    return "" if value is None else str(value)


def billing_csv(report):
    """The report as CSV text (csv module, exact Decimal strings), a TOTAL row last."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["rows"]:
        writer.writerow([
            _cell(row["company"]), row["action"], _plain(row["used_bytes"] if row["used_bytes"] is None
                                                         else int(row["used_bytes"])),
            _plain(row["used_quantity"]), _plain(row["quantity"]), row["unit"], _plain(row["unit_cost"]),
            _plain(row["unit_price"]), _plain(row["total_cost"]), _plain(row["total_price"]), row["currency"],
            row["effective_date"], "" if row["addition_id"] is None else row["addition_id"], _cell(row["reason"]),
            _cell("; ".join(row["warnings"])), _cell(row["company_name"]), _cell(row["usage_company"])])
    rec = report["reconciliation"]
    writer.writerow([
        "TOTAL", report["counts_text"], _plain(None if rec["source_bytes"] is None else int(rec["source_bytes"])),
        "", _plain(report["billed_quantity"]), report["unit"], "", "", _plain(rec["billed_cost"]),
        _plain(rec["billed_price"]), report["currency"], report["period"], "",
        "preview (check mode): nothing was written to ConnectWise" if report["preview"] else "", "", "", ""])
    return out.getvalue()


class FilterModule(object):
    def filters(self):
        return {
            "setup_summary": setup_summary,
            "billing_report": billing_report,
            "billing_csv": billing_csv,
            "group_digits": group_digits,
        }
