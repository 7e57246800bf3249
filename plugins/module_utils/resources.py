# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ensure modules, declared once: each object's :class:`Resource`, options and engine run.

A module (``plugins/modules/product.py``...) is its documentation plus
``run_declared(module, PRODUCT_MODULE)``; ``setup_info`` runs the same declarations in check
mode for several objects in one process. So an option, a length limit or a default exists in
one place, whichever of them reads it. The connection options are not part of these
declarations: :class:`ConnectWiseModule` adds them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.mbs.connectwise.plugins.module_utils.dates import first_of_previous_month, utc_today
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.declarations import (
    CLEAR,
    FULL_NAME,
    Field,
    FromRef,
    Parent,
    Ref,
    Referrer,
    Resource,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.engine import Engine
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.options import option_date
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.results import Many, ensure_many, ensure_one
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

STATE = dict(type="str", choices=["present", "absent"], default="present")

# ---- where the objects live, and who refers to whom ----------------------------------------------------

AGREEMENTS_PATH = "finance/agreements"
INTEGRATIONS_PATH = "company/managedDevicesIntegrations"
CROSS_REFERENCES_PATH = INTEGRATIONS_PATH + "/{parent}/crossReferences"
CROSS_REFERENCES_OF = INTEGRATIONS_PATH + "/{id}/crossReferences"

# The ``deleted_first`` option of the modules whose objects others refer to (a teardown's plan).
DELETED_FIRST_SPEC = dict(
    type="dict",
    options=dict(
        agreements_named=dict(type="list", elements="str", default=[]),
        cross_references=dict(type="list", elements="dict", default=[], options=dict(
            integration=dict(type="str", required=True),
            type=dict(type="str", required=True),
            level=dict(type="str", required=True),
        )),
    ),
)


def deleted_first_predicate(option):
    """``f(referrer, row, parent)`` for :class:`Engine`: the referring rows a caller deletes first."""
    if not option:
        return None
    names = {fold(n) for n in option.get("agreements_named") or []}
    crosses = {(fold(c["integration"]), fold(c["type"]), fold(c["level"]))
               for c in option.get("cross_references") or []}

    def deleted_first(referrer, row, _parent):
        if referrer.path == AGREEMENTS_PATH:
            return fold(row.get("name")) in names
        if referrer.path in (CROSS_REFERENCES_PATH, CROSS_REFERENCES_OF):
            integration = (row.get("managedDevicesIntegration") or {}).get("name")
            return (fold(integration), fold(row.get("vendorType")), fold(row.get("vendorLevel"))) in crosses
        return False
    return deleted_first


class Declared:
    """One ensure module: its options (without the connection options), their constraints, its run.

    ``run(client, params, check_mode, diff)`` ensures what ``params`` (the validated options)
    declare and returns an :class:`Ensured`; input and API errors are raised.
    ``constraints`` are ``AnsibleModule``'s (``required_by``, ``mutually_exclusive``...).
    """

    def __init__(self, name, options, run, **constraints):
        self.name = name
        self.options = options
        self.constraints = constraints
        self.run = run

    def module_arguments(self):
        """The keyword arguments of the module's :class:`ConnectWiseModule`."""
        return dict(argument_spec=self.options, supports_check_mode=True, **self.constraints)

    def validate(self, params):
        """``params`` checked and completed (defaults) as the module checks its own options.

        An unknown option or a bad value raises ``InputError`` naming this object and the option.
        """
        checked = ArgumentSpecValidator(self.options, **self.constraints).validate(params)
        if checked.error_messages:
            raise InputError("%s: %s" % (self.name, "; ".join(
                "Unsupported parameters: " + error.msg if isinstance(error, UnsupportedError) else error.msg
                for error in checked.errors.errors)))
        return checked.validated_parameters

    def ensure(self, client, params, check_mode=False, diff=False):
        return self.run(client, params, check_mode, diff)


def ensuring(resource):
    """The run of a module that ensures the one ``resource`` its options declare.

    ``deleted_first`` (the teardown's option) names the referring rows deleted with the object.
    """
    def run(client, params, check_mode, diff):
        deleted_first = deleted_first_predicate(params.get("deleted_first"))
        return ensure_one(Engine(client, resource, check_mode, deleted_first=deleted_first), params, diff)
    return run


# ---- management solution ----------------------------------------------------------------------------

MANAGEMENT_SOLUTION = Resource(
    name="management solution",
    path="company/managementItSolutions",
    key=("name",),
    fields={
        "name": Field("name", max_length=30),
        "custom_solution_name": Field("managementSolutionName", max_length=30),
    },
    create_defaults={"managementItSolutionType": "Custom"},
)


def _ensure_management_solution(client, params, check_mode, diff):
    # The guide names the custom solution like the solution itself.
    params = dict(params, custom_solution_name=params.get("custom_solution_name") or params["name"])
    return ensuring(MANAGEMENT_SOLUTION)(client, params, check_mode, diff)


MANAGEMENT_SOLUTION_MODULE = Declared(
    "management_solution",
    dict(
        name=dict(type="str", required=True),
        custom_solution_name=dict(type="str"),
        state=STATE,
    ),
    _ensure_management_solution,
)


# ---- agreement type ---------------------------------------------------------------------------------

BILL_OPTIONS = ["Billable", "DoNotBill", "NoCharge", "NoDefault"]

AGREEMENT_TYPE = Resource(
    name="agreement type",
    path="finance/agreements/types",
    key=("name",),
    fields={
        "name": Field("name", max_length=50),
        "bill_time": Field("billTime", create_default="DoNotBill"),
        "bill_expenses": Field("billExpenses", create_default="DoNotBill"),
        "bill_products": Field("billProducts", create_default="Billable"),
        "employee_comp_rate": Field("employeeCompRate", create_default="Actual"),
        "employee_comp_not_exceed": Field("employeeCompNotExceed", create_default="Billing"),
        "invoicing_cycle": Field("invoicingCycle", create_default="CalendarYear"),
        "billing_cycle": Field("billingCycle", kind="ref", create_default="Monthly",
                               ref=Ref("finance/billingCycles", label="billing cycle")),
        "prorate": Field("prorateFlag", kind="bool"),
        "invoice_description": Field("invoiceDescription", max_length=4000),
        "inactive": Field("inactiveFlag", kind="bool"),
    },
    required_on_create=("bill_time", "bill_expenses", "bill_products", "employee_comp_rate",
                        "employee_comp_not_exceed", "invoicing_cycle"),
    referrers=(Referrer(AGREEMENTS_PATH, "type/id", "agreement"),
               Referrer(CROSS_REFERENCES_PATH, "agreementType/id", "cross-reference", parents=INTEGRATIONS_PATH)),
)

AGREEMENT_TYPE_MODULE = Declared(
    "agreement_type",
    dict(
        name=dict(type="str", required=True),
        bill_time=dict(type="str", choices=BILL_OPTIONS),
        bill_expenses=dict(type="str", choices=BILL_OPTIONS),
        bill_products=dict(type="str", choices=BILL_OPTIONS),
        employee_comp_rate=dict(type="str", choices=["Actual", "Hourly"]),
        employee_comp_not_exceed=dict(type="str", choices=["Billing", "Amount", "Percent"]),
        invoicing_cycle=dict(type="str", choices=["ContractYear", "CalendarYear"]),
        billing_cycle=dict(type="str"),
        prorate=dict(type="bool"),
        invoice_description=dict(type="str"),
        inactive=dict(type="bool"),
        state=STATE,
        deleted_first=DELETED_FIRST_SPEC,
    ),
    ensuring(AGREEMENT_TYPE),
)


# ---- product ----------------------------------------------------------------------------------------

PRODUCT = Resource(
    name="product",
    path="procurement/catalog",
    key=("identifier",),
    fields={
        "identifier": Field("identifier", max_length=75),
        "description": Field("description", max_length=60),
        "customer_description": Field("customerDescription", max_length=6000),
        "category": Field("category", kind="ref", ref=Ref("procurement/categories", label="product category")),
        "subcategory": Field("subcategory", kind="ref", ref=Ref(
            "procurement/subcategories", within=("category", "category/id"), label="product subcategory")),
        "product_type": Field("type", kind="ref", ref=Ref("procurement/types", label="product type")),
        "product_class": Field("productClass"),
        "price": Field("price", kind="float"),
        "cost": Field("cost", kind="float"),
        "unit_of_measure": Field("unitOfMeasure", kind="ref",
                                 ref=Ref("procurement/unitOfMeasures", label="unit of measure")),
        "taxable": Field("taxableFlag", kind="bool"),
        "inactive": Field("inactiveFlag", kind="bool"),
    },
    required_on_create=("description", "customer_description", "subcategory", "product_type"),
    referrers=(Referrer(AGREEMENTS_PATH + "/{parent}/additions", "product/id", "agreement addition",
                        parents=AGREEMENTS_PATH),
               Referrer(CROSS_REFERENCES_PATH, "product/id", "cross-reference", parents=INTEGRATIONS_PATH)),
)

PRODUCT_MODULE = Declared(
    "product",
    dict(
        identifier=dict(type="str", required=True),
        description=dict(type="str"),
        customer_description=dict(type="str"),
        category=dict(type="str"),
        subcategory=dict(type="str"),
        product_type=dict(type="str"),
        product_class=dict(type="str", choices=["Agreement", "Bundle", "Inventory", "NonInventory", "Service"]),
        price=dict(type="float"),
        cost=dict(type="float"),
        unit_of_measure=dict(type="str"),
        taxable=dict(type="bool"),
        inactive=dict(type="bool"),
        state=STATE,
        deleted_first=DELETED_FIRST_SPEC,
    ),
    ensuring(PRODUCT),
    required_by=dict(subcategory=["category"]),
)


# ---- managed devices integration --------------------------------------------------------------------

MANAGED_DEVICES_INTEGRATION = Resource(
    name="managed devices integration",
    path=INTEGRATIONS_PATH,
    key=("name",),
    fields={
        "name": Field("name", max_length=30),
        "solution": Field("solution", max_length=30,
                          create_default=lambda desired, resolved: desired.get("name")),
        "integrator_login": Field("integratorLogin", kind="ref", ref=Ref(
            "system/integratorlogins", match="username", label="integrator login")),
        "login_by": Field("loginBy", create_default="Global"),
        "default_billing_level": Field("defaultBillingLevel", create_default="Summary"),
        "portal_url": Field("portalUrl", max_length=200),
    },
    referrers=(Referrer(CROSS_REFERENCES_OF, None, "cross-reference"),),
)

MANAGED_DEVICES_INTEGRATION_MODULE = Declared(
    "managed_devices_integration",
    dict(
        name=dict(type="str", required=True),
        solution=dict(type="str"),
        integrator_login=dict(type="str"),
        login_by=dict(type="str", choices=["Global", "Member"]),
        default_billing_level=dict(type="str", choices=["Detail", "Summary"]),
        portal_url=dict(type="str"),
        state=STATE,
        deleted_first=DELETED_FIRST_SPEC,
    ),
    ensuring(MANAGED_DEVICES_INTEGRATION),
)


# ---- cross-reference --------------------------------------------------------------------------------

CROSS_REFERENCE = Resource(
    name="cross-reference",
    path=CROSS_REFERENCES_PATH,
    key=("type", "level"),
    parent=Parent("integration", Ref(INTEGRATIONS_PATH, label="managed devices integration")),
    fields={
        "type": Field("vendorType", max_length=255),
        "level": Field("vendorLevel", max_length=255),
        "agreement_type": Field("agreementType", kind="ref", ref=Ref("finance/agreements/types", label="agreement type")),
        "product": Field("product", kind="ref", ref=Ref("procurement/catalog", match="identifier", label="product")),
        "configuration_type": Field("configurationType", kind="ref",
                                    ref=Ref("company/configurations/types", label="configuration type")),
        "inactive": Field("inactiveFlag", kind="bool"),
    },
    required_on_create=(("agreement_type", "configuration_type"),),
)

CROSS_REFERENCE_MODULE = Declared(
    "cross_reference",
    dict(
        integration=dict(type="str", required=True),
        type=dict(type="str", required=True),
        level=dict(type="str", required=True),
        agreement_type=dict(type="str"),
        product=dict(type="str"),
        configuration_type=dict(type="str"),
        inactive=dict(type="bool"),
        state=STATE,
    ),
    ensuring(CROSS_REFERENCE),
)


# ---- agreements (one company or many) ---------------------------------------------------------------

AGREEMENT_OVERRIDES = ("start_date", "bill_start_date", "end_date", "contact")
COMPANIES = Many(one="company", many="companies", key="identifier", overrides=AGREEMENT_OVERRIDES)
# Companies and contacts are the customer's: a missing one is an error, in check mode too.
COMPANY = Ref("company/companies", match="identifier", label="company", fields=("name", "defaultContact"),
              created_by_collection=False,
              missing="company {value!r}: no company with this identifier in ConnectWise ({path})",
              ambiguous="company {value!r}: {count} companies have this identifier (ids {ids})")
CONTACT = Ref("company/contacts", match=FULL_NAME, within=("company", "company/id"), label="contact", ids=True,
              created_by_collection=False,
              missing="company {scope!r}: no contact named {value!r} among its contacts ({path})",
              ambiguous="company {scope!r}: contact {value!r} is ambiguous: {count} contacts match (ids {ids})")
DEFAULT_CONTACT = FromRef("company", "defaultContact", "company {row[identifier]!r} ({row[name]}) has no default contact "
                          "(defaultContact): give contact for it, or set the company's default contact in ConnectWise")


def agreement_resource(today):
    """The agreement; a new one without a start date starts on the first of the month before ``today``."""
    return Resource(
        name="agreement",
        path=AGREEMENTS_PATH,
        key=("company", "name"),
        fields={
            "company": Field("company", kind="ref", ref=COMPANY),
            "name": Field("name", max_length=100),
            "agreement_type": Field("type", kind="ref", ref=Ref("finance/agreements/types", label="agreement type")),
            "contact": Field("contact", kind="ref", ref=CONTACT, create_default=DEFAULT_CONTACT),
            "start_date": Field("startDate", kind="date", create_default=first_of_previous_month(today)),
            "end_date": Field("endDate", kind="date"),
            "no_ending_date": Field("noEndingDateFlag", kind="bool"),
            "bill_start_date": Field("billStartDate", kind="date"),
        },
        required_on_create=("name", "agreement_type", "company", "contact"),
        referrers=(Referrer(AGREEMENTS_PATH + "/{id}/additions", None, "agreement addition"),
                   Referrer(AGREEMENTS_PATH, "parentAgreement/id", "child agreement")),
    )


def check_same_name(params):
    """The guide's rule: agreement and agreement type share one name (unless allowed otherwise)."""
    if params["state"] != "present" or params.get("allow_name_mismatch"):
        return
    if fold(params["name"]) != fold(params.get("agreement_type")):
        raise InputError("name %r differs from agreement_type %r: the vendor's guide requires the management "
                         "solution, the agreement type and the agreements to have the same name; give the same "
                         "name, or set allow_name_mismatch: true" % (params["name"], params.get("agreement_type")))


def agreement_item(params, identifier, overrides):
    """One company's options for the engine: the task's options, its overrides, the end-date rule."""
    item = {"company": identifier, "name": params["name"]}
    if params["state"] == "absent":
        return item
    merged = dict({k: params.get(k) for k in AGREEMENT_OVERRIDES}, **overrides)
    end_date, no_ending, where = merged["end_date"], params.get("no_ending_date"), "company %r" % identifier
    if no_ending is None:
        no_ending = end_date is None
    elif no_ending and end_date is not None:
        raise InputError("%s: no_ending_date is true but end_date %r is given; give one of them" % (where, end_date))
    elif not no_ending and end_date is None:
        raise InputError("%s: no_ending_date is false but no end_date is given" % where)
    item.update(agreement_type=params["agreement_type"], start_date=merged["start_date"], no_ending_date=no_ending,
                bill_start_date=merged["bill_start_date"], contact=merged["contact"],
                # ConnectWise keeps an old endDate beside the flag unless it is cleared.
                end_date=CLEAR if no_ending else end_date)
    return item


def _ensure_agreements(client, params, check_mode, diff):
    check_same_name(params)
    today = option_date(params["today"], "today") if params.get("today") else utc_today()
    engine = Engine(client, agreement_resource(today), check_mode)
    # An unknown agreement type fails the task at once, not each company with the same message.
    ensured = ensure_many(engine, COMPANIES, params,
                          lambda identifier, overrides: agreement_item(params, identifier, overrides),
                          bulk_key="company", shared=("agreement_type",),
                          diff_label="agreement {name} of company {company}", diff=diff)
    # Read with the agreements (one bulk read): a caller tells an unknown customer from other failures.
    ensured.result["missing_companies"] = [entry["company"] for entry in ensured.result["results"]
                                           if not engine.references.lookup(COMPANY, entry["company"])]
    return ensured


AGREEMENT_MODULE = Declared(
    "agreement",
    dict(
        company=dict(type="str"),
        companies=dict(type="list", elements="raw"),
        name=dict(type="str", required=True),
        agreement_type=dict(type="str"),
        start_date=dict(type="str"),
        end_date=dict(type="str"),
        no_ending_date=dict(type="bool"),
        bill_start_date=dict(type="str"),
        contact=dict(type="str"),
        today=dict(type="str"),
        allow_name_mismatch=dict(type="bool", default=False),
        state=STATE,
    ),
    _ensure_agreements,
    mutually_exclusive=[("company", "companies")],
    required_one_of=[("company", "companies")],
    required_if=[("state", "present", ("agreement_type",))],
)
