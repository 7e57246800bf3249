"""The customer record: one validation (ansible-core's argument-spec validator) for both roles, and host
variables read only where they are the customer's."""

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.mbs.connectwise.plugins.filter import customers as filters
from ansible_collections.mbs.connectwise.plugins.module_utils import customer_record
from ansible_collections.mbs.connectwise.plugins.module_utils.customer_record import customer_records
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import CustomerError

# What AWX adds to every job's extra vars, so to every host's variables.
AWX_JOB_VARIABLES = {
    "awx_job_id": 42, "awx_job_launch_type": "scheduled", "awx_job_template_id": 7,
    "awx_job_template_name": "mbs.connectwise billing (auto)", "awx_inventory_id": 3,
    "awx_inventory_name": "mbs.connectwise controller", "awx_project_revision": "0f1e2d", "awx_user_name": "admin",
    "awx_schedule_name": "mbs.connectwise billing", "tower_job_id": 42, "tower_user_name": "admin",
    "tower_job_template_name": "mbs.connectwise billing (auto)",
}


def one(raw):
    [record] = customer_records([raw])
    return record


def refused(raw=None, hosts=()):
    with pytest.raises(CustomerError) as raised:
        customer_records([] if raw is None else [raw], hosts)
    return str(raised.value)


def test_the_record_spec_is_the_documented_keys_checked_by_ansibles_validator():
    assert tuple(customer_record.CUSTOMER_SPEC) == customer_record.CUSTOMER_KEYS
    assert isinstance(customer_record._VALIDATOR, ArgumentSpecValidator)
    # The filter and the module_utils give the same records: one rule, imported.
    raw = ["AcmeCorp", {"identifier": "Initech", "mbs_company": "Initech Inc.", "price_per_gb": 0.08,
                        "start_date": "2026-01-01", "bill": False, "cost_mode": "total", "contact": 17}]
    assert filters.customers(raw) == customer_records(raw)
    record = filters.customers(raw)[1]
    assert record == {"identifier": "Initech", "mbs_company": ["Initech Inc."], "bill": False,
                      "start_date": "2026-01-01", "bill_start_date": None, "end_date": None, "contact": 17,
                      "price_per_gb": "0.08", "cost_per_gb": None, "cost_mode": "total", "invoice_description": None,
                      "products": None, "product_prices": None, "where": "connectwise_customers[1]"}


def test_defaults_and_empty_values():
    record = one({"identifier": " AcmeCorp ", "price_per_gb": "", "start_date": None, "mbs_company": []})
    assert record["identifier"] == "AcmeCorp" and record["bill"] is True and record["mbs_company"] == []
    assert record["price_per_gb"] is None and record["start_date"] is None
    # A YAML number is the identifier's text; a company name keeps its commas.
    assert one(1234)["identifier"] == "1234"
    assert one({"identifier": "Stark", "mbs_company": "Stark, Wayne & Co"})["mbs_company"] == ["Stark, Wayne & Co"]
    assert one({"identifier": "Hooli", "bill": "no"})["bill"] is False


@pytest.mark.parametrize("raw, expected", [
    ({"identifier": "G", "price_per_gib": "1"},
     "customer 'G' (connectwise_customers[0]): unknown key price_per_gib (did you mean price_per_gb?); the allowed "
     "keys are identifier, mbs_company, bill, start_date, bill_start_date, end_date, contact, price_per_gb, "
     "cost_per_gb, cost_mode, invoice_description, products, product_prices"),
    ({"identifier": "G", "tier": "gold", "bil": False},
     "customer 'G' (connectwise_customers[0]): unknown keys bil (did you mean bill?), tier; the allowed keys are"),
    ({"identifier": "G", "start_date": "2026-13-01"},
     "customer 'G' (connectwise_customers[0]): argument 'start_date'"),
    ({"identifier": "G", "end_date": "2026-1-5"}, '"2026-1-5" is not a date in the form YYYY-MM-DD'),
    ({"identifier": "G", "cost_mode": "avg"}, "cost_mode must be one of: average_cost, total, quantity_only, got: avg"),
    ({"identifier": "G", "price_per_gb": "-1"}, "'-1': a rate must be zero or more"),
    ({"identifier": "G", "cost_per_gb": "cheap"}, "'cheap' is not a rate such as \"0.06\""),
    ({"identifier": "G", "cost_per_gb": True}, "True is not a rate"),
    ({"identifier": "G", "bill": "maybe"}, "argument 'bill' is of type str and we were unable to convert to bool"),
    ({"identifier": "G", "mbs_company": ["ok", 1]}, "['ok', 1] is not an MSP360 company name"),
    ({"identifier": "G", "contact": {"id": 1}}, "{'id': 1} is not a contact id or a \"First Last\" name"),
    ({"mbs_company": "Initech Inc."},
     "connectwise_customers[0] needs an identifier (the ConnectWise company identifier, a non-empty string), got None"),
    ({"identifier": True}, "connectwise_customers[0] needs an identifier"),
    (["AcmeCorp"], "connectwise_customers[0] must be a company identifier or a record with the keys identifier,"),
])
def test_a_bad_record_names_the_customer_the_key_and_the_value(raw, expected):
    assert expected in refused(raw)


def test_host_variables_that_are_not_the_customers_are_left_alone():
    """AWX's job variables, a plugin's compose results, group variables: none of them is a customer key."""
    variables = dict(AWX_JOB_VARIABLES, inventory_hostname="AcmeCorp", group_names=["connectwise_customers"],
                     ansible_connection="local", connectwise_company_id=1, connectwise_company_name="Acme",
                     billing_price_per_gb="0.06", tier="gold", region="EMEA", contact_email="it@acme.example",
                     account_manager="Wile", cw_company_name="Acme",
                     # the inventory plugin's variables with host_var_prefix: ""
                     company_id=1, company_identifier="AcmeCorp", company_name="Acme", company_types=[],
                     company_status="Active", agreements=[],
                     price_per_gb="0.08", mbs_company="Acme Corp")
    [record] = customer_records([], [("AcmeCorp", variables)])
    assert record["identifier"] == "AcmeCorp" and record["where"] == "inventory host AcmeCorp"
    assert (record["price_per_gb"], record["mbs_company"]) == ("0.08", ["Acme Corp"])


def test_a_host_variable_close_to_a_key_is_a_typo_naming_the_key():
    message = refused(hosts=[("Umbrella", dict(AWX_JOB_VARIABLES, tier="gold", bil=False, contacts="Albert Wesker"))])
    assert message.startswith("customer 'Umbrella' (inventory host Umbrella): unknown keys bil (did you mean bill?), "
                              "contacts (did you mean contact?); the allowed keys are identifier,"), message
    assert "tier" not in message.split(";", maxsplit=1)[0] and "awx_" not in message


def test_a_host_may_name_its_identifier():
    """A host named after the company name (the inventory plugin's hostname: name) carries its identifier."""
    [record] = customer_records([], [("Stark & Wayne", {"identifier": "StarkWayne", "bill": False})])
    assert (record["identifier"], record["where"]) == ("StarkWayne", "inventory host Stark & Wayne")


def test_a_customer_is_declared_once():
    message = refused(hosts=[("Company 0001", {}), ("company  0001", {})])
    assert message.startswith("customer 'company  0001' (inventory host company  0001) is declared twice (also "
                              "inventory host Company 0001); identifiers match case-insensitively"), message
    with pytest.raises(CustomerError) as raised:
        customer_records(["AcmeCorp"], [("acmecorp", {})])
    assert "A host of connectwise_customers_group needs no entry in connectwise_customers" in str(raised.value)
    with pytest.raises(CustomerError, match="MSP360 company 'initech inc.' is the mbs_company of both 'Initech' and "
                                            "'Globex'"):
        customer_records([{"identifier": "Initech", "mbs_company": "Initech Inc."},
                          {"identifier": "Globex", "mbs_company": ["Globex", "initech inc."]}])


def test_the_filter_words_the_refusal_for_the_roles():
    with pytest.raises(Exception) as raised:
        filters.customers("AcmeCorp")
    assert "connectwise_customers must be a list of company identifiers or records, got 'AcmeCorp'" in str(raised.value)
    with pytest.raises(Exception, match="hostvars is needed"):
        filters.customers([], None, ["AcmeCorp"])
    assert filters.customers(None) == []


def test_replaced_variables_are_named_with_their_replacement_and_an_example():
    assert filters.replaced_variables(["connectwise_site", "billing_period", "billing_customers"]) == ""
    assert filters.replaced_variables([]) == ""
    message = filters.replaced_variables(["billing_companies", "connectwise_site", "billing_company_map"])
    assert message.startswith("billing_companies is no longer read and was replaced by connectwise_customers: ")
    assert ('billing_company_map is no longer read and was replaced by connectwise_customers: the MSP360 company name '
            'of a customer is its mbs_company in connectwise_customers, for example connectwise_customers: '
            '[{identifier: Initech, mbs_company: "Initech Inc."}]') in message
    assert "{identifier: Umbrella, bill: false}" in message
    assert message.endswith("Nothing was sent to ConnectWise.")
    assert "connectwise_site" not in message


def test_a_customer_chooses_its_products_and_their_prices_and_billing_takes_them():
    raw = [{"identifier": "AcmeCorp", "products": ["OnlineBackup", " BackupServer "],
            "product_prices": {"BackupServer": {"unit_price": 20, "included": "2"},
                               "WasabiStorage": {"price_per_gb": 0.08}}},
           {"identifier": "Globex", "products": "OnlineBackup", "bill": False}, "Initech"]
    records = filters.customers(raw)
    assert records[0]["products"] == ["OnlineBackup", "BackupServer"]
    assert records[0]["product_prices"] == {"BackupServer": {"unit_price": "20", "included": 2},
                                            "WasabiStorage": {"price_per_gb": "0.08"}}
    assert records[1]["products"] == ["OnlineBackup"]
    overrides = filters.billing_customers(records)["companies"]
    assert overrides == {
        "AcmeCorp": {"products": ["OnlineBackup", "BackupServer"],
                     "product_prices": {"BackupServer": {"unit_price": "20", "included": 2},
                                        "WasabiStorage": {"price_per_gb": "0.08"}}},
        "Globex": {"products": ["OnlineBackup"], "skip": True}}


@pytest.mark.parametrize("raw, expected", [
    ({"identifier": "G", "products": ["OnlineBackup", 7]}, "is not a list of catalog item identifiers"),
    ({"identifier": "G", "products": ["X" * 76]}, "at most 75 characters"),
    ({"identifier": "G", "product_prices": {"BackupServer": {"price": "1"}}},
     "product_prices[BackupServer]: unknown key price; the allowed keys are unit_price, unit_cost, included"),
    ({"identifier": "G", "product_prices": {"BackupServer": {"unit_price": "-1"}}}, "a rate must be zero or more"),
    ({"identifier": "G", "product_prices": {"BackupServer": {"included": 1.5}}}, "not a whole number of licenses"),
    ({"identifier": "G", "product_prices": ["BackupServer"]}, "not a mapping of product identifier"),
])
def test_a_bad_product_choice_names_the_customer_and_the_key(raw, expected):
    assert expected in refused(raw)
