# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The billing report's product sections: each product's lines, the licenses read and where each went, and a
company's storage split by storage account. From the report's rows (``plugins/filter/reports.py``) and the
billing module's ``licenses`` result; amounts stay ``Decimal``, counts and bytes ``int``.

Reconciliations, each shown with its balance:

* licenses read = licenses on billed lines + licenses on lines not billed (skipped or failed: no
  ConnectWise company, no agreement...) + licenses not billed for a reason (trial, expired, ...);
* a company's storage split by storage account: its storage lines' bytes add up to its storage.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import Decimal

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable

STORAGE = "storage"
STORAGE_ACCOUNT = "storage_account"
LICENSE = "license"
KIND_ORDER = (STORAGE, STORAGE_ACCOUNT, LICENSE)
KIND_WORDS = {STORAGE: "storage", STORAGE_ACCOUNT: "storage on a storage account", LICENSE: "licenses"}
ZERO = Decimal("0")


def _text(value):
    return printable(None if value is None else to_text(value))


def kind_of(result):
    """A result's line kind; a result of a module without products is a storage line."""
    kind = result.get("kind")
    return kind if kind in KIND_ORDER else STORAGE


def row_key(company, product, kind):
    """The key of a company's line in the month's state file: the company for its storage line (as before there were
    other products), the company and the product for the others."""
    return company if kind == STORAGE else "%s | %s" % (company, product)


def row_order(row):
    return (row["company"].casefold(), KIND_ORDER.index(row["kind"]), (row["product"] or "").casefold())


def has_usage(row):
    """Whether the line had something to bill: bytes, or licenses; None when its bytes are not known."""
    if row["kind"] == LICENSE:
        return bool(row["licenses"])
    return None if row["used_bytes"] is None else row["used_bytes"] > 0


# ---------------------------------------------------------------- each product's lines


def products_table(rows, group_digits):
    """One entry per product, in the order of the rows: its kind, unit, lines, billed lines, quantity and money."""
    found = {}
    for row in rows:
        entry = found.setdefault(row["product"], {"product": row["product"], "kind": row["kind"],
                                                  "kind_text": KIND_WORDS[row["kind"]], "unit": row["unit"],
                                                  "lines": 0, "billed": 0, "quantity": ZERO, "total_cost": ZERO,
                                                  "total_price": ZERO})
        entry["lines"] += 1
        if not row["billed"]:
            continue
        entry["billed"] += 1
        entry["quantity"] += row["used_quantity"] if row["used_quantity"] is not None else ZERO
        entry["total_cost"] += row["total_cost"] or ZERO
        entry["total_price"] += row["total_price"] or ZERO
    table = sorted(found.values(), key=lambda e: (KIND_ORDER.index(e["kind"]), (e["product"] or "").casefold()))
    for entry in table:
        for key, places in (("quantity", 2), ("total_cost", 2), ("total_price", 2)):
            entry[key + "_text"] = group_digits(entry[key], places)
    return table


# ---------------------------------------------------------------- licenses


def _count(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("%s is %r, not a count of licenses" % (where, value))
    return value


def licenses_section(licenses, rows):
    """Where every license read went, and whether it adds up; None when the run billed no license."""
    if not isinstance(licenses, dict):
        return None
    license_rows = [row for row in rows if row["kind"] == LICENSE]
    on_billed = sum(row["licenses"] or 0 for row in license_rows if row["billed"])
    on_other = sum(row["licenses"] or 0 for row in license_rows if not row["billed"])
    reasons = [{"reason": _text(reason), "text": _text((licenses.get("reasons") or {}).get(reason) or reason),
                "count": _count(count, "licenses.not_billed_by_reason.%s" % reason)}
               for reason, count in (licenses.get("not_billed_by_reason") or {}).items()]
    not_billed = sum(item["count"] for item in reasons)
    read = _count(licenses.get("read"), "licenses.read")
    return {
        "source": _text(licenses.get("source")), "read": read, "on_billed_lines": on_billed,
        "on_lines_not_billed": on_other, "not_billed": not_billed, "reasons": reasons,
        "unmapped_types": dict((_text(name), count) for name, count in (licenses.get("unmapped_types") or {}).items()),
        "by_company": [{"company": _text(entry.get("company")), "usage_company": _text(entry.get("usage_company")),
                        "reasons": dict((_text(k), v) for k, v in (entry.get("reasons") or {}).items())}
                       for entry in licenses.get("not_billed_by_company") or []],
        "balance": read == on_billed + on_other + not_billed,
    }


def licenses_line(section):
    """The summary's line of the licenses: ``licenses 21 read = 12 billed + 0 on lines not billed + 9 not billed (...)``."""
    if section is None:
        return None
    reasons = ", ".join("%d %s" % (item["count"], item["reason"]) for item in section["reasons"] if item["count"])
    line = "licenses %d read = %d billed + %d on lines not billed + %d not billed%s" % (
        section["read"], section["on_billed_lines"], section["on_lines_not_billed"], section["not_billed"],
        " (%s)" % reasons if reasons else "")
    if section["unmapped_types"]:
        line += "; types no license_products entry maps: %s" % ", ".join(
            "%s %d" % item for item in sorted(section["unmapped_types"].items()))
    if not section["balance"]:
        line += " (DOES NOT BALANCE)"
    return line


# ---------------------------------------------------------------- storage by storage account


def storage_split(rows, group_digits):
    """Each company whose storage is split by storage account: its storage, its lines, and whether they add up."""
    companies = {}
    for row in rows:
        if row["kind"] == LICENSE or row["company_bytes"] is None:
            continue
        entry = companies.setdefault(row["company"], {"company": row["company"], "company_bytes": row["company_bytes"],
                                                      "lines": []})
        entry["lines"].append({"product": row["product"], "accounts": row["accounts"], "used_bytes": row["used_bytes"],
                               "used_quantity": row["used_quantity"],
                               "used_quantity_text": group_digits(row["used_quantity"], 2)})
    split = []
    for company in sorted(companies, key=lambda name: name.casefold()):
        entry = companies[company]
        parts = [line["used_bytes"] for line in entry["lines"]]
        entry["lines_bytes"] = None if None in parts else sum(parts)
        entry["balance"] = entry["lines_bytes"] == entry["company_bytes"]
        entry["company_bytes_text"] = "{:,}".format(entry["company_bytes"])
        for line in entry["lines"]:
            line["used_bytes_text"] = "" if line["used_bytes"] is None else "{:,}".format(line["used_bytes"])
        split.append(entry)
    return split


def storage_split_line(split):
    """The summary's line of the storage split by account (None when no company's storage is split)."""
    if not split:
        return None
    wrong = [entry["company"] for entry in split if not entry["balance"]]
    return "storage split by storage account for %d compan%s: %s" % (
        len(split), "y" if len(split) == 1 else "ies",
        "DOES NOT BALANCE for %s" % ", ".join(wrong) if wrong else "every company's lines add up to its storage")


def csv_rows(section):
    """The CSV's rows of the licenses not billed, one per reason (``licenses`` in the ``row`` column), by column."""
    if section is None:
        return []
    return [{"row": "licenses", "status": "not billed: " + item["reason"], "quantity": item["count"],
             "unit": "licenses", "kind": LICENSE, "licenses": item["count"], "reason": item["text"]}
            for item in section["reasons"]]
