"""Setup benchmark: ``playbooks/setup.yml`` for many companies against the sandbox (not part of make test).

    .venv/bin/python -m tests.bench.setup_bench [--companies 500] [--latency-ms 0] [--max-factor 2] [--json PATH]

1. A sandbox in this process (free port) reset to ``generate_fixture(companies=N,
   with_agreements=False)``: N companies with default contacts, the reference data, no setup.
2. ``playbooks/setup.yml`` with those N companies as ``connectwise_customers`` (an extra-vars
   file), twice. For each run: wall time, requests by method and the time the sandbox spent
   answering them (its stats), writes; and, measured just before it, the ``ansible-playbook``
   start-up: a play like setup.yml's with one no-op task (``ansible.builtin.ping``), run the same way.
3. The floor of a run is start-up + request time: what any playbook pays to start and what its
   requests cost. The table shows each run's wall time against that floor.
4. Exit status 1 when a run fails, the first run does not create N agreements, the second run
   writes anything, or the second (no-change) run takes more than ``--max-factor`` times its floor.
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
RUN_TIMEOUT = 1800
# The play header of playbooks/setup.yml with one no-op task: what every run pays before its first request.
NOOP_PLAYBOOK = """- name: Start-up only
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Nothing
      ansible.builtin.ping:
"""
LABELS = ("first run", "second run (no change)")


def ensure_link():
    if not os.path.islink(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(ROOT, LINK)


def environment(sandbox):
    return dict(os.environ, CW_SITE=sandbox.url, CW_COMPANY_ID=COMPANY_ID, CW_PUBLIC_KEY=PUBLIC_KEY,
                CW_PRIVATE_KEY=PRIVATE_KEY, CW_CLIENT_ID="setup-bench", ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
                ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                PATH=BIN + os.pathsep + os.environ.get("PATH", ""))


def run_playbook(sandbox, playbook, vars_file):
    """One ``ansible-playbook``: (rc, seconds, stats of its requests, stdout/stderr tail)."""
    before = sandbox.stats()
    started = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), playbook, "-e", "@" + vars_file],
                          cwd=ROOT, env=environment(sandbox), capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          check=False)
    seconds = time.monotonic() - started
    after = sandbox.stats()
    return proc.returncode, seconds, difference(before, after), proc.stdout[-3000:] + proc.stderr[-2000:]


def difference(before, after):
    """The requests of one run from two stats snapshots (the counters only grow)."""
    methods = set(before.get("by_method", {})) | set(after.get("by_method", {}))
    by_method = {m: after.get("by_method", {}).get(m, 0) - before.get("by_method", {}).get(m, 0) for m in methods}
    return {"requests": after.get("requests", 0) - before.get("requests", 0),
            "writes": after.get("writes", 0) - before.get("writes", 0),
            "request_s": after.get("seconds", 0.0) - before.get("seconds", 0.0),
            "by_method": {m: n for m, n in sorted(by_method.items()) if n}}


def floor_factor(run):
    """Wall time over start-up + request time."""
    return run["seconds"] / (run["startup_s"] + run["request_s"])


def bench(args):
    """Both runs against a fresh sandbox: (numbers, failures)."""
    ensure_link()
    fixture = generate_fixture(companies=args.companies, with_agreements=False, with_usage=False)
    identifiers = [row["identifier"] for row in fixture["connectwise"]["companies"]]
    sandbox = Sandbox(fixture=fixture, port=0, latency_ms=args.latency_ms).start()
    failures = []
    numbers = {"companies": args.companies, "latency_ms": args.latency_ms, "max_factor": args.max_factor, "runs": []}
    try:
        with tempfile.TemporaryDirectory(prefix="setup-bench-") as tmp:
            vars_file = os.path.join(tmp, "companies.json")
            with open(vars_file, "w") as handle:
                # The guide's setup: without the example inventory's license and storage-account products
                # (group_vars/all/products.yml), so the figures stay comparable run to run.
                json.dump({"connectwise_customers": identifiers, "connectwise_integrator_login": "MBSIntegrator",
                           "connectwise_license_products": [], "connectwise_storage_products": []}, handle)
            noop = os.path.join(tmp, "noop.yml")
            with open(noop, "w") as handle:
                handle.write(NOOP_PLAYBOOK)
            for label in LABELS:
                # Just before the run it is compared with, so both see the same machine load.
                rc, startup, _stats, tail = run_playbook(sandbox, noop, vars_file)
                if rc != 0:
                    failures.append("the start-up playbook failed (rc %d):\n%s" % (rc, tail))
                    break
                rc, seconds, stats, tail = run_playbook(sandbox, PLAYBOOK, vars_file)
                numbers["runs"].append(dict(label=label, rc=rc, seconds=seconds, startup_s=startup, **stats))
                if rc != 0:
                    failures.append("%s failed (rc %d):\n%s" % (label, rc, tail))
                    break
        agreements = sandbox.store.rows("agreements")
        numbers["agreements"] = len(agreements)
        if not failures and len(agreements) != args.companies:
            failures.append("%d agreements after the runs, expected %d" % (len(agreements), args.companies))
        if len(numbers["runs"]) == 2:
            second = numbers["runs"][1]
            if second["writes"]:
                failures.append("the second run wrote %d times" % second["writes"])
            if floor_factor(second) > args.max_factor:
                failures.append("the no-change run took %.1f s, x%.2f its floor of %.1f s (start-up %.1f s + "
                                "requests %.1f s); at most x%g is accepted"
                                % (second["seconds"], floor_factor(second), second["startup_s"] + second["request_s"],
                                   second["startup_s"], second["request_s"], args.max_factor))
    finally:
        sandbox.stop()
    return numbers, failures


def report(numbers):
    out = ["## Setup benchmark: %d companies, %g ms latency per request"
           % (numbers["companies"], numbers["latency_ms"]), ""]
    out.append("| run | rc | wall s | requests | by method | writes | request s | start-up s "
               "| floor s (start-up + requests) | wall / floor |")
    out.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for run in numbers["runs"]:
        out.append("| %s | %d | %.2f | %d | %s | %d | %.2f | %.2f | %.2f | x%.2f |" % (
            run["label"], run["rc"], run["seconds"], run["requests"],
            ", ".join("%s %d" % item for item in run["by_method"].items()) or "-", run["writes"], run["request_s"],
            run["startup_s"], run["startup_s"] + run["request_s"], floor_factor(run)))
    out.append("")
    out.append("Start-up: `ansible-playbook` of setup.yml's play with one no-op task, run the same way just before "
               "each run. Request s: the time the sandbox spent answering the run's requests. The no-change run "
               "is accepted up to x%g its floor." % numbers["max_factor"])
    out.append("")
    out.append("agreements in the sandbox: %d" % numbers.get("agreements", 0))
    return "\n".join(out)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.setup_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--max-factor", type=float, default=2.0,
                        help="largest accepted wall time of the no-change run over start-up + request time (default 2)")
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    numbers, failures = bench(args)
    print(report(numbers))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(numbers, handle, indent=2)
    for failure in failures:
        print("FAILED: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
