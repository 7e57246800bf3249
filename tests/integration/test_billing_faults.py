"""mbs.connectwise.billing through ansible-playbook against the sandbox, with faults injected.

200 companies billed from the sandbox's MSP360 API while ConnectWise answers 429 with
Retry-After, 503s, and drops the connection after committing 10% of the POSTs: the run must
end with exactly one addition per company and period, with the right quantities; a second
run must write nothing.
"""

import time
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from tests.sandbox import MBS_PASSWORD, PRIVATE_KEY
from tests.sandbox.fixtures import generate_fixture

from .conftest import billing_play, writes

PERIOD = "2026-10"
GIB = 2 ** 30


def play(period=PERIOD):
    return billing_play(period, cost_per_gb="0.01", parallel=8)


def expected_quantities(fixture, sandbox, period):
    """ConnectWise company id -> quantity (GiB, 2 decimals) of the MSP360 usage of ``period``.

    The usage is read from the sandbox, whose months follow its clock (the fixture's move with it).
    """
    users = {u["ID"]: u["Company"] for u in fixture["mbs"]["users"]}
    ids = {c["identifier"]: c["id"] for c in fixture["connectwise"]["companies"]}
    used = Counter()
    for row in sandbox.mbs.usage[period]:
        used[ids[users[row["UserId"]]]] += row["AverageSpace"]
    return {company: (Decimal(value) / GIB).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            for company, value in used.items()}


def period_additions(sandbox):
    """agreement id -> additions of the period (the generated agreement i belongs to company i)."""
    found = {}
    for row in sandbox.store.tables["additions"].values():
        if row["effectiveDate"].startswith(PERIOD):
            found.setdefault(row["agreementId"], []).append(row)
    return found


def test_200_companies_under_faults_one_addition_each_and_rerun_writes_nothing(ansible, sandbox):
    fixture = generate_fixture(companies=200, with_agreements=True, with_usage=True)
    sandbox.reset(fixture)
    sandbox.add_faults([
        {"api": "connectwise", "status": 429, "retry_after": 1, "rate": 0.05, "count": 8, "seed": 11},
        {"api": "connectwise", "method": "GET", "status": 503, "rate": 0.05, "count": 8, "seed": 12},
        {"api": "connectwise", "method": "POST", "status": 503, "rate": 0.03, "count": 5, "seed": 13},
        {"api": "connectwise", "method": "POST", "path": "additions$", "drop_after_commit": True, "rate": 0.1,
         "seed": 14},
        # One MSP360 billing read for the month: its first attempt and the login's are refused.
        {"api": "mbs", "method": "PUT", "status": 503, "count": 1},
        {"api": "mbs", "method": "POST", "path": "Login", "status": 503, "count": 1},
    ])
    started = time.monotonic()
    first = ansible.playbook(play())
    elapsed = time.monotonic() - started
    assert first.rc == 0, first
    result = first.task("Bill the period")["result"]
    hits = {(rule.get("status"), rule.get("drop_after_commit"), rule.get("api"), rule.get("method")): rule["hits"]
            for rule in sandbox.faults()}
    # The faults really fired: rate-limited, unavailable, and POSTs whose answer was lost.
    assert all(count > 0 for count in hits.values()), hits

    expected = expected_quantities(fixture, sandbox, PERIOD)
    billed = {company: quantity for company, quantity in expected.items() if quantity > 0}
    additions = period_additions(sandbox)
    assert sorted(additions) == sorted(billed)
    assert all(len(rows) == 1 for rows in additions.values()), {k: v for k, v in additions.items() if len(v) > 1}
    for agreement_id, (row,) in additions.items():
        assert Decimal(repr(row["quantity"])) == billed[agreement_id], agreement_id
        assert row["effectiveDate"] == "2026-10-01T00:00:00Z"
        assert row["billCustomer"] == "Billable"
    counts = result["totals"]["counts"]
    assert counts["created"] == len(billed) and counts["failed"] == 0
    assert counts["skipped"] == 200 - len(billed)
    dropped = [e for e in sandbox.journal() if e.get("dropped")]
    assert dropped, "no POST answer was lost"
    # Each lost answer was recovered by a re-read, not a second POST of a committed addition.
    total = sum(Decimal(r["total_price"]) for r in result["results"] if r["action"] == "created")
    assert Decimal(result["totals"]["total_price"]) == total
    print("first run: %.1f s, requests %s, fault hits %s" % (elapsed, result["requests"], hits))

    sandbox.clear_faults()
    sandbox.clear_journal()
    second = ansible.playbook(play())
    assert second.rc == 0, second
    rerun = second.task("Bill the period")["result"]
    assert rerun["changed"] is False
    assert writes(sandbox) == []
    assert rerun["totals"]["counts"]["unchanged"] == len(billed)
    assert period_additions(sandbox) == additions
    print("second run: requests %s" % rerun["requests"])


FAILING_PLAY = billing_play(PERIOD, play="Billing with secrets", cost_per_gb="0.01")


def test_secrets_never_appear_in_verbose_output(ansible, sandbox):
    sandbox.reset(generate_fixture(companies=5, with_agreements=True, with_usage=True))
    # One refused POST: the failure message and results are printed too.
    sandbox.add_faults([{"api": "connectwise", "method": "POST", "status": 400, "count": 1}])
    run = ansible.playbook(FAILING_PLAY, "-vvvv")
    assert run.rc != 0, run
    failure = run.task("Bill the period")["result"]
    assert failure["msg"].startswith("billing of 2026-10 failed for 1 company")
    assert failure["totals"]["counts"]["failed"] == 1
    assert len(failure["results"]) == 5
    output = run.stdout + run.stderr
    assert "Bill the period" in output and "billing of 2026-10 failed" in output
    assert PRIVATE_KEY not in output
    assert MBS_PASSWORD not in output
    # The MSP360 token issued during the run is not printed either.
    for token in sandbox.mbs.tokens:
        assert token not in output


def test_a_password_in_the_msp360_url_is_refused_and_never_printed(ansible, sandbox):
    secret_url = sandbox.mbs_url.replace("http://", "http://mbs-user:Mbs-Url-Pa55@")
    play = billing_play(PERIOD, play="Billing with a password in the URL", cost_per_gb="0.01",
                        mbs={"url": secret_url, "username": "sandbox-mbs", "password": MBS_PASSWORD})
    run = ansible.playbook(play, "-vvvv")
    assert run.rc != 0, run
    msg = run.task("Bill the period")["result"]["msg"]
    assert "mbs.url must not hold a user name or password (http://mbs-user:***@127.0.0.1:" in msg
    assert "Mbs-Url-Pa55" not in run.stdout + run.stderr
    assert MBS_PASSWORD not in run.stdout + run.stderr
    assert writes(sandbox) == [] and not [e for e in sandbox.journal() if e["api"] == "mbs"]
