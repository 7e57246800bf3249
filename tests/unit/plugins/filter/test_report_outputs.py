"""The month's state per company, the CSV's defences, one line per item, the failure message, the run log
and the mail text (plugins/filter/reports.py, plugins/plugin_utils/month_state.py and report_outputs.py)."""

import csv
import io
import json

import pytest

from ansible_collections.mbs.connectwise.plugins.filter import reports
from ansible_collections.mbs.connectwise.plugins.module_utils.printable import printable
from ansible_collections.mbs.connectwise.plugins.plugin_utils import month_state

from .test_reports import GIB, module_result, read_csv, result, seven_companies

DAY1, DAY2, DAY3 = "2026-11-01T06:00:02Z", "2026-11-02T06:00:03Z", "2026-11-03T06:00:01Z"


def csv_rows(report):
    return read_csv(reports.billing_csv(report))


# ---- the month's state ----------------------------------------------------------------------------

@pytest.mark.parametrize("fields, state, preview", [
    ({"action": "created"}, "billed", "to be billed"),
    ({"action": "updated"}, "billed", "billed, to be updated"),
    ({"action": "unchanged"}, "billed", "billed"),
    ({"action": "cancelled"}, "cancelled", "to be cancelled"),
    ({"action": "skipped", "reason": "no usage"}, "skipped", "skipped"),
    ({"action": "failed", "reason": "HTTP 500"}, "failed", "failed"),
    # What the billing module adds for corrections and partial sources: a field, a new action or the reason.
    ({"action": "updated", "correction": "zeroed"}, "corrected", "to be corrected"),
    ({"action": "corrected"}, "corrected", "to be corrected"),
    ({"action": "skipped", "not_in_usage": True}, "not in this run's usage", "not in this run's usage"),
    ({"action": "skipped", "reason": "not in this run's usage (a partial source)"}, "not in this run's usage",
     "not in this run's usage"),
    ({"action": "failed", "correction": "removed", "reason": "x"}, "failed", "failed"),
    ({"action": "deleted"}, "unknown", "unknown (the billing module's action deleted)"),
])
def test_one_table_maps_every_result_to_the_months_state(fields, state, preview):
    assert month_state.state_of(fields) == (state, state if state != "unknown" else preview)
    assert month_state.state_of(fields, preview=True) == (state, preview)


def test_a_new_action_is_shown_needing_a_look_and_never_billed():
    report = reports.billing_report(module_result([
        result("AcmeCorp", "created", GIB, "0.06", "0.02", addition_id=1),
        result("Globex", "archived", 2 * GIB, reason="a newer billing module's action")]))
    rows = dict((r["company"], r) for r in report["rows"])
    assert rows["Globex"]["status"] == "unknown" and not rows["Globex"]["billed"]
    assert report["needs_look"] == ["Globex"]
    assert report["counts_text"] == "1 created; 0 updated; 0 unchanged; 0 skipped; 0 failed; 1 archived"
    assert report["states_text"] == "1 billed; 1 unknown"
    assert report["reconciliation"]["billed_price"] == "0.06"
    assert any(line.startswith("Globex: unknown (the billing module's action archived) - ") for line in report["summary"])


def test_a_rerun_keeps_billed_and_since_when_it_was_billed():
    """Day 1 creates, days 2 and 3 find nothing to change: the month's report still says billed, since day 1."""
    first = reports.billing_report(module_result(seven_companies()), now=DAY1)
    state = reports.report_outputs.billing_state(first)
    rerun = [dict(r, action="unchanged") if r["action"] in ("created", "updated") else r for r in seven_companies()]
    second = reports.billing_report(module_result(rerun), earlier=state, now=DAY2)
    third = reports.billing_report(module_result(rerun), earlier=reports.report_outputs.billing_state(second), now=DAY3)
    for report in (first, second, third):
        rows, total = csv_rows(report)
        by_company = dict((r["company"], r) for r in rows)
        assert [by_company[c]["status"] for c in ("AcmeCorp", "Globex", "Initech")] == ["billed"] * 3
        assert by_company["AcmeCorp"]["addition_id"] == "301" and by_company["AcmeCorp"]["since"] == DAY1
        assert by_company["Umbrella"]["status"] == "cancelled" and by_company["Hooli"]["status"] == "skipped"
        assert total["status"] == "3 billed; 1 cancelled; 3 skipped; 1 failed"
    assert csv_rows(third)[0][0]["action"] == "unchanged"      # what the run did is still there
    assert third["counts_text"] == "0 created; 0 updated; 3 unchanged; 3 skipped; 1 failed; 1 cancelled"
    # Wayne failed on day 1 and still does: failed since day 1; a state that changes starts a new since.
    assert dict((r["company"], r["since"]) for r in third["rows"])["Wayne"] == DAY1
    fixed = [dict(r, action="created", addition_id=304, reason=None) if r["company"] == "Wayne" else r for r in rerun]
    fourth = reports.billing_report(module_result(fixed), earlier=reports.report_outputs.billing_state(third), now=DAY3)
    assert dict((r["company"], (r["status"], r["since"])) for r in fourth["rows"])["Wayne"] == ("billed", DAY3)


def test_a_company_billed_earlier_that_fails_now_is_said_so():
    first = reports.billing_report(module_result(seven_companies()), now=DAY1)
    failing = [dict(r, action="failed", reason="GET additions returned HTTP 503") if r["company"] == "AcmeCorp" else r
               for r in seven_companies()]
    report = reports.billing_report(module_result(failing), earlier=reports.report_outputs.billing_state(first), now=DAY2)
    acme = next(r for r in report["rows"] if r["company"] == "AcmeCorp")
    assert acme["status"] == "failed" and acme["since"] == DAY2
    assert acme["warnings"] == ["billed by an earlier run since %s (addition 301, USD 30.00); this run: failed" % DAY1]
    assert any(line.startswith("AcmeCorp: failed - GET additions returned HTTP 503 [billed by an earlier run")
               for line in report["summary"])


@pytest.mark.parametrize("earlier, problem", [
    ("{not json", "the earlier state file is not JSON"),
    (json.dumps({"format": 99, "companies": {}}), "not one this collection wrote"),
    (json.dumps({"format": 1, "period": "2026-09", "companies": {}}), "of 2026-09, not 2026-10"),
])
def test_an_earlier_state_that_cannot_be_used_is_said_and_replaced(earlier, problem):
    report = reports.billing_report(module_result(seven_companies()), earlier=earlier, now=DAY2)
    assert problem in report["earlier_problem"] and report["summary"][1] == report["earlier_problem"]
    assert all(r["since"] == DAY2 for r in report["rows"])


def test_a_preview_predicts_without_a_since_for_what_is_not_done_yet():
    first = reports.billing_report(module_result(seven_companies()), now=DAY1)
    report = reports.billing_report(module_result(seven_companies()), preview=True,
                                    earlier=reports.report_outputs.billing_state(first), now=DAY2)
    rows = dict((r["company"], r) for r in csv_rows(report)[0])
    assert rows["Hooli"]["since"] == DAY1            # skipped then, skipped in the preview
    preview = reports.billing_report(module_result([result("New", "created", GIB, "0.06", "0.02")]), preview=True,
                                     now=DAY2)
    new = csv_rows(preview)[0][0]
    assert (new["status"], new["since"], new["action"]) == ("to be billed", "", "created")


# ---- the CSV: formulas, the totals row, one line per company --------------------------------------

@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"])
def test_a_formula_like_cell_is_neutralised(name):
    report = reports.billing_report(module_result([result(name, "skipped", 0, reason=name, usage_company=name,
                                                          warnings=[name])]))
    rows, _total = csv_rows(report)
    for column in ("company", "reason", "warnings", "usage_company"):
        assert rows[0][column].startswith("'"), (column, rows[0][column])
        assert rows[0][column][1:] == printable(name)


def test_numbers_are_never_quoted_and_a_company_named_total_is_a_company():
    report = reports.billing_report(module_result([
        result("TOTAL", "created", GIB, "0.06", "0.02", addition_id=7),
        result("total", "skipped", 0, reason="no usage")]))
    rows, total = csv_rows(report)
    assert [(r["row"], r["company"]) for r in rows] == [("company", "TOTAL"), ("company", "total")]
    assert (total["row"], total["company"], total["total_price"]) == ("total", "", "0.06")
    assert rows[0]["total_price"] == "0.06" and rows[0]["addition_id"] == "7"


def test_a_newline_in_a_name_stays_on_its_line_everywhere():
    forged = "Evil\nPLAY RECAP *****\nlocalhost : ok=1 changed=0 failed=0\r\x1b[2K\u202eCorp"
    report = reports.billing_report(module_result([
        result(forged, "failed", GIB, "0.06", "0.02", reason="cannot bill %s\nPLAY RECAP" % forged,
               usage_company=forged, company_name=forged, warnings=["w\nPLAY RECAP"])]))
    text = reports.billing_csv(report)
    assert len(text.splitlines()) == 3                     # header, the company, the totals
    assert "\r" not in text and "\x1b" not in text and "\u202e" not in text
    row = csv_rows(report)[0][0]
    assert row["company"] == "Evil\\nPLAY RECAP *****\\nlocalhost : ok=1 changed=0 failed=0\\r\\x1b[2K\\u202eCorp"
    for line in report["summary"]:
        assert "\n" not in line and "\r" not in line and not line.startswith("PLAY RECAP")
    message = reports.report_outputs.billing_failure(module_result([]), report, "/r/billing-2026-10.html")
    assert "\n" not in message and "Evil\\nPLAY RECAP" in message


# ---- the failure message: short, whatever the number of companies --------------------------------

def failing(count):
    return [result("Company%04d" % n, "failed", GIB, "0.06", "0.02",
                   reason="POST finance/agreements/%d/additions returned HTTP 400: " % n + "x" * 400)
            for n in range(1, count + 1)] + [result("Billed", "created", GIB, "0.06", "0.02", addition_id=1)]


@pytest.mark.parametrize("count", [7, 300])
def test_the_failure_message_is_one_short_line_and_each_company_one_short_summary_line(count):
    report = reports.billing_report(module_result(failing(count)))
    run = dict(module_result(failing(count)), msg="billing of 2026-10 failed for %d companies: ..." % count)
    message = reports.report_outputs.billing_failure(run, report, "/reports/billing-2026-10.html")
    assert message.startswith("Billing 2026-10 failed for %d of %d companies: Company0001, Company0002, " % (count, count + 1))
    assert ("and %d more" % (count - 5)) in message and "Report: /reports/billing-2026-10.html" in message
    assert "\n" not in message and len(message) < 400
    failed_lines = [line for line in report["summary"] if line.startswith("Company")]
    assert len(failed_lines) == count and max(len(line) for line in failed_lines) <= 40 + reports.DETAIL_LIMIT
    assert all(line.endswith("\u2026") for line in failed_lines)


def test_before_billing_and_a_crash_and_nothing_to_fail():
    assert reports.report_outputs.billing_failure({"msg": "MSP360 login failed: HTTP 401\nPLAY RECAP",
                                                   "period": "2026-10"}) == \
        "Billing 2026-10 stopped before billing any company: MSP360 login failed: HTTP 401\\nPLAY RECAP"
    crash = reports.report_outputs.billing_failure({"msg": "MODULE FAILURE", "module_stderr": "Traceback\n  x\nKeyError: 'y'\n"})
    assert crash == ("Billing stopped before billing any company: MODULE FAILURE (the module crashed: KeyError: 'y'; "
                     "run with -vvv for the whole traceback)")
    report = reports.billing_report(module_result([result("A", "created", GIB, "0.06", "0.02")]))
    assert reports.report_outputs.billing_failure(module_result([]), report, "x") == ""
    assert reports.report_outputs.billing_failure({"results": [], "skipped_reason": "outside"}) == ""
    mailed = reports.report_outputs.billing_failure(module_result([]), report, "x", {"failed": False, "error": "refused"})
    assert mailed.startswith("Billing 2026-10 is done (1 billed), but the report could not be mailed: refused.")


# ---- the run log and the mail ----------------------------------------------------------------------

def test_the_run_log_line_is_one_line_of_words():
    report = reports.billing_report(module_result(seven_companies()), now=DAY1)
    line = reports.report_outputs.billing_run_log(module_result(seven_companies()), report, now=DAY1, auto=True,
                                                  failure="x", mail={"changed": True})
    fields = dict(item.split("=", 1) for item in line.split(" "))
    assert fields["time"] == DAY1 and fields["period"] == "2026-10" and fields["mode"] == "auto"
    assert fields["check"] == "no" and fields["companies"] == "8" and fields["billed"] == "3"
    assert fields["not_in_usage"] == "0" and fields["created"] == "1" and fields["unchanged"] == "1"
    assert fields["price"] == "122.16" and fields["cost"] == "33.06" and fields["currency"] == "USD"
    assert fields["mail"] == "sent" and fields["rc"] == "2"
    stopped = reports.report_outputs.billing_run_log({"msg": "x"}, now=DAY1, check=True)
    assert stopped == "time=%s period=- mode=period check=yes stopped=before-billing rc=0" % DAY1


def test_the_mail_says_the_state_and_names_the_attachments():
    report = reports.billing_report(module_result(seven_companies()), now=DAY1)
    mail = reports.report_outputs.billing_mail(report, ["/r/billing-2026-10.csv", "/r/billing-2026-10.html"], "failed")
    assert mail["subject"] == "Backup billing 2026-10: 3 billed, USD 122.16, 1 FAILED"
    assert mail["body"].startswith(report["summary"][0] + "\n")
    assert "Attached: billing-2026-10.csv, billing-2026-10.html" in mail["body"]
    preview = reports.billing_report(module_result(seven_companies()), preview=True)
    assert reports.report_outputs.billing_mail(preview)["subject"].startswith("PREVIEW - Backup billing 2026-10")


def test_csv_is_read_back_whole_by_a_spreadsheet_reader():
    report = reports.billing_report(module_result(seven_companies()))
    parsed = list(csv.reader(io.StringIO(reports.billing_csv(report))))
    assert len(set(len(row) for row in parsed)) == 1 and parsed[0][:5] == ["row", "company", "status", "action", "since"]
