"""Writes are validated like ConnectWise: required, lengths, enums, references, duplicates, rules."""

from sandbox_helpers import assert_field_error

SOLUTION = {"name": "ManagedBackupService", "managementItSolutionType": "Custom",
            "managementSolutionName": "ManagedBackupService"}
TYPE = {"name": "ManagedBackupService", "billTime": "Billable", "billExpenses": "Billable", "billProducts": "Billable",
        "employeeCompNotExceed": "Billing", "employeeCompRate": "Actual", "invoicingCycle": "CalendarYear"}
PRODUCT = {"identifier": "OnlineBackup", "description": "Backup", "customerDescription": "Backup service",
           "subcategory": {"name": "Managed Services"}, "category": {"name": "Managed Services"},
           "type": {"name": "Software"}, "productClass": "Service", "price": 0.1, "cost": 0.02}


def test_required_max_length_and_enum(api):
    assert_field_error(api.post("company/managementItSolutions", {"managementItSolutionType": "Custom",
                                                                  "managementSolutionName": "x"}),
                       "name", "NullOrEmptyRequired")
    assert_field_error(api.post("company/companies", {"identifier": "X" * 31, "name": "ok"}), "identifier",
                       "InvalidField", "maximum is 30")
    assert api.post("company/companies", {"identifier": "X" * 30, "name": "ok"}).status_code == 201
    error = assert_field_error(api.post("company/managementItSolutions", dict(SOLUTION, managementItSolutionType="Bogus")),
                               "managementItSolutionType", "InvalidField")
    assert error["resource"] == "managementItSolution"
    assert_field_error(api.post("company/managementItSolutions", dict(SOLUTION, managementSolutionName=None)),
                       "managementSolutionName", "NullOrEmptyRequired")
    assert_field_error(api.post("finance/agreements/types", dict(TYPE, billTime=None)), "billTime",
                       "NullOrEmptyRequired")
    assert_field_error(api.post("company/companies", {"identifier": 5, "name": "n"}), "identifier", "InvalidField")


def test_references_resolve_and_render(api):
    created = api.post("procurement/catalog", PRODUCT)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["subcategory"]["name"] == "Managed Services" and isinstance(item["subcategory"]["id"], int)
    assert "_info" in item["type"] and item["type"]["name"] == "Software"
    assert item["price"] == 0.1 and isinstance(item["id"], int) and item["_info"]["updatedBy"]
    assert_field_error(api.post("procurement/catalog", dict(PRODUCT, identifier="P2", type={"name": "Nope"})), "type")
    assert_field_error(api.post("procurement/catalog", dict(PRODUCT, identifier="P3", type={"id": 999})), "type")
    assert_field_error(api.post("procurement/catalog", dict(PRODUCT, identifier="P4", subcategory={"name": "Servers"})),
                       "subcategory", message_part="does not belong")


def test_duplicates_refused_case_insensitively(api):
    for resource, body, duplicate, field in (
        ("company/managementItSolutions", SOLUTION, dict(SOLUTION, name="managedbackupservice"), "name"),
        ("finance/agreements/types", TYPE, TYPE, "name"),
        ("procurement/catalog", PRODUCT, dict(PRODUCT, identifier="ONLINEBACKUP"), "identifier"),
        ("company/managedDevicesIntegrations",
         {"name": "MBS", "solution": "MBS", "loginBy": "Global", "defaultBillingLevel": "Summary"},
         {"name": "MBS", "solution": "Other", "loginBy": "Global", "defaultBillingLevel": "Summary"}, "name"),
    ):
        assert api.post(resource, body).status_code == 201, resource
        assert_field_error(api.post(resource, duplicate), field, message_part="already exists")
    assert_field_error(api.post("company/companies", {"identifier": "acmecorp", "name": "Again"}), "identifier")


def test_cross_reference_rules(api):
    assert api.post("finance/agreements/types", TYPE).status_code == 201
    integration = api.post("company/managedDevicesIntegrations", {
        "name": "MBS", "solution": "MBS", "loginBy": "Global", "defaultBillingLevel": "Summary",
        "integratorLogin": {"name": "MBSIntegrator"}}).json()
    assert integration["integratorLogin"]["name"] == "MBSIntegrator"
    path = f"company/managedDevicesIntegrations/{integration['id']}/crossReferences"
    assert_field_error(api.post(path, {"vendorType": "SpaceUsage", "vendorLevel": "HighLevel"}), "agreementType",
                       "NullOrEmptyRequired")
    body = {"vendorType": "SpaceUsage", "vendorLevel": "HighLevel", "agreementType": {"name": TYPE["name"]},
            "configurationType": {"name": "Backup Stats"}}
    created = api.post(path, body)
    assert created.status_code == 201 and created.json()["managedDevicesIntegration"]["id"] == integration["id"]
    assert_field_error(api.post(path, body), "vendorType", message_part="already exists")
    assert api.post(path, dict(body, vendorLevel="LowLevel")).status_code == 201
    assert api.post("company/managedDevicesIntegrations/999/crossReferences", body).status_code == 404


def test_agreement_rules(api):
    assert api.post("finance/agreements/types", dict(TYPE, billingCycle={"name": "Monthly"})).status_code == 201
    body = {"name": "ManagedBackupService", "type": {"name": TYPE["name"]}, "company": {"identifier": "Globex"},
            "contact": {"name": "Hank Scorpio"}, "startDate": "2026-10-01T00:00:00"}
    first = api.post("finance/agreements", body)
    assert first.status_code == 201, first.text
    agreement = first.json()
    assert agreement["billStartDate"] == agreement["startDate"] == "2026-10-01T00:00:00Z"
    assert agreement["billTime"] == "Billable" and agreement["billingCycle"]["name"] == "Monthly"
    assert agreement["company"] == {"id": 2, "identifier": "Globex", "name": "Globex Corporation",
                                    "_info": agreement["company"]["_info"]}
    assert api.post("finance/agreements", body).status_code == 201  # same name for one company is allowed
    no_contact = dict(body)
    del no_contact["contact"]
    assert_field_error(api.post("finance/agreements", no_contact), "contact", "NullOrEmptyRequired")
    assert_field_error(api.post("finance/agreements", dict(body, contact={"name": "Wile Coyote"})), "contact",
                       message_part="does not belong")
    assert_field_error(api.post("finance/agreements", dict(body, startDate="2026-10-01")), "startDate")
    assert_field_error(api.post("finance/agreements", dict(body, startDate="2026-02-30T00:00:00Z")), "startDate")


def test_addition_rules(billing):
    agreement = billing.find("finance/agreements", 'company/identifier="AcmeCorp"')[0]
    path = f"finance/agreements/{agreement['id']}/additions"
    assert agreement["billStartDate"] == "2026-10-15T00:00:00Z"
    early = billing.post(path, {"product": {"identifier": "OnlineBackup"}, "billCustomer": "Billable",
                                "quantity": 2, "effectiveDate": "2026-10-01T00:00:00Z"})
    assert_field_error(early, "effectiveDate", message_part="The Effective Date: 10/1/2026 in agreement addition "
                                                            "cannot precede the Billing Start Date: 10/15/2026")
    assert_field_error(billing.post(path, {"product": {"identifier": "OnlineBackup"}}), "billCustomer",
                       "NullOrEmptyRequired")
    assert_field_error(billing.post(path, {"billCustomer": "Billable"}), "product", "NullOrEmptyRequired")
    created = billing.post(path, {"product": {"identifier": "OnlineBackup"}, "billCustomer": "Billable",
                                  "quantity": 12.5, "effectiveDate": "2026-10-15T00:00:00Z"})
    assert created.status_code == 201, created.text
    addition = created.json()
    assert addition["agreementId"] == agreement["id"]
    assert (addition["unitPrice"], addition["unitCost"]) == (0.1, 0.02)
    assert (addition["extPrice"], addition["extCost"]) == (1.25, 0.25)
    explicit = billing.post(path, {"product": {"id": addition["product"]["id"]}, "billCustomer": "Billable",
                                   "quantity": 3, "unitPrice": 1.5, "unitCost": 0.5, "extPrice": 999,
                                   "effectiveDate": "2026-11-01T00:00:00Z"}).json()
    assert (explicit["extPrice"], explicit["extCost"]) == (4.5, 1.5)
    patched = billing.patch(f"{path}/{addition['id']}", [{"op": "replace", "path": "effectiveDate",
                                                          "value": "2026-10-14T00:00:00Z"}])
    assert_field_error(patched, "effectiveDate", message_part="cannot precede the Billing Start Date: 10/15/2026")
    assert billing.post("finance/agreements/999/additions", {"product": {"identifier": "OnlineBackup"},
                                                             "billCustomer": "Billable"}).status_code == 404


def test_read_only_and_unknown_fields_are_ignored(api):
    body = {"identifier": "Ign", "name": "Ign", "id": 500, "_info": {"x": 1}, "noSuchField": True}
    created = api.post("company/companies", body).json()
    assert created["id"] != 500 and "noSuchField" not in created and "x" not in created["_info"]


def test_default_contact_follows_contact_default_flag(api):
    company = api.post("company/companies", {"identifier": "NewCo", "name": "New Co"}).json()
    first = api.post("company/contacts", {"firstName": "Ann", "company": {"id": company["id"]}, "defaultFlag": True})
    assert first.status_code == 201
    assert api.get(f"company/companies/{company['id']}").json()["defaultContact"]["name"] == "Ann"
    second = api.post("company/contacts", {"firstName": "Bob", "lastName": "B", "company": {"identifier": "NewCo"},
                                           "defaultFlag": True}).json()
    assert api.get(f"company/companies/{company['id']}").json()["defaultContact"]["id"] == second["id"]
    assert api.get(f"company/contacts/{first.json()['id']}").json()["defaultFlag"] is False


def test_contact_needs_no_first_name(api):
    # ConnectWise's schema: firstName is an optional string on contacts.
    created = api.post("company/contacts", {"lastName": "Only", "company": {"identifier": "AcmeCorp"}})
    assert created.status_code == 201, created.text
    assert "firstName" not in created.json() and created.json()["lastName"] == "Only"


def test_catalog_identifier_allows_75_characters(api):
    item = {"description": "d", "customerDescription": "c", "subcategory": {"name": "Managed Services"},
            "type": {"name": "Software"}}
    assert api.post("procurement/catalog", dict(item, identifier="x" * 75)).status_code == 201
    assert_field_error(api.post("procurement/catalog", dict(item, identifier="y" * 76)), "identifier")


def test_billing_cycles_carry_identifier_and_options(api):
    cycles = api.get("finance/billingCycles").json()
    assert cycles and all(c.get("identifier") and c.get("billingOptions") for c in cycles)
    assert_field_error(api.post("finance/billingCycles", {"name": "NoId", "billingOptions": "Monthly"}), "identifier")


def test_integrator_password_is_never_returned(api):
    created = api.post("system/integratorlogins", {"username": "NewLogin", "password": "s3cret-pw"})
    assert created.status_code == 201 and "s3cret-pw" not in created.text
    assert "s3cret-pw" not in api.get("system/integratorlogins").text
