"""The roles decide as the modules do: each rule the role filters apply is the module side's, not a copy.

Each test puts a filter's answer beside the module side's for the same input, over inputs where a
rewritten rule would differ (spacing and case, bad dates, zones, window edges, float rates).
"""

import datetime
import os

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.mbs.connectwise.plugins.filter import customers as filters
from ansible_collections.mbs.connectwise.plugins.module_utils import customer_record
from ansible_collections.mbs.connectwise.plugins.module_utils.billing import config as billing_config
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.config import OUTSIDE_WINDOW, build_config
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.lines import MODES
from ansible_collections.mbs.connectwise.plugins.module_utils.billing.numbers import to_decimal
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.options import desired_fields
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import CustomerError, InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.resources import MANAGED_DEVICES_INTEGRATION, MANAGEMENT_SOLUTION
from ansible_collections.mbs.connectwise.plugins.modules.billing import ARGUMENT_SPEC as BILLING_SPEC

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
IDENTIFIERS = ["Company 0001", "Company  0001", " company 0001 ", "COMPANY\t0001", "Company 0002", "Company0001",
               "Straße", "STRASSE"]


def module_params(**given):
    params = {name: option.get("default") for name, option in BILLING_SPEC.items()}
    params["mbs"] = None
    params.update(usage=[], **given)
    return params


# ---------------------------------------------------------------- one customer, one company


@pytest.mark.parametrize("first", IDENTIFIERS)
@pytest.mark.parametrize("second", IDENTIFIERS)
def test_two_identifiers_are_one_customer_to_the_roles_exactly_when_they_are_one_company_to_the_modules(first, second):
    same_company = fold(first) == fold(second)
    try:
        customer_records([first, second])
        one_customer = False
    except CustomerError as error:
        assert "declared twice" in str(error)
        one_customer = True
    assert one_customer == same_company
    if first == second:
        return   # a mapping holds a key once
    # The billing module's per-company settings: one company, given twice, is refused the same way.
    try:
        billing_config.build_config(module_params(companies={first: {}, second: {"skip": True}}))
        one_override = False
    except InputError as error:
        assert "is given twice" in str(error)
        one_override = True
    assert one_override == same_company


def customer_records(entries):
    return customer_record.customer_records(entries)


def test_a_customer_connectwise_knows_by_other_spacing_and_case_is_known():
    """company_info answers ConnectWise's spelling; the role's record keeps the user's: one company."""
    records = customer_records(["Company  0001", "Globex"])
    assert filters.unknown_customers(records, ["company 0001"]) != ""
    assert filters.unknown_customers(records, ["Company 0001 "]).startswith("1 customer has no ConnectWise company")
    assert filters.unknown_customers(records, ["Company 0002"]) == ""
    # billing_customers hands the identifier on as written; the module folds it like every other.
    overrides = filters.billing_customers(customer_records([{"identifier": "Company  0001", "bill": False}]))
    config = build_config(module_params(companies=overrides["companies"]))
    assert config.settings_for("company 0001").skip is True


# ---------------------------------------------------------------- the auto-billing window


def module_skips(today, days, timezone):
    """The billing module's own answer: None when it would bill in auto mode, else why not.

    The options go through the module's argument spec first, as in the module (``"3"`` is 3).
    """
    given = {"period": "auto", "today": today, "auto_window_days": days, "timezone": timezone, "usage": []}
    checked = ArgumentSpecValidator(BILLING_SPEC).validate(given)
    if checked.error_messages:
        return "refused"
    try:
        config = build_config(checked.validated_parameters)
    except InputError:
        return "refused"
    return config.skipped_reason


@pytest.mark.parametrize("today", ["2026-11-01", "2026-11-03", "2026-11-04", "2026-12-31", "2027-01-02",
                                   "2026-11-1", " 2026-11-02 ", "2026-13-01", "someday", "2026-02-29"])
@pytest.mark.parametrize("days", [1, 3, 28, "3", 0, 29])
def test_in_auto_window_says_what_the_module_does_with_a_given_today(today, days):
    decision = module_skips(today, days, "UTC")
    in_window = filters.in_auto_window(today, days, "UTC")
    if decision == "refused":
        assert in_window is True   # the module runs and names the bad value
    else:
        assert in_window == (decision != OUTSIDE_WINDOW)


@pytest.mark.parametrize("timezone, instant", [
    ("UTC", datetime.datetime(2026, 11, 3, 23, 30, tzinfo=datetime.timezone.utc)),
    ("Pacific/Kiritimati", datetime.datetime(2026, 11, 3, 12, 0, tzinfo=datetime.timezone.utc)),   # Nov 4 there
    ("America/Los_Angeles", datetime.datetime(2026, 11, 4, 5, 0, tzinfo=datetime.timezone.utc)),   # Nov 3 there
    ("Nowhere/Atlantis", datetime.datetime(2026, 11, 20, 5, 0, tzinfo=datetime.timezone.utc)),
])
def test_in_auto_window_of_the_real_date_takes_the_modules_clock_and_zone(monkeypatch, timezone, instant):
    monkeypatch.setattr(billing_config, "_now", instant.astimezone)
    decision = module_skips(None, 3, timezone)
    in_window = filters.in_auto_window("", 3, timezone)
    assert in_window == (decision != OUTSIDE_WINDOW)
    if timezone == "Nowhere/Atlantis":
        assert decision == "refused" and in_window is True


# ---------------------------------------------------------------- names, modes, rates


@pytest.mark.parametrize("length", [1, 29, 30, 31, 50])
def test_the_solution_name_limit_is_the_modules(length):
    """connectwise_solution_name names a management solution and an integration: refused as their modules refuse it."""
    settings = {"connectwise_site": "s", "connectwise_company_id": "c", "connectwise_public_key": "p",
                "connectwise_private_key": "k", "connectwise_client_id": "i", "connectwise_integrator_login": "u",
                "connectwise_state": "present", "connectwise_solution_name": "n" * length}
    role_refuses = any("characters long" in problem for problem in filters.setup_input_problems(settings))
    modules_refuse = []
    for resource in (MANAGEMENT_SOLUTION, MANAGED_DEVICES_INTEGRATION):
        try:
            desired_fields(resource, {"name": "n" * length})
            modules_refuse.append(False)
        except InputError as error:
            assert "ConnectWise allows at most" in str(error)
            modules_refuse.append(True)
    assert role_refuses == any(modules_refuse)


def test_the_cost_modes_are_the_billing_modules_everywhere():
    assert customer_record.CUSTOMER_SPEC["cost_mode"]["choices"] == list(MODES)
    assert BILLING_SPEC["cost_mode"]["choices"] == list(MODES)
    assert billing_config.COMPANY_OVERRIDE_SPEC["cost_mode"]["choices"] == list(MODES)


def test_the_billing_roles_choices_are_the_billing_modules():
    """A role variable passed straight to a module option offers the option's choices, no more, no less."""
    with open(os.path.join(ROOT, "roles", "billing", "meta", "argument_specs.yml")) as handle:
        role = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    compared = []
    for name, option in role.items():
        module_option = BILLING_SPEC.get(name[len("billing_"):])
        if "choices" in option and module_option and "choices" in module_option:
            assert option["choices"] == module_option["choices"], name
            compared.append(name)
    total_cost_is = role["billing_mbs"]["options"]["total_cost_is"]["choices"]
    assert total_cost_is == BILLING_SPEC["mbs"]["options"]["total_cost_is"]["choices"]
    assert len(compared) >= 5, compared


@pytest.mark.parametrize("value", ["0.06", 0.06, 1, "1e-2", " 0.10 ", 0, "-1", "cheap", True, None, "NaN", "Infinity",
                                   [1], 2.5e-05])
def test_a_customers_rate_is_read_as_the_billing_module_reads_its_rates(value):
    try:
        module_rate = to_decimal(value, "price_per_gb")
    except ValueError:
        module_rate = None
    try:
        record_rate = customer_record.rate(value)
    except ValueError:
        record_rate = None
    assert record_rate == (None if module_rate is None else str(module_rate))
