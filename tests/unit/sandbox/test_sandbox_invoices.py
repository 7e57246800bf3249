"""Agreement invoicing (issue 20 point 2): invoices at ``finance/invoices``, their lines, the next
invoice date and the "already invoiced" refusal kept consistent with them.

Sources: connectwise-api.md line 53 (``finance/invoices`` list, by id, ``/count``; ``Invoice`` names
its type, company, ``date``, ``applyToType``/``applyToId``, ``subtotal``, ``total``; agreement invoices
are generated on the agreement's invoice date, the 1st for monthly cycles; no invoice-line endpoint),
line 52 (billed quantity = quantity - lessIncluded), line 40 (the invoiced-period refusal);
pyconnectwise's ``Invoice`` model (field names and enums: ``type`` Agreement, ``applyToType``);
ConnectWise's Agreement Invoicing screen (a Thru Date lists every cycle due by then; invoices are
always generated on the first of the month; a non-prorated agreement bills an addition in full, a
prorated one the prorated amount, on the next invoice when added mid-cycle).
"""

import requests
from sandbox_helpers import assert_field_error, billing_fixture

INVOICES = "finance/invoices"
INVOICED = "Since this period has already been invoiced"


def acme(billing):
    return billing.find("finance/agreements", 'company/identifier="AcmeCorp"')[0]


def add(billing, agreement, effective, **fields):
    body = dict({"product": {"identifier": "OnlineBackup"}, "billCustomer": "Billable", "quantity": 1,
                 "effectiveDate": effective}, **fields)
    created = billing.post(f"finance/agreements/{agreement['id']}/additions", body)
    assert created.status_code == 201, created.text
    return created.json()


def invoice(sandbox, **body):
    return requests.post(f"{sandbox.url}/_sandbox/invoice", json=body, timeout=10)


def lines_of(sandbox, invoice_id):
    response = requests.get(f"{sandbox.url}/_sandbox/invoices/{invoice_id}/lines", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["lines"]


def test_an_agreement_invoice_bills_each_addition_in_force_once(billing, sandbox):
    agreement = acme(billing)   # billing starts 2026-10-15, does not prorate
    october = add(billing, agreement, "2026-10-15T00:00:00Z", quantity=10, lessIncluded=2, unitPrice=1.5,
                  cancelledDate="2026-10-31T00:00:00Z")
    storage = add(billing, agreement, "2026-11-01T00:00:00Z", quantity=100, lessIncluded=10, unitPrice=0.1,
                  unitCost=0.02)
    add(billing, agreement, "2026-11-01T00:00:00Z", billCustomer="DoNotBill", unitPrice=50)
    free = add(billing, agreement, "2026-11-10T00:00:00Z", billCustomer="NoCharge", quantity=5, unitPrice=2)
    brief = add(billing, agreement, "2026-11-20T00:00:00Z", quantity=2, unitPrice=4,
                cancelledDate="2026-11-25T00:00:00Z")
    add(billing, agreement, "2026-12-01T00:00:00Z", quantity=7, unitPrice=9)   # after the period

    made = invoice(sandbox, agreement=agreement["id"], period="2026-11")
    assert made.status_code == 200, made.text
    # billing started in October: the outstanding October cycle is invoiced too, first
    first, second = made.json()["invoices"]
    assert (first["date"], second["date"]) == ("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")
    assert [(line["additionId"], line["extPrice"]) for line in lines_of(sandbox, first["id"])] == [(october["id"], 12.0)]
    lines = lines_of(sandbox, second["id"])
    assert [line["additionId"] for line in lines] == [storage["id"], free["id"], brief["id"]]
    storage_line = lines[0]
    assert (storage_line["quantity"], storage_line["lessIncluded"], storage_line["billedQuantity"]) == (100.0, 10.0, 90.0)
    assert (storage_line["extPrice"], storage_line["extCost"], storage_line["prorated"]) == (9.0, 1.8, False)
    assert (storage_line["from"], storage_line["through"], storage_line["days"]) == ("2026-11-01", "2026-11-30", 30)
    assert lines[1]["extPrice"] == 0.0              # NoCharge: on the invoice at no charge
    assert (lines[2]["days"], lines[2]["extPrice"]) == (6, 8.0)   # not prorated: the full amount
    assert (second["subtotal"], second["total"], second["salesTax"]) == (17.0, 17.0, 0.0)
    assert billing.get(f"finance/agreements/{agreement['id']}").json()["nextInvoiceDate"] == "2026-12-01T00:00:00Z"


def test_invoices_are_served_in_connectwise_s_shape_and_only_read(billing, sandbox):
    agreement = acme(billing)
    add(billing, agreement, "2026-11-01T00:00:00Z", quantity=3, unitPrice=2)
    [_october, november] = invoice(sandbox, period="2026-11").json()["invoices"]
    by_id = billing.get(f"{INVOICES}/{november['id']}").json()
    assert by_id == november
    assert set(by_id) == {"id", "invoiceNumber", "type", "applyToType", "applyToId", "company", "billToCompany",
                          "date", "subtotal", "salesTax", "total", "balance", "_info"}
    assert (by_id["type"], by_id["applyToType"], by_id["applyToId"]) == ("Agreement", "Agreement", agreement["id"])
    assert by_id["company"]["identifier"] == "AcmeCorp" and by_id["total"] == 6.0
    listed = billing.find(INVOICES, f'applyToType = "Agreement" and applyToId = {agreement["id"]} and '
                                    'date >= [2026-11-01T00:00:00Z]')
    assert [row["id"] for row in listed] == [november["id"]]
    count = billing.get(f"{INVOICES}/count", params={"conditions": 'company/identifier = "AcmeCorp"'}).json()
    assert count == {"count": 2}
    assert billing.get(f"{INVOICES}/{november['id']}", params={"fields": "id,total"}).json() == \
        {"id": november["id"], "total": 6.0}
    for method in ("POST", "PATCH", "DELETE"):
        path = INVOICES if method == "POST" else f"{INVOICES}/{november['id']}"
        refused = billing.request(method, path, json={"type": "Standard", "company": {"id": 1}})
        assert refused.status_code == 405, (method, refused.text)


def test_an_invoiced_cycle_is_not_invoiced_again_and_refuses_additions_before_the_next_invoice(billing, sandbox):
    agreement = acme(billing)
    assert len(invoice(sandbox, agreement=agreement["id"], period="2026-11").json()["invoices"]) == 2
    again = invoice(sandbox, agreement=agreement["id"], period="2026-11")
    assert again.status_code == 400
    assert again.json()["message"] == (f"agreement {agreement['id']} is already invoiced through 2026-11-30 "
                                       "(next invoice date 2026-12-01): nothing is outstanding through 2026-11-30")
    path = f"finance/agreements/{agreement['id']}/additions"
    late = billing.post(path, {"product": {"identifier": "OnlineBackup"}, "billCustomer": "Billable",
                               "effectiveDate": "2026-11-15T00:00:00Z"})
    assert_field_error(late, "effectiveDate", message_part=INVOICED)
    add(billing, agreement, "2026-12-01T00:00:00Z")
    # the Python helper of the tests runs the same invoicing: December's cycle, then the date moves on
    sandbox.invoice_through(agreement["id"], "2026-12-31")
    assert billing.get(f"finance/agreements/{agreement['id']}").json()["nextInvoiceDate"] == "2027-01-01T00:00:00Z"
    assert [len(lines_of(sandbox, row["id"])) for row in billing.get(INVOICES).json()] == [0, 0, 1]


def test_a_prorating_agreement_bills_the_days_and_catches_up_an_addition_dated_back(billing, sandbox):
    agreement = acme(billing)
    billing.patch(f"finance/agreements/{agreement['id']}", [{"op": "replace", "path": "prorateFlag", "value": True}])
    first = add(billing, agreement, "2026-11-11T00:00:00Z", quantity=30, unitPrice=1)
    november = invoice(sandbox, agreement=agreement["id"], period="2026-11").json()["invoices"][-1]
    [line] = lines_of(sandbox, november["id"])
    assert (line["days"], line["cycleDays"], line["prorated"], line["extPrice"]) == (20, 30, True, 20.0)
    # a prorating agreement takes an addition dated back into the invoiced month ...
    late = add(billing, agreement, "2026-11-21T00:00:00Z", quantity=10, unitPrice=3)
    [december] = invoice(sandbox, agreement=agreement["id"], period="2026-12").json()["invoices"]
    found = [(l["additionId"], l["from"], l["through"], l["catchUp"], l["extPrice"]) for l in lines_of(sandbox, december["id"])]
    # ... and bills its November days on the next invoice, once
    assert found == [(first["id"], "2026-12-01", "2026-12-31", False, 30.0),
                     (late["id"], "2026-11-21", "2026-11-30", True, 10.0),
                     (late["id"], "2026-12-01", "2026-12-31", False, 30.0)]
    [january] = invoice(sandbox, agreement=agreement["id"], period="2027-01").json()["invoices"]
    assert not any(l["catchUp"] for l in lines_of(sandbox, january["id"]))


def test_invoicing_every_agreement_reports_the_ones_with_nothing_due(billing, sandbox):
    agreement = acme(billing)
    later = billing.post("finance/agreements", {
        "name": "ManagedBackupService", "type": {"name": "ManagedBackupService"}, "company": {"identifier": "Globex"},
        "contact": {"name": "Hank Scorpio"}, "startDate": "2027-02-01T00:00:00Z"}).json()
    answer = invoice(sandbox, period="2026-10").json()
    assert [row["applyToId"] for row in answer["invoices"]] == [agreement["id"]]
    assert answer["skipped"] == [{"agreement": later["id"], "reason": f"agreement {later['id']} starts billing in "
                                                                      "the cycle of 2027-02-01, after 2026-10-31"}]
    assert invoice(sandbox, agreement=later["id"], period="2026-10").status_code == 400


def test_a_quarterly_agreement_is_invoiced_a_quarter_at_a_time(billing, sandbox):
    agreement = acme(billing)
    cycle = billing.post("finance/billingCycles", {"name": "Quarterly", "identifier": "QTR",
                                                   "billingOptions": "Quarterly"}).json()
    billing.patch(f"finance/agreements/{agreement['id']}", [
        {"op": "replace", "path": "billingCycle", "value": {"id": cycle["id"]}}])
    add(billing, agreement, "2026-11-01T00:00:00Z", quantity=2, unitPrice=5)
    [quarter] = invoice(sandbox, agreement=agreement["id"], through="2026-10-01", date="2026-10-03").json()["invoices"]
    [line] = lines_of(sandbox, quarter["id"])
    assert (line["from"], line["through"], line["cycleDays"], quarter["date"]) == \
        ("2026-11-01", "2026-12-31", 92, "2026-10-03T00:00:00Z")
    assert billing.get(f"finance/agreements/{agreement['id']}").json()["nextInvoiceDate"] == "2027-01-01T00:00:00Z"


def test_bad_invoice_calls_are_refused_naming_what_to_send(billing, sandbox):
    agreement = acme(billing)
    for body in ({}, {"period": "2026-13"}, {"period": "2026-1"}, {"through": "tomorrow"},
                 {"period": "2026-11", "through": "2026-11-30"}, {"period": "2026-11", "date": "soon"},
                 {"agreement": "one", "period": "2026-11"}):
        refused = invoice(sandbox, **body)
        assert refused.status_code == 400, body
    assert invoice(sandbox, agreement=999, period="2026-11").status_code == 404
    assert requests.get(f"{sandbox.url}/_sandbox/invoices/999/lines", timeout=10).status_code == 404
    weekly = billing.post("finance/billingCycles", {"name": "Weekly", "identifier": "WK",
                                                    "billingOptions": "Weekly"}).json()
    billing.patch(f"finance/agreements/{agreement['id']}", [
        {"op": "replace", "path": "billingCycle", "value": {"id": weekly["id"]}}])
    refused = invoice(sandbox, agreement=agreement["id"], period="2026-11")
    assert refused.status_code == 400 and "Weekly" in refused.json()["message"]


def test_a_fixture_may_hold_invoices_of_its_own(sandbox):
    """Invoices made before the sandbox started: rows as the API reads them (validated like a POST),
    without lines; invoicing goes on from the agreement's next invoice date."""
    data = billing_fixture()
    data["connectwise"]["agreements"][0]["nextInvoiceDate"] = "2026-11-01T00:00:00Z"
    data["connectwise"]["invoices"] = [{"type": "Agreement", "applyToType": "Agreement", "applyToId": 1,
                                        "company": {"identifier": "AcmeCorp"}, "date": "2026-10-01T00:00:00Z",
                                        "subtotal": 0.0, "total": 0.0}]
    sandbox.reset(data, today="2026-12-02")
    [made] = sandbox.invoice(period="2026-11")
    assert made["date"] == "2026-11-01T00:00:00Z" and sandbox.invoice_lines(1) == []
    assert [row["id"] for row in sandbox.store.rows("invoices")] == [1, made["id"]]
