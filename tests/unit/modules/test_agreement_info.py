import pytest

from ansible_collections.mbs.connectwise.plugins.modules import agreement_info

from ..conftest import run_module as run_module_on_responses
from ..sandbox_client import run_module

AGREEMENTS = "finance/agreements"
TYPE = {"billTime": "Billable", "billExpenses": "Billable", "billProducts": "Billable",
        "employeeCompNotExceed": "Billing", "employeeCompRate": "Actual", "invoicingCycle": "CalendarYear"}


@pytest.fixture
def cw(connectwise):
    connectwise.app.max_page_size = 10
    connectwise.add("finance/agreements/types", id=3, name="MBS", **TYPE)
    connectwise.add("finance/agreements/types", id=4, name="Old", **TYPE)
    connectwise.add("procurement/categories", id=1, name="Managed Services")
    connectwise.add("procurement/subcategories", id=1, name="Managed Services", category={"id": 1})
    connectwise.add("procurement/types", id=1, name="Service")
    connectwise.add("procurement/catalog", id=12, identifier="OnlineBackup", description="Online backup",
                    customerDescription="Online backup", subcategory={"id": 1}, type={"id": 1})
    for n in range(30):
        connectwise.add("company/companies", id=100 + n, identifier="C%02d" % n, name="Company %d" % n)
        connectwise.add("company/contacts", id=100 + n, firstName="Contact", lastName=str(n),
                        company={"id": 100 + n}, defaultFlag=True)
        connectwise.add(AGREEMENTS, id=n + 1, name="ManagedBackupService" if n % 3 else "Other",
                        type={"id": 3 if n < 20 else 4}, company={"id": 100 + n}, contact={"id": 100 + n})
    return connectwise


def addition(cw, agreement_id, **fields):
    return cw.add("finance/agreements/%d/additions" % agreement_id, product={"id": 12}, billCustomer="Billable",
                  **fields)


def test_all_agreements_across_pages(cw):
    result, failed = run_module(agreement_info, {})
    assert not failed and not result["changed"]
    assert [a["id"] for a in result["agreements"]] == list(range(1, 31))
    # Three pages, each keyed by the last id read (a row changed meanwhile cannot shift another out).
    assert [r[2].get("conditions") for r in cw.calls("GET", AGREEMENTS)] == [None, "id > 10", "id > 20"]
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
    cw.add(AGREEMENTS, id=77, name='Say "hi" \\ bye', type={"id": 3}, company={"id": 100}, contact={"id": 100})
    result, failed = run_module(agreement_info, {"name": 'Say "hi" \\ bye'})
    assert not failed and [a["id"] for a in result["agreements"]] == [77]
    assert cw.calls("GET", AGREEMENTS)[0][2]["conditions"] == 'name = "Say \\"hi\\" \\\\ bye"'


def test_additions_are_read_per_agreement_across_pages(cw):
    for n in range(25):
        addition(cw, 4, id=1000 + n, quantity=n)
    addition(cw, 7, id=2000, quantity=1)
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
    result, failed = run_module_on_responses(agreement_info, {"name": "X"})
    assert failed and "403" in result["msg"] and "no finance access" in result["msg"]
    assert result["error"]["status"] == 403
