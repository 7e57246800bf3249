"""A POST ConnectWise commits after the client gave up on it is adopted, never doubled (issue 11).

ConnectWise may go on with a request after the client's ``timeout`` has passed. Every agreement
POST here is answered later than the setup's ``connectwise_timeout`` (the sandbox's
``latency_ms`` fault holds the request, then commits it): the client's ``create_once`` must look
for the agreement until the late commit lands and adopt it rather than POST again, so the run ends
with exactly one agreement per company, and a rerun changes nothing.
"""

from .conftest import writes

SETUP = "playbooks/setup.yml"
AGREEMENTS = "finance/agreements"
DEMO_COMPANIES = ["AcmeCorp", "Globex", "Initech", "Umbrella", "StarkWayne", "Hooli"]
AGREEMENTS_TASK = "mbs.connectwise.setup : Agreements of all declared companies (one bulk task)"
TIMEOUT_S = 2
# Longer than the timeout, shorter than the timeout plus the twice-the-timeout window of re-reads.
LATE_MS = 3500


def agreement_posts(sandbox):
    return [e for e in writes(sandbox) if e["method"] == "POST" and e["path"] == AGREEMENTS]


def key_rereads(sandbox):
    """GETs of one agreement by its key (``company/id = N``): create_once looking for a lost POST's object.

    The bulk reads of a run use ``company/id in (...)``; only a POST without an answer is followed by these.
    """
    return [e for e in sandbox.journal() if e["method"] == "GET" and e["path"] == AGREEMENTS
            and "company/id = " in str(e["query"].get("conditions", ""))]


def test_agreements_committed_after_the_timeout_are_adopted_once_and_a_rerun_changes_nothing(ansible, sandbox):
    sandbox.add_faults([{"api": "connectwise", "method": "POST", "path": AGREEMENTS + "$", "latency_ms": LATE_MS}])
    run = ansible.playbook(SETUP, extra_vars={"connectwise_timeout": TIMEOUT_S})
    assert run.rc == 0, run

    # Every agreement POST outlived the timeout, was sent once, and was looked for before it landed.
    [rule] = sandbox.faults()
    assert rule["hits"] == len(DEMO_COMPANIES)
    assert len(agreement_posts(sandbox)) == len(DEMO_COMPANIES)
    companies_looked_for = {e["query"]["conditions"] for e in key_rereads(sandbox)}
    assert len(companies_looked_for) == len(DEMO_COMPANIES), companies_looked_for

    agreements = sandbox.store.rows("agreements")
    assert sorted(a["company"]["identifier"] for a in agreements) == sorted(DEMO_COMPANIES)
    result = run.task(AGREEMENTS_TASK)["result"]
    assert result["counts"] == {"create": len(DEMO_COMPANIES), "update": 0, "delete": 0, "none": 0, "failed": 0}
    assert sorted(r["id"] for r in result["results"]) == sorted(a["id"] for a in agreements)

    sandbox.clear_faults()
    sandbox.clear_journal()
    again = ansible.playbook(SETUP, extra_vars={"connectwise_timeout": TIMEOUT_S})
    assert again.rc == 0 and again.recap["changed"] == 0, again
    assert writes(sandbox) == []
    assert len(sandbox.store.rows("agreements")) == len(DEMO_COMPANIES)
