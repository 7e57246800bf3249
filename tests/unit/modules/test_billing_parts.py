"""mbs.connectwise.billing: a month checked once, then billed in parts (``month_check``, ``only_companies``,
``approved_stops``), as the billing role's ``billing_batch_size`` does; merged back by ``parts.merge_month``.

The parts together must do what one call does: MSP360 read once, each company billed once, the month's
run-level checks judged on the whole month, the rename check on the whole month's unknown usage.
"""

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils.billing import parts
from ansible_collections.mbs.connectwise.plugins.modules import billing

from ..sandbox_client import run_module
from .test_billing import ADDITIONS_G, AGREEMENTS, GIB, additions, bare, cw, slept
from .test_billing_safety import NOVEMBER_TODAY, by_company, cw_writes, mbs_args, msp360, three, writes

# The billing tests' fixtures, shared: imported, pytest finds them here (flake8 would call them unused).
__all__ = ["bare", "cw", "slept", "three"]

ADDITIONS_H = AGREEMENTS + "/14/additions"


def mbs_reads(cw):
    return [call for call in cw.calls() if call[1].startswith("mbs/api/Billing")]


def month_check(cw, failing=False, **extra):
    """The month's check; ``failing``: some company fails in it (the parts still run, and fail it again)."""
    result, failed = run_module(billing, mbs_args(month_check=True, **extra), check_mode=True)
    assert failed is failing and "results" in result, result.get("msg")
    return result


def part(check, companies, **extra):
    """One part of the month: the month's usage as read by its check, its companies, the stops it let through."""
    params = {"period": "2026-11", "today": NOVEMBER_TODAY, "cost_per_gb": "0.02", "usage": check["usage"],
              "usage_complete": check["usage_complete"], "only_companies": companies,
              "approved_stops": check["stops"]}
    params.update(extra)
    return run_module(billing, params, diff=True)


def test_the_parts_of_a_month_bill_what_its_check_predicted_reading_msp360_once(three, warned):
    msp360(three, {"AcmeCorp": 120 * GIB, "Globex": 100 * GIB, "Hooli": 90 * GIB, "Unmapped Co": 5 * GIB},
           ("AcmeCorp", "Globex", "Hooli", "Unmapped Co"), month="2026-11")
    check = month_check(three)
    assert cw_writes(three) == [] and len(mbs_reads(three)) == 1
    assert check["usage_complete"] is True and check["stops"] == []
    assert sorted(r["company"] for r in check["usage"]) == ["AcmeCorp", "Globex", "Hooli", "Unmapped Co"]
    assert all(isinstance(r["price"], str) for r in check["usage"])          # exact text, never a float
    # The check leaves each company's warnings to the call that bills it.
    assert not any("Unmapped Co" in w for w in warned())

    first, failed = part(check, ["AcmeCorp", "Globex"])
    assert not failed, first.get("msg")
    second, failed = part(check, ["Hooli", "Unmapped Co"])
    assert not failed, second.get("msg")
    assert len(mbs_reads(three)) == 1                                        # the parts never read MSP360
    assert [r["company"] for r in first["results"]] == ["AcmeCorp", "Globex"]
    assert [r["company"] for r in second["results"]] == ["Hooli", "Unmapped Co"]
    assert any("Unmapped Co" in w for w in warned())                          # from the part that billed it

    merged = parts.merge_month(check, [first, second])
    predicted = dict((r["company"], (r["action"], r["total_price"], r["changes"])) for r in check["results"])
    done = dict((r["company"], (r["action"], r["total_price"], r["changes"])) for r in merged["results"])
    assert done == predicted
    assert merged["totals"]["total_price"] == check["totals"]["total_price"]
    assert merged["totals"]["counts"] == check["totals"]["counts"]
    assert merged["totals"]["unmapped"] == check["totals"]["unmapped"]
    assert merged["changed"] is True and len(merged["diff"]) == 3          # AcmeCorp, Globex and Hooli changed
    assert merged["requests"]["mbs"] == check["requests"]["mbs"]            # the check's read, the only one
    three.log.clear()
    again, failed = run_module(billing, mbs_args())
    assert not failed and again["changed"] is False and cw_writes(three) == []


def test_a_part_writes_and_reports_only_its_companies(three):
    msp360(three, {"AcmeCorp": 120 * GIB, "Globex": 150 * GIB}, month="2026-11")   # Hooli absent: it stops
    check = month_check(three)
    assert check["stops"] == ["Hooli"]
    three.log.clear()
    result, failed = part(check, ["AcmeCorp", "Nobody"])
    assert not failed, result.get("msg")
    rows = by_company(result)
    assert sorted(rows) == ["AcmeCorp", "Nobody"]
    assert rows["Nobody"]["action"] == "skipped" and rows["Nobody"]["reason"].startswith("not in this run: ")
    # Globex (in the usage) and Hooli (absent from it) belong to other parts: not read further, not written.
    assert writes(three) == [("POST", AGREEMENTS + "/12/additions"), ("PATCH", AGREEMENTS + "/12/additions/301")]
    assert [call for call in three.calls("GET") if call[1] in (ADDITIONS_G, ADDITIONS_H)] == []
    assert result["totals"]["companies"] == 2


def test_a_part_is_not_judged_as_a_mass_change_for_the_stops_the_month_let_through(three):
    # Globex and Hooli leave: 2 of the 3 billing companies (67%), within a share of 70% for the month,
    # but all of a part that holds only them.
    msp360(three, {"AcmeCorp": 100 * GIB}, month="2026-11")
    check = month_check(three, mass_change_share="0.7")
    assert sorted(check["stops"]) == ["Globex", "Hooli"]
    refused, failed = part(check, ["Globex", "Hooli"], mass_change_share="0.7", approved_stops=[])
    assert failed and refused["refused"]["rule"] == "mass change" and cw_writes(three) == []
    result, failed = part(check, ["Globex", "Hooli"], mass_change_share="0.7")
    assert not failed, result.get("msg")
    assert [(r["company"], r["action"]) for r in result["results"]] == [("Globex", "cancelled"), ("Hooli", "cancelled")]


def test_a_stop_the_month_did_not_let_through_is_judged_in_the_part(three):
    msp360(three, {"AcmeCorp": 100 * GIB}, month="2026-11")
    check = month_check(three, mass_change_share="0.7")
    # Neither stop let through: both are judged with the part's own companies (2 of 2: a mass change).
    refused, failed = part(check, ["Globex", "Hooli"], approved_stops=["AcmeCorp"])
    assert failed and refused["refused"]["rule"] == "mass change"
    assert [c["company"] for c in refused["refused"]["changes"]] == ["Globex", "Hooli"] and cw_writes(three) == []
    # Globex's let through: Hooli's alone is judged, and one company stopping is never a mass change.
    result, failed = part(check, ["Globex", "Hooli"], approved_stops=["globex"])
    assert not failed, result.get("msg")


def test_the_rename_check_of_a_part_sees_the_whole_months_unknown_usage(three):
    msp360(three, {"AcmeCorp": 100 * GIB, "Globex Corp": 100 * GIB, "Hooli": 100 * GIB},
           ("AcmeCorp", "Globex Corp", "Hooli"), month="2026-11")
    check = month_check(three, failing=True)
    assert by_company(check)["Globex"]["action"] == "failed"
    # Globex's part does not hold the unknown "Globex Corp" (another part reports it), yet Globex is not cancelled.
    result, failed = part(check, ["Globex"])
    assert failed
    globex = by_company(result)["Globex"]
    assert globex["action"] == "failed" and "'Globex Corp' (100.00 GiB)" in globex["reason"]
    assert [w for w in writes(three) if w[1].startswith(ADDITIONS_G)] == []
    assert all(a.get("cancelledDate") is None for a in additions(three, ADDITIONS_G))


@pytest.mark.parametrize("params, check_mode, text", [
    (dict(month_check=True), False, "month_check is the check of a month that is then billed in parts: run it in "
                                    "check mode"),
    (dict(month_check=True, only_companies=["AcmeCorp"]), True, "month_check checks the whole month: it cannot be "
                                                                "given only_companies"),
    (dict(only_companies=[]), False, "only_companies is empty, so this call would bill no company"),
    (dict(only_companies=["AcmeCorp", ""]), False, "only_companies must be a list of ConnectWise company identifiers"),
])
def test_parts_options_that_cannot_work_are_refused_before_any_request(three, params, check_mode, text):
    three.log.clear()
    result, failed = run_module(billing, mbs_args(**params), check_mode=check_mode)
    assert failed and text in result["msg"], result["msg"]
    assert three.log == []


def test_merging_the_parts_of_a_month_reports_each_company_once():
    check = {"period": "2026-11", "unit": "GiB", "results": [
        {"company": "A", "action": "created", "unit": "GiB", "used_quantity": "1.00", "total_price": "1.00"},
        {"company": "B", "action": "created", "unit": "GiB", "used_quantity": "2.00", "total_price": "2.00"},
        {"company": "C", "action": "skipped", "unit": "GiB", "used_bytes": 0}]}
    first = {"changed": True, "results": [dict(check["results"][0], addition_id=1)], "requests": {"connectwise": {"GET": 3}}}
    stopped = {"msg": "HTTP 503 from ConnectWise", "requests": {"connectwise": {"GET": 1}}}
    merged = parts.merge_month(check, [first, stopped], 3)
    rows = dict((r["company"], r) for r in merged["results"])
    assert rows["A"]["addition_id"] == 1 and rows["A"]["action"] == "created"
    assert rows["B"]["action"] == rows["C"]["action"] == "failed"
    assert rows["B"]["reason"].startswith("not billed: batch 2 of 3 stopped before billing (HTTP 503 from ConnectWise)")
    assert merged["totals"]["counts"]["failed"] == 2 and merged["totals"]["total_price"] == "1.00"
    assert merged["requests"] == {"connectwise": {"GET": 4}}
    with pytest.raises(ValueError, match="company A is in the results of batches 1 and 2"):
        parts.merge_month(check, [first, first])
    assert parts.progress_line([first, stopped], check, 3) == (
        "Billing 2026-11: batch 2 of 3 STOPPED before billing: HTTP 503 from ConnectWise; 1 batch after it does "
        "not run")
    assert parts.progress_line([first], check, 3) == (
        "Billing 2026-11: batch 1 of 3 - 1 company: 1 created, 0 updated, 0 unchanged, 0 skipped, 0 failed; "
        "1 of 3 companies done")


def test_a_company_billed_for_several_products_is_one_company_of_one_batch():
    """A company's license and storage-account lines are lines of one company: merged by company and product."""
    storage = {"company": "A", "product": "MBS-STORAGE", "action": "created", "unit": "GiB", "used_quantity": "1.00",
               "total_price": "1.00"}
    licenses = {"company": "A", "product": "MBS-LIC-SERVER", "kind": "license", "action": "created",
                "unit": "licenses", "used_quantity": "2", "total_price": "20.00"}
    other = {"company": "B", "product": "MBS-STORAGE", "action": "unchanged", "unit": "GiB", "used_quantity": "3.00",
             "total_price": "3.00"}
    check = {"period": "2026-11", "unit": "GiB", "results": [storage, licenses, other]}
    first = {"changed": True, "results": [dict(storage, addition_id=1), dict(licenses, addition_id=2)]}
    second = {"changed": False, "results": [dict(other, addition_id=3)]}
    merged = parts.merge_month(check, [first, second], 2)
    assert [(r["company"], r["product"], r["addition_id"]) for r in merged["results"]] == [
        ("A", "MBS-STORAGE", 1), ("A", "MBS-LIC-SERVER", 2), ("B", "MBS-STORAGE", 3)]
    assert merged["totals"]["total_price"] == "24.00"
    assert parts.progress_line([first], check, 2).endswith("; 1 of 2 companies done")
    assert "batch 1 of 2 - 1 company: 2 created" in parts.progress_line([first], check, 2)
    with pytest.raises(ValueError, match=r"company A \(product MBS-STORAGE\) is in the results of batches 1 and 2"):
        parts.merge_month(check, [first, first])
