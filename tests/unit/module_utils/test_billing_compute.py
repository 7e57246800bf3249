# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import random
from decimal import Decimal

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.effective_dates import (
    EFFECTIVE_DATE_POLICIES,
    EffectiveDate,
    EffectiveDateRefused,
    InvoicedPeriodRefused,
    NotBillingYet,
    agreement_term,
    effective_date,
    invoiced_effective_date,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.history import (
    addition_marker,
    addition_period,
    history_cancellations,
    is_late_charge,
    later_periods_billed,
    marked_period,
    period_additions,
    period_winner,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.invoice_text import (
    render_invoice_description,
    validate_template,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import MODES, Line, plan_line
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import (
    DEFAULT_UNIT,
    UNITS,
    bytes_to_quantity,
    exact_quantity,
    round_money,
    round_quantity,
    round_unit,
    to_decimal,
    to_json_number,
    to_json_value,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.payloads import (
    addition_changes,
    addition_fields,
    wire_fields,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import (
    Period,
    auto_billing_period,
    check_period_ended,
    parse_period,
    previous_period,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.pricing import Pricing, raw_cost, raw_price
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.totals import ACTIONS, BILLED_ACTIONS, summarise
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.usage import CompanyUsage, UsageRecord, aggregate
from ansible_collections.mbs.connectwise.plugins.module_utils.client import patch_operations
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import cw_datetime, parse_cw_date

D = Decimal
GIB = 2 ** 30
OCT = Period(2026, 10)


def rec(company="Acme", used=GIB, destination=None, cost=None, price=None, ref="usage[0]"):
    return UsageRecord(company, used, destination, None if cost is None else D(cost),
                       None if price is None else D(price), ref)


def usage(company="Acme", used=GIB, **kw):
    return aggregate([rec(company, used, **kw)])[company]


# ---------------------------------------------------------------- numbers / units


@pytest.mark.parametrize("raw, expected", [
    ("2.345", "2.35"), ("2.344999", "2.34"), ("2.355", "2.36"), ("0.005", "0.01"), ("0.00499", "0.00"),
    ("1", "1.00"), ("2.3450000000000001", "2.35"),
])
def test_round_money_and_quantity_half_up(raw, expected):
    assert round_money(D(raw)) == D(expected)
    assert str(round_quantity(D(raw))) == expected


@pytest.mark.parametrize("raw, expected", [("0.12345", "0.1235"), ("0.12344", "0.1234"), ("1", "1.0000")])
def test_round_unit_half_up_four_decimals(raw, expected):
    assert str(round_unit(D(raw))) == expected


@pytest.mark.parametrize("unit, used, expected", [
    ("GiB", 2 ** 30, "1.00"), ("GB", 10 ** 9, "1.00"), ("TiB", 2 ** 40, "1.00"), ("TB", 10 ** 12, "1.00"),
    ("GB", 2 ** 30, "1.07"), ("GiB", 10 ** 9, "0.93"), ("TiB", 2 ** 40 * 3 // 2, "1.50"),
    ("GiB", 0, "0.00"), ("GB", 5 * 10 ** 6, "0.01"),  # 0.005 GB exactly -> half-up
    ("GB", 5 * 10 ** 6 - 1, "0.00"), ("GiB", 2 ** 30 * 2345 // 1000 + 1, "2.35"),  # just over 2.345 GiB
    ("GiB", 123456 * 2 ** 30, "123456.00"), ("TiB", 2 ** 38, "0.25"),
])
def test_unit_conversions(unit, used, expected):
    assert str(bytes_to_quantity(used, unit)) == expected


def test_default_unit_is_gib_and_unknown_unit_refused():
    assert DEFAULT_UNIT == "GiB"
    assert bytes_to_quantity(GIB) == D("1.00")
    with pytest.raises(ValueError, match="'MiB'"):
        bytes_to_quantity(GIB, "MiB")


def test_huge_byte_counts_stay_exact():
    used = 10 ** 30 + 1
    # the default 28-digit context would round this; the module's own context keeps it exact
    assert exact_quantity(used, "GB") == D("1000000000000000000000.000000001")
    assert bytes_to_quantity(used, "GB") == D("1000000000000000000000.00")


@pytest.mark.parametrize("value, expected", [
    (1, D(1)), ("1.50", D("1.50")), (0.1, D("0.1")), (D("2.5"), D("2.5")), (" 3 ", D(3)),
])
def test_to_decimal_accepts(value, expected):
    assert to_decimal(value) == expected


@pytest.mark.parametrize("value, message", [
    (True, "not a number"), (None, "not a number"), ("abc", "not a number"), ([1], "not a number"),
    ("NaN", "finite"), ("Infinity", "finite"), (-1, "negative"), ("-0.01", "negative"),
])
def test_to_decimal_refuses(value, message):
    with pytest.raises(ValueError, match=message) as info:
        to_decimal(value, "rate")
    assert str(info.value).startswith("rate:")


@pytest.mark.parametrize("value, expected, kind", [
    (D("12.50"), 12.5, float), (D("1.00"), 1, int), (D("0.1235"), 0.1235, float), (D("0"), 0, int),
    (D("123456789.12"), 123456789.12, float), (None, None, type(None)),
])
def test_to_json_number(value, expected, kind):
    number = to_json_number(value)
    assert number == expected and isinstance(number, kind)


def test_to_json_number_refuses_precision_loss():
    with pytest.raises(ValueError, match="precision"):
        to_json_number(D("0.12345678901234567890123"))


def test_to_json_number_round_trips_every_4_decimal_value():
    rng = random.Random(7)
    for dummy in range(2000):
        value = D(rng.randrange(0, 10 ** 12)).scaleb(-4)
        assert D(repr(to_json_number(value))) == value


def test_to_json_value_converts_nested():
    out = to_json_value({"a": [D("1.50"), {"b": D("2")}], "d": datetime.date(2026, 10, 1), "s": "x"})
    assert out == {"a": [1.5, {"b": 2}], "d": "2026-10-01", "s": "x"}


# ---------------------------------------------------------------- periods


def test_period_fields():
    p = parse_period("2026-10")
    assert (p.year, p.month) == (2026, 10)
    assert p.first_day == datetime.date(2026, 10, 1)
    assert p.last_day == datetime.date(2026, 10, 31)
    assert p.label == "2026-10" == str(p)
    assert p.month_name == "October 2026"


@pytest.mark.parametrize("label, last", [("2024-02", 29), ("2026-02", 28), ("2026-04", 30), ("2026-12", 31),
                                         ("2000-02", 29), ("2100-02", 28)])
def test_period_last_day(label, last):
    assert parse_period(label).last_day.day == last


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "26-10", "2026/10", "October", "", None, 202610,
                                 "2026-10-01", "0000-10"])
def test_parse_period_refuses_with_value_in_message(bad):
    with pytest.raises(ValueError) as info:
        parse_period(bad)
    assert repr(bad) in str(info.value)


def test_parse_period_passes_period_through_and_strips():
    assert parse_period(OCT) is OCT
    assert parse_period(" 2026-10 ") == OCT


def test_period_constructor_validates():
    with pytest.raises(ValueError):
        Period(2026, 13)
    with pytest.raises(ValueError):
        Period(True, 1)


@pytest.mark.parametrize("today, expected", [
    (datetime.date(2026, 11, 1), "2026-10"), (datetime.date(2026, 11, 30), "2026-10"),
    (datetime.date(2027, 1, 2), "2026-12"), (datetime.datetime(2026, 3, 31, 23, 59), "2026-02"),
])
def test_previous_period(today, expected):
    assert previous_period(today).label == expected


@pytest.mark.parametrize("day, window, expected", [
    (1, 3, "2026-10"), (3, 3, "2026-10"), (4, 3, None), (30, 3, None), (5, 5, "2026-10"), (6, 5, None),
    (1, 1, "2026-10"), (2, 1, None),
])
def test_auto_billing_period(day, window, expected):
    result = auto_billing_period(datetime.date(2026, 11, day), window)
    assert (result.label if result else None) == expected


def test_auto_billing_january_bills_december():
    assert auto_billing_period(datetime.date(2027, 1, 1)) == Period(2026, 12)


@pytest.mark.parametrize("window", [0, 29, -1, True, "3"])
def test_auto_billing_window_validated(window):
    with pytest.raises(ValueError, match="window"):
        auto_billing_period(datetime.date(2026, 11, 1), window)


def test_period_contains_and_cw_dates():
    assert OCT.contains("2026-10-31T00:00:00Z")
    assert not OCT.contains(datetime.date(2026, 11, 1))
    assert parse_cw_date("2026-10-15T00:00:00Z") == datetime.date(2026, 10, 15)
    assert parse_cw_date("") is None and parse_cw_date(None) is None
    assert cw_datetime(datetime.date(2026, 10, 1)) == "2026-10-01T00:00:00Z"
    with pytest.raises(ValueError, match="'yesterday'"):
        parse_cw_date("yesterday")


# ---------------------------------------------------------------- aggregate


def test_aggregate_sums_per_company_and_sorts_destinations():
    records = [
        rec("Acme", 100, "S3", price="1.10", ref="r1"),
        rec("Globex", 5, None, price="0", ref="r2"),
        rec("Acme", 200, "Azure", price="2.20", ref="r3"),
        rec("Acme", 50, "S3", price="0.01", ref="r4"),
        rec("Acme", 7, None, price="0", ref="r5"),
    ]
    result = aggregate(records)
    assert list(result) == ["Acme", "Globex"]
    acme = result["Acme"]
    assert acme.used_bytes == 357
    assert acme.destinations == ("Azure", "S3")
    assert acme.price == D("3.31") and acme.cost is None
    assert acme.records == 4
    assert acme.bytes_by_destination == ((None, 7), ("Azure", 200), ("S3", 150))
    assert acme.source_refs == ("r1", "r3", "r4", "r5")
    assert result["Globex"].destinations == ()


def test_aggregate_empty():
    assert aggregate([]) == {}


def test_aggregate_refuses_partial_totals_naming_records():
    with pytest.raises(ValueError) as info:
        aggregate([rec(cost="1", ref="usage_file row 2"), rec(destination="B2", ref="usage_file row 3")])
    assert "'Acme'" in str(info.value) and "usage_file row 3" in str(info.value) and "cost" in str(info.value)


# ---------------------------------------------------------------- pricing


def test_pricing_converts_and_validates():
    p = Pricing("0.01", 0.05, {"S3": "0.02"})
    assert p.cost_per_unit == D("0.01") and p.price_per_unit == D("0.05")
    assert p.cost_rate("S3") == D("0.02") and p.cost_rate("B2") == D("0.01") and p.cost_rate(None) == D("0.01")
    with pytest.raises(ValueError, match="negative"):
        Pricing(cost_per_unit=-1)
    with pytest.raises(ValueError, match=r"cost_per_unit_by_destination\[S3\]"):
        Pricing(cost_per_unit_by_destination={"S3": "x"})
    with pytest.raises(ValueError, match="mapping"):
        Pricing(cost_per_unit_by_destination=[("S3", 1)])


# ---------------------------------------------------------------- plan_line


def test_average_cost_from_source_totals():
    u = usage(used=10 * GIB, cost="1.00", price="3.00")
    line = plan_line(u, "average_cost", "GiB", Pricing())
    assert line.quantity == D("10.00") and line.unit == "GiB"
    assert line.unit_cost == D("0.1000") and line.unit_price == D("0.3000")
    assert line.total_cost == D("1.00") and line.total_price == D("3.00")
    assert line.used_bytes == 10 * GIB and line.mode == "average_cost" and not line.no_usage


def test_average_cost_total_is_what_connectwise_invoices():
    # 3 GiB for 1.00: unit price 0.3333, ConnectWise invoices 3 x 0.3333 = 0.9999 -> 1.00
    line = plan_line(usage(used=3 * GIB, price="1.00", cost="1.00"), "average_cost")
    assert line.unit_price == D("0.3333")
    assert line.total_price == D("1.00")
    # 7 GiB for 100.00: 14.2857 x 7 = 99.9999 -> 100.00; 1000 GiB for 1.00: 0.0010 x 1000 = 1.00
    line = plan_line(usage(used=7 * GIB, price="100", cost="0"), "average_cost")
    assert (line.unit_price, line.total_price) == (D("14.2857"), D("100.00"))
    line = plan_line(usage(used=3000 * GIB, price="1.00", cost="0"), "average_cost")
    # 1/3000 = 0.000333.. -> 0.0003; 3000 x 0.0003 = 0.90: the invoiced amount, not the source's 1.00
    assert (line.unit_price, line.total_price) == (D("0.0003"), D("0.90"))


def test_average_cost_from_rates_with_destination_overrides():
    u = aggregate([rec(used=10 * GIB, destination="S3", ref="a"), rec(used=30 * GIB, destination="B2", ref="b")])
    pricing = Pricing(cost_per_unit="0.02", price_per_unit="0.05", cost_per_unit_by_destination={"B2": "0.005"})
    line = plan_line(u["Acme"], "average_cost", "GiB", pricing)
    # cost = 10 x 0.02 + 30 x 0.005 = 0.35 over 40 GiB -> 0.00875 -> 0.0088 (half-up)
    assert line.quantity == D("40.00")
    assert line.unit_cost == D("0.0088")
    assert line.total_cost == D("0.35")  # 40 x 0.0088 = 0.352
    assert line.unit_price == D("0.0500") and line.total_price == D("2.00")
    assert line.destinations == ("B2", "S3")


def test_rates_apply_to_exact_quantity_before_rounding():
    # 1.004 GiB x 10.00 = 10.04 (rounding the quantity first would give 10.00)
    used = int(D("1.004") * GIB)
    line = plan_line(usage(used=used), "total", "GiB", Pricing("0", "10"))
    assert line.total_price == D("10.04")


def test_source_totals_win_over_rates():
    line = plan_line(usage(used=GIB, cost="5", price="7"), "total", "GiB", Pricing("100", "100"))
    assert (line.total_cost, line.total_price) == (D("5.00"), D("7.00"))


def test_price_rate_applies_to_the_company_quantity():
    pricing = Pricing(cost_per_unit=0, price_per_unit="2")
    assert plan_line(usage(used=GIB), "total", "GiB", pricing).total_price == D("2.00")
    assert plan_line(usage(used=3 * GIB), "total", "GiB", pricing).total_price == D("6.00")


def test_total_mode_quantity_one():
    line = plan_line(usage(used=5 * GIB, cost="1.234", price="9.875"), "total", "GiB")
    assert line.quantity == D("1.00") and str(line.quantity) == "1.00"
    assert line.total_cost == D("1.23") and line.total_price == D("9.88")
    assert line.unit_cost == D("1.2300") and line.unit_price == D("9.8800")
    assert line.quantity * line.unit_price == line.total_price
    assert line.used_quantity == D("5.00")


def test_quantity_only_sends_no_money():
    line = plan_line(usage(used=GIB * 3 // 2), "quantity_only", "GiB")
    assert line.quantity == D("1.50")
    assert line.unit_cost is None and line.unit_price is None
    assert line.total_cost is None and line.total_price is None


def test_quantity_only_needs_no_rates():
    line = plan_line(usage(used=GIB), "quantity_only", "GiB", Pricing())
    assert line.quantity == D("1.00")


def test_missing_rates_name_the_company():
    with pytest.raises(ValueError, match="'Acme'.*no price total and no price per GiB"):
        plan_line(usage(used=GIB), "average_cost", "GiB", Pricing(cost_per_unit=0))
    with pytest.raises(ValueError, match="'Acme'.*no cost per TB is set for destination 'S3'"):
        plan_line(usage(used=GIB, destination="S3"), "total", "TB", Pricing(price_per_unit=1))


@pytest.mark.parametrize("mode", MODES)
def test_zero_usage_does_not_divide_by_zero(mode):
    line = plan_line(usage(used=0), mode, "GiB", Pricing(0, 0))
    assert line.used_quantity == D("0.00") and line.no_usage
    if mode != "quantity_only":
        assert line.total_price == 0 and line.total_cost == 0


def test_zero_usage_needs_no_rates():
    assert plan_line(usage(used=0), "average_cost", "GiB", Pricing()).no_usage


def test_average_cost_tiny_usage_with_total_warns_money_lost():
    line = plan_line(usage(used=1000, price="4.00", cost="0"), "average_cost")
    assert line.quantity == D("0.00") and line.unit_price == D("0.0000") and line.total_price == D("0.00")
    assert line.no_usage
    assert len(line.warnings) == 1 and "total price 4.00 cannot be billed" in line.warnings[0]


def test_total_mode_money_without_storage_is_usage():
    line = plan_line(usage(used=0, price="4.00", cost="1"), "total")
    assert not line.no_usage and line.total_price == D("4.00")


def test_plan_line_validates_mode_and_unit():
    with pytest.raises(ValueError, match="'avg'"):
        plan_line(usage(), "avg")
    with pytest.raises(ValueError, match="'gib'"):
        plan_line(usage(), "total", "gib")


def test_line_fields_go_to_the_wire_as_exact_numbers():
    line = plan_line(usage(used=GIB, destination="S3", price="1", cost="1"), "average_cost")
    assert line.quantity == D("1.00") and line.destinations == ("S3",) and line.unit == "GiB"
    assert to_json_value({"unit_price": line.unit_price})["unit_price"] == 1


# ---------------------------------------------------------------- property-style


def _random_company(rng, name):
    records = []
    with_totals = rng.random() < 0.5
    for i in range(rng.randint(1, 5)):
        used = rng.choice([0, rng.randrange(0, 10 ** 7), rng.randrange(0, 5 * 10 ** 13), GIB * rng.randint(0, 500)])
        cost = price = None
        if with_totals:
            cost = D(rng.randrange(0, 10 ** 6)).scaleb(-rng.choice([0, 2, 3, 4]))
            price = D(rng.randrange(0, 10 ** 6)).scaleb(-rng.choice([0, 2, 3, 4]))
        records.append(UsageRecord(name, used, rng.choice([None, "S3", "B2", "Wasabi"]), cost, price,
                                   "%s[%d]" % (name, i)))
    return records


def _random_pricing(rng):
    def rate():
        return D(rng.randrange(0, 10 ** 5)).scaleb(-rng.choice([2, 3, 4, 5]))
    return Pricing(rate(), rate(), {"S3": rate(), "B2": rate()})


def test_property_average_cost_bounds():
    """quantity x unit_price is within half a cent of total_price (ROUND2 of it), and total_price is
    within 0.005 + quantity x 0.00005 of the raw total (unit price rounding error x quantity)."""
    rng = random.Random(20261001)
    checked = 0
    for case in range(500):
        records = _random_company(rng, "c%d" % (case % 3))
        pricing = _random_pricing(rng)
        u = aggregate(records)[records[0].company]
        unit = rng.choice(list(UNITS))
        line = plan_line(u, "average_cost", unit, pricing)
        exact_price = raw_price(u, unit, pricing)
        exact_cost = raw_cost(u, unit, pricing)
        for unit_value, total, raw in ((line.unit_price, line.total_price, exact_price),
                                       (line.unit_cost, line.total_cost, exact_cost)):
            assert unit_value == unit_value.quantize(D("0.0001"))
            assert total == total.quantize(D("0.01"))
            assert abs(line.quantity * unit_value - total) <= D("0.005")
            assert total == round_money(line.quantity * unit_value)
            if line.quantity:
                checked += 1
                assert abs(total - raw) <= D("0.005") + line.quantity * D("0.00005")
            else:
                assert total == 0
    assert checked > 300


def test_property_modes_agree_on_quantity_and_totals():
    rng = random.Random(42)
    for case in range(300):
        records = _random_company(rng, "c1")
        pricing = _random_pricing(rng)
        unit = rng.choice(list(UNITS))
        u = aggregate(records)["c1"]
        avg, tot, qty = (plan_line(u, m, unit, pricing) for m in ("average_cost", "total", "quantity_only"))
        assert avg.quantity == qty.quantity == avg.used_quantity == tot.used_quantity
        assert avg.quantity == bytes_to_quantity(sum(r.used_bytes for r in records), unit)
        exact_price = raw_price(u, unit, pricing)
        assert tot.total_price == round_money(exact_price)
        assert tot.quantity * tot.unit_price == tot.total_price
        if u.price is not None:
            assert tot.total_price == round_money(sum(r.price for r in records))


def test_property_summary_equals_sum_of_lines():
    rng = random.Random(99)
    for case in range(200):
        results = []
        for n in range(rng.randint(0, 12)):
            records = _random_company(rng, "co%d" % n)
            mode = rng.choice(MODES)
            line = plan_line(aggregate(records)["co%d" % n], mode, rng.choice(["GiB", "GB"]),
                             _random_pricing(rng))
            result = dict(unit=line.unit, used_quantity=line.used_quantity, total_cost=line.total_cost,
                          total_price=line.total_price)
            result["action"] = rng.choice(ACTIONS)
            result["cancelled"] = rng.randint(0, 2)
            results.append(result)
        summary = summarise(results)
        billed = [r for r in results if r["action"] in BILLED_ACTIONS]
        assert summary["total_price"] == sum((r["total_price"] or 0 for r in billed), D(0))
        assert summary["total_cost"] == sum((r["total_cost"] or 0 for r in billed), D(0))
        for unit in ("GiB", "GB"):
            expected = sum((r["used_quantity"] for r in billed if r["unit"] == unit), D(0))
            assert summary["quantity"].get(unit, D(0)) == expected
        assert sum(summary["counts"][a] for a in ACTIONS) == len(results) == summary["companies"]
        assert summary["counts"]["cancelled"] == sum(r["cancelled"] for r in results)


# ---------------------------------------------------------------- templates


def _line(**kw):
    base = dict(company="Acme", quantity=D("12.50"), unit="GiB", unit_cost=D("0.0100"), unit_price=D("0.0500"),
                total_cost=D("0.13"), total_price=D("0.63"), used_bytes=0, destinations=("B2", "S3"),
                mode="average_cost", used_quantity=D("12.50"))
    base.update(kw)
    return Line(**base)


def test_render_every_placeholder():
    template = ("{company}|{company_name}|{period}|{month}|{quantity}|{unit}|{unit_price}|{total_price}|"
                "{destinations}|{{literal}}")
    text = render_invoice_description(template, _line(), "2026-10", "Acme Inc.")
    assert text == "Acme|Acme Inc.|2026-10|October 2026|12.50|GiB|0.0500|0.63|B2, S3|{literal}"


def test_render_format_spec_and_product():
    assert render_invoice_description("{quantity:.1f} {unit}", _line(), OCT, None) == "12.5 GiB"
    assert render_invoice_description("product", _line(), OCT, "x") is None
    assert render_invoice_description("{company_name}", _line(), OCT, None) == "Acme"


@pytest.mark.parametrize("template, message", [
    ("{customer} {company}", r"unknown placeholder \{customer\}"),
    ("{a}{b}", r"unknown placeholders \{a\}, \{b\}"),
    ("Backup {company", "malformed braces"),
    ("Backup company}", "malformed braces"),
    ("{}", "positional"),
    ("{0}", "positional"),
    ("{company.__class__}", "unknown placeholder"),
    ("{company[0]}", "unknown placeholder"),
    ("{company!r}", "conversion"),
    ("{quantity:{unit}}", "nested"),
    ("{company:d}", "not valid"),
    ("", "empty"),
    ("   ", "empty"),
    (None, "must be a string"),
])
def test_template_errors(template, message):
    with pytest.raises(ValueError, match=message):
        validate_template(template)


def test_template_price_placeholders_refused_in_quantity_only():
    assert validate_template("{quantity} {unit}", "quantity_only")
    with pytest.raises(ValueError, match=r"\{total_price\}, \{unit_price\}.*quantity_only"):
        validate_template("{unit_price} {total_price}", "quantity_only")
    assert validate_template("{unit_price}", "average_cost")


def test_template_length_limit():
    line = _line()
    assert len(render_invoice_description("x" * 6000, line, OCT, "A")) == 6000
    with pytest.raises(ValueError, match="6001 characters.*6000"):
        render_invoice_description("x" * 5998 + "{unit}", line, OCT, "A")


# ---------------------------------------------------------------- effective date


def test_effective_date_without_or_before_start():
    assert effective_date(OCT, None) == EffectiveDate(datetime.date(2026, 10, 1), None)
    assert effective_date("2026-10", datetime.date(2020, 1, 1)).date == datetime.date(2026, 10, 1)
    assert effective_date(OCT, "2026-10-01T00:00:00Z", "fail") == EffectiveDate(datetime.date(2026, 10, 1), None)


def test_effective_date_clamped_with_warning():
    eff = effective_date(OCT, "2026-10-15T00:00:00Z", "clamp")
    assert eff.date == datetime.date(2026, 10, 15)
    assert "2026-10-15" in eff.warning and "2026-10-01" in eff.warning
    assert effective_date(OCT, datetime.date(2026, 10, 31)).date == datetime.date(2026, 10, 31)


def test_effective_date_fail_policy_message():
    with pytest.raises(EffectiveDateRefused) as info:
        effective_date(OCT, datetime.date(2026, 10, 15), "fail")
    assert str(info.value).startswith(
        "The Effective Date: 10/1/2026 in agreement addition cannot precede the Billing Start Date: 10/15/2026")
    assert "effective_date_policy" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("policy", EFFECTIVE_DATE_POLICIES)
def test_not_billing_yet(policy):
    with pytest.raises(NotBillingYet) as info:
        effective_date(OCT, datetime.date(2026, 11, 1), policy)
    assert info.value.reason == "agreement not billing yet"
    assert "2026-11-01" in str(info.value)


def test_effective_date_bad_policy():
    with pytest.raises(ValueError, match="'later'"):
        effective_date(OCT, None, "later")


# ---------------------------------------------------------------- addition payloads


def test_addition_fields_average_cost_with_description():
    line = _line()
    eff = EffectiveDate(datetime.date(2026, 10, 1), None)
    fields = addition_fields(line, "OnlineBackup", eff, "Backup", "average_cost")
    assert fields == {
        "product": {"identifier": "OnlineBackup"}, "billCustomer": "Billable", "quantity": D("12.50"),
        "unitCost": D("0.0100"), "unitPrice": D("0.0500"), "effectiveDate": "2026-10-01T00:00:00Z",
        "invoiceDescription": "Backup",
    }
    assert wire_fields(fields)["quantity"] == 12.5 and wire_fields(fields)["unitPrice"] == 0.05


def test_addition_fields_quantity_only_and_product_description():
    line = _line(mode="quantity_only", unit_cost=None, unit_price=None, total_cost=None, total_price=None)
    fields = addition_fields(line, "OnlineBackup", datetime.date(2026, 10, 15), None, "quantity_only")
    assert "unitCost" not in fields and "unitPrice" not in fields and "invoiceDescription" not in fields
    assert fields["effectiveDate"] == "2026-10-15T00:00:00Z"


def test_addition_fields_checks_mode_and_product():
    with pytest.raises(ValueError, match="planned in mode average_cost"):
        addition_fields(_line(), "P", OCT.first_day, None, "total")
    with pytest.raises(ValueError, match="product identifier"):
        addition_fields(_line(), "", OCT.first_day)


def test_addition_changes_compares_numbers_dates_references():
    wanted = addition_fields(_line(), "OnlineBackup", OCT.first_day, "Backup")
    existing = {"id": 9, "product": {"id": 3, "identifier": "onlinebackup", "_info": {}}, "billCustomer": "Billable",
                "quantity": 12.5, "unitCost": 0.01, "unitPrice": 0.05, "effectiveDate": "2026-10-01T00:00:00Z",
                "invoiceDescription": "Backup", "extPrice": 0.63}
    assert addition_changes(existing, wanted) == {}
    changed = dict(existing, quantity=12.51, effectiveDate="2026-10-02T00:00:00Z", invoiceDescription=None,
                   unitPrice=None)
    assert addition_changes(changed, wanted) == {
        "quantity": D("12.50"), "effectiveDate": "2026-10-01T00:00:00Z", "invoiceDescription": "Backup",
        "unitPrice": D("0.0500")}
    assert addition_changes(dict(existing, product={"identifier": "Other"}), wanted) == {
        "product": {"identifier": "OnlineBackup"}}
    assert "quantity" in addition_changes(dict(existing, quantity="abc"), wanted)
    assert "quantity" in addition_changes(dict(existing, quantity=True), wanted)


def test_changes_go_to_the_wire_as_exact_numbers():
    ops = patch_operations(wire_fields({"quantity": D("12.50"), "unitPrice": D("0.0500")}))
    assert ops == [{"op": "replace", "path": "quantity", "value": 12.5},
                   {"op": "replace", "path": "unitPrice", "value": 0.05}]


ADDITIONS = [
    {"id": 1, "product": {"id": 5, "identifier": "OnlineBackup"}, "effectiveDate": "2026-08-01T00:00:00Z",
     "cancelledDate": "2026-08-31T00:00:00Z"},
    {"id": 2, "product": {"id": 5, "identifier": "OnlineBackup"}, "effectiveDate": "2026-09-01T00:00:00Z",
     "cancelledDate": None},
    {"id": 3, "product": {"id": 6, "identifier": "Other"}, "effectiveDate": "2026-09-01T00:00:00Z"},
    {"id": 4, "product": {"id": 5, "identifier": "OnlineBackup"}, "effectiveDate": "2026-10-01T00:00:00Z"},
    {"id": 5, "product": {"id": 5, "identifier": "OnlineBackup"}, "effectiveDate": "2026-07-01T00:00:00Z",
     "cancelledDate": ""},
    {"id": 6, "product": {"id": 5, "identifier": "OnlineBackup"}, "effectiveDate": "2026-11-01T00:00:00Z"},
]


def cancelled(additions, product, period, starts):
    return [(c.addition["id"], c.day) for c in history_cancellations(additions, product, period, starts)]


@pytest.mark.parametrize("product", [5, "OnlineBackup", "onlinebackup"])
def test_earlier_open_additions_are_cancelled_the_day_before_the_period(product):
    # ... and October's own addition (id 4) is a one-time charge, since November (id 6) is billed already.
    assert cancelled(ADDITIONS, product, OCT, datetime.date(2026, 10, 1)) == [
        (5, datetime.date(2026, 9, 30)), (2, datetime.date(2026, 9, 30)), (4, datetime.date(2026, 10, 31))]


def test_a_clamped_effective_date_cancels_the_day_before_it_and_never_the_period_s_own():
    without_november = [a for a in ADDITIONS if a["id"] != 6]
    assert cancelled(without_november, 5, OCT, datetime.date(2026, 10, 15)) == [
        (5, datetime.date(2026, 10, 14)), (2, datetime.date(2026, 10, 14))]
    assert cancelled(ADDITIONS, 99, OCT, datetime.date(2026, 10, 1)) == []


def test_period_additions():
    assert [a["id"] for a in period_additions(ADDITIONS, 5, OCT)] == [4]
    assert [a["id"] for a in period_additions(ADDITIONS, "OnlineBackup", "2026-08")] == [1]


def marked_addition(addition_id, period, effective=None, cancelled_on=None, product=5):
    row = {"id": addition_id, "product": {"id": product}, "description": addition_marker(period),
           "effectiveDate": (effective or period + "-01") + "T00:00:00Z"}
    if cancelled_on:
        row["cancelledDate"] = cancelled_on + "T00:00:00Z"
    return row


def test_the_marker_names_the_period_whatever_the_effective_date():
    late = marked_addition(7, "2026-10", effective="2026-12-01", cancelled_on="2026-12-31")
    unmarked_december = {"id": 8, "product": {"id": 5}, "effectiveDate": "2026-12-01T00:00:00Z"}
    assert addition_period(late) == OCT and is_late_charge(late)
    assert period_additions([late, unmarked_december], 5, OCT) == [late]
    assert period_additions([late, unmarked_december], 5, "2026-12") == [unmarked_december]
    assert marked_period({"description": "Online backup"}) is None
    assert not is_late_charge(marked_addition(9, "2026-10", effective="2026-10-15"))


def test_lowest_id_wins_among_marked_duplicates_and_hand_made_ones_are_refused():
    ours, theirs = marked_addition(11, "2026-10"), marked_addition(12, "2026-10")
    assert period_winner([ours, theirs], OCT) == (ours, [theirs])
    assert period_winner([ours], OCT) == (ours, []) and period_winner([], OCT) == (None, [])
    by_hand = {"id": 10, "product": {"id": 5}, "effectiveDate": "2026-10-01T00:00:00Z"}
    with pytest.raises(ValueError, match="ids 10, 11"):
        period_winner([by_hand, ours], OCT)


def test_marked_months_end_with_their_month_and_dates_only_come_forward():
    july = marked_addition(1, "2026-07")  # open since July: bills every month until cancelled
    august = marked_addition(2, "2026-08", cancelled_on="2026-08-20")  # already earlier: left alone
    september = marked_addition(3, "2026-09", cancelled_on="2026-10-31")  # too late: brought forward
    assert cancelled([july, august, september], 5, OCT, datetime.date(2026, 10, 1)) == [
        (1, datetime.date(2026, 7, 31)), (3, datetime.date(2026, 9, 30))]


def test_a_backfilled_month_is_one_time_and_a_later_month_is_never_touched():
    november = marked_addition(5, "2026-11")
    october = marked_addition(4, "2026-10")
    assert later_periods_billed([november, october], 5, OCT)
    assert not later_periods_billed([november, october], 5, "2026-11")
    assert cancelled([november, october], 5, OCT, datetime.date(2026, 10, 1)) == [(4, datetime.date(2026, 10, 31))]
    assert cancelled([november, october], 5, "2026-11", datetime.date(2026, 11, 1)) == [
        (4, datetime.date(2026, 10, 31))]


def test_late_charges_are_left_alone():
    late = marked_addition(6, "2026-09", effective="2026-12-01", cancelled_on="2026-12-31")
    assert cancelled([late], 5, OCT, datetime.date(2026, 10, 1)) == []


def test_an_invoiced_month_fails_or_moves_to_the_next_invoice_date():
    first = EffectiveDate(datetime.date(2026, 10, 1), None)
    agreement = {"nextInvoiceDate": "2026-12-01T00:00:00Z", "prorateFlag": False}
    with pytest.raises(InvoicedPeriodRefused) as refused:
        invoiced_effective_date(first, OCT, agreement, "fail")
    assert "already been invoiced" in str(refused.value) and "invoiced through 2026-11-30" in str(refused.value)
    assert "invoiced_period_policy: next_invoice_date" in str(refused.value)
    moved = invoiced_effective_date(first, OCT, agreement, "next_invoice_date")
    assert moved.date == datetime.date(2026, 12, 1) and moved.one_time and "already invoiced" in moved.warning
    assert invoiced_effective_date(first, OCT, dict(agreement, prorateFlag=True), "fail") == first
    assert invoiced_effective_date(first, OCT, {"nextInvoiceDate": "2026-10-01T00:00:00Z"}, "fail") == first
    line = plan_line(usage(used=GIB, price="1", cost="1"), "average_cost")
    fields = addition_fields(line, 5, moved, period=OCT)
    assert fields["description"] == "mbs.connectwise billing 2026-10"
    assert fields["effectiveDate"] == "2026-12-01T00:00:00Z" and fields["cancelledDate"] == "2026-12-31T00:00:00Z"
    assert fields["product"] == {"id": 5}


# ---------------------------------------------------------------- summarise


def test_summarise_counts_and_totals():
    results = [
        {"company": "a", "action": "created", "unit": "GiB", "used_quantity": D("1.50"), "total_cost": D("0.10"),
         "total_price": D("1.00"), "cancelled": [11, 12]},
        {"company": "b", "action": "unchanged", "unit": "GiB", "quantity": 2.25, "total_cost": "0.20",
         "total_price": 2.01, "cancelled": 1},
        {"company": "c", "action": "updated", "unit": "GB", "used_quantity": D("3"), "total_cost": None,
         "total_price": None},
        {"company": "d", "action": "skipped", "unit": "GiB", "used_quantity": D("9"), "total_price": D("9")},
        {"company": "e", "action": "failed", "total_price": D("100")},
    ]
    s = summarise(results)
    assert s["counts"] == {"created": 1, "updated": 1, "unchanged": 1, "skipped": 1, "failed": 1, "cancelled": 3}
    assert s["total_cost"] == D("0.30") and s["total_price"] == D("3.01")
    assert s["quantity"] == {"GiB": D("3.75"), "GB": D("3")}
    assert s["companies"] == 5


def test_summarise_empty_and_bad_action():
    s = summarise([])
    assert s["total_price"] == D("0.00") and s["counts"]["created"] == 0 and s["quantity"] == {}
    with pytest.raises(ValueError, match="'deleted'"):
        summarise([{"company": "x", "action": "deleted"}])
    with pytest.raises(ValueError, match="total_price"):
        summarise([{"company": "x", "action": "created", "total_price": "abc"}])


def test_company_usage_is_constructible_directly():
    u = CompanyUsage("X", GIB, (), None, D("2"), 1, ((None, GIB),))
    assert plan_line(u, "total", "GiB", Pricing(cost_per_unit=1)).total_cost == D("1.00")


@pytest.mark.parametrize("period, allow, expected", [
    (Period(2026, 10), False, False), (Period(2025, 1), False, False), (Period(2026, 11), True, True)])
def test_check_period_ended_accepts_past_and_allowed_current(period, allow, expected):
    assert check_period_ended(period, datetime.date(2026, 11, 10), allow) is expected


@pytest.mark.parametrize("period, allow", [
    (Period(2026, 11), False), (Period(2026, 12), True), (Period(2027, 6), True)])
def test_check_period_ended_refuses_future_and_unrequested_current(period, allow):
    with pytest.raises(ValueError, match=period.label):
        check_period_ended(period, datetime.date(2026, 11, 10), allow)


def test_check_period_ended_year_boundary():
    assert check_period_ended(Period(2026, 12), datetime.date(2027, 1, 2)) is False
    with pytest.raises(ValueError):
        check_period_ended(Period(2027, 1), datetime.date(2027, 1, 2))


OCT = Period(2026, 10)


@pytest.mark.parametrize("row", [
    {"agreementStatus": "Expired", "endDate": "2026-10-31T00:00:00Z"},  # read in December
    {"agreementStatus": "Active", "startDate": "2026-10-31T00:00:00Z"},
    {"agreementStatus": "Expired", "endDate": "2026-10-01T00:00:00Z"},
    {"agreementStatus": "Active", "noEndingDateFlag": True, "endDate": "2020-01-01T00:00:00Z"},
    {"agreementStatus": "Cancelled", "cancelledFlag": True, "dateCancelled": "2026-11-15T00:00:00Z"},
    {"agreementStatus": "Active"},
    # ConnectWise reads an agreement that has not started yet Inactive (the current month, billed on request).
    {"agreementStatus": "Inactive", "startDate": "2026-10-20T00:00:00Z"},
])
def test_agreement_term_covers_period_whatever_the_status_today(row):
    assert agreement_term(dict(row, id=7), OCT) == (True, None)


def test_agreement_cancelled_inside_period_is_billed_with_a_warning_naming_the_date():
    covers, warning = agreement_term({"id": 7, "agreementStatus": "Cancelled", "cancelledFlag": True,
                                      "dateCancelled": "2026-10-20T00:00:00Z"}, OCT)
    assert covers and "2026-10-20" in warning and "7" in warning


@pytest.mark.parametrize("row, text", [
    ({"startDate": "2026-11-01T00:00:00Z"}, "starts on 2026-11-01"),
    ({"agreementStatus": "Expired", "endDate": "2026-09-30T00:00:00Z"}, "ended on 2026-09-30"),
    ({"cancelledFlag": True, "dateCancelled": "2026-09-30T00:00:00Z"}, "cancelled on 2026-09-30"),
    ({"agreementStatus": "Cancelled"}, "cancelled"),
    ({"agreementStatus": "Expired"}, "expired"),
    ({"agreementStatus": "Inactive"}, "inactive"),
    ({"agreementStatus": "Inactive", "startDate": "2026-09-01T00:00:00Z"}, "inactive"),
])
def test_agreement_term_not_covering_gives_the_reason(row, text):
    covers, reason = agreement_term(row, OCT)
    assert not covers and text in reason
