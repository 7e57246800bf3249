# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MSP360's license Usage History CSV export as a month's license source (plugins/module_utils/license_history.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import datetime
import io

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils import license_counts as lc
from ansible_collections.mbs.connectwise.plugins.module_utils import license_history as lh
from ansible_collections.mbs.connectwise.plugins.module_utils import licenses as lic
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import parse_period
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import HistoryError

PERIOD = "2026-09"
PRODUCTS = lic.parse_license_products([
    {"license_type": "Server", "product": "MSP360-SERVER"},
    {"license_type": "VM Server", "product": "MSP360-SERVER"},
    {"license_type": "Desktop", "product": "MSP360-DESKTOP"},
])
HEADER = "Type,Company,User,Endpoint,Status,Purchased,Purchase ID,Activated,Deactivated,Days Active,Cost"


def csv_text(*rows, header=HEADER):
    return "\n".join((header,) + rows) + "\n"


def row(type_="Server", company="Acme", user="ann@acme.test", endpoint="PC-1", status="Paid",
        activated="2026-08-01", deactivated="", days="", purchased="2026-07-30", purchase_id="P-1", cost="3.10"):
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(
        (type_, company, user, endpoint, status, purchased, purchase_id, activated, deactivated, days, cost))
    return out.getvalue()


def count(*rows, date_order=None, header=HEADER):
    return lh.count_license_history(csv_text(*rows, header=header), PERIOD, PRODUCTS, date_order=date_order)


def test_the_issue_example_from_the_export():
    counts = count(row(endpoint="PC-1"), row(endpoint="PC-2"), row(endpoint="PC-3"),
                   row(endpoint="PC-4", status="Active trial"),
                   row(endpoint="PC-5", status="Expired", deactivated="2026-08-28"),
                   row(endpoint="", user=""))
    assert counts.quantities() == {("Acme", "MSP360-SERVER"): 3}
    assert counts.not_billed_counts() == {"trial": 1, "unassigned": 1, "not_taken": 0, "not_active": 1,
                                          "no_company": 0, "unmapped_type": 0, "repeat": 0}
    assert counts.reconcile() == (6, 3, 3)
    assert [item.ref for item in counts.billed[0].items] == ["license_history_file row %d" % n for n in (2, 3, 4)]
    assert counts.not_billed_items("not_active")[0].as_dict() == {
        "ref": "license_history_file row 6", "license_type": "Server", "company": "Acme", "user": "ann@acme.test",
        "endpoint": "PC-5", "license_id": None, "number": None}
    assert counts.source == "license_history_file (license usage history)"


@pytest.mark.parametrize("activated, deactivated, counted", [
    ("2026-09-30", "", True),                       # activated on the last day
    ("2026-09-30T23:59:59", "", True),
    ("2026-10-01", "", False),                      # activated the day after
    ("2026-08-01", "2026-09-01", True),             # deactivated on the first day: in use that day
    ("2026-08-01", "2026-09-01T00:00:01", True),
    ("2026-08-01", "2026-08-31T23:59:59", False),   # deactivated the day before
    ("2026-08-01", "2026-08-31", False),
    ("2025-01-01", "", True),                       # open-ended
    ("2026-09-10", "2026-09-12", True),             # inside
    ("2026-08-01", "2026-10-05", True),             # across
    ("2026-09-30", "2026-09-30", True),
])
def test_a_row_counts_when_active_during_the_month(activated, deactivated, counted):
    counts = count(row(activated=activated, deactivated=deactivated))
    assert counts.quantity("Acme", "MSP360-SERVER") == (1 if counted else 0)
    assert counts.not_billed_counts()["not_active"] == (0 if counted else 1)


def test_the_span_check_itself():
    period = parse_period(PERIOD)
    day = datetime.datetime
    assert lh.is_active_in(period, day(2026, 9, 30, 23, 59), None)
    assert lh.is_active_in(period, day(2026, 1, 1), day(2026, 9, 1))
    assert not lh.is_active_in(period, day(2026, 1, 1), day(2026, 8, 31, 23, 59))
    assert not lh.is_active_in(period, day(2026, 10, 1), None)


@pytest.mark.parametrize("activated, days, counted", [
    ("2026-08-20T08:00:00", "12.5", True),     # ended 2026-09-01 20:00
    ("2026-08-20T08:00:00", "11", False),      # ended 2026-08-31 08:00
    ("2026-08-20", "12", True),                # ended 2026-09-01 00:00
    ("2026-08-20", "11.99", False),
])
def test_an_expired_license_without_deactivation_ends_after_its_days_active(activated, days, counted):
    counts = count(row(status="Expired", activated=activated, days=days))
    assert counts.quantity("Acme", "MSP360-SERVER") == (1 if counted else 0)


def test_an_expired_license_with_no_end_at_all_is_refused():
    with pytest.raises(HistoryError, match=r"^license_history_file row 2 column Deactivated: an Expired license "
                                           r"with no Deactivated date and no Days Active"):
        count(row(status="Expired"))


def test_reasons_in_precedence_order():
    counts = count(
        row(status="Expired trial", user="", activated=""),          # trial before anything
        row(user="", activated="", endpoint=""),                       # unassigned
        row(activated="", endpoint="PC-9"),                            # not taken
        row(company="", activated="2026-10-02", endpoint="PC-8"),      # not active before no company
        row(company="", endpoint="PC-7"),                              # no company
        row(type_="Exchange", endpoint="PC-6"),                        # unmapped
        row(endpoint="PC-1"), row(endpoint=" pc-1 ", activated="2026-09-15"),   # repeat: one seat
        row(endpoint="PC-1", user="bob@acme.test"),                    # another user's: counted
        row(type_="Desktop", endpoint="PC-1"),                         # another type's: counted
        row(type_="vm server", endpoint="PC-2", company="ACME"),
    )
    assert counts.not_billed_counts() == {"trial": 1, "unassigned": 1, "not_taken": 1, "not_active": 1,
                                          "no_company": 1, "unmapped_type": 1, "repeat": 1}
    assert counts.not_billed_items("repeat")[0].ref == "license_history_file row 9"
    assert counts.quantities() == {("Acme", "MSP360-DESKTOP"): 1, ("Acme", "MSP360-SERVER"): 3}
    assert counts.reconcile() == (11, 4, 7)
    assert lc.check_unmapped_license_types(counts, "report") == [
        "licenses not billed for 2026-09 because no license_products entry maps their type: 'Exchange': 1 (Acme 1)"]


def test_rows_without_an_endpoint_are_never_merged_as_one_seat():
    counts = count(row(endpoint=""), row(endpoint=""))
    assert counts.quantity("Acme", "MSP360-SERVER") == 2


def test_columns_match_case_insensitively_in_any_order_and_without_the_optional_ones():
    header = "status,TYPE,company, User ,endpoint,activated,deactivated"
    counts = count("Paid,Server,Acme,ann,PC-1,2026-09-03,", header=header)
    assert counts.quantities() == {("Acme", "MSP360-SERVER"): 1}


@pytest.mark.parametrize("header, message", [
    (HEADER + ",Colour", r"^license_history_file row 1: unknown column 'Colour'; the usage-history export has Type, "),
    (HEADER.replace("Deactivated", "Deactivation"),
     r"^license_history_file row 1: unknown column 'Deactivation'; did you mean 'Deactivated'\?"),
    ("Type,Company,User,Endpoint,Status,Activated",
     r"^license_history_file row 1: the usage-history export's column Deactivated is missing$"),
    ("Type,Company,User,Endpoint",
     r"^license_history_file row 1: the usage-history export's columns Status, Activated, Deactivated are missing$"),
    (HEADER + ",type", r"^license_history_file row 1: columns 'Type' and 'type' are both Type$"),
])
def test_bad_headers_are_refused_on_row_1(header, message):
    with pytest.raises(HistoryError, match=message):
        count(header=header)


@pytest.mark.parametrize("bad_row, message", [
    (row(status="Active"), r"^license_history_file row 2 column Status: 'Active' is not one of the console's statuses"),
    (row(status=""), r"^license_history_file row 2 column Status: '' is not one of"),
    (row(activated="yesterday"), r"^license_history_file row 2 column Activated: 'yesterday' is not a date"),
    (row(activated="2026-02-30"), r"^license_history_file row 2 column Activated: '2026-02-30' is not a date$"),
    (row(deactivated="2/30/2026"), r"^license_history_file row 2 column Deactivated: '2/30/2026' is not a date$"),
    (row(activated="9/1/26"), r"^license_history_file row 2 column Activated: '9/1/26' has a 2-digit year"),
    (row(activated="2026-09-03", deactivated="2026-09-02"),
     r"^license_history_file row 2 column Deactivated: '2026-09-02' is before the Activated date '2026-09-03'$"),
    (row(activated="9/13/2026 25:00"), r"^license_history_file row 2 column Activated: '9/13/2026 25:00' is not a time"),
    (row(activated="9/13/2026 13:00 PM"), r"^license_history_file row 2 column Activated: .* has an hour 13 with PM$"),
    (row(activated="Smarch 3, 2026"), r"^license_history_file row 2 column Activated: 'Smarch 3, 2026' names no month$"),
    (row(status="Expired", days="-1"), r"^license_history_file row 2 column Days Active: '-1' is negative$"),
    (row(days="many"), r"^license_history_file row 2 column Days Active: 'many' is not a number$"),
    (row() + ",extra", r"^license_history_file row 2: has more values than the header has columns$"),
])
def test_bad_cells_are_refused_naming_row_and_column(bad_row, message):
    with pytest.raises(HistoryError, match=message):
        count(bad_row)


def test_an_error_on_a_later_row_names_that_row():
    with pytest.raises(HistoryError, match=r"^license_history_file row 4 column Activated: 'soon' is not a date"):
        count(row(), row(status="Active trial"), row(activated="soon"))


def test_a_trial_rows_dates_are_checked_too():
    with pytest.raises(HistoryError, match=r"^license_history_file row 2 column Activated"):
        count(row(status="Active trial", activated="soon"))


@pytest.mark.parametrize("text, expected", [
    ("2026-09-01", (2026, 9, 1, 0, 0)),
    ("2026-09-01T08:30:00.1234567+02:00", (2026, 9, 1, 8, 30)),
    ("2026-09-01 08:30", (2026, 9, 1, 8, 30)),
    ("2026/9/1", (2026, 9, 1, 0, 0)),
    ("2026/09/01 17:05:09", (2026, 9, 1, 17, 5)),
    ("01.09.2026", (2026, 9, 1, 0, 0)),
    ("1.9.2026 14:00", (2026, 9, 1, 14, 0)),
    ("Sep 1, 2026", (2026, 9, 1, 0, 0)),
    ("Sept. 1 2026 8:30 PM", (2026, 9, 1, 20, 30)),
    ("1 September 2026", (2026, 9, 1, 0, 0)),
    ("01-Sep-2026 12:00 AM", (2026, 9, 1, 0, 0)),
    ("30 sep 2026 12:15 p.m.", (2026, 9, 30, 12, 15)),
    ("9/9/2026", (2026, 9, 9, 0, 0)),       # same either way
    ("13/9/2026", (2026, 9, 13, 0, 0)),     # only day first can be right
    ("9/13/2026 8:30:15 AM", (2026, 9, 13, 8, 30)),
])
def test_date_forms(text, expected):
    moment = lh.parse_history_date(text, "x")
    assert (moment.year, moment.month, moment.day, moment.hour, moment.minute) == expected


@pytest.mark.parametrize("order, expected", [
    ("month_first", datetime.date(2026, 3, 4)),
    ("day_first", datetime.date(2026, 4, 3)),
])
def test_an_ambiguous_date_is_read_with_the_date_order(order, expected):
    assert lh.parse_history_date("03/04/2026", "x", order).date() == expected
    assert lh.parse_history_date("03-04-2026", "x", order).date() == expected


def test_an_ambiguous_date_with_nothing_to_tell_is_refused():
    with pytest.raises(HistoryError, match=r"^license_history_file row 2 column Activated: '09/08/2026' could be "
                                           r"day 9 of month 8 or day 8 of month 9, .*give the date order"):
        count(row(activated="09/08/2026"))


def test_the_file_tells_the_order_of_its_ambiguous_dates():
    month_first = count(row(activated="08/20/2026", endpoint="PC-1"), row(activated="10/01/2026", endpoint="PC-2"))
    assert month_first.quantity("Acme", "MSP360-SERVER") == 1   # 1 October is after September
    assert [item.ref for item in month_first.not_billed_items("not_active")] == ["license_history_file row 3"]
    day_first = count(row(activated="20/08/2026", endpoint="PC-1"), row(activated="10/01/2026", endpoint="PC-2"))
    assert day_first.quantity("Acme", "MSP360-SERVER") == 2     # 10 January
    assert count(row(activated="10/01/2026"), date_order="day_first").quantity("Acme", "MSP360-SERVER") == 1


def test_a_file_that_proves_both_orders_or_contradicts_the_option_is_refused():
    with pytest.raises(HistoryError, match=r"^the file writes dates day first \(license_history_file row 2 column "
                                           r"Activated '20/08/2026'\) and month first \(license_history_file row 3 "
                                           r"column Deactivated '09/20/2026'\)"):
        count(row(activated="20/08/2026"), row(activated="2026-09-01", deactivated="09/20/2026"))
    with pytest.raises(HistoryError, match=r"^the date order is month_first, but license_history_file row 2 column "
                                           r"Activated '20/08/2026' is day first$"):
        count(row(activated="20/08/2026"), date_order="month_first")
    with pytest.raises(HistoryError, match=r"^date order 'ymd' is not one of month_first, day_first$"):
        count(row(), date_order="ymd")


def test_dotted_dates_are_day_first_and_prove_nothing_about_slashed_ones():
    counts = count(row(activated="01.10.2026", endpoint="PC-1"), row(activated="5/5/2026", endpoint="PC-2"))
    assert counts.quantity("Acme", "MSP360-SERVER") == 1   # 1 October: not active in September


def test_read_license_history_from_a_file(tmp_path):
    path = tmp_path / "usage-history.csv"
    path.write_text("\ufeff" + csv_text(row(), "", ",,,,,,,,,,", row(endpoint="PC-2")), encoding="utf-8")
    counts = lh.read_license_history(str(path), PERIOD, PRODUCTS)
    assert counts.quantities() == {("Acme", "MSP360-SERVER"): 2} and counts.read == 2
    (tmp_path / "empty.csv").write_text("  \n", encoding="utf-8")
    with pytest.raises(HistoryError, match=r"^license_history_file .*empty\.csv is empty$"):
        lh.read_license_history(str(tmp_path / "empty.csv"), PERIOD, PRODUCTS)
    with pytest.raises(HistoryError, match=r"^license_history_file .*missing\.csv cannot be read"):
        lh.read_license_history(str(tmp_path / "missing.csv"), PERIOD, PRODUCTS)


def test_a_header_without_rows_counts_nothing():
    counts = count()
    assert counts.read == 0 and counts.billed == () and counts.reconcile() == (0, 0, 0)
