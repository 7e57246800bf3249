"""docs/CONTRIBUTING.md says what is true: its worked example runs as written, and the files it names exist.

The example's two code blocks (the declaration for ``module_utils/resources.py`` and the module file)
are taken from the page and run against the sandbox in-process, as a new module would be.
"""

import os
import re
import types

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils import resources

from .sandbox_client import run_module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRIBUTING = os.path.join(ROOT, "docs", "CONTRIBUTING.md")
TYPES = "company/configurations/types"
INTEGRATIONS = "company/managedDevicesIntegrations"


def page():
    with open(CONTRIBUTING) as handle:
        return handle.read()


def python_block(containing):
    [block] = [b for b in re.findall(r"```python\n(.*?)```", page(), re.S) if containing in b]
    return block


@pytest.fixture
def configuration_type(monkeypatch):
    """The example's module: its declaration run in resources.py's namespace, then its module file."""
    namespace = dict(vars(resources))
    exec(compile(python_block("CONFIGURATION_TYPE = Resource("), CONTRIBUTING, "exec"), namespace)
    monkeypatch.setattr(resources, "CONFIGURATION_TYPE_MODULE", namespace["CONFIGURATION_TYPE_MODULE"], raising=False)
    module = types.ModuleType("configuration_type")
    exec(compile(python_block("def main():"), CONTRIBUTING, "exec"), vars(module))
    return module


def test_the_worked_example_runs_as_written(connectwise, configuration_type):
    created, failed = run_module(configuration_type, {"name": "Backup Stats"})
    assert not failed, created["msg"]
    assert created["changed"] and created["operation"] == "create"
    [row] = connectwise.rows(TYPES)
    assert row["name"] == "Backup Stats"

    connectwise.log.clear()
    again, failed = run_module(configuration_type, {"name": "Backup Stats"})
    assert not failed and not again["changed"] and connectwise.writes() == []

    predicted, failed = run_module(configuration_type, {"name": "Backup Stats", "inactive": True}, check_mode=True)
    assert not failed and predicted["changed"] and connectwise.writes() == []
    updated, failed = run_module(configuration_type, {"name": "Backup Stats", "inactive": True})
    assert not failed and updated["changed"]
    assert connectwise.sent[-1] == ("PATCH", "%s/%d" % (TYPES, row["id"]),
                                    [{"op": "replace", "path": "inactiveFlag", "value": True}])
    assert connectwise.rows(TYPES)[0]["inactiveFlag"] is True

    too_long, failed = run_module(configuration_type, {"name": "x" * 51})
    assert failed and "ConnectWise allows at most 50" in too_long["msg"]


def test_the_worked_examples_referrer_refuses_a_delete_in_use(connectwise, configuration_type):
    kind = connectwise.add(TYPES, name="Backup Stats")
    connectwise.add(INTEGRATIONS, id=6, name="MBS", solution="MBS", loginBy="Global", defaultBillingLevel="Summary")
    cross = connectwise.add(INTEGRATIONS + "/6/crossReferences", vendorType="SpaceUsage", vendorLevel="HighLevel",
                            configurationType={"id": kind["id"]})
    connectwise.log.clear()
    refused, failed = run_module(configuration_type, {"name": "Backup Stats", "state": "absent"})
    assert failed and "1 cross-reference(s) (ids %d)" % cross["id"] in refused["msg"]
    assert connectwise.writes() == []


def test_the_worked_example_deletes_a_type_nothing_uses(connectwise, configuration_type):
    kind = connectwise.add(TYPES, name="Backup Stats")
    deleted, failed = run_module(configuration_type, {"name": "Backup Stats", "state": "absent"})
    assert not failed, deleted["msg"]
    assert deleted["changed"] and ("DELETE", "%s/%d" % (TYPES, kind["id"]), {}) in connectwise.writes()
    gone, failed = run_module(configuration_type, {"name": "Backup Stats", "state": "absent"})
    assert not failed and not gone["changed"]


def named_paths(text):
    """The repository paths the page names in backticks: files by their ending, folders by a final /."""
    found = set()
    for token in re.findall(r"`([^`\s]+)`", text):
        if token.startswith("../") or "{" in token or "<" in token or "*" in token:
            continue
        if re.search(r"\.(py|md|yml|j2)$", token) or token.endswith("/"):
            found.add(token)
    return sorted(found)


def resolves(path):
    bases = (ROOT, os.path.join(ROOT, "plugins"), os.path.join(ROOT, "plugins", "module_utils"),
             os.path.join(ROOT, "plugins", "modules"), os.path.join(ROOT, "tests"),
             os.path.join(ROOT, "tests", "unit"), os.path.join(ROOT, "tests", "unit", "module_utils"),
             os.path.join(ROOT, "tests", "unit", "modules"), os.path.join(ROOT, "tests", "unit", "plugins", "filter"),
             os.path.join(ROOT, "tests", "sandbox"), os.path.join(ROOT, "plugins", "module_utils", "billing"),
             os.path.join(ROOT, "plugins", "module_utils", "ensure"))
    return any(os.path.exists(os.path.join(base, path)) for base in bases)


# The domain documents of ../shared/, outside the repository.
SHARED = {"connectwise-api.md", "billing-rules.md", "mbs-api.md"}
# Named on the page as what does not exist yet: the module of the worked example, the mirrored test place.
NOT_YET = {"plugins/modules/configuration_type.py", "tests/unit/module_utils/billing/test_plan.py",
           "tests/unit/<folder under plugins>/test_<file>.py"}


def test_every_file_the_page_names_exists():
    missing = [path for path in named_paths(page()) if path not in NOT_YET | SHARED and not resolves(path)]
    assert missing == []
