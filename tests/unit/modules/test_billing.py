"""mbs.connectwise.billing against the sandbox ConnectWise and MSP360, in-process: every rule of billing-rules.md.

The module runs whole (``main()``); its clients reach the sandbox app through ``sandbox_client``, which
validates like ConnectWise (an addition before the billing start date, a reference to a missing row,
...), so what a test seeds is what ConnectWise could hold, and what the module sends is checked on
arrival. ``cw.log`` / ``cw.sent`` say which requests were made, ``cw.rows`` what ConnectWise holds after.
"""

import json

import pytest
import yaml

from ansible_collections.mbs.connectwise.plugins.doc_fragments import billing_calls, billing_products
from ansible_collections.mbs.connectwise.plugins.module_utils import transport
from ansible_collections.mbs.connectwise.plugins.modules import billing

from tests.sandbox.fixtures import REFERENCE_TABLES, load_fixture, setup_tables
from tests.sandbox.mbs import PASSWORD as MBS_PASSWORD
from tests.sandbox.mbs import USERNAME as MBS_USERNAME

from ..sandbox_client import CONNECTION, run_module

GIB = 2 ** 30
NAME = "ManagedBackupService"
COMPANIES = "company/companies"
CONTACTS = "company/contacts"
AGREEMENTS = "finance/agreements"
CATALOG = "procurement/catalog"
ADDITIONS = AGREEMENTS + "/12/additions"
ADDITIONS_G = AGREEMENTS + "/13/additions"
MARKER = "mbs.connectwise billing "
OCTOBER = MARKER + "2026-10"
# Any host: every session the module builds reaches the sandbox, which serves MSP360 under /mbs.
MBS = "https://mbs.example.test/mbs"
MBS_ARGS = {"url": MBS, "username": MBS_USERNAME, "password": MBS_PASSWORD}
TODAY = "2026-11-02"

ACME = {"id": 1, "identifier": "AcmeCorp", "name": "Acme Corporation"}
GLOBEX = {"id": 2, "identifier": "Globex", "name": "Globex Corporation"}
HOOLI = {"id": 3, "identifier": "Hooli", "name": "Hooli"}
PRODUCT_ID = 5
# The product's own cost and price (the setup role's catalog item): what quantity_only leaves to ConnectWise.
PRODUCT_COST, PRODUCT_PRICE = 0.02, 0.1


def record_pauses(monkeypatch):
    """The pauses of every retry policy built from now on, recorded instead of slept (a module run stays fast)."""
    pauses = []
    init = transport.RetryPolicy.__init__

    def recording(self, *args, **kwargs):
        kwargs.setdefault("sleep", pauses.append)
        init(self, *args, **kwargs)

    monkeypatch.setattr(transport.RetryPolicy, "__init__", recording)
    return pauses


def after_setup(connectwise):
    """ConnectWise after the setup role (agreement type 3, product 5), with no customer yet."""
    demo = load_fixture("demo")["connectwise"]
    tables = dict((table, demo[table]) for table in REFERENCE_TABLES)
    setup = setup_tables()
    tables["agreementTypes"] = [dict(setup["agreementTypes"][0], id=3)]
    tables["catalog"] = [dict(setup["catalog"][0], id=PRODUCT_ID)]
    connectwise.store.load({"connectwise": tables})
    return connectwise


def with_acme(connectwise):
    """AcmeCorp and its agreement 12, billed from 2026-01-01."""
    add_company(connectwise, ACME)
    add_agreement(connectwise, 12, ACME)
    return connectwise


@pytest.fixture(autouse=True)
def slept(monkeypatch):
    return record_pauses(monkeypatch)


@pytest.fixture
def bare(connectwise):
    return after_setup(connectwise)


@pytest.fixture
def cw(bare):
    return with_acme(bare)


def add_company(cw, company):
    cw.add(COMPANIES, **company)
    cw.add(CONTACTS, firstName="Default", lastName=company["identifier"], company={"id": company["id"]},
           defaultFlag=True)
    return cw.get(COMPANIES, company["id"])


def add_agreement(cw, agreement_id, company, bill_start="2026-01-01T00:00:00Z", name=NAME, **extra):
    contact = cw.get(COMPANIES, company["id"])["defaultContact"]
    row = dict(id=agreement_id, name=name, type={"id": 3}, company={"id": company["id"]}, contact={"id": contact["id"]},
               startDate="2026-01-01T00:00:00Z", billStartDate=bill_start, noEndingDateFlag=True)
    row.update(extra)
    return cw.add(AGREEMENTS, **row)


def add_addition(cw, addition_id=301, agreement_id=12, effective="2026-10-01T00:00:00Z", quantity=500.0,
                 unit_cost=0.02, unit_price=0.1, marker=None, **extra):
    """An addition of the product; ``marker``: the period this collection's marker names (None: made by hand)."""
    row = dict(id=addition_id, product={"id": PRODUCT_ID}, billCustomer="Billable", effectiveDate=effective,
               quantity=quantity, unitCost=unit_cost, unitPrice=unit_price)
    if marker is not None:
        row["description"] = MARKER + marker
    row.update(extra)
    return cw.add("%s/%d/additions" % (AGREEMENTS, agreement_id), **row)


def args(**extra):
    base = {"period": "2026-10", "today": TODAY, "usage": [{"company": "AcmeCorp", "used_bytes": 500 * GIB}],
            "cost_per_gb": "0.02", "price_per_gb": "0.10"}
    base.update(extra)
    return base


def posted(cw, path=None):
    return [body for method, where, body in cw.sent
            if method == "POST" and where.endswith("/additions") and (path is None or where == path)]


def additions(cw, path=ADDITIONS):
    return cw.rows(path)


def conditions(cw, path):
    """The ``conditions`` of every GET of ``path``, in order."""
    return [query.get("conditions") for _method, _path, query in cw.calls("GET", path)]


CREATED = {"product": {"id": PRODUCT_ID}, "billCustomer": "Billable", "quantity": 500,
           "effectiveDate": "2026-10-01T00:00:00Z", "unitCost": 0.02, "unitPrice": 0.1, "description": OCTOBER}
# The product's additions that bill October, or later, or still bill into it.
ADDITIONS_READ = ('(product/id = 5) and ((cancelledDate = null) or (cancelledDate >= [2026-09-30T00:00:00Z]) or '
                  '(effectiveDate >= [2026-10-01T00:00:00Z]))')


# ---------------------------------------------------------------- the documented interface


def test_documented_options_match_the_argument_spec():
    doc = yaml.safe_load(billing.DOCUMENTATION)["options"]
    # The products' options, and those for callers that wrap the module, are documented in doc fragments.
    assert "mbs.connectwise.billing_products" in yaml.safe_load(billing.DOCUMENTATION)["extends_documentation_fragment"]
    doc.update(yaml.safe_load(billing_products.ModuleDocFragment.DOCUMENTATION)["options"])
    doc.update(yaml.safe_load(billing_calls.ModuleDocFragment.DOCUMENTATION)["options"])
    assert sorted(doc) == sorted(billing.ARGUMENT_SPEC)

    def same(documented, spec, where):
        assert documented["type"] == spec["type"], where
        assert documented.get("default") == spec.get("default"), where
        assert documented.get("choices") == spec.get("choices"), where
        assert documented.get("elements") == spec.get("elements"), where
        assert documented.get("required", False) == spec.get("required", False), where
        if "options" in spec:
            assert sorted(documented["suboptions"]) == sorted(spec["options"]), where
            for name in spec["options"]:
                same(documented["suboptions"][name], spec["options"][name], where + "." + name)
        else:
            assert "suboptions" not in documented, where

    for name, spec in billing.ARGUMENT_SPEC.items():
        same(doc[name], spec, name)
    assert billing.ARGUMENT_SPEC["mbs"]["options"]["password"]["no_log"] is True


# ---------------------------------------------------------------- modes and descriptions


def test_average_cost_creates_one_addition_with_exact_requests(cw):
    result, failed = run_module(billing, args())
    assert not failed, result
    assert result["changed"] is True
    # the addition carries its period's marker, so any later run finds it whatever its effective date
    assert posted(cw) == [CREATED]
    [line] = result["results"]
    [stored] = additions(cw)
    assert line["action"] == "created" and line["addition_id"] == stored["id"] and line["agreement_id"] == 12
    assert (stored["quantity"], stored["unitPrice"], stored["description"]) == (500, 0.1, OCTOBER)
    assert line["marker"] == OCTOBER
    assert (line["quantity"], line["unit"], line["unit_cost"], line["unit_price"]) == ("500.00", "GiB", "0.0200",
                                                                                       "0.1000")
    assert (line["total_cost"], line["total_price"]) == ("10.00", "50.00")
    assert line["effective_date"] == "2026-10-01" and line["period"] == "2026-10"
    assert result["totals"]["total_price"] == "50.00" and result["totals"]["quantity"] == {"GiB": "500.00"}
    assert result["totals"]["counts"]["created"] == 1
    # The reads: the agreements of the configured name (the company comes with its agreement, so
    # companies are not read), the catalog item, the agreement's additions; few fields each.
    assert conditions(cw, AGREEMENTS) == ['name = "ManagedBackupService"']
    assert cw.calls("GET", COMPANIES) == []
    assert conditions(cw, CATALOG) == ['identifier in ("OnlineBackup")']
    # the first read, then the re-read after the write (another run may have written meanwhile)
    assert conditions(cw, ADDITIONS) == [ADDITIONS_READ] * 2
    assert [m for m, _p, _q in cw.log] == ["GET", "GET", "GET", "POST", "GET"]
    agreement_read = cw.calls("GET", AGREEMENTS)[0][2]
    assert agreement_read["fields"].startswith("id,name,company/id,company/identifier,company/name,")
    assert "nextInvoiceDate" in agreement_read["fields"] and "prorateFlag" in agreement_read["fields"]
    assert result["requests"]["connectwise"] == {"GET": 4, "POST": 1}


def test_total_mode_sends_quantity_one_and_totals(cw):
    result, failed = run_module(billing, args(cost_mode="total"))
    assert not failed, result
    assert posted(cw) == [dict(CREATED, quantity=1, unitCost=10, unitPrice=50)]
    line = result["results"][0]
    assert (line["quantity"], line["used_quantity"], line["total_price"]) == ("1.00", "500.00", "50.00")
    assert result["totals"]["quantity"] == {"GiB": "500.00"}


def test_quantity_only_sends_no_cost_or_price(cw):
    result, failed = run_module(billing, args(cost_mode="quantity_only", cost_per_gb=None, price_per_gb=None))
    assert not failed, result
    [sent] = posted(cw)
    assert sent == {"product": {"id": PRODUCT_ID}, "billCustomer": "Billable", "quantity": 500,
                    "effectiveDate": "2026-10-01T00:00:00Z", "description": OCTOBER}
    line = result["results"][0]
    assert line["unit_cost"] is None and line["total_price"] is None
    assert result["totals"]["total_price"] == "0.00"
    # ConnectWise applies the product's own cost and price
    [stored] = additions(cw)
    assert (stored["unitCost"], stored["unitPrice"]) == (PRODUCT_COST, PRODUCT_PRICE)


def test_invoice_description_product_sends_none_and_template_is_rendered(cw):
    template = "Backup {company_name} ({company}) {month} [{period}]: {quantity} {unit} x {unit_price} = {total_price}"
    result, failed = run_module(billing, args(invoice_description=template))
    assert not failed, result
    [sent] = posted(cw)
    assert sent["invoiceDescription"] == ("Backup Acme Corporation (AcmeCorp) October 2026 [2026-10]: "
                                          "500.00 GiB x 0.1000 = 50.00")
    assert "invoiceDescription" not in CREATED  # the default (product) test above sends none


def test_unknown_placeholder_fails_before_any_request(cw):
    result, failed = run_module(billing, args(invoice_description="Backup {customer}"))
    assert failed and "{customer}" in result["msg"]
    assert cw.log == []


def test_bad_company_override_fails_before_any_request(cw):
    result, failed = run_module(billing, args(companies={"AcmeCorp": {"price": "1"}}))
    assert failed and "companies[AcmeCorp]" in result["msg"] and "price" in result["msg"]
    result, failed = run_module(billing, args(companies={"AcmeCorp": {"cost_mode": "quantity_only",
                                                                      "invoice_description": "{total_price}"}}))
    assert failed and "quantity_only" in result["msg"]
    assert cw.log == []


# ---------------------------------------------------------------- effective date policy


def test_clamp_moves_the_effective_date_to_the_billing_start_with_a_warning(bare, warned):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, bill_start="2026-10-15T00:00:00Z")
    result, failed = run_module(billing, args())
    assert not failed, result
    assert posted(bare) == [dict(CREATED, effectiveDate="2026-10-15T00:00:00Z")]
    line = result["results"][0]
    assert line["effective_date"] == "2026-10-15"
    assert any("billing start date 2026-10-15" in w for w in line["warnings"])
    assert any(w.startswith("AcmeCorp: effective date moved") for w in warned())


def test_fail_policy_fails_the_company_without_a_write(bare):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, bill_start="2026-10-15T00:00:00Z")
    result, failed = run_module(billing, args(effective_date_policy="fail"))
    assert failed
    assert "AcmeCorp" in result["msg"] and "cannot precede the Billing Start Date" in result["msg"]
    assert result["results"][0]["action"] == "failed"
    assert result["totals"]["counts"]["failed"] == 1
    assert bare.writes() == []


def test_agreement_not_billing_yet_is_skipped(bare):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, bill_start="2026-11-05T00:00:00Z")
    result, failed = run_module(billing, args())
    assert not failed, result
    line = result["results"][0]
    assert line["action"] == "skipped" and line["reason"].startswith("agreement not billing yet")
    assert bare.writes() == [] and bare.calls("GET", ADDITIONS) == []


# ---------------------------------------------------------------- previous additions


def test_previous_open_addition_is_cancelled_the_day_before(cw):
    add_addition(cw, 250, effective="2026-08-01T00:00:00Z", cancelledDate="2026-08-31T00:00:00Z")
    add_addition(cw, 280, effective="2026-09-01T00:00:00Z", quantity=400.0)
    result, failed = run_module(billing, args())
    assert not failed, result
    post, patch = cw.writes()
    assert post[:2] == ("POST", ADDITIONS) and patch[:2] == ("PATCH", ADDITIONS + "/280")
    assert cw.sent[1][2] == [{"op": "replace", "path": "cancelledDate", "value": "2026-09-30T00:00:00Z"}]
    assert result["results"][0]["cancelled"] == [280]
    assert result["totals"]["counts"]["cancelled"] == 1
    assert cw.get(ADDITIONS, 280)["cancelledDate"] == "2026-09-30T00:00:00Z"
    assert cw.get(ADDITIONS, 250)["cancelledDate"] == "2026-08-31T00:00:00Z"


def test_keep_leaves_previous_additions(cw):
    add_addition(cw, 280, effective="2026-09-01T00:00:00Z")
    result, failed = run_module(billing, args(previous_additions="keep"))
    assert not failed, result
    assert [m for m, _p, _q in cw.writes()] == ["POST"]
    assert result["results"][0]["cancelled"] == []
    assert "cancelledDate" not in cw.get(ADDITIONS, 280)


# ---------------------------------------------------------------- idempotency


def test_rerun_changes_nothing(cw):
    # what an earlier run of October left: September cancelled, October's addition with its marker
    add_addition(cw, 280, effective="2026-09-01T00:00:00Z", cancelledDate="2026-09-30T00:00:00Z", marker="2026-09")
    add_addition(cw, 301, marker="2026-10")
    result, failed = run_module(billing, args())
    assert not failed, result
    assert result["changed"] is False and cw.writes() == []
    line = result["results"][0]
    assert line["action"] == "unchanged" and line["addition_id"] == 301


def test_a_second_run_finds_the_first_runs_addition_and_changes_nothing(cw):
    first, failed = run_module(billing, args())
    assert not failed and first["results"][0]["action"] == "created"
    cw.log.clear()
    again, failed = run_module(billing, args())
    assert not failed, again
    assert again["changed"] is False and cw.writes() == []
    assert again["results"][0]["action"] == "unchanged"
    assert again["results"][0]["addition_id"] == first["results"][0]["addition_id"]
    assert len(additions(cw)) == 1


def test_changed_usage_patches_only_the_quantity(cw):
    add_addition(cw, 301, marker="2026-10")
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 512 * GIB + GIB // 2}]),
                                diff=True)
    assert not failed, result
    assert cw.writes() == [("PATCH", ADDITIONS + "/301", {})]
    assert cw.sent[0][2] == [{"op": "replace", "path": "quantity", "value": 512.5}]
    line = result["results"][0]
    assert line["action"] == "updated" and line["changed_fields"] == ["quantity"]
    # One line of --diff for the company, with the field's value before and after.
    assert result["diff"] == [{"prepared": "AcmeCorp: update addition 301 quantity 500.00 -> 512.50\n"}]
    assert line["changes"] == ["update addition 301 quantity 500.00 -> 512.50"]
    assert cw.get(ADDITIONS, 301)["quantity"] == 512.5


def test_hand_made_duplicate_fails_that_company_only(cw):
    add_company(cw, GLOBEX)
    add_agreement(cw, 13, GLOBEX)
    add_addition(cw, 301)
    add_addition(cw, 302, effective="2026-10-15T00:00:00Z")
    usage = [{"company": "AcmeCorp", "used_bytes": 500 * GIB}, {"company": "Globex", "used_bytes": 100 * GIB}]
    result, failed = run_module(billing, args(usage=usage))
    assert failed
    assert result["msg"].startswith("billing of 2026-10 failed for 1 company: AcmeCorp: ")
    assert "301, 302" in result["msg"]
    by_company = {r["company"]: r for r in result["results"]}
    assert by_company["AcmeCorp"]["action"] == "failed"
    assert by_company["Globex"]["action"] == "created"
    assert [(m, p) for m, p, _q in cw.writes()] == [("POST", ADDITIONS_G)]
    assert result["changed"] is True
    assert result["totals"]["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 1,
                                          "cancelled": 0}


def test_unknown_company_and_missing_or_cancelled_agreement_are_skipped(cw, warned):
    add_company(cw, GLOBEX)
    add_company(cw, HOOLI)
    add_agreement(cw, 14, HOOLI, cancelledFlag=True)  # reads Cancelled, with no date saying since when
    usage = [{"company": name, "used_bytes": 10 * GIB} for name in ("AcmeCorp", "Globex", "Hooli", "Nobody Inc")]
    result, failed = run_module(billing, args(usage=usage))
    assert not failed, result
    by_company = {r["company"]: r for r in result["results"]}
    assert by_company["Nobody Inc"]["action"] == "skipped"
    assert "no ConnectWise company with identifier 'Nobody Inc'" in by_company["Nobody Inc"]["reason"]
    assert by_company["Globex"]["reason"] == "no agreement named 'ManagedBackupService' for company Globex"
    assert "cancelled" in by_company["Hooli"]["reason"]
    assert by_company["AcmeCorp"]["action"] == "created"
    assert [(m, p) for m, p, _q in cw.writes()] == [("POST", ADDITIONS)]
    assert any("3 companies with usage were not billed" in w and "Nobody Inc" in w for w in warned())
    # The agreements are read by name, each with its company; only the companies without one are
    # looked up, to tell an unknown company from one without the agreement.
    assert conditions(cw, AGREEMENTS) == ['name = "ManagedBackupService"']
    assert conditions(cw, COMPANIES) == ['identifier in ("Globex","Nobody Inc")']


def test_company_map_aggregates_and_overrides_apply(cw):
    usage = [{"company": "Acme Corp (EU)", "used_bytes": 300 * GIB, "destination": "Wasabi"},
             {"company": "Acme Corp (US)", "used_bytes": 200 * GIB, "destination": "Amazon S3"}]
    result, failed = run_module(billing, args(
        usage=usage, company_map={"Acme Corp (EU)": "AcmeCorp", "Acme Corp (US)": "AcmeCorp"},
        cost_per_gb_by_destination={"Wasabi": "0.01", "Amazon S3": 0.04},
        companies={"acmecorp": {"price_per_gb": "0.2"}, "Globex": {"skip": True}}))
    assert not failed, result
    # cost = 300 x 0.01 + 200 x 0.04 = 11.00 over 500 GiB -> 0.022; price 0.2 per GiB
    assert posted(cw) == [dict(CREATED, unitCost=0.022, unitPrice=0.2)]
    line = result["results"][0]
    assert line["usage_company"] == "Acme Corp (EU), Acme Corp (US)"
    assert line["destinations"] == ["Amazon S3", "Wasabi"]
    assert (line["total_cost"], line["total_price"]) == ("11.00", "100.00")


def test_company_map_matches_usage_names_by_company_identity(cw):
    # Issue 9.6: a usage name differing from the map key only in case or spacing is the same company.
    usage = [{"company": "acme corp  (eu)", "used_bytes": 300 * GIB},
             {"company": "ACME CORP (US)", "used_bytes": 200 * GIB}]
    result, failed = run_module(billing, args(
        usage=usage, company_map={"Acme Corp (EU)": "AcmeCorp", "Acme Corp (US)": "AcmeCorp"}))
    assert not failed, result
    assert [r["company"] for r in result["results"]] == ["AcmeCorp"]
    assert result["results"][0]["action"] == "created"
    assert len(posted(cw)) == 1


def test_zero_usage_is_skipped_unless_send_zero(cw):
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 0}]))
    assert not failed, result
    assert result["results"][0]["action"] == "skipped" and result["results"][0]["reason"] == "no usage"
    assert cw.writes() == [] and result["changed"] is False
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 0}], send_zero=True))
    assert not failed, result
    assert posted(cw) == [dict(CREATED, quantity=0, unitCost=0, unitPrice=0)]


def test_missing_rate_fails_that_company(cw):
    result, failed = run_module(billing, args(price_per_gb=None))
    assert failed and "no price per GiB" in result["msg"]
    assert cw.writes() == []


def test_two_active_agreements_fail_the_company(cw):
    add_agreement(cw, 15, ACME)
    result, failed = run_module(billing, args())
    assert failed and "2 active agreements" in result["msg"] and "12, 15" in result["msg"]
    assert cw.writes() == []


# ---------------------------------------------------------------- check mode


def test_check_mode_writes_nothing_and_reports_the_same_actions(cw):
    add_company(cw, GLOBEX)
    add_agreement(cw, 13, GLOBEX)
    add_addition(cw, 280, effective="2026-09-01T00:00:00Z")
    add_addition(cw, 310, agreement_id=13, quantity=90.0, marker="2026-10")
    usage = [{"company": "AcmeCorp", "used_bytes": 500 * GIB}, {"company": "Globex", "used_bytes": 100 * GIB}]
    result, failed = run_module(billing, args(usage=usage), check_mode=True, diff=True)
    assert not failed, result
    assert cw.writes() == []
    assert result["changed"] is True
    by_company = {r["company"]: r for r in result["results"]}
    assert by_company["AcmeCorp"]["action"] == "created" and by_company["AcmeCorp"]["addition_id"] is None
    assert by_company["AcmeCorp"]["cancelled"] == [280]
    assert by_company["Globex"]["action"] == "updated" and by_company["Globex"]["changed_fields"] == ["quantity"]
    # One line per company that changes: the new addition with its money, the earlier one's cancel date,
    # the changed field before and after.
    acme, globex = result["diff"]
    assert acme == {"prepared": "AcmeCorp: create addition 2026-10 500.00 GiB x %.4f = %.2f; cancel addition 280 "
                                "from 2026-09-30\n" % (CREATED["unitPrice"], 500 * CREATED["unitPrice"])}
    assert globex == {"prepared": "Globex: update addition 310 quantity 90.00 -> 100.00\n"}
    assert by_company["AcmeCorp"]["changes"] == acme["prepared"][len("AcmeCorp: "):-1].split("; ")
    # the real run does what check mode said
    real, failed = run_module(billing, args(usage=usage))
    assert not failed, real
    assert [(r["company"], r["action"], r["cancelled"], r["changed_fields"]) for r in real["results"]] == [
        (r["company"], r["action"], r["cancelled"], r["changed_fields"]) for r in result["results"]]


def test_no_diff_without_diff_mode(cw):
    result, failed = run_module(billing, args(), check_mode=True)
    assert not failed and "diff" not in result


# ---------------------------------------------------------------- unknown outcome of a POST


def test_lost_answer_then_found_on_reread_means_no_second_post(cw, slept):
    cw.app.faults.add([{"method": "POST", "path": "additions", "drop_after_commit": True, "count": 1}])
    result, failed = run_module(billing, args())
    assert not failed, result
    assert len(cw.calls("POST")) == 1
    # the first read, the re-read that finds the committed POST, the re-read after the write
    assert len(conditions(cw, ADDITIONS)) == 3
    [stored] = additions(cw)
    line = result["results"][0]
    assert line["action"] == "created" and line["addition_id"] == stored["id"]
    assert any("found on re-reading and adopted" in w for w in line["warnings"])
    assert slept == []  # found on the first re-read: no pause


def test_unknown_outcome_and_not_found_posts_exactly_once_more(cw):
    # a 503 answered before ConnectWise processed the POST: nothing was committed
    cw.app.faults.add([{"method": "POST", "path": "additions", "status": 503, "count": 1}])
    result, failed = run_module(billing, args())
    assert not failed, result
    assert posted(cw) == [CREATED, CREATED]
    # the first read, one re-read before the second POST, the re-read after the write
    assert len(conditions(cw, ADDITIONS)) == 3
    [stored] = additions(cw)
    assert result["results"][0]["addition_id"] == stored["id"]


def test_a_gateway_timeout_is_waited_out_over_twice_the_timeout_before_a_second_post(cw, slept):
    # A 504 from a gateway: ConnectWise may still be working on the POST, so it is looked for again
    # and again over twice the timeout before the POST is sent once more.
    cw.refuse = lambda method, path, body: (504, {"message": "Gateway Timeout"}) if len(posted(cw)) == 1 else None
    result, failed = run_module(billing, args(timeout=10))
    assert not failed, result
    assert posted(cw) == [CREATED, CREATED] and len(additions(cw)) == 1
    assert sum(slept) == 20 and len(slept) > 1
    # the first read, one re-read after the 504 and one after each pause, the re-read after the write
    assert len(conditions(cw, ADDITIONS)) == 1 + 1 + len(slept) + 1


def test_unknown_outcome_every_time_fails_after_bounded_attempts(cw):
    cw.app.faults.add([{"method": "POST", "path": "additions", "status": 503}])
    result, failed = run_module(billing, args())
    assert failed and "503 - the server may have processed the request" in result["msg"]
    assert "nothing found on re-reading after 3 attempts, so nothing was created" in result["msg"]
    assert len(cw.calls("POST")) == 3
    assert additions(cw) == []


# ---------------------------------------------------------------- auto-billing window


def test_auto_in_the_window_bills_the_previous_month(cw):
    result, failed = run_module(billing, args(period="auto", today="2026-11-02"))
    assert not failed, result
    assert result["period"] == "2026-10"
    assert posted(cw)[0]["effectiveDate"] == "2026-10-01T00:00:00Z"


def test_auto_outside_the_window_makes_no_request(cw):
    result, failed = run_module(billing, {"period": "auto", "today": "2026-11-10", "cost_per_gb": "0.02",
                                          "mbs": MBS_ARGS})
    assert not failed, result
    assert result["changed"] is False
    assert result["skipped_reason"] == "outside the auto-billing window"
    assert result["results"] == [] and result["period"] is None
    assert cw.log == []


def test_default_period_is_the_previous_month_in_the_time_zone(cw):
    result, failed = run_module(billing, args(period=None, today="2027-01-01"))
    assert not failed, result
    assert result["period"] == "2026-12"


def test_bad_period_and_time_zone_fail_before_requests(cw):
    for extra, text in (({"period": "2026-13"}, "2026-13"), ({"timezone": "Mars/Base"}, "Mars/Base"),
                        ({"today": "11/02/2026"}, "today"), ({"parallel": 40}, "parallel")):
        result, failed = run_module(billing, args(**extra))
        assert failed and text in result["msg"], (extra, result)
    assert cw.log == []


def test_future_and_current_periods_fail_before_requests(cw):
    for period, text in (("2027-06", "after the current month 2026-11"),
                         ("2026-12", "after the current month 2026-11"),
                         ("2026-11", "allow_current_period")):
        result, failed = run_module(billing, args(period=period, today="2026-11-10"))
        assert failed and period in result["msg"] and text in result["msg"], (period, result)
    assert cw.log == []


def test_current_period_on_request_is_marked(cw):
    result, failed = run_module(billing, args(period="2026-11", today="2026-11-10", allow_current_period=True))
    assert not failed, result
    assert result["current_period"] is True and result["period"] == "2026-11"
    assert posted(cw)[0]["effectiveDate"].startswith("2026-11-01")
    assert posted(cw)[0]["description"] == MARKER + "2026-11"


def test_parallel_outside_range_and_bad_price_name_the_value(cw):
    for extra, text in (({"parallel": 0}, "parallel 0"), ({"parallel": 17}, "parallel 17"),
                        ({"parallel": -1}, "parallel -1"), ({"price_per_gb": "abc"}, "'abc'"),
                        ({"cost_per_gb": "1,5"}, "'1,5'"),
                        ({"usage": [{"company": "AcmeCorp", "used_bytes": GIB, "price": "abc"}]}, "abc")):
        result, failed = run_module(billing, args(**extra))
        assert failed and text in result["msg"], (extra, result)
    assert cw.log == []


def test_misspelled_agreement_name_fails_before_any_write_naming_the_existing_names(cw):
    add_agreement(cw, 14, ACME, name="Support")
    result, failed = run_module(billing, args(agreement="ManagedBackupServce"))
    assert failed
    assert "'ManagedBackupServce'" in result["msg"] and "'ManagedBackupService'" in result["msg"]
    assert "'Support'" in result["msg"] and "nothing was written" in result["msg"]
    assert cw.writes() == []


def test_one_company_without_the_agreement_is_only_skipped(cw):
    add_company(cw, GLOBEX)
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 500 * GIB},
                                                     {"company": "Globex", "used_bytes": GIB}]))
    assert not failed, result
    assert sorted(r["action"] for r in result["results"]) == ["created", "skipped"]


def test_agreement_expired_since_the_period_is_billed_and_cancelled_inside_warns(bare, warned):
    add_company(bare, ACME)
    add_agreement(bare, 12, ACME, cancelledFlag=True, dateCancelled="2026-10-20T00:00:00Z",
                  endDate="2026-10-31T00:00:00Z", noEndingDateFlag=False)
    result, failed = run_module(billing, args(today="2026-12-02"))
    assert not failed, result
    assert result["results"][0]["action"] == "created"
    assert any("2026-10-20" in w for w in warned())


# ---------------------------------------------------------------- MSP360 source and secrets


def seed_mbs(cw):
    """MSP360 with AcmeCorp's two users, Globex's one, and a user outside any company, for 2026-10."""
    users = [("u1", "a@acme", "AcmeCorp"), ("u2", "b@acme", "AcmeCorp"), ("u3", "g@globex", "Globex"),
             ("u9", "lost@example.test", "")]
    cw.app.mbs.load({
        "companies": [{"Id": "c1", "Name": "AcmeCorp"}, {"Id": "c2", "Name": "Globex"}],
        "users": [{"ID": user, "Email": email, "Company": company} for user, email, company in users],
        "usage": {"2026-10": [
            {"UserId": "u1", "AverageSpace": 300 * GIB, "TotalCost": 30.0},
            {"UserId": "u2", "AverageSpace": 200 * GIB, "TotalCost": 20.0},
            {"UserId": "u3", "AverageSpace": 100 * GIB, "TotalCost": 7.5},
            {"UserId": "u9", "AverageSpace": 0, "TotalCost": 0},
        ]},
    })


def test_msp360_source_end_to_end(cw, warned):
    seed_mbs(cw)
    add_company(cw, GLOBEX)
    add_agreement(cw, 13, GLOBEX)
    result, failed = run_module(billing, {"period": "2026-10", "today": TODAY, "cost_per_gb": "0.02",
                                          "mbs": MBS_ARGS})
    assert not failed, result
    # TotalCost is the price total: 50.00 over 500 GiB, 7.50 over 100 GiB
    assert posted(cw, ADDITIONS) == [dict(CREATED, unitPrice=0.1)]
    assert posted(cw, ADDITIONS_G) == [dict(CREATED, quantity=100, unitPrice=0.075)]
    # one login (the sandbox checks the credentials), the company list, one billing read for the month
    mbs_calls = [(m, p) for m, p, _q in cw.log if p.startswith("mbs/")]
    assert mbs_calls == [("POST", "mbs/api/Provider/Login"), ("GET", "mbs/api/Companies"), ("PUT", "mbs/api/Billing")]
    assert [b for m, p, b in cw.sent if p == "mbs/api/Billing"] == [{"Date": "2026-10-01"}]
    # the billing read was made with the token the login gave (the sandbox refuses any other)
    [token] = cw.app.mbs.tokens
    assert result["requests"]["mbs"] == {"POST": 1, "GET": 1, "PUT": 1}
    assert any("lost@example.test" in w and "no MSP360 company" in w for w in warned())
    [no_company] = [r for r in result["results"] if r["company"] == "(no MSP360 company)"]
    assert no_company["action"] == "skipped" and "give them their company in MSP360" in no_company["reason"]
    text = json.dumps(result) + json.dumps(warned())
    for secret in (MBS_PASSWORD, token, CONNECTION["private_key"]):
        assert secret not in text


def test_msp360_login_refused_fails_without_the_password(cw):
    def refuse(method, path, body):
        if path == "mbs/api/Provider/Login":
            return 401, {"Message": "bad " + body["Password"]}  # a server that echoes what it was sent
        return None

    cw.refuse = refuse
    result, failed = run_module(billing, {"period": "2026-10", "today": TODAY, "cost_per_gb": "0.02",
                                          "mbs": MBS_ARGS})
    assert failed and "MSP360 login refused" in result["msg"]
    assert MBS_PASSWORD not in json.dumps(result)
    assert [p for _m, p, _q in cw.log] == ["mbs/api/Provider/Login"]  # nothing asked of ConnectWise


def test_msp360_wrong_password_fails_without_the_password(cw):
    result, failed = run_module(billing, {"period": "2026-10", "today": TODAY, "cost_per_gb": "0.02",
                                          "mbs": dict(MBS_ARGS, password="not-" + MBS_PASSWORD)})
    assert failed and "MSP360 login refused" in result["msg"]
    assert MBS_PASSWORD not in json.dumps(result)
    assert not [p for _m, p, _q in cw.log if not p.startswith("mbs/")]


def test_secrets_absent_from_failure_messages_and_results(cw):
    echo = {"code": "InvalidObject", "message": "refused for key " + CONNECTION["private_key"]}
    cw.refuse = lambda method, path, body: (400, echo) if method == "POST" else None
    result, failed = run_module(billing, args())
    assert failed and "AcmeCorp" in result["msg"] and "refused for key" in result["msg"]
    assert CONNECTION["private_key"] not in json.dumps(result)
    assert additions(cw) == []


@pytest.mark.parametrize("usage_file", ["usage.csv", "usage.json"])
def test_usage_file_source(cw, tmp_path, usage_file):
    path = tmp_path / usage_file
    if usage_file.endswith(".csv"):
        path.write_text("company,used_bytes\nAcmeCorp,%d\n" % (500 * GIB))
    else:
        path.write_text(json.dumps([{"company": "AcmeCorp", "used_bytes": 500 * GIB}]))
    params = args(usage_file=str(path))
    del params["usage"]
    result, failed = run_module(billing, params)
    assert not failed, result
    assert posted(cw) == [CREATED]


def test_one_usage_source_exactly(cw):
    result, failed = run_module(billing, {"period": "2026-10", "today": TODAY})
    assert failed and "one of the following is required" in result["msg"]
    result, failed = run_module(billing, args(usage_file="/nonexistent.csv"))
    assert failed and "mutually exclusive" in result["msg"]
    assert cw.log == []


def test_destination_rates_with_the_msp360_source_are_refused_not_ignored(cw):
    result, failed = run_module(billing, {"period": "2026-10", "today": TODAY, "cost_per_gb": "0.01",
                                          "cost_per_gb_by_destination": {"Amazon S3": "0.5"}, "mbs": MBS_ARGS})
    assert failed
    assert "cost_per_gb_by_destination" in result["msg"] and "destination" in result["msg"]
    assert cw.log == []
