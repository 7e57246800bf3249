"""mbs.connectwise.billing with ``responses``: the exact requests of every rule of billing-rules.md."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml
from responses import matchers

from ansible_collections.mbs.connectwise.plugins.modules import billing

from ..conftest import API, CONNECTION, body, run_module, writes
from .helpers import conditions

GIB = 2 ** 30
COMPANIES = API + "company/companies"
AGREEMENTS = API + "finance/agreements"
CATALOG = API + "procurement/catalog"
ADDITIONS = API + "finance/agreements/12/additions"
ADDITIONS_G = API + "finance/agreements/13/additions"
MBS = "https://mbs.example.test"
MBS_PASSWORD = "mbs-pa55word-SECRET"
MBS_TOKEN = "mbs-token-TOKENVALUE"

ACME = {"id": 1, "identifier": "AcmeCorp", "name": "Acme Corporation"}
GLOBEX = {"id": 2, "identifier": "Globex", "name": "Globex Corporation"}
PRODUCT = {"id": 5, "identifier": "OnlineBackup", "inactiveFlag": False}


def agreement(agreement_id=12, company=None, bill_start="2026-01-01T00:00:00Z", **extra):
    company = company or ACME
    row = {"id": agreement_id, "name": "ManagedBackupService", "agreementStatus": "Active",
           "company": {"id": company["id"], "identifier": company["identifier"]}, "billStartDate": bill_start}
    row.update(extra)
    return row


def addition(addition_id=301, effective="2026-10-01T00:00:00Z", quantity=500.0, unit_cost=0.02, unit_price=0.1,
             **extra):
    row = {"id": addition_id, "product": {"id": 5, "identifier": "OnlineBackup"}, "billCustomer": "Billable",
           "effectiveDate": effective, "quantity": quantity, "unitCost": unit_cost, "unitPrice": unit_price}
    row.update(extra)
    return row


def args(**extra):
    base = {"period": "2026-10", "usage": [{"company": "AcmeCorp", "used_bytes": 500 * GIB}],
            "cost_per_gb": "0.02", "price_per_gb": "0.10"}
    base.update(extra)
    return base


def mock_reads(mocked, companies=(ACME,), agreements=None, products=(PRODUCT,)):
    mocked.get(COMPANIES, json=list(companies))
    mocked.get(AGREEMENTS, json=list(agreements if agreements is not None else [agreement()]))
    mocked.get(CATALOG, json=list(products))


def posted(mocked):
    return [body(r) for r in writes(mocked) if r.method == "POST"]


def calls(mocked, method):
    return [c.request for c in mocked.calls if c.request.method == method]


CREATED = {"product": {"id": 5}, "billCustomer": "Billable", "quantity": 500,
           "effectiveDate": "2026-10-01T00:00:00Z", "unitCost": 0.02, "unitPrice": 0.1}


# ---------------------------------------------------------------- the documented interface


def test_documented_options_match_the_argument_spec():
    doc = yaml.safe_load(billing.DOCUMENTATION)["options"]
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


def test_average_cost_creates_one_addition_with_exact_requests(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    result, failed = run_module(billing, args())
    assert not failed, result
    assert result["changed"] is True
    assert posted(mocked) == [CREATED]
    [line] = result["results"]
    assert line["action"] == "created" and line["addition_id"] == 301 and line["agreement_id"] == 12
    assert (line["quantity"], line["unit"], line["unit_cost"], line["unit_price"]) == ("500.00", "GiB", "0.0200",
                                                                                       "0.1000")
    assert (line["total_cost"], line["total_price"]) == ("10.00", "50.00")
    assert line["effective_date"] == "2026-10-01" and line["period"] == "2026-10"
    assert result["totals"]["total_price"] == "50.00" and result["totals"]["quantity"] == {"GiB": "500.00"}
    assert result["totals"]["counts"]["created"] == 1
    # the reads: few fields, conditions built by the builder
    assert conditions(mocked, COMPANIES) == ['identifier in ("AcmeCorp")']
    assert conditions(mocked, AGREEMENTS) == ['(company/identifier in ("AcmeCorp")) and (name = "ManagedBackupService")']
    assert conditions(mocked, CATALOG) == ['identifier in ("OnlineBackup")']
    assert conditions(mocked, ADDITIONS) == [
        '(product/id = 5) and ((cancelledDate = null) or (effectiveDate >= [2026-10-01T00:00:00Z]))']
    query = parse_qs(urlsplit(calls(mocked, "GET")[0].url).query)
    assert query["fields"] == ["id,identifier,name"]
    assert result["requests"]["connectwise"] == {"GET": 4, "POST": 1}


def test_total_mode_sends_quantity_one_and_totals(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(quantity=1.0, unit_cost=10.0, unit_price=50.0), status=201)
    result, failed = run_module(billing, args(cost_mode="total"))
    assert not failed, result
    assert posted(mocked) == [dict(CREATED, quantity=1, unitCost=10, unitPrice=50)]
    line = result["results"][0]
    assert (line["quantity"], line["used_quantity"], line["total_price"]) == ("1.00", "500.00", "50.00")
    assert result["totals"]["quantity"] == {"GiB": "500.00"}


def test_quantity_only_sends_no_cost_or_price(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    result, failed = run_module(billing, args(cost_mode="quantity_only", cost_per_gb=None, price_per_gb=None))
    assert not failed, result
    [sent] = posted(mocked)
    assert sent == {"product": {"id": 5}, "billCustomer": "Billable", "quantity": 500,
                    "effectiveDate": "2026-10-01T00:00:00Z"}
    line = result["results"][0]
    assert line["unit_cost"] is None and line["total_price"] is None
    assert result["totals"]["total_price"] == "0.00"


def test_invoice_description_product_sends_none_and_template_is_rendered(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    template = "Backup {company_name} ({company}) {month} [{period}]: {quantity} {unit} x {unit_price} = {total_price}"
    result, failed = run_module(billing, args(invoice_description=template))
    assert not failed, result
    [sent] = posted(mocked)
    assert sent["invoiceDescription"] == ("Backup Acme Corporation (AcmeCorp) October 2026 [2026-10]: "
                                          "500.00 GiB x 0.1000 = 50.00")
    assert "invoiceDescription" not in CREATED  # the default (product) test above sends none


def test_unknown_placeholder_fails_before_any_request(mocked):
    result, failed = run_module(billing, args(invoice_description="Backup {customer}"))
    assert failed and "{customer}" in result["msg"]
    assert len(mocked.calls) == 0


def test_bad_company_override_fails_before_any_request(mocked):
    result, failed = run_module(billing, args(companies={"AcmeCorp": {"price": "1"}}))
    assert failed and "companies[AcmeCorp]" in result["msg"] and "price" in result["msg"]
    result, failed = run_module(billing, args(companies={"AcmeCorp": {"cost_mode": "quantity_only",
                                                                      "invoice_description": "{total_price}"}}))
    assert failed and "quantity_only" in result["msg"]
    assert len(mocked.calls) == 0


# ---------------------------------------------------------------- effective date policy


def test_clamp_moves_the_effective_date_to_the_billing_start_with_a_warning(mocked, warned):
    mock_reads(mocked, agreements=[agreement(bill_start="2026-10-15T00:00:00Z")])
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(effective="2026-10-15T00:00:00Z"), status=201)
    result, failed = run_module(billing, args())
    assert not failed, result
    assert posted(mocked) == [dict(CREATED, effectiveDate="2026-10-15T00:00:00Z")]
    line = result["results"][0]
    assert line["effective_date"] == "2026-10-15"
    assert any("billing start date 2026-10-15" in w for w in line["warnings"])
    assert any(w.startswith("AcmeCorp: effective date moved") for w in warned())


def test_fail_policy_fails_the_company_without_a_write(mocked):
    mock_reads(mocked, agreements=[agreement(bill_start="2026-10-15T00:00:00Z")])
    result, failed = run_module(billing, args(effective_date_policy="fail"))
    assert failed
    assert "AcmeCorp" in result["msg"] and "cannot precede the Billing Start Date" in result["msg"]
    assert result["results"][0]["action"] == "failed"
    assert result["totals"]["counts"]["failed"] == 1
    assert writes(mocked) == []


def test_agreement_not_billing_yet_is_skipped(mocked):
    mock_reads(mocked, agreements=[agreement(bill_start="2026-11-05T00:00:00Z")])
    result, failed = run_module(billing, args())
    assert not failed, result
    line = result["results"][0]
    assert line["action"] == "skipped" and line["reason"].startswith("agreement not billing yet")
    assert writes(mocked) == [] and conditions(mocked, ADDITIONS) == []


# ---------------------------------------------------------------- previous additions


def test_previous_open_addition_is_cancelled_the_day_before(mocked):
    mock_reads(mocked)
    september = addition(280, effective="2026-09-01T00:00:00Z", quantity=400.0)
    older_cancelled = addition(250, effective="2026-08-01T00:00:00Z", cancelledDate="2026-08-31T00:00:00Z")
    mocked.get(ADDITIONS, json=[older_cancelled, september])
    mocked.post(ADDITIONS, json=addition(), status=201)
    mocked.patch(ADDITIONS + "/280", json=dict(september, cancelledDate="2026-09-30T00:00:00Z"))
    result, failed = run_module(billing, args())
    assert not failed, result
    post, patch = writes(mocked)
    assert post.method == "POST" and patch.method == "PATCH" and patch.url == ADDITIONS + "/280"
    assert body(patch) == [{"op": "replace", "path": "cancelledDate", "value": "2026-09-30T00:00:00Z"}]
    assert result["results"][0]["cancelled"] == [280]
    assert result["totals"]["counts"]["cancelled"] == 1


def test_keep_leaves_previous_additions(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[addition(280, effective="2026-09-01T00:00:00Z")])
    mocked.post(ADDITIONS, json=addition(), status=201)
    result, failed = run_module(billing, args(previous_additions="keep"))
    assert not failed, result
    assert [r.method for r in writes(mocked)] == ["POST"]
    assert result["results"][0]["cancelled"] == []


# ---------------------------------------------------------------- idempotency


def test_rerun_changes_nothing(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[addition(280, effective="2026-09-01T00:00:00Z",
                                         cancelledDate="2026-09-30T00:00:00Z"), addition()])
    result, failed = run_module(billing, args())
    assert not failed, result
    assert result["changed"] is False and writes(mocked) == []
    line = result["results"][0]
    assert line["action"] == "unchanged" and line["addition_id"] == 301


def test_changed_usage_patches_only_the_quantity(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[addition()])
    mocked.patch(ADDITIONS + "/301", json=addition(quantity=512.5))
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 512 * GIB + GIB // 2}]),
                                diff=True)
    assert not failed, result
    [patch] = writes(mocked)
    assert patch.method == "PATCH" and patch.url == ADDITIONS + "/301"
    assert body(patch) == [{"op": "replace", "path": "quantity", "value": 512.5}]
    line = result["results"][0]
    assert line["action"] == "updated" and line["changed_fields"] == ["quantity"]
    [diff] = result["diff"]
    assert diff["before"] == {"quantity": 500.0} and diff["after"] == {"quantity": 512.5}


def test_hand_made_duplicate_fails_that_company_only(mocked):
    mock_reads(mocked, companies=(ACME, GLOBEX), agreements=[agreement(), agreement(13, GLOBEX)])
    mocked.get(ADDITIONS, json=[addition(301), addition(302, effective="2026-10-15T00:00:00Z")])
    mocked.get(ADDITIONS_G, json=[])
    mocked.post(ADDITIONS_G, json=addition(303), status=201)
    usage = [{"company": "AcmeCorp", "used_bytes": 500 * GIB}, {"company": "Globex", "used_bytes": 100 * GIB}]
    result, failed = run_module(billing, args(usage=usage))
    assert failed
    assert result["msg"].startswith("billing of 2026-10 failed for 1 company: AcmeCorp: ")
    assert "301, 302" in result["msg"]
    by_company = {r["company"]: r for r in result["results"]}
    assert by_company["AcmeCorp"]["action"] == "failed"
    assert by_company["Globex"]["action"] == "created"
    assert [r.url for r in writes(mocked)] == [ADDITIONS_G]
    assert result["changed"] is True
    assert result["totals"]["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 1,
                                          "cancelled": 0}


def test_unknown_company_and_missing_or_cancelled_agreement_are_skipped(mocked, warned):
    hooli = {"id": 3, "identifier": "Hooli", "name": "Hooli"}
    mock_reads(mocked, companies=(ACME, GLOBEX, hooli),
               agreements=[agreement(), agreement(14, hooli, agreementStatus="Cancelled")])
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    usage = [{"company": name, "used_bytes": 10 * GIB} for name in ("AcmeCorp", "Globex", "Hooli", "Nobody Inc")]
    result, failed = run_module(billing, args(usage=usage))
    assert not failed, result
    by_company = {r["company"]: r for r in result["results"]}
    assert by_company["Nobody Inc"]["action"] == "skipped"
    assert "no ConnectWise company with identifier 'Nobody Inc'" in by_company["Nobody Inc"]["reason"]
    assert by_company["Globex"]["reason"] == "no agreement named 'ManagedBackupService' for company Globex"
    assert "cancelled" in by_company["Hooli"]["reason"]
    assert by_company["AcmeCorp"]["action"] == "created"
    assert [r.url for r in writes(mocked)] == [ADDITIONS]
    assert any("3 companies with usage were not billed" in w and "Nobody Inc" in w for w in warned())
    # The unknown company is never asked for agreements.
    assert conditions(mocked, AGREEMENTS) == [
        '(company/identifier in ("AcmeCorp","Globex","Hooli")) and (name = "ManagedBackupService")']


def test_company_map_aggregates_and_overrides_apply(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    usage = [{"company": "Acme Corp (EU)", "used_bytes": 300 * GIB, "destination": "Wasabi"},
             {"company": "Acme Corp (US)", "used_bytes": 200 * GIB, "destination": "Amazon S3"}]
    result, failed = run_module(billing, args(
        usage=usage, company_map={"Acme Corp (EU)": "AcmeCorp", "Acme Corp (US)": "AcmeCorp"},
        cost_per_gb_by_destination={"Wasabi": "0.01", "Amazon S3": 0.04},
        companies={"acmecorp": {"price_per_gb": "0.2"}, "Globex": {"skip": True}}))
    assert not failed, result
    # cost = 300 x 0.01 + 200 x 0.04 = 11.00 over 500 GiB -> 0.022; price 0.2 per GiB
    assert posted(mocked) == [dict(CREATED, unitCost=0.022, unitPrice=0.2)]
    line = result["results"][0]
    assert line["usage_company"] == "Acme Corp (EU), Acme Corp (US)"
    assert line["destinations"] == ["Amazon S3", "Wasabi"]
    assert (line["total_cost"], line["total_price"]) == ("11.00", "100.00")


def test_company_map_matches_usage_names_by_company_identity(mocked):
    # Issue 9.6: a usage name differing from the map key only in case or spacing is the same company.
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    usage = [{"company": "acme corp  (eu)", "used_bytes": 300 * GIB},
             {"company": "ACME CORP (US)", "used_bytes": 200 * GIB}]
    result, failed = run_module(billing, args(
        usage=usage, company_map={"Acme Corp (EU)": "AcmeCorp", "Acme Corp (US)": "AcmeCorp"}))
    assert not failed, result
    assert [r["company"] for r in result["results"]] == ["AcmeCorp"]
    assert result["results"][0]["action"] == "created"
    assert len(posted(mocked)) == 1


def test_zero_usage_is_skipped_unless_send_zero(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(quantity=0.0), status=201)
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 0}]))
    assert not failed, result
    assert result["results"][0]["action"] == "skipped" and result["results"][0]["reason"] == "no usage"
    assert writes(mocked) == [] and result["changed"] is False
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 0}], send_zero=True))
    assert not failed, result
    assert posted(mocked) == [dict(CREATED, quantity=0, unitCost=0, unitPrice=0)]


def test_missing_rate_fails_that_company(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    result, failed = run_module(billing, args(price_per_gb=None))
    assert failed and "no price per GiB" in result["msg"]
    assert writes(mocked) == []


def test_two_active_agreements_fail_the_company(mocked):
    mock_reads(mocked, agreements=[agreement(12), agreement(15)])
    result, failed = run_module(billing, args())
    assert failed and "2 active agreements" in result["msg"] and "12, 15" in result["msg"]
    assert writes(mocked) == []


# ---------------------------------------------------------------- check mode


def test_check_mode_writes_nothing_and_reports_the_same_actions(mocked):
    mock_reads(mocked, companies=(ACME, GLOBEX), agreements=[agreement(), agreement(13, GLOBEX)])
    mocked.get(ADDITIONS, json=[addition(280, effective="2026-09-01T00:00:00Z")])
    mocked.get(ADDITIONS_G, json=[addition(310, quantity=90.0)])
    usage = [{"company": "AcmeCorp", "used_bytes": 500 * GIB}, {"company": "Globex", "used_bytes": 100 * GIB}]
    result, failed = run_module(billing, args(usage=usage), check_mode=True, diff=True)
    assert not failed, result
    assert writes(mocked) == []
    assert result["changed"] is True
    by_company = {r["company"]: r for r in result["results"]}
    assert by_company["AcmeCorp"]["action"] == "created" and by_company["AcmeCorp"]["addition_id"] is None
    assert by_company["AcmeCorp"]["cancelled"] == [280]
    assert by_company["Globex"]["action"] == "updated" and by_company["Globex"]["changed_fields"] == ["quantity"]
    new, cancel, update = result["diff"]
    assert new["before"] == {} and new["after"] == CREATED
    assert cancel["before"] == {"cancelledDate": None} and cancel["after"] == {"cancelledDate": "2026-09-30T00:00:00Z"}
    assert update["after"] == {"quantity": 100}


def test_no_diff_without_diff_mode(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    result, failed = run_module(billing, args(), check_mode=True)
    assert not failed and "diff" not in result


# ---------------------------------------------------------------- unknown outcome of a POST


def test_lost_answer_then_found_on_reread_means_no_second_post(mocked, warned):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.get(ADDITIONS, json=[addition()])
    mocked.post(ADDITIONS, body=requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected"))
    result, failed = run_module(billing, args())
    assert not failed, result
    assert len(calls(mocked, "POST")) == 1
    assert len(conditions(mocked, ADDITIONS)) == 2
    line = result["results"][0]
    assert line["action"] == "created" and line["addition_id"] == 301
    assert any("found on re-reading and adopted" in w for w in line["warnings"])


def test_unknown_outcome_and_not_found_posts_exactly_once_more(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, status=503, json={"code": "ConnectWiseApi", "message": "unavailable"})
    mocked.post(ADDITIONS, json=addition(), status=201)
    result, failed = run_module(billing, args())
    assert not failed, result
    assert posted(mocked) == [CREATED, CREATED]
    assert len(conditions(mocked, ADDITIONS)) == 2  # the first read and one re-read
    assert result["results"][0]["addition_id"] == 301


def test_unknown_outcome_every_time_fails_after_bounded_attempts(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, status=503, json={"code": "ConnectWiseApi", "message": "unavailable"})
    result, failed = run_module(billing, args())
    assert failed and "outcome unknown after 3 attempts" in result["msg"]
    assert len(calls(mocked, "POST")) == 3


# ---------------------------------------------------------------- auto-billing window


def test_auto_in_the_window_bills_the_previous_month(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    result, failed = run_module(billing, args(period="auto", today="2026-11-02"))
    assert not failed, result
    assert result["period"] == "2026-10"
    assert posted(mocked)[0]["effectiveDate"] == "2026-10-01T00:00:00Z"


def test_auto_outside_the_window_makes_no_request(mocked):
    mbs = {"url": MBS, "username": "api-user", "password": MBS_PASSWORD}
    result, failed = run_module(billing, {"period": "auto", "today": "2026-11-10", "mbs": mbs})
    assert not failed, result
    assert result["changed"] is False
    assert result["skipped_reason"] == "outside the auto-billing window"
    assert result["results"] == [] and result["period"] is None
    assert len(mocked.calls) == 0


def test_default_period_is_the_previous_month_in_the_time_zone(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    result, failed = run_module(billing, args(period=None, today="2027-01-01"))
    assert not failed, result
    assert result["period"] == "2026-12"


def test_bad_period_and_time_zone_fail_before_requests(mocked):
    for extra, text in (({"period": "2026-13"}, "2026-13"), ({"timezone": "Mars/Base"}, "Mars/Base"),
                        ({"today": "11/02/2026"}, "today"), ({"parallel": 40}, "parallel")):
        result, failed = run_module(billing, args(**extra))
        assert failed and text in result["msg"], (extra, result)
    assert len(mocked.calls) == 0


def test_future_and_current_periods_fail_before_requests(mocked):
    for period, text in (("2027-06", "after the current month 2026-11"),
                         ("2026-12", "after the current month 2026-11"),
                         ("2026-11", "allow_current_period")):
        result, failed = run_module(billing, args(period=period, today="2026-11-10"))
        assert failed and period in result["msg"] and text in result["msg"], (period, result)
    assert len(mocked.calls) == 0


def test_current_period_on_request_is_marked(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(effective="2026-11-01T00:00:00Z"))
    result, failed = run_module(billing, args(period="2026-11", today="2026-11-10", allow_current_period=True))
    assert not failed, result
    assert result["current_period"] is True and result["period"] == "2026-11"
    assert json.loads(writes(mocked)[0].body)["effectiveDate"].startswith("2026-11-01")


def test_parallel_outside_range_and_bad_price_name_the_value(mocked):
    for extra, text in (({"parallel": 0}, "parallel 0"), ({"parallel": 17}, "parallel 17"),
                        ({"parallel": -1}, "parallel -1"), ({"price_per_gb": "abc"}, "'abc'"),
                        ({"cost_per_gb": "1,5"}, "'1,5'"),
                        ({"usage": [{"company": "AcmeCorp", "used_bytes": GIB, "price": "abc"}]}, "abc")):
        result, failed = run_module(billing, args(**extra))
        assert failed and text in result["msg"], (extra, result)
    assert len(mocked.calls) == 0


def test_misspelled_agreement_name_fails_before_any_write_naming_the_existing_names(mocked):
    mocked.get(COMPANIES, json=[ACME])
    mocked.get(AGREEMENTS, json=[])  # the read filtered on the misspelled name
    mocked.get(AGREEMENTS, json=[{"id": 12, "name": "ManagedBackupService"}, {"id": 14, "name": "Support"}])
    result, failed = run_module(billing, args(agreement="ManagedBackupServce"))
    assert failed
    assert "'ManagedBackupServce'" in result["msg"] and "'ManagedBackupService'" in result["msg"]
    assert "'Support'" in result["msg"] and "nothing was written" in result["msg"]
    assert writes(mocked) == []


def test_one_company_without_the_agreement_is_only_skipped(mocked):
    mock_reads(mocked, companies=(ACME, GLOBEX), agreements=[agreement()])
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition())
    result, failed = run_module(billing, args(usage=[{"company": "AcmeCorp", "used_bytes": 500 * GIB},
                                                     {"company": "Globex", "used_bytes": GIB}]))
    assert not failed, result
    assert sorted(r["action"] for r in result["results"]) == ["created", "skipped"]


def test_agreement_expired_since_the_period_is_billed_and_cancelled_inside_warns(mocked, warned):
    mock_reads(mocked, companies=(ACME,), agreements=[
        agreement(agreementStatus="Cancelled", cancelledFlag=True, dateCancelled="2026-10-20T00:00:00Z",
                  endDate="2026-10-31T00:00:00Z")])
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    result, failed = run_module(billing, args(today="2026-12-02"))
    assert not failed, result
    assert result["results"][0]["action"] == "created"
    assert any("2026-10-20" in w for w in warned())


# ---------------------------------------------------------------- MSP360 source and secrets


def mock_mbs(mocked):
    mocked.post(MBS + "/api/Provider/Login", json={"access_token": MBS_TOKEN, "token_type": "bearer",
                                                   "expires_in": 1209599},
                match=[matchers.json_params_matcher({"UserName": "api-user", "Password": MBS_PASSWORD})])
    mocked.get(MBS + "/api/Companies", json=[{"Id": "c1", "Name": "AcmeCorp"}, {"Id": "c2", "Name": "Globex"}])
    statistics = [
        {"UserId": "u1", "Email": "a@acme", "CompanyName": "AcmeCorp", "AverageSpace": 300 * GIB, "TotalCost": 30.0},
        {"UserId": "u2", "Email": "b@acme", "CompanyName": "AcmeCorp", "AverageSpace": 200 * GIB, "TotalCost": 20.0},
        {"UserId": "u3", "Email": "g@globex", "CompanyName": "Globex", "AverageSpace": 100 * GIB, "TotalCost": 7.5},
        {"UserId": "u9", "Email": "lost@example.test", "CompanyName": "", "AverageSpace": 0, "TotalCost": 0},
    ]
    # One read for the month: only Date, every company's rows.
    mocked.put(MBS + "/api/Billing", json={"StatisticBilling": statistics},
               match=[matchers.json_params_matcher({"Date": "2026-10-01"})])


def test_msp360_source_end_to_end(mocked, warned):
    mock_mbs(mocked)
    mock_reads(mocked, companies=(ACME, GLOBEX), agreements=[agreement(), agreement(13, GLOBEX)])
    mocked.get(ADDITIONS, json=[])
    mocked.get(ADDITIONS_G, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    mocked.post(ADDITIONS_G, json=addition(303), status=201)
    result, failed = run_module(billing, {"period": "2026-10", "cost_per_gb": "0.02",
                                          "mbs": {"url": MBS, "username": "api-user", "password": MBS_PASSWORD}})
    assert not failed, result
    sent = {r.url: body(r) for r in writes(mocked) if r.url.startswith(API)}
    # TotalCost is the price total: 50.00 over 500 GiB, 7.50 over 100 GiB
    assert sent[ADDITIONS] == dict(CREATED, unitPrice=0.1)
    assert sent[ADDITIONS_G] == dict(CREATED, quantity=100, unitPrice=0.075)
    mbs_auth = [c.request.headers.get("Authorization") for c in mocked.calls if c.request.url.startswith(MBS + "/api/B")]
    assert mbs_auth == ["Bearer " + MBS_TOKEN]
    assert result["requests"]["mbs"] == {"POST": 1, "GET": 1, "PUT": 1}
    assert any("lost@example.test" in w and "no MSP360 company" in w for w in warned())
    text = json.dumps(result)
    for secret in (MBS_PASSWORD, MBS_TOKEN, CONNECTION["private_key"]):
        assert secret not in text


def test_msp360_login_refused_fails_without_the_password(mocked):
    mocked.post(MBS + "/api/Provider/Login", status=401, json={"Message": "bad " + MBS_PASSWORD})
    result, failed = run_module(billing, {"period": "2026-10",
                                          "mbs": {"url": MBS, "username": "api-user", "password": MBS_PASSWORD}})
    assert failed and "MSP360 login refused" in result["msg"]
    assert MBS_PASSWORD not in json.dumps(result)
    assert not [c for c in mocked.calls if c.request.url.startswith(API)]


def test_secrets_absent_from_failure_messages_and_results(mocked):
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    echo = {"code": "InvalidObject", "message": "refused for key " + CONNECTION["private_key"]}
    mocked.post(ADDITIONS, status=400, json=echo)
    result, failed = run_module(billing, args())
    assert failed and "AcmeCorp" in result["msg"] and "refused for key" in result["msg"]
    assert CONNECTION["private_key"] not in json.dumps(result)


@pytest.mark.parametrize("usage_file", ["usage.csv", "usage.json"])
def test_usage_file_source(mocked, tmp_path, usage_file):
    path = tmp_path / usage_file
    if usage_file.endswith(".csv"):
        path.write_text("company,used_bytes\nAcmeCorp,%d\n" % (500 * GIB))
    else:
        path.write_text(json.dumps([{"company": "AcmeCorp", "used_bytes": 500 * GIB}]))
    mock_reads(mocked)
    mocked.get(ADDITIONS, json=[])
    mocked.post(ADDITIONS, json=addition(), status=201)
    params = args(usage_file=str(path))
    del params["usage"]
    result, failed = run_module(billing, params)
    assert not failed, result
    assert posted(mocked) == [CREATED]


def test_one_usage_source_exactly(mocked):
    result, failed = run_module(billing, {"period": "2026-10"})
    assert failed and "one of the following is required" in result["msg"]
    result, failed = run_module(billing, args(usage_file="/nonexistent.csv"))
    assert failed and "mutually exclusive" in result["msg"]
    assert len(mocked.calls) == 0


def test_destination_rates_with_the_msp360_source_are_refused_not_ignored(mocked):
    result, failed = run_module(billing, {"period": "2026-10", "cost_per_gb": "0.01",
                                          "cost_per_gb_by_destination": {"Amazon S3": "0.5"},
                                          "mbs": {"url": MBS, "username": "api-user", "password": MBS_PASSWORD}})
    assert failed
    assert "cost_per_gb_by_destination" in result["msg"] and "destination" in result["msg"]
    assert len(mocked.calls) == 0
