"""The ConnectWise resources the sandbox serves, as data.

Each resource's fields come from ``connectwise-api.md`` ("Fields of each resource"). The
validation in ``store.py`` reads these tables, so a new field or limit is a one-line change
here rather than code per resource. Rules that tie several fields together (an agreement's
contact must belong to its company, ...) live in ``rules.py``.
"""

from dataclasses import dataclass, field as dc_field

BILL_OPTIONS = ("Billable", "DoNotBill", "NoCharge", "NoDefault")
CYCLES = ("Contract2Weeks", "Contract4Weeks", "ContractYear", "CalendarMonth", "CalendarQuarter",
          "CalendarWeek", "ContractQuarter", "CalendarYear")
INVOICING_CYCLES = ("ContractYear", "CalendarYear")
AGREEMENT_STATUSES = ("Active", "Cancelled", "Expired", "Inactive")
BILLING_OPTIONS = ("BiMonthly", "BiWeekly", "Monthly", "NotRecurring", "Quarterly", "SemiAnnual", "Weekly", "Yearly")


@dataclass(frozen=True)
class Field:
    """One field of a resource.

    ``kind`` is str, int, float, bool, datetime, enum, ref, list or object. A ``ref`` with a
    ``target`` table is resolved and checked; a ``ref`` without one (department, currency,
    ...) names a table the sandbox does not model and is stored as sent. ``on_delete`` says
    what deleting the referenced row does to this field: ``restrict`` refuses the delete,
    ``clear`` empties the field, ``cascade`` deletes the referring row too. A ``list`` names the
    keys of its members in ``items`` (what ``childConditions`` may compare). A ``bool`` never set
    reads ``false``, as ConnectWise returns it.
    """

    kind: str
    required: bool = False
    required_on_update: bool = False
    max_length: int | None = None
    choices: tuple = ()
    target: str | None = None
    on_delete: str = "restrict"
    read_only: bool = False
    write_only: bool = False
    items: tuple = ()


def s(max_length=None, **kw):
    """A string field."""
    return Field("str", max_length=max_length, **kw)


def e(choices, **kw):
    """An enum field (ConnectWise accepts the names case-insensitively)."""
    return Field("enum", choices=tuple(choices), **kw)


def ref(target=None, **kw):
    """A reference field; ``target`` is the table it points to, None when not modelled."""
    return Field("ref", target=target, **kw)


def array(*items, **kw):
    """An array field whose members are objects with the keys ``items``."""
    return Field("list", items=tuple(items), **kw)


B = Field("bool")
F = Field("float")
D = Field("datetime")
ID = Field("int", read_only=True)
OPAQUE = ref()
# CustomFieldValue (ConnectWise's schema): what customFieldConditions compare.
CUSTOM_FIELD_KEYS = ("id", "caption", "type", "entryMethod", "numberOfDecimals", "value")
CUSTOM_FIELDS = array(*CUSTOM_FIELD_KEYS)
INVOICE_TYPES = ("Agreement", "CreditMemo", "DownPayment", "Miscellaneous", "Progress", "Standard")
APPLY_TO_TYPES = ("All", "Agreement", "Project", "ProjectPhase", "SalesOrder", "Ticket")


@dataclass(frozen=True)
class Resource:
    """A table and the URL it is served at.

    ``key`` is the field a reference may name a row by (``{"name": ...}``); ``display`` maps
    the keys of a reference to this resource (besides ``id``) to the fields they come from
    (a tuple of fields is joined with a space). ``unique`` lists the field groups
    ConnectWise refuses duplicates of (compared case-insensitively, as SQL Server does).
    ``parent_field`` links a nested resource to the row in its URL. ``api_writes`` False: the API
    only reads it (the sandbox makes its rows itself, as agreement invoicing makes invoices).
    """

    table: str
    path: str
    label: str
    fields: dict
    key: str = "name"
    display: dict = dc_field(default_factory=lambda: {"name": "name"})
    unique: tuple = ()
    parent_field: str | None = None
    parent_table: str | None = None
    api_writes: bool = True


RESOURCES = {r.table: r for r in (
    Resource("companyStatuses", "company/companies/statuses", "companyStatus", {
        "id": ID, "name": s(50, required=True), "defaultFlag": B, "inactiveFlag": B,
    }),
    Resource("billingCycles", "finance/billingCycles", "billingCycle", {
        "id": ID, "name": s(50, required=True), "identifier": s(5, required=True), "defaultFlag": B,
        "billingOptions": e(BILLING_OPTIONS, required=True),
    }),
    Resource("unitOfMeasures", "procurement/unitOfMeasures", "unitOfMeasure", {
        "id": ID, "name": s(50, required=True), "defaultFlag": B, "inactiveFlag": B,
    }),
    Resource("categories", "procurement/categories", "category", {
        "id": ID, "name": s(50, required=True), "inactiveFlag": B,
    }),
    Resource("subcategories", "procurement/subcategories", "subcategory", {
        "id": ID, "name": s(50, required=True), "category": ref("categories", required=True), "inactiveFlag": B,
    }),
    Resource("productTypes", "procurement/types", "type", {
        "id": ID, "name": s(50, required=True), "inactiveFlag": B,
    }),
    Resource("configurationTypes", "company/configurations/types", "configurationType", {
        "id": ID, "name": s(50, required=True), "inactiveFlag": B, "systemFlag": B,
    }),
    Resource("integratorLogins", "system/integratorlogins", "integratorLogin", {
        "id": ID, "username": s(50, required=True), "password": s(50, write_only=True),
        "agreementApiFlag": B, "board": OPAQUE, "canAccessAllApisFlag": B, "canAccessAllRecordsFlag": B,
        "companyApiFlag": B, "inactiveFlag": B, "managedServicesApiFlag": B, "member": OPAQUE,
        "productApiFlag": B, "reportingApiFlag": B,
    }, key="username", display={"name": "username"}, unique=(("username",),)),
    Resource("companies", "company/companies", "company", {
        "id": ID, "identifier": s(30, required=True), "name": s(50, required=True),
        "addressLine1": s(50), "city": s(50), "country": OPAQUE, "currency": OPAQUE, "site": OPAQUE,
        "status": ref("companyStatuses"), "types": array("id", "name", "_info"), "deletedFlag": B,
        "customFields": CUSTOM_FIELDS,
        "defaultContact": ref("contacts", on_delete="clear"), "billingContact": ref("contacts", on_delete="clear"),
    }, key="identifier", display={"identifier": "identifier", "name": "name"}, unique=(("identifier",),)),
    Resource("contacts", "company/contacts", "contact", {
        "id": ID, "firstName": s(30), "lastName": s(30), "company": ref("companies", on_delete="cascade"),
        "defaultFlag": B, "inactiveFlag": B, "customFields": CUSTOM_FIELDS,
        "communicationItems": array("id", "type", "value", "extension", "defaultFlag", "domain", "communicationType"),
    }, display={"name": ("firstName", "lastName")}),
    Resource("managementItSolutions", "company/managementItSolutions", "managementItSolution", {
        "id": ID, "name": s(30, required=True),
        "managementItSolutionType": e(("LevelPlatforms", "NAble", "Continuum", "Custom"), required=True),
        "managementSolutionName": s(30), "continuumApiPassword": s(100, write_only=True), "continuumApiUsername": s(100),
        "globalLoginFlag": B, "globalLoginPassword": s(50, write_only=True), "globalLoginUsername": s(50),
        "levelApiPassword": s(100, write_only=True), "levelApiUsername": s(100), "levelVarDomain": s(100),
        "managementServerUrl": s(200), "nAblePassword": s(50, write_only=True), "nAbleUsername": s(50),
        "noDisplayFlag": B, "overrideLoginLocationFlag": B, "overrideWebServiceLocationFlag": B,
        "portalOverrideLoginUrl": s(200), "usingSslFlag": B, "webserviceOverrideUrl": s(200),
    }, unique=(("name",),)),
    Resource("agreementTypes", "finance/agreements/types", "agreementType", {
        "id": ID, "name": s(50, required=True),
        "applicationCycle": e(CYCLES), "applicationUnits": e(("Amount", "Hours", "Incidents")),
        "applicationUnlimitedFlag": B, "autoInvoiceFlag": B, "billAmount": F,
        "billExpenses": e(BILL_OPTIONS, required=True), "billProducts": e(BILL_OPTIONS, required=True),
        "billTime": e(BILL_OPTIONS, required=True), "billingCycle": ref("billingCycles"), "defaultFlag": B,
        "department": OPAQUE, "employeeCompNotExceed": e(("Billing", "Amount", "Percent"), required=True),
        "employeeCompRate": e(("Actual", "Hourly"), required=True), "inactiveFlag": B, "integrationXRef": s(50),
        "invoiceDescription": s(4000), "invoicePreSuffix": s(5), "invoicingCycle": e(INVOICING_CYCLES, required=True),
        "location": OPAQUE, "prefixSuffixOption": e(("Prefix", "Suffix")), "prorateFlag": B,
    }, unique=(("name",),)),
    Resource("catalog", "procurement/catalog", "catalogItem", {
        "id": ID, "identifier": s(75, required=True), "description": s(60, required=True),
        "customerDescription": s(6000, required=True), "category": ref("categories"),
        "subcategory": ref("subcategories", required=True), "type": ref("productTypes", required=True),
        "cost": F, "price": F, "inactiveFlag": B, "notes": s(),
        "priceAttribute": e(("FixedFee", "NotToExceed", "OverrideRate", "TimeAndMaterials")),
        "productClass": e(("Agreement", "Bundle", "Inventory", "NonInventory", "Service")),
        "recurringBillCycle": ref("billingCycles"), "recurringCost": F, "recurringCycleType": e(INVOICING_CYCLES),
        "recurringFlag": B, "recurringRevenue": F, "serializedFlag": B, "taxableFlag": B,
        "unitOfMeasure": ref("unitOfMeasures"),
    }, key="identifier", display={"identifier": "identifier"}, unique=(("identifier",),)),
    Resource("agreements", "finance/agreements", "agreement", {
        "id": ID, "name": s(100, required=True), "type": ref("agreementTypes", required=True),
        "company": ref("companies", required=True), "contact": ref("contacts", required=True),
        "agreementStatus": e(AGREEMENT_STATUSES), "applicationCycle": e(CYCLES), "applicationLimit": F,
        "applicationUnits": e(("Amount", "Hours", "Incidents")), "applicationUnlimitedFlag": B,
        "autoInvoiceFlag": B, "billAmount": F,
        "billExpenses": e(BILL_OPTIONS, required_on_update=True), "billProducts": e(BILL_OPTIONS, required_on_update=True),
        "billTime": e(BILL_OPTIONS, required_on_update=True), "billStartDate": D, "billingCycle": ref("billingCycles"),
        "cancelledFlag": B, "currency": OPAQUE, "customFields": CUSTOM_FIELDS, "customerPO": s(50), "dateCancelled": D,
        "department": OPAQUE,
        "employeeCompNotExceed": e(("Billing", "Amount", "Percent")),
        "employeeCompRate": e(("Actual", "Hourly"), required_on_update=True), "endDate": D,
        "invoiceDescription": s(), "invoicingCycle": e(INVOICING_CYCLES, required_on_update=True), "location": OPAQUE,
        "nextInvoiceDate": D, "noEndingDateFlag": B, "oneTimeFlag": B, "parentAgreement": ref("agreements"),
        "periodType": e(("Current", "Future", "Both", "Undefined")), "prorateFlag": B, "restrictDepartmentFlag": B,
        "restrictLocationFlag": B, "site": OPAQUE, "startDate": D,
    }),
    Resource("additions", "finance/agreements/{parent}/additions", "addition", {
        "id": ID, "agreementId": Field("int", read_only=True),
        "billCustomer": e(("Billable", "DoNotBill", "NoCharge"), required=True),
        "product": ref("catalog", required=True), "agreementStatus": e(AGREEMENT_STATUSES),
        "billedQuantity": Field("float", read_only=True), "cancelledDate": D, "customFields": CUSTOM_FIELDS, "description": s(), "effectiveDate": D,
        "extCost": Field("float", read_only=True), "extPrice": Field("float", read_only=True),
        "extendedProrateCost": F, "extendedProratePrice": F, "invoiceDescription": s(6000), "invoiceGrouping": OPAQUE,
        "lessIncluded": F, "margin": Field("float", read_only=True), "opportunity": OPAQUE, "prorateCost": F,
        "prorateCurrentPeriodFlag": B, "proratePrice": F, "purchaseItemFlag": B, "quantity": F, "sequenceNumber": F,
        "serialNumber": s(50), "specialOrderFlag": B, "taxableFlag": B, "unitCost": F, "unitPrice": F, "uom": s(),
    }, parent_field="agreementId", parent_table="agreements"),
    Resource("managedDevicesIntegrations", "company/managedDevicesIntegrations", "managedDevicesIntegration", {
        "id": ID, "name": s(30, required=True), "solution": s(30, required=True),
        "loginBy": e(("Global", "Member"), required=True), "defaultBillingLevel": e(("Detail", "Summary"), required=True),
        "configBillCustomerFlag": B, "defaultDepartment": OPAQUE, "defaultLocation": OPAQUE,
        "disableNewCrossReferencesFlag": B, "globalLoginPassword": s(50, write_only=True), "globalLoginUsername": s(50),
        "integratorLogin": ref("integratorLogins"), "managementItSetupType": s(), "matchOnSerialNumberFlag": B,
        "portalUrl": s(200),
    }, unique=(("name",),)),
    Resource("crossReferences", "company/managedDevicesIntegrations/{parent}/crossReferences", "crossReference", {
        "id": ID, "managedDevicesIntegration": ref("managedDevicesIntegrations", read_only=True),
        "agreementType": ref("agreementTypes"), "configurationType": ref("configurationTypes"), "inactiveFlag": B,
        "product": ref("catalog"), "vendorLevel": s(255), "vendorType": s(255),
    }, unique=(("managedDevicesIntegration", "vendorType", "vendorLevel"),),
        parent_field="managedDevicesIntegration", parent_table="managedDevicesIntegrations"),
    Resource("invoices", "finance/invoices", "invoice", {
        "id": ID, "invoiceNumber": s(15, read_only=True), "type": e(INVOICE_TYPES, required=True),
        "applyToType": e(APPLY_TO_TYPES), "applyToId": Field("int"), "company": ref("companies", required=True),
        "billToCompany": ref("companies"), "date": D, "subtotal": F, "salesTax": F, "total": F, "balance": F,
    }, key="invoiceNumber", display={"identifier": "invoiceNumber"}, api_writes=False),
)}

# Order in which a fixture's tables are loaded: every table after the tables it references.
LOAD_ORDER = (
    "companyStatuses", "billingCycles", "unitOfMeasures", "categories", "subcategories", "productTypes",
    "configurationTypes", "integratorLogins", "companies", "contacts", "managementItSolutions",
    "agreementTypes", "catalog", "agreements", "additions", "managedDevicesIntegrations", "crossReferences",
    "invoices",
)
assert set(LOAD_ORDER) == set(RESOURCES)
