"""The app called directly, without a socket: extra tables, the page cap, the scheme of Link URLs."""

import base64
import json
from email.message import Message

import pytest
from sandbox_helpers import GOOD_AUTH

from tests.sandbox.app import Request, SandboxApp
from tests.sandbox.errors import ApiError
from tests.sandbox.schema import RESOURCES, Field, Resource, ref, s

API = "/v4_6_release/apis/3.0/"
GADGETS = Resource("gadgets", "test/gadgets", "gadget", {
    "id": Field("int", read_only=True), "name": s(20, required=True), "category": ref("categories"),
})


def headers():
    message = Message()
    message["Authorization"] = GOOD_AUTH
    message["clientId"] = "unit"
    return message


def call(app, method, resource, query=(), body=None, scheme="http"):
    payload = json.dumps(body).encode() if body is not None else b""
    return app.handle(Request(method, API + resource, list(query), headers(), payload, "cw.example.test",
                              API + resource, scheme))


def test_a_table_of_the_test_is_served_and_validated_like_connectwise():
    app = SandboxApp(fixture={"connectwise": {"categories": [{"id": 4, "name": "Hardware"}]}},
                     resources=dict(RESOURCES, gadgets=GADGETS))
    created = call(app, "POST", "test/gadgets", body={"name": "G1", "category": {"id": 4}})
    assert created.status == 201 and created.body["category"]["name"] == "Hardware"
    refused = call(app, "POST", "test/gadgets", body={"name": "x" * 21, "category": {"id": 9}})
    assert refused.status == 400 and {e["field"] for e in refused.body["errors"]} == {"name", "category"}
    found = call(app, "GET", "test/gadgets", [("conditions", 'category/name = "hardware"')])
    assert [g["name"] for g in found.body] == ["G1"]
    # ConnectWise's own tables are still there, and still refuse a delete of what is referenced
    assert call(app, "DELETE", "procurement/categories/4").status == 400


def test_a_store_without_the_tables_of_a_fixture_refuses_it():
    with pytest.raises(ValueError, match="unknown fixture tables"):
        SandboxApp(fixture={"connectwise": {"companies": []}}, resources={"gadgets": GADGETS})


def test_route_names_table_parent_and_tail():
    app = SandboxApp(fixture={"connectwise": {}})
    assert app.route("finance/agreements/types/3") == ("agreementTypes", None, "3")
    assert app.route("finance/agreements/7/additions") == ("additions", 7, None)
    assert app.route("company/companies/count") == ("companies", None, "count")
    with pytest.raises(ApiError):
        app.route("no/such/thing")


def test_page_cap_and_link_scheme_follow_the_request():
    rows = [{"name": "Category %02d" % n} for n in range(25)]
    app = SandboxApp(fixture={"connectwise": {"categories": rows}}, max_page_size=10)
    first = call(app, "GET", "procurement/categories", [("pageSize", "1000")], scheme="https")
    assert len(first.body) == 10
    assert '<https://cw.example.test%sprocurement/categories?pageSize=1000&page=3>; rel="last"' % API \
        in first.headers["Link"]
    # the default cap is ConnectWise's 1000
    assert len(call(SandboxApp(fixture={"connectwise": {"categories": rows}}), "GET", "procurement/categories",
                    [("pageSize", "1000")]).body) == 25


def test_credentials_in_the_header_are_checked_in_process_too():
    app = SandboxApp(fixture={"connectwise": {}})
    message = Message()
    message["Authorization"] = "Basic " + base64.b64encode(b"sandbox+sandbox-public:wrong").decode()
    message["clientId"] = "unit"
    answer = app.handle(Request("GET", API + "company/companies", [], message, b"", "cw.example.test"))
    assert answer.status == 401
