"""The billing role at scale, one call against batches: ``python -m tests.bench.batches_bench``.

    python -m tests.bench.batches_bench [--companies 300] [--batch-size 50] [--latency-ms 20]
                                        [--before-collections PATH]

For each way of billing (``billing_batch_size`` 0, then ``--batch-size``), on a fresh sandbox of
``--companies`` companies with agreements and MSP360 usage (``generate_fixture``), the role
(``playbooks/billing.yml``) runs three times: the ``--check --diff`` preview (its output lines are
counted), the real run and a second real run (wall time, requests by API and method, MSP360 billing
reads, writes). Both ways must leave one addition per company and write nothing the second time.
``--before-collections`` also counts the preview's lines with another copy of the collection (an
``ANSIBLE_COLLECTIONS_PATH`` holding ``ansible_collections/mbs/connectwise``), such as the code before
a change. A Markdown table on stdout; exit status 1 when a run fails or bills wrongly.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from tests.bench.billing_bench import (
    BENCH_TODAY,
    BIN,
    COST_PER_GB,
    LINK,
    ROOT,
    RUN_TIMEOUT,
    BenchFailure,
    check_one_addition_each,
    control,
    environment,
    markdown_table,
    methods,
    reset,
    traffic,
)
from tests.sandbox import Sandbox, generate_fixture

PLAYBOOK = os.path.join(ROOT, "playbooks", "billing.yml")
PERIOD = "2026-10"


def role_run(sandbox, tmpdir, label, batch_size, check=False, collections=None):
    """One ansible-playbook run of the billing role: (wall seconds, stdout lines)."""
    env = environment(sandbox, os.path.join(tmpdir, label + ".jsonl"))
    env["MBS_API_URL"] = sandbox.mbs_url
    if collections:
        env["ANSIBLE_COLLECTIONS_PATH"] = collections
    extra = {"billing_period": PERIOD, "connectwise_today": BENCH_TODAY, "billing_cost_per_gb": COST_PER_GB,
             "billing_report_dir": os.path.join(tmpdir, "reports-" + label), "billing_batch_size": batch_size}
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", PLAYBOOK, "-e", json.dumps(extra)]
    if check:
        cmd += ["--check", "--diff"]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise BenchFailure("%s: ansible-playbook exited %d\n%s" % (label, proc.returncode, proc.stdout[-3000:]))
    return wall, proc.stdout.splitlines()


def one_way(sandbox, args, tmpdir, batch_size):
    """Preview, real run and second run of one way of billing, on a fresh fixture."""
    label = "batches of %d" % batch_size if batch_size else "one call"
    reset(sandbox, args.companies, args.latency_ms)
    control(sandbox, "DELETE", "journal")
    preview_s, lines = role_run(sandbox, tmpdir, label + " preview", batch_size, check=True)
    preview = traffic(sandbox)
    if preview["writes"]:
        raise BenchFailure("%s: the preview wrote %d times" % (label, preview["writes"]))
    first_s, first_lines = role_run(sandbox, tmpdir, label + " first", batch_size)
    first = traffic(sandbox)
    check_one_addition_each(sandbox, PERIOD, args.companies, label + " first run")
    second_s, _lines = role_run(sandbox, tmpdir, label + " second", batch_size)
    second = traffic(sandbox)
    check_one_addition_each(sandbox, PERIOD, args.companies, label + " second run")
    if second["writes"]:
        raise BenchFailure("%s: the second run wrote %d times" % (label, second["writes"]))
    progress = [line for line in first_lines if '"msg": "Billing %s: batch ' % PERIOD in line]
    return {"label": label, "preview_s": preview_s, "preview_lines": len(lines), "preview": preview,
            "first_s": first_s, "first": first, "second_s": second_s, "second": second,
            "progress_lines": len(progress), "first_output_lines": len(first_lines)}


def before_lines(sandbox, args, tmpdir, collections):
    reset(sandbox, args.companies, args.latency_ms)
    _wall, lines = role_run(sandbox, tmpdir, "before preview", 0, check=True, collections=collections)
    return len(lines)


def report(args, ways, before):
    rows = []
    for way in ways:
        for run in ("first", "second"):
            numbers = way[run]
            rows.append([way["label"], run, "%.1f" % way[run + "_s"], numbers["requests"],
                         methods(numbers["connectwise"]), methods(numbers["mbs"]), numbers["writes"]])
    out = ["## The billing role at %d companies, %g ms latency per request" % (args.companies, args.latency_ms), "",
           markdown_table(["way", "run", "wall s", "requests", "ConnectWise", "MSP360", "writes"], rows), "",
           markdown_table(["way", "--check --diff output lines", "preview wall s", "progress lines (first run)"],
                          [[way["label"], way["preview_lines"], "%.1f" % way["preview_s"], way["progress_lines"]]
                           for way in ways])]
    if before is not None:
        out += ["", "--check --diff output lines with %s: %d" % (args.before_collections, before)]
    return "\n".join(out)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.batches_bench", description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--companies", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--before-collections", metavar="PATH",
                        help="also count the preview's lines with the collection found in PATH")
    args = parser.parse_args(argv)
    if args.companies < 1 or args.batch_size < 1 or args.latency_ms < 0:
        parser.error("--companies and --batch-size must be >= 1, --latency-ms >= 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    if not os.path.isdir(LINK):
        print("the collection link %s is missing: run `make collection-link`" % LINK, file=sys.stderr)
        return 2
    sandbox = Sandbox(fixture=generate_fixture(companies=args.companies, with_agreements=True, with_usage=True),
                      port=0, latency_ms=args.latency_ms, today=BENCH_TODAY).start()
    try:
        with tempfile.TemporaryDirectory(prefix="batches-bench-") as tmpdir:
            ways = [one_way(sandbox, args, tmpdir, 0), one_way(sandbox, args, tmpdir, args.batch_size)]
            before = before_lines(sandbox, args, tmpdir, args.before_collections) if args.before_collections else None
    except BenchFailure as exc:
        print("BENCH FAILED: %s" % exc, file=sys.stderr)
        return 1
    finally:
        sandbox.stop()
    print(report(args, ways, before))
    return 0


if __name__ == "__main__":
    sys.exit(main())
