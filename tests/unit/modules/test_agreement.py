import pytest

from ansible_collections.mbs.connectwise.plugins.modules import agreement

from ..sandbox_client import run_module

COMPANIES = "company/companies"
CONTACTS = "company/contacts"
AGREEMENTS = "finance/agreements"
TYPES = "finance/agreements/types"
NAME = "ManagedBackupService"
BASE = {"name": NAME, "agreement_type": NAME, "start_date": "2026-10-01", "bill_start_date": "2026-10-01"}


TYPE = {"billTime": "Billable", "billExpenses": "Billable", "billProducts": "Billable",
        "employeeCompNotExceed": "Billing", "employeeCompRate": "Actual", "invoicingCycle": "CalendarYear"}


@pytest.fixture
def cw(connectwise):
    connectwise.add(TYPES, id=3, name=NAME, **TYPE)
    connectwise.add(TYPES, id=4, name="Other", **TYPE)
    return connectwise


def add_company(cw, identifier, contact=True, name=None):
    company = cw.add(COMPANIES, identifier=identifier, name=name or "%s Inc" % identifier)
    if contact:
        cw.add(CONTACTS, firstName="Default", lastName=identifier, company={"id": company["id"]}, defaultFlag=True)
        company = cw.get(COMPANIES, company["id"])  # with its default contact now
    return company


def add_contact(cw, company, first="Someone", last="Else"):
    return cw.add(CONTACTS, firstName=first, lastName=last, company={"id": company["id"]})


def add_agreement(cw, company, name=NAME, type_id=3, **fields):
    row = dict(name=name, type={"id": type_id}, company={"id": company["id"]},
               contact={"id": company["defaultContact"]["id"]} if "defaultContact" in company else None,
               startDate="2026-10-01T00:00:00Z", billStartDate="2026-10-01T00:00:00Z", noEndingDateFlag=True)
    row.update(fields)
    return cw.add(AGREEMENTS, **row)


def many(cw, count=250):
    return [add_company(cw, "C%03d" % n)["identifier"] for n in range(count)]


# ---- bulk -------------------------------------------------------------------------------------

def test_bulk_first_run_creates_with_bounded_reads(cw):
    identifiers = many(cw)
    result, failed = run_module(agreement, dict(BASE, companies=identifiers))
    assert not failed, result["msg"]
    assert result["changed"]
    assert result["counts"] == {"create": 250, "update": 0, "delete": 0, "none": 0, "failed": 0}
    assert [r["company"] for r in result["results"]] == identifiers
    assert all(r["id"] and r["error"] is None for r in result["results"])
    gets = cw.calls("GET")
    # 1 type lookup + 3 chunks of companies (100/100/50) + 3 chunks of agreements, then the 250
    # created re-read in 3 chunks to rule out duplicates from an overlapping run: no per-company GET.
    assert [c[1] for c in gets] == [TYPES] + [COMPANIES] * 3 + [AGREEMENTS] * 3 + [AGREEMENTS] * 3
    assert len(cw.calls("POST", AGREEMENTS)) == 250 and len(cw.writes()) == 250
    company_reads = [c[2] for c in gets if c[1] == COMPANIES]
    assert company_reads[0]["fields"] == "id,identifier,name,defaultContact"
    assert company_reads[0]["conditions"].startswith('identifier in ("C000","C001",')
    assert company_reads[0]["conditions"].count(",") == 99
    agreement_reads = [c[2] for c in gets if c[1] == AGREEMENTS]
    assert agreement_reads[0]["conditions"].endswith(') and (name = "%s")' % NAME)
    assert agreement_reads[0]["conditions"].startswith("(company/id in (")
    # the created agreement carries exactly what was asked, the company's default contact included
    company = cw.rows(COMPANIES)[0]
    [asked] = [b for m, _p, b in cw.sent if b["company"]["id"] == company["id"]]
    assert {k: v for k, v in asked.items() if k != "company"} == {
        "name": NAME, "type": {"id": 3}, "contact": {"id": company["defaultContact"]["id"]},
        "startDate": "2026-10-01T00:00:00Z", "billStartDate": "2026-10-01T00:00:00Z",
        "noEndingDateFlag": True}
    created = [r for r in cw.rows(AGREEMENTS) if r["company"]["id"] == company["id"]][0]
    assert (created["type"]["name"], created["contact"]["id"]) == (NAME, company["defaultContact"]["id"])


def test_bulk_second_run_makes_no_write(cw):
    identifiers = many(cw)
    run_module(agreement, dict(BASE, companies=identifiers))
    cw.log.clear()
    result, failed = run_module(agreement, dict(BASE, companies=identifiers))
    assert not failed
    assert not result["changed"]
    assert result["counts"]["none"] == 250
    assert cw.writes() == []
    assert len(cw.calls("GET")) == 7


def test_bulk_reads_follow_pagination(cw):
    cw.app.max_page_size = 40
    identifiers = many(cw)
    result, failed = run_module(agreement, dict(BASE, companies=identifiers))
    assert not failed and result["counts"]["create"] == 250
    # chunks of 100 companies on pages of 40: 3 + 3 + 2 pages; no agreements exist yet: 3 empty pages;
    # the re-read of the 250 created: 3 + 3 + 2 pages
    assert len(cw.calls("GET", COMPANIES)) == 8
    assert len(cw.calls("GET", AGREEMENTS)) == 3 + 8
    cw.log.clear()
    result, failed = run_module(agreement, dict(BASE, companies=identifiers))
    assert not failed and result["counts"]["none"] == 250 and cw.writes() == []
    assert len(cw.calls("GET", AGREEMENTS)) == 8


def test_one_changed_field_is_patched_alone(cw):
    companies = [add_company(cw, "C%d" % n) for n in range(3)]
    agreements = [add_agreement(cw, c, billStartDate="2026-09-01T00:00:00Z" if n == 1 else "2026-10-01T00:00:00Z")
                  for n, c in enumerate(companies)]
    result, failed = run_module(agreement, dict(BASE, companies=[c["identifier"] for c in companies]),
                                diff=True)
    assert not failed
    assert result["counts"] == {"create": 0, "update": 1, "delete": 0, "none": 2, "failed": 0}
    [patch] = cw.writes()
    assert patch[0] == "PATCH" and patch[1] == "%s/%d" % (AGREEMENTS, agreements[1]["id"])
    assert cw.sent[0][2] == [{"op": "replace", "path": "billStartDate", "value": "2026-10-01T00:00:00Z"}]
    assert result["diff"] == [{"before": {"billStartDate": "2026-09-01T00:00:00Z"},
                               "after": {"billStartDate": "2026-10-01T00:00:00Z"},
                               "before_header": "agreement %s of company C1" % NAME,
                               "after_header": "agreement %s of company C1" % NAME}]


def test_type_and_explicit_contact_are_compared(cw):
    company = add_company(cw, "Acme")
    other = cw.add(CONTACTS, firstName="Mary Ann", lastName="Smith", company={"id": company["id"]})
    existing = add_agreement(cw, company, type_id=4)
    result, failed = run_module(agreement, dict(BASE, company="Acme", contact="mary ann SMITH"))
    assert not failed, result["msg"]
    assert result["operation"] == "update"
    [(method, path, body)] = cw.sent
    assert (method, path) == ("PATCH", "%s/%d" % (AGREEMENTS, existing["id"]))
    assert body == [{"op": "replace", "path": "contact", "value": {"id": other["id"]}},
                    {"op": "replace", "path": "type", "value": {"id": 3}}]
    contact_reads = cw.calls("GET", CONTACTS)
    assert len(contact_reads) == 1
    assert contact_reads[0][2]["conditions"] == (
        '(company/id in (%d)) and (((firstName = "mary") and (lastName = "ann SMITH")) or '
        '((firstName = "mary ann") and (lastName = "SMITH")))' % company["id"])


def test_default_contact_is_not_compared_on_existing_agreement(cw):
    company = add_company(cw, "Acme")
    add_agreement(cw, company, contact={"id": add_contact(cw, company)["id"]})
    result, failed = run_module(agreement, dict(BASE, company="Acme"))
    assert not failed and result["operation"] == "none" and cw.writes() == []


def test_contact_by_id_and_per_company_overrides(cw):
    acme, globex = add_company(cw, "Acme"), add_company(cw, "Globex")
    other = add_contact(cw, globex)
    result, failed = run_module(agreement, dict(BASE, companies=[
        "Acme", {"identifier": "Globex", "contact": str(other["id"]), "start_date": "2026-11-01",
                 "bill_start_date": "2026-11-01", "end_date": "2027-10-31"}]))
    assert not failed, result["msg"]
    bodies = {body["company"]["id"]: body for method, path, body in cw.sent}
    assert bodies[acme["id"]]["noEndingDateFlag"] is True and "endDate" not in bodies[acme["id"]]
    assert bodies[globex["id"]] == {
        "company": {"id": globex["id"]}, "name": NAME, "type": {"id": 3}, "contact": {"id": other["id"]},
        "startDate": "2026-11-01T00:00:00Z", "endDate": "2027-10-31T00:00:00Z",
        "noEndingDateFlag": False, "billStartDate": "2026-11-01T00:00:00Z"}
    assert cw.calls("GET", CONTACTS) == []


def test_check_mode_writes_nothing_and_predicts_the_same(cw):
    identifiers = many(cw, 5)
    add_agreement(cw, cw.rows(COMPANIES)[0], billStartDate="2026-01-01T00:00:00Z")
    result, failed = run_module(agreement, dict(BASE, companies=identifiers), check_mode=True, diff=True)
    assert not failed
    assert cw.writes() == []
    assert result["changed"]
    assert result["counts"] == {"create": 4, "update": 1, "delete": 0, "none": 0, "failed": 0}
    assert [r["id"] for r in result["results"][1:]] == [None] * 4
    assert result["results"][0]["object"]["billStartDate"] == "2026-10-01T00:00:00Z"
    assert len(result["diff"]) == 5
    real, failed = run_module(agreement, dict(BASE, companies=identifiers))
    assert [r["operation"] for r in real["results"]] == [r["operation"] for r in result["results"]]


def test_no_diff_without_diff_mode(cw):
    add_company(cw, "Acme")
    result, failed = run_module(agreement, dict(BASE, company="Acme"))
    assert not failed and result["operation"] == "create" and "diff" not in result


def test_per_company_failures_do_not_stop_the_others(cw):
    good = [add_company(cw, "Good%d" % n) for n in range(3)]
    add_company(cw, "NoContact", contact=False)
    twice = add_company(cw, "Twice")
    dup = [add_agreement(cw, twice), add_agreement(cw, twice)]
    names = ["Good0", "Ghost", "NoContact", "Good1", "Twice", "Good2"]
    result, failed = run_module(agreement, dict(BASE, companies=names))
    assert failed
    assert result["counts"] == {"create": 3, "update": 0, "delete": 0, "none": 0, "failed": 3}
    by_company = {r["company"]: r for r in result["results"]}
    assert [r["company"] for r in result["results"]] == names
    for company in good:
        assert by_company[company["identifier"]]["operation"] == "create"
    assert len(cw.calls("POST", AGREEMENTS)) == 3
    assert sorted(result["failed_companies"]) == ["Ghost", "NoContact", "Twice"]
    assert "no company with this identifier" in by_company["Ghost"]["error"]
    assert "'NoContact' (NoContact Inc) has no default contact" in by_company["NoContact"]["error"]
    assert "ambiguous" in by_company["Twice"]["error"]
    assert "%d, %d" % (dup[0]["id"], dup[1]["id"]) in by_company["Twice"]["error"]
    assert result["msg"].startswith("3 of 6 companies failed: ")
    for company in ("Ghost", "NoContact", "Twice"):
        assert company in result["msg"]
    assert result["changed"] is True


def test_refused_write_fails_that_company_only(cw):
    acme, globex = add_company(cw, "Acme"), add_company(cw, "Globex")

    def refuse(method, path, body):
        if method == "POST" and body["company"]["id"] == acme["id"]:
            return 400, {"code": "InvalidObject", "message": "agreement object is invalid",
                         "errors": [{"code": "InvalidField", "field": "contact", "message": "inactive"}]}
        return None

    cw.refuse = refuse
    result, failed = run_module(agreement, dict(BASE, companies=["Acme", "Globex"]))
    assert failed
    assert [r["operation"] for r in result["results"]] == ["none", "create"]
    assert "400" in result["failed_companies"]["Acme"] and "contact: inactive" in result["failed_companies"]["Acme"]
    assert [r["company"]["id"] for r in cw.rows(AGREEMENTS)] == [globex["id"]]


def test_company_without_default_contact_is_fine_when_agreement_exists(cw):
    company = add_company(cw, "NoContact", contact=False)
    add_agreement(cw, company, contact={"id": add_contact(cw, company)["id"]})
    result, failed = run_module(agreement, dict(BASE, company="NoContact"))
    assert not failed and result["operation"] == "none"


def test_unknown_contact_name_fails_that_company(cw):
    add_company(cw, "Acme")
    add_company(cw, "Globex")
    result, failed = run_module(agreement, dict(BASE, companies=[{"company": "Acme", "contact": "Nobody Here"},
                                                                 "Globex"]))
    assert failed and result["failed_companies"] == {
        "Acme": "company 'Acme': no contact named 'Nobody Here' among its contacts (company/contacts)"}
    assert result["counts"]["create"] == 1


def test_unknown_agreement_type_fails_the_task_before_any_write(cw):
    add_company(cw, "Acme")
    result, failed = run_module(agreement, dict(BASE, company="Acme", agreement_type="Missing", allow_name_mismatch=True))
    assert failed and "no agreement type named 'Missing'" in result["msg"]
    assert cw.writes() == [] and len(cw.log) == 1


def test_check_mode_with_missing_type_warns_and_predicts(cw):
    add_company(cw, "Acme")
    result, failed = run_module(agreement, dict(BASE, company="Acme", agreement_type="Later", allow_name_mismatch=True), check_mode=True)
    assert not failed and result["operation"] == "create" and cw.writes() == []


# ---- input checks before any request ----------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (dict(name="x" * 101, allow_name_mismatch=True), "at most 100"),
    (dict(start_date="2026-13-01"), "not a valid calendar date"),
    (dict(end_date="2027-01-01", no_ending_date=True), "no_ending_date is true but end_date"),
    (dict(no_ending_date=False), "no_ending_date is false but no end_date"),
    (dict(companies=["Acme", "ACME"]), "listed more than once"),
    (dict(companies=[{"identifier": "Acme", "price": 1}]), "unknown key(s) price"),
    (dict(companies=[{"start_date": "2026-01-01"}]), "a company identifier"),
])
def test_bad_input_fails_before_any_request(cw, args, message):
    params = dict(BASE, companies=["Acme"])
    params.update(args)
    result, failed = run_module(agreement, params)
    assert failed and message in result["msg"], result["msg"]
    assert cw.log == []


def test_company_and_companies_are_exclusive(cw):
    result, failed = run_module(agreement, dict(BASE, company="Acme", companies=["Globex"]))
    assert failed and "mutually exclusive" in result["msg"]


# ---- escaping ---------------------------------------------------------------------------------

def test_identifiers_with_quotes_and_backslashes_are_escaped(cw):
    odd = add_company(cw, 'Q"uote\\Back', name='Smith & "Sons" \\ Co')
    plain = add_company(cw, "Plain")
    result, failed = run_module(agreement, dict(BASE, name='MBS "prod" \\ 1', allow_name_mismatch=True, companies=[odd["identifier"], "plain"]))
    assert not failed, result["msg"]
    assert result["counts"]["create"] == 2
    [read] = cw.calls("GET", COMPANIES)
    assert read[2]["conditions"] == 'identifier in ("Q\\"uote\\\\Back","plain")'
    agreements, _reread_after_create = cw.calls("GET", AGREEMENTS)
    assert agreements[2]["conditions"].endswith('(name = "MBS \\"prod\\" \\\\ 1")')
    assert {r["company"]["id"] for r in cw.rows(AGREEMENTS)} == {odd["id"], plain["id"]}
    cw.log.clear()
    again, failed = run_module(agreement, dict(BASE, name='MBS "prod" \\ 1', allow_name_mismatch=True, companies=[odd["identifier"], "plain"]))
    assert not failed and again["counts"]["none"] == 2 and cw.writes() == []


# ---- absent -----------------------------------------------------------------------------------

def test_absent_deletes_each_company_agreement(cw):
    acme, globex = add_company(cw, "Acme"), add_company(cw, "Globex")
    row = add_agreement(cw, acme)
    add_agreement(cw, acme, name="Keep")
    result, failed = run_module(agreement, {"name": NAME, "companies": ["Acme", "Globex"], "state": "absent"})
    assert not failed
    assert [r["operation"] for r in result["results"]] == ["delete", "none"]
    assert cw.writes() == [("DELETE", "%s/%d" % (AGREEMENTS, row["id"]), {})]
    assert [r["name"] for r in cw.rows(AGREEMENTS)] == ["Keep"]
    assert cw.calls("GET", TYPES) == []


def test_absent_for_an_unknown_company_is_nothing_to_delete(cw):
    acme = add_company(cw, "Acme")
    row = add_agreement(cw, acme)
    result, failed = run_module(agreement, {"name": NAME, "companies": ["Acme", "GoneCorp"], "state": "absent"})
    assert not failed, result
    assert [(r["company"], r["operation"], r["error"]) for r in result["results"]] == [
        ("Acme", "delete", None), ("GoneCorp", "none", None)]
    assert cw.writes() == [("DELETE", "%s/%d" % (AGREEMENTS, row["id"]), {})]


def test_empty_companies_list_does_nothing(cw):
    result, failed = run_module(agreement, dict(BASE, companies=[]))
    assert not failed and not result["changed"] and result["results"] == [] and cw.log == []


# ---- the guide's same-name rule ----------------------------------------------------------------

def test_name_differing_from_the_agreement_type_fails_before_any_request(cw):
    result, failed = run_module(agreement, dict(BASE, company="Acme", name="Backup"))
    assert failed
    assert "'Backup'" in result["msg"] and "'%s'" % NAME in result["msg"] and "allow_name_mismatch" in result["msg"]
    assert cw.log == []


def test_same_name_compares_case_insensitively(cw):
    add_company(cw, "Acme")
    result, failed = run_module(agreement, dict(BASE, company="Acme", name=NAME.lower()))
    assert not failed, result["msg"]


def test_allow_name_mismatch_opts_out(cw):
    add_company(cw, "Acme")
    result, failed = run_module(agreement, dict(BASE, company="Acme", name="Backup", allow_name_mismatch=True))
    assert not failed, result["msg"]
    assert [a["name"] for a in cw.rows(AGREEMENTS)] == ["Backup"]


def test_absent_does_not_check_the_name(cw):
    result, failed = run_module(agreement, {"name": "Backup", "company": "Acme", "state": "absent"})
    assert not failed, result["msg"]


# ---- no ending date clears an old end date -------------------------------------------------------

def test_rerun_without_end_date_clears_the_old_end_date(cw):
    company = add_company(cw, "Acme")
    result, failed = run_module(agreement, dict(BASE, company="Acme", end_date="2027-10-31"))
    assert not failed, result["msg"]
    [row] = cw.rows(AGREEMENTS)
    assert row["endDate"] == "2027-10-31T00:00:00Z" and row["noEndingDateFlag"] is False
    cw.log.clear()
    result, failed = run_module(agreement, dict(BASE, company="Acme"))
    assert not failed and result["operation"] == "update", result
    [patch] = [body for method, _path, body in cw.sent if method == "PATCH"]
    assert {"op": "replace", "path": "endDate", "value": None} in patch
    [row] = cw.rows(AGREEMENTS)
    assert "endDate" not in row and row["noEndingDateFlag"] is True  # ConnectWise omits an empty field
    assert company["id"] == row["company"]["id"]
    result, failed = run_module(agreement, dict(BASE, company="Acme"))
    assert not failed and result["operation"] == "none", result


# ---- overlapping runs ------------------------------------------------------------------------------

def test_bulk_create_raced_by_another_run_keeps_the_lowest_id(cw, warned):
    add_company(cw, "Acme")
    globex = add_company(cw, "Globex")
    twin = {}

    def another_run_creates_globex_too(method, path, body):
        if method == "POST" and body["company"]["id"] == globex["id"] and not twin:
            twin.update(cw.add(AGREEMENTS, **body))  # committed first: the lower id
        return None
    cw.refuse = another_run_creates_globex_too
    result, failed = run_module(agreement, dict(BASE, companies=["Acme", "Globex"]))
    assert not failed, result["msg"]
    by_company = {r["company"]: r for r in result["results"]}
    assert by_company["Globex"]["id"] == twin["id"] and by_company["Acme"]["operation"] == "create"
    assert by_company["Globex"]["converged"]["kept"] == twin["id"]
    assert len(by_company["Globex"]["converged"]["removed"]) == 1
    assert by_company["Acme"]["converged"] is None
    assert sorted((a["company"]["id"], a["id"]) for a in cw.rows(AGREEMENTS) if a["company"]["id"] == globex["id"]) \
        == [(globex["id"], twin["id"])]
    assert any("deleted our duplicate" in w for w in warned())
    again, failed = run_module(agreement, dict(BASE, companies=["Acme", "Globex"]))
    assert not failed and not again["changed"]
