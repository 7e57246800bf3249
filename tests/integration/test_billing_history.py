"""Billing history rules against the sandbox: agreement lifecycle, future and current months,
configuration that bills nothing (issue 10 point 2, issue 9 points 5 and 7)."""

from tests.sandbox.fixtures import generate_fixture

from .conftest import billing_play, writes


def play(period, agreement="ManagedBackupService", **options):
    return billing_play(period, agreement=agreement, cost_per_gb="0.01", **options)


def start(sandbox, today, companies=3):
    sandbox.reset(generate_fixture(companies=companies, with_agreements=True, with_usage=True), today=today)
    return sandbox.store.tables["agreements"]


def status(sandbox, agreement_id):
    return sandbox.store.render("agreements", sandbox.store.tables["agreements"][agreement_id])["agreementStatus"]


def test_agreement_ended_with_the_period_is_expired_later_and_its_month_still_billed(ansible, sandbox):
    agreements = start(sandbox, "2026-12-02")
    ended, cancelled, early = sorted(agreements)[:3]
    agreements[ended].update(endDate="2026-10-31T00:00:00Z", noEndingDateFlag=False)
    agreements[cancelled].update(cancelledFlag=True, dateCancelled="2026-10-20T00:00:00Z")
    agreements[early].update(cancelledFlag=True, dateCancelled="2026-09-15T00:00:00Z")
    assert status(sandbox, ended) == "Expired" and status(sandbox, cancelled) == "Cancelled"
    sandbox.set_today("2026-10-15")
    assert status(sandbox, ended) == "Active"  # derived at read time: it follows the clock
    sandbox.set_today("2026-12-02")

    run = ansible.playbook(play("2026-10"))
    assert run.rc == 0, run
    result = run.task("Bill the period")["result"]
    by_agreement = {r["agreement_id"]: r for r in result["results"] if r.get("agreement_id")}
    assert by_agreement[ended]["action"] == "created"
    assert by_agreement[cancelled]["action"] == "created"
    assert any("2026-10-20" in w for w in by_agreement[cancelled]["warnings"])
    skipped = [r for r in result["results"] if r["action"] == "skipped"]
    assert len(skipped) == 1 and "cancelled on 2026-09-15" in skipped[0]["reason"], skipped
    additions = [a for a in sandbox.store.tables["additions"].values() if a["effectiveDate"].startswith("2026-10")]
    assert sorted(a["agreementId"] for a in additions) == sorted([ended, cancelled])


def test_future_and_unrequested_current_month_fail_before_any_request(ansible, sandbox):
    start(sandbox, "2026-11-10")
    for period, text in (("2027-06", "after the current month"), ("2026-11", "allow_current_period")):
        run = ansible.playbook(play(period))
        assert run.rc != 0, run
        assert text in run.task("Bill the period")["result"]["msg"]
    assert [e for e in sandbox.journal() if e["api"] == "connectwise"] == []
    assert writes(sandbox) == []


def test_current_month_on_request_is_billed_and_marked(ansible, sandbox):
    start(sandbox, "2026-11-10")
    run = ansible.playbook(play("2026-11", allow_current_period=True))
    assert run.rc == 0, run
    result = run.task("Bill the period")["result"]
    assert result["current_period"] is True and result["period"] == "2026-11"
    assert result["results"] and {r["period"] for r in result["results"]} == {"2026-11"}
    assert "failed" not in {r["action"] for r in result["results"]}


def test_misspelled_agreement_name_fails_naming_the_names_that_exist(ansible, sandbox):
    start(sandbox, "2026-11-10")
    run = ansible.playbook(play("2026-10", agreement="ManagedBackupServce"))
    assert run.rc != 0, run
    msg = run.task("Bill the period")["result"]["msg"]
    assert "'ManagedBackupServce'" in msg and "'ManagedBackupService'" in msg
    assert writes(sandbox) == []


INLINE = billing_play("{{ period }}", usage="{{ usage }}", cost_per_gb="0.01", price_per_gb="0.05")


def test_month_without_usage_cancels_the_open_addition(ansible, sandbox):
    # September billed in October stays open (billed after October ended, it would be a one-time charge)
    start(sandbox, "2026-10-05", companies=1)
    company = next(iter(sandbox.store.tables["companies"].values()))["identifier"]
    first = ansible.playbook(INLINE, extra_vars={"period": "2026-09",
                                                 "usage": [{"company": company, "used_bytes": 10 * 2 ** 30}]})
    assert first.rc == 0, first.task("Bill the period")["result"].get("msg")
    september = first.task("Bill the period")["result"]["results"][0]
    assert september["action"] == "created"
    sandbox.set_today("2026-11-10")
    zero = {"period": "2026-10", "usage": [{"company": company, "used_bytes": 0}]}

    before = len(writes(sandbox))
    preview = ansible.playbook(INLINE, extra_vars=zero, check=True)
    assert preview.rc == 0, preview
    predicted = preview.task("Bill the period")["result"]
    assert predicted["changed"] and predicted["results"][0]["action"] == "cancelled"
    assert len(writes(sandbox)) == before

    run = ansible.playbook(INLINE, extra_vars=zero)
    assert run.rc == 0, run
    result = run.task("Bill the period")["result"]["results"][0]
    assert result["action"] == "cancelled" and "no usage in 2026-10" in result["reason"]
    assert result["cancelled"] == [september["addition_id"]]
    addition = sandbox.store.tables["additions"][september["addition_id"]]
    assert addition["cancelledDate"].startswith("2026-09-30")

    again = ansible.playbook(INLINE, extra_vars=zero)
    assert again.rc == 0 and not again.task("Bill the period")["result"]["changed"], again
    assert again.task("Bill the period")["result"]["results"][0]["action"] == "skipped"


def test_backfill_is_a_one_time_addition_and_never_moves_the_later_cancel_date(ansible, sandbox):
    start(sandbox, "2026-11-10", companies=1)
    company = next(iter(sandbox.store.tables["companies"].values()))["identifier"]
    usage = [{"company": company, "used_bytes": 10 * 2 ** 30}]
    october = ansible.playbook(INLINE, extra_vars={"period": "2026-10", "usage": usage})
    assert october.rc == 0, october.task("Bill the period")["result"].get("msg")
    october_id = october.task("Bill the period")["result"]["results"][0]["addition_id"]
    for _attempt in range(2):
        run = ansible.playbook(INLINE, extra_vars={"period": "2026-09", "usage": usage})
        assert run.rc == 0, run.task("Bill the period")["result"].get("msg")
        result = run.task("Bill the period")["result"]["results"][0]
        assert result["backfill"] is True and result["action"] in ("created", "unchanged")
    additions = sandbox.store.tables["additions"]
    september = additions[result["addition_id"]]
    assert september["effectiveDate"].startswith("2026-09-01")
    assert september["cancelledDate"].startswith("2026-09-30")
    assert additions[october_id].get("cancelledDate") is None
    assert len([a for a in additions.values() if a.get("cancelledDate") is None]) == 1
    assert not run.task("Bill the period")["result"]["changed"]
