"""The setup role's plan filters: what its tasks need, computed once in Python."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.mbs.connectwise.plugins.filter import customers as filters


def records(*raw):
    return filters.customers(list(raw))


def agreement(identifier):
    return {"id": 1, "name": "ManagedBackupService", "company": {"id": 7, "identifier": identifier}}


def test_new_agreements_get_the_default_start_date_and_unconfirmed_companies_are_listed():
    customers = records("AcmeCorp", "Globex", {"identifier": "Initech", "start_date": "2026-01-01"})
    plan = filters.agreement_plan(customers, [agreement("acmecorp")], "", "2027-01-20")
    assert plan["companies"] == [{"identifier": "AcmeCorp"},
                                 {"identifier": "Globex", "start_date": "2026-12-01"},
                                 {"identifier": "Initech", "start_date": "2026-01-01"}]
    # AcmeCorp has an agreement, so its company exists; the others are read before the first write.
    assert plan["unconfirmed"] == ["Globex", "Initech"]


def test_an_enforced_start_date_leaves_the_entries_without_a_default():
    customers = records("AcmeCorp", "Globex")
    plan = filters.agreement_plan(customers, [], "2026-09-01", "not a date")
    assert plan["companies"] == [{"identifier": "AcmeCorp"}, {"identifier": "Globex"}]
    assert plan["unconfirmed"] == ["AcmeCorp", "Globex"]


def test_no_customers_need_no_date():
    assert filters.agreement_plan([], None, "", "not a date") == {"companies": [], "unconfirmed": []}


def test_a_bad_today_is_named():
    with pytest.raises(AnsibleFilterError, match="connectwise_today"):
        filters.agreement_plan(records("AcmeCorp"), [], "", "2026-02-30")


def test_agreements_without_a_company_identifier_confirm_nothing():
    plan = filters.agreement_plan(records("AcmeCorp"), [{"id": 3}, {"company": None}, None], "", "2027-01-20")
    assert plan["unconfirmed"] == ["AcmeCorp"]


def test_a_skipped_task_is_reported_by_its_preflight_prediction():
    ran = {"changed": True, "operation": "update"}
    skipped = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
    predicted = {"changed": False, "operation": "none", "unresolved": []}
    assert filters.result_or_prediction(ran, predicted, "present") is ran
    assert filters.result_or_prediction(skipped, predicted, "present") is predicted
    assert filters.result_or_prediction(skipped, {}, "present") == {}
    # A teardown has no preflight prediction: a stale one from an earlier setup is not used.
    assert filters.result_or_prediction(skipped, predicted, "absent") is skipped


def test_references_the_setup_creates_itself_are_not_missing():
    preflights = [
        {"unresolved": [{"option": "category", "label": "product category", "name": "X",
                         "path": "procurement/categories"}]},
        {"unresolved": []},
        {"unresolved": [
            {"option": "integration", "label": "managed devices integration", "name": "MBS", "path": "p"},
            {"option": "agreement_type", "label": "agreement type", "name": "MBS", "path": "finance/agreements/types"},
            {"option": "product", "label": "product", "name": "OnlineBackup", "path": "procurement/catalog"},
            {"option": "configuration_type", "label": "configuration type", "name": "Backup Stats",
             "path": "company/configurations/types"}]},
        None,
    ]
    assert filters.unresolved_references(preflights) == [
        'product category "X" (procurement/categories)',
        'configuration type "Backup Stats" (company/configurations/types)']
