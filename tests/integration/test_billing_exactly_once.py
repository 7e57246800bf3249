"""Exactly once, for real (issue 9 points 1 to 3, issue 10 point 3): overlapping billing runs as real
processes, a commit that lands after the client's timeout, companies absent from the usage, and
months ConnectWise has already invoiced."""

import json
import os
import subprocess
import tempfile

import pytest

from tests.sandbox.fixtures import generate_fixture

from .conftest import BIN, ROOT, writes

GIB = 2 ** 30
MARKER = "mbs.connectwise billing "
PLAY = """
- name: Billing
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Bill the period
      mbs.connectwise.billing:
        period: "{{ period }}"
        today: "{{ connectwise_today }}"
        usage: "{{ usage }}"
        cost_per_gb: "0.01"
        price_per_gb: "0.05"
        timeout: "{{ cw_timeout | default(30) }}"
        invoiced_period_policy: "{{ invoiced_policy | default('fail') }}"
        absent_companies: "{{ absent | default('cancel') }}"
        usage_complete: "{{ complete | default(false) }}"
        parallel: 8
"""


def start(sandbox, today, companies):
    sandbox.reset(generate_fixture(companies=companies, with_agreements=True, with_usage=False), today=today)
    return sorted(c["identifier"] for c in sandbox.store.tables["companies"].values())


def usage(identifiers, gib=10):
    return [{"company": identifier, "used_bytes": gib * GIB} for identifier in identifiers]


def marked(addition):
    description = addition.get("description") or ""
    return description[len(MARKER):] if description.startswith(MARKER) else None


def by_agreement(sandbox):
    found = {}
    for addition in sandbox.store.tables["additions"].values():
        found.setdefault(addition["agreementId"], []).append(addition)
    return found


def assert_exactly_once(sandbox, periods, agreements):
    """One addition per agreement and period, and one open addition per agreement."""
    additions = by_agreement(sandbox)
    assert sorted(additions) == sorted(agreements)
    for agreement_id, rows in additions.items():
        assert sorted(marked(a) for a in rows) == sorted(periods), (agreement_id, rows)
        assert len([a for a in rows if a.get("cancelledDate") is None]) == 1, (agreement_id, rows)


def run_together(ansible, variables):
    """One ``ansible-playbook`` process per entry of ``variables``, all started before any is waited for."""
    with tempfile.NamedTemporaryFile("w", suffix=".yml", dir=ansible.tmp_path, delete=False) as handle:
        handle.write(PLAY)
    procs = []
    for extra in variables:
        extra = dict(extra, connectwise_today=ansible.sandbox.today.isoformat())
        procs.append(subprocess.Popen([os.path.join(BIN, "ansible-playbook"), handle.name, "-e", json.dumps(extra)],
                                      cwd=ROOT, env=ansible.env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    return [(proc.wait(timeout=600), proc.stdout.read()) for proc in procs]


@pytest.mark.parametrize("runs", [2, 3])
def test_overlapping_runs_of_one_month_leave_one_addition_each(ansible, sandbox, runs):
    for attempt in range(2):
        identifiers = start(sandbox, "2026-11-10", companies=24)
        sandbox.set_latency(10)
        try:
            finished = run_together(ansible, [{"period": "2026-10", "usage": usage(identifiers)}] * runs)
        finally:
            sandbox.set_latency(0)
        for rc, output in finished:
            assert rc == 0, "attempt %d:\n%s" % (attempt, output[-4000:])
        agreements = sorted(sandbox.store.tables["agreements"])
        assert_exactly_once(sandbox, ["2026-10"], agreements)
        again = ansible.playbook(PLAY, extra_vars={"period": "2026-10", "usage": usage(identifiers)})
        assert again.rc == 0 and not again.task("Bill the period")["result"]["changed"], again


def test_overlapping_runs_of_consecutive_months_leave_one_open_addition(ansible, sandbox):
    identifiers = start(sandbox, "2026-12-02", companies=24)
    sandbox.set_latency(10)
    try:
        finished = run_together(ansible, [{"period": "2026-10", "usage": usage(identifiers, 10)},
                                          {"period": "2026-11", "usage": usage(identifiers, 12)},
                                          {"period": "2026-10", "usage": usage(identifiers, 10)}])
    finally:
        sandbox.set_latency(0)
    for rc, output in finished:
        assert rc == 0, output[-4000:]
    agreements = sorted(sandbox.store.tables["agreements"])
    assert_exactly_once(sandbox, ["2026-10", "2026-11"], agreements)
    for rows in by_agreement(sandbox).values():
        october = [a for a in rows if marked(a) == "2026-10"][0]
        november = [a for a in rows if marked(a) == "2026-11"][0]
        # October stops the day before November starts: no month is billed twice.
        assert october["cancelledDate"].startswith("2026-10-31"), rows
        assert november.get("cancelledDate") is None


def test_duplicates_left_by_a_killed_run_are_removed_by_the_next_run(ansible, sandbox):
    identifiers = start(sandbox, "2026-11-10", companies=2)
    first = ansible.playbook(PLAY, extra_vars={"period": "2026-10", "usage": usage(identifiers)})
    assert first.rc == 0, first
    kept = {r["agreement_id"]: r["addition_id"] for r in first.task("Bill the period")["result"]["results"]}
    # What a run killed between its POST and its re-read leaves behind: a second marked addition.
    agreement_id = sorted(kept)[0]
    original = sandbox.store.tables["additions"][kept[agreement_id]]
    body = {k: original[k] for k in ("product", "billCustomer", "quantity", "effectiveDate", "unitCost",
                                     "unitPrice", "description")}
    sandbox.store.create("additions", body, parent_id=agreement_id)
    run = ansible.playbook(PLAY, extra_vars={"period": "2026-10", "usage": usage(identifiers)})
    assert run.rc == 0, run
    result = [r for r in run.task("Bill the period")["result"]["results"] if r["agreement_id"] == agreement_id][0]
    assert result["addition_id"] == kept[agreement_id] and len(result["removed"]) == 1
    assert_exactly_once(sandbox, ["2026-10"], sorted(kept))


def test_a_commit_after_the_timeout_is_adopted_not_doubled(ansible, sandbox):
    identifiers = start(sandbox, "2026-11-10", companies=3)
    # Each POST of an addition takes 3 s, beyond the module's 1 s timeout: it commits after the client gave up.
    sandbox.add_faults([{"method": "POST", "path": "additions", "latency_ms": 3000}])
    try:
        run = ansible.playbook(PLAY, extra_vars={"period": "2026-10", "usage": usage(identifiers), "cw_timeout": 1})
    finally:
        sandbox.clear_faults()
    assert run.rc == 0, run
    posts = [e for e in writes(sandbox) if e["method"] == "POST"]
    assert len(posts) == 3  # one POST per company: the late commit was waited for, never re-sent
    assert_exactly_once(sandbox, ["2026-10"], sorted(sandbox.store.tables["agreements"]))
    assert all("found on re-reading" in " ".join(r["warnings"])
               for r in run.task("Bill the period")["result"]["results"])


def test_a_company_absent_from_a_complete_usage_has_its_open_addition_cancelled(ansible, sandbox):
    # September billed in October, so its additions stay open (a month billed after a later one has ended is
    # a one-time charge), then October billed in November.
    identifiers = start(sandbox, "2026-10-05", companies=3)
    september = ansible.playbook(PLAY, extra_vars={"period": "2026-09", "usage": usage(identifiers)})
    assert september.rc == 0, september
    sandbox.set_today("2026-11-10")
    gone = identifiers[0]
    # Inline usage is partial unless declared complete: only a complete source stops an absent company.
    october = {"period": "2026-10", "usage": usage(identifiers[1:]), "complete": True}

    before = len(writes(sandbox))
    preview = ansible.playbook(PLAY, extra_vars=october, check=True)
    assert preview.rc == 0, preview
    predicted = {r["company"]: r for r in preview.task("Bill the period")["result"]["results"]}
    assert predicted[gone]["action"] == "cancelled" and len(writes(sandbox)) == before

    run = ansible.playbook(PLAY, extra_vars=october)
    assert run.rc == 0, run
    results = {r["company"]: r for r in run.task("Bill the period")["result"]["results"]}
    assert results[gone]["action"] == "cancelled" and "absent from the usage of 2026-10" in results[gone]["reason"]
    assert results[gone]["used_bytes"] == 0 and results[gone]["usage_company"] is None
    cancelled = sandbox.store.tables["additions"][results[gone]["cancelled"][0]]
    assert cancelled["cancelledDate"].startswith("2026-09-30")
    again = ansible.playbook(PLAY, extra_vars=october)
    assert again.rc == 0 and not again.task("Bill the period")["result"]["changed"], again
    assert gone not in {r["company"] for r in again.task("Bill the period")["result"]["results"]}

    kept = ansible.playbook(PLAY, extra_vars=dict(october, period="2026-10", absent="keep"))
    assert kept.rc == 0 and not kept.task("Bill the period")["result"]["changed"], kept


def invoiced(sandbox, identifiers, through):
    agreements = sandbox.store.tables["agreements"]
    for agreement in agreements.values():
        agreement["prorateFlag"] = False
    target = [a for a in agreements.values()
              if sandbox.store.tables["companies"][a["company"]["id"]]["identifier"] == identifiers[0]][0]
    sandbox.invoice_through(target["id"], through)
    return target["id"]


def test_an_invoiced_month_fails_by_default_with_connectwise_s_message_and_no_write(ansible, sandbox):
    identifiers = start(sandbox, "2026-12-02", companies=2)
    agreement_id = invoiced(sandbox, identifiers, "2026-11-30")
    variables = {"period": "2026-10", "usage": usage(identifiers)}
    preview = ansible.playbook(PLAY, extra_vars=variables, check=True)
    run = ansible.playbook(PLAY, extra_vars=variables)
    for played in (preview, run):
        assert played.rc != 0, played
        results = {r["agreement_id"]: r for r in played.task("Bill the period")["result"]["results"]}
        assert results[agreement_id]["action"] == "failed"
        assert "already been invoiced" in results[agreement_id]["reason"]
        assert "invoiced_period_policy: next_invoice_date" in results[agreement_id]["reason"]
        assert [r["action"] for a, r in results.items() if a != agreement_id] == ["created"]
    assert [a for a in sandbox.store.tables["additions"].values() if a["agreementId"] == agreement_id] == []


def test_an_invoiced_month_moves_to_the_next_invoice_as_a_one_time_charge_once(ansible, sandbox):
    identifiers = start(sandbox, "2026-12-02", companies=2)
    agreement_id = invoiced(sandbox, identifiers, "2026-11-30")
    variables = {"period": "2026-10", "usage": usage(identifiers), "invoiced_policy": "next_invoice_date"}
    for attempt in range(3):
        run = ansible.playbook(PLAY, extra_vars=variables)
        assert run.rc == 0, run
        result = {r["agreement_id"]: r for r in run.task("Bill the period")["result"]["results"]}[agreement_id]
        assert result["invoiced_moved"] is True and result["effective_date"] == "2026-12-01"
        assert result["action"] == ("created" if attempt == 0 else "unchanged"), result
        assert any("already invoiced" in w for w in result["warnings"])
    rows = by_agreement(sandbox)[agreement_id]
    assert len(rows) == 1 and marked(rows[0]) == "2026-10"
    assert rows[0]["effectiveDate"].startswith("2026-12-01") and rows[0]["cancelledDate"].startswith("2026-12-31")
