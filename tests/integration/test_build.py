"""The collection artifact users install: complete, and free of caches and local state."""

import os
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GALAXY = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
FORBIDDEN = ("__pycache__", ".pyc", ".venv/", ".collections/", ".pytest_cache", "tests/output/",
             "reports/", ".git/", ".cache/", "build/", ".vault", "vault-password")


def test_build_contains_the_collection_and_nothing_local(tmp_path):
    # Leave something behind that a careless build would pick up.
    os.makedirs(os.path.join(ROOT, "reports"), exist_ok=True)
    proc = subprocess.run([GALAXY, "collection", "build", "--force", "--output-path", str(tmp_path), ROOT],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    [artifact] = list(tmp_path.glob("mbs-connectwise-*.tar.gz"))
    with tarfile.open(artifact) as tar:
        names = tar.getnames()
    for required in ("MANIFEST.json", "meta/runtime.yml", "plugins/modules/billing.py",
                     "plugins/doc_fragments/connection.py", "roles/setup/meta/argument_specs.yml",
                     "roles/billing/tasks/main.yml", "playbooks/setup.yml", "README.md"):
        assert required in names, required
    leaked = [n for n in names if any(marker in n + ("/" if not n.endswith("/") else "") for marker in FORBIDDEN)]
    assert leaked == []


def test_every_module_renders_with_ansible_doc():
    modules = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "plugins", "modules")) if f.endswith(".py"))
    doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    proc = subprocess.run([doc] + ["mbs.connectwise.%s" % m for m in modules], capture_output=True, text=True,
                          check=False, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert proc.returncode == 0, proc.stderr
    for module in modules:
        assert "mbs.connectwise.%s" % module in proc.stdout
    assert "[WARNING]" not in proc.stderr, proc.stderr
