import pytest

from ansible_collections.mbs.connectwise.plugins.modules import company_info

from ..sandbox_client import run_module

COMPANIES = "company/companies"


@pytest.fixture
def cw(connectwise):
    connectwise.app.max_page_size = 50
    connectwise.add("company/companies/statuses", id=1, name="Active")
    connectwise.add("company/companies/statuses", id=2, name="Inactive")
    for n in range(120):
        connectwise.add(COMPANIES, id=n + 1, identifier="C%03d" % n, name="Company %d" % n,
                        status={"id": 1 if n % 2 else 2})
        connectwise.add("company/contacts", id=500 + n, firstName="Contact", lastName=str(n),
                        company={"id": n + 1}, defaultFlag=True)
    return connectwise


def test_all_companies_across_pages(cw):
    result, failed = run_module(company_info, {})
    assert not failed and not result["changed"]
    assert [c["id"] for c in result["companies"]] == list(range(1, 121))
    reads = cw.calls("GET", COMPANIES)
    # Three pages by key: no filter of the user's, only the last id read.
    assert [r[2].get("conditions") for r in reads] == [None, "id > 50", "id > 100"]
    assert all(r[2]["orderBy"] == "id asc" for r in reads)
    assert "missing" not in result


def test_identifiers_are_read_in_chunks_with_fields(cw):
    wanted = ["C%03d" % n for n in range(115)] + ["Ghost"]
    result, failed = run_module(company_info, {"identifiers": wanted, "fields": ["id", "name"]})
    assert not failed
    assert len(result["companies"]) == 115
    assert result["companies"][0] == {"id": 1, "name": "Company 0"}
    assert result["missing"] == ["Ghost"]
    reads = cw.calls("GET", COMPANIES)
    # 116 values: a chunk of 100 (2 pages of 50) and a chunk of 16 (1 page)
    assert len(reads) == 3
    assert reads[0][2]["fields"] == "id,name,identifier"
    assert reads[0][2]["conditions"].startswith('identifier in ("C000","C001",')
    assert reads[2][2]["conditions"].endswith('"C114","Ghost")')
    assert cw.writes() == []


def test_raw_conditions_combined_with_identifiers(cw):
    result, failed = run_module(company_info, {"identifiers": ["C001", "C002", "C003"],
                                               "conditions": 'status/name = "Active"'})
    assert not failed
    assert [c["identifier"] for c in result["companies"]] == ["C001", "C003"]
    [read] = cw.calls("GET", COMPANIES)
    assert read[2]["conditions"] == '(identifier in ("C001","C002","C003")) and (status/name = "Active")'


def test_raw_conditions_alone_follow_pagination(cw):
    result, failed = run_module(company_info, {"conditions": 'status/name = "Active"'}, check_mode=True)
    assert not failed
    assert len(result["companies"]) == 60
    assert len(cw.calls("GET", COMPANIES)) == 2


def test_identifier_with_quote_and_backslash_is_escaped(cw):
    cw.add(COMPANIES, id=999, identifier='O"Brien\\IT', name="x")
    result, failed = run_module(company_info, {"identifiers": ['O"Brien\\IT']})
    assert not failed and [c["id"] for c in result["companies"]] == [999]
    assert cw.calls("GET", COMPANIES)[0][2]["conditions"] == 'identifier in ("O\\"Brien\\\\IT")'


def test_bad_conditions_fail_readably(cw):
    result, failed = run_module(company_info, {"conditions": 'name = "unterminated'})
    assert failed and "400" in result["msg"] and "company/companies" in result["msg"]


def test_empty_identifier_list_reads_nothing(cw):
    result, failed = run_module(company_info, {"identifiers": []})
    assert not failed and result["companies"] == [] and result["missing"] == [] and cw.log == []
