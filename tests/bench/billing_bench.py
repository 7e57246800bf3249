"""Billing benchmark (``make bench``): the ``mbs.connectwise.billing`` module against the sandbox.

    python -m tests.bench.billing_bench [--companies 1000] [--latency-ms 20] [--naive-companies 50]
                                        [--parallel 8] [--period 2026-10] [--rate-limit 50] [--json PATH]

1. A sandbox in this process (free port) seeded with ``generate_fixture(companies=N)``:
   agreements, the ``OnlineBackup`` product and MSP360 usage of the month are there, every
   API request is delayed by ``--latency-ms``.
2. Bulk: ``tests/bench/billing_bulk.yml`` (one ``mbs.connectwise.billing`` task, usage from
   the sandbox's MSP360 API) for every company, twice. Wall time, requests by API and method,
   writes. The second run must write nothing.
3. Lower bound: the requests the job cannot avoid (one additions read per agreement, one
   write per change, the bulk reads, the MSP360 reads) and the time they take at the
   latency with ``--parallel`` requests in flight; the bulk run is shown against both.
4. Naive: ``tests/bench/billing_naive.yml`` (``ansible.builtin.uri`` loops, one task run per
   company per step) on ``--naive-companies`` companies, against the bulk module on the same
   companies; side by side, per company.
5. Throttled: the bulk run again on a fresh fixture, the sandbox limited to ``--rate-limit``
   ConnectWise requests per second (its token bucket answering 429 with Retry-After, as
   ConnectWise's Cloudflare front). No company may fail, and the wall time must stay within
   ``throttled_bench.FACTOR`` of the answered requests at that rate (``--rate-limit 0`` skips it).
6. Products (``products_bench``): licenses (first and second run), then licenses and storage per storage
   account, besides storage: the MSP360 requests (5 with licenses) and the ConnectWise requests against
   their bound with several products (``--no-products`` skips them).
7. A Markdown summary on stdout (``--json PATH`` also writes the numbers as JSON).

Exit status 1 when a run fails, the second bulk run writes, a run does not leave exactly one
addition of the period per company, or the throttled run fails a company or falls behind the
server's pace. Nothing is left in the repository.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter

from tests.bench import products_bench, throttled_bench
from tests.sandbox import MBS_PASSWORD, MBS_USERNAME, Sandbox, generate_fixture
from tests.sandbox.fixtures import PRODUCT_ID

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.path.join(ROOT, ".collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "mbs", "connectwise")
CALLBACKS = os.path.join(ROOT, "tests", "integration", "callback_plugins")
BULK_PLAYBOOK = os.path.join(HERE, "billing_bulk.yml")
NAIVE_PLAYBOOK = os.path.join(HERE, "billing_naive.yml")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
COST_PER_GB = "0.0059"
RUN_TIMEOUT = 900
# The sandbox's date and the module's today: fixed, so the benchmark bills the same month on any day.
BENCH_TODAY = "2026-11-10"


class BenchFailure(Exception):
    """A run failed or left ConnectWise in a state the benchmark does not accept."""


# --------------------------------------------------------------------------- sandbox control API
def control(sandbox, method, path, body=None):
    """Call the sandbox's ``/_sandbox`` control API over HTTP; the decoded JSON answer (or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(sandbox.url + "/_sandbox/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        payload = answer.read()
    return json.loads(payload) if payload else None


def reset(sandbox, companies, latency_ms):
    """Regenerate the fixture with ``companies`` companies; the latency survives a reset but is set anyway."""
    answer = control(sandbox, "POST", "reset", {"generate": {"companies": companies, "with_agreements": True,
                                                             "with_usage": True}})
    control(sandbox, "POST", "latency", {"ms": latency_ms})
    return answer


def traffic(sandbox):
    """Requests since the journal was last cleared: by API and method, writes; clears the journal."""
    entries = control(sandbox, "GET", "journal")["requests"]
    control(sandbox, "DELETE", "journal")
    by_api = {}
    for entry in entries:
        by_api.setdefault(entry["api"], Counter())[entry["method"]] += 1
    cw = by_api.get("connectwise", Counter())
    mbs = by_api.get("mbs", Counter())
    errors = Counter("%s %s" % (e["status"], e["path"].split("?")[0]) for e in entries if e["status"] >= 400)
    throttled = sum(1 for e in entries if e["api"] == "connectwise" and e["status"] == 429)
    return {
        "requests": len(entries),
        "connectwise": dict(sorted(cw.items())),
        "mbs": dict(sorted(mbs.items())),
        "connectwise_requests": sum(cw.values()),
        "mbs_requests": sum(mbs.values()),
        # ConnectWise writes; MSP360's PUT /api/Billing is a read (and its login POST is no change).
        "writes": sum(n for method, n in cw.items() if method in WRITES),
        "errors": dict(errors.most_common(5)),
        # ConnectWise answers 429 (the rate limit's refusals), and the requests it answered otherwise.
        "throttled": throttled,
        "connectwise_answered": sum(cw.values()) - throttled,
    }


def additions_by_agreement(sandbox, period):
    """{agreementId: number of additions of the product with an effective date in ``period``}."""
    counts = Counter()
    for row in sandbox.store.rows("additions"):
        product = (row.get("product") or {}).get("identifier")
        if product == PRODUCT_ID and str(row.get("effectiveDate", "")).startswith(period):
            counts[row["agreementId"]] += 1
    return counts


ADDITION_FIELDS = ("quantity", "unitCost", "unitPrice", "effectiveDate", "billCustomer", "invoiceDescription")


def additions_snapshot(sandbox):
    """{agreementId: (the addition's billed fields)}: what a run left, to compare two ways of billing."""
    return {row["agreementId"]: tuple(row.get(name) for name in ADDITION_FIELDS)
            for row in sandbox.store.rows("additions")}


def check_one_addition_each(sandbox, period, companies, label):
    agreements = [row["id"] for row in sandbox.store.rows("agreements")]
    counts = additions_by_agreement(sandbox, period)
    wrong = {a: counts.get(a, 0) for a in agreements if counts.get(a, 0) != 1}
    if len(agreements) != companies or wrong:
        sample = ", ".join("agreement %s: %d" % item for item in list(wrong.items())[:5])
        raise BenchFailure("%s: expected exactly one %s addition of %s per company (%d companies, %d agreements); "
                           "%d agreements differ (%s)" % (label, PRODUCT_ID, period, companies, len(agreements),
                                                          len(wrong), sample))
    return sum(counts.values())


# --------------------------------------------------------------------------- ansible-playbook
def environment(sandbox, log_path):
    env = dict(os.environ)
    env.update({
        "CW_SITE": sandbox.url,
        "CW_COMPANY_ID": "sandbox",
        "CW_PUBLIC_KEY": "sandbox-public",
        "CW_PRIVATE_KEY": "sandbox-private",
        "CW_CLIENT_ID": "billing-bench",
        "MBS_USERNAME": MBS_USERNAME,
        "MBS_PASSWORD": MBS_PASSWORD,
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
        "ANSIBLE_CALLBACKS_ENABLED": "result_log",
        "MBS_RESULT_LOG": log_path,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    return env


def playbook(sandbox, path, extra_vars, tmpdir, label):
    """Run ansible-playbook; (wall seconds, [task results]). BenchFailure when it fails."""
    log = os.path.join(tmpdir, "%s.jsonl" % label.replace(" ", "_"))
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", path, "-e", json.dumps(extra_vars)]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=environment(sandbox, log), capture_output=True, text=True,
                              timeout=RUN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BenchFailure("%s: ansible-playbook did not finish within %d s" % (label, RUN_TIMEOUT)) from exc
    wall = time.monotonic() - started
    results = []
    if os.path.exists(log):
        with open(log) as handle:
            results = [json.loads(line) for line in handle if line.strip()]
    if proc.returncode != 0:
        failed = [r for r in results if r["status"] == "failed"]
        detail = proc.stdout[-2000:]
        if failed:
            answer = failed[-1]["result"]
            detail = "%s: %s" % (failed[-1]["task"], answer.get("msg") or json.dumps(answer, default=str)[:2000])
        raise BenchFailure("%s: ansible-playbook exited %d\n%s\n%s" % (label, proc.returncode, detail,
                                                                       proc.stderr[-1000:]))
    return wall, results


def bulk_run(sandbox, args, companies, tmpdir, label):
    wall, results = playbook(sandbox, BULK_PLAYBOOK, {"period": args.period, "today": BENCH_TODAY,
                                                      "mbs_url": sandbox.mbs_url,
                                                      "parallel": args.parallel, "cost_per_gb": COST_PER_GB},
                             tmpdir, label)
    result = results[-1]["result"]
    counts = result["totals"]["counts"]
    if len(result["results"]) != companies:
        raise BenchFailure("%s: %d results for %d companies" % (label, len(result["results"]), companies))
    run = {"label": label, "companies": companies, "wall_s": wall, "counts": counts,
           "written": sum(1 for r in result["results"] if r["action"] in ("created", "updated", "cancelled")),
           "module_requests": result.get("requests"), "changed": result.get("changed"),
           "longest_url": result.get("longest_url")}
    run.update(traffic(sandbox))
    return run


def naive_run(sandbox, args, companies, tmpdir, label):
    names = ["Company%04d" % number for number in range(1, companies + 1)]
    wall, results = playbook(sandbox, NAIVE_PLAYBOOK, {"period": args.period, "today": BENCH_TODAY,
                                                       "mbs_url": sandbox.mbs_url,
                                                       "companies": names, "agreement": "ManagedBackupService",
                                                       "product": PRODUCT_ID, "cost_per_gb": COST_PER_GB},
                             tmpdir, label)
    posted = [item for r in results if r["task"].startswith("Add this month")
              for item in r["result"].get("results", []) if item.get("status") == 201]
    run = {"label": label, "companies": companies, "wall_s": wall, "additions_posted": len(posted),
           "module_runs": sum(len(r["result"].get("results", [])) or 1 for r in results)}
    run.update(traffic(sandbox))
    return run


def ansible_startup(sandbox, tmpdir):
    """Wall time of ansible-playbook with one no-op task: the fixed cost in every run."""
    path = os.path.join(tmpdir, "noop.yml")
    with open(path, "w") as handle:
        handle.write("- hosts: localhost\n  connection: local\n  gather_facts: false\n"
                     "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
                     "  tasks:\n    - name: Nothing\n      ansible.builtin.ping:\n")
    wall, _results = playbook(sandbox, path, {}, tmpdir, "startup")
    return wall


# --------------------------------------------------------------------------- lower bound
def lower_bound(companies, writes, written, parallel, latency_ms):
    """The requests billing cannot avoid, and the time they take at ``latency_ms`` with ``parallel`` in flight.

    ConnectWise: codebase discovery (1), the agreements of the name read page by page (1,000 a
    page), the catalog (1); then per agreement one additions read, one write per change, and one
    re-read of the additions of every agreement written (how overlapping runs find each other's
    duplicates: issue 9), ``parallel`` at a time. MSP360: login, companies and one
    ``PUT /api/Billing`` with only ``Date`` for every company. Bulk reads are sequential rounds;
    per-agreement requests are ceil(n / parallel) rounds.
    """
    cw_bulk = 1 + math.ceil(companies / 1000) + 1
    cw_per_agreement = companies + writes + written
    mbs_bulk = 3
    requests = cw_bulk + cw_per_agreement + mbs_bulk
    rounds = cw_bulk + mbs_bulk + math.ceil(cw_per_agreement / parallel)
    return {"requests": requests, "connectwise": cw_bulk + cw_per_agreement, "mbs": mbs_bulk,
            "rounds": rounds, "seconds": rounds * latency_ms / 1000.0}


def written(run):
    """Agreements this run wrote to (each is re-read once after its writes)."""
    return run["written"]


# The targets of issue 10 for 1,000 companies at 20 ms: (what, limit, measured) rows of the report.
def targets(first, second):
    return [
        ("MSP360 requests, first run", "<= 3", sum(first["mbs"].values()), sum(first["mbs"].values()) <= 3),
        ("MSP360 requests, second run", "<= 3", sum(second["mbs"].values()), sum(second["mbs"].values()) <= 3),
        ("requests, second run", "<= companies + writes + 10 = %d" % (second["companies"] + second["writes"] + 10),
         second["requests"], second["requests"] <= second["companies"] + second["writes"] + 10),
        ("requests, first run", "<= companies + writes + re-reads after writing + 10 = %d"
         % (first["companies"] + first["writes"] + written(first) + 10), first["requests"],
         first["requests"] <= first["companies"] + first["writes"] + written(first) + 10),
        ("wall time, first run", "<= 15 s", "%.1f s" % first["wall_s"], first["wall_s"] <= 15),
        ("wall time, second run (0 writes)", "<= 10 s", "%.1f s" % second["wall_s"],
         second["wall_s"] <= 10 and not second["writes"]),
    ]


# --------------------------------------------------------------------------- output
def methods(counter):
    return " ".join("%s %d" % item for item in sorted(counter.items())) or "-"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def report(args, startup, first, second, bound_first, bound_second, naive, small, throttled=None, products=None):
    out = ["## Billing benchmark: %d companies, %g ms latency per request, parallel %d, period %s"
           % (args.companies, args.latency_ms, args.parallel, args.period), "",
           "ansible-playbook startup (one no-op task): %.1f s, included in every wall time below." % startup, ""]
    rows = []
    for run, bound in ((first, bound_first), (second, bound_second)):
        rows.append([run["label"], "%.1f" % run["wall_s"], run["requests"], methods(run["connectwise"]),
                     methods(run["mbs"]), run["writes"],
                     " ".join("%s %d" % (k, v) for k, v in run["counts"].items() if v),
                     "%d (x%.2f)" % (bound["requests"], run["requests"] / bound["requests"]),
                     "%.1f s (x%.2f)" % (bound["seconds"], run["wall_s"] / bound["seconds"]),
                     "x%.2f" % ((run["wall_s"] - startup) / bound["seconds"])])
    out.append(markdown_table(["bulk run", "wall s", "requests", "ConnectWise", "MSP360", "writes", "actions",
                               "request bound (factor)", "time bound (factor)", "factor without startup"], rows))
    out.append("")
    agree = all(run["module_requests"] == {"connectwise": run["connectwise"], "mbs": run["mbs"]}
                for run in (first, second, small))
    out.append("The module's own `requests` return value %s the sandbox journal in every bulk run."
               % ("matches" if agree else "does NOT match"))
    out.append("")
    out.append("Longest ConnectWise request URL: %s characters (ConnectWise's limit: 2,000)."
               % max(run.get("longest_url") or 0 for run in (first, second, small)))
    out.append("")
    out.append("Bound: 1 codebase + ceil(N/1000) agreement pages + 1 catalog + 1 additions read per agreement + 1 "
               "write per change + 1 re-read per agreement written (ConnectWise); login + companies + 1 billing "
               "read for the month (MSP360); time = latency x (sequential bulk reads + per-item requests / parallel).")
    out.append("")
    if args.companies == 1000 and args.latency_ms == 20:
        out.append(markdown_table(["target (issue 10)", "limit", "measured", "met"],
                                  [[what, limit, measured, "yes" if met else "NO"]
                                   for what, limit, measured, met in targets(first, second)]))
        out.append("")
    n = naive["companies"]
    rows = []
    for run in (naive, small):
        rows.append([run["label"], run["companies"], "%.1f" % run["wall_s"], run["requests"],
                     methods(run["connectwise"]), methods(run["mbs"]), run["writes"],
                     "%.3f" % (run["wall_s"] / n), "%.1f" % (run["requests"] / n)])
    out.append(markdown_table(["%d companies" % n, "companies", "wall s", "requests", "ConnectWise", "MSP360",
                               "writes", "s / company", "requests / company"], rows))
    out.append("")
    out.append("Naive / bulk per company: wall time x%.1f, requests x%.2f (same %d companies, same latency, "
               "identical additions). The naive playbook ran %d uri module executions; both read the month's MSP360 "
               "usage with one all-companies call."
               % (naive["wall_s"] / small["wall_s"], naive["requests"] / small["requests"], n, naive["module_runs"]))
    out.append("")
    out.extend(throttled_bench.report(args, throttled) + products_bench.report(args, products) + ["Summary", ""])
    out.append(markdown_table(
        ["run", "companies", "wall s", "s / company", "requests", "writes"],
        [["bulk, first run", first["companies"], "%.1f" % first["wall_s"],
          "%.3f" % (first["wall_s"] / first["companies"]), first["requests"], first["writes"]],
         ["bulk, second run", second["companies"], "%.1f" % second["wall_s"],
          "%.3f" % (second["wall_s"] / second["companies"]), second["requests"], second["writes"]],
         ["bulk", small["companies"], "%.1f" % small["wall_s"], "%.3f" % (small["wall_s"] / n),
          small["requests"], small["writes"]],
         ["naive uri loops", naive["companies"], "%.1f" % naive["wall_s"], "%.3f" % (naive["wall_s"] / n),
          naive["requests"], naive["writes"]]] + throttled_bench.summary_rows(args, throttled)))
    return "\n".join(out)


# --------------------------------------------------------------------------- main
def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.billing_bench", description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--companies", type=int, default=1000, help="companies of the bulk run (default 1000)")
    parser.add_argument("--latency-ms", type=float, default=20, help="delay added to every API request (default 20)")
    parser.add_argument("--naive-companies", type=int, default=50,
                        help="companies of the naive-vs-bulk comparison (default 50)")
    parser.add_argument("--parallel", type=int, default=8, help="the module's parallel option (default 8, as the module)")
    parser.add_argument("--period", default="2026-10",
                        help="month billed, one of the fixture's 2026-08..2026-10 at BENCH_TODAY (default 2026-10)")
    parser.add_argument("--rate-limit", type=float, default=50,
                        help="ConnectWise requests per second of the throttled run (default 50; 0 skips it)")
    parser.add_argument("--no-products", dest="products", action="store_false",
                        help="skip the runs with licenses and storage accounts")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = parser.parse_args(argv)
    if args.companies < 1 or args.naive_companies < 1 or args.latency_ms < 0 or args.rate_limit < 0:
        parser.error("--companies and --naive-companies must be >= 1, --latency-ms and --rate-limit >= 0")
    return args


def log(message):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def bench(args, sandbox, tmpdir):
    startup = ansible_startup(sandbox, tmpdir)
    control(sandbox, "DELETE", "journal")
    log("ansible-playbook startup %.1f s" % startup)

    log("bulk: %d companies, first run" % args.companies)
    first = bulk_run(sandbox, args, args.companies, tmpdir, "first")
    if first["counts"].get("created") != args.companies:
        raise BenchFailure("first bulk run: %s, expected %d created" % (first["counts"], args.companies))
    check_one_addition_each(sandbox, args.period, args.companies, "first bulk run")
    log("  %.1f s, %d requests, %d writes" % (first["wall_s"], first["requests"], first["writes"]))

    log("bulk: %d companies, second run" % args.companies)
    second = bulk_run(sandbox, args, args.companies, tmpdir, "second")
    if second["writes"] or second["counts"].get("unchanged") != args.companies:
        raise BenchFailure("second bulk run wrote %d times (%s); expected none, %d unchanged"
                           % (second["writes"], second["counts"], args.companies))
    check_one_addition_each(sandbox, args.period, args.companies, "second bulk run")
    log("  %.1f s, %d requests, %d writes" % (second["wall_s"], second["requests"], second["writes"]))

    n = args.naive_companies
    log("naive: %d companies" % n)
    reset(sandbox, n, args.latency_ms)
    naive = naive_run(sandbox, args, n, tmpdir, "naive uri loops")
    if naive["writes"] != n or naive["additions_posted"] != n:
        raise BenchFailure("naive run: %d writes, %d additions posted, expected %d"
                           % (naive["writes"], naive["additions_posted"], n))
    check_one_addition_each(sandbox, args.period, n, "naive run")
    naive_additions = additions_snapshot(sandbox)
    log("  %.1f s, %d requests, %d writes" % (naive["wall_s"], naive["requests"], naive["writes"]))

    log("bulk: the same %d companies" % n)
    reset(sandbox, n, args.latency_ms)
    small = bulk_run(sandbox, args, n, tmpdir, "bulk module")
    if small["counts"].get("created") != n:
        raise BenchFailure("bulk run on %d companies: %s, expected %d created" % (n, small["counts"], n))
    check_one_addition_each(sandbox, args.period, n, "bulk run on %d companies" % n)
    bulk_additions = additions_snapshot(sandbox)
    differ = sorted(a for a in set(naive_additions) | set(bulk_additions)
                    if naive_additions.get(a) != bulk_additions.get(a))
    if differ:
        first_diff = differ[0]
        raise BenchFailure("the naive and the bulk run billed different additions for %d agreements (agreement "
                           "%s: naive %s, bulk %s; fields %s): the comparison would not be like for like"
                           % (len(differ), first_diff, naive_additions.get(first_diff),
                              bulk_additions.get(first_diff), ", ".join(ADDITION_FIELDS)))
    log("  %.1f s, %d requests, %d writes" % (small["wall_s"], small["requests"], small["writes"]))

    throttled = throttled_bench.run(sandbox, args, tmpdir)
    products = products_bench.run(sandbox, args, tmpdir) if args.products else None
    bound_first = lower_bound(args.companies, first["writes"], written(first), args.parallel, args.latency_ms)
    bound_second = lower_bound(args.companies, second["writes"], written(second), args.parallel, args.latency_ms)
    return {"settings": vars(args), "ansible_startup_s": startup, "bulk_first": first, "bulk_second": second,
            "bound_first": bound_first, "bound_second": bound_second, "naive": naive, "bulk_small": small,
            "throttled": throttled, "products": products,
            "report": report(args, startup, first, second, bound_first, bound_second, naive, small, throttled,
                             products)}


def main(argv=None):
    """Run the benchmark and print its report; the exit status."""
    numbers, status = run(parse_args(argv))
    if numbers:
        print(numbers["report"], flush=True)
    return status


def run(args):
    """(numbers with the Markdown ``report``, or None; exit status)."""
    if not os.path.isdir(LINK):
        print("the collection link %s is missing: run `make collection-link` (or `make venv`)" % LINK,
              file=sys.stderr)
        return None, 2
    started = time.monotonic()
    log("sandbox: generating %d companies, latency %g ms" % (args.companies, args.latency_ms))
    sandbox = Sandbox(fixture=generate_fixture(companies=args.companies, with_agreements=True, with_usage=True),
                      port=0, latency_ms=args.latency_ms, today=BENCH_TODAY).start()
    try:
        with tempfile.TemporaryDirectory(prefix="billing-bench-") as tmpdir:
            numbers = bench(args, sandbox, tmpdir)
    except BenchFailure as exc:
        print("BENCH FAILED: %s" % exc, file=sys.stderr)
        return None, 1
    finally:
        sandbox.stop()
    numbers["total_s"] = time.monotonic() - started
    log("done in %.0f s" % numbers["total_s"])
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(numbers, handle, indent=2, sort_keys=True)
    return numbers, 0


if __name__ == "__main__":
    sys.exit(main())
