"""ConnectWise rules that tie several fields or tables together.

The field tables in ``schema.py`` cover types, lengths, enums, required fields, references
and duplicates; what they cannot say (defaults taken from another row, an addition's
effective date against its agreement's billing start, side effects of a default contact)
is here, one small function per rule, dispatched by table name.
"""

from datetime import datetime
from decimal import Decimal

from . import invoicing
from .errors import field_error

# Agreement fields a new agreement takes from its agreement type when not sent.
AGREEMENT_FIELDS_FROM_TYPE = (
    "billTime", "billExpenses", "billProducts", "employeeCompRate", "employeeCompNotExceed", "invoicingCycle",
    "applicationCycle", "applicationUnits", "applicationUnlimitedFlag", "billingCycle", "prorateFlag",
    "billAmount", "autoInvoiceFlag",
)


def _linked(store, table, reference):
    """The stored row a ``{"id": N}`` reference points to, or None."""
    if not isinstance(reference, dict):
        return None
    return store.tables[table].get(reference.get("id"))


def _us_date(text):
    """``2026-10-01T00:00:00Z`` -> ``10/1/2026``, the format of ConnectWise's message."""
    when = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return f"{when.month}/{when.day}/{when.year}"


# ------------------------------------------------------------------ defaults
def _agreement_defaults(store, row, current):
    agreement_type = _linked(store, "agreementTypes", row.get("type"))
    if current is None and agreement_type is not None:
        for name in AGREEMENT_FIELDS_FROM_TYPE:
            if row.get(name) is None and agreement_type.get(name) is not None:
                row[name] = agreement_type[name]
    if current is None:
        row.setdefault("agreementStatus", "Active")
    if row.get("billStartDate") is None and row.get("startDate") is not None:
        row["billStartDate"] = row["startDate"]


def _addition_defaults(store, row, current):
    product = _linked(store, "catalog", row.get("product"))
    if product is not None:
        for name, source in (("unitPrice", "price"), ("unitCost", "cost"), ("description", "description"),
                             ("taxableFlag", "taxableFlag")):
            if row.get(name) is None and product.get(source) is not None:
                row[name] = product[source]
        if row.get("uom") is None and product.get("unitOfMeasure"):
            unit = _linked(store, "unitOfMeasures", product["unitOfMeasure"])
            row["uom"] = unit["name"] if unit else None
        if current is None and row.get("invoiceDescription") is None:
            row["invoiceDescription"] = product.get("customerDescription")
    if current is None:
        row.setdefault("quantity", 1.0)
        row.setdefault("agreementStatus", "Active")
        if row.get("effectiveDate") is None:
            agreement = store.tables["agreements"].get(row.get("agreementId")) or {}
            row["effectiveDate"] = max(filter(None, (store.clock.midnight(), agreement.get("billStartDate"))))


def _catalog_defaults(store, row, current):
    if row.get("productClass") is None:
        row["productClass"] = "NonInventory"
    subcategory = _linked(store, "subcategories", row.get("subcategory"))
    if row.get("category") is None and subcategory is not None:
        row["category"] = dict(subcategory["category"])


def _company_defaults(store, row, current):
    if row.get("status") is None:
        active = [r["id"] for r in store.tables["companyStatuses"].values() if r["name"].casefold() == "active"]
        if active:
            row["status"] = {"id": active[0]}


DEFAULTS = {
    "agreements": _agreement_defaults, "additions": _addition_defaults, "catalog": _catalog_defaults,
    "companies": _company_defaults,
}


def apply_defaults(store, res, row, current):
    """Fill what ConnectWise fills when the client leaves a field out."""
    rule = DEFAULTS.get(res.table)
    if rule:
        rule(store, row, current)


# ------------------------------------------------------------------ checks
def _agreement_check(store, res, row, current, errors):
    contact = _linked(store, "contacts", row.get("contact"))
    if contact is not None and (contact.get("company") or {}).get("id") != row["company"]["id"]:
        errors.append(field_error(res.label, "contact", f"contact {contact['id']} does not belong to company "
                                                        f"{row['company']['id']}"))


# ConnectWise's refusal of an addition inside an already invoiced span (connectwise-api.md, Errors).
INVOICED_MESSAGE = ("Since this period has already been invoiced there will not be an invoice generated for "
                    "additional products for this period. Please prorate the agreement or update the start date "
                    "to on or after the Next Invoice Date.")


def _addition_check(store, res, row, current, errors):
    """Refuse an effective date ConnectWise refuses (on create or when it changes).

    Before the agreement's billing start; or, on an agreement that does not prorate, before its next
    invoice date (the span already invoiced).
    """
    if current is not None and current.get("effectiveDate") == row.get("effectiveDate"):
        return
    agreement = store.tables["agreements"].get(row.get("agreementId")) or {}
    start, effective = agreement.get("billStartDate"), row.get("effectiveDate")
    if start and effective and effective < start:
        errors.append(field_error(res.label, "effectiveDate",
                                  f"The Effective Date: {_us_date(effective)} in agreement addition cannot precede "
                                  f"the Billing Start Date: {_us_date(start)}"))
        return
    next_invoice = agreement.get("nextInvoiceDate")
    if next_invoice and effective and effective < next_invoice and not agreement.get("prorateFlag"):
        errors.append(field_error(res.label, "effectiveDate", INVOICED_MESSAGE))


def invoice_through(store, agreement_id, day):
    """Run agreement invoicing for one agreement through ``day`` (``YYYY-MM-DD``), as ConnectWise's
    Agreement Invoicing does with that Thru Date: every outstanding cycle starting on or before it is
    invoiced (``invoicing.py``) and the next invoice date moves past them, so an addition effective
    before it is refused unless the agreement prorates. Returns the agreement row, or None."""
    agreement = store.tables["agreements"].get(agreement_id)
    if agreement is None:
        return None
    invoicing.invoice_agreement(store, agreement, datetime.strptime(day, "%Y-%m-%d").date())
    return agreement


def _catalog_check(store, res, row, current, errors):
    subcategory = _linked(store, "subcategories", row.get("subcategory"))
    if subcategory is not None and subcategory["category"]["id"] != row["category"]["id"]:
        category = store.tables["categories"][row["category"]["id"]]
        errors.append(field_error(res.label, "subcategory", f"subcategory {subcategory['name']!r} does not belong "
                                                            f"to category {category['name']!r}"))


def _cross_reference_check(store, res, row, current, errors):
    if row.get("agreementType") is None and row.get("configurationType") is None:
        errors.append(field_error(res.label, "agreementType", "agreementType or configurationType is required",
                                  "NullOrEmptyRequired"))


def _solution_check(store, res, row, current, errors):
    if row.get("managementItSolutionType") == "Custom" and not row.get("managementSolutionName"):
        errors.append(field_error(res.label, "managementSolutionName",
                                  "managementSolutionName is required when managementItSolutionType is Custom",
                                  "NullOrEmptyRequired"))


def _company_check(store, res, row, current, errors):
    for name in ("defaultContact", "billingContact"):
        contact = _linked(store, "contacts", row.get(name))
        belongs = contact is not None and current is not None and \
            (contact.get("company") or {}).get("id") == current["id"]
        if row.get(name) is not None and not belongs:
            errors.append(field_error(res.label, name, f"{name} must be a contact of this company"))


CHECKS = {
    "agreements": _agreement_check, "additions": _addition_check, "catalog": _catalog_check,
    "crossReferences": _cross_reference_check, "managementItSolutions": _solution_check,
    "companies": _company_check,
}


def check(store, res, row, current, errors):
    """Rules across fields/tables; run only when every field is valid on its own."""
    rule = CHECKS.get(res.table)
    if rule:
        rule(store, res, row, current, errors)


# ------------------------------------------------------------------ computed fields and side effects
def _decimal(value):
    return Decimal(repr(value or 0.0))


def billed_quantity(row):
    """An addition's quantity less what the agreement includes (``lessIncluded``), never below 0."""
    return max(Decimal(0), _decimal(row.get("quantity")) - _decimal(row.get("lessIncluded")))


def compute(store, res, row):
    """Read-only fields ConnectWise computes for an addition: ``billedQuantity`` (quantity less
    ``lessIncluded``) and the extended price, cost and margin of that billed quantity."""
    if res.table == "additions":
        billed = billed_quantity(row)
        row["billedQuantity"] = float(billed)
        row["extPrice"] = float(billed * _decimal(row.get("unitPrice")))
        row["extCost"] = float(billed * _decimal(row.get("unitCost")))
        row["margin"] = float(_decimal(row["extPrice"]) - _decimal(row["extCost"]))


def _set_default_contact(store, company_id, contact_id):
    """Make one contact the company's default: company.defaultContact and each contact's defaultFlag agree."""
    company = store.tables["companies"].get(company_id)
    if company is not None:
        company["defaultContact"] = {"id": contact_id} if contact_id is not None else None
    for contact in store.tables["contacts"].values():
        if (contact.get("company") or {}).get("id") == company_id:
            contact["defaultFlag"] = contact["id"] == contact_id


def after_commit(store, res, row):
    """Side effects of a committed write (the default contact is kept in step from both sides)."""
    if res.table == "contacts" and row.get("company"):
        company = store.tables["companies"].get(row["company"]["id"]) or {}
        if row.get("defaultFlag"):
            _set_default_contact(store, row["company"]["id"], row["id"])
        elif (company.get("defaultContact") or {}).get("id") == row["id"]:
            _set_default_contact(store, row["company"]["id"], None)
    elif res.table == "companies" and row.get("defaultContact"):
        _set_default_contact(store, row["id"], row["defaultContact"]["id"])


# ------------------------------------------------------------------ fields derived at read time
def agreement_status(store, row):
    """``agreementStatus`` as ConnectWise reports it on the sandbox's today.

    It follows the dates, not the stored value: Cancelled once cancelled (``cancelledFlag``, or a
    ``dateCancelled`` on or before today), Expired once ``endDate`` has passed (unless
    ``noEndingDateFlag``), Inactive while ``startDate`` is still ahead (ConnectWise: "Active when
    Start Date is today or in the past"), otherwise Active, or Inactive when that was set.
    Computed at each read so it changes as the sandbox clock moves.
    """
    today = store.clock.midnight()
    cancelled = row.get("dateCancelled")
    if row.get("cancelledFlag") or (cancelled and cancelled <= today):
        return "Cancelled"
    end = row.get("endDate")
    if end and not row.get("noEndingDateFlag") and end < today:
        return "Expired"
    start = row.get("startDate")
    if (start and start > today) or row.get("agreementStatus") == "Inactive":
        return "Inactive"
    return "Active"


def _addition_status(store, row):
    """An addition reads its agreement's status (ConnectWise has no status of the addition's own)."""
    agreement = store.tables["agreements"].get(row.get("agreementId"))
    return agreement_status(store, agreement) if agreement is not None else row.get("agreementStatus")


# Fields whose value depends on the read day or on another row, by table: shown instead of the stored one.
DERIVED = {"agreements": {"agreementStatus": agreement_status}, "additions": {"agreementStatus": _addition_status}}


def derived(store, table, row, names=None):
    """``{name: value}`` of the derived fields of ``row`` (only ``names`` when given)."""
    of_table = DERIVED.get(table, {})
    return {name: rule(store, row) for name, rule in of_table.items() if names is None or name in names}
