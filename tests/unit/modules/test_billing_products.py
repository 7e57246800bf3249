"""mbs.connectwise.billing with products besides storage: licenses and storage per storage account.

Against the in-process sandbox (ConnectWise and MSP360): each company's bill is several product lines, each
one addition per agreement, product and period, planned and applied by the same rules as storage.
"""

import json

import pytest

from ansible_collections.mbs.connectwise.plugins.modules import billing

from tests.sandbox.fixtures import guid, license_row, storage_account

from ..sandbox_client import run_module
from .test_billing import (
    ACME,
    ADDITIONS,
    ADDITIONS_G,
    AGREEMENTS,
    CATALOG,
    GIB,
    GLOBEX,
    MARKER,
    MBS_ARGS,
    TODAY,
    add_agreement,
    add_company,
    after_setup,
    conditions,
    record_pauses,
)

SERVER, DESKTOP, WASABI, S3 = 6, 7, 8, 9
LICENSE_PRODUCTS = [{"license_type": "Server", "product": "BackupServer", "unit_price": "25.00", "unit_cost": "10"},
                    {"license_type": "VM Server", "product": "BackupServer"},
                    {"license_type": "Desktop", "product": "BackupDesktop", "included": 1}]
STORAGE_PRODUCTS = [{"account": "Wasabi", "product": "WasabiStorage", "price_per_gb": "0.08"},
                    {"account": "Amazon S3", "product": "S3Storage"}]
OCTOBER = MARKER + "2026-10"
NOVEMBER = MARKER + "2026-11"


def catalog_item(item_id, identifier, price, cost):
    return dict(id=item_id, identifier=identifier, description=identifier, customerDescription=identifier,
                category={"name": "Managed Services"}, subcategory={"name": "Managed Services"},
                type={"name": "Software"}, productClass="Service", unitOfMeasure={"name": "Each"}, price=price,
                cost=cost)


def user(name, company):
    return {"ID": guid("user", name), "Email": "%s@example.test" % name, "Company": company,
            "DestinationList": []}


ACME_USERS = (user("road.runner", "AcmeCorp"), user("acme.files", "AcmeCorp"))
GLOBEX_USER = user("globex.server", "Globex")
ORPHAN = user("orphan", "")


def acme_licenses():
    """AcmeCorp: 3 paid taken Server licenses, a trial, one expired before October, an unmapped type;
    a pool license; Globex's 2 Desktops (one included) and a license of a user MSP360 no longer lists."""
    runner, files = ACME_USERS
    return [license_row(1001, "Server", runner, "PC-1"), license_row(1002, "Server", files, "PC-2"),
            license_row(1003, "server", runner, "PC-3"),
            license_row(1004, "Server", files, "PC-4", trial=True),
            license_row(1005, "Server", runner, "PC-5", expired="2026-09-20T11:07:01.0922535+00:00"),
            license_row(1006, "MS Exchange", files, "EXCH-1"),
            license_row(1007, "Server"),
            license_row(1008, "Desktop", GLOBEX_USER, "G-1"), license_row(1009, "Desktop", GLOBEX_USER, "G-2"),
            license_row(1010, "Desktop", {"ID": guid("user", "gone"), "Email": "gone@example.test"}, "G-3"),
            license_row(1011, "Desktop", ORPHAN, "O-1")]


def usage_row(user_row, average, details, total_cost=None):
    row = {"UserId": user_row["ID"], "AverageSpace": average,
           "Details": [{"Computer": "PC", "SizeBackup": size, "AccountID": guid("account", account),
                        "Destination": account} for account, size in details]}
    if total_cost is not None:
        row["TotalCost"] = total_cost
    return row


def seed_msp360(cw, licenses=None, usage=None):
    runner, files = ACME_USERS
    cw.app.mbs.load({
        "companies": [{"Id": "c1", "Name": "AcmeCorp"}, {"Id": "c2", "Name": "Globex"}],
        "users": [runner, files, GLOBEX_USER, ORPHAN],
        "usage": usage or {"2026-10": [usage_row(runner, 300 * GIB, [("Amazon S3", 300)], 30.0),
                                       usage_row(files, 200 * GIB, [("Wasabi", 200)], 20.0),
                                       usage_row(GLOBEX_USER, 400 * GIB, [("Amazon S3", 3), ("Wasabi", 1)], 40.0)]},
        "licenses": acme_licenses() if licenses is None else licenses,
        "accounts": [storage_account("Amazon S3", "AmazonS3", ["Amazon S3"]),
                     storage_account("Wasabi", "Wasabi", ["Wasabi", "Wasabi Archive"])],
    })


@pytest.fixture(autouse=True)
def slept(monkeypatch):
    return record_pauses(monkeypatch)


@pytest.fixture
def cw(connectwise):
    after_setup(connectwise)
    for item in (catalog_item(SERVER, "BackupServer", 30.0, 12.0), catalog_item(DESKTOP, "BackupDesktop", 8.5, 3.25),
                 catalog_item(WASABI, "WasabiStorage", 0.1, 0.01), catalog_item(S3, "S3Storage", 0.1, 0.02)):
        connectwise.add(CATALOG, **item)
    for company, agreement_id in ((ACME, 12), (GLOBEX, 13)):
        add_company(connectwise, company)
        add_agreement(connectwise, agreement_id, company)
    seed_msp360(connectwise)
    return connectwise


def args(**extra):
    base = {"period": "2026-10", "today": TODAY, "mbs": MBS_ARGS, "cost_per_gb": "0.02",
            "license_products": LICENSE_PRODUCTS}
    base.update(extra)
    return dict((key, value) for key, value in base.items() if value is not None)


def lines(result, company=None, kind=None):
    return [r for r in result["results"] if (company is None or r["company"] == company)
            and (kind is None or r["kind"] == kind)]


def line(result, company, product):
    [found] = [r for r in result["results"] if r["company"] == company and r["product"] == product]
    return found


def connectwise_writes(cw):
    return [(method, path) for method, path, _body in cw.sent if not path.startswith("mbs/")]


def product_additions(cw, path, product_id):
    return [a for a in cw.rows(path) if a["product"]["id"] == product_id]


# ---------------------------------------------------------------- licenses


def test_paid_taken_licenses_of_a_mapped_type_are_one_addition_each_company_and_product(cw, warned):
    result, failed = run_module(billing, args())
    assert not failed, result
    acme = line(result, "AcmeCorp", "BackupServer")
    # 3 paid taken Server licenses (types match ignoring case); the trial, the expired, the pool license and
    # the MS Exchange license nobody maps are not billed.
    assert (acme["action"], acme["kind"], acme["licenses"], acme["quantity"]) == ("created", "license", 3, "3")
    assert (acme["unit"], acme["unit_price"], acme["unit_cost"], acme["total_price"]) == ("licenses", "25.0000",
                                                                                          "10.0000", "75.00")
    [server] = product_additions(cw, ADDITIONS, SERVER)
    assert (server["quantity"], server["unitPrice"], server["unitCost"]) == (3, 25, 10)
    assert server["description"] == OCTOBER and server["effectiveDate"].startswith("2026-10-01")
    assert server["lessIncluded"] == 0
    # Globex: 2 Desktop licenses, 1 included, the catalog item's price: ConnectWise bills one
    globex = line(result, "Globex", "BackupDesktop")
    expected = (2, 1, "8.5000", "8.50")
    assert (globex["licenses"], globex["included"], globex["unit_price"], globex["total_price"]) == expected
    [desktop] = product_additions(cw, ADDITIONS_G, DESKTOP)
    assert (desktop["quantity"], desktop["lessIncluded"], desktop["billedQuantity"]) == (2, 1, 1)
    # the storage lines are billed as without licenses
    assert line(result, "AcmeCorp", "OnlineBackup")["quantity"] == "500.00"
    assert [r["kind"] for r in lines(result, "AcmeCorp")] == ["storage", "license"]
    licenses = result["licenses"]
    assert (licenses["read"], licenses["counted"], licenses["not_billed"]) == (11, 5, 6)
    assert licenses["not_billed_by_reason"] == {"trial": 1, "expired": 1, "unassigned": 1, "not_taken": 0,
                                                "unknown_user": 1, "no_company": 1, "unmapped_type": 1}
    assert licenses["unmapped_types"] == {"MS Exchange": 1}
    assert any("MS Exchange" in w and "AcmeCorp 1" in w for w in warned())
    by_product = result["totals"]["by_product"]
    assert by_product["BackupServer"] == {"kind": "license", "unit": "licenses", "lines": 1, "billed": 1,
                                          "quantity": "3.00", "total_cost": "30.00", "total_price": "75.00"}
    assert result["totals"]["quantity"]["licenses"] == "5.00"


def test_one_additions_read_per_agreement_for_every_product(cw):
    result, failed = run_module(billing, args())
    assert not failed, result
    reads = conditions(cw, ADDITIONS)
    # the plan's read and one re-read after writing, each for every product line of AcmeCorp: its storage, its
    # Server licenses and its Desktop licenses (none counted: an open addition of them would stop)
    assert len(reads) == 2 and all(c.startswith("(product/id in (5,6,7)) and ") for c in reads), reads
    assert result["requests"]["mbs"] == {"POST": 1, "GET": 3, "PUT": 1}
    mbs_paths = [p for _m, p, _q in cw.log if p.startswith("mbs/")]
    assert mbs_paths == ["mbs/api/Provider/Login", "mbs/api/Users", "mbs/api/Companies", "mbs/api/Billing",
                         "mbs/api/Licenses"]
    catalog_read = cw.calls("GET", CATALOG)[0][2]
    assert "cost" in catalog_read["fields"].split(",") and "price" in catalog_read["fields"].split(",")


def test_a_rerun_changes_nothing_and_check_mode_writes_nothing(cw):
    preview, failed = run_module(billing, args(), check_mode=True)
    assert not failed and preview["changed"] is True
    assert connectwise_writes(cw) == []
    assert line(preview, "AcmeCorp", "BackupServer")["action"] == "created"
    result, failed = run_module(billing, args())
    assert not failed and result["changed"] is True
    cw.sent.clear()
    again, failed = run_module(billing, args())
    assert not failed and again["changed"] is False, again
    assert set(r["action"] for r in again["results"]) == {"unchanged"}
    assert connectwise_writes(cw) == []
    check, failed = run_module(billing, args(), check_mode=True)
    assert not failed and check["changed"] is False


def test_a_later_month_with_fewer_licenses_replaces_the_earlier_addition(cw):
    result, failed = run_module(billing, args())
    assert not failed, result
    # one Server license of AcmeCorp gone, and Globex's Desktops
    licenses = [row for row in acme_licenses() if row["Number"] not in (1003, 1008, 1009)]
    runner, files = ACME_USERS
    seed_msp360(cw, licenses=licenses, usage={"2026-11": [usage_row(runner, 310 * GIB, [("Amazon S3", 1)], 31.0),
                                                          usage_row(files, 200 * GIB, [("Wasabi", 1)], 20.0)]})
    november, failed = run_module(billing, args(period="2026-11", today="2026-12-02"))
    assert not failed, november
    acme = line(november, "AcmeCorp", "BackupServer")
    assert (acme["action"], acme["licenses"], len(acme["cancelled"])) == ("created", 2, 1)
    october, later = sorted(product_additions(cw, ADDITIONS, SERVER), key=lambda a: a["id"])
    assert (october["description"], october["quantity"], october["cancelledDate"][:10]) == (OCTOBER, 3, "2026-10-31")
    assert (later["description"], later["quantity"], later.get("cancelledDate")) == (NOVEMBER, 2, None)
    # Globex has no license any more in November: its Desktop addition stops at the end of October
    globex = line(november, "Globex", "BackupDesktop")
    assert globex["action"] == "cancelled" and "no license of product BackupDesktop" in globex["reason"]
    [desktop] = product_additions(cw, ADDITIONS_G, DESKTOP)
    assert desktop["cancelledDate"].startswith("2026-10-31")


def test_the_same_month_with_fewer_licenses_updates_its_addition(cw):
    run_module(billing, args())
    seed_msp360(cw, licenses=[row for row in acme_licenses() if row["Number"] != 1003])
    result, failed = run_module(billing, args(confirm_mass_change=True))
    assert not failed, result
    acme = line(result, "AcmeCorp", "BackupServer")
    assert (acme["action"], acme["changed_fields"], acme["quantity"]) == ("updated", ["quantity"], "2")
    [server] = product_additions(cw, ADDITIONS, SERVER)
    assert server["quantity"] == 2


def test_unmapped_types_fail_before_any_connectwise_request_with_the_option(cw):
    result, failed = run_module(billing, args(unmapped_license_types="fail"))
    assert failed and "MS Exchange" in result["msg"] and "AcmeCorp 1" in result["msg"]
    assert "unmapped_license_types" in result["msg"]
    assert result["licenses"]["unmapped_types"] == {"MS Exchange": 1}
    assert [p for _m, p, _q in cw.log if not p.startswith("mbs/")] == []


def test_no_license_counted_while_lines_would_stop_refuses_the_run(cw):
    run_module(billing, args())
    seed_msp360(cw, licenses=[])
    cw.log.clear()
    cw.sent.clear()
    result, failed = run_module(billing, args())
    assert failed and result["refused"]["rule"] == "empty month" and "no license to bill" in result["msg"]
    assert [change["product"] for change in result["refused"]["changes"]] == ["BackupServer", "BackupDesktop"]
    assert connectwise_writes(cw) == []


def test_customer_products_and_prices(cw):
    companies = {"AcmeCorp": {"product_prices": {"BackupServer": {"unit_price": "20", "included": 1}}},
                 "Globex": {"products": ["OnlineBackup"]}}
    result, failed = run_module(billing, args(companies=companies))
    assert not failed, result
    acme = line(result, "AcmeCorp", "BackupServer")
    assert (acme["unit_price"], acme["included"], acme["total_price"]) == ("20.0000", 1, "40.00")
    globex = line(result, "Globex", "BackupDesktop")
    assert globex["action"] == "skipped" and "not among the products of company Globex" in globex["reason"]
    assert product_additions(cw, ADDITIONS_G, DESKTOP) == []


@pytest.mark.parametrize("extra, text", [
    (dict(license_products=[{"license_type": "Server", "product": "OnlineBackup"}]), "storage product"),
    (dict(license_products=[{"license_type": "Server", "product": "X", "unit_price": "1.23456"}]), "4 decimals"),
    (dict(license_products=LICENSE_PRODUCTS + [{"license_type": "SERVER", "product": "Y"}]), "map each license type"),
    (dict(companies={"Globex": {"products": ["BackupSever"]}}), "companies[Globex].products"),
    (dict(companies={"Globex": {"product_prices": {"BackupServer": {"price_per_gb": "1"}}}}), "price_per_gb"),
    (dict(mbs=None, usage=[{"company": "AcmeCorp", "used_bytes": 1}]), "license_history_file"),
])
def test_bad_product_options_fail_before_any_request(cw, extra, text):
    result, failed = run_module(billing, args(**extra))
    assert failed and text in result["msg"], result["msg"]
    assert cw.log == []


# ---------------------------------------------------------------- storage per storage account


def test_storage_products_split_a_company_over_its_accounts(cw):
    result, failed = run_module(billing, args(license_products=None, storage_products=STORAGE_PRODUCTS))
    assert not failed, result
    globex = lines(result, "Globex")
    assert [(r["kind"], r["product"]) for r in globex] == [
        ("storage_account", "S3Storage"), ("storage_account", "WasabiStorage")]
    s3, wasabi = globex
    # 3:1 by SizeBackup, to the byte and to the hundredth
    assert (s3["used_bytes"], wasabi["used_bytes"]) == (300 * GIB, 100 * GIB)
    assert (s3["quantity"], wasabi["quantity"]) == ("300.00", "100.00")
    assert s3["company_bytes"] == wasabi["company_bytes"] == 400 * GIB
    # S3Storage has no rate of its own: 3/4 of Globex's TotalCost (the price); Wasabi its own 0.08
    assert (s3["total_price"], wasabi["unit_price"], wasabi["total_price"]) == ("30.00", "0.0800", "8.00")
    assert s3["accounts"] == ["Amazon S3"] and wasabi["accounts"] == ["Wasabi"]
    assert sorted(a["product"]["id"] for a in cw.rows(ADDITIONS_G)) == [WASABI, S3]
    # AcmeCorp: one user on each account
    assert [(r["product"], r["quantity"]) for r in lines(result, "AcmeCorp")] == [
        ("S3Storage", "300.00"), ("WasabiStorage", "200.00")]
    mbs = [p for _m, p, _q in cw.log if p.startswith("mbs/")]
    assert mbs.count("mbs/api/Accounts") == 1 and mbs.count("mbs/api/Billing/Details") == 3
    again, failed = run_module(billing, args(license_products=None, storage_products=STORAGE_PRODUCTS))
    assert not failed and again["changed"] is False


def test_storage_on_an_unmapped_account_stays_on_the_storage_product(cw):
    result, failed = run_module(billing, args(license_products=None,
                                              storage_products=[STORAGE_PRODUCTS[0]]))
    assert not failed, result
    globex = lines(result, "Globex")
    assert [(r["product"], r["quantity"]) for r in globex] == [("OnlineBackup", "300.00"), ("WasabiStorage", "100.00")]
    assert globex[0]["accounts"] == ["Amazon S3"]


def test_a_storage_account_no_account_names_fails_before_any_connectwise_request(cw):
    result, failed = run_module(billing, args(license_products=None,
                                              storage_products=[{"account": "Backblaze", "product": "S3Storage"}]))
    assert failed and "storage_products[0].account 'Backblaze'" in result["msg"]
    assert [p for _m, p, _q in cw.log if not p.startswith("mbs/")] == []


def test_storage_products_need_the_msp360_source(cw):
    result, failed = run_module(billing, args(mbs=None, license_products=None, storage_products=STORAGE_PRODUCTS,
                                              usage=[{"company": "AcmeCorp", "used_bytes": GIB}]))
    assert failed and "storage_products" in result["msg"] and "mbs" in result["msg"]
    assert cw.log == []


def test_secrets_absent_with_products(cw, warned):
    result, failed = run_module(billing, args(storage_products=STORAGE_PRODUCTS))
    assert not failed, result
    [token] = cw.app.mbs.tokens
    text = json.dumps(result) + json.dumps(warned())
    assert MBS_ARGS["password"] not in text and token not in text
    assert conditions(cw, AGREEMENTS) == ['name = "ManagedBackupService"']


# ---------------------------------------------------------------- the storage rules, keyed by product


def test_an_overlapping_run_that_created_the_license_addition_first_is_kept(cw):
    theirs, ours = [], []

    def other_run_commits_first(method, path, body):
        if method == "POST" and path == ADDITIONS and body["product"] == {"id": SERVER} and not theirs:
            theirs.append(cw.add(path, **body)["id"])
        return None

    def note_ours(method, path, body):
        if method == "POST" and path == ADDITIONS and body["product"] == {"id": SERVER}:
            ours.append(max(a["id"] for a in cw.rows(ADDITIONS)))

    cw.refuse, cw.after = other_run_commits_first, note_ours
    result, failed = run_module(billing, args())
    assert not failed, result
    acme = line(result, "AcmeCorp", "BackupServer")
    assert (acme["action"], acme["addition_id"], acme["removed"]) == ("unchanged", theirs[0], ours)
    [kept] = product_additions(cw, ADDITIONS, SERVER)
    assert (kept["id"], kept["quantity"], kept["description"]) == (theirs[0], 3, OCTOBER)
    # the storage line of the same agreement is untouched by the license line's settling
    assert line(result, "AcmeCorp", "OnlineBackup")["action"] == "created"
    assert len(product_additions(cw, ADDITIONS, 5)) == 1


def test_a_license_line_above_its_bound_fails_alone(cw):
    result, failed = run_module(billing, args(companies={"AcmeCorp": {"max_company_licenses": 2}}))
    assert failed
    acme = line(result, "AcmeCorp", "BackupServer")
    assert acme["action"] == "failed" and "companies[AcmeCorp].max_company_licenses 2" in acme["reason"]
    assert line(result, "AcmeCorp", "OnlineBackup")["action"] == "created"
    assert line(result, "Globex", "BackupDesktop")["action"] == "created"
    assert product_additions(cw, ADDITIONS, SERVER) == []


def test_license_growth_is_judged_from_twenty_licenses(cw):
    runner = ACME_USERS[0]
    many = [license_row(2000 + n, "Server", runner, "S-%d" % n) for n in range(40)]
    cw.add(ADDITIONS, product={"id": SERVER}, billCustomer="Billable", effectiveDate="2026-09-01T00:00:00Z",
           quantity=3, unitPrice=25, unitCost=10, description=MARKER + "2026-09")
    seed_msp360(cw, licenses=many)
    result, failed = run_module(billing, args(max_growth="10"))
    assert failed
    acme = line(result, "AcmeCorp", "BackupServer")
    assert acme["action"] == "failed" and "40" in acme["reason"] and "max_growth" in acme["reason"]
    assert not [a for a in product_additions(cw, ADDITIONS, SERVER) if a["description"] == OCTOBER]


def test_an_invoiced_month_moves_the_license_line_to_the_next_invoice_date(cw):
    agreement = cw.get(AGREEMENTS, 12)
    cw.store.tables["agreements"][12]["nextInvoiceDate"] = "2026-11-01T00:00:00Z"
    assert agreement["id"] == 12
    result, failed = run_module(billing, args(invoiced_period_policy="next_invoice_date"))
    assert not failed, result
    acme = line(result, "AcmeCorp", "BackupServer")
    assert (acme["action"], acme["invoiced_moved"], acme["effective_date"]) == ("created", True, "2026-11-01")
    [server] = product_additions(cw, ADDITIONS, SERVER)
    assert (server["description"], server["cancelledDate"][:10]) == (OCTOBER, "2026-11-30")
    again, failed = run_module(billing, args(invoiced_period_policy="next_invoice_date"))
    assert not failed and line(again, "AcmeCorp", "BackupServer")["action"] == "unchanged"


def test_the_usage_history_export_is_the_license_source_of_a_past_month(cw, tmp_path):
    export = tmp_path / "usage-history.csv"
    export.write_text("Type,Company,User,Endpoint,Status,Activated,Deactivated,Days Active\n"
                      "Server,AcmeCorp,a@acme,PC-1,Paid,2026-09-01,,\n"
                      "Server,AcmeCorp,a@acme,PC-2,Paid,2026-09-01,2026-10-15,\n"
                      "Server,AcmeCorp,a@acme,PC-3,Paid,2026-09-01,2026-09-30,\n"
                      "Server,AcmeCorp,a@acme,PC-4,Active trial,2026-10-01,,\n"
                      "Desktop,Globex,g@globex,G-1,Paid,2026-10-31,,\n")
    result, failed = run_module(billing, args(license_history_file=str(export)))
    assert not failed, result
    assert line(result, "AcmeCorp", "BackupServer")["licenses"] == 2
    assert line(result, "Globex", "BackupDesktop")["licenses"] == 1
    assert result["licenses"]["source"].startswith("license_history_file")
    assert (result["licenses"]["read"], result["licenses"]["counted"]) == (5, 3)
    assert [p for _m, p, _q in cw.log if p == "mbs/api/Licenses"] == []  # the export replaces the API's snapshot


def test_the_usage_history_export_works_with_a_usage_file(cw, tmp_path):
    export = tmp_path / "usage-history.csv"
    export.write_text("Type,Company,User,Endpoint,Status,Activated,Deactivated\nServer,AcmeCorp,a,PC-1,Paid,"
                      "2026-09-01,\n")
    result, failed = run_module(billing, args(mbs=None, usage=[{"company": "AcmeCorp", "used_bytes": 500 * GIB}],
                                              price_per_gb="0.1", license_history_file=str(export)))
    assert not failed, result
    assert line(result, "AcmeCorp", "BackupServer")["licenses"] == 1
    assert [p for _m, p, _q in cw.log if p.startswith("mbs/")] == []


def test_a_failed_details_read_fails_that_companys_storage_lines_only(cw):
    def refuse(method, path, body):
        if path == "mbs/api/Billing/Details" and body["UserID"] == GLOBEX_USER["ID"]:
            return 400, {"Message": "The request is invalid."}
        return None

    cw.refuse = refuse
    result, failed = run_module(billing, args(storage_products=STORAGE_PRODUCTS))
    assert failed
    globex = lines(result, "Globex")
    assert [(r["product"], r["action"]) for r in globex] == [
        ("OnlineBackup", "failed"), ("S3Storage", "failed"), ("WasabiStorage", "failed"), ("BackupDesktop", "created")]
    assert all("could not be split by storage account" in r["reason"] for r in globex[:3])
    assert [a["product"]["id"] for a in cw.rows(ADDITIONS_G)] == [DESKTOP]
    assert set(r["action"] for r in lines(result, "AcmeCorp")) == {"created"}


def test_users_are_read_once_for_the_licenses_and_the_destinations_and_a_customer_prices_its_account(cw):
    companies = {"Globex": {"product_prices": {"WasabiStorage": {"price_per_gb": "0.09"}}}}
    result, failed = run_module(billing, args(storage_products=STORAGE_PRODUCTS, companies=companies,
                                              invoice_description="Backup {month}: {quantity} {unit} on {destinations}"))
    assert not failed, result
    assert [p for _m, p, _q in cw.log].count("mbs/api/Users") == 1
    prices = [line(result, company, "WasabiStorage")["unit_price"] for company in ("Globex", "AcmeCorp")]
    assert prices == ["0.0900", "0.0800"]
    [s3] = [a for a in cw.rows(ADDITIONS_G) if a["product"]["id"] == S3]
    assert s3["invoiceDescription"] == "Backup October 2026: 300.00 GiB on Amazon S3"
