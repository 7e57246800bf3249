"""Setup runs that overlap (two AWX nodes, a schedule and a manual run) end with one object per key.

Each run is a real ``ansible-playbook playbooks/setup.yml`` process; they start together against
one sandbox, whose latency widens the window between a run's find and its create.
"""

import json
import os
import subprocess

import pytest
import yaml

from .conftest import BIN, ROOT

SETUP = "playbooks/setup.yml"
with open(os.path.join(ROOT, "playbooks", "inventory", "group_vars", "all", "products.yml")) as _products:
    _INVENTORY = yaml.safe_load(_products)
CATALOG_ITEMS = sorted(["OnlineBackup"] + [item["identifier"] for key in ("connectwise_license_products",
                                                                          "connectwise_storage_products")
                                           for item in _INVENTORY[key]])
KEYS = {
    "managementItSolutions": lambda r: r["name"].lower(),
    "agreementTypes": lambda r: r["name"].lower(),
    "catalog": lambda r: r["identifier"].lower(),
    "agreements": lambda r: (r["company"]["id"], r["name"].lower()),
    "managedDevicesIntegrations": lambda r: r["name"].lower(),
    "crossReferences": lambda r: (r["managedDevicesIntegration"]["id"], r["vendorType"].lower(),
                                  r["vendorLevel"].lower()),
}


def run_together(ansible, count):
    env = ansible.env()
    extra = json.dumps({"connectwise_today": ansible.sandbox.today.isoformat()})
    procs = [subprocess.Popen([os.path.join(BIN, "ansible-playbook"), SETUP, "-e", extra], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _process in range(count)]
    return [(proc.wait(timeout=600), proc.stdout.read()) for proc in procs]


def duplicates(sandbox):
    found = {}
    for table, key in KEYS.items():
        seen = {}
        for row in sandbox.store.rows(table):
            seen.setdefault(key(row), []).append(row["id"])
        found.update({(table, k): ids for k, ids in seen.items() if len(ids) > 1})
    return found


@pytest.mark.parametrize("runs", [2, 3])
def test_overlapping_setup_runs_end_with_one_object_per_key(ansible, sandbox, runs):
    for attempt in range(3):
        sandbox.reset()
        sandbox.set_latency(15)
        try:
            finished = run_together(ansible, runs)
        finally:
            sandbox.set_latency(0)
        for rc, output in finished:
            assert rc == 0, "attempt %d:\n%s" % (attempt, output[-4000:])
        assert duplicates(sandbox) == {}, "attempt %d" % attempt
        assert len(sandbox.store.rows("agreements")) == 6
        for table in ("managementItSolutions", "agreementTypes", "managedDevicesIntegrations", "crossReferences"):
            assert len(sandbox.store.rows(table)) == 1, table
        # the product, and the example inventory's license and storage-account products: one each
        assert sorted(r["identifier"] for r in sandbox.store.rows("catalog")) == CATALOG_ITEMS
    # and a later run finds exactly that: nothing to change
    again = ansible.playbook(SETUP, products=True)
    assert again.rc == 0 and again.recap["changed"] == 0, again
