"""The setup role's filters: what its tasks need, computed once in Python."""

from ansible_collections.mbs.connectwise.plugins.filter import customers as filters


def records(*raw):
    return filters.customers(list(raw))


def agreement(identifier):
    return {"id": 1, "name": "ManagedBackupService", "company": {"id": 7, "identifier": identifier}}


def test_agreement_entries_carry_each_customers_dates_and_contact_only():
    customers = records("AcmeCorp", {"identifier": "Initech", "start_date": "2026-01-01", "bill_start_date": "2026-10-15",
                                     "contact": "Bill Lumbergh", "mbs_company": "Initech Inc.", "price_per_gb": "0.08"})
    # No default start date here: the agreement module gives a new agreement its own (option today).
    assert filters.agreement_companies(customers) == [
        {"identifier": "AcmeCorp"},
        {"identifier": "Initech", "start_date": "2026-01-01", "bill_start_date": "2026-10-15", "contact": "Bill Lumbergh"}]
    assert filters.agreement_companies([]) == []


def test_a_bad_today_is_refused_with_the_other_input_before_any_request():
    settings = {"connectwise_site": "s", "connectwise_company_id": "c", "connectwise_public_key": "p",
                "connectwise_private_key": "k", "connectwise_client_id": "i", "connectwise_solution_name": "MBS",
                "connectwise_state": "present", "connectwise_integrator_login": "login",
                "connectwise_agreement_start_date": "", "connectwise_agreement_bill_start_date": ""}
    assert filters.setup_input_problems(dict(settings, connectwise_today="")) == []
    assert filters.setup_input_problems(dict(settings, connectwise_today="2026-11-10")) == []
    assert filters.setup_input_problems(dict(settings, connectwise_today="2026-02-30")) == [
        'connectwise_today is "2026-02-30", not a date in the form YYYY-MM-DD (a calendar date)']


def test_a_skipped_task_is_reported_by_its_preflight_prediction():
    ran = {"changed": True, "operation": "update"}
    skipped = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
    predicted = {"changed": False, "operation": "none", "unresolved": []}
    assert filters.result_or_prediction(ran, predicted, "present") is ran
    assert filters.result_or_prediction(skipped, predicted, "present") is predicted
    assert filters.result_or_prediction(skipped, {}, "present") == {}
    # A teardown has no preflight prediction: a stale one from an earlier setup is not used.
    assert filters.result_or_prediction(skipped, predicted, "absent") is skipped


def test_the_agreements_task_ran_when_it_has_results():
    ran = {"changed": True, "results": [{"company": "AcmeCorp", "operation": "create"}], "counts": {"create": 1}}
    skipped = {"changed": False, "skipped": True}
    predicted = {"changed": False, "results": [{"company": "AcmeCorp", "operation": "none"}], "counts": {"none": 1}}
    assert filters.result_or_prediction(ran, predicted, "present") is ran
    assert filters.result_or_prediction(skipped, predicted, "present") is predicted


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


def test_the_missing_references_of_setup_info_each_once():
    category = {"option": "category", "label": "product category", "name": "X", "path": "procurement/categories"}
    cycle = {"option": "billing_cycle", "label": "billing cycle", "name": "Monthly", "path": "finance/billingCycles"}
    setup = {
        "changed": False,
        "agreement_type": {"operation": "create", "unresolved": [cycle]},
        "product": {"operation": "create", "unresolved": [category]},
        "agreement": {"changed": True, "results": [], "unresolved": [
            {"option": "agreement_type", "label": "agreement type", "name": "MBS", "path": "finance/agreements/types"}]},
        "cross_reference": {"operation": "create", "unresolved": [
            {"option": "integration", "label": "managed devices integration", "name": "MBS", "path": "p"},
            {"option": "configuration_type", "label": "configuration type", "name": "Backup Stats",
             "path": "company/configurations/types"}]},
        "managed_devices_integration": {"operation": "create", "unresolved": []},
        "other": {"unresolved": [cycle]},
    }
    assert filters.unresolved_references(setup) == [
        'billing cycle "Monthly" (finance/billingCycles)',
        'product category "X" (procurement/categories)',
        'configuration type "Backup Stats" (company/configurations/types)']
