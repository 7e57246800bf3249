"""The sandbox and the modules checked against an independent model of ConnectWise's schema.

pyconnectwise's models are generated from ConnectWise's OpenAPI document (test-only dependency,
requirements-test.txt). Every object the sandbox returns for the resources the collection touches,
and every body the modules send during a setup and a billing run, must fit them: known field
names, types, enums and maximum lengths (the models keep those in their field docstrings).
Where ConnectWise's schema and pyconnectwise differ, connectwise-api.md says so and the schema
wins: those differences are listed in ``SCHEMA_WINS`` with the reason, nowhere else.
"""

import ast
import datetime
import functools
import inspect
import re
import typing

import pytest
import requests

from tests.sandbox.schema import RESOURCES

from .conftest import CREDENTIALS

manage = pytest.importorskip("pyconnectwise.models.manage", reason="pyconnectwise (requirements-test.txt)")
pydantic = pytest.importorskip("pydantic")

MODELS = {
    "companyStatuses": "CompanyStatus", "billingCycles": "BillingCycle", "unitOfMeasures": "UnitOfMeasure",
    "categories": "Category", "subcategories": "SubCategory", "productTypes": "ProductType",
    "configurationTypes": "ConfigurationType", "integratorLogins": "IntegratorLogin", "companies": "Company",
    "contacts": "Contact", "managementItSolutions": "ManagementItSolution", "agreementTypes": "AgreementType",
    "catalog": "CatalogItem", "agreements": "Agreement", "additions": "Addition",
    "managedDevicesIntegrations": "ManagedDevicesIntegration",
    "crossReferences": "ManagedDevicesIntegrationCrossReference", "invoices": "Invoice",
}
# (model, field): why the sandbox follows connectwise-api.md instead of pyconnectwise 0.6.1.2.
SCHEMA_WINS = {
    ("CatalogItem", "identifier"): "max 75 in the 2025.8 schema; pyconnectwise's older schema says 60",
}
_MAX = re.compile(r"Max length:\s*(\d+)")


@functools.lru_cache(maxsize=None)
def _max_lengths(model):
    """``{alias: N}`` from the field docstrings pyconnectwise generates (``Max length: N;``).

    Cached: ``inspect.getsource`` parses the whole (very large) models module on every call.
    """
    source = inspect.getsource(model)
    tree = ast.parse(source)
    body = tree.body[0].body
    lengths = {}
    for node, following in zip(body, body[1:] + [None]):
        if isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr) and \
                isinstance(getattr(following, "value", None), ast.Constant) and isinstance(following.value.value, str):
            match = _MAX.search(following.value.value)
            if match:
                field = model.model_fields[node.target.id]
                lengths[field.alias or node.target.id] = int(match.group(1))
    return lengths


def _nested_model(annotation):
    for arg in typing.get_args(annotation) or (annotation,):
        if isinstance(arg, type) and issubclass(arg, pydantic.BaseModel):
            return arg, False
        inner = typing.get_args(arg)
        if typing.get_origin(arg) is list and inner and isinstance(inner[0], type) and \
                issubclass(inner[0], pydantic.BaseModel):
            return inner[0], True
    return None, False


def problems(model, obj, where, partial=False):
    """Every way ``obj`` does not fit ``model``: unknown fields, types/enums, lengths, nested too."""
    found = []
    by_alias = {(f.alias or name): (name, f) for name, f in model.model_fields.items()}
    lengths = _max_lengths(model)
    for key, value in obj.items():
        if key not in by_alias:
            found.append("%s: field %r is not in %s" % (where, key, model.__name__))
            continue
        limit = lengths.get(key)
        if isinstance(value, str) and limit is not None and len(value) > limit and \
                (model.__name__, key) not in SCHEMA_WINS:
            found.append("%s: %s is %d characters, %s allows %d" % (where, key, len(value), model.__name__, limit))
        nested, is_list = _nested_model(by_alias[key][1].annotation)
        if nested is not None and value is not None:
            for index, item in enumerate(value if is_list else [value]):
                if isinstance(item, dict):
                    found.extend(problems(nested, item, "%s.%s" % (where, key), partial=True))
    try:
        model.model_validate(obj)
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            if partial and error["type"] == "missing":
                continue
            found.append("%s: %s %s (%s)" % (where, ".".join(str(p) for p in error["loc"]), error["msg"],
                                             error["type"]))
    return found


def model_for_path(path):
    """The model of the resource a request path names (ids and nesting stripped)."""
    bare = re.sub(r"/\d+", "/{parent}", path.split("apis/3.0/", 1)[-1].strip("/"))
    for table, resource in RESOURCES.items():
        if bare == resource.path or bare == resource.path + "/{parent}":
            return getattr(manage, MODELS[table]), table
    return None, None


def api_get(sandbox, path):
    response = requests.get("%s/v4_6_release/apis/3.0/%s" % (sandbox.url, path), params={"pageSize": 1000},
                            auth=("%s+%s" % (CREDENTIALS["CW_COMPANY_ID"], CREDENTIALS["CW_PUBLIC_KEY"]),
                                  CREDENTIALS["CW_PRIVATE_KEY"]), headers={"clientId": "schema-test"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def billed(ansible, sandbox):
    """A sandbox after a setup, a billing run and the billed month's agreement invoicing: every
    resource of the table holds rows (the demo's companies carry custom fields, its contacts
    communication items)."""
    sandbox.clear_journal()
    assert ansible.playbook("playbooks/setup.yml").rc == 0
    run = ansible.playbook("playbooks/billing.yml")
    assert run.rc == 0, run
    billed_month = (sandbox.today.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")
    assert sandbox.invoice(period=billed_month)
    return sandbox


def test_every_resource_the_sandbox_returns_fits_the_schema(billed):
    found, seen = [], set()
    for table, resource in RESOURCES.items():
        model = getattr(manage, MODELS[table])
        if "{parent}" in resource.path:
            parent_table = resource.parent_table
            parents = api_get(billed, RESOURCES[parent_table].path)
            paths = [resource.path.format(parent=p["id"]) for p in parents]
        else:
            paths = [resource.path]
        for path in paths:
            for row in api_get(billed, path):
                seen.add(table)
                found.extend(problems(model, row, "%s %s" % (table, row.get("id"))))
    assert found == []
    assert seen == set(RESOURCES), set(RESOURCES) - seen


def test_every_body_the_modules_send_fits_the_schema(billed):
    found, checked = [], 0
    for entry in billed.journal():
        if entry["api"] != "connectwise" or entry["method"] not in ("POST", "PATCH", "PUT"):
            continue
        model, table = model_for_path(entry["path"])
        assert model is not None, entry["path"]
        where = "%s %s" % (entry["method"], entry["path"])
        if entry["method"] == "PATCH":
            for operation in entry["body"]:
                assert "/" not in operation["path"].strip("/"), (where, operation)
                if operation.get("value") is not None:
                    found.extend(problems(model, {operation["path"]: operation["value"]}, where, partial=True))
        else:
            found.extend(problems(model, entry["body"], where))
        checked += 1
    assert checked > 0
    assert found == []


def test_the_checker_finds_what_it_must():
    """The conformance tests cannot pass vacuously: a wrong name, type, enum or length is found."""
    agreement = manage.Agreement
    assert problems(agreement, {"name": "x", "noSuchField": 1}, "a") == ["a: field 'noSuchField' is not in Agreement"]
    assert problems(agreement, {"name": "x" * 101}, "a") == ["a: name is 101 characters, Agreement allows 100"]
    assert problems(agreement, {"name": "x", "agreementStatus": "Open"}, "a")
    assert problems(agreement, {"name": "x", "type": {"id": "three"}}, "a")
    assert problems(agreement, {"name": "x", "type": {"id": 3, "bogus": 1}}, "a")
    assert problems(manage.CatalogItem, {"identifier": "x" * 75, "description": "d", "customerDescription": "c"},
                    "c") == []
    invoice = {"type": "Agreement", "applyToType": "Agreement", "applyToId": 7, "company": {"id": 1}, "total": 9.5}
    assert problems(manage.Invoice, invoice, "i") == []
    assert problems(manage.Invoice, dict(invoice, applyToType="Agreements"), "i")
    assert problems(manage.Invoice, dict(invoice, invoiceNumber="x" * 16), "i")
    assert problems(manage.Invoice, {"applyToType": "Agreement"}, "i")   # type is required
    # what the sandbox returned before it was checked against the schema: a billing cycle
    # without identifier and billingOptions
    missing = problems(manage.BillingCycle, {"id": 1, "name": "Monthly"}, "b")
    assert len(missing) == 2 and all("(missing)" in m for m in missing)
