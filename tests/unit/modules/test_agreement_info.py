import pytest

from ansible_collections.mbs.connectwise.plugins.modules import agreement_info

from ..conftest import run_module
from .fake_connectwise import FakeConnectWise

AGREEMENTS = "finance/agreements"


@pytest.fixture
def cw(mocked):
    fake = FakeConnectWise(mocked, page_limit=10)
    for n in range(30):
        fake.add(AGREEMENTS, id=n + 1, name="ManagedBackupService" if n % 3 else "Other",
                 type={"id": 3, "name": "MBS" if n < 20 else "Old"},
                 company={"id": 100 + n, "identifier": "C%02d" % n, "name": "Company %d" % n})
    return fake


def test_all_agreements_across_pages(cw):
    result, failed = run_module(agreement_info, {})
    assert not failed and not result["changed"]
    assert [a["id"] for a in result["agreements"]] == list(range(1, 31))
    assert [r[2]["page"] for r in cw.calls("GET", AGREEMENTS)] == ["1", "2", "3"]
    assert "additions" not in result["agreements"][0]


def test_filters_are_combined(cw):
    result, failed = run_module(agreement_info, {
        "companies": ["C01", "C02", "C03", "C25"], "name": "ManagedBackupService",
        "agreement_type": "MBS", "conditions": "id != 2"})
    assert not failed
    assert [a["id"] for a in result["agreements"]] == [3]
    [read] = cw.calls("GET", AGREEMENTS)
    assert read[2]["conditions"] == (
        '(company/identifier in ("C01","C02","C03","C25")) and '
        '((name = "ManagedBackupService") and (type/name = "MBS") and (id != 2))')


def test_name_with_quote_is_escaped(cw):
    cw.add(AGREEMENTS, id=77, name='Say "hi" \\ bye', type={"id": 3, "name": "MBS"}, company={"id": 1})
    result, failed = run_module(agreement_info, {"name": 'Say "hi" \\ bye'})
    assert not failed and [a["id"] for a in result["agreements"]] == [77]
    assert cw.calls("GET", AGREEMENTS)[0][2]["conditions"] == 'name = "Say \\"hi\\" \\\\ bye"'


def test_additions_are_read_per_agreement_across_pages(cw):
    for n in range(25):
        cw.add("finance/agreements/4/additions", id=1000 + n, quantity=n)
    cw.add("finance/agreements/7/additions", id=2000, quantity=1)
    result, failed = run_module(agreement_info, {"companies": ["C03", "C06", "C09"], "additions": True},
                                check_mode=True)
    assert not failed
    by_id = {a["id"]: a for a in result["agreements"]}
    assert [x["id"] for x in by_id[4]["additions"]] == list(range(1000, 1025))
    assert [x["id"] for x in by_id[7]["additions"]] == [2000]
    assert by_id[10]["additions"] == []
    assert len(cw.calls("GET", "finance/agreements/4/additions")) == 3
    assert len(cw.calls("GET", "finance/agreements/7/additions")) == 1
    assert cw.writes() == []


def test_empty_company_list_reads_nothing(cw):
    result, failed = run_module(agreement_info, {"companies": []})
    assert not failed and result["agreements"] == [] and cw.log == []


def test_api_error_fails_readably(mocked):
    from ..conftest import API
    mocked.get(API + AGREEMENTS, status=403, json={"code": "Forbidden", "message": "no finance access"})
    result, failed = run_module(agreement_info, {"name": "X"})
    assert failed and "403" in result["msg"] and "no finance access" in result["msg"]
    assert result["error"]["status"] == 403
