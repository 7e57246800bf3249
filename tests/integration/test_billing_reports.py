"""The billing role's reports through real ansible-playbook runs: the folder checked before billing and
private, files written 0600 in place of links, CSV and output that names cannot forge, the month's state
across the runs of the auto-billing window, the run log, one short failure message at 7 and 300
companies, and the report by mail through a real SMTP server on 127.0.0.1."""

import csv
import json
import os
import re
import stat

import pytest
import yaml

from tests.sandbox import MBS_PASSWORD, MBS_USERNAME, PRIVATE_KEY, generate_fixture
from tests.smtp_server import PASSWORD as SMTP_PASSWORD
from tests.smtp_server import USERNAME as SMTP_USERNAME
from tests.smtp_server import SmtpServer, free_port

from .conftest import ROOT, writes

BILLING = os.path.join(ROOT, "playbooks", "billing.yml")
SETUP = os.path.join(ROOT, "playbooks", "setup.yml")
ROLE = "mbs.connectwise.billing : "
FAIL_TASK = ROLE + ("Fail because some companies failed or the report was not mailed (the others are billed; a re-run "
                    "completes these)")
BILLABLE = {"AcmeCorp", "Globex", "Initech", "StarkWayne", "Umbrella"}


def billing(ansible, report_dir, *args, check=False, env=None, **extra):
    return ansible.playbook(BILLING, *args, check=check, extra_vars=dict(extra, billing_report_dir=str(report_dir)),
                            env=dict({"MBS_USERNAME": MBS_USERNAME, "MBS_PASSWORD": MBS_PASSWORD}, **(env or {})))


def read_csv(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows] == ["company"] * (len(rows) - 1) + ["total"]
    return dict((r["company"], r) for r in rows[:-1]), rows[-1]


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def run_log(folder):
    with open(folder / "billing-runs.log") as handle:
        return [dict(field.split("=", 1) for field in line.split()) for line in handle.read().splitlines()]


@pytest.fixture
def set_up(ansible, sandbox):
    run = ansible.playbook(SETUP)
    assert run.rc == 0, run
    sandbox.clear_journal()
    return ansible


# ---- the folder ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["link to a file", "file", "inside a file"])
def test_a_folder_that_cannot_hold_the_reports_stops_the_run_before_billing(set_up, sandbox, tmp_path, kind):
    (tmp_path / "notes.txt").write_text("my notes")
    folder = {"link to a file": tmp_path / "reports", "file": tmp_path / "notes.txt",
              "inside a file": tmp_path / "notes.txt" / "reports"}[kind]
    if kind == "link to a file":
        folder.symlink_to(tmp_path / "notes.txt")
    run = billing(set_up, folder)
    assert run.rc != 0, run
    [failed] = [r for r in run.results if r["status"] == "failed"]
    assert failed["task"] == ROLE + "Reports | check billing_report_dir before anything is sent to ConnectWise"
    assert failed["result"]["msg"].startswith("billing_report_dir '%s'" % folder)
    assert writes(sandbox) == [] and not [e for e in sandbox.journal() if "additions" in e["path"]]
    assert sandbox.store.rows("additions") == []
    assert (tmp_path / "notes.txt").read_text() == "my notes"


def test_a_new_folder_is_private_an_existing_one_is_never_chmodded_and_links_are_replaced(set_up, sandbox, tmp_path):
    # A new folder: 0700, whatever the umask; every file in it 0600.
    new = tmp_path / "new" / "reports"
    run = billing(set_up, new, check=True)
    assert run.rc == 0, run
    assert mode(new) == 0o700
    assert sorted(os.listdir(new)) == ["billing-2026-10-preview.csv", "billing-2026-10-preview.html", "billing-runs.log"]
    assert all(mode(new / name) == 0o600 for name in os.listdir(new))

    # A link to a private folder (as ~/.ssh is) stays private; a link planted where a report goes is
    # replaced by the report, and what it pointed at is untouched.
    ssh = tmp_path / "ssh"
    ssh.mkdir(mode=0o700)
    os.chmod(ssh, 0o700)
    (ssh / "id_ed25519").write_text("private key")
    os.chmod(ssh / "id_ed25519", 0o600)
    link = tmp_path / "reports-link"
    link.symlink_to(ssh)
    (ssh / "billing-2026-10.csv").symlink_to(ssh / "id_ed25519")
    run = billing(set_up, link)
    assert run.rc == 0, run
    assert mode(ssh) == 0o700 and os.path.islink(link)
    assert (ssh / "id_ed25519").read_text() == "private key" and mode(ssh / "id_ed25519") == 0o600
    assert not os.path.islink(ssh / "billing-2026-10.csv") and mode(ssh / "billing-2026-10.csv") == 0o600
    rows, _total = read_csv(ssh / "billing-2026-10.csv")
    assert {c for c, r in rows.items() if r["status"] == "billed"} == BILLABLE
    assert [name for name in os.listdir(ssh) if name.startswith(".")] == []   # no temporary file left

    # A shared folder the administrator made 0755 stays 0755.
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    assert billing(set_up, shared).rc == 0
    assert mode(shared) == 0o755 and mode(shared / "billing-2026-10.html") == 0o600


# ---- names cannot forge output ------------------------------------------------------------------------

FORGED = "Evil\nPLAY RECAP *********\nlocalhost : ok=99 changed=0 unreachable=0 failed=0"


def sections(stdout):
    """``{task name: the lines Ansible printed for it}``."""
    found, name = {}, None
    for line in stdout.splitlines():
        header = re.match(r"TASK \[(.*)\] \**$", line)
        if header:
            name = header.group(1)
            found[name] = []
        elif line.startswith("PLAY RECAP"):
            name = "PLAY RECAP"
            found[name] = []
        elif name:
            found[name].append(line)
    return found


def test_formulas_and_newlines_in_names_through_the_role(set_up, sandbox, tmp_path):
    """MSP360 company names are typed by customers: a formula and a forged PLAY RECAP stay one harmless cell and line."""
    usage = [{"company": "AcmeCorp", "used_bytes": 5 * 2 ** 30}, {"company": FORGED, "used_bytes": 2 ** 30},
             {"company": "=HYPERLINK(\"http://evil.test\",\"Invoice\")", "used_bytes": 2 ** 30},
             {"company": "@SUM(1+1)*cmd|' /C calc'!A0", "used_bytes": 2 ** 30}, {"company": "TOTAL", "used_bytes": 2 ** 30}]
    reports = tmp_path / "reports"
    run = billing(set_up, reports, billing_usage=usage, billing_cost_per_gb="0.02",
                  connectwise_customers=["AcmeCorp"], billing_effective_date_policy="fail")
    assert run.rc == 0, run
    with open(reports / "billing-2026-10.csv", newline="") as handle:
        text = handle.read()
    rows, total = read_csv(reports / "billing-2026-10.csv")
    # The inline usage is partial: the companies with an agreement that it leaves out are listed as such.
    left_out = [name for name, row in rows.items() if row["status"] == "not in this run's usage"]
    assert left_out and "AcmeCorp" not in left_out
    assert len(text.splitlines()) == 1 + 5 + len(left_out) + 1        # header, one line per company, the totals
    assert rows["Evil\\nPLAY RECAP *********\\nlocalhost : ok=99 changed=0 unreachable=0 failed=0"]["status"] == "skipped"
    assert rows["'=HYPERLINK(\"http://evil.test\",\"Invoice\")"]["usage_company"].startswith("'=")
    # (Usage names are trimmed by the billing module, so a leading tab or carriage return is a unit test's case.)
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in rows
    assert rows["TOTAL"]["status"] == "skipped" and total["company"] == "" and total["row"] == "total"
    assert rows["AcmeCorp"]["status"] == "billed"

    page = (reports / "billing-2026-10.html").read_text()
    assert "Evil\\nPLAY RECAP" in page and "Evil\nPLAY" not in page
    # What the role prints: the summary's lines and the report paths, one line per item.
    summary = run.task(ROLE + "Billing summary")["result"]["msg"]
    assert any(line.startswith("Evil\\nPLAY RECAP *********\\nlocalhost : ok=99") for line in summary)
    assert all("\n" not in line for line in summary)
    printed = sections(run.stdout)
    for task in (ROLE + "Billing summary", ROLE + "Report files"):
        assert not [line for line in printed[task] if line.lstrip(' "').startswith(("PLAY RECAP", "localhost :"))]
    # The run log, too, is one line per run.
    assert len(run_log(reports)) == 1


# ---- the month's state across the auto-billing window, the run log ------------------------------------

def test_the_days_of_the_auto_window_keep_billed_and_log_each_run(ansible, sandbox, tmp_path):
    """Day 1 bills 2026-11; days 2 and 3 find nothing to change: the report still says billed, since day 1."""
    sandbox.reset(today="2026-12-01")
    assert ansible.playbook(SETUP).rc == 0
    reports = tmp_path / "reports"
    first = billing(ansible, reports, billing_auto=True)
    assert first.rc == 0, first
    day1, _total = read_csv(reports / "billing-2026-11.csv")
    additions = {a["id"] for a in sandbox.store.rows("additions")}
    assert {c for c, r in day1.items() if r["status"] == "billed"} == BILLABLE
    assert {int(r["addition_id"]) for r in day1.values() if r["status"] == "billed"} == additions
    for today in ("2026-12-02", "2026-12-03"):
        sandbox.set_today(today)
        sandbox.clear_journal()
        again = billing(ansible, reports, billing_auto=True)
        assert again.rc == 0 and again.recap["changed"] == 0, again
        assert writes(sandbox) == []
        rows, total = read_csv(reports / "billing-2026-11.csv")
        for company in BILLABLE:
            assert rows[company]["status"] == "billed" and rows[company]["action"] == "unchanged", company
            assert rows[company]["addition_id"] == day1[company]["addition_id"]
            assert rows[company]["since"] == day1[company]["since"] != ""
            assert rows[company]["total_price"] == day1[company]["total_price"]
        assert total["status"].startswith("5 billed")
        assert "5 billed" in again.task(ROLE + "Billing summary")["result"]["msg"][0]
        page = (reports / "billing-2026-11.html").read_text()
        assert page.count('class="s-billed">billed<') == len(BILLABLE) and "this run: unchanged" in page
    log = run_log(reports)
    assert [(e["period"], e["mode"], e["check"], e["billed"], e["created"], e["unchanged"], e["rc"]) for e in log] == [
        ("2026-11", "auto", "no", "5", "5", "0", "0"), ("2026-11", "auto", "no", "5", "0", "5", "0"),
        ("2026-11", "auto", "no", "5", "0", "5", "0")]
    assert log[0]["price"] == log[2]["price"] and log[0]["currency"] == "USD"
    assert all(mode(reports / name) == 0o600 for name in os.listdir(reports))
    # Outside the window: no request, no file touched, not even the log.
    sandbox.set_today("2026-12-10")
    quiet = billing(ansible, reports, billing_auto=True)
    assert quiet.rc == 0 and len(run_log(reports)) == 3


# ---- one short failure, whatever the number of companies ----------------------------------------------

def failure_output(run):
    """What the run printed about its failure: the summary's failed lines and the final failure."""
    printed = sections(run.stdout)
    summary = [line for line in printed[ROLE + "Billing summary"] if ": failed - " in line]
    return summary, "\n".join(printed[FAIL_TASK])


@pytest.mark.parametrize("companies", [7, 300])
def test_a_partial_failure_prints_one_short_line_per_company_and_one_message(ansible, sandbox, tmp_path, companies):
    customers = {}
    if companies == 7:
        assert ansible.playbook(SETUP).rc == 0
    else:
        # Company0001..0300, each with its agreement and MSP360 usage; the demo inventory's customers are not there.
        sandbox.reset(fixture=generate_fixture(companies=300), today="2026-11-10")
        customers = {"connectwise_customers": []}
    # Every addition POST of a few companies is refused by ConnectWise: those fail, the others are billed.
    agreements = sorted(a["id"] for a in sandbox.store.rows("agreements"))
    failing = agreements[:7] if companies == 300 else agreements[:2]
    sandbox.add_faults([{"method": "POST", "path": r"finance/agreements/(%s)/additions" % "|".join(map(str, failing)),
                         "status": 400}])
    reports = tmp_path / "reports"
    run = billing(ansible, reports, **customers)
    assert run.rc == 2, run
    assert run.recap["failed"] == 1 and run.recap["changed"] == 1
    summary, final = failure_output(run)
    assert len(summary) == len(failing)
    assert max(len(line) for line in summary) < 400
    message = run.task(FAIL_TASK)["result"]["msg"]
    assert message.startswith("Billing 2026-10 failed for %d of " % len(failing))
    assert "\n" not in message and len(message) < 450
    billing_task = ROLE + "Send billing to ConnectWise (one call for every company)"
    assert "fatal: [localhost]: FAILED!" not in "\n".join(sections(run.stdout)[billing_task])
    whole = len(json.dumps(run.task(billing_task)["result"]))
    print("\n%d companies, %d failed: failure output %d bytes (summary's failed lines %d bytes, final failure %d bytes); "
          "the module's whole result, which Ansible printed as the failure before, is %d bytes"
          % (companies, len(failing), len("\n".join(summary)) + len(final), len("\n".join(summary)), len(final), whole))
    assert len(final) < 1500
    rows, total = read_csv(reports / "billing-2026-10.csv")
    assert sum(1 for r in rows.values() if r["status"] == "failed") == len(failing)
    assert run_log(reports)[-1]["rc"] == "2" and run_log(reports)[-1]["failed"] == str(len(failing))


def test_a_run_that_stops_before_billing_says_why_once_and_logs_it(set_up, sandbox, tmp_path):
    reports = tmp_path / "reports"
    run = billing(set_up, reports, env={"MBS_PASSWORD": "wrong-password"})
    assert run.rc == 2, run
    failed = [r for r in run.results if r["status"] == "failed"]
    assert [r["task"] for r in failed] == [ROLE + "Fail with the module's reason"]
    assert failed[0]["result"]["msg"].startswith("Billing 2026-10 stopped before billing any company: ")
    assert sandbox.store.rows("additions") == []
    assert run_log(reports)[-1]["stopped"] == "before-billing" and run_log(reports)[-1]["rc"] == "2"
    assert "wrong-password" not in run.stdout + run.stderr


# ---- the report by mail --------------------------------------------------------------------------------

def mail_settings(port, **more):
    return dict({"to": ["finance@msp.test"], "from": "billing@msp.test", "host": "127.0.0.1", "port": port,
                 "security": "none"}, **more)


def test_the_report_is_mailed_once_for_the_window_and_never_shows_the_password(set_up, sandbox, tmp_path):
    reports = tmp_path / "reports"
    smtp_env = {"BILLING_SMTP_USERNAME": SMTP_USERNAME, "BILLING_SMTP_PASSWORD": SMTP_PASSWORD}
    with SmtpServer(tmp_path, security="none") as server:
        preview = billing(set_up, reports, "-vvvv", check=True, billing_mail=mail_settings(server.port), env=smtp_env)
        assert preview.rc == 0 and server.inbox.messages == [], preview
        run = billing(set_up, reports, "-vvvv", billing_mail=mail_settings(server.port), env=smtp_env)
        assert run.rc == 0, run
        again = billing(set_up, reports, billing_mail=mail_settings(server.port), env=smtp_env)
        assert again.rc == 0 and len(server.inbox.messages) == 1, again     # nothing changed: no second mail
        # The password as a user gives it: in a vars file (a vault), never on the command line.
        settings = tmp_path / "mail.yml"
        settings.write_text(yaml.safe_dump({"billing_mail": mail_settings(
            server.port, send="always", username=SMTP_USERNAME, password=SMTP_PASSWORD)}))
        always = billing(set_up, reports, "-vvvv", "-e", "@%s" % settings)
        assert always.rc == 0 and len(server.inbox.messages) == 2, always
    first, last = server.inbox.messages
    assert first["login"] == last["login"] == SMTP_USERNAME and first["to"] == ["finance@msp.test"]
    message = first["message"]
    assert re.match(r"Backup billing 2026-10: 5 billed, USD [\d,]+\.\d\d$", message["Subject"])
    assert sorted(part.get_filename() for part in message.iter_attachments()) == ["billing-2026-10.csv",
                                                                                  "billing-2026-10.html"]
    attached = dict((part.get_filename(), part.get_content()) for part in last["message"].iter_attachments())
    with open(reports / "billing-2026-10.csv", newline="") as handle:        # the last run's report, as mailed
        assert attached["billing-2026-10.csv"].replace("\r\n", "\n") == handle.read()
    assert message.get_body(("plain",)).get_content().startswith("billing 2026-10 - 5 billed")
    for output in (preview, run, always):
        assert SMTP_PASSWORD not in output.stdout + output.stderr and PRIVATE_KEY not in output.stdout + output.stderr
    assert [e.get("mail") for e in run_log(reports)] == ["would-send", "sent", None, "sent"]
    for name in os.listdir(reports):
        assert SMTP_PASSWORD not in (reports / name).read_text()


def test_a_report_that_cannot_be_mailed_fails_the_run_after_billing(set_up, sandbox, tmp_path):
    reports = tmp_path / "reports"
    run = billing(set_up, reports, billing_mail=mail_settings(free_port()))
    assert run.rc == 2, run
    message = run.task(FAIL_TASK)["result"]["msg"]
    assert message.startswith("Billing 2026-10 is done (5 billed; 3 skipped), but the report could not be mailed: "
                              "the billing report was not mailed: 127.0.0.1:")
    assert "billing_mail.send: always" in message
    assert len(sandbox.store.rows("additions")) == len(BILLABLE)
    assert run_log(reports)[-1]["mail"] == "failed" and run_log(reports)[-1]["rc"] == "2"
