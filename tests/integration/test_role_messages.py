"""The roles' failures name the roles' variables, never the modules' options.

The inventory is the one ``awx/configure_awx.yml`` ships (its ``awx_inventory_variables`` and
``awx_customers``), as an AWX inventory holds it; each run changes one variable the way an
administrator might get it wrong, through a real ``ansible-playbook`` run of ``playbooks/billing.yml``.
"""

import csv
import os
import re

import pytest
import yaml

from ansible_collections.mbs.connectwise.plugins.modules import billing as billing_module

from .conftest import ROOT, writes

BILLING = os.path.join(ROOT, "playbooks", "billing.yml")
SETUP = os.path.join(ROOT, "playbooks", "setup.yml")
# Module options a role user never writes as such (the role's names are billing_<option>, or a key of a
# customer's record followed by "of the customer"); plain words such as period or unit are left out.
OPTIONS = sorted([name for name in billing_module.ARGUMENT_SPEC if "_" in name]
                 + ["mbs." + name for name in billing_module.ARGUMENT_SPEC["mbs"]["options"]], key=len, reverse=True)


class PlaybookLoader(yaml.SafeLoader):
    """A playbook's YAML: Ansible's ``!unsafe`` text is text."""


PlaybookLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def shipped():
    """The inventory variables and customers awx/configure_awx.yml gives AWX."""
    with open(os.path.join(ROOT, "awx", "configure_awx.yml")) as handle:
        play = yaml.load(handle, Loader=PlaybookLoader)[0]
    variables = dict(play["vars"]["awx_inventory_variables"], connectwise_customers=play["vars"]["awx_customers"])
    return variables


def module_options_in(text):
    found = []
    for option in OPTIONS:
        for match in re.finditer(r"(?<![\w.])%s(?![\w])" % re.escape(option), text):
            if not text[match.end():].startswith(" of the customer"):
                found.append(option)
    return found


@pytest.fixture
def awx_inventory(ansible, sandbox, tmp_path):
    """An inventory holding the shipped variables, and ConnectWise set up with them."""
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {
        "hosts": {"localhost": {"ansible_connection": "local",
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
        "vars": shipped()}}))
    assert ansible.playbook(SETUP, inventory=str(path)).rc == 0
    sandbox.clear_journal()
    return str(path)


def billing(ansible, inventory, tmp_path, **variables):
    return ansible.playbook(BILLING, inventory=inventory,
                            extra_vars=dict({"billing_period": "2026-10"}, billing_report_dir=str(tmp_path / "reports"),
                                            **variables))


def failure(run):
    """What the user reads: the failed task's message (the role's one short line)."""
    failed = [r for r in run.results if r["status"] == "failed"]
    assert failed, run
    return failed[-1]["result"]["msg"]


@pytest.mark.parametrize("variables, expected", [
    # MSP360's TotalCost is the MSP's cost in the shipped variables: without a price per GiB nothing can bill.
    (dict(billing_price_per_gb=None),
     "billing_cost_mode average_cost with the MSP360 source needs billing_price_per_gb: MSP360's TotalCost is taken "
     "as the cost (billing_mbs.total_cost_is: cost), so no company would have a price. Set billing_price_per_gb, set "
     "billing_mbs.total_cost_is, or use billing_cost_mode: quantity_only. Nothing was sent."),
    (dict(billing_price_per_gb="five cents"), "billing_price_per_gb: 'five cents' is not a number"),
    (dict(billing_max_growth="1"), "billing_max_growth: '1' must be more than 1"),
    (dict(billing_mass_change_share="150%"), "billing_mass_change_share: '150%' is more than the whole"),
    (dict(billing_invoice_description="Backup {month} {custmer}"),
     "billing_invoice_description: invoice description template: unknown placeholder"),
    (dict(billing_period="2026-13"), "billing_period '2026-13' is not a valid month"),
    (dict(billing_period="2026-11"), "billing_period 2026-11 is the current month, which has not ended (today is "
                                     "2026-11-10): bill 2026-10"),
    (dict(billing_timezone="Europe/Atlantis"), "billing_timezone 'Europe/Atlantis' is not an IANA time zone name"),
    (dict(billing_cost_per_gb_by_destination={"Wasabi": "0.004"}),
     "billing_cost_per_gb_by_destination needs usage records with a destination"),
    # The shipped invoice text shows {unit_price}: a customer billed by quantity only has none.
    (dict(connectwise_customers=["AcmeCorp", {"identifier": "Globex", "cost_mode": "quantity_only"}]),
     "invoice_description of the customer Globex: invoice description template uses"),
])
def test_a_misconfigured_inventory_fails_naming_the_roles_variables(ansible, sandbox, awx_inventory, tmp_path,
                                                                    variables, expected):
    run = billing(ansible, awx_inventory, tmp_path, **variables)
    assert run.rc != 0, run
    message = failure(run)
    assert message.startswith("Billing ") and expected in message, message
    assert module_options_in(message) == [], message
    assert "fatal:" in run.stdout and module_options_in(run.stdout.split("fatal:", 1)[1]) == [], run
    assert writes(sandbox) == []


def test_the_shipped_variables_bill_and_a_companys_failure_names_the_roles_variables(ansible, awx_inventory, tmp_path):
    run = billing(ansible, awx_inventory, tmp_path, billing_effective_date_policy="fail")
    assert run.rc != 0, run
    assert [line for line in run.stdout.splitlines() if line.strip().strip('"').startswith("Initech: failed")], run
    with open(tmp_path / "reports" / "billing-2026-10.csv", newline="") as handle:
        reasons = dict((row["company"], row["reason"]) for row in csv.DictReader(handle))
    assert "Use billing_effective_date_policy=clamp to start the addition" in reasons["Initech"], reasons
    assert module_options_in(reasons["Initech"]) == [], reasons
    again = billing(ansible, awx_inventory, tmp_path)
    assert again.rc == 0, again


def test_a_site_the_modules_refuse_is_named_as_the_roles_variable(ansible, sandbox, tmp_path):
    for playbook in (SETUP, BILLING):
        run = ansible.playbook(playbook, extra_vars={"connectwise_site": "http://cw.example.com",
                                                     "connectwise_integrator_login": "MBSIntegrator",
                                                     "billing_report_dir": str(tmp_path / "reports")})
        assert run.rc != 0, run
        message = failure(run)
        assert message.startswith("connectwise_site http://cw.example.com uses plain HTTP"), message
        assert "set connectwise_allow_http (or CW_ALLOW_HTTP=true): true" in message
        assert sandbox.journal() == []


def test_the_setup_roles_preflight_names_the_product_variable(ansible, sandbox):
    run = ansible.playbook(SETUP, extra_vars={"connectwise_integrator_login": "MBSIntegrator",
                                              "connectwise_product": {"description": "Online backup " * 6}})
    assert run.rc != 0, run
    message = failure(run)
    assert message.startswith("connectwise_product.description: 'Online backup Online") and "at most 60" in message
    assert writes(sandbox) == []
