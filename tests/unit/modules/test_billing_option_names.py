"""mbs.connectwise.billing's messages name the options as the caller's users write them (``option_names``).

The billing role's table (``roles/billing/vars/main.yml``) names every option of the module, each a
variable the role declares (or a key of a customer's record); with it, every misconfiguration's message
names the role's variables and never the module's options.
"""

import os
import re

import pytest
import yaml

from ansible_collections.mbs.connectwise.plugins.module_utils.billing.config import COMPANY_OVERRIDE_SPEC
from ansible_collections.mbs.connectwise.plugins.module_utils.option_names import OptionNames, known_paths
from ansible_collections.mbs.connectwise.plugins.module_utils.customer_record import CUSTOMER_SPEC
from ansible_collections.mbs.connectwise.plugins.modules import billing

from ..sandbox_client import run_module
from .test_billing import GIB, GLOBEX, add_agreement, add_company, args, bare, cw, slept
from .test_billing_safety import mbs_args, msp360, three

# The billing tests' fixtures, shared: imported, pytest finds them here (flake8 would call them unused).
__all__ = ["bare", "cw", "slept", "three"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "billing")


def role_table():
    with open(os.path.join(ROLE, "vars", "main.yml")) as handle:
        return yaml.safe_load(handle)["__billing_option_names"]


def role_variables():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


NAMES = role_table()
# The module's own option names that a role user never writes (a customer's record has the same key names).
MODULE_OPTIONS = sorted((set(billing.ARGUMENT_SPEC) | set("mbs." + sub for sub in billing.ARGUMENT_SPEC["mbs"]["options"]))
                        - {"usage", "period", "today", "unit", "product", "agreement", "companies", "mbs", "timezone",
                           "parallel"}, key=len, reverse=True)


def module_words(message):
    """The module's option names in ``message`` that are not part of a role name (billing_x, x of the customer)."""
    found = []
    for option in MODULE_OPTIONS:
        for match in re.finditer(r"(?<![\w.])%s(?![\w])" % re.escape(option), message):
            if not message[match.end():].startswith(" of the customer"):
                found.append(option)
    return found


def test_the_roles_table_names_every_option_of_the_module_and_nothing_else():
    assert set(NAMES) == known_paths(billing.ARGUMENT_SPEC, COMPANY_OVERRIDE_SPEC)


@pytest.mark.parametrize("path", sorted(NAMES))
def test_each_name_of_the_roles_table_is_a_variable_of_the_role_or_a_key_of_a_customer(path):
    name = NAMES[path]
    if name is None:
        return
    variables = role_variables()
    if name.startswith("billing_"):
        variable, _dot, sub = name.replace("[*]", "").partition(".")
        assert variable in variables, name
        assert not sub or sub in variables[variable]["options"], name
    else:
        key = name.split()[0].rstrip(":")
        assert key in CUSTOMER_SPEC or key in ("the", "connectwise_customers") and "customer" in name, name


def test_a_table_naming_an_option_the_module_does_not_have_is_refused_before_any_request(cw):
    result, failed = run_module(billing, args(option_names={"cost_per_gib": "billing_cost_per_gib"}))
    assert failed and "option_names: 'cost_per_gib' is not an option of the billing module" in result["msg"]
    assert cw.log == []


def test_names_of_entries_and_options_the_caller_does_not_offer():
    names = OptionNames(NAMES)
    assert names("cost_per_gb") == "billing_cost_per_gb"
    assert names("companies[*].price_per_gb", "Globex\nInc") == "price_per_gb of the customer Globex\\nInc"
    assert names("allow_current_period") == "the billing module's option allow_current_period"
    assert not names.can_set("allow_current_period") and names.can_set("cost_per_gb")
    assert OptionNames()("companies[*].cost_per_gb", "X") == "companies[X].cost_per_gb"


@pytest.mark.parametrize("params, expected", [
    (dict(mbs_source=True, cost_per_gb=None),
     "billing_cost_mode average_cost with the MSP360 source needs billing_cost_per_gb: MSP360's TotalCost is taken "
     "as the price (billing_mbs.total_cost_is: price), so no company would have a cost. Set billing_cost_per_gb, set "
     "billing_mbs.total_cost_is, or use billing_cost_mode: quantity_only. Nothing was sent."),
    (dict(mbs_source=True, cost_per_gb_by_destination={"Wasabi": "0.01"}),
     "billing_cost_per_gb_by_destination needs usage records with a destination, which the MSP360 billing API does "
     "not give; use billing_usage_file or billing_usage with a destination column, or billing_cost_per_gb"),
    (dict(cost_per_gb="abc"), "billing_cost_per_gb: 'abc' is not a number"),
    (dict(cost_per_gb_by_destination={"Wasabi": "-1"}), "billing_cost_per_gb_by_destination[Wasabi]: '-1' is negative"),
    (dict(companies={"Globex": {"price_per_gb": "x"}}), "price_per_gb of the customer Globex: 'x' is not a number"),
    (dict(companies={"Globex": {"cost_mode": "quantity_only", "invoice_description": "{total_price}"}}),
     "invoice_description of the customer Globex: invoice description template uses"),
    (dict(max_growth="1"), "billing_max_growth: '1' must be more than 1"),
    (dict(max_company_usage="lots"), "billing_max_company_usage: 'lots' is not a size"),
    (dict(mass_change_share="2"), "billing_mass_change_share: '2' is more than the whole"),
    (dict(invoice_description="{bogus}"), "billing_invoice_description: invoice description template: unknown "
                                          "placeholder"),
    (dict(timezone="Mars/Base"), "billing_timezone 'Mars/Base' is not an IANA time zone name"),
    (dict(today="yesterday"), "billing_today 'yesterday' is not a date written YYYY-MM-DD"),
    (dict(period="2026-13"), "billing_period '2026-13' is not a valid month"),
    (dict(period="2026-11"), "billing_period 2026-11 is the current month, which has not ended (today is "
                             "2026-11-02): bill 2026-10"),
    (dict(period="auto", auto_window_days=0), "billing_auto_days: auto-billing window 0 must be a whole number"),
    (dict(parallel=0), "billing_parallel 0 must be a whole number from 1 to 16"),
    (dict(usage=[{"company": "AcmeCorp"}]), "billing_usage[0].used_bytes: is missing"),
    (dict(usage=None, usage_file="/nonexistent/usage.csv"), "billing_usage_file /nonexistent/usage.csv cannot be read"),
    (dict(usage=None, mbs={"url": "https://x.example", "username": "", "password": "p"}),
     "billing_mbs: username and password are required (or MBS_USERNAME and MBS_PASSWORD)"),
    (dict(usage=None, mbs={"url": "http://mbs.example.com", "username": "u", "password": "p"}),
     "billing_mbs.url http://mbs.example.com uses plain HTTP"),
])
def test_misconfigurations_name_the_roles_variables_not_the_modules_options(cw, params, expected):
    params = dict(params)
    if params.pop("mbs_source", False):
        params = mbs_args(**params)
        if params["cost_per_gb"] is None:
            del params["cost_per_gb"]
    else:
        params = dict((key, value) for key, value in args(**params).items() if value is not None)
    result, failed = run_module(billing, dict(params, option_names=NAMES))
    assert failed and expected in result["msg"], result["msg"]
    assert module_words(result["msg"]) == [], result["msg"]
    assert cw.log == []


def test_a_companys_failure_and_the_run_checks_name_the_roles_variables(three):
    msp360(three, {"AcmeCorp": 100 * GIB}, month="2026-11")   # Globex and Hooli leave: a mass change
    result, failed = run_module(billing, mbs_args(option_names=NAMES))
    assert failed and result["refused"]["rule"] == "mass change"
    assert "more than billing_mass_change_share 0.1" in result["msg"]
    assert "run again with billing_confirm_mass_change: true" in result["msg"]
    assert module_words(result["msg"]) == [], result["msg"]

    msp360(three, {"AcmeCorp": 100 * GIB, "Globex Corp": 100 * GIB, "Hooli": 2000 * GIB},
           ("AcmeCorp", "Globex Corp", "Hooli"), month="2026-11")
    result, failed = run_module(billing, mbs_args(option_names=NAMES))
    reasons = dict((r["company"], r["reason"]) for r in result["results"] if r["action"] == "failed")
    assert "map it: mbs_company: 'Globex Corp' on the customer Globex and run again" in reasons["Globex"]
    assert "raise billing_max_growth (0 turns the check off)" in reasons["Hooli"]
    assert all(module_words(reason) == [] for reason in reasons.values()), reasons


def test_an_agreement_name_nobody_has_and_the_effective_date_policy_name_the_roles_variables(cw):
    result, failed = run_module(billing, args(option_names=NAMES, agreement="ManagedBackup"))
    assert failed and "Set billing_agreement to the agreement's name" in result["msg"], result["msg"]
    add_company(cw, GLOBEX)
    add_agreement(cw, 13, GLOBEX, bill_start="2026-10-15T00:00:00Z")
    result, failed = run_module(billing, args(option_names=NAMES, effective_date_policy="fail",
                                              usage=[{"company": "Globex", "used_bytes": GIB}]))
    assert failed and "with billing_effective_date_policy=fail nothing is written" in result["msg"], result["msg"]
    assert module_words(result["msg"]) == [], result["msg"]
