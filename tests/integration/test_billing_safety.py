"""Bad or partial data never rewrites an invoice: the issue's scenarios through real ``ansible-playbook`` runs.

The role (``playbooks/billing.yml`` on the demo, after ``playbooks/setup.yml``) for what an MSP runs every
month; the module in a one-task play for the cases that need a generated ConnectWise. Each case ends
with the sandbox's journal and state: no wrong write, and a message a billing administrator can act on.
"""

import copy
import os

import pytest

from tests.sandbox import MBS_PASSWORD, MBS_USERNAME
from tests.sandbox.fixtures import generate_fixture

from .conftest import ROOT, billing_play, writes

BILLING = os.path.join(ROOT, "playbooks", "billing.yml")
SETUP = os.path.join(ROOT, "playbooks", "setup.yml")
GIB = 2 ** 30
INLINE = billing_play("{{ period }}", usage="{{ usage }}", cost_per_gb="0.01", price_per_gb="0.05",
                      send_zero="{{ send_zero | default(false) }}",
                      company_map="{{ company_map | default({}) }}",
                      invoiced_period_policy="{{ invoiced | default('fail') }}")


def role(ansible, tmp_path, *args, check=False, **extra):
    return ansible.playbook(BILLING, *args, check=check,
                            extra_vars=dict(extra, billing_report_dir=str(tmp_path / "reports")),
                            env={"MBS_USERNAME": MBS_USERNAME, "MBS_PASSWORD": MBS_PASSWORD})


def module_result(run):
    found = [r for r in run.results if r["action"] == "mbs.connectwise.billing"]
    assert len(found) == 1, [r["task"] for r in run.results]
    return found[0]["result"]


def additions_of(sandbox, identifier):
    """The additions of the agreements of the company ``identifier``, from the sandbox's own state."""
    companies = {c["id"]: c["identifier"] for c in sandbox.store.tables["companies"].values()}
    agreements = {a["id"] for a in sandbox.store.tables["agreements"].values()
                  if companies[a["company"]["id"]] == identifier}
    return [a for a in sandbox.store.tables["additions"].values() if a["agreementId"] in agreements]


def agreement_of(sandbox, identifier):
    companies = {c["identifier"]: c["id"] for c in sandbox.store.tables["companies"].values()}
    return [a for a in sandbox.store.tables["agreements"].values() if a["company"]["id"] == companies[identifier]][0]


@pytest.fixture
def october_billed(ansible, sandbox, tmp_path):
    """The demo set up and its October billed by the role on 10 November (MSP360 has no November yet)."""
    assert ansible.playbook(SETUP).rc == 0
    run = role(ansible, tmp_path)
    assert run.rc == 0, run
    assert module_result(run)["period"] == "2026-10"
    sandbox.clear_journal()
    return ansible


def november_like_october(sandbox, rename=None):
    """MSP360 fills November with October's rows (``rename``: {old company: new company} in MSP360)."""
    sandbox.mbs.usage["2026-11"] = copy.deepcopy(sandbox.mbs.usage["2026-10"])
    for old, new in (rename or {}).items():
        for user in sandbox.mbs.users:
            if user["Company"] == old:
                user["Company"] = new
        for company in sandbox.mbs.companies:
            if company["Name"] == old:
                company["Name"] = new


# ---------------------------------------------------------------- the role, month after month


def test_an_empty_msp360_month_stops_the_scheduled_job_and_the_month_is_billed_once_ready(
        october_billed, sandbox, tmp_path):
    sandbox.set_today("2026-12-02")  # the auto-billing window for November; MSP360 has no November rows
    for check in (True, False):
        run = role(october_billed, tmp_path, check=check, billing_auto=True)
        assert run.rc != 0, run
        assert "Billing 2026-11 stopped before billing any company: MSP360 reports no usage at all for 2026-11" in run.stdout
        assert "not ready in MSP360 yet" in run.stdout
        assert module_result(run)["refused"]["rule"] == "empty month"
        assert writes(sandbox) == []
    assert all(a.get("cancelledDate") is None for a in sandbox.store.tables["additions"].values())

    november_like_october(sandbox)  # MSP360 is ready the next day: the scheduled job bills November
    sandbox.set_today("2026-12-03")
    run = role(october_billed, tmp_path, billing_auto=True)
    assert run.rc == 0, run
    result = module_result(run)
    assert result["period"] == "2026-11" and result["totals"]["counts"]["created"] == 5
    assert len([w for w in writes(sandbox) if w["method"] == "POST"]) == 5


def test_a_partly_filled_month_is_a_mass_change_refused_until_confirmed(october_billed, sandbox, tmp_path):
    november_like_october(sandbox)
    kept = {"AcmeCorp", "Globex"}
    company_of = {user["ID"]: user["Company"] for user in sandbox.mbs.users}
    sandbox.mbs.usage["2026-11"] = [row for row in sandbox.mbs.usage["2026-11"] if company_of[row["UserId"]] in kept]
    preview = role(october_billed, tmp_path, check=True, billing_period="2026-11", billing_today="2026-12-05")
    run = role(october_billed, tmp_path, billing_period="2026-11", billing_today="2026-12-05")
    for played in (preview, run):
        assert played.rc != 0, played
        refused = module_result(played)["refused"]
        assert refused["rule"] == "mass change"
        assert sorted(c["company"] for c in refused["changes"]) == ["Initech", "StarkWayne", "Umbrella"]
        assert "run again with billing_confirm_mass_change: true" in played.stdout
    assert writes(sandbox) == []

    confirmed = role(october_billed, tmp_path, billing_period="2026-11", billing_today="2026-12-05",
                     billing_confirm_mass_change=True)
    assert confirmed.rc == 0, confirmed
    actions = {r["company"]: r["action"] for r in module_result(confirmed)["results"]}
    assert [actions[c] for c in ("Initech", "StarkWayne", "Umbrella")] == ["cancelled"] * 3


def test_usage_corrected_to_zero_removes_the_billed_month_and_the_report_shows_it(october_billed, sandbox, tmp_path):
    globex = {user["ID"] for user in sandbox.mbs.users if user["Company"] == "Globex"}
    for row in sandbox.mbs.usage["2026-10"]:
        if row["UserId"] in globex:
            row.update(AverageSpace=0, CurrentSpace=0, TotalCost=0)
    [october] = additions_of(sandbox, "Globex")
    run = role(october_billed, tmp_path, billing_period="2026-10")
    assert run.rc == 0, run
    result = {r["company"]: r for r in module_result(run)["results"]}["Globex"]
    assert result["action"] == "cancelled" and result["correction"]["how"] == "removed"
    assert result["correction"]["addition_id"] == october["id"]
    assert result["reason"].startswith("no usage in 2026-10: 2026-10's addition %d (" % october["id"])
    assert result["reason"].endswith(") removed")
    assert [(w["method"], w["path"].rsplit("/", 1)[-1]) for w in writes(sandbox)] == [("DELETE", str(october["id"]))]
    assert additions_of(sandbox, "Globex") == []
    assert module_result(run)["totals"]["corrected"]["companies"] == 1
    assert "Globex" in (tmp_path / "reports" / "billing-2026-10.csv").read_text()

    sandbox.clear_journal()
    again = role(october_billed, tmp_path, billing_period="2026-10")
    assert again.rc == 0 and again.recap["changed"] == 0, again
    assert writes(sandbox) == []


def test_a_company_renamed_in_msp360_is_not_cancelled(october_billed, sandbox, tmp_path):
    november_like_october(sandbox, rename={"Globex": "Globex Corporation EU"})
    run = role(october_billed, tmp_path, billing_period="2026-11", billing_today="2026-12-05")
    assert run.rc != 0, run
    result = {r["company"]: r for r in module_result(run)["results"]}
    assert result["Globex"]["action"] == "failed"
    reason = result["Globex"]["reason"]
    assert reason.index("'Globex Corporation EU'") < reason.index("'Unmapped Co'")  # the closest name first
    assert "map it: mbs_company: 'Globex Corporation EU' on the customer Globex and run again" in reason
    globex_agreement = agreement_of(sandbox, "Globex")["id"]
    assert [w for w in writes(sandbox) if "/%d/" % globex_agreement in w["path"]] == []
    assert all(a.get("cancelledDate") is None for a in additions_of(sandbox, "Globex"))
    unmapped = module_result(run)["totals"]["unmapped"]
    assert unmapped["companies"] == 3 and unmapped["total_price"] is not None
    assert result["AcmeCorp"]["action"] == "created"


def test_a_newline_in_an_msp360_company_name_cannot_forge_a_line_of_output(ansible, sandbox, tmp_path):
    assert ansible.playbook(SETUP).rc == 0
    for company in sandbox.mbs.companies:
        if company["Name"] == "Unmapped Co":
            company["Name"] = "Unmapped Co\nPLAY RECAP *********************************************************"
    for user in sandbox.mbs.users:
        if user["Company"] == "Unmapped Co":
            user["Company"] = "Unmapped Co\nPLAY RECAP *********************************************************"
    run = role(ansible, tmp_path)
    assert run.rc == 0, run
    assert len([line for line in run.stdout.splitlines() if line.startswith("PLAY RECAP")]) == 1, run.stdout
    assert "Unmapped Co\\nPLAY RECAP" in run.stdout + run.stderr, (run.stdout, run.stderr)


# ---------------------------------------------------------------- the module, on generated companies


def start(sandbox, today, companies=3):
    sandbox.reset(generate_fixture(companies=companies, with_agreements=True, with_usage=False), today=today)
    return sorted(c["identifier"] for c in sandbox.store.tables["companies"].values())


def usage(identifiers, gib=10):
    return [{"company": identifier, "used_bytes": gib * GIB} for identifier in identifiers]


def test_a_partial_re_send_with_send_zero_leaves_the_other_companies_as_they_are(ansible, sandbox):
    identifiers = start(sandbox, "2026-11-10")
    first = ansible.playbook(INLINE, extra_vars={"period": "2026-10", "usage": usage(identifiers)})
    assert first.rc == 0, first
    before = {a["id"]: dict(a) for a in sandbox.store.tables["additions"].values()}
    sandbox.clear_journal()
    resend = {"period": "2026-10", "usage": usage(identifiers[:1], gib=12), "send_zero": True}
    run = ansible.playbook(INLINE, extra_vars=resend)
    assert run.rc == 0, run
    results = {r["company"]: r for r in run.task("Bill the period")["result"]["results"]}
    assert results[identifiers[0]]["action"] == "updated"
    for other in identifiers[1:]:
        assert (results[other]["action"], results[other]["reason"]) == ("skipped", "not in this run's usage")
    [(method, path)] = [(w["method"], w["path"]) for w in writes(sandbox)]
    [resent] = additions_of(sandbox, identifiers[0])
    assert method == "PATCH" and path.endswith("/additions/%d" % resent["id"])
    after = sandbox.store.tables["additions"]
    assert sorted(i for i in before if after[i] != before[i]) == [resent["id"]]
    assert resent["quantity"] == 12


def test_absurd_usage_fails_that_company_and_bills_the_others(ansible, sandbox):
    identifiers = start(sandbox, "2026-11-10")
    absurd = usage(identifiers)
    absurd[0]["used_bytes"] = 1e18
    run = ansible.playbook(INLINE, extra_vars={"period": "2026-10", "usage": absurd})
    assert run.rc != 0, run
    result = run.task("Bill the period")["result"]
    by_company = {r["company"]: r for r in result["results"]}
    assert by_company[identifiers[0]]["action"] == "failed"
    assert "above max_company_usage 1,125,899,906,842,624 bytes" in by_company[identifiers[0]]["reason"]
    assert [by_company[i]["action"] for i in identifiers[1:]] == ["created", "created"]
    assert additions_of(sandbox, identifiers[0]) == []
    assert len(writes(sandbox)) == 2


def test_an_agreement_replaced_mid_month_bills_the_month_once_on_the_new_one(ansible, sandbox):
    identifiers = start(sandbox, "2026-11-10", companies=2)
    old = agreement_of(sandbox, identifiers[0])
    old.update(endDate="2026-10-15T00:00:00Z", noEndingDateFlag=False)
    new = sandbox.store.create("agreements", {
        "name": old["name"], "type": {"id": old["type"]["id"]}, "company": {"id": old["company"]["id"]},
        "contact": {"id": old["contact"]["id"]}, "startDate": "2026-10-16T00:00:00Z",
        "billStartDate": "2026-10-16T00:00:00Z", "noEndingDateFlag": True})
    sandbox.clear_journal()
    run = ansible.playbook(INLINE, extra_vars={"period": "2026-10", "usage": usage(identifiers)})
    assert run.rc == 0, run
    result = {r["company"]: r for r in run.task("Bill the period")["result"]["results"]}[identifiers[0]]
    assert (result["action"], result["agreement_id"], result["replaced_agreements"]) == ("created", new["id"], [old["id"]])
    assert any("replaced agreement %s inside 2026-10" % old["id"] in w for w in result["warnings"])
    assert [a["agreementId"] for a in additions_of(sandbox, identifiers[0])] == [new["id"]]

    # the old agreement ends on the day the new one starts: they share a day, nothing is written
    identifiers = start(sandbox, "2026-11-10", companies=1)
    old = agreement_of(sandbox, identifiers[0])
    old.update(endDate="2026-10-16T00:00:00Z", noEndingDateFlag=False)
    sandbox.store.create("agreements", {
        "name": old["name"], "type": {"id": old["type"]["id"]}, "company": {"id": old["company"]["id"]},
        "contact": {"id": old["contact"]["id"]}, "startDate": "2026-10-16T00:00:00Z", "noEndingDateFlag": True})
    sandbox.clear_journal()
    run = ansible.playbook(INLINE, extra_vars={"period": "2026-10", "usage": usage(identifiers)})
    assert run.rc != 0 and "cover the same days of 2026-10" in run.task("Bill the period")["result"]["msg"], run
    assert writes(sandbox) == []


def test_history_edges_late_charge_backfill_and_company_map(ansible, sandbox):
    identifiers = start(sandbox, "2026-10-05", companies=1)
    september = ansible.playbook(INLINE, extra_vars={"period": "2026-09", "usage": usage(identifiers, gib=8)})
    assert september.rc == 0, september
    sandbox.set_today("2026-12-02")
    agreement = agreement_of(sandbox, identifiers[0])
    agreement["prorateFlag"] = False
    sandbox.invoice_through(agreement["id"], "2026-11-30")
    run = ansible.playbook(INLINE, extra_vars={"period": "2026-10", "usage": usage(identifiers), "invoiced": "next_invoice_date"})
    assert run.rc == 0, run
    result = run.task("Bill the period")["result"]["results"][0]
    assert result["invoiced_moved"] is True
    assert any("2026-10 was invoiced already" in w and "(2026-09: 8.00 GiB x 0.0500 = 0.40 a month)" in w and "credit the customer 0.40"
               in w for w in result["warnings"]), result["warnings"]

    # a month billed after the next one ended is one-time, though no later month has an addition
    identifiers = start(sandbox, "2026-12-02", companies=1)
    run = ansible.playbook(INLINE, extra_vars={"period": "2026-10", "usage": usage(identifiers)})
    assert run.rc == 0, run
    assert run.task("Bill the period")["result"]["results"][0]["backfill"] is True
    [october] = additions_of(sandbox, identifiers[0])
    assert october["cancelledDate"].startswith("2026-10-31")

    sandbox.clear_journal()
    run = ansible.playbook(INLINE, extra_vars={"period": "2026-10", "usage": usage(identifiers),
                                               "company_map": {"Acme": identifiers[0], "ACME ": identifiers[0]}})
    assert run.rc != 0 and "'Acme' and 'ACME ' name the same usage company" in run.task("Bill the period")["result"]["msg"]
    assert sandbox.journal() == []
