"""Reads in id order page by key, so a row renamed, deleted or added between two pages hides no other.

Offset pages (``page=2`` of a condition) shift when the set they page through changes under them: a
row leaving the set before page 2 is read moves another row from page 2 into page 1, already read,
so that row is never seen (billing then takes its company for agreement-less); a row joining the set
moves one back, read twice. Keyed pages (``orderBy=id asc``, ``id > <last id read>``) stay put. Each
test changes ConnectWise (the in-process sandbox) right after the first page's answer, as another
user or run would between two of our requests.
"""

import pytest

from ansible_collections.mbs.connectwise.plugins.modules import billing

from tests.sandbox.fixtures import generate_fixture

from ..sandbox_client import SandboxConnectWise, run_module

COMPANIES = "company/companies"
AGREEMENTS = "finance/agreements"
TODAY = "2026-11-02"


def between_pages(cw, path, change):
    """Run ``change(cw)`` once, just after ConnectWise answered the first page of ``path``."""
    answer = cw.answer
    state = {"done": False}

    def answering(prepared, adapter):
        response = answer(prepared, adapter)
        if not state["done"] and prepared.method == "GET" and prepared.path_url.split("?")[0].endswith(path):
            state["done"] = True
            change(cw)
        return response
    cw.answer = answering
    return state


def delete(row_id):
    return lambda cw: cw.store.delete(cw.app.route(COMPANIES)[0], row_id)


def rename(row_id, name):
    return lambda cw: cw.store.patch(cw.app.route(COMPANIES)[0], row_id, [{"op": "replace", "path": "name",
                                                                           "value": name}])


@pytest.fixture
def cw():
    """25 companies, ids 1..25; all but 5 are named "Billed ...". Pages of 10 rows."""
    sandbox = SandboxConnectWise(max_page_size=10)
    for number in range(1, 26):
        sandbox.add(COMPANIES, id=number, identifier="C%02d" % number,
                    name=("Other %d" if number == 5 else "Billed %d") % number)
    return sandbox


@pytest.mark.parametrize("change, gone", [
    (delete(3), {3}),                      # deleted after page 1 (which had read it)
    (rename(4, "Renamed 4"), {4}),         # renamed out of the condition after page 1
    (rename(5, "Billed 5"), set()),        # renamed into the condition: a row joins what was read
    (rename(12, "Renamed 12"), {12}),      # a row of page 2 leaves before it is read
], ids=["deleted", "renamed-out", "renamed-in", "page-2-row-leaves"])
def test_a_change_between_pages_hides_no_other_row_and_doubles_none(cw, change, gone):
    before = {row["id"] for row in cw.rows(COMPANIES) if row["name"].startswith("Billed")}
    changed = between_pages(cw, COMPANIES, change)
    read = [row["id"] for row in cw.client().list(COMPANIES, conditions='name like "Billed%"',
                                                  fields=["id", "name"])]
    after = {row["id"] for row in cw.rows(COMPANIES) if row["name"].startswith("Billed")}
    assert changed["done"]
    # Every row that matched before and after the change was read, once; nothing else.
    assert before & after <= set(read)
    assert len(read) == len(set(read))
    assert set(read) <= before | after
    assert not set(read) & (gone - set(range(1, 11)))  # gone from page 2 on: not read
    assert len(cw.calls("GET", COMPANIES)) == 3


def test_the_pages_are_as_many_as_with_offsets(cw):
    assert len(list(cw.client().list(COMPANIES))) == 25
    assert [q.get("conditions") for _m, _p, q in cw.calls("GET", COMPANIES)] == [None, "id > 10", "id > 20"]


@pytest.mark.parametrize("change", ["delete", "rename"])
def test_billing_an_agreement_changed_during_its_read_makes_no_other_company_agreement_less(change, monkeypatch):
    """30 companies with agreements, read 10 a page: company 3's agreement changes after the first page."""
    cw = SandboxConnectWise(fixture=generate_fixture(companies=30, with_usage=False), max_page_size=10)
    cw.route_every_session(monkeypatch)
    table = cw.app.route(AGREEMENTS)[0]

    def change_agreement_3(sandbox):
        if change == "delete":
            sandbox.store.delete(table, 3)
        else:
            sandbox.store.patch(table, 3, [{"op": "replace", "path": "name", "value": "Replaced"}])
    between_pages(cw, AGREEMENTS, change_agreement_3)
    usage = [{"company": "Company%04d" % n, "used_bytes": n * 2 ** 30} for n in range(1, 31)]
    result, failed = run_module(billing, {"period": "2026-10", "today": TODAY, "usage": usage,
                                          "cost_per_gb": "0.02", "price_per_gb": "0.10"})
    by_company = dict((r["company"], r) for r in result["results"])
    others = [c for c in by_company if c != "Company0003"]
    assert len(others) == 29
    assert [c for c in others if by_company[c]["action"] != "created"] == [], \
        [(c, by_company[c]["action"], by_company[c].get("reason")) for c in others
         if by_company[c]["action"] != "created"]
    assert failed == (by_company["Company0003"]["action"] == "failed")
