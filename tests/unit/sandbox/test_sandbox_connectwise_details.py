"""The details ConnectWise answers that the next features lean on (issue 20), each with its source.

Sources: the shared API document (``connectwise-api.md``, section "Details that the sandbox must get
right", lines 45-53, and "Reading lists", line 18); ConnectWise's developer guide on pagination
(as quoted there and by public clients: ``pageId`` "treated like an additional condition of
Id > pageId"); ConnectWise's OpenAPI schema through pyconnectwise's generated models (field names of
``CustomFieldValue``, ``ContactCommunicationItem``, ``Addition``).
"""

import re

import pytest

COMPANIES = "company/companies"
CONTACTS = "company/contacts"


def _links(response):
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("Link", ""))}


def _identifiers(api, **params):
    response = api.get(COMPANIES, params=dict(params, pageSize=1000))
    assert response.status_code == 200, response.text
    return [row["identifier"] for row in response.json()]


# ---------------------------------------------------------------- flags (connectwise-api.md line 46)
def test_a_flag_never_set_reads_false_and_deleted_flag_false_matches_it(api):
    """Line 46: flags are false when never set, and returned; ``deletedFlag = false`` matches them."""
    created = api.post(COMPANIES, {"identifier": "Fresh", "name": "Fresh Ltd"}).json()
    assert created["deletedFlag"] is False
    assert api.get(f"{COMPANIES}/{created['id']}").json()["deletedFlag"] is False
    assert api.get(f"{CONTACTS}/1").json()["inactiveFlag"] is False
    everyone = _identifiers(api)
    assert _identifiers(api, conditions="deletedFlag = false") == everyone and len(everyone) == 8
    api.patch(f"{COMPANIES}/{created['id']}", [{"op": "replace", "path": "deletedFlag", "value": True}])
    assert _identifiers(api, conditions="deletedFlag = false") == [i for i in everyone if i != "Fresh"]
    # Booleans may be written True/False (line 46)
    assert _identifiers(api, conditions="deletedFlag = True") == ["Fresh"]
    assert _identifiers(api, conditions="deletedFlag != False") == ["Fresh"]


# ---------------------------------------------------------------- names, lastUpdated, quotes (line 47)
def test_condition_field_names_in_any_case(api):
    """Line 47: condition field names are accepted in any case (``Identifier``)."""
    assert _identifiers(api, conditions='Identifier = "Globex"') == ["Globex"]
    assert _identifiers(api, conditions='STATUS/Name = "Active" and IDENTIFIER like "h%"') == ["Hooli"]
    contacts = api.find(CONTACTS, 'Company/IDENTIFIER = "AcmeCorp" and DefaultFlag = true')
    assert [c["firstName"] for c in contacts] == ["Wile"]
    assert _identifiers(api, orderBy="Identifier DESC")[0] == "Umbrella"
    refused = api.get(COMPANIES, params={"conditions": 'Identifer = "Globex"'})
    assert refused.status_code == 400 and refused.json()["message"].startswith("conditions")


def test_last_updated_is_a_condition_field_of_every_resource(api, sb):
    """Line 47: ``lastUpdated > [date]`` (the guide's own example) on every resource, in any case."""
    for resource in ("company/companies", "company/contacts", "procurement/categories", "finance/billingCycles"):
        assert len(api.find(resource, "lastUpdated > [2000-01-01T00:00:00Z]")) > 0, resource
        assert api.find(resource, "LastUpdated < [2000-01-01]") == [], resource
    sb.set_today("2026-12-20")
    api.patch(f"{COMPANIES}/2", [{"op": "replace", "path": "name", "value": "Globex Renamed"}])
    assert _identifiers(api, conditions="lastUpdated >= [2026-12-20T00:00:00Z]") == ["Globex"]
    assert _identifiers(api, conditions="_info/lastUpdated >= [2026-12-20]") == ["Globex"]


def test_single_quoted_strings(api):
    """Line 47 (unconfirmed beyond the guide's samples): single-quoted strings are accepted."""
    assert _identifiers(api, conditions="identifier = 'Globex'") == ["Globex"]
    assert _identifiers(api, conditions="name = 'Stark & Wayne \"Industries\"'") == ["StarkWayne"]
    api.post(COMPANIES, {"identifier": "OBrien", "name": "O'Brien Ltd"})
    assert _identifiers(api, conditions=r"name = 'O\'Brien Ltd'") == ["OBrien"]
    assert _identifiers(api, conditions="name = \"O'Brien Ltd\"") == ["OBrien"]
    assert api.get(COMPANIES, params={"conditions": "name = 'unterminated"}).status_code == 400


# ---------------------------------------------------------------- custom fields and children (line 48)
def test_custom_field_conditions_match_one_custom_field_whole(api):
    """Line 48: ``customFieldConditions`` ``caption="Backup Tier" and value="Gold"``; no match, no row.
    The demo's companies hold ConnectWise's CustomFieldValue (pyconnectwise: caption, value, ...)."""
    gold = 'caption="Backup Tier" and value="Gold"'
    assert _identifiers(api, customFieldConditions=gold) == ["AcmeCorp", "Umbrella"]
    assert _identifiers(api, customFieldConditions='Caption = "backup tier" AND Value in ("Silver", "Bronze")') == \
        ["Globex", "Initech"]
    assert _identifiers(api, customFieldConditions='caption="Backup Tier" and value="Platinum"') == []
    assert _identifiers(api, customFieldConditions='caption="Region" and value="Gold"') == []
    # combined with conditions; counted alike
    assert _identifiers(api, conditions='identifier != "AcmeCorp"', customFieldConditions=gold) == ["Umbrella"]
    assert api.get(f"{COMPANIES}/count", params={"customFieldConditions": gold}).json() == {"count": 2}
    # a resource whose rows hold no custom fields: nothing matches
    assert api.find("procurement/categories", "id > 0") and \
        api.get("procurement/categories", params={"customFieldConditions": gold}).json() == []
    refused = api.get(COMPANIES, params={"customFieldConditions": 'label = "Backup Tier"'})
    assert refused.status_code == 400 and refused.json()["message"].startswith("customFieldConditions")


def test_child_conditions_on_company_types_and_contact_communication_items(api):
    """Line 48: ``childConditions`` on array members: ``types/id = 3``, ``communicationItems/value like
    "*@acme.com"``; each comparison holds when one member matches."""
    api.post(COMPANIES, {"identifier": "Client1", "name": "Client One", "types": [{"id": 3, "name": "Client"}]})
    api.post(COMPANIES, {"identifier": "Both", "name": "Both Ltd",
                         "types": [{"id": 3, "name": "Client"}, {"id": 5, "name": "Vendor"}]})
    assert _identifiers(api, childConditions="types/id = 3") == ["Client1", "Both"]
    assert _identifiers(api, childConditions="Types/ID = 3 and types/name = \"vendor\"") == ["Both"]
    assert _identifiers(api, childConditions="types/id = 99") == []
    assert api.get(f"{COMPANIES}/count", params={"childConditions": "types/id = 3"}).json() == {"count": 2}
    found = api.get(CONTACTS, params={"childConditions": 'communicationItems/value like "*@acmecorp.example"'})
    assert [c["firstName"] for c in found.json()] == ["Wile"]
    found = api.get(CONTACTS, params={"childConditions": 'communicationItems/communicationType = "Email"'})
    assert len(found.json()) == 6


def test_arrays_are_compared_only_through_child_conditions(api):
    """Line 48: an array in ``conditions``, or a non-array in ``childConditions``, is refused (400), not
    silently matched to nothing."""
    for params, start in (({"conditions": "types/id = 3"}, "conditions"),
                          ({"childConditions": "status/id = 1"}, "childConditions"),
                          ({"childConditions": "types/colour = 1"}, "childConditions")):
        refused = api.get(COMPANIES, params=params)
        assert refused.status_code == 400, params
        assert refused.json()["message"].startswith(start), refused.json()
    assert "childConditions" in api.get(COMPANIES, params={"conditions": "types/id = 3"}).json()["message"]


# ---------------------------------------------------------------- paging (lines 18, 49, 50)
def test_forward_only_paging_follows_page_id_by_ascending_id(api):
    """Lines 18 and 49, and the guide: header ``pagination-type: forward-only``; rows by ascending id;
    the ``Link`` header's next carries ``pageId=<last id>`` (read as id > pageId) until the end."""
    headers = {"pagination-type": "forward-only"}
    first = api.get(COMPANIES, params={"pageSize": 3, "conditions": "id > 0"}, headers=headers)
    assert [c["id"] for c in first.json()] == [1, 2, 3]
    assert set(_links(first)) == {"next"} and _links(first)["next"].endswith("pageId=3")
    assert "conditions=id%20%3E%200" in _links(first)["next"] and "page=" not in _links(first)["next"]
    second = api.session.get(_links(first)["next"], headers=headers, timeout=5)
    assert [c["id"] for c in second.json()] == [4, 5, 6] and _links(second)["next"].endswith("pageId=6")
    last = api.session.get(_links(second)["next"], headers=headers, timeout=5)
    assert [c["id"] for c in last.json()] == [7]
    assert last.headers["Link"] == "" and _links(last) == {}
    # a page that ends exactly at the last row has no next either
    exact = api.get(COMPANIES, params={"pageSize": 7}, headers=headers)
    assert len(exact.json()) == 7 and _links(exact) == {}


def test_forward_only_refuses_order_by_and_page_numbers(api):
    """Line 49: ``orderBy`` is not allowed with forward-only paging; ``pageId`` belongs to it."""
    headers = {"pagination-type": "forward-only"}
    for params in ({"orderBy": "name asc"}, {"page": 2}):
        refused = api.get(COMPANIES, params=params, headers=headers)
        assert refused.status_code == 400, params
    assert api.get(COMPANIES, params={"pageId": 3}).status_code == 400
    assert api.get(COMPANIES, params={"page": 1}, headers=headers).status_code == 200


def test_key_paging_with_ordinary_parameters(api):
    """Line 49: ``orderBy=id asc`` and ``conditions=id > <last id>`` read every row once, in order."""
    for number in range(10):
        api.post(COMPANIES, {"identifier": f"Key{number}", "name": "Key"})
    seen, last = [], 0
    while True:
        rows = api.get(COMPANIES, params={"orderBy": "id asc", "conditions": f"id > {last}", "pageSize": 4}).json()
        if not rows:
            break
        seen += [row["id"] for row in rows]
        last = rows[-1]["id"]
    assert seen == list(range(1, 18))


def test_fields_trim_get_by_id_and_post(api):
    """Line 50: ``fields`` trims every GET, by id included, and POST ("partial responses work for both
    GET and POST"); nested paths keep their nesting, in array members too."""
    one = api.get(f"{CONTACTS}/1", params={"fields": "id,company/identifier,communicationItems/value"})
    assert one.json() == {"id": 1, "company": {"identifier": "AcmeCorp"},
                          "communicationItems": [{"value": "wile.coyote@acmecorp.example"}]}
    created = api.post(COMPANIES, {"identifier": "Trim", "name": "Trim Ltd"}, params={"fields": "id,identifier"})
    assert created.status_code == 201 and set(created.json()) == {"id", "identifier"}
    assert api.find(COMPANIES, 'identifier = "Trim"')[0]["name"] == "Trim Ltd"


# ---------------------------------------------------------------- duplicates (line 51)
def test_a_duplicate_identifier_answers_object_exists(api):
    """Line 51: a duplicate identifier answers 400 with error code ``ObjectExists`` ("Company ID already
    in use." for a company)."""
    refused = api.post(COMPANIES, {"identifier": "acmecorp", "name": "Again"})
    assert refused.status_code == 400 and refused.json()["code"] == "InvalidObject"
    assert refused.json()["errors"] == [{"code": "ObjectExists", "message": "Company ID already in use.",
                                         "resource": "company", "field": "identifier"}]
    body = {"name": "Dup", "managementItSolutionType": "Custom", "managementSolutionName": "Dup"}
    assert api.post("company/managementItSolutions", body).status_code == 201
    [error] = api.post("company/managementItSolutions", body).json()["errors"]
    assert error["code"] == "ObjectExists" and error["field"] == "name"


# ---------------------------------------------------------------- additions and agreements (line 52)
@pytest.fixture
def agreement(billing):
    found = billing.find("finance/agreements", 'company/identifier="AcmeCorp"')[0]
    return found


def _add(billing, agreement, **fields):
    body = dict({"product": {"identifier": "OnlineBackup"}, "billCustomer": "Billable",
                 "effectiveDate": "2026-11-01T00:00:00Z"}, **fields)
    created = billing.post(f"finance/agreements/{agreement['id']}/additions", body)
    assert created.status_code == 201, created.text
    return created.json()


def test_billed_quantity_and_extended_amounts_take_less_included(billing, agreement):
    """Line 52: ``billedQuantity`` = quantity - ``lessIncluded``; the billable amount is (quantity -
    included) x unit price (and the cost alike). pyconnectwise's Addition has both fields."""
    addition = _add(billing, agreement, quantity=12, lessIncluded=5, unitPrice=2.5, unitCost=1.25)
    assert (addition["billedQuantity"], addition["extPrice"], addition["extCost"], addition["margin"]) == \
        (7.0, 17.5, 8.75, 8.75)
    path = f"finance/agreements/{agreement['id']}/additions/{addition['id']}"
    patched = billing.patch(path, [{"op": "replace", "path": "lessIncluded", "value": 2}]).json()
    assert (patched["billedQuantity"], patched["extPrice"]) == (10.0, 25.0)
    plain = _add(billing, agreement, quantity=3, unitPrice=0.1)
    assert (plain["billedQuantity"], plain["extPrice"]) == (3.0, 0.3)
    ignored = _add(billing, agreement, quantity=3, billedQuantity=99, unitPrice=1)
    assert ignored["billedQuantity"] == 3.0  # computed by ConnectWise, not taken from the body


def test_an_addition_reads_its_agreement_status(billing, agreement, sandbox):
    """Line 52: an addition's ``agreementStatus`` is its agreement's status when read."""
    addition = _add(billing, agreement, quantity=1)
    path = f"finance/agreements/{agreement['id']}/additions"
    assert billing.get(f"{path}/{addition['id']}").json()["agreementStatus"] == "Active"
    billing.patch(f"finance/agreements/{agreement['id']}", [
        {"op": "replace", "path": "endDate", "value": "2026-12-31T00:00:00Z"}])
    sandbox.set_today("2027-01-05")
    assert billing.get(f"{path}/{addition['id']}").json()["agreementStatus"] == "Expired"
    assert [a["id"] for a in billing.find(path, 'agreementStatus = "Expired"')] == [addition["id"]]
    billing.patch(f"finance/agreements/{agreement['id']}", [{"op": "replace", "path": "cancelledFlag", "value": True}])
    assert billing.get(f"{path}/{addition['id']}").json()["agreementStatus"] == "Cancelled"


def test_an_agreement_that_starts_later_is_not_active(billing, sandbox):
    """Line 52: an agreement whose ``startDate`` is in the future is not Active (it reads Inactive:
    ConnectWise reads Active "when Start Date is today or in the past"); it turns Active on that day."""
    body = {"name": "Later", "type": {"name": "ManagedBackupService"}, "company": {"identifier": "Globex"},
            "contact": {"name": "Hank Scorpio"}, "startDate": "2027-01-01T00:00:00Z"}
    created = billing.post("finance/agreements", body)
    assert created.status_code == 201, created.text
    later = created.json()
    assert later["agreementStatus"] == "Inactive"
    assert [a["id"] for a in billing.find("finance/agreements", 'agreementStatus = "Inactive"')] == [later["id"]]
    sandbox.set_today("2027-01-01")
    assert billing.get(f"finance/agreements/{later['id']}").json()["agreementStatus"] == "Active"
