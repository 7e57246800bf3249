"""PATCH operations, PUT, DELETE and the referential-integrity refusals."""

from sandbox_helpers import assert_field_error


def _addition(billing, **extra):
    agreement = billing.find("finance/agreements", 'company/identifier="AcmeCorp"')[0]
    path = f"finance/agreements/{agreement['id']}/additions"
    body = dict({"product": {"identifier": "OnlineBackup"}, "billCustomer": "Billable", "quantity": 2,
                 "effectiveDate": "2026-11-01T00:00:00Z"}, **extra)
    created = billing.post(path, body)
    assert created.status_code == 201, created.text
    return path, created.json()


def test_patch_replace_add_remove_recomputes(billing):
    path, addition = _addition(billing, invoiceDescription="Backup {period}")
    patched = billing.patch(f"{path}/{addition['id']}", [
        {"op": "replace", "path": "quantity", "value": 10},
        {"op": "add", "path": "/unitPrice", "value": 0.5},
        {"op": "remove", "path": "invoiceDescription"},
    ])
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["quantity"], body["unitPrice"], body["extPrice"]) == (10.0, 0.5, 5.0)
    assert "invoiceDescription" not in body
    assert billing.get(f"{path}/{addition['id']}").json()["extPrice"] == 5.0
    assert body["_info"]["lastUpdated"] >= addition["_info"]["lastUpdated"]


def test_patch_nested_reference_path_is_a_false_200(api):
    # connectwise-api.md (Writing): a location inside an object cannot be patched; ConnectWise
    # answers 200 and leaves the reference as it was.
    contact = api.post("company/contacts", {"firstName": "Moved", "company": {"identifier": "AcmeCorp"}}).json()
    for path in ("company/identifier", "company/id", "/company/name"):
        patched = api.patch(f"company/contacts/{contact['id']}", [{"op": "replace", "path": path, "value": "Globex"}])
        assert patched.status_code == 200, (path, patched.text)
        assert patched.json()["company"]["identifier"] == "AcmeCorp"
    assert api.get(f"company/contacts/{contact['id']}").json()["company"]["identifier"] == "AcmeCorp"


def test_patch_replacing_the_whole_reference_works(api):
    contact = api.post("company/contacts", {"firstName": "Moved", "company": {"identifier": "AcmeCorp"}}).json()
    patched = api.patch(f"company/contacts/{contact['id']}", [{"op": "replace", "path": "company",
                                                              "value": {"identifier": "Globex"}}])
    assert patched.status_code == 200 and patched.json()["company"]["identifier"] == "Globex"


def test_patch_invalid_operations_are_400(billing):
    path, addition = _addition(billing)
    url = f"{path}/{addition['id']}"
    assert_field_error(billing.patch(url, [{"op": "move", "path": "quantity", "value": 1}]), "quantity")
    assert_field_error(billing.patch(url, [{"op": "replace", "path": "noSuchField", "value": 1}]), "noSuchField")
    assert_field_error(billing.patch(url, [{"op": "replace", "path": "id", "value": 1}]), "id")
    assert_field_error(billing.patch(url, [{"op": "replace", "path": "quantity"}]), "quantity")
    assert_field_error(billing.patch(url, [{"op": "replace", "path": "quantity", "value": "lots"}]), "quantity")
    assert_field_error(billing.patch(url, [{"op": "remove", "path": "product"}]), "product", "NullOrEmptyRequired")
    assert billing.patch(url, {"op": "replace", "path": "quantity", "value": 1}).status_code == 400
    assert billing.patch(f"{path}/99999", [{"op": "replace", "path": "quantity", "value": 1}]).status_code == 404


def test_put_replaces_whole_object(api):
    company = api.get("company/companies/1").json()
    company["name"] = "Acme Renamed"
    replaced = api.put("company/companies/1", company)
    assert replaced.status_code == 200 and replaced.json()["name"] == "Acme Renamed"
    contact = api.get("company/contacts/1").json()
    assert contact["company"]["name"] == "Acme Renamed"  # references show the current name
    assert_field_error(api.put("company/companies/1", {"name": "no identifier"}), "identifier")


def test_delete_and_404_after(api):
    assert api.delete("company/companies/7").status_code == 204  # NoContactLtd
    assert api.get("company/companies/7").status_code == 404
    assert api.delete("company/companies/7").status_code == 404


def test_referenced_delete_refused_then_dependency_order_works(billing):
    path, addition = _addition(billing)
    agreement_id = addition["agreementId"]
    product_id = addition["product"]["id"]
    type_id = billing.find("finance/agreements/types", 'name="ManagedBackupService"')[0]["id"]
    for resource in (f"procurement/catalog/{product_id}", f"finance/agreements/types/{type_id}",
                     f"finance/agreements/{agreement_id}", "company/companies/1"):
        refused = billing.delete(resource)
        assert refused.status_code == 400 and "in use" in refused.json()["message"], resource
    integration = billing.find("company/managedDevicesIntegrations", 'name="ManagedBackupService"')[0]
    cross = billing.get(f"company/managedDevicesIntegrations/{integration['id']}/crossReferences").json()[0]
    for resource in (f"{path}/{addition['id']}", f"finance/agreements/{agreement_id}",
                     f"company/managedDevicesIntegrations/{integration['id']}/crossReferences/{cross['id']}",
                     f"company/managedDevicesIntegrations/{integration['id']}", f"procurement/catalog/{product_id}",
                     f"finance/agreements/types/{type_id}", "company/companies/1"):
        assert billing.delete(resource).status_code == 204, resource
    assert billing.find("company/contacts", 'company/id=1') == []  # contacts go with their company
