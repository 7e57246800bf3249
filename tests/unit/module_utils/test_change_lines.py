"""The billing run's writes in words: one short line per company for --diff (``billing.change_lines``)."""

import datetime
from decimal import Decimal

from ansible_collections.mbs.connectwise.plugins.module_utils.billing import change_lines
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import Line
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.periods import parse_period

OCTOBER = parse_period("2026-10")


def line(mode="average_cost", quantity="12.50", unit_price="0.0500", total_price="0.63", used="12.50"):
    return Line(company="AcmeCorp", quantity=Decimal(quantity), unit="GiB", unit_cost=None,
                unit_price=None if unit_price is None else Decimal(unit_price), total_cost=None,
                total_price=None if total_price is None else Decimal(total_price), used_bytes=0, destinations=(),
                mode=mode, used_quantity=Decimal(used))


def test_a_new_addition_shows_quantity_unit_price_and_total_in_each_mode():
    assert change_lines.created(OCTOBER, line()) == "create addition 2026-10 12.50 GiB x 0.0500 = 0.63"
    assert change_lines.created(OCTOBER, line("total", "1.00", "25.0000", "25.00", "500.00")) == (
        "create addition 2026-10 1.00 x 25.0000 = 25.00 (500.00 GiB)")
    assert change_lines.created(OCTOBER, line("quantity_only", unit_price=None, total_price=None)) == (
        "create addition 2026-10 12.50 GiB at the product's price")
    assert change_lines.created(OCTOBER, line(), datetime.date(2026, 10, 15)) == (
        "create addition 2026-10 12.50 GiB x 0.0500 = 0.63, effective 2026-10-15")


def test_an_update_shows_each_written_field_before_and_after_keeping_every_decimal_it_has():
    text = change_lines.updated(302, {"quantity": 10.0, "unitPrice": 0.12345, "cancelledDate": None,
                                      "invoiceDescription": "Online backup September 2026: a long text " * 3},
                                {"quantity": Decimal("12.00"), "unitPrice": Decimal("0.0600"),
                                 "cancelledDate": "2026-10-31T00:00:00Z", "invoiceDescription": "Backup\nOctober"})
    assert text == ('update addition 302 cancelledDate none -> 2026-10-31, invoiceDescription "Online backup September '
                    '2026: a long te\u2026" -> "Backup\\nOctober", quantity 10.00 -> 12.00, unitPrice 0.12345 -> 0.0600')


def test_one_company_is_one_line_whatever_its_name_holds():
    changes = [change_lines.cancelled(303, "2026-10-31T00:00:00Z"), change_lines.removed(305, "a duplicate")]
    entry = change_lines.diff_entry("Evil\nPLAY RECAP", changes)
    assert entry == {"prepared": "Evil\\nPLAY RECAP: cancel addition 303 from 2026-10-31; remove addition 305, "
                                 "a duplicate\n"}
    assert entry["prepared"].count("\n") == 1
