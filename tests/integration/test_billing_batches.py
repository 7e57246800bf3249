"""billing_batch_size: the billing role checks the month once, then bills it in batches with a line of progress each.

Real ``ansible-playbook`` runs of ``playbooks/billing.yml`` on the demo (8 companies of the month: 5 billable,
Hooli without usage, two usage companies ConnectWise does not know), in batches of 3: MSP360 read once, each
company billed once, the report the month's as with one call, a stopped batch reported and completed by a re-run.
"""

import os

from tests.sandbox import MBS_PASSWORD, MBS_USERNAME

from .conftest import ROOT, writes
from .test_billing_role import BILLABLE, read_csv, sandbox_additions

BILLING = os.path.join(ROOT, "playbooks", "billing.yml")
SETUP = os.path.join(ROOT, "playbooks", "setup.yml")


def billing(ansible, tmp_path, *args, check=False, diff=False, **extra):
    return ansible.playbook(BILLING, *args, check=check, diff=diff,
                            extra_vars=dict({"billing_batch_size": 3, "billing_report_dir": str(tmp_path / "reports")},
                                            **extra),
                            env={"MBS_USERNAME": MBS_USERNAME, "MBS_PASSWORD": MBS_PASSWORD})


def billing_calls(run):
    return [r for r in run.results if r["action"] == "mbs.connectwise.billing" and r["status"] != "skipped"]


def msp360_reads(sandbox):
    return [e for e in sandbox.journal() if e["api"] == "mbs" and e["path"].endswith("api/Billing")]


def progress(run):
    return [line.split('"msg": "', 1)[1].rstrip().rstrip('"') for line in run.stdout.splitlines()
            if '"msg": "Billing 2026-10: batch ' in line]


def test_batches_bill_each_company_once_reading_msp360_once_with_a_line_of_progress_each(ansible, sandbox, tmp_path):
    assert ansible.playbook(SETUP).rc == 0
    sandbox.clear_journal()
    run = billing(ansible, tmp_path)
    assert run.rc == 0, run
    calls = billing_calls(run)
    assert len(calls) == 4                                   # the month's check, then 3 batches of at most 3
    check, batches = calls[0]["result"], [c["result"] for c in calls[1:]]
    assert check["changed"] is False and len(check["results"]) == 8
    assert [len(b["results"]) for b in batches] == [3, 3, 2]
    assert len(msp360_reads(sandbox)) == 1                   # the check's read; the batches bill its usage
    assert progress(run) == [
        "Billing 2026-10: batch 1 of 3 - 3 companies: 2 created, 0 updated, 0 unchanged, 1 skipped, 0 failed; "
        "3 of 8 companies done",
        "Billing 2026-10: batch 2 of 3 - 3 companies: 2 created, 0 updated, 0 unchanged, 1 skipped, 0 failed; "
        "6 of 8 companies done",
        "Billing 2026-10: batch 3 of 3 - 2 companies: 1 created, 0 updated, 0 unchanged, 1 skipped, 0 failed; "
        "8 of 8 companies done"]
    posts = [w for w in writes(sandbox) if w["method"] == "POST"]
    assert len(posts) == len(BILLABLE)
    assert {company: len(found) for company, found in sandbox_additions(sandbox).items()} == dict.fromkeys(BILLABLE, 1)
    # The report is the month's, as one call writes it: every company, the totals of every batch.
    rows, total = read_csv(tmp_path / "reports" / "billing-2026-10.csv")
    assert len(rows) == 8 and {r["company"] for r in rows if r["action"] == "created"} == BILLABLE
    assert total["action"] == "5 created; 0 updated; 0 unchanged; 3 skipped; 0 failed"
    assert run.recap["changed"] == 3 and run.recap["failed"] == 0
    # The report keeps what each company's line of --diff says.
    page = (tmp_path / "reports" / "billing-2026-10.html").read_text()
    assert page.count("create addition 2026-10 ") == len(BILLABLE)

    sandbox.clear_journal()
    again = billing(ansible, tmp_path)
    assert again.rc == 0 and again.recap["changed"] == 0, again
    assert writes(sandbox) == [] and len(msp360_reads(sandbox)) == 1
    rows, total = read_csv(tmp_path / "reports" / "billing-2026-10.csv")
    assert {r["company"] for r in rows if r["status"] == "billed"} == BILLABLE   # the month's state, kept


def test_a_preview_in_batches_prints_one_diff_line_per_company_that_would_change(ansible, sandbox, tmp_path):
    assert ansible.playbook(SETUP).rc == 0
    sandbox.clear_journal()
    run = billing(ansible, tmp_path, check=True, diff=True)
    assert run.rc == 0, run
    assert writes(sandbox) == []
    lines = [line for line in run.stdout.splitlines() if ": create addition 2026-10 " in line]
    assert sorted(line.split(":")[0] for line in lines) == sorted(BILLABLE)   # once each: the check prints none
    assert len(progress(run)) == 3
    rows, total = read_csv(tmp_path / "reports" / "billing-2026-10-preview.csv")
    assert total["action"] == "5 created; 0 updated; 0 unchanged; 3 skipped; 0 failed"


def test_a_batch_that_stops_fails_the_run_its_companies_reported_and_a_rerun_bills_them(ansible, sandbox, tmp_path):
    assert ansible.playbook(SETUP).rc == 0
    sandbox.clear_journal()
    # The agreements read of the second batch (after the check's and the first batch's) is refused.
    sandbox.add_faults([{"method": "GET", "path": r"finance/agreements$", "status": 403, "after": 2, "count": 1}])
    run = billing(ansible, tmp_path)
    assert run.rc != 0, run
    lines = progress(run)
    assert len(lines) == 2 and lines[1].startswith("Billing 2026-10: batch 2 of 3 STOPPED before billing: ")
    assert lines[1].endswith("; 1 batch after it does not run")
    assert len(billing_calls(run)) == 3                      # the check, batch 1, batch 2; batch 3 never ran
    rows, _total = read_csv(tmp_path / "reports" / "billing-2026-10.csv")
    failed = {r["company"]: r["reason"] for r in rows if r["action"] == "failed"}
    assert len(failed) == 5 and all(r.startswith("not billed: batch 2 of 3 stopped before billing (") for r in
                                    failed.values())
    billed = set(sandbox_additions(sandbox))
    assert billed and billed == {r["company"] for r in rows if r["action"] == "created"}
    assert "Billing 2026-10 failed for 5 of 8 companies" in run.stdout

    sandbox.clear_faults()
    again = billing(ansible, tmp_path)
    assert again.rc == 0, again
    assert {company: len(found) for company, found in sandbox_additions(sandbox).items()} == dict.fromkeys(BILLABLE, 1)
