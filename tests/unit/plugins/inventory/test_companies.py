"""Unit tests of the mbs.connectwise.companies inventory plugin: file names, options, host vars."""

import json
from urllib.parse import parse_qs, urlsplit

import importlib

import pytest
import responses

from ansible.module_utils import _internal

from ...conftest import API, CONNECTION

NAME = "mbs.connectwise.companies"
COMPANIES = [
    {"id": 1, "identifier": "AcmeCorp", "name": "Acme Corporation",
     "status": {"id": 1, "name": "Active"}, "types": [{"id": 1, "name": "Client"}]},
    {"id": 2, "identifier": "Globex", "name": "Globex Corporation",
     "status": {"id": 1, "name": "Active"}, "types": [{"id": 2, "name": "Prospect"}]},
    {"id": 3, "identifier": "Hooli", "name": "Hooli", "status": {"id": 2, "name": "Inactive"}},
]
AGREEMENTS = [
    {"id": 10, "name": "ManagedBackupService", "type": {"id": 5, "name": "ManagedBackupService"},
     "company": {"id": 1, "identifier": "AcmeCorp"}, "agreementStatus": "Active",
     "startDate": "2026-10-01T00:00:00Z", "endDate": None, "billStartDate": None},
    {"id": 11, "name": "ManagedBackupService", "type": {"id": 5, "name": "ManagedBackupService"},
     "company": {"id": 1, "identifier": "AcmeCorp"}, "agreementStatus": "Cancelled",
     "startDate": "2025-01-01T00:00:00Z", "endDate": "2025-12-31T00:00:00Z", "billStartDate": None},
]


@pytest.fixture
def controller(monkeypatch):
    """The controller side of Ansible, imported only while these tests run.

    Importing it flips a process-wide switch (``is_controller``) that reroutes module warnings
    to the display; the module unit tests read them from the module's store, so the switch is
    set for these tests only and restored afterwards.
    """
    monkeypatch.setattr(_internal, "is_controller", True)
    names = {}
    for module, attrs in (("ansible.errors", ("AnsibleParserError",)),
                          ("ansible.inventory.data", ("InventoryData",)),
                          ("ansible.parsing.dataloader", ("DataLoader",)),
                          ("ansible.plugins.loader", ("inventory_loader",))):
        imported = importlib.import_module(module)
        names.update((attr, getattr(imported, attr)) for attr in attrs)
    names["companies"] = importlib.import_module(
        "ansible_collections.mbs.connectwise.plugins.inventory.companies")
    return type("Controller", (), names)


@pytest.fixture
def plugin(controller):
    companies = controller.companies
    # What the plugin loader does for a collection plugin: register the documented options.
    controller.inventory_loader._load_config_defs(NAME, companies, companies.__file__)
    module = companies.InventoryModule()
    module._load_name = NAME
    module.controller = controller
    return module


@pytest.fixture
def no_cw_env(monkeypatch):
    for name in ("CW_SITE", "CW_COMPANY_ID", "CW_PUBLIC_KEY", "CW_PRIVATE_KEY", "CW_CLIENT_ID",
                 "CW_CODEBASE"):
        monkeypatch.delenv(name, raising=False)


def source(tmp_path, options, name="test.connectwise.yml", connection=True):
    config = {"plugin": NAME}
    if connection:
        config.update(CONNECTION)
    config.update(options)
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return str(path)


def parse(plugin, path):
    inventory = plugin.controller.InventoryData()
    plugin.parse(inventory, plugin.controller.DataLoader(), path, cache=False)
    return inventory


def host_vars(inventory):
    return {name: host.get_vars() for name, host in inventory.hosts.items()}


def queries(mocked, path):
    return [parse_qs(urlsplit(call.request.url).query) for call in mocked.calls
            if urlsplit(call.request.url).path.endswith(path)]


@pytest.mark.parametrize("name, accepted", [
    ("customers.connectwise.yml", True),
    ("customers.connectwise.yaml", True),
    ("customers.yml", False),
    ("connectwise.yml", False),
    ("customers.connectwise.json", False),
])
def test_verify_file_takes_only_connectwise_sources(plugin, tmp_path, name, accepted):
    path = tmp_path / name
    path.write_text("plugin: %s\n" % NAME)
    assert plugin.verify_file(str(path)) is accepted


def test_verify_file_refuses_a_missing_file(plugin, tmp_path):
    assert not plugin.verify_file(str(tmp_path / "absent.connectwise.yml"))


def test_company_conditions_join_the_expression_and_the_statuses(controller):
    companies = controller.companies
    assert companies.company_conditions() == ""
    assert companies.company_conditions(statuses=["Active", 'Say "hi"']) == \
        'status/name in ("Active","Say \\"hi\\"")'
    assert companies.company_conditions("deletedFlag = false", ["Active"]) == \
        '(deletedFlag = false) and (status/name in ("Active"))'


def test_hosts_and_vars(plugin, tmp_path, mocked, no_cw_env):
    mocked.add(responses.GET, API + "company/companies", json=COMPANIES)
    inventory = parse(plugin, source(tmp_path, {
        "keyed_groups": [{"key": "connectwise_company_status", "prefix": "status"}],
        "groups": {"clients": "'Client' in connectwise_company_types"},
        "compose": {"short": "inventory_hostname | lower"},
    }))
    found = host_vars(inventory)
    assert set(found) == {"AcmeCorp", "Globex", "Hooli"}
    acme = found["AcmeCorp"]
    assert acme["connectwise_company_id"] == 1
    assert acme["connectwise_company_name"] == "Acme Corporation"
    assert acme["connectwise_company_types"] == ["Client"]
    assert acme["connectwise_company_status"] == "Active"
    assert acme["short"] == "acmecorp"
    assert "connectwise_agreements" not in acme
    assert found["Hooli"]["connectwise_company_types"] == []
    assert set(inventory.groups["status_Active"].get_hosts()) == \
        {inventory.get_host("AcmeCorp"), inventory.get_host("Globex")}
    assert [h.name for h in inventory.groups["clients"].get_hosts()] == ["AcmeCorp"]
    query = queries(mocked, "company/companies")[0]
    assert "conditions" not in query
    assert query["pageSize"] == ["1000"]


def test_statuses_and_conditions_go_to_the_server_types_filter_locally(plugin, tmp_path, mocked,
                                                                       no_cw_env):
    mocked.add(responses.GET, API + "company/companies", json=COMPANIES[:2])
    inventory = parse(plugin, source(tmp_path, {
        "statuses": ["Active"], "conditions": 'city = "Springfield"', "company_types": ["Client"]}))
    assert set(inventory.hosts) == {"AcmeCorp"}
    query = queries(mocked, "company/companies")[0]
    assert query["conditions"] == ['(city = "Springfield") and (status/name in ("Active"))']


def test_agreements_one_read_grouped_by_company(plugin, tmp_path, mocked, no_cw_env):
    mocked.add(responses.GET, API + "company/companies", json=COMPANIES)
    mocked.add(responses.GET, API + "finance/agreements", json=AGREEMENTS)
    found = host_vars(parse(plugin, source(tmp_path, {"agreement_name": "ManagedBackupService"})))
    assert [a["id"] for a in found["AcmeCorp"]["connectwise_agreements"]] == [10, 11]
    assert found["AcmeCorp"]["connectwise_agreements"][0] == {
        "id": 10, "name": "ManagedBackupService", "type": "ManagedBackupService",
        "agreementStatus": "Active", "startDate": "2026-10-01T00:00:00Z", "endDate": None,
        "billStartDate": None}
    assert found["Globex"]["connectwise_agreements"] == []
    reads = queries(mocked, "finance/agreements")
    assert len(reads) == 1
    assert reads[0]["conditions"] == ['name = "ManagedBackupService"']


def test_connection_options_fall_back_to_cw_env(plugin, tmp_path, mocked, monkeypatch):
    for option, value in CONNECTION.items():
        monkeypatch.setenv("CW_" + option.upper(), value)
    mocked.add(responses.GET, API + "company/companies", json=COMPANIES[:1])
    inventory = parse(plugin, source(tmp_path, {}, connection=False))
    assert set(inventory.hosts) == {"AcmeCorp"}
    assert mocked.calls[0].request.headers["clientId"] == CONNECTION["client_id"]


def test_missing_credentials_are_a_clear_error(plugin, tmp_path, no_cw_env):
    config = dict(CONNECTION, private_key="")
    with pytest.raises(plugin.controller.AnsibleParserError, match="private_key is empty"):
        parse(plugin, source(tmp_path, config))


def test_api_error_names_the_request_and_not_the_key(plugin, tmp_path, mocked, no_cw_env):
    mocked.add(responses.GET, API + "company/companies", status=401,
               json={"code": "Unauthorized", "message": "bad key %s" % CONNECTION["private_key"]})
    with pytest.raises(plugin.controller.AnsibleParserError) as raised:
        parse(plugin, source(tmp_path, {}))
    text = str(raised.value)
    assert "GET" in text and "company/companies" in text and "401" in text
    assert CONNECTION["private_key"] not in text


def test_a_bad_site_is_refused_before_any_request(plugin, tmp_path, mocked, no_cw_env):
    with pytest.raises(plugin.controller.AnsibleParserError, match="not a valid host name"):
        parse(plugin, source(tmp_path, {"site": "not a host"}))
    assert len(mocked.calls) == 0


def test_connection_options_match_the_modules(controller):
    """Same names, types, defaults and CW_* variables as the modules' connection options."""
    import yaml

    from ansible_collections.mbs.connectwise.plugins.module_utils.client import CONNECTION_OPTIONS

    documented = yaml.safe_load(controller.companies.DOCUMENTATION)["options"]
    for name, option in CONNECTION_OPTIONS.items():
        doc = documented[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default"), name
        assert bool(doc.get("required")) == option["required"], name
        assert [e["name"] for e in doc.get("env", [])] == ([option["env"]] if "env" in option else []), name


AGREEMENT_OF_GLOBEX = {"id": 12, "name": "Backup Gold", "type": {"id": 5, "name": "ManagedBackupService"},
                       "company": {"id": 2, "identifier": "Globex"}, "agreementStatus": "Active",
                       "startDate": "2026-10-01T00:00:00Z", "endDate": None, "billStartDate": None}


def test_require_agreement_keeps_the_companies_holding_one_of_the_type(plugin, tmp_path, mocked, no_cw_env):
    mocked.add(responses.GET, API + "company/companies", json=COMPANIES)
    mocked.add(responses.GET, API + "finance/agreements", json=AGREEMENTS + [AGREEMENT_OF_GLOBEX])
    found = host_vars(parse(plugin, source(tmp_path, {
        "agreement_type": "ManagedBackupService", "require_agreement": True})))
    assert sorted(found) == ["AcmeCorp", "Globex"]          # Hooli holds none: not a customer
    assert [a["name"] for a in found["Globex"]["connectwise_agreements"]] == ["Backup Gold"]
    assert queries(mocked, "finance/agreements")[0]["conditions"] == ['type/name = "ManagedBackupService"']
    # Two reads in all: the companies, then the agreements of every company.
    assert len(mocked.calls) == 2


def test_agreement_name_and_type_together(plugin, tmp_path, mocked, no_cw_env):
    mocked.add(responses.GET, API + "company/companies", json=COMPANIES)
    mocked.add(responses.GET, API + "finance/agreements", json=[AGREEMENT_OF_GLOBEX])
    found = host_vars(parse(plugin, source(tmp_path, {
        "agreement_type": 'Backup "Gold"', "agreement_name": "Backup Gold", "require_agreement": True})))
    assert sorted(found) == ["Globex"]
    assert queries(mocked, "finance/agreements")[0]["conditions"] == [
        '(name = "Backup Gold") and (type/name = "Backup \\"Gold\\"")']


def test_require_agreement_without_an_agreement_is_refused_before_any_request(plugin, tmp_path, mocked, no_cw_env):
    with pytest.raises(plugin.controller.AnsibleParserError, match="require_agreement needs agreement_name or "
                                                                   "agreement_type"):
        parse(plugin, source(tmp_path, {"require_agreement": True}))
    assert len(mocked.calls) == 0


def test_custom_field_and_child_conditions_go_to_connectwise(plugin, tmp_path, mocked, no_cw_env):
    mocked.add(responses.GET, API + "company/companies", json=COMPANIES[:1])
    parse(plugin, source(tmp_path, {"custom_field_conditions": 'caption = "Backup Customer" and value = true',
                                    "child_conditions": 'types/name = "Client"'}))
    query = queries(mocked, "company/companies")[0]
    assert query["customFieldConditions"] == ['caption = "Backup Customer" and value = true']
    assert query["childConditions"] == ['types/name = "Client"']


def test_selection_options_come_from_the_environment_as_awx_passes_source_variables(plugin, tmp_path, mocked,
                                                                                    monkeypatch, no_cw_env):
    monkeypatch.setenv("CW_INVENTORY_AGREEMENT_TYPE", "ManagedBackupService")
    monkeypatch.setenv("CW_INVENTORY_REQUIRE_AGREEMENT", "true")
    monkeypatch.setenv("CW_INVENTORY_STATUSES", "Active,Inactive")
    monkeypatch.setenv("CW_INVENTORY_HOST_VAR_PREFIX", "cw_")
    mocked.add(responses.GET, API + "company/companies", json=COMPANIES)
    mocked.add(responses.GET, API + "finance/agreements", json=AGREEMENTS)
    found = host_vars(parse(plugin, source(tmp_path, {})))
    assert sorted(found) == ["AcmeCorp"]
    assert found["AcmeCorp"]["cw_company_identifier"] == "AcmeCorp"
    assert queries(mocked, "company/companies")[0]["conditions"] == ['status/name in ("Active","Inactive")']


def test_host_names_and_prefix(plugin, tmp_path, mocked, no_cw_env):
    mocked.add(responses.GET, API + "company/companies", json=COMPANIES)
    found = host_vars(parse(plugin, source(tmp_path, {
        "hostname": "name", "host_var_prefix": "cw_", "compose": {"mbs_company": "cw_company_name"}})))
    assert sorted(found) == ["Acme Corporation", "Globex Corporation", "Hooli"]
    acme = found["Acme Corporation"]
    # The roles take the customer's identifier from this variable instead of the host name.
    assert acme["identifier"] == "AcmeCorp" and acme["mbs_company"] == "Acme Corporation"
    assert {k for k in acme if k.startswith("cw_")} == {
        "cw_company_id", "cw_company_identifier", "cw_company_name", "cw_company_types", "cw_company_status"}
    assert not any(k.startswith("connectwise_") for k in acme)


def test_two_companies_of_one_name_cannot_be_named_by_name(plugin, tmp_path, mocked, no_cw_env):
    twin = dict(COMPANIES[2], id=4, identifier="HooliXYZ")
    mocked.add(responses.GET, API + "company/companies", json=COMPANIES + [twin])
    with pytest.raises(plugin.controller.AnsibleParserError,
                       match="two companies are named 'Hooli' \\(identifiers Hooli and HooliXYZ\\)"):
        parse(plugin, source(tmp_path, {"hostname": "name"}))


def test_a_misspelt_option_is_refused_not_ignored(plugin, tmp_path, mocked, no_cw_env):
    """A selection option ignored would select every company: the source file's keys are checked."""
    with pytest.raises(plugin.controller.AnsibleParserError) as raised:
        parse(plugin, source(tmp_path, {"agreement_typ": "ManagedBackupService", "agreements": "X"}))
    assert "unknown options agreement_typ (did you mean agreement_type?), agreements (did you mean agreement_type?)" \
        in str(raised.value)
    assert len(mocked.calls) == 0
