"""No month is invoiced twice (issue 20 point 2): billing runs of several months, each followed by
ConnectWise's agreement invoicing of that month (the sandbox's ``POST /_sandbox/invoice``), and the
invoice lines read back: each company's month is on exactly one invoice line.

The months are billed as an MSP does: September on time; October on time for two companies while
the third company's usage arrives after October was invoiced and is billed for that company alone;
November on time. What happens to the late month is the ``invoiced_period_policy``: ``fail`` leaves
it unbilled (the run fails, naming the policy), ``next_invoice_date`` bills it once as a one-time
charge on November's invoice. A prorating agreement takes the late month as it is and ConnectWise
bills it on the next invoice.
"""

import collections

import pytest

from tests.sandbox.fixtures import generate_fixture

from .conftest import writes

MARKER = "mbs.connectwise billing "
GIB = 2 ** 30
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
        invoiced_period_policy: "{{ policy }}"
        absent_companies: "{{ absent | default('cancel') }}"
        # The usage given lists every company that used storage: a company it leaves out used none.
        usage_complete: "{{ (absent | default('cancel')) == 'cancel' }}"
        parallel: 4
"""
MONTHS = ("2026-09", "2026-10", "2026-11")


def usage(identifiers, month):
    """Each company's usage of ``month``: 10, 20, 30 GiB in September for the three companies, +1 a month."""
    step = MONTHS.index(month)
    return [{"company": identifier, "used_bytes": (10 * (index + 1) + step) * GIB}
            for index, identifier in enumerate(identifiers)]


class MonthByMonth:
    """One policy's billing runs against a sandbox of three companies, and the invoices after them."""

    def __init__(self, ansible, sandbox, policy, prorate):
        self.ansible, self.sandbox, self.policy = ansible, sandbox, policy
        sandbox.reset(generate_fixture(companies=3, with_agreements=True, with_usage=False), today="2026-10-02")
        for agreement in sandbox.store.tables["agreements"].values():
            agreement["prorateFlag"] = prorate
        self.companies = sorted(c["identifier"] for c in sandbox.store.tables["companies"].values())

    def bill(self, today, month, identifiers, absent="cancel"):
        self.sandbox.set_today(today)
        every = usage(self.companies, month)
        return self.ansible.playbook(PLAY, extra_vars={
            "period": month, "usage": [u for u in every if u["company"] in identifiers], "policy": self.policy,
            "absent": absent})

    def invoice(self, month):
        """Agreement invoicing of ``month`` for every agreement, as the MSP runs it after billing."""
        return self.sandbox.invoice(period=month)

    def invoiced(self):
        """``Counter((company, billed month))`` over every line of every invoice, and the lines by invoice date."""
        seen, dated = collections.Counter(), collections.defaultdict(list)
        for invoice in self.sandbox.store.rows("invoices"):
            for line in self.sandbox.invoice_lines(invoice["id"]):
                assert line["description"].startswith(MARKER), line
                key = (invoice["company"]["identifier"], line["description"][len(MARKER):])
                seen[key] += 1
                dated[invoice["date"][:10]].append(key)
        return seen, dated


def months_billed(ansible, sandbox, policy, prorate=False):
    """The scenario of the module docstring; returns the world and the late run."""
    world = MonthByMonth(ansible, sandbox, policy, prorate)
    first, second, third = world.companies
    september = world.bill("2026-10-02", "2026-09", world.companies)
    assert september.rc == 0, september
    world.invoice("2026-09")

    october = world.bill("2026-11-02", "2026-10", [first, second])   # the third company's usage is late
    assert october.rc == 0, october
    assert {r["company"]: r["action"] for r in october.task("Bill the period")["result"]["results"]}[third] == \
        "cancelled"   # its September addition stops at the end of September
    world.invoice("2026-10")
    late = world.bill("2026-11-03", "2026-10", [third], absent="keep")   # the late company alone

    november = world.bill("2026-12-02", "2026-11", world.companies)
    assert november.rc == 0, november
    world.invoice("2026-11")
    return world, late


def result_of(run, company):
    return {r["company"]: r for r in run.task("Bill the period")["result"]["results"]}[company]


def test_policy_fail_invoices_each_billed_month_once_and_leaves_the_invoiced_month_unbilled(ansible, sandbox):
    world, late = months_billed(ansible, sandbox, "fail")
    first, second, third = world.companies
    assert late.rc != 0, late
    refused = result_of(late, third)
    assert refused["action"] == "failed" and "already been invoiced" in refused["reason"]
    assert "invoiced_period_policy: next_invoice_date" in refused["reason"]
    seen, _dated = world.invoiced()
    expected = {(company, month) for company in (first, second) for month in MONTHS} | \
        {(third, "2026-09"), (third, "2026-11")}
    assert seen == collections.Counter(expected)   # each exactly once; the third company's October never


def test_policy_next_invoice_date_invoices_every_month_once_the_late_one_on_the_next_invoice(ansible, sandbox):
    world, late = months_billed(ansible, sandbox, "next_invoice_date")
    first, second, third = world.companies
    assert late.rc == 0, late
    moved = result_of(late, third)
    assert (moved["action"], moved["invoiced_moved"], moved["effective_date"]) == ("created", True, "2026-11-01")
    seen, dated = world.invoiced()
    assert seen == collections.Counter({(company, month) for company in world.companies for month in MONTHS})
    assert sorted(dated["2026-11-01"]) == [(first, "2026-11"), (second, "2026-11"), (third, "2026-10"),
                                           (third, "2026-11")]


def test_a_prorating_agreement_takes_the_late_month_and_invoices_it_once_on_the_next_invoice(ansible, sandbox):
    world, late = months_billed(ansible, sandbox, "fail", prorate=True)
    third = world.companies[2]
    assert late.rc == 0 and result_of(late, third)["action"] == "created", late
    seen, dated = world.invoiced()
    assert seen == collections.Counter({(company, month) for company in world.companies for month in MONTHS})
    assert (third, "2026-10") in dated["2026-11-01"]   # the days of invoiced October, caught up once


def test_invoice_totals_reconcile_with_the_lines_and_the_additions(ansible, sandbox):
    world = MonthByMonth(ansible, sandbox, "fail", prorate=False)
    run = world.bill("2026-10-02", "2026-09", world.companies)
    assert run.rc == 0, run
    made = [row for row in world.invoice("2026-09") if row["date"].startswith("2026-09-01")]
    assert len(made) == 3
    for invoice in made:
        [line] = world.sandbox.invoice_lines(invoice["id"])
        addition = world.sandbox.store.tables["additions"][line["additionId"]]
        assert line["extPrice"] == addition["extPrice"] == invoice["subtotal"] == invoice["total"]
        assert line["billedQuantity"] == addition["quantity"]


@pytest.mark.parametrize("policy", ["fail", "next_invoice_date"])
def test_a_month_billed_then_invoiced_is_unchanged_by_a_rerun_and_invoiced_once(ansible, sandbox, policy):
    world = MonthByMonth(ansible, sandbox, policy, prorate=False)
    assert world.bill("2026-10-02", "2026-09", world.companies).rc == 0
    world.invoice("2026-09")
    before = len(writes(sandbox))
    again = world.bill("2026-10-03", "2026-09", world.companies)
    seen_writes = writes(sandbox)[before:]
    assert world.bill("2026-11-02", "2026-10", world.companies).rc == 0
    world.invoice("2026-10")
    seen, _dated = world.invoiced()
    assert seen == collections.Counter({(c, m) for c in world.companies for m in ("2026-09", "2026-10")})
    assert again.rc == 0 and not again.task("Bill the period")["result"]["changed"], again
    assert seen_writes == []
