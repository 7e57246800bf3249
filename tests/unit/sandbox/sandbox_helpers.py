"""Helpers shared by the sandbox tests (a module, not conftest, so tests can import them)."""

import base64
import os
import sys

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.sandbox.fixtures import load_fixture, setup_tables  # noqa: E402

GOOD_AUTH = "Basic " + base64.b64encode(b"sandbox+sandbox-public:sandbox-private").decode()


class Api:
    """Thin requests wrapper: resource paths relative to apis/3.0/, auth headers preset."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.base = sandbox.url + "/v4_6_release/apis/3.0/"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": GOOD_AUTH, "clientId": "test-client-id",
                                     "Accept": "application/json"})

    def request(self, method, resource, **kwargs):
        return self.session.request(method, self.base + resource, timeout=10, **kwargs)

    def get(self, resource, **kwargs):
        return self.request("GET", resource, **kwargs)

    def post(self, resource, body, **kwargs):
        return self.request("POST", resource, json=body, **kwargs)

    def put(self, resource, body, **kwargs):
        return self.request("PUT", resource, json=body, **kwargs)

    def patch(self, resource, operations, **kwargs):
        return self.request("PATCH", resource, json=operations, **kwargs)

    def delete(self, resource, **kwargs):
        return self.request("DELETE", resource, **kwargs)

    def find(self, resource, conditions):
        response = self.get(resource, params={"conditions": conditions})
        assert response.status_code == 200, response.text
        return response.json()


def billing_fixture(bill_start="2026-10-15T00:00:00Z"):
    """The demo after the setup role ran, plus an AcmeCorp agreement starting mid-October."""
    data = load_fixture("demo")
    data["connectwise"].update(setup_tables())
    data["connectwise"]["agreements"] = [{
        "name": "ManagedBackupService", "type": {"name": "ManagedBackupService"},
        "company": {"identifier": "AcmeCorp"}, "contact": {"name": "Wile Coyote"}, "startDate": bill_start,
    }]
    return data


def assert_field_error(response, field, code=None, message_part=None):
    """A 400 InvalidObject naming the field (and code / message part when given)."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "InvalidObject"
    errors = [e for e in body.get("errors", []) if e["field"] == field]
    assert errors, body
    if code:
        assert errors[0]["code"] == code, body
    if message_part:
        assert message_part in errors[0]["message"], body
    return errors[0]
