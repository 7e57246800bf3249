"""Paging with Link headers, fields trimming and orderBy."""

import re

import requests


def _links(response):
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("Link", ""))}


def test_three_pages_with_link_headers(api):
    first = api.get("company/companies", params={"pageSize": 3, "conditions": 'name!="x"'})
    links = _links(first)
    assert set(links) == {"next", "last"}
    assert links["next"].endswith("page=2") and links["last"].endswith("page=3")
    assert links["next"].startswith(api.base + "company/companies?") and "conditions=name" in links["next"]
    seen = [c["id"] for c in first.json()]
    second = api.session.get(links["next"], timeout=5)
    assert set(_links(second)) == {"first", "prev", "next", "last"}
    seen += [c["id"] for c in second.json()]
    third = api.session.get(_links(second)["next"], timeout=5)
    # rel="last" on the last page too (connectwise-api.md, "Details that the sandbox must get right")
    assert "next" not in _links(third) and set(_links(third)) == {"first", "prev", "last"}
    assert _links(third)["last"].endswith("page=3")
    seen += [c["id"] for c in third.json()]
    assert seen == list(range(1, 8))


def test_a_single_page_links_only_itself_as_last(api):
    """ConnectWise always gives rel="last", also when one page holds everything (connectwise-api.md)."""
    response = api.get("company/companies", params={"pageSize": 1000})
    assert set(_links(response)) == {"last"} and _links(response)["last"].endswith("page=1")
    assert len(response.json()) == 7


def test_link_uses_the_host_the_client_used(api, sb):
    response = requests.get(f"http://localhost:{sb.port}/v4_6_release/apis/3.0/company/companies?pageSize=2",
                            headers=dict(api.session.headers), timeout=5)
    assert _links(response)["next"].startswith(f"http://localhost:{sb.port}/")


def test_page_size_default_clamp_and_bad_values(api):
    for number in range(30):
        assert api.post("company/companies", {"identifier": f"Extra{number}", "name": "Extra"}).status_code == 201
    assert len(api.get("company/companies").json()) == 25
    assert len(api.get("company/companies", params={"pageSize": 5000}).json()) == 37
    for params in ({"page": 0}, {"pageSize": "x"}, {"pageSize": -1}):
        assert api.get("company/companies", params=params).status_code == 400


def test_fields_trim_with_nested_paths(api):
    rows = api.get("company/contacts", params={"fields": "id,firstName,company/identifier", "pageSize": 1}).json()
    assert rows == [{"id": 1, "firstName": "Wile", "company": {"identifier": "AcmeCorp"}}]


def test_order_by_single_multiple_and_invalid(api):
    names = [c["identifier"] for c in api.get("company/companies", params={"orderBy": "identifier asc"}).json()]
    assert names == sorted(names, key=str.casefold)
    ids = [c["id"] for c in api.get("company/companies", params={"orderBy": "id desc"}).json()]
    assert ids == list(range(7, 0, -1))
    api.post("company/companies", {"identifier": "Hooli2", "name": "Hooli"})
    rows = api.get("company/companies", params={"orderBy": "name asc, id desc", "conditions": 'name="hooli"'}).json()
    assert [r["identifier"] for r in rows] == ["Hooli2", "Hooli"]
    assert api.get("company/companies", params={"orderBy": "name sideways"}).status_code == 400
    assert api.get("company/companies", params={"orderBy": "nosuch asc"}).status_code == 400
