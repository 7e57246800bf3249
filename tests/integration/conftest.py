"""Integration harness: a sandbox per session and real ``ansible-playbook`` runs against it."""

import json
import os
import re
import subprocess
import sys
import tempfile

import pytest
import yaml

from tests.sandbox import MBS_PASSWORD, MBS_USERNAME, Sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
CALLBACKS = os.path.join(ROOT, "tests", "integration", "callback_plugins")
CREDENTIALS = {
    "CW_COMPANY_ID": "sandbox",
    "CW_PUBLIC_KEY": "sandbox-public",
    "CW_PRIVATE_KEY": "sandbox-private",
    "CW_CLIENT_ID": "integration-tests",
}
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# The example inventory bills licenses and storage per storage account too
# (playbooks/inventory/group_vars/all/products.yml). The tests of the guide's setup and of storage
# billing run it without those products (storage alone, as before the file existed); a test of the
# inventory as shipped asks for them (``products=True``).
WITHOUT_PRODUCTS = {"connectwise_license_products": [], "connectwise_storage_products": [],
                    "billing_license_products": [], "billing_storage_products": []}
# The date every integration test runs at unless it sets its own: the sandbox's clock (its usage
# months follow it) and the roles' connectwise_today. Mid-month, so the previous month is 2026-10.
TODAY = "2026-11-10"


def module_play(module, task, args=None, play=None):
    """YAML of a play on localhost whose one task ``task`` runs ``mbs.connectwise.<module>`` with ``args``.

    The header every module-level test starts with: local connection, no facts, the controller's
    Python. Values are written as YAML scalars, so ``"{{ connectwise_today }}"`` stays text for
    Ansible to template and ``"0.01"`` stays a string.
    """
    return yaml.safe_dump([{
        "name": play or task,
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": [{"name": task, "mbs.connectwise." + module: dict(args or {})}],
    }], sort_keys=False, default_flow_style=False)


def billing_play(period, play="Billing", **options):
    """``module_play`` of ``mbs.connectwise.billing`` (task "Bill the period") for ``period`` at the
    run's ``connectwise_today``, usage read from the sandbox's MSP360 API unless ``usage`` is given."""
    args = {"period": period, "today": "{{ connectwise_today }}"}
    if "usage" not in options:
        args["mbs"] = {"username": MBS_USERNAME, "password": MBS_PASSWORD}
    args.update(options)
    return module_play("billing", "Bill the period", args, play=play)


class Run:
    """One finished ansible-playbook run."""

    def __init__(self, proc, results):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = results

    @property
    def recap(self):
        match = re.search(r"localhost\s+:\s+(.*)", self.stdout)
        assert match, self.stdout[-3000:]
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}

    def task(self, name):
        found = [r for r in self.results if r["task"] == name]
        assert found, "no task %r in %s" % (name, [r["task"] for r in self.results])
        return found[-1]

    def __repr__(self):
        return "<Run rc=%s>\n%s\n%s" % (self.rc, self.stdout[-4000:], self.stderr[-2000:])


class Ansible:
    def __init__(self, sandbox, tmp_path):
        self.sandbox = sandbox
        self.tmp_path = tmp_path

    def env(self, extra=None):
        env = dict(os.environ)
        env.update(CREDENTIALS)
        env.update({
            "CW_SITE": self.sandbox.url,
            "MBS_API_URL": self.sandbox.mbs_url,
            "MBS_USERNAME": "sandbox-mbs",
            "MBS_PASSWORD": "sandbox-mbs-password",
            "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".collections"),
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
            "ANSIBLE_CALLBACKS_ENABLED": "result_log",
            "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "PATH": BIN + os.pathsep + env.get("PATH", ""),
        })
        env.update(extra or {})
        return env

    def playbook(self, playbook, *args, extra_vars=None, check=False, diff=False, env=None, inventory=None,
                 products=False):
        """Run a playbook (a path, or YAML text written to a temporary file).

        ``products``: with the example inventory's license and storage-account products (WITHOUT_PRODUCTS).
        """
        if "\n" in playbook:
            path = tempfile.NamedTemporaryFile("w", suffix=".yml", dir=self.tmp_path, delete=False)
            path.write(playbook)
            path.close()
            playbook = path.name
        log = tempfile.NamedTemporaryFile("w", suffix=".jsonl", dir=self.tmp_path, delete=False).name
        cmd = [os.path.join(BIN, "ansible-playbook"), playbook]
        if inventory:
            cmd += ["-i", inventory]
        extra_vars = dict({"connectwise_today": self.sandbox.today.isoformat()}, **(extra_vars or {}))
        if not products and not inventory:
            extra_vars = dict(WITHOUT_PRODUCTS, **extra_vars)
        cmd += ["-e", json.dumps(extra_vars)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        cmd += list(args)
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env(dict(env or {}, MBS_RESULT_LOG=log)),
                              capture_output=True, text=True, timeout=600, check=False)
        with open(log) as handle:
            results = [json.loads(line) for line in handle if line.strip()]
        return Run(proc, results)


@pytest.fixture(scope="session")
def sandbox_server():
    server = Sandbox(fixture="demo", today=TODAY).start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):
    """The session's sandbox, reset to the demo fixture at TODAY with an empty journal."""
    sandbox_server.reset(today=TODAY)
    return sandbox_server


@pytest.fixture
def ansible(sandbox, tmp_path):
    return Ansible(sandbox, tmp_path)


def writes(sandbox):
    return [e for e in sandbox.journal() if e["api"] == "connectwise" and e["method"] in WRITES]
