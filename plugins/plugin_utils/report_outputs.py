# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the billing role writes and prints from a report: the CSV, the month's state file, the run
log's line, the one short failure message and the mail's subject and body.

Every text here comes from a report whose texts are already escaped (one line each); what is taken
from the module's result directly (its error message, the period) is escaped here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable, shortened
from ansible_collections.mbs.connectwise.plugins.plugin_utils import month_state as ms
from ansible_collections.mbs.connectwise.plugins.plugin_utils import report_products

CSV_COLUMNS = ("row", "company", "status", "action", "since", "used_bytes", "used_quantity", "quantity", "unit",
               "unit_cost", "unit_price", "total_cost", "total_price", "currency", "effective_date", "addition_id",
               "reason", "warnings", "company_name", "usage_company", "cancelled", "marker", "invoiced_moved",
               "product", "kind", "licenses", "included", "accounts")
# OWASP's CSV injection list: a cell starting with one of these is a formula to a spreadsheet. A tab
# or carriage return is escaped before (printable) and still marked, as the text it came from.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\\t", "\\r")
# The failure message names this many failed companies; the summary above it has a line for each.
NAMED_FAILURES = 5
# A module error is shown whole unless it is longer than this (it then ends with an ellipsis).
ERROR_LIMIT = 2000


def _cell(value):
    """A text cell: one line, and a leading ' when a spreadsheet would take it for a formula (OWASP)."""
    text = printable(None if value is None else to_text(value))
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text


def _exact(value):
    """An exact value of the report (its Decimal's text, or an int) as it is; None -> ''.

    No thousands separators: the CSV is for machines. Numbers are never quoted, so -5.00 stays a number.
    """
    return "" if value is None else to_text(value)


def billing_csv(report):
    """The report as CSV text: one ``company`` row per company and product, one ``licenses`` row per reason
    licenses were not billed (when the run billed licenses), then one ``total`` row.

    The first column says which a row is, so no company (not even one named TOTAL) can be taken for the totals.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["rows"]:
        writer.writerow([
            "company", _cell(row["company"]), _cell(row["status_label"]), _cell(row["action"]), _cell(row.get("since")),
            _exact(row["used_bytes"]), _exact(row["used_quantity"]), _exact(row["quantity"]), _cell(row["unit"]),
            _exact(row["unit_cost"]), _exact(row["unit_price"]), _exact(row["total_cost"]), _exact(row["total_price"]),
            _cell(row["currency"]), _cell(row["effective_date"]), _exact(row["addition_id"]), _cell(row["reason"]),
            _cell("; ".join(row["warnings"])), _cell(row["company_name"]), _cell(row["usage_company"]),
            " ".join(str(int(i)) for i in row["cancelled"]), _cell(row["marker"]),
            "true" if row["invoiced_moved"] else "", _cell(row.get("product")), _cell(row.get("kind")),
            _exact(row.get("licenses")), _exact(row.get("included")), _cell("; ".join(row.get("accounts") or []))])
    # The licenses read and not billed, one row per reason (reconciled in the report).
    for extra in report_products.csv_rows(report.get("licenses")):
        writer.writerow([_exact(extra[name]) if isinstance(extra.get(name), int) else _cell(extra.get(name))
                         for name in CSV_COLUMNS])
    rec = report["reconciliation"]
    month_bytes = rec["source_bytes"] if rec["source_bytes"] is not None else rec["rows_bytes"]
    writer.writerow([
        "total", "", _cell(report["states_text"]), _cell(report["counts_text"]), _cell(report.get("generated")),
        _exact(month_bytes), "", _exact(report["billed_quantity"]), _cell(report["unit"]), "", "",
        _exact(rec["billed_cost"]), _exact(rec["billed_price"]), _cell(report["currency"]), _cell(report["period"]), "",
        "preview (check mode): nothing was written to ConnectWise" if report["preview"] else "", "", "", "", "", "", "",
        "", "", "", "", ""])
    return out.getvalue()


def billing_state(report):
    """The month's state file (JSON text) of a real run's report; a later run reads it for each company's "since"."""
    return ms.state_file(report["period"], report["rows"], report.get("generated") or "")


def _failed_names(report):
    failed = [row["company"] for row in report["rows"] if row["status"] == ms.FAILED]
    named = ", ".join(failed[:NAMED_FAILURES])
    if len(failed) > NAMED_FAILURES:
        named += " and %d more" % (len(failed) - NAMED_FAILURES)
    return failed, named


def _module_error(run):
    """The module's own message, escaped; a crashed module's last line of output with it."""
    message = printable(to_text(run.get("msg") or "unknown error"))
    crash = [line for line in to_text(run.get("module_stderr") or run.get("exception") or "").splitlines() if line.strip()]
    if crash:
        message += " (the module crashed: %s; run with -vvv for the whole traceback)" % printable(crash[-1].strip())
    return shortened(message, ERROR_LIMIT)


def _mail_problem(mail):
    """Why the mail failed ('' when it did not): its ``error``, which stays when the role's failed_when clears ``failed``."""
    if not isinstance(mail, dict) or not (mail.get("error") or mail.get("failed")):
        return ""
    return printable(to_text(mail.get("error") or mail.get("msg") or "unknown error"))


def billing_failure(run, report=None, report_path="", mail=None):
    """One short message when the run must fail, '' when it must not.

    It fails when the module stopped before billing (no results), when a company failed (named, at
    most five, the summary above has a line for each), or when the report could not be mailed.
    """
    run = run if isinstance(run, dict) else {}
    period = printable(to_text(run.get("period") or ""))
    if not isinstance(run.get("results"), list):
        return "Billing %sstopped before billing any company: %s" % (period + " " if period else "", _module_error(run))
    if run.get("skipped_reason"):
        return ""
    parts = []
    if report:
        failed, named = _failed_names(report)
        if failed:
            total = len(report["rows"])
            parts.append("Billing %s failed for %d of %d companies: %s (the summary above has a line for each, the "
                         "report the whole reason). The other %d are done; a re-run completes the failed ones and "
                         "changes nothing else. Report: %s"
                         % (period, len(failed), total, named, total - len(failed), printable(to_text(report_path))))
    problem = _mail_problem(mail)
    if problem:
        if not parts:
            parts.append("Billing %s is done (%s), but" % (period, report["states_text"] if report else "see above"))
        parts.append("the report could not be mailed: %s. Fix billing_mail and run again with billing_mail.send: "
                     "always to mail it (a re-run changes nothing in ConnectWise)." % problem)
    return " ".join(parts)


def _value(text):
    """A value of the run log: one word (no space, no control character)."""
    return "-".join(printable(to_text(text)).split()) or "-"


def billing_run_log(run, report=None, now="", auto=False, check=False, failure="", mail=None):
    """One line of the run log: time, period, mode, counts, totals, mail, rc (key=value, space-separated)."""
    run = run if isinstance(run, dict) else {}
    fields = [("time", now), ("period", run.get("period") or "-"), ("mode", "auto" if auto else "period"),
              ("check", "yes" if check else "no")]
    if report:
        fields.append(("companies", len(report["rows"])))
        fields.extend((state.replace("not in this run's usage", "not_in_usage"), count)
                      for state, count in report["states"].items())
        fields.extend((action, count) for action, count in report["counts"].items())
        fields.extend([("quantity", report["billed_quantity"]), ("unit", report["unit"]),
                       ("cost", report["reconciliation"]["billed_cost"]), ("price", report["reconciliation"]["billed_price"]),
                       ("currency", report["currency"])])
    elif not isinstance(run.get("results"), list):
        fields.append(("stopped", "before-billing"))
    if isinstance(mail, dict) and not mail.get("skipped"):
        fields.append(("mail", "failed" if _mail_problem(mail) else ("would-send" if check else "sent")))
    fields.append(("rc", 2 if failure else 0))
    return " ".join("%s=%s" % (_value(key), _value(value)) for key, value in fields)


def billing_mail(report, files=None, failure=""):
    """``{subject, body}`` of the report's mail: the summary as text, the report files attached."""
    failed = report["states"].get(ms.FAILED, 0)
    subject = "%sBackup billing %s: %d billed, %s %s%s" % (
        "PREVIEW - " if report["preview"] else "", report["period"], report["states"].get(ms.BILLED, 0),
        report["currency"], report["billed_price_text"], ", %d FAILED" % failed if failed else "")
    body = list(report["summary"])
    if failure:
        body += ["", printable(to_text(failure))]
    names = [to_text(name).rsplit("/", 1)[-1] for name in files or []]
    if names:
        body += ["", "Attached: %s" % ", ".join(printable(name) for name in names)]
    preview = " (check mode: nothing was written to ConnectWise)" if report["preview"] else ""
    body += ["", "Sent by the mbs.connectwise billing role%s." % preview]
    return {"subject": subject, "body": "\n".join(body) + "\n"}
