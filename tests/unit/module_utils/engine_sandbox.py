"""Sandbox tables and seeds for the ensure engine's own tests (``test_ensure.py``, ``test_ensure_many.py``).

The engine is generic, so its tests describe resources of their own: a widget with a field of
every kind, members found by identifier, integrations with nested children, service tickets. The
sandbox serves them next to ConnectWise's tables (``SandboxApp(resources=...)``) with the same validation,
conditions, paging and errors. The widget's references point at tables the sandbox stores as
sent (as it does for ConnectWise references it does not model), because the engine compares a
reference by its id whatever row it names.
"""

from tests.sandbox.schema import RESOURCES, Field, Resource, ref, s

ID = Field("int", read_only=True)
INT = Field("int")

WIDGETS = Resource("widgets", "widgets/items", "widget", {
    "id": ID, "name": s(20, required=True), "description": s(60), "price": Field("float"), "quantity": INT,
    "startDate": Field("datetime"), "taxableFlag": Field("bool"), "category": ref(), "subcategory": ref(),
    "type": ref(), "billing": s(20), "owner": ref(), "source": s(20), "level": INT,
})
MEMBERS = Resource("members", "system/members", "member", {
    "id": ID, "identifier": s(15, required=True), "name": s(50),
}, key="identifier", display={"identifier": "identifier", "name": "name"}, unique=(("identifier",),))
INTEGRATIONS = Resource("integrations", "company/integrations", "integration", {
    "id": ID, "name": s(30, required=True),
}, unique=(("name",),))
CHILDREN = Resource("integrationChildren", "company/integrations/{parent}/crossReferences", "child", {
    "id": ID, "integration": ref("integrations", read_only=True), "vendorLevel": s(255), "inactiveFlag": Field("bool"),
}, parent_field="integration", parent_table="integrations")

# Service tickets, for the engine's many-object tests (``test_ensure_many.py``): a row referring to a
# company, to one of that company's contacts and to a type, as an agreement does, without the
# agreement's rules.
TICKET_TYPES = Resource("ticketTypes", "service/types", "type", {
    "id": ID, "name": s(50, required=True),
})
TICKETS = Resource("tickets", "service/tickets", "ticket", {
    "id": ID, "company": ref("companies", required=True), "summary": s(100, required=True),
    "type": ref("ticketTypes"), "contact": ref("contacts"), "priority": ref(),
})

ENGINE_TABLES = dict(RESOURCES, **{res.table: res for res in (WIDGETS, MEMBERS, INTEGRATIONS, CHILDREN, TICKET_TYPES, TICKETS)})


def seed_company(cw, company_id, identifier):
    """A company with its default contact (same id), as ConnectWise needs for an agreement."""
    cw.add("company/companies", id=company_id, identifier=identifier, name=identifier.title())
    cw.add("company/contacts", id=company_id, firstName="Default", lastName=identifier, company={"id": company_id},
           defaultFlag=True)


def seed_agreement_type(cw, type_id=3, name="Backup"):
    return cw.add("finance/agreements/types", id=type_id, name=name, billTime="Billable", billExpenses="Billable",
                  billProducts="Billable", employeeCompNotExceed="Billing", employeeCompRate="Actual",
                  invoicingCycle="CalendarYear")
