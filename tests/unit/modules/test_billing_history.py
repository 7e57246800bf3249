"""mbs.connectwise.billing: the history of an agreement's additions, on the in-process sandbox.

The period's addition is found by its marker; an unmarked one (made by hand, or by an earlier
version) is adopted and marked; duplicates of a period are settled by the lowest id whoever made them;
a month ConnectWise has already invoiced is refused or moved to the next invoice; companies absent from
the usage have their open addition stopped; a cost mode that needs a rate MSP360 cannot give fails
before any request. The world and helpers are ``test_billing``'s.
"""

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
    MARKER,
    MBS_ARGS,
    OCTOBER,
    TODAY,
    add_addition,
    add_agreement,
    add_company,
    additions,
    args,
    bare,
    cw,
    posted,
    seed_mbs,
    slept,
)

# The billing tests' fixtures, shared: imported, pytest finds them here (flake8 would call them unused).
__all__ = ["bare", "cw", "slept"]


def writes(cw):
    """``(method, path)`` of every write, in order."""
    return [(method, path) for method, path, _query in cw.writes()]


def touched(cw, path):
    """Every request on ``path`` or below it."""
    return [call for call in cw.log if call[1] == path or call[1].startswith(path + "/")]


# ---------------------------------------------------------------- an addition without the marker


@pytest.mark.parametrize("quantity, changed", [(500.0, ["description"]), (400.0, ["description", "quantity"])])
def test_an_unmarked_addition_of_the_period_is_adopted_and_marked_never_doubled(cw, quantity, changed):
    # made by hand (or by a version without the marker): its description is the product's
    hand_made = add_addition(cw, 301, quantity=quantity)
    assert not hand_made["description"].startswith(MARKER)
    result, failed = run_module(billing, args())
    assert not failed, result
    line = result["results"][0]
    assert (line["action"], line["addition_id"], line["changed_fields"]) == ("updated", 301, changed)
    assert writes(cw) == [("PATCH", ADDITIONS + "/301")]
    [(_method, _path, operations)] = cw.sent
    assert {"op": "replace", "path": "description", "value": OCTOBER} in operations
    assert len(operations) == len(changed)
    [stored] = additions(cw)
    assert (stored["id"], stored["description"], stored["quantity"]) == (301, OCTOBER, 500)

    cw.log.clear()
    again, failed = run_module(billing, args())
    assert not failed and not again["changed"] and cw.writes() == []
    assert again["results"][0]["action"] == "unchanged" and again["results"][0]["addition_id"] == 301


def test_an_unmarked_addition_of_an_earlier_month_is_not_the_periods(cw):
    add_addition(cw, 280, effective="2026-09-01T00:00:00Z")
    result, failed = run_module(billing, args())
    assert not failed, result
    assert writes(cw) == [("POST", ADDITIONS), ("PATCH", ADDITIONS + "/280")]
    assert result["results"][0]["action"] == "created" and result["results"][0]["cancelled"] == [280]
    assert cw.get(ADDITIONS, 280)["description"] != OCTOBER


# ---------------------------------------------------------------- two additions of one period


@pytest.mark.parametrize("check_mode", [False, True])
def test_two_marked_additions_of_the_period_keep_the_lowest_id(cw, check_mode):
    add_addition(cw, 301, marker="2026-10")
    add_addition(cw, 305, marker="2026-10")
    result, failed = run_module(billing, args(), check_mode=check_mode, diff=True)
    assert not failed, result
    line = result["results"][0]
    assert (line["action"], line["addition_id"], line["removed"]) == ("unchanged", 301, [305])
    assert result["changed"] is True
    assert result["diff"] == [{"prepared": "AcmeCorp: remove addition 305, a duplicate of 2026-10's addition 301 "
                                           "(the lowest id is kept)\n"}]
    assert line["changes"] == ["remove addition 305, a duplicate of 2026-10's addition 301 (the lowest id is kept)"]
    if check_mode:
        assert cw.writes() == [] and len(additions(cw)) == 2
        return
    assert writes(cw) == [("DELETE", ADDITIONS + "/305")]
    assert [a["id"] for a in additions(cw)] == [301]
    cw.log.clear()
    again, failed = run_module(billing, args())
    assert not failed and not again["changed"] and cw.writes() == []


def test_a_hand_made_addition_among_marked_ones_fails_the_company_with_no_write(cw):
    add_company(cw, GLOBEX)
    add_agreement(cw, 13, GLOBEX)
    add_addition(cw, 301)
    add_addition(cw, 305, marker="2026-10")
    usage = [{"company": "AcmeCorp", "used_bytes": 500 * GIB}, {"company": "Globex", "used_bytes": 100 * GIB}]
    result, failed = run_module(billing, args(usage=usage))
    assert failed
    by_company = {r["company"]: r for r in result["results"]}
    assert by_company["AcmeCorp"]["action"] == "failed" and by_company["AcmeCorp"]["removed"] == []
    assert "2 additions of the product bill 2026-10 (ids 301, 305)" in by_company["AcmeCorp"]["reason"]
    assert "nothing was written" in by_company["AcmeCorp"]["reason"]
    assert by_company["Globex"]["action"] == "created"
    assert touched(cw, ADDITIONS) and [w for w in writes(cw) if w[1].startswith(ADDITIONS)] == []
    assert sorted(a["id"] for a in additions(cw)) == [301, 305]


# ---------------------------------------------------------------- overlapping runs


@pytest.mark.parametrize("their_quantity, action", [(500, "unchanged"), (400, "updated")])
def test_a_run_that_committed_first_keeps_its_addition_and_ours_is_removed(cw, their_quantity, action):
    theirs, ours = [], []

    def other_run_commits_first(method, path, body):
        if method == "POST" and path == ADDITIONS and not theirs:
            # the other run's POST reaches ConnectWise just before ours: its addition has the lower id
            theirs.append(cw.add(path, **dict(body, quantity=their_quantity))["id"])
        return None

    def note_ours(method, path, body):
        if method == "POST" and path == ADDITIONS:
            ours.append(max(a["id"] for a in additions(cw)))

    cw.refuse, cw.after = other_run_commits_first, note_ours
    result, failed = run_module(billing, args())
    assert not failed, result
    line = result["results"][0]
    assert theirs[0] < ours[0]
    assert (line["action"], line["addition_id"], line["removed"]) == (action, theirs[0], ours)
    assert any("another run billed 2026-10 at the same time" in w for w in line["warnings"])
    [kept] = additions(cw)
    assert (kept["id"], kept["quantity"], kept["description"]) == (theirs[0], 500, OCTOBER)
    assert ("DELETE", "%s/%d" % (ADDITIONS, ours[0])) in writes(cw)
    assert result["changed"] is True


def test_a_run_that_committed_just_after_ours_has_its_addition_removed(cw):
    theirs = []
    cw.after = lambda method, path, body: theirs.append(cw.add(path, **body)["id"]) if method == "POST" else None
    result, failed = run_module(billing, args())
    assert not failed, result
    line = result["results"][0]
    [kept] = additions(cw)
    assert (line["action"], line["addition_id"], line["removed"]) == ("created", kept["id"], theirs)
    assert kept["id"] < theirs[0]
    assert writes(cw) == [("POST", ADDITIONS), ("DELETE", "%s/%d" % (ADDITIONS, theirs[0]))]


# ---------------------------------------------------------------- a month already invoiced


def invoice_just_before_our_post(cw, agreement_id=12, through="2026-11-30"):
    """ConnectWise invoices the agreement between the run's agreement read and its POST."""
    def refuse(method, path, body):
        if method == "POST" and path.endswith("/additions"):
            with cw.store.lock:
                rules.invoice_through(cw.store, agreement_id, through)
        return None  # the sandbox answers itself: 400, "already been invoiced"
    cw.refuse = refuse


def test_a_month_invoiced_behind_the_runs_back_moves_to_the_next_invoice_date_once(bare):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, prorateFlag=False)
    invoice_just_before_our_post(bare)
    result, failed = run_module(billing, args(invoiced_period_policy="next_invoice_date"))
    assert not failed, result
    line = result["results"][0]
    assert (line["action"], line["invoiced_moved"], line["effective_date"]) == ("created", True, "2026-12-01")
    assert any("already invoiced" in w and "2026-12-01" in w for w in line["warnings"])
    # refused, the agreement read again for its next invoice date, re-sent moved as a one-time charge
    assert posted(bare) == [CREATED, dict(CREATED, effectiveDate="2026-12-01T00:00:00Z",
                                          cancelledDate="2026-12-31T00:00:00Z")]
    assert len(bare.calls("GET", AGREEMENTS + "/12")) == 1
    [stored] = additions(bare)
    assert (stored["effectiveDate"], stored["cancelledDate"], stored["description"]) == (
        "2026-12-01T00:00:00Z", "2026-12-31T00:00:00Z", OCTOBER)
    assert line["addition_id"] == stored["id"]

    bare.refuse = None
    bare.log.clear()
    again, failed = run_module(billing, args(invoiced_period_policy="next_invoice_date"))
    assert not failed and not again["changed"] and bare.writes() == []
    assert again["results"][0]["action"] == "unchanged" and again["results"][0]["invoiced_moved"] is True


def test_a_month_invoiced_behind_the_runs_back_fails_the_company_by_default(bare):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, prorateFlag=False)
    invoice_just_before_our_post(bare)
    result, failed = run_module(billing, args())
    assert failed
    line = result["results"][0]
    assert line["action"] == "failed"
    assert "Since this period has already been invoiced" in line["reason"]
    assert "invoiced_period_policy: next_invoice_date" in line["reason"]
    assert len(posted(bare)) == 1 and additions(bare) == []


@pytest.mark.parametrize("policy", ["fail", "next_invoice_date"])
def test_an_invoiced_month_the_agreement_shows_is_predicted_in_check_mode(bare, policy):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, prorateFlag=False, nextInvoiceDate="2026-12-01T00:00:00Z")
    predicted, predicted_failed = run_module(billing, args(invoiced_period_policy=policy), check_mode=True)
    assert bare.writes() == []
    real, failed = run_module(billing, args(invoiced_period_policy=policy))
    assert (predicted_failed, failed) == (policy == "fail", policy == "fail")
    assert predicted["results"][0]["action"] == real["results"][0]["action"]
    if policy == "fail":
        assert "already been invoiced" in real["results"][0]["reason"] and bare.writes() == []
    else:
        assert real["results"][0]["effective_date"] == predicted["results"][0]["effective_date"] == "2026-12-01"
        # predicted from the agreement: one POST, already moved
        assert posted(bare) == [dict(CREATED, effectiveDate="2026-12-01T00:00:00Z",
                                     cancelledDate="2026-12-31T00:00:00Z")]


# ---------------------------------------------------------------- companies absent from the usage


@pytest.fixture
def absent(cw):
    """Globex has an agreement and September's open addition, but no record in October's usage."""
    add_company(cw, GLOBEX)
    add_agreement(cw, 13, GLOBEX)
    add_addition(cw, 280, agreement_id=13, effective="2026-09-01T00:00:00Z", marker="2026-09")
    return cw


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_company_absent_from_a_complete_usage_has_its_open_addition_cancelled(absent, check_mode):
    # Inline usage lists only some companies unless declared complete: only then does absence mean "no usage".
    result, failed = run_module(billing, args(usage_complete=True), check_mode=check_mode)
    assert not failed, result
    by_company = {r["company"]: r for r in result["results"]}
    globex = by_company["Globex"]
    assert globex["action"] == "cancelled" and globex["cancelled"] == [280]
    assert "absent from the usage of 2026-10" in globex["reason"]
    assert (globex["used_bytes"], globex["usage_company"]) == (0, None)
    assert by_company["AcmeCorp"]["action"] == "created"
    assert result["totals"]["counts"]["cancelled"] == 1 and result["changed"] is True
    if check_mode:
        assert absent.writes() == []
        return
    assert [w for w in writes(absent) if w[1].startswith(ADDITIONS_G)] == [("PATCH", ADDITIONS_G + "/280")]
    assert absent.get(ADDITIONS_G, 280)["cancelledDate"] == "2026-09-30T00:00:00Z"
    absent.log.clear()
    again, failed = run_module(billing, args(usage_complete=True))
    assert not failed and not again["changed"] and absent.writes() == []
    assert "Globex" not in {r["company"] for r in again["results"]}


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_company_absent_from_a_partial_usage_is_left_as_it_is_and_listed(absent, check_mode):
    result, failed = run_module(billing, args(), check_mode=check_mode)
    assert not failed, result
    by_company = {r["company"]: r for r in result["results"]}
    globex = by_company["Globex"]
    assert (globex["action"], globex["reason"], globex["agreement_id"]) == ("skipped", "not in this run's usage", 13)
    assert globex["cancelled"] == [] and result["totals"]["not_in_usage"] == 1
    assert result["usage_complete"] is False
    # its agreement's additions are not even read, let alone written
    assert touched(absent, AGREEMENTS + "/13") == []
    assert "cancelledDate" not in absent.get(ADDITIONS_G, 280)
    assert by_company["AcmeCorp"]["action"] == "created"


@pytest.mark.parametrize("extra", [{"absent_companies": "keep"}, {"companies": {"globex": {"skip": True}}}],
                         ids=["keep", "skip"])
def test_an_absent_company_is_left_untouched_with_keep_or_skip(absent, extra):
    result, failed = run_module(billing, args(**extra))
    assert not failed, result
    assert [r["company"] for r in result["results"]] == ["AcmeCorp"]
    assert touched(absent, AGREEMENTS + "/13") == []
    assert "cancelledDate" not in absent.get(ADDITIONS_G, 280)


# ---------------------------------------------------------------- a rate MSP360 cannot give


@pytest.mark.parametrize("extra, names", [
    ({}, "cost_per_gb"),
    ({"companies": {"AcmeCorp": {"cost_mode": "quantity_only"}}}, "cost_per_gb"),
    ({"cost_mode": "quantity_only", "companies": {"Globex": {"cost_mode": "average_cost"}}}, "companies[Globex]: "),
    ({"cost_mode": "total", "cost_per_gb": "0.02", "mbs": dict(MBS_ARGS, total_cost_is="cost")}, "price_per_gb"),
], ids=["default", "override-does-not-cover-the-default", "override-needs-it", "total-cost-is-cost"])
def test_msp360_cost_mode_without_the_rate_it_needs_fails_before_any_request(cw, extra, names):
    params = {"period": "2026-10", "today": TODAY, "mbs": MBS_ARGS}
    params.update(extra)
    result, failed = run_module(billing, params)
    assert failed and names in result["msg"], result["msg"]
    assert "Nothing was sent" in result["msg"]
    assert cw.log == []


def test_a_quantity_only_company_needs_no_rate_when_the_default_has_it(cw):
    seed_mbs(cw)
    add_company(cw, GLOBEX)
    add_agreement(cw, 13, GLOBEX)
    result, failed = run_module(billing, {"period": "2026-10", "today": TODAY, "mbs": MBS_ARGS, "cost_per_gb": "0.02",
                                          "companies": {"AcmeCorp": {"cost_mode": "quantity_only"}}})
    assert not failed, result
    quantity_only = dict((k, v) for k, v in CREATED.items() if k not in ("unitCost", "unitPrice"))
    assert posted(cw, ADDITIONS) == [quantity_only]
    assert posted(cw, ADDITIONS_G) == [dict(CREATED, quantity=100, unitPrice=0.075)]


# ---------------------------------------------------------------- overlapping runs of consecutive months


def test_an_earlier_months_duplicate_removed_by_its_own_run_is_not_cancelled_again(cw):
    # Two runs of October left two marked additions; while November's run cancels them, the October
    # run that settles its month removes the duplicate first: there is nothing left to cancel.
    add_addition(cw, 301, marker="2026-10")
    add_addition(cw, 305, marker="2026-10")

    def october_run_removes_its_duplicate(method, path, body):
        if method == "PATCH" and path == ADDITIONS + "/305":
            cw.store.delete("additions", 305, 12)
        return None

    cw.refuse = october_run_removes_its_duplicate
    november = [{"company": "AcmeCorp", "used_bytes": 600 * GIB}]
    result, failed = run_module(billing, args(period="2026-11", today="2026-12-02", usage=november))
    assert not failed, result["msg"]
    line = result["results"][0]
    assert (line["action"], line["cancelled"]) == ("created", [301])
    assert cw.get(ADDITIONS, 301)["cancelledDate"] == "2026-10-31T00:00:00Z"
    assert sorted(a["id"] for a in additions(cw)) == [301, line["addition_id"]]
