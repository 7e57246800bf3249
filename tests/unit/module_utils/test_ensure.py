"""Unit tests of the declarative ensure engine (``module_utils/ensure/``), driven directly.

The engine talks to the sandbox in-process (``sandbox_client.SandboxConnectWise``, with the
engine's own test tables from ``engine_sandbox.py``); its log records every request (method,
path, decoded query) and every write body, so the tests assert the exact conditions, POST
bodies and PATCH operation lists the engine sends.
"""

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils import client as client_mod
from ansible_collections.mbs.connectwise.plugins.module_utils.client import IN_CHUNK
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.declarations import (
    Field,
    Parent,
    Ref,
    Resource,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.engine import Engine
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.outcome import Outcome
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, InputError, OutcomeUnknown

from ..sandbox_client import SandboxConnectWise
from .engine_sandbox import ENGINE_TABLES, seed_agreement_type, seed_company

WIDGETS = "widgets/items"
CATEGORIES = "procurement/categories"
SUBCATEGORIES = "procurement/subcategories"
TYPES = "procurement/types"
MEMBERS = "system/members"

CATEGORY = Ref(CATEGORIES, label="category")
SUBCATEGORY = Ref(SUBCATEGORIES, within=("category", "category/id"), label="subcategory")
TYPE = Ref(TYPES, label="widget type")
OWNER = Ref(MEMBERS, match="identifier", label="owner")


def widget_resource(owner_default=None, required_on_create=("description", ("category", "widget_type"))):
    return Resource(
        name="widget",
        path=WIDGETS,
        key=("name",),
        fields={
            "name": Field("name", max_length=20),
            "description": Field("description", max_length=60),
            "price": Field("price", kind="float"),
            "quantity": Field("quantity", kind="int"),
            "start_date": Field("startDate", kind="date"),
            "taxable": Field("taxableFlag", kind="bool"),
            "category": Field("category", kind="ref", ref=CATEGORY),
            "subcategory": Field("subcategory", kind="ref", ref=SUBCATEGORY),
            "widget_type": Field("type", kind="ref", ref=TYPE),
            "billing": Field("billing", create_default="DoNotBill"),
            "owner": Field("owner", kind="ref", ref=OWNER, create_default=owner_default),
        },
        create_defaults={"source": "ansible", "level": 1},
        required_on_create=required_on_create,
    )


WIDGET = widget_resource()

PARENTS = "company/integrations"
CHILDREN = "company/integrations/{parent}/crossReferences"
CHILD = Resource(
    name="child",
    path=CHILDREN,
    key=("level",),
    parent=Parent("integration", Ref(PARENTS, label="integration")),
    fields={
        "level": Field("vendorLevel"),
        "inactive": Field("inactiveFlag", kind="bool"),
    },
)

COMPANIES = "company/companies"
AGREEMENTS = "finance/agreements"
AGREEMENT = Resource(
    name="agreement",
    path=AGREEMENTS,
    key=("company", "name"),
    fields={
        "company": Field("company", kind="ref", ref=Ref(COMPANIES, match="identifier", label="company")),
        "name": Field("name"),
        "agreement_type": Field("type", kind="ref", ref=Ref("finance/agreements/types", label="agreement type")),
        "contact": Field("contact", kind="ref", ref=Ref("company/contacts", label="contact")),
    },
)


@pytest.fixture
def cw():
    return SandboxConnectWise(resources=ENGINE_TABLES)


@pytest.fixture
def client(cw):
    return cw.client()


def gets(cw, path):
    return [query for method, p, query in cw.calls("GET") if p == path]


def conditions_of(cw, path):
    return [query.get("conditions") for query in gets(cw, path)]


def sent(cw, method=None):
    return [(m, p, b) for m, p, b in cw.sent if method is None or m == method]


def seed_refs(cw):
    cw.add(CATEGORIES, id=5, name="Hardware")
    cw.add(TYPES, id=9, name="Gadget")
    return cw


# ---- finding by natural key -------------------------------------------------------------------------
def test_find_escapes_quotes_and_backslashes_in_the_key_condition(client, cw):
    name = 'Bob\'s "Best" \\ Co'
    cw.add(WIDGETS, id=11, name=name, description="d")
    outcome = Engine(client, WIDGET).ensure({"name": name, "description": "d"})
    assert conditions_of(cw, WIDGETS) == ['name = "Bob\'s \\"Best\\" \\\\ Co"']
    assert outcome.operation == "none"
    assert outcome.object["id"] == 11
    assert cw.writes() == []


def test_no_match_creates_with_post(client, cw):
    seed_refs(cw)
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "description": "first", "category": "Hardware"})
    # find, then the re-read after the create that rules out a duplicate from an overlapping run
    assert conditions_of(cw, WIDGETS) == ['name = "W1"', 'name = "W1"']
    assert sent(cw) == [("POST", WIDGETS, {
        "source": "ansible", "level": 1, "billing": "DoNotBill",
        "name": "W1", "description": "first", "category": {"id": 5},
    })]
    assert outcome.operation == "create"
    assert outcome.changed is True
    assert outcome.object["id"] == cw.rows(WIDGETS)[0]["id"]
    assert outcome.after["category"] == {"id": 5}
    assert outcome.before == {}


def test_one_match_equal_is_unchanged(client, cw):
    cw.add(WIDGETS, id=11, name="W1", description="same", _info={"lastUpdated": "x"})
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "description": "same"})
    assert outcome.operation == "none"
    assert outcome.changed is False
    assert "_info" not in outcome.object
    assert cw.writes() == []


def test_more_than_one_match_is_ambiguous_naming_the_ids_and_writes_nothing(client, cw):
    cw.add(WIDGETS, id=21, name="Dup", description="a")
    cw.add(WIDGETS, id=22, name="dup", description="b")
    with pytest.raises(InputError) as err:
        Engine(client, WIDGET).ensure({"name": "Dup", "description": "c"})
    message = str(err.value)
    assert "ambiguous" in message
    assert "ids 21, 22" in message
    assert "name='Dup'" in message
    assert cw.writes() == []


def test_absent_with_ambiguous_key_deletes_nothing(client, cw):
    cw.add(WIDGETS, id=21, name="Dup")
    cw.add(WIDGETS, id=22, name="Dup")
    with pytest.raises(InputError, match="ambiguous"):
        Engine(client, WIDGET).ensure({"name": "Dup"}, state="absent")
    assert cw.writes() == []


# ---- comparing -------------------------------------------------------------------------------------
def test_only_given_fields_are_compared_server_owned_and_absent_options_ignored(client, cw):
    cw.add(WIDGETS, id=11, name="W1", description="keep", price=3, quantity=7, billing="Billable",
           startDate="2020-01-01T00:00:00Z", _info={"updatedBy": "someone"})
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "description": "keep", "price": None})
    assert outcome.operation == "none"
    assert cw.writes() == []


@pytest.mark.parametrize("option,current,given", [
    ("price", 12.5, "12.50"),
    ("price", 0.1, "0.10"),
    ("quantity", 100, 100.0),
    ("start_date", "2026-10-01T00:00:00Z", "2026-10-01"),
    ("start_date", "2026-10-01T00:00:00Z", "2026-10-01T00:00:00Z"),
    ("taxable", False, False),
    ("taxable", None, False),   # a flag never set reads false, as ConnectWise returns it
    ("description", None, ""),
])
def test_equal_values_in_other_forms_are_unchanged(client, cw, option, current, given):
    api = WIDGET.fields[option].api
    cw.add(WIDGETS, id=11, name="W1", **{api: current})
    outcome = Engine(client, WIDGET).ensure({"name": "W1", option: given})
    assert outcome.operation == "none", outcome.after
    assert cw.writes() == []


def test_reference_compared_by_id_not_by_name(client, cw):
    seed_refs(cw)
    cw.add(WIDGETS, id=11, name="W1", category={"id": 5, "name": "Renamed in CW", "_info": {}})
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "category": "Hardware"})
    assert outcome.operation == "none"
    assert cw.writes() == []


def test_reference_with_another_id_is_replaced(client, cw):
    seed_refs(cw)
    cw.add(WIDGETS, id=11, name="W1", category={"id": 4, "name": "Hardware"})
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "category": "Hardware"})
    assert sent(cw) == [("PATCH", WIDGETS + "/11",
                         [{"op": "replace", "path": "category", "value": {"id": 5}}])]
    assert outcome.before == {"category": {"id": 4, "name": "Hardware"}}
    assert outcome.after == {"category": {"id": 5}}


@pytest.mark.parametrize("option,current,given,wire", [
    ("description", None, "now set", "now set"),
    ("price", 12.5, 12.51, 12.51),
    ("price", None, 0, 0),
    ("start_date", "2026-10-01T00:00:00Z", "2026-10-02", "2026-10-02T00:00:00Z"),
    ("start_date", None, "2026-10-02", "2026-10-02T00:00:00Z"),
    ("taxable", False, True, True),
    ("taxable", True, False, False),
])
def test_different_values_are_replaced(client, cw, option, current, given, wire):
    api = WIDGET.fields[option].api
    cw.add(WIDGETS, id=11, name="W1", **{api: current})
    outcome = Engine(client, WIDGET).ensure({"name": "W1", option: given})
    assert outcome.operation == "update"
    assert sent(cw) == [("PATCH", WIDGETS + "/11", [{"op": "replace", "path": api, "value": wire}])]
    assert outcome.before == {api: current}
    assert outcome.after == {api: wire}


# ---- updating ----------------------------------------------------------------------------------------
def test_update_sends_one_patch_with_only_the_changed_fields(client, cw):
    seed_refs(cw)
    cw.add(WIDGETS, id=11, name="W1", description="old", price=10, quantity=2, taxableFlag=True,
           startDate="2026-01-01T00:00:00Z", category={"id": 5}, billing="Billable",
           _info={"lastUpdated": "2026-01-01T00:00:00Z"})
    outcome = Engine(client, WIDGET).ensure({
        "name": "W1", "description": "new", "price": "10.00", "quantity": 3, "taxable": True,
        "start_date": "2026-02-01", "category": "Hardware",
    })
    assert sent(cw) == [("PATCH", WIDGETS + "/11", [
        {"op": "replace", "path": "description", "value": "new"},
        {"op": "replace", "path": "quantity", "value": 3},
        {"op": "replace", "path": "startDate", "value": "2026-02-01T00:00:00Z"},
    ])]
    assert outcome.operation == "update"
    assert outcome.changed is True
    assert outcome.before == {"description": "old", "quantity": 2, "startDate": "2026-01-01T00:00:00Z"}
    assert outcome.after == {"description": "new", "quantity": 3, "startDate": "2026-02-01T00:00:00Z"}
    assert outcome.object["description"] == "new"
    assert outcome.object["billing"] == "Billable"  # create_default never applied on update
    assert "_info" not in outcome.object
    assert outcome.diff("widget W1") == {"before": outcome.before, "after": outcome.after,
                                         "before_header": "widget W1", "after_header": "widget W1"}


# ---- references ------------------------------------------------------------------------------------
def test_resolve_returns_id_and_caches_within_one_engine(client, cw):
    seed_refs(cw)
    engine = Engine(client, WIDGET)
    assert engine.references.resolve("category", CATEGORY, "Hardware") == {"id": 5}
    assert engine.references.resolve("category", CATEGORY, "Hardware") == {"id": 5}
    assert conditions_of(cw, CATEGORIES) == ['name = "Hardware"']
    Engine(client, WIDGET).references.resolve("category", CATEGORY, "Hardware")
    assert len(gets(cw, CATEGORIES)) == 2  # the cache belongs to one Engine


def test_resolve_passes_a_given_id_through_without_a_request(client, cw):
    assert Engine(client, WIDGET).references.resolve("category", CATEGORY, {"id": 42, "name": "x"}) == {"id": 42}
    assert cw.log == []


def test_reference_lookup_uses_the_ref_match_field(client, cw):
    cw.add(MEMBERS, id=3, identifier="jdoe", name="Jane")
    assert Engine(client, WIDGET).references.resolve("owner", OWNER, "jdoe") == {"id": 3}
    assert conditions_of(cw, MEMBERS) == ['identifier = "jdoe"']


def test_ensure_resolves_each_reference_once_across_ensures(client, cw):
    seed_refs(cw)
    engine = Engine(client, WIDGET)
    for name in ("A", "B", "C"):
        engine.ensure({"name": name, "description": "d", "category": "Hardware"})
    assert len(gets(cw, CATEGORIES)) == 1
    assert len(sent(cw, "POST")) == 3


def test_within_scopes_the_lookup_by_the_resolved_reference(client, cw):
    seed_refs(cw)
    cw.add(CATEGORIES, id=6, name="Software")
    cw.add(SUBCATEGORIES, id=50, name="Cables", category={"id": 5})
    cw.add(SUBCATEGORIES, id=60, name="Cables", category={"id": 6})
    outcome = Engine(client, WIDGET).ensure(
        {"name": "W1", "description": "d", "category": "Software", "subcategory": "Cables"})
    assert conditions_of(cw, SUBCATEGORIES) == ['(category/id = 6) and (name = "Cables")']
    assert sent(cw)[0][2]["subcategory"] == {"id": 60}
    assert outcome.operation == "create"


def test_unknown_reference_is_an_input_error_before_any_write(client, cw):
    with pytest.raises(InputError) as err:
        Engine(client, WIDGET).ensure({"name": "W1", "description": "d", "category": "Nope"})
    assert str(err.value) == "category: no category named 'Nope' in ConnectWise (procurement/categories)"
    assert cw.writes() == []
    assert gets(cw, WIDGETS) == []


def test_ambiguous_reference_is_an_input_error(client, cw):
    cw.add(CATEGORIES, id=5, name="Hardware")
    cw.add(CATEGORIES, id=7, name="HARDWARE")
    with pytest.raises(InputError) as err:
        Engine(client, WIDGET).ensure({"name": "W1", "description": "d", "category": "Hardware"})
    assert "matches 2 ConnectWise objects in procurement/categories" in str(err.value)
    assert "must be unique" in str(err.value)
    assert cw.writes() == []


def test_unknown_reference_in_check_mode_warns_and_predicts_without_the_placeholder_mark(client, cw):
    engine = Engine(client, WIDGET, check_mode=True)
    outcome = engine.ensure({"name": "W1", "description": "d", "category": "Later"})
    assert outcome.operation == "create"
    assert outcome.warnings == ["category 'Later' does not exist yet; assuming an earlier task creates it"]
    assert outcome.object["category"] == {"name": "Later"}
    assert outcome.after["category"] == {"name": "Later"}
    assert outcome.object["id"] is None
    assert cw.writes() == []


def test_unresolved_reference_in_check_mode_update_is_predicted_without_the_mark(client, cw):
    cw.add(WIDGETS, id=11, name="W1", category={"id": 5})
    outcome = Engine(client, WIDGET, check_mode=True).ensure({"name": "W1", "category": "Later"})
    assert outcome.operation == "update"
    assert outcome.after == {"category": {"name": "Later"}}
    # the flag never set reads false, as ConnectWise returns it
    assert outcome.object == {"id": 11, "name": "W1", "category": {"name": "Later"}, "taxableFlag": False}
    assert len(outcome.warnings) == 1
    assert cw.writes() == []


def test_within_reference_under_an_unresolved_scope_is_a_placeholder_in_check_mode(client, cw):
    outcome = Engine(client, WIDGET, check_mode=True).ensure(
        {"name": "W1", "description": "d", "category": "Later", "subcategory": "Cables"})
    assert gets(cw, SUBCATEGORIES) == []
    assert outcome.object["subcategory"] == {"name": "Cables"}
    assert cw.writes() == []


def test_within_reference_without_its_scope_is_never_sent_unresolved_in_a_real_run(client, cw):
    seed_refs(cw)
    cw.add(SUBCATEGORIES, id=50, name="Cables", category={"id": 5})
    cw.add(WIDGETS, id=11, name="W1", subcategory={"id": 50})
    with pytest.raises(InputError):
        Engine(client, WIDGET).ensure({"name": "W1", "subcategory": "Cables"})
    assert cw.writes() == []


def test_prefetch_reads_many_names_in_one_request_and_feeds_resolve(client, cw):
    seed_refs(cw)
    cw.add(CATEGORIES, id=6, name="Software")
    engine = Engine(client, WIDGET)
    found = engine.references.prefetch(CATEGORY, ["hardware", "Software", "Missing"])
    assert [r["id"] for r in found["hardware"]] == [5]
    assert [r["id"] for r in found["Software"]] == [6]
    assert found["Missing"] == []
    queries = gets(cw, CATEGORIES)
    assert len(queries) == 1
    assert queries[0]["conditions"] == 'name in ("Missing","Software","hardware")'
    assert queries[0]["fields"] == "id,name"
    assert engine.references.resolve("category", CATEGORY, "hardware") == {"id": 5}
    with pytest.raises(InputError, match="no category named 'Missing'"):
        engine.references.resolve("category", CATEGORY, "Missing")
    engine.references.prefetch(CATEGORY, ["Software"])
    assert len(gets(cw, CATEGORIES)) == 1  # everything already cached, no request


# ---- creating --------------------------------------------------------------------------------------
def test_create_defaults_and_create_default_values_only_fill_what_is_not_given(client, cw):
    seed_refs(cw)
    cw.add(MEMBERS, id=3, identifier="jdoe")
    engine = Engine(client, widget_resource(owner_default="jdoe"))
    outcome = engine.ensure({"name": "W1", "description": "d", "widget_type": "Gadget", "billing": "Billable"})
    assert sent(cw) == [("POST", WIDGETS, {
        "source": "ansible", "level": 1, "billing": "Billable", "owner": {"id": 3},
        "name": "W1", "description": "d", "type": {"id": 9},
    })]
    assert conditions_of(cw, MEMBERS) == ['identifier = "jdoe"']
    assert outcome.after["owner"] == {"id": 3}


def test_callable_create_default_is_asked_with_desired_and_resolved(client, cw):
    seed_refs(cw)
    asked = []

    def owner(desired, resolved):
        asked.append((dict(desired), dict(resolved)))
        return {"id": 77}

    engine = Engine(client, widget_resource(owner_default=owner))
    engine.ensure({"name": "W1", "description": "d", "category": "Hardware"})
    assert sent(cw, "POST")[0][2]["owner"] == {"id": 77}
    assert gets(cw, MEMBERS) == []  # a known id needs no lookup
    assert asked[-1] == ({"name": "W1", "description": "d", "category": "Hardware"}, {"category": {"id": 5}})


def test_callable_create_default_none_means_no_value(client, cw):
    seed_refs(cw)
    engine = Engine(client, widget_resource(owner_default=lambda desired, resolved: None))
    engine.ensure({"name": "W1", "description": "d", "category": "Hardware"})
    assert "owner" not in sent(cw, "POST")[0][2]


def test_callable_create_default_raising_input_error_stops_the_create(client, cw):
    seed_refs(cw)

    def owner(desired, resolved):
        raise InputError("no owner for %s" % desired["name"])

    engine = Engine(client, widget_resource(owner_default=owner,
                                            required_on_create=("description", "owner")))
    with pytest.raises(InputError, match="no owner for W1"):
        engine.ensure({"name": "W1", "description": "d"})
    assert cw.writes() == []


def test_create_defaults_are_never_compared_nor_asked_on_update(client, cw):
    asked = []

    def owner(desired, resolved):
        asked.append(desired)
        return {"id": 77}

    cw.add(WIDGETS, id=11, name="W1", description="d", billing="Billable", source="manual", level=3,
           owner={"id": 1})
    outcome = Engine(client, widget_resource(owner_default=owner)).ensure({"name": "W1", "description": "d"})
    assert outcome.operation == "none"
    assert asked == []
    assert cw.writes() == []


def test_required_on_create_names_the_missing_options_before_any_write(client, cw):
    with pytest.raises(InputError) as err:
        Engine(client, WIDGET).ensure({"name": "W1"})
    assert str(err.value) == ("cannot create widget name='W1': ConnectWise requires on create: "
                              "description, category or widget_type (not given)")
    assert cw.writes() == []


def test_required_on_create_tuple_is_satisfied_by_any_one_option(client, cw):
    seed_refs(cw)
    Engine(client, WIDGET).ensure({"name": "W1", "description": "d", "widget_type": "Gadget"})
    assert len(sent(cw, "POST")) == 1


def test_required_on_create_is_satisfied_by_a_create_default(client, cw):
    engine = Engine(client, widget_resource(owner_default=lambda d, r: {"id": 1},
                                            required_on_create=("owner", "billing")))
    engine.ensure({"name": "W1"})
    assert sent(cw, "POST")[0][2]["owner"] == {"id": 1}


def test_required_on_create_is_not_enforced_on_update(client, cw):
    cw.add(WIDGETS, id=11, name="W1", price=1)
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "price": 2})
    assert outcome.operation == "update"


# ---- check mode ------------------------------------------------------------------------------------
def _scenario(cw, kind):
    seed_refs(cw)
    if kind in ("update", "none", "delete"):
        cw.add(WIDGETS, id=11, name="W1", description="old" if kind == "update" else "d",
               category={"id": 5}, price=2, _info={"x": 1})


@pytest.mark.parametrize("kind,params,state", [
    ("create", {"name": "W1", "description": "d", "category": "Hardware"}, "present"),
    ("update", {"name": "W1", "description": "d", "price": 2.0}, "present"),
    ("none", {"name": "W1", "description": "d"}, "present"),
    ("delete", {"name": "W1"}, "absent"),
    ("none", {"name": "W1"}, "absent"),
])
def test_check_mode_predicts_the_real_run_with_zero_writes(client, cw, kind, params, state):
    fake = cw
    _scenario(fake, kind if state == "present" or kind == "delete" else "create")
    predicted = Engine(client, WIDGET, check_mode=True).ensure(dict(params), state)
    assert fake.writes() == []
    real = Engine(client, WIDGET).ensure(dict(params), state)
    assert len(fake.writes()) == (0 if kind == "none" else 1)
    assert (predicted.operation, predicted.changed) == (real.operation, real.changed)
    assert predicted.operation == kind
    assert predicted.before == real.before
    assert predicted.after == real.after
    if kind == "update":
        assert predicted.object == real.object == {"id": 11, "name": "W1", "description": "d",
                                                   "category": {"id": 5}, "price": 2, "taxableFlag": False}
    if kind == "create":
        assert predicted.object["id"] is None
        assert {k: v for k, v in predicted.object.items() if k != "id"} == \
            {k: v for k, v in real.object.items() if k != "id"}


# ---- state absent ----------------------------------------------------------------------------------
def test_absent_deletes_the_found_object(client, cw):
    cw.add(WIDGETS, id=11, name="W1", description="d", _info={"x": 1})
    outcome = Engine(client, WIDGET).ensure({"name": "W1"}, state="absent")
    assert [(m, p) for m, p, _q in cw.writes()] == [("DELETE", WIDGETS + "/11")]
    assert outcome.operation == "delete"
    assert outcome.changed is True
    assert outcome.object is None
    assert outcome.before == {"id": 11, "name": "W1", "description": "d", "taxableFlag": False}
    assert cw.rows(WIDGETS) == []


def test_absent_when_missing_does_nothing(client, cw):
    outcome = Engine(client, WIDGET).ensure({"name": "W1"}, state="absent")
    assert outcome.operation == "none"
    assert outcome.changed is False
    assert outcome.key == {"name": "W1"}
    assert cw.writes() == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_absent_with_a_missing_parent_is_none(client, cw, check_mode):
    outcome = Engine(client, CHILD, check_mode=check_mode).ensure(
        {"integration": "Gone", "level": "L1"}, state="absent")
    assert outcome.operation == "none"
    assert outcome.warnings == []
    assert conditions_of(cw, PARENTS) == ['name = "Gone"']
    assert [p for _m, p, _q in cw.calls("GET")] == [PARENTS]
    assert cw.writes() == []


def test_absent_with_an_existing_key_reference_looks_up_by_its_id(client, cw):
    seed_company(cw, 1, "acme")
    cw.add(AGREEMENTS, id=71, company={"id": 1}, name="Backup", type={"id": seed_agreement_type(cw)["id"]},
           contact={"id": 1})
    outcome = Engine(client, AGREEMENT).ensure({"company": "acme", "name": "Backup"}, state="absent")
    assert conditions_of(cw, AGREEMENTS) == ['(company/id = 1) and (name = "Backup")']
    assert outcome.operation == "delete"
    assert [(m, p) for m, p, _q in cw.writes()] == [("DELETE", AGREEMENTS + "/71")]


def test_absent_with_a_missing_key_reference_is_none_as_in_check_mode(client, cw):
    predicted = Engine(client, AGREEMENT, check_mode=True).ensure(
        {"company": "gone", "name": "Backup"}, state="absent")
    assert predicted.operation == "none"
    real = Engine(client, AGREEMENT).ensure({"company": "gone", "name": "Backup"}, state="absent")
    assert real.operation == "none"
    assert cw.writes() == []


# ---- OutcomeUnknown on POST ------------------------------------------------------------------------
def test_unknown_post_outcome_reread_finds_the_object_and_adopts_it(client, cw):
    seed_refs(cw)

    def created_then_lost(method, path, body):
        if method == "POST":
            cw.add(path, id=500, **body)
            return 502, {"code": "BadGateway", "message": "upstream"}
        return None

    cw.refuse = created_then_lost
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "description": "d", "category": "Hardware"})
    assert len(sent(cw, "POST")) == 1
    assert outcome.operation == "create"
    assert outcome.object["id"] == 500
    assert conditions_of(cw, WIDGETS) == ['name = "W1"'] * 3  # find, re-read after the lost answer, converge
    assert len(cw.rows(WIDGETS)) == 1


def test_unknown_post_outcome_with_nothing_created_posts_exactly_once_more(client, cw):
    seed_refs(cw)
    refused = []

    def first_lost(method, path, body):
        if method == "POST" and not refused:
            refused.append(body)
            return 504, {"code": "GatewayTimeout", "message": "timeout"}
        return None

    cw.refuse = first_lost
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "description": "d", "category": "Hardware"})
    posts = sent(cw, "POST")
    assert len(posts) == 2
    assert posts[0][2] == posts[1][2]
    assert outcome.operation == "create"
    assert outcome.object["id"] == cw.rows(WIDGETS)[0]["id"]
    assert len(cw.rows(WIDGETS)) == 1


def test_every_post_outcome_unknown_raises_after_the_bounded_attempts(client, cw):
    seed_refs(cw)
    cw.refuse = lambda method, path, body: (503, {"code": "Unavailable"}) if method == "POST" else None
    with pytest.raises(OutcomeUnknown):
        Engine(client, WIDGET).ensure({"name": "W1", "description": "d", "category": "Hardware"})
    assert len(sent(cw, "POST")) == client_mod.POST_ATTEMPTS == 3
    assert len(gets(cw, WIDGETS)) == 1 + 3  # the find, then one re-read per unknown outcome
    assert cw.rows(WIDGETS) == []


# ---- nested resources ------------------------------------------------------------------------------
def test_nested_resource_path_uses_the_parent_id(client, cw):
    cw.add(PARENTS, id=8, name="Backup")
    path = CHILDREN.format(parent=8)
    cw.add(path, id=31, vendorLevel="L1", inactiveFlag=False)
    engine = Engine(client, CHILD)
    outcome = engine.ensure({"integration": "Backup", "level": "L1", "inactive": True})
    assert conditions_of(cw, PARENTS) == ['name = "Backup"']
    assert conditions_of(cw, path) == ['vendorLevel = "L1"']
    assert sent(cw) == [("PATCH", path + "/31", [{"op": "replace", "path": "inactiveFlag", "value": True}])]
    assert outcome.operation == "update"
    created = engine.ensure({"integration": "Backup", "level": "L2"})
    assert created.operation == "create"
    assert sent(cw)[-1] == ("POST", path, {"vendorLevel": "L2"})
    assert len(gets(cw, PARENTS)) == 1  # the parent is resolved once per engine
    engine.ensure({"integration": "Backup", "level": "L2"}, state="absent")
    assert sent(cw)[-1] == ("DELETE", path + "/%s" % created.object["id"], None)


def test_nested_resource_with_missing_parent_in_check_mode_predicts_create(client, cw):
    outcome = Engine(client, CHILD, check_mode=True).ensure({"integration": "Later", "level": "L1"})
    assert outcome.operation == "create"
    # ConnectWise returns a new object's flags false when they were not sent: the prediction says so too.
    assert outcome.object == {"vendorLevel": "L1", "inactiveFlag": False, "id": None}
    assert outcome.warnings == ["integration 'Later' does not exist yet; assuming an earlier task creates it"]
    assert [p for _m, p, _q in cw.calls("GET")] == [PARENTS]
    assert cw.writes() == []


def test_nested_resource_with_missing_parent_in_a_real_run_is_an_input_error(client, cw):
    with pytest.raises(InputError, match="no integration named 'Later'"):
        Engine(client, CHILD).ensure({"integration": "Later", "level": "L1"})
    assert cw.writes() == []


# ---- ensure_many -----------------------------------------------------------------------------------
def test_ensure_many_reads_existing_in_chunked_in_queries(client, cw):
    seed_refs(cw)
    for i in range(0, 150, 2):
        cw.add(WIDGETS, name="w%03d" % i, description="d", category={"id": 5, "name": "Hardware"})
    items = [{"name": "w%03d" % i, "description": "d", "category": "Hardware"} for i in range(150)]
    engine = Engine(client, WIDGET)
    outcomes = engine.ensure_many(items, bulk_key="name")
    reads = gets(cw, WIDGETS)
    # the existing ones in 2 chunks, then the 75 created ones re-read once (one chunk) to converge
    assert len(reads) == 150 // IN_CHUNK + 1 + 1 == 3
    assert all(q["conditions"].startswith("name in (") for q in reads)
    assert reads[0]["conditions"].count(",") == IN_CHUNK - 1
    assert len(gets(cw, CATEGORIES)) == 1
    assert [o.key for o in outcomes] == [{"name": item["name"]} for item in items]
    assert [o.operation for o in outcomes] == ["none" if i % 2 == 0 else "create" for i in range(150)]
    assert len(sent(cw, "POST")) == 75
    assert cw.writes() == cw.calls("POST")


def test_ensure_many_matches_keys_case_insensitively(client, cw):
    cw.add(WIDGETS, id=11, name="Alpha", description="old")
    cw.add(WIDGETS, id=12, name="Beta", description="same")
    outcomes = Engine(client, WIDGET).ensure_many(
        [{"name": "ALPHA", "description": "new"}, {"name": "beta"}], bulk_key="name")
    assert [o.operation for o in outcomes] == ["update", "update"]
    assert [o.object["id"] for o in outcomes] == [11, 12]
    # the key matched case-insensitively; the key field itself is a compared str option, so the
    # user's spelling is written back (the same as a single ensure does)
    assert sent(cw) == [
        ("PATCH", WIDGETS + "/11", [{"op": "replace", "path": "description", "value": "new"},
                                    {"op": "replace", "path": "name", "value": "ALPHA"}]),
        ("PATCH", WIDGETS + "/12", [{"op": "replace", "path": "name", "value": "beta"}]),
    ]
    assert len(sent(cw, "POST")) == 0
    assert len(gets(cw, WIDGETS)) == 1


def test_ensure_many_records_per_item_failures_and_continues(client, cw):
    seed_refs(cw)
    cw.add(WIDGETS, id=21, name="Dup", description="x")
    cw.add(WIDGETS, id=22, name="DUP", description="y")
    items = [
        {"name": "ok1", "description": "d", "category": "Hardware"},
        {"name": "Dup", "description": "d"},
        {"name": "bad-ref", "description": "d", "category": "Nope"},
        {"name": "x" * 21, "description": "d"},
        {"name": "no-required"},
        {"name": "ok2", "description": "d", "widget_type": "Gadget"},
    ]
    outcomes = Engine(client, WIDGET).ensure_many(items, bulk_key="name")
    assert [o.operation for o in outcomes] == ["create", "none", "none", "none", "none", "create"]
    assert [o.failed for o in outcomes] == [False, True, True, True, True, False]
    assert "ambiguous" in outcomes[1].error and "ids 21, 22" in outcomes[1].error
    assert "no category named 'Nope'" in outcomes[2].error
    assert "ConnectWise allows at most 20" in outcomes[3].error
    assert "requires on create: description" in outcomes[4].error
    assert outcomes[2].key == {"name": "bad-ref"}
    assert [b["name"] for _m, _p, b in sent(cw, "POST")] == ["ok1", "ok2"]
    # one bulk find, one bulk re-read of the two created, and the ambiguous key read again over the settle
    # window (another run's duplicate would be gone by then; a hand-made one stays and is refused)
    assert len(gets(cw, WIDGETS)) == 2 + 1 + len(client.transport.retry.settle_delays(client.transport.timeout))


def test_ensure_many_waits_for_an_overlapping_runs_duplicate_to_go(client, cw):
    """A key seen with two objects is read again: the run that made the higher id removes it meanwhile."""
    seed_refs(cw)
    kept = cw.add(WIDGETS, name="raced", description="d")
    duplicate = cw.add(WIDGETS, name="raced", description="d")
    slept = []

    def other_run_cleans_up(seconds):
        slept.append(seconds)
        cw.store.delete(cw.app.route(WIDGETS)[0], duplicate["id"])
    client.transport.retry.sleep = other_run_cleans_up
    [outcome] = Engine(client, WIDGET).ensure_many([{"name": "raced", "description": "d"}], bulk_key="name")
    assert not outcome.failed and outcome.operation == "none" and outcome.object["id"] == kept["id"]
    assert len(slept) == 1 and cw.writes() == []


@pytest.mark.parametrize("state", ["present", "absent"])
def test_ensure_many_check_mode_makes_no_writes(client, cw, state):
    seed_refs(cw)
    cw.add(WIDGETS, id=11, name="exists", description="old")
    items = [{"name": "exists", "description": "new"}, {"name": "new", "description": "d", "category": "Later"}]
    outcomes = Engine(client, WIDGET, check_mode=True).ensure_many(items, state=state, bulk_key="name")
    assert cw.writes() == []
    if state == "present":
        assert [o.operation for o in outcomes] == ["update", "create"]
        assert outcomes[0].object["description"] == "new"
        assert outcomes[1].object["id"] is None
        assert outcomes[1].object["category"] == {"name": "Later"}
        assert len(outcomes[1].warnings) == 1
    else:
        assert [o.operation for o in outcomes] == ["delete", "none"]


def test_ensure_many_with_a_reference_bulk_key_groups_by_the_shared_key(client, cw):
    seed_company(cw, 1, "acme")
    seed_company(cw, 2, "beta")
    seed_agreement_type(cw, 3)
    cw.add(AGREEMENTS, id=71, company={"id": 2}, name="Backup", type={"id": 3}, contact={"id": 2})
    cw.add(AGREEMENTS, id=72, company={"id": 1}, name="Other", type={"id": 3}, contact={"id": 1})
    engine = Engine(client, AGREEMENT)
    engine.references.prefetch(AGREEMENT.fields["company"].ref, ["acme", "beta"])
    required = {"agreement_type": {"id": 3}}  # ConnectWise refuses an agreement without a type and contact
    outcomes = engine.ensure_many([dict(required, company="acme", name="Backup", contact={"id": 1}),
                                   dict(required, company="beta", name="Backup", contact={"id": 2})],
                                  bulk_key="company")
    # the bulk find, then the re-read of the one created (acme) to converge
    assert conditions_of(cw, AGREEMENTS) == ['(company/id in (1,2)) and (name = "Backup")',
                                             '(company/id in (1)) and (name = "Backup")']
    assert len(gets(cw, COMPANIES)) == 1
    assert [o.operation for o in outcomes] == ["create", "none"]
    assert sent(cw) == [("POST", AGREEMENTS, {"company": {"id": 1}, "name": "Backup", "type": {"id": 3},
                                              "contact": {"id": 1}})]


def test_ensure_many_with_the_same_key_twice_creates_once(client, cw):
    seed_refs(cw)
    item = {"name": "Twin", "description": "d", "widget_type": "Gadget"}
    outcomes = Engine(client, WIDGET).ensure_many([dict(item), dict(item)], bulk_key="name")
    assert [o.error for o in outcomes] == [None, None]
    assert len(sent(cw, "POST")) <= 1
    assert sum(o.operation == "create" for o in outcomes) <= 1


# ---- input validation ------------------------------------------------------------------------------
def test_max_length_violation_names_option_length_and_limit_before_any_request(client, cw):
    with pytest.raises(InputError) as err:
        Engine(client, WIDGET).ensure({"name": "W1", "description": "x" * 61})
    assert str(err.value) == "description: %r is 61 characters long; ConnectWise allows at most 60" % ("x" * 61)
    assert cw.log == []


def test_max_length_at_the_limit_is_accepted(client, cw):
    cw.add(WIDGETS, id=11, name="n" * 20)
    assert Engine(client, WIDGET).ensure({"name": "n" * 20}).operation == "none"


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_key_value_is_refused(client, cw, value):
    with pytest.raises(InputError, match="^name must not be empty$"):
        Engine(client, WIDGET).ensure({"name": value})
    assert cw.log == []


def test_missing_key_is_refused(client, cw):
    with pytest.raises(InputError, match="missing required option\\(s\\): name"):
        Engine(client, WIDGET).ensure({"description": "d"})
    assert cw.log == []


@pytest.mark.parametrize("value,message", [
    ("01/10/2026", "start_date: '01/10/2026' is not a date in the form YYYY-MM-DD"),
    ("2026-02-30", "start_date: '2026-02-30' is not a valid calendar date"),
])
def test_bad_date_is_refused_naming_the_option(client, cw, value, message):
    with pytest.raises(InputError) as err:
        Engine(client, WIDGET).ensure({"name": "W1", "start_date": value})
    assert str(err.value) == message
    assert cw.log == []


# ---- Outcome -------------------------------------------------------------------------------------
def test_outcome_changed_and_failed():
    assert [Outcome(op, None).changed for op in ("create", "update", "delete", "none")] == [True, True, True, False]
    assert Outcome("none", None, error="boom").failed is True
    assert Outcome("none", None).diff() == {"before": {}, "after": {}}


def test_ensure_many_with_the_same_key_and_other_values_fails_the_repeat_only(client, cw):
    seed_refs(cw)
    item = {"name": "Twin", "description": "d", "widget_type": "Gadget"}
    outcomes = Engine(client, WIDGET).ensure_many([dict(item), dict(item, description="other")], bulk_key="name")
    assert outcomes[0].operation == "create" and outcomes[0].error is None
    assert "given again (item 2) with other values than item 1" in outcomes[1].error
    assert len(sent(cw, "POST")) == 1


# ---- overlapping runs: a create converges ---------------------------------------------------------
def _twin_created_by_another_run(cw, twin_id):
    """On our POST, another run's create of the same key commits too (with ``twin_id``)."""
    def refuse(method, path, body):
        if method == "POST":
            cw.add(path, id=twin_id, **body)
        return None
    cw.refuse = refuse


def test_create_that_lost_the_race_deletes_its_own_and_adopts_the_lowest_id(client, cw):
    seed_refs(cw)
    _twin_created_by_another_run(cw, twin_id=7)
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "description": "d", "category": "Hardware"})
    assert [r["id"] for r in cw.rows(WIDGETS)] == [7]
    [post, delete] = sent(cw)
    assert post[0] == "POST" and delete[0] == "DELETE" and delete[1] != WIDGETS + "/7"
    assert outcome.object["id"] == 7 and outcome.operation == "none"
    assert outcome.converged == {"kept": 7, "removed": [int(delete[1].rsplit("/", 1)[1])]}
    assert outcome.changed and any("deleted our duplicate" in w for w in outcome.warnings)


def test_create_that_won_the_race_keeps_its_object(client, cw):
    seed_refs(cw)
    twins = []
    # the other run commits just after ours, so its object has the higher id (ids follow commits)
    cw.after = lambda method, path, body: twins.append(cw.add(path, **body)) if method == "POST" else None
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "description": "d", "category": "Hardware"})
    assert outcome.operation == "create" and outcome.object["id"] < twins[0]["id"]
    assert [m for m, _p, _b in sent(cw)] == ["POST"]  # the other run removes its own
    assert outcome.converged["kept"] == outcome.object["id"]


def test_adopted_winner_gets_the_fields_this_run_asks_for(client, cw):
    seed_refs(cw)

    def refuse(method, path, body):
        if method == "POST":
            cw.add(path, id=7, **dict(body, description="theirs"))
        return None
    cw.refuse = refuse
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "description": "ours", "category": "Hardware"})
    assert outcome.operation == "update" and outcome.object["description"] == "ours"
    assert [r["description"] for r in cw.rows(WIDGETS)] == ["ours"]


def test_duplicate_refused_by_connectwise_is_adopted(client, cw):
    seed_refs(cw)

    def refuse(method, path, body):
        if method == "POST":
            cw.add(path, id=7, **body)
            return 400, {"code": "InvalidObject", "message": "widget object is invalid",
                         "errors": [{"code": "InvalidField", "field": "name", "message": "already exists"}]}
        return None
    cw.refuse = refuse
    outcome = Engine(client, WIDGET).ensure({"name": "W1", "description": "d", "category": "Hardware"})
    assert outcome.object["id"] == 7 and outcome.operation == "none" and not outcome.failed
    assert outcome.converged == {"kept": 7, "removed": []}


def test_invalid_create_is_still_an_error(client, cw):
    seed_refs(cw)
    cw.refuse = lambda method, path, body: (400, {"code": "InvalidObject", "message": "bad"}) if method == "POST" else None
    with pytest.raises(ApiError):
        Engine(client, WIDGET).ensure({"name": "W1", "description": "d", "category": "Hardware"})


def test_ensure_many_converges_each_raced_create_with_one_bulk_reread(client, cw):
    seed_refs(cw)
    twins = []

    def refuse(method, path, body):
        if method == "POST" and body["name"] in ("w1", "w3"):
            twins.append(cw.add(path, **body)["id"])  # committed just before ours: the lower id
        return None
    cw.refuse = refuse
    items = [{"name": "w%d" % i, "description": "d", "category": "Hardware"} for i in range(5)]
    outcomes = Engine(client, WIDGET).ensure_many(items, bulk_key="name")
    assert sorted(r["name"] for r in cw.rows(WIDGETS)) == ["w0", "w1", "w2", "w3", "w4"]
    assert [o.operation for o in outcomes] == ["create", "none", "create", "none", "create"]
    assert [outcomes[1].object["id"], outcomes[3].object["id"]] == twins
    assert len(gets(cw, WIDGETS)) == 2
