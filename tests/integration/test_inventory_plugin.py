"""The inventory plugin mbs.connectwise.companies, run by ansible-inventory against the sandbox."""

import json
import os
import subprocess

import pytest

from .conftest import BIN, CREDENTIALS, ROOT, writes

DEMO_COMPANIES = {
    "AcmeCorp": "Acme Corporation",
    "Globex": "Globex Corporation",
    "Initech": "Initech",
    "Umbrella": "Umbrella Corporation",
    "StarkWayne": 'Stark & Wayne "Industries"',
    "Hooli": "Hooli",
    "NoContactLtd": "No Contact Ltd",
}
SETUP = "playbooks/setup.yml"
AGREEMENT = "ManagedBackupService"
SOURCE = """\
plugin: mbs.connectwise.companies
keyed_groups:
  - key: connectwise_company_status
    prefix: status
groups:
  connectwise_customers: true
  springfield_s: connectwise_company_identifier_initial == 'S'
compose:
  connectwise_company_identifier_initial: inventory_hostname[0]
  ansible_connection: "'local'"
"""


def plain(value):
    """ansible-inventory's JSON without ansible-core 2.19's ``__ansible_unsafe`` wrappers."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Inventory:
    def __init__(self, ansible, tmp_path):
        self.ansible = ansible
        self.tmp_path = tmp_path

    def source(self, text, name="sandbox.connectwise.yml"):
        path = os.path.join(str(self.tmp_path), name)
        with open(path, "w") as handle:
            handle.write(text)
        return path

    def run(self, source, *args, env=None, tool="ansible-inventory"):
        cmd = [os.path.join(BIN, tool)]
        if source:
            cmd += ["-i", source]
        proc = subprocess.run(cmd + list(args), cwd=str(self.tmp_path),
                              env=self.ansible.env(env), capture_output=True, text=True,
                              timeout=300, check=False)
        return proc

    def list(self, text, env=None):
        proc = self.run(self.source(text), "--list", env=env)
        assert proc.returncode == 0, proc.stderr
        assert CREDENTIALS["CW_PRIVATE_KEY"] not in proc.stdout + proc.stderr
        return plain(json.loads(proc.stdout))


@pytest.fixture
def inventory(ansible, tmp_path):
    return Inventory(ansible, tmp_path)


def hosts_of(data, group):
    return set(data.get(group, {}).get("hosts", []))


def test_list_has_every_company_with_its_vars_and_groups(inventory, sandbox):
    data = inventory.list(SOURCE)
    hostvars = data["_meta"]["hostvars"]
    assert set(hostvars) == set(DEMO_COMPANIES)
    for identifier, name in DEMO_COMPANIES.items():
        host = hostvars[identifier]
        assert host["connectwise_company_name"] == name
        assert host["connectwise_company_status"] == "Active"
        assert isinstance(host["connectwise_company_id"], int)
        assert isinstance(host["connectwise_company_types"], list)
        assert host["connectwise_company_identifier_initial"] == identifier[0]
        assert host["ansible_connection"] == "local"
        assert "connectwise_agreements" not in host
    ids = {row["identifier"]: row["id"] for row in sandbox.store.rows("companies")}
    assert {h: v["connectwise_company_id"] for h, v in hostvars.items()} == ids
    assert hosts_of(data, "status_Active") == set(DEMO_COMPANIES)
    assert hosts_of(data, "connectwise_customers") == set(DEMO_COMPANIES)
    assert hosts_of(data, "springfield_s") == {"StarkWayne"}
    assert writes(sandbox) == []


def test_graph_shows_the_groups(inventory, sandbox):
    proc = inventory.run(inventory.source(SOURCE), "--graph")
    assert proc.returncode == 0, proc.stderr
    assert "@status_Active:" in proc.stdout and "@connectwise_customers:" in proc.stdout
    for identifier in DEMO_COMPANIES:
        assert "|--%s" % identifier in proc.stdout
    assert CREDENTIALS["CW_PRIVATE_KEY"] not in proc.stdout + proc.stderr


def test_conditions_and_statuses_narrow_the_list(inventory, sandbox):
    data = inventory.list(SOURCE + 'conditions: identifier in ("Globex", "Hooli") or name contains "Stark"\n')
    assert set(data["_meta"]["hostvars"]) == {"Globex", "Hooli", "StarkWayne"}
    data = inventory.list(SOURCE + "statuses: [Inactive]\n")
    assert data["_meta"]["hostvars"] == {}
    data = inventory.list(SOURCE + "statuses: [Active]\nconditions: identifier = \"Initech\"\n")
    assert set(data["_meta"]["hostvars"]) == {"Initech"}


def test_company_types_filter_by_type_name(inventory, sandbox):
    # The demo companies carry no types: a type filter leaves no host.
    data = inventory.list(SOURCE + "company_types: [Client]\n")
    assert data["_meta"]["hostvars"] == {}


def test_agreements_after_setup(inventory, ansible, sandbox):
    run = ansible.playbook(SETUP)
    assert run.rc == 0, run
    before = len(sandbox.journal())
    data = inventory.list(SOURCE + "agreement_name: %s\n" % AGREEMENT)
    hostvars = data["_meta"]["hostvars"]
    assert hostvars["NoContactLtd"]["connectwise_agreements"] == []
    for identifier in set(DEMO_COMPANIES) - {"NoContactLtd"}:
        agreements = hostvars[identifier]["connectwise_agreements"]
        assert len(agreements) == 1, (identifier, agreements)
        agreement = agreements[0]
        assert set(agreement) == {"id", "name", "type", "agreementStatus", "startDate", "endDate",
                                  "billStartDate"}
        assert agreement["name"] == AGREEMENT and agreement["type"] == AGREEMENT
    assert hostvars["Initech"]["connectwise_agreements"][0]["billStartDate"].startswith("2026-10-15")
    # One paged read for the agreements of all companies, not one per company.
    reads = [e for e in sandbox.journal()[before:] if e["api"] == "connectwise"
             and e["path"].endswith("finance/agreements")]
    assert len(reads) == 1, reads


def test_customers_are_the_companies_holding_an_agreement_of_the_type(inventory, ansible, sandbox):
    """After the setup, the companies with a ManagedBackupService agreement; NoContactLtd has none."""
    assert ansible.playbook(SETUP).rc == 0
    before = len(sandbox.journal())
    text = SOURCE + "agreement_type: %s\nrequire_agreement: true\n" % AGREEMENT
    data = inventory.list(text)
    assert set(data["_meta"]["hostvars"]) == set(DEMO_COMPANIES) - {"NoContactLtd"}
    assert hosts_of(data, "connectwise_customers") == set(DEMO_COMPANIES) - {"NoContactLtd"}
    reads = [e["path"].split("apis/3.0/")[-1] for e in sandbox.journal()[before:] if e["api"] == "connectwise"]
    # The codebase, then one paged read of the companies and one of the agreements (one page each here).
    assert reads == ["login/companyinfo/sandbox", "company/companies", "finance/agreements"], reads
    # Another type: nobody holds one.
    other = inventory.list(SOURCE + "agreement_type: Other\nrequire_agreement: true\n")
    assert other["_meta"]["hostvars"] == {}


def test_hosts_named_by_company_name_carry_their_identifier(inventory, sandbox):
    data = inventory.list(SOURCE.replace("inventory_hostname[0]", "cw_company_identifier[0]")
                          + "hostname: name\nhost_var_prefix: cw_\n")
    hostvars = data["_meta"]["hostvars"]
    assert set(hostvars) == set(DEMO_COMPANIES.values())
    stark = hostvars['Stark & Wayne "Industries"']
    assert stark["identifier"] == "StarkWayne" and stark["cw_company_identifier"] == "StarkWayne"
    assert not set(stark) & {"connectwise_company_id", "connectwise_company_name", "connectwise_company_status"}
    assert stark["connectwise_company_identifier_initial"] == "S"     # compose sees the prefixed variables


def test_a_misspelt_option_fails_the_source(inventory, sandbox):
    proc = inventory.run(inventory.source(SOURCE + "require_agrement: true\n"), "--list",
                         env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    assert proc.returncode != 0
    assert "unknown option require_agrement (did you mean require_agreement?)" in proc.stderr, proc.stderr
    assert sandbox.journal() == []


def test_connection_options_from_the_file_and_errors_without_the_key(inventory, sandbox):
    env = {"CW_SITE": "", "CW_PRIVATE_KEY": ""}
    text = SOURCE + "site: %s\nprivate_key: %s\n" % (sandbox.url, CREDENTIALS["CW_PRIVATE_KEY"])
    proc = inventory.run(inventory.source(text), "--list", env=env)
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)["_meta"]["hostvars"]) == set(DEMO_COMPANIES)

    # A wrong key: the error names the request and its status, never the key.
    text = SOURCE + "private_key: wrong-private-key\n"
    proc = inventory.run(inventory.source(text), "--list", "-vvv",
                         env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    assert proc.returncode != 0
    assert "wrong-private-key" not in proc.stdout + proc.stderr
    assert "returned HTTP 401" in proc.stderr, proc.stderr
    assert "mbs.connectwise.companies" in proc.stderr

    proc = inventory.run(inventory.source(SOURCE + 'conditions: identifier = "Globex\n'), "--list")
    assert CREDENTIALS["CW_PRIVATE_KEY"] not in proc.stdout + proc.stderr
    assert "returned HTTP 400" in proc.stderr, proc.stderr


def test_cache_serves_the_second_read(inventory, sandbox, tmp_path):
    # cache_timeout 0 (never expires): jsonfile ages its files by the file system's mtime, which a faked
    # clock (faketime, for the far-date runs) does not move, so a finite timeout would test the clock.
    cache_dir = os.path.join(str(tmp_path), "cache")
    text = SOURCE + ("cache: true\ncache_plugin: ansible.builtin.jsonfile\n"
                     "cache_connection: %s\ncache_timeout: 0\n" % cache_dir)
    first = inventory.list(text)
    reads = len(sandbox.journal())
    assert reads > 0
    second = inventory.list(text)
    assert second == first
    assert len(sandbox.journal()) == reads
    cached = "".join(open(os.path.join(cache_dir, f)).read() for f in os.listdir(cache_dir))
    assert "AcmeCorp" in cached and CREDENTIALS["CW_PRIVATE_KEY"] not in cached
    # --flush-cache reads ConnectWise again.
    proc = inventory.run(inventory.source(text), "--list", "--flush-cache")
    assert proc.returncode == 0, proc.stderr
    assert len(sandbox.journal()) > reads


def test_other_files_are_not_this_plugins(inventory, sandbox):
    proc = inventory.run(inventory.source(SOURCE, name="companies.yml"), "--list")
    assert "AcmeCorp" not in proc.stdout


def test_ansible_doc_renders(inventory):
    proc = inventory.run(None, "-t", "inventory", "mbs.connectwise.companies", tool="ansible-doc")
    assert proc.returncode == 0, proc.stderr
    for option in ("conditions", "company_types", "statuses", "agreement_name", "agreement_type",
                   "require_agreement", "custom_field_conditions", "child_conditions", "hostname",
                   "host_var_prefix", "CW_INVENTORY_AGREEMENT_TYPE", "AWX or Automation Platform", "keyed_groups",
                   "compose", "cache_plugin", "CW_PRIVATE_KEY", "site"):
        assert option in proc.stdout, option


def test_the_example_source_lists_the_sandbox(inventory, sandbox):
    with open(os.path.join(ROOT, "playbooks", "connectwise-inventory", "sandbox.connectwise.yml")) as handle:
        data = inventory.list(handle.read())
    assert hosts_of(data, "connectwise_customers") == set(DEMO_COMPANIES)
    assert hosts_of(data, "without_backup_agreement") == set(DEMO_COMPANIES)
