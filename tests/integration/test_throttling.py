"""Billing under a server rate limit (the sandbox's token bucket, as ConnectWise's Cloudflare front):
every company billed once, none failed, at about the server's pace."""

import time
from collections import Counter

import pytest

from tests.sandbox.fixtures import PRODUCT_ID, generate_fixture

from .conftest import billing_play

PERIOD = "2026-10"
COMPANIES = 60
RATE = 20


@pytest.fixture
def limited(sandbox):
    sandbox.reset(generate_fixture(companies=COMPANIES, with_agreements=True, with_usage=True))
    sandbox.set_rate_limit(RATE)
    yield sandbox
    sandbox.set_rate_limit(None)


def test_a_rate_limited_run_bills_every_company_once_at_the_server_s_pace(ansible, limited):
    started = time.monotonic()
    run = ansible.playbook(billing_play(PERIOD, play="Billing under a rate limit", cost_per_gb="0.01"))
    wall = time.monotonic() - started
    assert run.rc == 0, run
    result = run.task("Bill the period")["result"]
    counts = result["totals"]["counts"]
    assert counts["created"] == COMPANIES and counts["failed"] == 0
    journal = limited.journal()
    statuses = Counter(e["status"] for e in journal if e["api"] == "connectwise")
    assert statuses[429] > 0, "the rate limit never bit: the test proves nothing"
    answered = sum(n for status, n in statuses.items() if status != 429)
    additions = Counter(row["agreementId"] for row in limited.store.rows("additions")
                        if (row.get("product") or {}).get("identifier") == PRODUCT_ID
                        and row["effectiveDate"].startswith(PERIOD))
    assert len(additions) == COMPANIES and set(additions.values()) == {1}
    # The module counts every attempt, the throttled ones too: it agrees with the server.
    assert sum(result["requests"]["connectwise"].values()) == sum(statuses.values())
    # At the server's pace: the answered requests at RATE per second, plus ansible's start-up and slack
    # for a shared machine; halving to one request in flight with 1 s pauses would take far longer.
    assert wall < 2.0 * answered / RATE + 5, (wall, answered, statuses)
