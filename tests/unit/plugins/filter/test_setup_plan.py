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


def test_the_preflight_stops_on_what_connectwise_lacks_first_then_on_unknown_customers():
    customers = records("AcmeCorp", "Ghost")
    login = {"option": "integrator_login", "label": "integrator login", "name": "Nobody", "path": "system/integratorlogins"}
    stats = {"option": "configuration_type", "label": "configuration type", "name": "Backup Stats",
             "path": "company/configurations/types"}
    created = {"option": "product", "label": "product", "name": "OnlineBackup", "path": "procurement/catalog"}
    fine = {"product": {"unresolved": []}, "cross_reference": {"unresolved": [created]},
            "agreement": {"missing_companies": []}}
    assert filters.preflight_problem(fine, customers) == ""
    lacking = dict(fine, managed_devices_integration={"unresolved": [login]}, agreement={"missing_companies": ["Ghost"]})
    assert filters.preflight_problem(lacking, customers) == (
        'ConnectWise lacks integrator login "Nobody" (system/integratorlogins). The vendor\'s guide selects this but '
        "never creates it: create it in ConnectWise (or change the role's variables) and run again. Nothing was written.")
    both = dict(lacking, cross_reference={"unresolved": [created, stats]})
    assert filters.preflight_problem(both, customers).startswith(
        'ConnectWise lacks configuration type "Backup Stats" (company/configurations/types), integrator login "Nobody" '
        "(system/integratorlogins). The vendor's guide selects these but never creates them: create them in")
    unknown = dict(fine, agreement={"missing_companies": ["ghost"]})
    assert filters.preflight_problem(unknown, customers) == filters.unknown_customers(customers, ["ghost"])
    assert "'Ghost' (connectwise_customers[1])" in filters.preflight_problem(unknown, customers)
    # Without customers setup_info predicts no agreements: nothing to stop on.
    assert filters.preflight_problem({"product": {"unresolved": []}}, []) == ""


SETTINGS = {"connectwise_site": "s", "connectwise_company_id": "c", "connectwise_public_key": "p",
            "connectwise_private_key": "k", "connectwise_client_id": "i", "connectwise_solution_name": "MBS",
            "connectwise_state": "present", "connectwise_integrator_login": "login", "connectwise_today": "",
            "connectwise_agreement_start_date": "", "connectwise_agreement_bill_start_date": "",
            "connectwise_customers_group": "", "connectwise_customers": ["AcmeCorp"]}


def test_the_input_is_refused_with_the_first_problem_in_the_roles_order():
    assert filters.setup_input_problem(SETTINGS, {}, {"all": []}) == ""
    renamed = dict(SETTINGS, connectwise_agreement_name="Other", connectwise_private_key="")
    assert filters.setup_input_problem(renamed, {}, {}) == (
        'connectwise_agreement_name is "Other" but connectwise_solution_name is "MBS". The vendor\'s guide requires '
        "the management solution, the agreement type and the agreements to have the same name: set "
        "connectwise_solution_name alone, it names all three (and the managed devices integration).")
    assert filters.setup_input_problem(dict(SETTINGS, connectwise_private_key="", connectwise_today="x"), {}, {}) == (
        "Invalid input, nothing was sent to ConnectWise: connectwise_private_key is empty: set it, or the "
        'CW_PRIVATE_KEY environment variable; connectwise_today is "x", not a date in the form YYYY-MM-DD (a calendar '
        "date)")
    assert filters.setup_input_problem(dict(SETTINGS, connectwise_customers_group="clients"), {},
                                       {"all": [], "customers": []}) == (
        'connectwise_customers_group is "clients", but the inventory has no such group (groups: all, customers). '
        "Nothing was sent to ConnectWise.")
    typo = dict(SETTINGS, connectwise_customers=["AcmeCorp", {"identifier": "Globex", "bill_start": "2026-10-01"}])
    assert filters.setup_input_problem(typo, {}, {}).startswith(
        "customer 'Globex' (connectwise_customers[1]): unknown key bill_start (did you mean bill_start_date?); "
        "the allowed keys are identifier,")
    # A variable that connectwise_customers replaced comes first: set, it would be ignored silently.
    replaced = filters.setup_input_problem(typo, {}, {}, ["connectwise_site", "connectwise_companies"])
    assert replaced.startswith("connectwise_companies is no longer read and was replaced by connectwise_customers: ")
    assert "for example connectwise_customers: [AcmeCorp, " in replaced and "unknown key" not in replaced


def test_the_customers_of_the_group_are_checked_too():
    hostvars = {"Initech": {"inventory_hostname": "Initech", "bill_start_date": "2026-13-01"}}
    grouped = dict(SETTINGS, connectwise_customers_group="customers")
    problem = filters.setup_input_problem(grouped, hostvars, {"customers": ["Initech"]})
    assert problem.startswith("customer 'Initech' (inventory host Initech): argument 'bill_start_date'"), problem
    assert '"2026-13-01" is not a date in the form YYYY-MM-DD' in problem
    hostvars["Initech"]["bill_start_date"] = "2026-10-15"
    assert filters.setup_input_problem(grouped, hostvars, {"customers": ["Initech"]}) == ""
