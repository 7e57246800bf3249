# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""License counting (plugins/module_utils/licenses.py): MSP360 License objects -> counts per company and product."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import random
from decimal import Decimal

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils import license_counts as lc
from ansible_collections.mbs.connectwise.plugins.module_utils import licenses as lic
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import (
    LicenseDataError,
    ProductOptionError,
    UnmappedLicenseTypes,
)

D = Decimal
PERIOD = "2026-09"
USERS = [
    {"ID": "u-acme-1", "Email": "ann@acme.test", "Company": "Acme", "FirstName": "Ann", "Enabled": True},
    {"ID": "U-ACME-2", "Email": "bob@acme.test", "Company": "ACME  ", "FirstName": "Bob"},
    {"ID": "u-globex", "Email": "gus@globex.test", "Company": "Globex"},
    {"ID": "u-nocomp", "Email": "lone@nowhere.test", "Company": ""},
]
PRODUCTS = lic.parse_license_products([
    {"license_type": "Server", "product": "MSP360-SERVER", "unit_price": "25.00", "unit_cost": 12},
    {"license_type": "VM Server", "product": "msp360-server"},
    {"license_type": "Desktop", "product": "MSP360-DESKTOP", "included": 2},
])

_numbers = iter(range(1, 10 ** 6))


def a_license(**fields):
    number = next(_numbers)
    base = {"ID": "lic-%04d" % number, "Number": number, "ComputerName": "PC-%d" % number,
            "OperatingSystem": "Windows", "IsTrial": False, "IsTaken": True, "LicenseType": "Server",
            "DateExpired": "2027-01-31T10:00:00.0922535+00:00", "Transaction": "T-1", "User": "ann@acme.test",
            "UserID": "u-acme-1"}
    base.update(fields)
    return base


def refs(items):
    return sorted(item.ref for item in items)


def test_the_issue_example_counts_three_and_one_in_each_reason():
    paid = [a_license() for dummy in range(3)]
    trial = a_license(IsTrial=True)
    expired = a_license(DateExpired="2026-08-28T11:07:01.0922535+00:00")
    pool = a_license(UserID=None, User="", IsTaken=False, ComputerName="")
    counts = lic.count_licenses(paid + [trial, expired, pool], USERS, PERIOD, PRODUCTS)
    assert counts.quantities() == {("Acme", "MSP360-SERVER"): 3}
    assert counts.quantity("acme", "msp360-server") == 3
    assert counts.not_billed_counts() == {"trial": 1, "expired": 1, "unassigned": 1, "not_taken": 0,
                                          "unknown_user": 0, "no_company": 0, "unmapped_type": 0}
    assert [item.license_id for item in counts.not_billed_items("trial")] == [trial["ID"]]
    assert [item.license_id for item in counts.not_billed_items("expired")] == [expired["ID"]]
    assert [item.license_id for item in counts.not_billed_items("unassigned")] == [pool["ID"]]
    assert counts.reconcile() == (6, 3, 3)
    assert [item.license_id for item in counts.billed[0].items] == [item["ID"] for item in paid]
    assert counts.billed[0].items[0].as_dict() == {
        "ref": "MSP360 license 1 (ID %s)" % paid[0]["ID"], "license_type": "Server", "company": "Acme",
        "user": "ann@acme.test", "endpoint": paid[0]["ComputerName"], "license_id": paid[0]["ID"],
        "number": paid[0]["Number"]}


def test_each_reason_alone():
    cases = {
        "trial": a_license(IsTrial=True),
        "expired": a_license(DateExpired="2026-08-31"),
        "unassigned": a_license(UserID=None),
        "not_taken": a_license(IsTaken=False, ComputerName=""),
        "unknown_user": a_license(UserID="u-gone"),
        "no_company": a_license(UserID="u-nocomp"),
        "unmapped_type": a_license(LicenseType="MS SQL Server"),
    }
    counts = lic.count_licenses(list(cases.values()), USERS, PERIOD, PRODUCTS)
    assert counts.billed == ()
    for reason, raw in cases.items():
        assert [item.license_id for item in counts.not_billed_items(reason)] == [raw["ID"]], reason
    assert [bucket.reason for bucket in counts.not_billed] == list(lic.API_REASONS)


@pytest.mark.parametrize("fields, reason", [
    ({"IsTrial": True, "DateExpired": "2020-01-01", "UserID": None, "IsTaken": False}, "trial"),
    ({"DateExpired": "2020-01-01", "UserID": None, "IsTaken": False}, "expired"),
    ({"UserID": None, "IsTaken": False, "LicenseType": "Unknown"}, "unassigned"),
    ({"IsTaken": False, "UserID": "u-gone", "LicenseType": "Unknown"}, "not_taken"),
    ({"UserID": "u-gone", "LicenseType": "Unknown"}, "unknown_user"),
    ({"UserID": "u-nocomp", "LicenseType": "Unknown"}, "no_company"),
    ({"LicenseType": "Unknown"}, "unmapped_type"),
    ({"LicenseType": None}, "unmapped_type"),
])
def test_the_first_reason_in_precedence_order_wins(fields, reason):
    counts = lic.count_licenses([a_license(**fields)], USERS, PERIOD, PRODUCTS)
    assert counts.not_billed_counts()[reason] == 1
    assert sum(counts.not_billed_counts().values()) == 1


@pytest.mark.parametrize("expires, counted", [
    (None, True),
    ("", True),
    ("2026-09-01T00:00:00+00:00", True),   # expires on the first day: valid when the period began
    ("2026-09-01", True),
    ("2026-08-31T23:59:59.9999999Z", False),
    ("2026-08-31", False),
    ("2026-09-30T12:00:00", True),
    ("2031-01-01T00:00:00.1234567+02:00", True),
    ("0001-01-01T00:00:00", True),         # .NET's empty date
    ("/Date(1788220800000)/", True),        # 2026-09-01T00:00:00Z
    ("/Date(1788220799000)/", False),       # 2026-08-31T23:59:59Z
    ("/Date(1788213600000+0200)/", True),   # 2026-08-31T22:00:00Z, 2026-09-01 at +02:00
])
def test_expiry_against_the_first_day_of_the_period(expires, counted):
    counts = lic.count_licenses([a_license(DateExpired=expires)], USERS, PERIOD, PRODUCTS)
    assert counts.quantity("Acme", "MSP360-SERVER") == (1 if counted else 0)
    assert counts.not_billed_counts()["expired"] == (0 if counted else 1)


def test_msp360_date_forms():
    assert lic.parse_msp360_date("2026-08-28T11:07:01.0922535+00:00", "x") == datetime.date(2026, 8, 28)
    assert lic.parse_msp360_date(" 2026-08-28T23:30:00+02:00 ", "x") == datetime.date(2026, 8, 28)
    assert lic.parse_msp360_date("2026-08-28T11:07:01Z", "x") == datetime.date(2026, 8, 28)
    assert lic.parse_msp360_date("2026-08-28 11:07", "x") == datetime.date(2026, 8, 28)
    for bad in ("28/08/2026", "next week", "2026-13-01"):
        with pytest.raises(LicenseDataError, match=r"^where: %r is not a date-time" % bad):
            lic.parse_msp360_date(bad, "where")
    with pytest.raises(LicenseDataError, match="is not a date-time"):
        lic.parse_msp360_date(20260828, "where")


def test_several_types_add_up_on_one_product_and_types_match_folded():
    licenses = [a_license(LicenseType="server"), a_license(LicenseType=" VM   server "),
                a_license(LicenseType="Desktop", UserID="u-globex"), a_license(LicenseType="DESKTOP", UserID="u-globex")]
    counts = lic.count_licenses(licenses, USERS, PERIOD, PRODUCTS)
    assert counts.quantities() == {("Acme", "MSP360-SERVER"): 2, ("Globex", "MSP360-DESKTOP"): 2}
    assert counts.reconcile() == (4, 4, 0)


def test_a_company_spelled_two_ways_and_user_ids_in_any_case_are_one():
    licenses = [a_license(UserID="U-ACME-1"), a_license(UserID="u-acme-2", User=None)]
    counts = lic.count_licenses(licenses, USERS, PERIOD, PRODUCTS)
    assert counts.quantities() == {("Acme", "MSP360-SERVER"): 2}
    assert [item.user for item in counts.billed[0].items] == ["ann@acme.test", "bob@acme.test"]


def test_not_billed_counts_per_company():
    licenses = [a_license(IsTrial=True), a_license(IsTrial=True, UserID="u-globex"),
                a_license(IsTaken=False, UserID="u-globex"), a_license(LicenseType="Other", UserID="u-globex"),
                a_license(UserID=None)]
    counts = lic.count_licenses(licenses, USERS, PERIOD, PRODUCTS)
    assert counts.not_billed_counts("GLOBEX")["trial"] == 1
    assert counts.not_billed_counts("globex")["not_taken"] == 1
    assert counts.not_billed_counts("Globex")["unmapped_type"] == 1
    assert counts.not_billed_counts("Acme")["trial"] == 1
    assert counts.not_billed_counts("Acme")["unassigned"] == 0
    assert counts.not_billed_counts()["unassigned"] == 1


def test_every_license_is_in_exactly_one_bucket():
    rng = random.Random(21)
    choices = dict(IsTrial=[True, False, False], IsTaken=[True, True, False],
                   LicenseType=["Server", "vm server", "Desktop", "Exchange", None],
                   DateExpired=[None, "2026-08-31", "2026-09-01", "2027-01-01T00:00:00Z"],
                   UserID=[None, "u-acme-1", "U-ACME-2", "u-globex", "u-nocomp", "u-gone"])
    licenses = [a_license(**dict((key, rng.choice(values)) for key, values in choices.items()))
                for dummy in range(500)]
    counts = lic.count_licenses(licenses, USERS, PERIOD, PRODUCTS)
    read, counted, not_billed = counts.reconcile()
    assert read == 500 and counted + not_billed == 500 and counted > 0 and not_billed > 0
    placed = [item.license_id for group in counts.billed for item in group.items]
    placed += [item.license_id for bucket in counts.not_billed for item in bucket.items]
    assert sorted(placed) == sorted(raw["ID"] for raw in licenses)
    assert all(bucket.count > 0 for bucket in counts.not_billed)


def test_no_licenses_counts_nothing():
    counts = lic.count_licenses([], [], PERIOD, lic.parse_license_products(None))
    assert counts.read == 0 and counts.billed == () and counts.reconcile() == (0, 0, 0)
    assert counts.quantity("Acme", "X") == 0


@pytest.mark.parametrize("raw, message", [
    ("nope", r"^MSP360 license 1: is str, not a License object$"),
    ({"IsTrial": False, "IsTaken": True}, r"^MSP360 license 1\.ID: is missing or empty$"),
    ({"ID": "x", "IsTaken": True}, r"^MSP360 license 1\.IsTrial: None is not true or false$"),
    ({"ID": "x", "IsTrial": "false", "IsTaken": True}, r"^MSP360 license 1\.IsTrial: 'false' is not true or false$"),
    ({"ID": "x", "IsTrial": False, "IsTaken": 1}, r"^MSP360 license 1\.IsTaken: 1 is not true or false$"),
    ({"ID": "x", "IsTrial": False, "IsTaken": True, "Number": "7"}, r"^MSP360 license 1\.Number: '7' is not a whole"),
    ({"ID": "x", "IsTrial": False, "IsTaken": True, "UserID": 5}, r"^MSP360 license 1\.UserID: 5 is not a string$"),
    ({"ID": "x", "IsTrial": False, "IsTaken": True, "DateExpired": "soon"},
     r"^MSP360 license 1\.DateExpired: 'soon' is not a date-time"),
])
def test_a_license_that_is_not_what_msp360_documents_is_an_error(raw, message):
    with pytest.raises(LicenseDataError, match=message):
        lic.count_licenses([raw], USERS, PERIOD, PRODUCTS)


def test_a_license_listed_twice_is_an_error_not_a_double_count():
    first = a_license()
    with pytest.raises(LicenseDataError, match=r"^MSP360 license 2 \(ID %s\) is MSP360 license 1 \(ID %s\) again"
                       % (first["ID"].upper(), first["ID"])):
        lic.count_licenses([first, dict(first, ID=first["ID"].upper())], USERS, PERIOD, PRODUCTS)


@pytest.mark.parametrize("users, message", [
    ({"ID": "u"}, r"^MSP360 users: dict is not a list of users$"),
    ([["u"]], r"^MSP360 user 1: is list, not a user object$"),
    ([{"Email": "a@b"}], r"^MSP360 user 1\.ID: is missing or empty$"),
    ([{"ID": "u1"}, {"ID": " U1 "}], r"^MSP360 user 2: user U1 is listed twice$"),
    ([{"ID": "u1", "Company": 3}], r"^MSP360 user 1\.Company: 3 is not a string$"),
])
def test_bad_users_are_errors(users, message):
    with pytest.raises(LicenseDataError, match=message):
        lic.count_licenses([], users, PERIOD, PRODUCTS)


def test_count_licenses_wants_checked_products():
    with pytest.raises(TypeError):
        lic.count_licenses([], [], PERIOD, [{"license_type": "Server", "product": "X"}])


# ---------------------------------------------------------------- license_products


def test_license_products_parse_exactly():
    products = lic.parse_license_products([
        {"license_type": "Server", "product": " SRV ", "unit_price": "12.50", "unit_cost": 0.1},
        {"license_type": 365, "product": "srv", "included": "3"},
        {"license_type": "Desktop", "product": "DESK", "unit_price": 7, "included": 0},
    ])
    assert [(e.license_type, e.product, e.unit_cost, e.unit_price, e.included, e.where) for e in products.entries] == [
        ("Server", "SRV", D("0.1"), D("12.50"), None, "license_products[0]"),
        ("365", "srv", None, None, 3, "license_products[1]"),
        ("Desktop", "DESK", None, D(7), 0, "license_products[2]"),
    ]
    assert products.products == (
        lic.ProductTerms("SRV", D("0.1"), D("12.50"), 3, ("Server", "365")),
        lic.ProductTerms("DESK", None, D(7), 0, ("Desktop",)),
    )
    assert products.entry_for(" server ").product == "SRV"
    assert products.entry_for("Exchange") is None
    assert products.terms("desk").unit_price == D(7)
    with pytest.raises(KeyError):
        products.terms("NOT-A-PRODUCT")
    assert lic.parse_license_products([]).products == () and lic.parse_license_products(None).entries == ()


@pytest.mark.parametrize("entries, message", [
    ({"license_type": "Server"}, r"^license_products must be a list of entries, not dict$"),
    (["Server"], r"^license_products\[0\] must be a mapping with the keys license_type, product, "),
    ([{"license_type": "Server", "product": "X", "unit_prise": 3}],
     r"^license_products\[0\]: unknown key 'unit_prise'; did you mean 'unit_price'\? allowed: license_type, "),
    ([{"license_type": "Server", "product": "X", "colour": 3}],
     r"^license_products\[0\]: unknown key 'colour'; allowed: "),
    ([{"product": "X"}], r"^license_products\[0\]\.license_type is required$"),
    ([{"license_type": "Server"}], r"^license_products\[0\]\.product is required$"),
    ([{"license_type": " ", "product": "X"}], r"^license_products\[0\]\.license_type is empty$"),
    ([{"license_type": ["Server"], "product": "X"}], r"^license_products\[0\]\.license_type: \['Server'\] is not a text$"),
    ([{"license_type": "Server", "product": "X" * 76}], r"^license_products\[0\]\.product: 'X{76}' is longer than 75"),
    ([{"license_type": "Server", "product": "X", "unit_price": "twelve"}],
     r"^license_products\[0\]\.unit_price: 'twelve' is not a number$"),
    ([{"license_type": "Server", "product": "X", "unit_price": ""}], r"^license_products\[0\]\.unit_price is empty"),
    ([{"license_type": "Server", "product": "X", "unit_cost": "-1"}], r"^license_products\[0\]\.unit_cost: '-1' is negative$"),
    ([{"license_type": "Server", "product": "X", "unit_price": True}], r"^license_products\[0\]\.unit_price: True is not"),
    ([{"license_type": "Server", "product": "X", "unit_price": "1.23456"}],
     r"^license_products\[0\]\.unit_price: '1\.23456' has more than 4 decimals"),
    ([{"license_type": "Server", "product": "X", "included": -1}], r"^license_products\[0\]\.included: -1 is negative"),
    ([{"license_type": "Server", "product": "X", "included": 1.5}], r"^license_products\[0\]\.included: 1\.5 is not a whole"),
    ([{"license_type": "Server", "product": "X", "included": "two"}], r"^license_products\[0\]\.included: 'two' is not a"),
    ([{"license_type": "Server", "product": "X", "included": False}], r"^license_products\[0\]\.included: False is not"),
    ([{"license_type": "Server", "product": "X"}, {"license_type": " SERVER", "product": "Y"}],
     r"^license_products\[1\]\.license_type 'SERVER' maps the license type license_products\[0\]\.license_type "
     r"'Server' already maps"),
    ([{"license_type": "Server", "product": "X", "unit_price": "10"}, {"license_type": "VM", "product": "x", "unit_price": 11}],
     r"^license_products\[1\]\.unit_price is 11 but license_products\[0\] gives product 'X' the unit_price 10"),
    ([{"license_type": "Server", "product": "X", "included": 1}, {"license_type": "VM", "product": "X", "included": 0}],
     r"^license_products\[1\]\.included is 0 but license_products\[0\] gives product 'X' the included 1"),
])
def test_bad_license_products_are_refused_naming_the_entry(entries, message):
    with pytest.raises(ProductOptionError, match=message):
        lic.parse_license_products(entries)


def test_the_same_terms_on_two_entries_of_one_product_are_fine():
    products = lic.parse_license_products([
        {"license_type": "Server", "product": "X", "unit_price": "10.0"},
        {"license_type": "VM", "product": "X", "unit_price": 10}])
    assert products.products == (lic.ProductTerms("X", None, D("10.0"), 0, ("Server", "VM")),)


# ---------------------------------------------------------------- unmapped types


def test_unmapped_types_report_or_fail_before_any_write():
    licenses = [a_license(LicenseType="Exchange"), a_license(LicenseType="Exchange", UserID="u-globex"),
                a_license(LicenseType="Exchange", UserID="U-ACME-2"), a_license(LicenseType=None), a_license()]
    counts = lic.count_licenses(licenses, USERS, PERIOD, PRODUCTS)
    assert list(lc.unmapped_types(counts)) == ["(no license type)", "Exchange"]
    warnings = lc.check_unmapped_license_types(counts, "report")
    assert warnings == ["licenses not billed for 2026-09 because no license_products entry maps their type: "
                        "'(no license type)': 1 (Acme 1); 'Exchange': 3 (Acme 2, Globex 1)"]
    with pytest.raises(UnmappedLicenseTypes) as failed:
        lc.check_unmapped_license_types(counts, "fail")
    assert "'Exchange': 3 (Acme 2, Globex 1)" in str(failed.value)
    assert "unmapped_license_types: report" in str(failed.value) and "Nothing was sent." in str(failed.value)


def test_unmapped_types_spelled_two_ways_are_one():
    licenses = [a_license(LicenseType="Exchange"), a_license(LicenseType=" EXCHANGE", UserID="U-ACME-2")]
    counts = lic.count_licenses(licenses, USERS, PERIOD, PRODUCTS)
    assert [(name, len(items)) for name, items in lc.unmapped_types(counts).items()] == [("Exchange", 2)]
    assert lc.check_unmapped_license_types(counts, "report")[0].endswith("'Exchange': 2 (Acme 2)")


def test_an_unmapped_trial_or_pool_license_does_not_fail_the_run():
    licenses = [a_license(LicenseType="Exchange", IsTrial=True), a_license(LicenseType="Branding", UserID=None)]
    counts = lic.count_licenses(licenses, USERS, PERIOD, PRODUCTS)
    assert lc.check_unmapped_license_types(counts, "fail") == []
    assert lc.check_unmapped_license_types(counts, "report") == []


def test_unmapped_policy_is_checked():
    assert lc.check_unmapped_policy("fail") == "fail"
    with pytest.raises(ValueError, match=r"^unmapped_license_types 'warn' is not one of report, fail$"):
        lc.check_unmapped_license_types(lic.count_licenses([], [], PERIOD, PRODUCTS), "warn")
