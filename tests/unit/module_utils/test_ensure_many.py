"""The engine's capabilities for many objects at once (``Engine.ensure_many``) and what it declares.

Bulk reads with per-item outcomes, task-level (shared) references, a reference matched within its
parent (a contact by full name among its company's), create defaults taken from a referenced row,
the one ``absent`` rule, and ``Many``/``exit_many`` turning entries and outcomes into a result.
The ConnectWise is the sandbox in-process (``sandbox_client.SandboxConnectWise``, with service tickets
from ``engine_sandbox.py``); its log says which reads were made.
"""

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.declarations import (
    FULL_NAME,
    Field,
    FromRef,
    Ref,
    Resource,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.engine import Engine
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.options import desired_fields
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.results import Many
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError

from ..sandbox_client import SandboxConnectWise
from .engine_sandbox import ENGINE_TABLES
from .test_ensure import CHILD, CHILDREN, PARENTS

COMPANIES = "company/companies"
CONTACTS = "company/contacts"
TYPES = "service/types"
TICKETS = "service/tickets"

COMPANY = Ref(COMPANIES, match="identifier", label="company", fields=("name", "defaultContact"),
              created_by_collection=False,
              missing="company {value!r}: unknown ({path})", ambiguous="company {value!r}: {count} of them (ids {ids})")
CONTACT = Ref(CONTACTS, match=FULL_NAME, within=("company", "company/id"), label="contact", ids=True,
              created_by_collection=False,
              missing="company {scope!r}: no contact {value!r}",
              ambiguous="company {scope!r}: contact {value!r} is {count} contacts (ids {ids})")
TYPE = Ref(TYPES, label="ticket type")


def ticket(company_ref):
    return Resource(
        name="ticket",
        path=TICKETS,
        key=("company", "summary"),
        fields={
            "company": Field("company", kind="ref", ref=company_ref),
            "summary": Field("summary", max_length=40),
            "ticket_type": Field("type", kind="ref", ref=TYPE),
            "contact": Field("contact", kind="ref", ref=CONTACT,
                             create_default=FromRef("company", "defaultContact",
                                                    "company {row[identifier]!r} ({row[name]}) has no default contact")),
            "priority": Field("priority"),
        },
        required_on_create=("ticket_type", "contact"),
    )


TICKET = ticket(COMPANY)


@pytest.fixture
def cw():
    sandbox = SandboxConnectWise(resources=ENGINE_TABLES)
    sandbox.add(TYPES, id=3, name="Backup")
    return sandbox


@pytest.fixture
def client(cw):
    return cw.client()


def company(cw, identifier, default_contact=True, name=None):
    row = cw.add(COMPANIES, identifier=identifier, name=name or "%s Inc" % identifier)
    if default_contact:
        cw.add(CONTACTS, firstName="Default", lastName=identifier, company={"id": row["id"]}, defaultFlag=True)
    return cw.get(COMPANIES, row["id"])  # with its default contact, as ConnectWise keeps it


def items(*companies, **options):
    return [dict({"company": c, "summary": "Backup", "ticket_type": "Backup"}, **options) for c in companies]


def reads(cw, path):
    return [query for method, p, query in cw.calls("GET") if p == path]


def sent_contacts(cw):
    """The ``contact`` of every ticket created, as sent (ConnectWise answers it expanded, with its name)."""
    return [body.get("contact") for method, path, body in cw.sent if method == "POST"]


# ---- shared references --------------------------------------------------------------------------------

def test_a_shared_reference_is_resolved_once_before_anything_else(client, cw):
    for n in range(3):
        company(cw, "C%d" % n)
    outcomes = Engine(client, TICKET).ensure_many(items("C0", "C1", "C2"), bulk_key="company", shared=("ticket_type",))
    assert [o.operation for o in outcomes] == ["create"] * 3
    assert cw.log[0][1] == TYPES and len(reads(cw, TYPES)) == 1


def test_a_shared_reference_that_fails_fails_the_call_once_before_any_other_read(client, cw):
    company(cw, "C0")
    with pytest.raises(InputError, match="no ticket type named 'Nope'"):
        Engine(client, TICKET).ensure_many(items("C0", "C1", ticket_type="Nope"), bulk_key="company",
                                           shared=("ticket_type",))
    assert len(cw.log) == 1 and cw.writes() == []


def test_without_shared_the_same_failure_is_each_items_own(client, cw):
    company(cw, "C0")
    company(cw, "C1")
    outcomes = Engine(client, TICKET).ensure_many(items("C0", "C1", ticket_type="Nope"), bulk_key="company")
    assert [o.failed for o in outcomes] == [True, True]
    assert all("no ticket type named 'Nope'" in o.error for o in outcomes)


# ---- bulk reads ------------------------------------------------------------------------------------------

def test_references_are_read_in_bulk_one_read_per_table_and_one_per_contact_name(client, cw):
    names = ["C%03d" % n for n in range(40)]
    for identifier in names:
        row = company(cw, identifier)
        cw.add(CONTACTS, firstName="Mary Ann", lastName="Smith", company={"id": row["id"]})
        cw.add(CONTACTS, firstName="Bob", lastName="Jones", company={"id": row["id"]})
    wanted = [dict(item, contact="mary ann SMITH" if n % 2 else "Bob  Jones") for n, item in enumerate(items(*names))]
    outcomes = Engine(client, TICKET).ensure_many(wanted, bulk_key="company", shared=("ticket_type",))
    assert [o.error for o in outcomes] == [None] * 40
    assert len(reads(cw, COMPANIES)) == 1 and len(reads(cw, TYPES)) == 1
    # one read per distinct name, each over all the companies it is asked within
    contact_reads = reads(cw, CONTACTS)
    assert len(contact_reads) == 2
    assert all(q["conditions"].startswith("(company/id in (") for q in contact_reads)
    assert reads(cw, COMPANIES)[0]["fields"] == "id,identifier,name,defaultContact"
    by_company = {body["company"]["id"]: body["contact"]["id"] for method, path, body in cw.sent}
    contacts = {(c["company"]["id"], c["firstName"]): c["id"] for c in cw.rows(CONTACTS)}
    for n, identifier in enumerate(names):
        company_id = [c["id"] for c in cw.rows(COMPANIES) if c["identifier"] == identifier][0]
        assert by_company[company_id] == contacts[(company_id, "Mary Ann" if n % 2 else "Bob")]


def test_a_contact_is_matched_among_its_own_companys_contacts_only(client, cw):
    acme, globex = company(cw, "Acme"), company(cw, "Globex")
    mary = cw.add(CONTACTS, firstName="Mary", lastName="Smith", company={"id": acme["id"]})
    cw.add(CONTACTS, firstName="Mary", lastName="Smithson", company={"id": globex["id"]})
    outcomes = Engine(client, TICKET).ensure_many(items("Acme", "Globex", contact="Mary Smith"), bulk_key="company")
    assert outcomes[0].operation == "create" and outcomes[0].object["contact"]["id"] == mary["id"]
    assert sent_contacts(cw) == [{"id": mary["id"]}]
    assert outcomes[1].error == "company 'Globex': no contact 'Mary Smith'"
    assert len(cw.calls("POST")) == 1


def test_a_one_word_contact_name_is_a_first_or_last_name_but_must_be_the_whole_name(client, cw):
    acme = company(cw, "Acme")
    cher = cw.add(CONTACTS, firstName="Cher", lastName=None, company={"id": acme["id"]})
    cw.add(CONTACTS, firstName="Cher", lastName="Horowitz", company={"id": acme["id"]})
    [outcome] = Engine(client, TICKET).ensure_many(items("Acme", contact="cher"), bulk_key="company")
    assert outcome.error is None and outcome.object["contact"]["id"] == cher["id"]
    assert sent_contacts(cw) == [{"id": cher["id"]}]


def test_an_ambiguous_contact_names_its_company_and_the_ids(client, cw):
    acme = company(cw, "Acme")
    twins = [cw.add(CONTACTS, firstName="Sam", lastName="Lee", company={"id": acme["id"]}) for _n in range(2)]
    [outcome] = Engine(client, TICKET).ensure_many(items("acme", contact="Sam Lee"), bulk_key="company")
    # the company as ConnectWise spells it, read with the company
    assert outcome.error == "company 'Acme': contact 'Sam Lee' is 2 contacts (ids %d, %d)" % (
        twins[0]["id"], twins[1]["id"])
    assert cw.writes() == []


def test_a_number_given_for_an_ids_reference_is_its_id_and_is_not_looked_up(client, cw):
    acme = company(cw, "Acme")
    cw.add(CONTACTS, id=4711, firstName="Known", lastName="ById", company={"id": acme["id"]})
    [outcome] = Engine(client, TICKET).ensure_many(items("Acme", contact=" 4711 "), bulk_key="company")
    assert outcome.object["contact"]["id"] == 4711 and sent_contacts(cw) == [{"id": 4711}]
    assert reads(cw, CONTACTS) == []


@pytest.mark.parametrize("value, message", [("  ", "contact must not be empty"),
                                            (True, "contact must be an id or a name, got True")])
def test_a_reference_given_as_nothing_usable_is_refused_naming_the_option(client, cw, value, message):
    with pytest.raises(InputError, match=message):
        desired_fields(TICKET, dict(items("Acme")[0], contact=value))


# ---- customer data is never assumed --------------------------------------------------------------------

def test_check_mode_assumes_a_missing_collection_object_but_never_a_missing_company(client, cw):
    company(cw, "Acme")
    engine = Engine(client, TICKET, check_mode=True)
    outcomes = engine.ensure_many(items("Acme", "Ghost", ticket_type="Later"), bulk_key="company")
    assert outcomes[0].operation == "create" and outcomes[0].error is None
    assert any("ticket type 'Later' does not exist yet" in w for w in outcomes[0].warnings)
    assert outcomes[1].error == "company 'Ghost': unknown (company/companies)"
    assert [u["label"] for u in engine.unresolved] == ["ticket type"]
    assert cw.writes() == []


def test_an_ambiguous_company_uses_the_declared_wording(client, cw):
    # ConnectWise keeps company identifiers unique, names not: two companies answer to one name
    first, second = company(cw, "Twin1", name="Twin"), company(cw, "Twin2", name="TWIN")
    by_name = Ref(COMPANIES, match="name", label="company", fields=("identifier", "defaultContact"),
                  created_by_collection=False, missing=COMPANY.missing, ambiguous=COMPANY.ambiguous)
    [outcome] = Engine(client, ticket(by_name)).ensure_many(items("twin"), bulk_key="company")
    assert outcome.error == "company 'twin': 2 of them (ids %d, %d)" % (first["id"], second["id"])


# ---- create defaults from a referenced row ---------------------------------------------------------------

def test_a_new_object_takes_the_default_from_the_referenced_row_read_with_it(client, cw):
    acme = company(cw, "Acme")
    [outcome] = Engine(client, TICKET).ensure_many(items("Acme"), bulk_key="company")
    assert outcome.object["contact"]["id"] == acme["defaultContact"]["id"]
    assert sent_contacts(cw) == [{"id": acme["defaultContact"]["id"]}]
    assert len(reads(cw, COMPANIES)) == 1  # the default came with the bulk read: no read by id


def test_without_the_field_the_create_fails_with_the_declared_words_and_others_go_on(client, cw):
    company(cw, "Bare", default_contact=False)
    company(cw, "Acme")
    outcomes = Engine(client, TICKET).ensure_many(items("Bare", "Acme"), bulk_key="company")
    assert outcomes[0].error == "company 'Bare' (Bare Inc) has no default contact"
    assert outcomes[1].operation == "create"
    assert len(cw.calls("POST")) == 1


def test_the_default_is_not_asked_for_an_existing_object(client, cw):
    bare = company(cw, "Bare", default_contact=False)
    someone = cw.add(CONTACTS, firstName="Some", lastName="One", company={"id": bare["id"]})
    cw.add(TICKETS, company={"id": bare["id"]}, summary="Backup", type={"id": 3}, contact={"id": someone["id"]})
    [outcome] = Engine(client, TICKET).ensure_many(items("Bare"), bulk_key="company")
    assert outcome.operation == "none" and outcome.error is None


def test_a_referenced_row_not_read_yet_is_read_by_its_id(client, cw):
    acme = company(cw, "Acme")
    outcome = Engine(client, TICKET).ensure(dict(items("x")[0], company={"id": acme["id"]}))
    assert outcome.operation == "create" and outcome.object["contact"]["id"] == acme["defaultContact"]["id"]
    assert sent_contacts(cw) == [{"id": acme["defaultContact"]["id"]}]
    assert ("GET", "%s/%d" % (COMPANIES, acme["id"]), {}) in cw.log


# ---- the one absent rule --------------------------------------------------------------------------------

@pytest.mark.parametrize("check_mode", [False, True])
def test_absent_is_decided_by_the_key_alone_in_one_and_in_many(client, cw, check_mode):
    acme = company(cw, "Acme")
    row = cw.add(TICKETS, company={"id": acme["id"]}, summary="Backup", type={"id": 3})
    gone = dict(items("GoneCorp", contact="Nobody", ticket_type="Nope")[0])
    many = Engine(client, TICKET, check_mode=check_mode).ensure_many(
        [dict(gone, company="Acme"), gone], state="absent", bulk_key="company")
    one = Engine(client, TICKET, check_mode=check_mode).ensure(gone, state="absent")
    assert [(o.operation, o.error) for o in many] == [("delete", None), ("none", None)]
    assert (one.operation, one.error) == ("none", None)
    # what does not decide a delete is not read: no type, no contact
    assert reads(cw, TYPES) == [] and reads(cw, CONTACTS) == []
    assert cw.writes() == ([] if check_mode else [("DELETE", "%s/%d" % (TICKETS, row["id"]), {})])


# ---- Many: one object or many, each with its overrides ----------------------------------------------------

HOSTS = Many(one="host", many="hosts", key="name", overrides=("port",))


def test_many_reads_one_or_many_entries_with_overrides():
    assert HOSTS.entries({"host": "a", "hosts": None}) == [("a", {})]
    assert HOSTS.entries({"host": None, "hosts": ["a", {"name": "b", "port": 22}, {"host": 7}]}) == [
        ("a", {}), ("b", {"port": 22}), ("7", {})]
    assert HOSTS.entries({"host": None, "hosts": None}) == []


@pytest.mark.parametrize("entries, message", [
    (["a", " A "], "hosts[2]: host ' A ' is listed more than once (also hosts[1])"),
    ([{"name": "a", "user": "x"}], "hosts[1]: unknown key(s) user; allowed: name (or host), port"),
    ([{"name": "a", "host": "a"}], "hosts[1]: give the name as name or as host, not both"),
    ([{"port": 1}], "hosts[1]: a host name (a non-empty string) is required, got None"),
    ([True], "hosts[1]: a host name (a non-empty string) is required, got True"),
])
def test_many_refuses_bad_entries_naming_where(entries, message):
    with pytest.raises(InputError) as raised:
        HOSTS.entries({"host": None, "hosts": entries})
    assert str(raised.value) == message


# ---- one path: one object is many of one ----------------------------------------------------------------

SCENARIOS = {
    "create": ([], dict(items("Acme")[0]), "present"),
    "none": ([("ticket", {})], dict(items("Acme")[0]), "present"),
    "update": ([("ticket", {})], dict(items("Acme")[0], ticket_type="Other"), "present"),
    "delete": ([("ticket", {})], {"company": "Acme", "summary": "Backup"}, "absent"),
    "unknown company": ([], dict(items("Ghost")[0]), "present"),
}


def seed_scenario(cw, rows):
    cw.add(TYPES, id=4, name="Other")
    acme = company(cw, "Acme")
    for _kind, extra in rows:
        cw.add(TICKETS, company={"id": acme["id"]}, summary="Backup", type={"id": 3},
               contact={"id": acme["defaultContact"]["id"]}, **extra)


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_ensure_of_one_object_is_ensure_many_of_one(scenario, check_mode):
    """The same requests, the same outcome; the one difference is that ``ensure`` raises a failure."""
    rows, params, state = SCENARIOS[scenario]
    runs = []
    for call in ("one", "many"):
        cw = SandboxConnectWise(resources=ENGINE_TABLES)
        cw.add(TYPES, id=3, name="Backup")
        seed_scenario(cw, rows)
        engine = Engine(cw.client(), TICKET, check_mode=check_mode)
        if call == "many":
            [outcome] = engine.ensure_many([dict(params)], state)
        else:
            try:
                outcome = engine.ensure(dict(params), state)
            except InputError as exc:
                outcome = exc
        runs.append((cw.log, cw.sent, outcome))
    (one_log, one_sent, one), (many_log, many_sent, many) = runs
    assert one_log == many_log and one_sent == many_sent
    if isinstance(one, InputError):
        assert scenario == "unknown company" and many.failed and many.error == str(one)
    else:
        assert scenario != "unknown company"
        assert (one.operation, one.object, one.before, one.after, one.warnings, one.key, one.error) == \
            (many.operation, many.object, many.before, many.after, many.warnings, many.key, many.error)


def test_nested_items_are_read_per_collection_in_bulk(client, cw):
    first, second = cw.add(PARENTS, name="Backup"), cw.add(PARENTS, name="Archive")
    first_path, second_path = (CHILDREN.format(parent=row["id"]) for row in (first, second))
    cw.add(first_path, vendorLevel="L1", inactiveFlag=False)
    wanted = [{"integration": "Backup", "level": "L1", "inactive": True}, {"integration": "Backup", "level": "L2"},
              {"integration": "archive", "level": "L1"}, {"integration": "Archive", "level": "L2"}]
    outcomes = Engine(client, CHILD).ensure_many(wanted, bulk_key="level")
    assert [(o.operation, o.error) for o in outcomes] == [("update", None), ("create", None), ("create", None),
                                                          ("create", None)]
    # one read of each parent by name, then per collection: the bulk find, and the re-read of what it created
    assert [q["conditions"] for q in reads(cw, PARENTS)] == ['name = "Backup"', 'name = "archive"', 'name = "Archive"']
    assert [q["conditions"] for q in reads(cw, first_path)] == ['vendorLevel in ("L1","L2")', 'vendorLevel in ("L2")']
    assert [q["conditions"] for q in reads(cw, second_path)] == ['vendorLevel in ("L1","L2")'] * 2
    assert [(m, p) for m, p, _b in cw.sent] == [("PATCH", first_path + "/%d" % outcomes[0].object["id"]),
                                                ("POST", first_path), ("POST", second_path), ("POST", second_path)]
    assert sorted(r["vendorLevel"] for r in cw.rows(second_path)) == ["L1", "L2"]


def test_absent_waits_for_a_crowded_key_before_deciding_the_delete(client, cw):
    """Another run's duplicate is removed within the settle window: the delete is decided on what stays."""
    acme = company(cw, "Acme")
    kept = cw.add(TICKETS, company={"id": acme["id"]}, summary="Backup", type={"id": 3})
    duplicate = cw.add(TICKETS, company={"id": acme["id"]}, summary="Backup", type={"id": 3})
    slept = []

    def other_run_cleans_up(seconds):
        slept.append(seconds)
        cw.store.delete(cw.app.route(TICKETS)[0], duplicate["id"])
    client.transport.retry.sleep = other_run_cleans_up
    [outcome] = Engine(client, TICKET).ensure_many([{"company": "Acme", "summary": "Backup"}], "absent",
                                                   bulk_key="company")
    assert (outcome.operation, outcome.error, outcome.before["id"]) == ("delete", None, kept["id"])
    assert len(slept) == 1 and cw.writes() == [("DELETE", "%s/%d" % (TICKETS, kept["id"]), {})]


def test_a_crowded_key_given_twice_is_one_object(client, cw):
    acme = company(cw, "Acme")
    kept = cw.add(TICKETS, company={"id": acme["id"]}, summary="Backup", type={"id": 3})
    duplicate = cw.add(TICKETS, company={"id": acme["id"]}, summary="Backup", type={"id": 3})
    client.transport.retry.sleep = lambda seconds: cw.store.delete(cw.app.route(TICKETS)[0], duplicate["id"])
    outcomes = Engine(client, TICKET).ensure_many(items("Acme", "Acme"), bulk_key="company")
    assert [(o.operation, o.error, o.object["id"]) for o in outcomes] == [("none", None, kept["id"])] * 2
    assert cw.writes() == []


def test_a_failed_reread_after_a_create_is_a_warning_for_one_object_as_for_many(client, cw):
    acme = company(cw, "Acme")
    # the find answers, the re-read after the create fails (every retry of it)
    cw.app.faults.add([{"method": "GET", "path": "service/tickets", "after": 1, "status": 500}])
    outcome = Engine(client, TICKET).ensure(items("Acme")[0])
    assert outcome.operation == "create" and not outcome.failed
    assert [row["company"]["id"] for row in cw.rows(TICKETS)] == [acme["id"]]
    assert len(outcome.warnings) == 1
    assert "created, but re-reading it to rule out a duplicate from an overlapping run failed" in outcome.warnings[0]
