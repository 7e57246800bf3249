"""Every job template of awx/configure_awx.yml, run as AWX runs a job (tests/integration/awx_controller.py)
against the sandbox, with the variables configure_awx.yml ships and only the credential filled in."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from dateutil.rrule import rrulestr

from .awx_controller import Controller, execution_environment, recorder_collection
from .conftest import writes

SETUP = "mbs.connectwise setup"
MONTH = "mbs.connectwise billing (month)"
AUTO = "mbs.connectwise billing (auto)"
SCHEDULE = "mbs.connectwise billing monthly"
CUSTOMERS = ["AcmeCorp", "Globex", "Hooli", "Initech", "StarkWayne", "Umbrella"]
TOTALS_NOTIFICATION = {"notification_type": "email", "notification_configuration": {
    "host": "smtp.msp.example", "port": 25, "sender": "awx@msp.example", "recipients": ["finance@msp.example"],
    "username": "", "password": "", "use_tls": False, "use_ssl": False}}


@pytest.fixture(scope="module")
def awx_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("awx")
    return {"ee": execution_environment(str(base / "ee")), "recorder": recorder_collection(str(base / "recorder"))}


@pytest.fixture
def awx(awx_base, sandbox, tmp_path):
    workdir = tmp_path / "awx"
    workdir.mkdir()
    return Controller(sandbox, str(workdir), awx_base["ee"], awx_base["recorder"])


def additions(sandbox):
    return sandbox.store.rows("additions")


def billed_companies(sandbox):
    agreements = {a["id"]: a["company"]["identifier"] for a in sandbox.store.rows("agreements")}
    return sorted(agreements[a["agreementId"]] for a in additions(sandbox) if not a.get("cancelledDate"))


def price_of(sandbox):
    """What ConnectWise will invoice: each addition's quantity x unit price to the cent (half up), added up."""
    return sum((Decimal(str(a["quantity"])) * Decimal(str(a["unitPrice"]))).quantize(Decimal("0.01"), ROUND_HALF_UP)
               for a in additions(sandbox) if not a.get("cancelledDate"))


def assert_awx_variables_reached_the_job(job):
    assert job.extra_vars["awx_job_id"] == job.extra_vars["tower_job_id"]
    assert "awx_job_template_name" in job.extra_vars and "awx_inventory_name" in job.extra_vars


def test_setup_and_billing_of_a_month_with_the_survey(awx, sandbox):
    objects = awx.configure(awx_success_notification=TOTALS_NOTIFICATION)
    credential = objects.credential_environment("mbs.connectwise ConnectWise and MSP360")
    assert credential["CW_SITE"] == sandbox.url and credential["CW_PRIVATE_KEY"] == "sandbox-private"
    assert "sandbox-private" not in str(objects.one("inventory")["variables"])   # keys only in the credential

    preview = awx.launch(SETUP, job_type="check")
    assert preview.rc == 0, preview
    assert writes(sandbox) == [] and preview.changed() > 0
    setup = awx.launch(SETUP)
    assert setup.rc == 0, setup
    assert sorted(a["company"]["identifier"] for a in sandbox.store.rows("agreements")) == CUSTOMERS
    again = awx.launch(SETUP)
    assert again.rc == 0 and again.changed() == 0, again
    assert_awx_variables_reached_the_job(again)

    sandbox.clear_journal()
    month_preview = awx.launch(MONTH, job_type="check", survey={"billing_period": "2026-10"})
    assert month_preview.rc == 0, month_preview
    assert writes(sandbox) == []
    predicted = month_preview.billing
    assert predicted["preview"] is True and predicted["summary"][0].startswith("PREVIEW, nothing written")

    month = awx.launch(MONTH, survey={"billing_period": "2026-10"})
    assert month.rc == 0, month
    totals = month.billing
    assert (totals["period"], totals["preview"], totals["failed"]) == ("2026-10", False, False)
    # The five customers with usage in October (Hooli has none), each billed once; the preview said so.
    billed = billed_companies(sandbox)
    assert billed == ["AcmeCorp", "Globex", "Initech", "StarkWayne", "Umbrella"]
    assert totals["counts"]["created"] == totals["billed_companies"] == len(billed) == predicted["counts"]["created"]
    assert Decimal(totals["billed_price"]) == price_of(sandbox) > 0
    assert totals["billed_price"] == predicted["billed_price"]
    # MSP360's usage reconciles to the byte (checked when the module gives its usage total), money to the cent.
    assert totals["reconciliation"]["bytes_balance"] is not False and totals["reconciliation"]["money_balance"] is True
    assert totals["usage_bytes"] == sum(group["used_bytes"] for group in totals["reconciliation"]["groups"]) > 0
    assert "Unmapped Co" in totals["needs_look"]          # MSP360 usage with no ConnectWise company
    assert all(any(line.startswith(name + ": ") for line in totals["summary"]) for name in totals["needs_look"])
    assert totals["summary"][0].startswith("billing 2026-10 - ")
    assert totals["report_html"].startswith(month.private_data_dir)      # written inside the job's home

    rerun = awx.launch(MONTH, survey={"billing_period": "2026-10"})
    assert rerun.rc == 0 and rerun.changed() == 0, rerun
    assert rerun.billing["billed_price"] == totals["billed_price"]
    assert rerun.billing["billed_companies"] == len(billed) and billed_companies(sandbox) == billed

    # The success notification finance gets, rendered by AWX from the job's artifacts.
    message, body = awx.notification("mbs.connectwise billing totals", month, MONTH)
    assert message == "Billing 2026-10: USD %s billed to 5 companies" % totals["billed_price"], message
    assert totals["summary"][0] in body and "Unmapped Co: skipped" in body and totals["report_csv"] in body
    template = objects.one("job_template", MONTH)
    assert template["notification_templates_success"] == ["mbs.connectwise billing totals"]


def test_billing_auto_on_the_days_of_the_schedule_and_outside_them(awx, sandbox):
    objects = awx.configure()
    schedule = objects.one("schedule", SCHEDULE)
    assert schedule["unified_job_template"] == AUTO
    # AWX takes any rule of the schedule that has an INTERVAL and one BYMONTHDAY each (older AWX refuse more).
    rules = schedule["rrule"].split()[1:]
    assert all("INTERVAL=" in rule and "," not in rule.split("BYMONTHDAY=")[-1] for rule in rules), rules
    occurrences = list(rrulestr(schedule["rrule"].replace(" RRULE", "\nRRULE"), forceset=True).between(
        datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc),
        datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)))
    assert [o.day for o in occurrences] == [1, 2, 3] and all(o.hour == 6 for o in occurrences)

    sandbox.reset(today="2026-12-01")
    assert awx.launch(SETUP, today="2026-12-01").rc == 0
    first, second = [awx.launch(AUTO, today=o.date().isoformat(), schedule=schedule) for o in occurrences[:2]]
    assert first.rc == 0, first
    assert first.extra_vars["billing_auto"] is True and first.extra_vars["awx_schedule_name"] == SCHEDULE
    billed = billed_companies(sandbox)
    assert first.billing["period"] == "2026-11" and first.billing["counts"]["created"] == len(billed) >= 5
    assert set(billed) <= set(CUSTOMERS)
    assert second.rc == 0 and second.changed() == 0, second
    assert second.billing["counts"]["unchanged"] == len(billed) and billed_companies(sandbox) == billed
    assert second.billing["billed_price"] == first.billing["billed_price"]

    sandbox.clear_journal()
    outside = awx.launch(AUTO, today="2026-12-10")
    assert outside.rc == 0, outside
    assert sandbox.journal() == []                       # not a single request outside the window
    assert outside.billing["period"] is None and "outside the auto-billing window" in outside.billing["skipped_reason"]
    assert "outside the auto-billing window" in outside.stdout


def test_customers_from_the_inventory_plugin(awx, sandbox):
    """The customers are the companies with a ManagedBackupService agreement, read by the inventory source."""
    awx.configure()
    assert awx.launch(SETUP).rc == 0
    sandbox.clear_journal()

    objects = awx.configure(awx_customers_source=True, awx_customers=[])
    source = objects.one("inventory_source")
    assert (source["source"], source["source_path"], source["overwrite_vars"]) == (
        "scm", "awx/customers.connectwise.yml", False)
    assert objects.one("inventory")["variables"]["connectwise_customers_group"] == "connectwise_customers"
    # MSP360 knows Initech as "Initech Inc.": the administrator says so in the host's variables in AWX.
    month = awx.launch(MONTH, survey={"billing_period": "2026-10"},
                       host_variables={"Initech": {"mbs_company": "Initech Inc.", "bill_start_date": "2026-10-15"}})
    assert month.rc == 0, month
    # The same five customers as with the list (NoContactLtd holds no agreement; Hooli has no usage).
    assert billed_companies(sandbox) == ["AcmeCorp", "Globex", "Initech", "StarkWayne", "Umbrella"]
    assert month.billing["counts"]["created"] == 5 and "Unmapped Co" in month.billing["needs_look"]
    assert Decimal(month.billing["billed_price"]) == price_of(sandbox)
    assert_awx_variables_reached_the_job(month)
