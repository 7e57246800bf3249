"""Setup benchmark: ``playbooks/setup.yml`` for many companies against the sandbox (not part of make test).

    .venv/bin/python -m tests.bench.setup_bench [--companies 500] [--latency-ms 0] [--json PATH]

1. A sandbox in this process (free port) reset to ``generate_fixture(companies=N,
   with_agreements=False)``: N companies with default contacts, the reference data, no setup.
2. ``playbooks/setup.yml`` with those N companies as ``connectwise_customers`` (an extra-vars
   file), twice. For each run: wall time, requests by method (the sandbox's stats), writes.
3. Exit status 1 when a run fails, the first run does not create N agreements, or the second
   run writes anything.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from tests.sandbox import COMPANY_ID, PRIVATE_KEY, PUBLIC_KEY, Sandbox, generate_fixture

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.path.join(ROOT, ".collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "mbs", "connectwise")
PLAYBOOK = os.path.join(ROOT, "playbooks", "setup.yml")


def ensure_link():
    if not os.path.islink(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(ROOT, LINK)


def run_setup(sandbox, vars_file):
    """One ``ansible-playbook playbooks/setup.yml``: (rc, seconds, stats, stdout tail)."""
    before = sandbox.stats()
    env = dict(os.environ, CW_SITE=sandbox.url, CW_COMPANY_ID=COMPANY_ID, CW_PUBLIC_KEY=PUBLIC_KEY,
               CW_PRIVATE_KEY=PRIVATE_KEY, CW_CLIENT_ID="setup-bench", ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    started = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), PLAYBOOK, "-e", "@" + vars_file],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
    seconds = time.monotonic() - started
    after = sandbox.stats()
    return proc.returncode, seconds, difference(before, after), proc.stdout[-3000:] + proc.stderr[-2000:]


def difference(before, after):
    """The requests of one run from two stats snapshots (the counters only grow)."""
    methods = set(before.get("by_method", {})) | set(after.get("by_method", {}))
    by_method = {m: after.get("by_method", {}).get(m, 0) - before.get("by_method", {}).get(m, 0) for m in methods}
    return {"requests": after.get("requests", 0) - before.get("requests", 0),
            "writes": after.get("writes", 0) - before.get("writes", 0),
            "by_method": {m: n for m, n in sorted(by_method.items()) if n}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    ensure_link()

    fixture = generate_fixture(companies=args.companies, with_agreements=False, with_usage=False)
    identifiers = [row["identifier"] for row in fixture["connectwise"]["companies"]]
    sandbox = Sandbox(fixture=fixture, port=0, latency_ms=args.latency_ms).start()
    failures = []
    report = {"companies": args.companies, "latency_ms": args.latency_ms, "runs": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            vars_file = os.path.join(tmp, "companies.json")
            with open(vars_file, "w") as handle:
                json.dump({"connectwise_customers": identifiers, "connectwise_integrator_login": "MBSIntegrator"},
                          handle)
            for label in ("first run", "second run (no change)"):
                rc, seconds, stats, tail = run_setup(sandbox, vars_file)
                report["runs"].append(dict(label=label, rc=rc, seconds=round(seconds, 2), **stats))
                if rc != 0:
                    failures.append("%s failed (rc %d):\n%s" % (label, rc, tail))
                    break
        agreements = sandbox.store.rows("agreements")
        report["agreements"] = len(agreements)
        if len(agreements) != args.companies:
            failures.append("%d agreements after the runs, expected %d" % (len(agreements), args.companies))
        if len(report["runs"]) == 2 and report["runs"][1]["writes"]:
            failures.append("the second run wrote %d times" % report["runs"][1]["writes"])
    finally:
        sandbox.stop()

    print("## Setup benchmark: %d companies, %s ms latency\n" % (args.companies, args.latency_ms))
    print("| run | rc | wall time (s) | requests | by method | writes |")
    print("|---|---|---|---|---|---|")
    for run in report["runs"]:
        print("| %s | %d | %.2f | %d | %s | %d |" % (
            run["label"], run["rc"], run["seconds"], run["requests"],
            ", ".join("%s %d" % item for item in run["by_method"].items()), run["writes"]))
    print("\nagreements in the sandbox: %d" % report.get("agreements", 0))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)
    for failure in failures:
        print("FAILED: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
