"""mbs.connectwise.billing: bad or partial data never rewrites an invoice (the in-process sandbox).

Each case ends with the writes ConnectWise received (none where the data cannot be right) and a
message that names what is wrong and what to do. The world and helpers are ``test_billing``'s.
"""

import json

import pytest

from tests.sandbox import rules

from ansible_collections.mbs.connectwise.plugins.modules import billing

from ..sandbox_client import run_module
from .test_billing import (
    ACME,
    ADDITIONS,
    ADDITIONS_G,
    AGREEMENTS,
    CREATED,
    GIB,
    GLOBEX,
    HOOLI,
    MBS_ARGS,
    add_addition,
    add_agreement,
    add_company,
    additions,
    args,
    bare,
    cw,
    posted,
    slept,
)

# The billing tests' fixtures, shared: imported, pytest finds them here (flake8 would call them unused).
__all__ = ["bare", "cw", "slept"]

NOVEMBER_TODAY = "2026-12-02"
ADDITIONS_H = AGREEMENTS + "/14/additions"


def cw_writes(cw):
    """The writes ConnectWise received (MSP360's login and billing read are POST and PUT too)."""
    return [call for call in cw.writes() if not call[1].startswith("mbs/")]


def writes(cw):
    return [(method, path) for method, path, _query in cw_writes(cw)]


def by_company(result):
    return {r["company"]: r for r in result["results"]}


@pytest.fixture
def three(cw):
    """AcmeCorp, Globex and Hooli, each with October billed by this module (100 GiB at 0.10: 10.00 a month)."""
    add_company(cw, GLOBEX)
    add_company(cw, HOOLI)
    add_agreement(cw, 13, GLOBEX)
    add_agreement(cw, 14, HOOLI)
    for addition_id, agreement_id in ((301, 12), (302, 13), (303, 14)):
        add_addition(cw, addition_id, agreement_id, quantity=100.0, marker="2026-10")
    return cw


def msp360(cw, usage, companies=("AcmeCorp", "Globex", "Hooli"), month="2026-10"):
    """MSP360 with one user per company and ``usage`` ``{company: bytes}`` for ``month`` (TotalCost 0.10 a GiB)."""
    users = [{"ID": "u%d" % i, "Email": "%d@example.test" % i, "Company": name} for i, name in enumerate(companies)]
    user_of = {user["Company"]: user["ID"] for user in users}
    cw.app.mbs.load({
        "companies": [{"Id": "c%d" % i, "Name": name} for i, name in enumerate(companies)],
        "users": users,
        "usage": {month: [{"UserId": user_of[name], "AverageSpace": used, "TotalCost": used / GIB / 10}
                          for name, used in usage.items()]},
    })


def mbs_args(**extra):
    base = {"period": "2026-11", "today": NOVEMBER_TODAY, "cost_per_gb": "0.02", "mbs": MBS_ARGS}
    base.update(extra)
    return base


# ---------------------------------------------------------------- an empty month


@pytest.mark.parametrize("check_mode", [False, True])
def test_an_empty_msp360_month_after_a_billed_month_stops_before_any_write(three, check_mode):
    msp360(three, {})  # MSP360 knows the companies, but has no usage for November yet
    result, failed = run_module(billing, mbs_args(), check_mode=check_mode)
    assert failed
    assert "MSP360 reports no usage at all for 2026-11" in result["msg"]
    assert "not ready in MSP360 yet" in result["msg"] and "confirm_mass_change: true" in result["msg"]
    assert result["refused"]["rule"] == "empty month"
    assert sorted((c["company"], c["change"], c["additions"]) for c in result["refused"]["changes"]) == [
        ("AcmeCorp", "cancel", [301]), ("Globex", "cancel", [302]), ("Hooli", "cancel", [303])]
    assert all(c["total_price"] == "10.00" for c in result["refused"]["changes"])
    assert "results" not in result and result["changed"] is False
    assert cw_writes(three) == []
    assert all("cancelledDate" not in a for path in (ADDITIONS, ADDITIONS_G, ADDITIONS_H) for a in additions(three, path))


@pytest.mark.parametrize("answer", [[], None], ids=["empty-list", "empty-body"])
def test_an_msp360_answer_of_no_billing_rows_stops_before_any_write(three, answer):
    msp360(three, {"AcmeCorp": 100 * GIB}, month="2026-11")

    def no_rows(method, path, body):
        return (200, answer) if path == "mbs/api/Billing" else None

    three.refuse = no_rows
    result, failed = run_module(billing, mbs_args())
    # Not billing data: the MSP360 client refuses the answer, naming the call, before any ConnectWise write.
    assert failed and "api/Billing" in result["msg"] and "HTTP 200" in result["msg"], result["msg"]
    assert cw_writes(three) == []


def test_a_month_really_without_usage_is_billed_when_confirmed(three):
    msp360(three, {})
    result, failed = run_module(billing, mbs_args(confirm_mass_change=True))
    assert not failed, result["msg"]
    assert {r["company"]: r["action"] for r in result["results"]} == {
        "AcmeCorp": "cancelled", "Globex": "cancelled", "Hooli": "cancelled"}
    assert sorted(writes(three)) == [("PATCH", ADDITIONS + "/301"), ("PATCH", ADDITIONS_G + "/302"),
                                     ("PATCH", ADDITIONS_H + "/303")]


# ---------------------------------------------------------------- a mass change


@pytest.fixture
def four(three):
    add_company(three, {"id": 4, "identifier": "Initech", "name": "Initech"})
    add_agreement(three, 15, {"id": 4, "identifier": "Initech"})
    add_addition(three, 304, 15, quantity=100.0, marker="2026-10")
    return three


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_month_that_would_stop_many_companies_is_refused_listing_what_it_would_do(four, check_mode):
    # MSP360 has November for two of the four companies only (a month it has not finished filling)
    msp360(four, {"AcmeCorp": 100 * GIB, "Globex": 100 * GIB}, ("AcmeCorp", "Globex", "Hooli", "Initech"),
           month="2026-11")
    result, failed = run_module(billing, mbs_args(), check_mode=check_mode)
    assert failed
    assert "would stop or lower the billing of 2 of the 4 companies" in result["msg"]
    assert "50%, more than mass_change_share 0.1" in result["msg"]
    assert "Hooli: cancel addition 303 (2026-10: 100.00 GiB x 0.1000 = 10.00 a month) - no usage in 2026-11" in result["msg"]
    refused = result["refused"]
    assert (refused["rule"], refused["companies_billing"], refused["share_limit"]) == ("mass change", 4, "0.1")
    assert sorted(c["company"] for c in refused["changes"]) == ["Hooli", "Initech"]
    assert cw_writes(four) == []

    confirmed, failed = run_module(billing, mbs_args(confirm_mass_change=True), check_mode=check_mode)
    assert not failed, confirmed["msg"]
    actions = {r["company"]: r["action"] for r in confirmed["results"]}
    assert actions == {"AcmeCorp": "created", "Globex": "created", "Hooli": "cancelled", "Initech": "cancelled"}


def test_a_larger_share_lets_the_same_month_through(four):
    msp360(four, {"AcmeCorp": 100 * GIB, "Globex": 100 * GIB}, ("AcmeCorp", "Globex", "Hooli", "Initech"),
           month="2026-11")
    result, failed = run_module(billing, mbs_args(mass_change_share="50%"))
    assert not failed, result["msg"]
    assert sorted(r["action"] for r in result["results"]) == ["cancelled", "cancelled", "created", "created"]


def test_one_company_leaving_is_never_a_mass_change(three):
    msp360(three, {"AcmeCorp": 100 * GIB, "Globex": 100 * GIB}, month="2026-11")
    result, failed = run_module(billing, mbs_args())
    assert not failed, result["msg"]
    assert by_company(result)["Hooli"]["action"] == "cancelled"


def test_a_re_send_that_lowers_billed_months_is_a_mass_change(four):
    usage = [{"company": name, "used_bytes": 10 * GIB} for name in ("AcmeCorp", "Globex", "Hooli")]
    result, failed = run_module(billing, args(usage=usage))
    assert failed and result["refused"]["rule"] == "mass change"
    assert [c["change"] for c in result["refused"]["changes"]] == ["lower"] * 3
    assert ("lower addition 301 (2026-10: 100.00 GiB x 0.1000 = 10.00 a month) to 10.00 GiB x 0.1000 = 1.00"
            in result["msg"])
    assert cw_writes(four) == []


# ---------------------------------------------------------------- partial sources


def test_a_partial_re_send_with_send_zero_touches_only_the_companies_it_lists(three):
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 100 * GIB}], send_zero=True))
    assert not failed, result["msg"]
    results = by_company(result)
    assert results["AcmeCorp"]["action"] == "unchanged"
    for name in ("Globex", "Hooli"):
        assert (results[name]["action"], results[name]["reason"]) == ("skipped", "not in this run's usage")
        assert results[name]["quantity"] is None and results[name]["used_bytes"] == 0
    assert result["totals"]["not_in_usage"] == 2
    assert cw_writes(three) == [] and result["changed"] is False
    # nothing of the others is read beyond the agreement list
    assert three.calls("GET", ADDITIONS_G) == [] and three.calls("GET", ADDITIONS_H) == []
    assert [a["quantity"] for a in additions(three, ADDITIONS_G)] == [100]


def test_send_zero_bills_a_listed_company_at_zero_and_reports_the_correction(three):
    usage = [{"company": "AcmeCorp", "used_bytes": 0}]
    result, failed = run_module(billing, args(usage=usage, send_zero=True))
    assert not failed, result["msg"]
    acme = by_company(result)["AcmeCorp"]
    assert (acme["action"], acme["changed_fields"]) == ("updated", ["quantity", "unitCost", "unitPrice"])
    assert acme["correction"] == {"addition_id": 301, "how": "zeroed", "quantity": "100.00", "total_price": "10.00",
                                  "total_cost": "2.00"}
    assert writes(three) == [("PATCH", ADDITIONS + "/301")]


# ---------------------------------------------------------------- plausibility


def test_absurd_usage_fails_that_company_naming_the_values_and_the_option(cw):
    add_company(cw, GLOBEX)
    add_agreement(cw, 13, GLOBEX)
    usage = [{"company": "AcmeCorp", "used_bytes": 1e18}, {"company": "Globex", "used_bytes": 100 * GIB}]
    result, failed = run_module(billing, args(usage=usage))
    assert failed
    acme = by_company(result)["AcmeCorp"]
    assert acme["action"] == "failed"
    assert ("the usage of 2026-10 is 1,000,000,000,000,000,000 bytes (931322574.62 GiB), above max_company_usage "
            "1,125,899,906,842,624 bytes: nothing was written for this company") in acme["reason"]
    assert "raise max_company_usage" in acme["reason"]
    assert by_company(result)["Globex"]["action"] == "created"
    assert writes(cw) == [("POST", ADDITIONS_G)]
    assert cw.calls("GET", ADDITIONS) == []  # refused before its additions were read


def test_the_bound_is_an_option_and_per_company(cw):
    usage = [{"company": "AcmeCorp", "used_bytes": 600 * GIB}]
    result, failed = run_module(billing, args(usage=usage, max_company_usage="500 GiB"))
    assert failed and "above max_company_usage 536,870,912,000 bytes" in result["msg"]
    result, failed = run_module(billing, args(usage=usage, max_company_usage="500 GiB",
                                              companies={"AcmeCorp": {"max_company_usage": "1 TiB"}}))
    assert not failed, result["msg"]
    assert len(posted(cw)) == 1


def test_usage_that_grew_too_much_since_the_previous_month_fails_that_company(cw):
    add_addition(cw, 280, effective="2026-09-01T00:00:00Z", quantity=100.0, marker="2026-09")
    usage = [{"company": "AcmeCorp", "used_bytes": 1250 * GIB}]
    result, failed = run_module(billing, args(usage=usage))
    assert failed
    reason = by_company(result)["AcmeCorp"]["reason"]
    assert ("the usage of 2026-10 is 1250.00 GiB, 12.5 times 2026-09's 100.00 GiB (addition 280), above max_growth 10: "
            "nothing was written for this company") in reason
    assert cw_writes(cw) == []
    result, failed = run_module(billing, args(usage=usage, max_growth="20"))
    assert not failed, result["msg"]
    assert writes(cw) == [("POST", ADDITIONS), ("PATCH", ADDITIONS + "/280")]


def test_a_line_whose_money_rounds_to_zero_is_a_warning(cw, warned):
    # MSP360's TotalCost of a few cents over a huge quantity: the unit price rounds to 0.0000
    usage = [{"CompanyName": "AcmeCorp", "AverageSpace": 900 * 1024 * GIB, "TotalCost": "0.04"}]
    result, failed = run_module(billing, args(usage=usage, max_growth="0"))
    assert not failed, result["msg"]
    acme = by_company(result)["AcmeCorp"]
    assert acme["total_price"] == "0.00" and acme["total_cost"] != "0.00"
    assert any("921600.00 GiB bills a total price of 0.00: the price per GiB" in w for w in acme["warnings"])
    assert any(w.startswith("AcmeCorp: 921600.00 GiB bills a total price of 0.00") for w in warned())


@pytest.mark.parametrize("option, value, text", [
    ("max_growth", "abc", "max_growth: 'abc' is not a number"),
    ("max_growth", "0.5", "max_growth: '0.5' must be more than 1"),
    ("max_company_usage", "1 XB", "max_company_usage: '1 XB' is not a size"),
    ("mass_change_share", "150%", "mass_change_share: '150%' is more than the whole"),
    ("price_per_gb", "abc", "price_per_gb: 'abc' is not a number"),
    ("cost_per_gb_by_destination", {"Wasabi": "abc"}, "cost_per_gb_by_destination[Wasabi]: 'abc' is not a number"),
    ("companies", {"AcmeCorp": {"price_per_gb": "abc"}}, "companies[AcmeCorp].price_per_gb: 'abc' is not a number"),
    ("companies", {"AcmeCorp": {"max_growth": "lots"}}, "companies[AcmeCorp].max_growth: 'lots' is not a number"),
])
def test_bad_safety_and_money_options_name_the_option_and_the_value(cw, option, value, text):
    result, failed = run_module(billing, args(**{option: value}))
    assert failed and text in result["msg"], result["msg"]
    assert cw.log == []


# ---------------------------------------------------------------- corrections


@pytest.mark.parametrize("policy, write", [("remove", "DELETE"), ("zero", "PATCH")])
def test_usage_corrected_to_zero_removes_the_billed_month(three, policy, write):
    msp360(three, {"AcmeCorp": 100 * GIB, "Globex": 100 * GIB, "Hooli": 0})
    params = mbs_args(period="2026-10", today="2026-11-02", zero_usage_correction=policy)
    result, failed = run_module(billing, params, diff=True)
    assert not failed, result["msg"]
    hooli = by_company(result)["Hooli"]
    assert hooli["correction"] == {"addition_id": 303, "how": "removed" if policy == "remove" else "zeroed",
                                   "quantity": "100.00", "total_price": "10.00", "total_cost": "2.00"}
    assert writes(three) == [(write, ADDITIONS_H + "/303")]
    assert result["totals"]["corrected"] == {"companies": 1, "total_price": "10.00", "total_cost": "2.00"}
    if policy == "remove":
        assert hooli["action"] == "cancelled" and hooli["addition_id"] is None
        assert "2026-10's addition 303 (100.00 GiB, price 10.00) removed" in hooli["reason"]
        assert additions(three, ADDITIONS_H) == []
        assert result["diff"] == [{"prepared": "Hooli: remove addition 303, 2026-10's usage corrected to 0\n"}]
    else:
        assert (hooli["action"], hooli["changed_fields"]) == ("updated", ["quantity"])
        assert [a["quantity"] for a in additions(three, ADDITIONS_H)] == [0]
    three.log.clear()
    again, failed = run_module(billing, params)
    assert not failed and not again["changed"] and cw_writes(three) == []
    assert by_company(again)["Hooli"]["reason"] == "no usage"


def test_a_hand_made_addition_of_a_month_corrected_to_zero_is_left_with_a_warning(cw):
    add_addition(cw, 301, quantity=100.0)  # no marker: made by hand
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 0}]))
    assert not failed, result["msg"]
    acme = by_company(result)["AcmeCorp"]
    assert acme["correction"] is None and acme["reason"] == "no usage"
    assert any("made by hand" in w and "left as it is" in w for w in acme["warnings"])
    assert cw_writes(cw) == []


# ---------------------------------------------------------------- renames


@pytest.fixture
def renamed(three):
    """Globex is "Globex Corp" in MSP360 now; two more companies ConnectWise does not know appear too."""
    msp360(three, {"AcmeCorp": 100 * GIB, "Globex Corp": 100 * GIB, "Hooli": 100 * GIB, "Zeta Ltd": GIB,
                   "Glob Industries": GIB},
           ("AcmeCorp", "Globex Corp", "Hooli", "Zeta Ltd", "Glob Industries"), month="2026-11")
    return three


def test_a_renamed_company_is_not_cancelled_it_fails_naming_the_closest_unknown_names(renamed, warned):
    result, failed = run_module(billing, mbs_args())
    assert failed
    globex = by_company(result)["Globex"]
    assert globex["action"] == "failed"
    assert ("Globex holds an open addition but is not in the usage of 2026-11, while usage of 3 companies "
            "ConnectWise does not know appears: 'Globex Corp' (100.00 GiB), 'Glob Industries' (1.00 GiB), "
            "'Zeta Ltd' (1.00 GiB)") in globex["reason"]
    assert "company_map: {'Globex Corp': 'Globex'}" in globex["reason"]
    assert [w for w in writes(renamed) if w[1].startswith(ADDITIONS_G)] == []
    assert by_company(result)["AcmeCorp"]["action"] == "created"
    # the unmapped usage, in money: 102 GiB at MSP360's 0.10 a GiB
    assert result["totals"]["unmapped"] == {"companies": 3, "used_bytes": 102 * GIB, "quantity": "102.00",
                                            "total_price": "10.20", "total_cost": "2.04", "unpriced": 0}
    assert any("the usage ConnectWise has no company for is 102.00 GiB, price 10.20" in w for w in warned())

    mapped, failed = run_module(billing, mbs_args(company_map={"Globex Corp": "Globex"}))
    assert not failed, mapped["msg"]
    assert by_company(mapped)["Globex"]["action"] == "created"


def test_company_map_keys_equal_after_folding_are_an_error_naming_both(cw):
    result, failed = run_module(billing, args(company_map={"Globex Corp": "Globex", "globex  corp": "Globex"}))
    assert failed
    assert "'Globex Corp' and 'globex  corp' name the same usage company" in result["msg"]
    assert cw.log == []


# ---------------------------------------------------------------- agreements replaced inside a month


def test_an_agreement_replaced_inside_the_month_bills_the_month_once_on_the_new_one(bare, warned):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, endDate="2026-10-15T00:00:00Z", noEndingDateFlag=False)
    add_agreement(bare, 15, ACME, startDate="2026-10-16T00:00:00Z", billStartDate="2026-10-16T00:00:00Z")
    result, failed = run_module(billing, args())
    assert not failed, result["msg"]
    acme = by_company(result)["AcmeCorp"]
    assert (acme["action"], acme["agreement_id"], acme["replaced_agreements"]) == ("created", 15, [12])
    assert any("agreement 15 replaced agreement 12 inside 2026-10" in w and "billed once, on agreement 15" in w
               for w in acme["warnings"])
    assert posted(bare) == [dict(CREATED, effectiveDate="2026-10-16T00:00:00Z")]
    assert [p for _m, p in writes(bare)] == [AGREEMENTS + "/15/additions"]


def test_two_agreements_covering_the_same_day_still_fail_with_no_write(bare):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, endDate="2026-10-16T00:00:00Z", noEndingDateFlag=False)
    add_agreement(bare, 15, ACME, startDate="2026-10-16T00:00:00Z")
    result, failed = run_module(billing, args())
    assert failed and "2 active agreements" in result["msg"] and "cover the same days of 2026-10" in result["msg"]
    assert cw_writes(bare) == []


def test_a_month_already_billed_on_the_replaced_agreement_is_not_billed_again(bare):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, endDate="2026-10-15T00:00:00Z", noEndingDateFlag=False)
    add_agreement(bare, 15, ACME, startDate="2026-10-16T00:00:00Z")
    add_addition(bare, 301, 12, marker="2026-10")
    result, failed = run_module(billing, args())
    assert failed
    assert "2026-10 is already billed on agreement 12 (addition 301)" in result["msg"]
    assert cw_writes(bare) == []


# ---------------------------------------------------------------- history edges


def test_a_late_charge_names_the_earlier_addition_already_invoiced_for_the_month(bare):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, prorateFlag=False)
    # September's addition, still open when ConnectWise invoiced the agreement through November
    add_addition(bare, 280, effective="2026-09-01T00:00:00Z", quantity=400.0, unit_price=0.05, marker="2026-09")
    with bare.store.lock:
        rules.invoice_through(bare.store, 12, "2026-11-30")
    result, failed = run_module(billing, args(invoiced_period_policy="next_invoice_date", max_growth="0"))
    assert not failed, result["msg"]
    acme = by_company(result)["AcmeCorp"]
    assert acme["invoiced_moved"] is True
    assert any("2026-10 was invoiced already (the agreement is invoiced through 2026-11-30) with "
               "addition 280 (2026-09: 400.00 GiB x 0.0500 = 20.00 a month) still open on it, so this one-time charge of 50.00 bills "
               "2026-10 a second time: credit the customer 20.00" in w for w in acme["warnings"])


def test_a_month_billed_after_a_later_month_ended_is_one_time_even_without_later_additions(cw):
    # November ended without an addition (no usage leaves none): October billed now cannot stay open into it.
    result, failed = run_module(billing, args(today=NOVEMBER_TODAY))
    assert not failed, result["msg"]
    assert by_company(result)["AcmeCorp"]["backfill"] is True
    assert posted(cw) == [dict(CREATED, cancelledDate="2026-10-31T00:00:00Z")]


def test_the_latest_ended_month_is_not_a_backfill(cw):
    result, failed = run_module(billing, args())
    assert not failed, result["msg"]
    assert by_company(result)["AcmeCorp"]["backfill"] is False
    assert posted(cw) == [CREATED]


# ---------------------------------------------------------------- names on one line


def test_a_newline_in_a_company_name_never_starts_a_line_of_output(cw, warned):
    forged = "Evil\nPLAY RECAP *********\nlocalhost : ok=1 changed=0 unreachable=0 failed=0"
    msp360(cw, {"AcmeCorp": 100 * GIB, forged: GIB}, ("AcmeCorp", forged))
    result, failed = run_module(billing, mbs_args(period="2026-10", today="2026-11-02"))
    assert not failed, result["msg"]
    evil = [r for r in result["results"] if r["company"].startswith("Evil")][0]
    assert evil["company"] == "Evil\\nPLAY RECAP *********\\nlocalhost : ok=1 changed=0 unreachable=0 failed=0"
    texts = list(warned()) + [json.dumps(r) for r in result["results"]]
    assert any("Evil\\nPLAY RECAP" in w for w in warned())
    for text in texts:
        assert "\n" not in text and "\r" not in text


def test_a_small_company_is_not_judged_by_its_growth(cw):
    # a first month of a few days' backups, then the first full month: twenty times more, and plausible
    add_addition(cw, 280, effective="2026-09-01T00:00:00Z", quantity=4.0, marker="2026-09")
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 80 * GIB}]))
    assert not failed, result["msg"]
    assert by_company(result)["AcmeCorp"]["action"] == "created"
