"""The billing benchmark's product runs: licenses, then licenses and storage per storage account, besides storage.

Each company's bill is several product lines (storage, each license product, each storage-account product),
read once per agreement and written once per change: the ConnectWise requests stay within a bound that grows
by the writes only, and MSP360 is read a fixed number of times (5 with licenses: login, users, companies,
billing, licenses; with storage accounts also the accounts and one details read per user with usage).

On a fresh ``generate_fixture(companies=N, licenses_per_company=10, accounts=3)`` with the license and
storage-account products' catalog items added, three bulk runs of ``billing_bulk.yml``: licenses (first and
second run), then licenses and storage accounts on a fresh fixture. Called by ``billing_bench.bench``.
"""

import math

from tests.bench import billing_bench as bb
from tests.sandbox import generate_fixture
from tests.sandbox.fixtures import PRODUCT_ID

LICENSES_PER_COMPANY = 10
ACCOUNTS = 3
# The generated types (Server, Desktop, VM Server) billed as two products, as an MSP maps them.
LICENSE_PRODUCTS = [{"license_type": "Server", "product": "BackupServer", "unit_price": "25"},
                    {"license_type": "VM Server", "product": "BackupServer"},
                    {"license_type": "Desktop", "product": "BackupDesktop", "unit_price": "8", "included": 1}]
# Two of the three generated accounts have a product; the third stays on the storage product.
STORAGE_PRODUCTS = [{"account": "Storage account 1", "product": "StorageOne", "price_per_gb": "0.05"},
                    {"account": "Storage account 2", "product": "StorageTwo", "price_per_gb": "0.04"}]
MSP360_WITH_LICENSES = 5


def fixture(companies):
    generated = generate_fixture(companies=companies, licenses_per_company=LICENSES_PER_COMPANY, accounts=ACCOUNTS)
    base = generated["connectwise"]["catalog"][0]
    for identifier in ("BackupServer", "BackupDesktop", "StorageOne", "StorageTwo"):
        generated["connectwise"]["catalog"].append(dict(base, identifier=identifier, description=identifier))
    return generated


def users_with_usage(sandbox, period):
    return sum(1 for row in sandbox.mbs.usage.get(period, []) if row["AverageSpace"] > 0)


def bound(companies, agreements_written, writes, msp360):
    """ConnectWise: codebase + agreement pages + catalog + per agreement one additions read for all its products,
    one write per change and one re-read of an agreement written (for all its products); MSP360 as counted."""
    connectwise = 1 + math.ceil(companies / 1000) + 1 + companies + writes + agreements_written
    return {"connectwise": connectwise, "mbs": msp360}


def products_run(sandbox, args, tmpdir, label, storage):
    extra = {"period": args.period, "today": bb.BENCH_TODAY, "mbs_url": sandbox.mbs_url, "parallel": args.parallel,
             "cost_per_gb": bb.COST_PER_GB, "license_products": LICENSE_PRODUCTS}
    if storage:
        extra["storage_products"] = STORAGE_PRODUCTS
    wall, results = bb.playbook(sandbox, bb.BULK_PLAYBOOK, extra, tmpdir, label.replace(",", ""))
    result = results[-1]["result"]
    lines = result["results"]
    run = {"label": label, "companies": args.companies, "wall_s": wall, "lines": len(lines),
           "actions": dict((action, sum(1 for r in lines if r["action"] == action))
                           for action in ("created", "updated", "unchanged", "cancelled", "skipped", "failed")),
           "agreements_written": len(set(r["agreement_id"] for r in lines if r["action"] in ("created", "updated"))),
           "licenses": result.get("licenses"), "by_product": result["totals"]["by_product"],
           "module_requests": result.get("requests")}
    run.update(bb.traffic(sandbox))
    return run


def check(run, sandbox, args, expected_mbs, second=False):
    if run["actions"]["failed"]:
        raise bb.BenchFailure("%s: %d lines failed" % (run["label"], run["actions"]["failed"]))
    if second and (run["writes"] or run["actions"]["created"]):
        raise bb.BenchFailure("%s wrote %d times; expected none" % (run["label"], run["writes"]))
    run["bound"] = bound(args.companies, run["agreements_written"], run["writes"], expected_mbs)
    if run["connectwise_requests"] > run["bound"]["connectwise"]:
        raise bb.BenchFailure("%s: %d ConnectWise requests, over the bound %d" % (
            run["label"], run["connectwise_requests"], run["bound"]["connectwise"]))
    if run["mbs_requests"] != expected_mbs:
        raise bb.BenchFailure("%s: %d MSP360 requests, expected %d" % (run["label"], run["mbs_requests"], expected_mbs))
    seen = {}
    for row in sandbox.store.rows("additions"):
        key = (row["agreementId"], row["product"]["identifier"], row.get("description"))
        seen[key] = seen.get(key, 0) + 1
    twice = [key for key, count in seen.items() if count != 1]
    if twice:
        raise bb.BenchFailure("%s: %d (agreement, product, month) have more than one addition, such as %s"
                              % (run["label"], len(twice), twice[0]))


def run(sandbox, args, tmpdir):
    """The three product runs, checked; their numbers."""
    bb.log("products: %d companies, %d licenses each, licenses (first run)" % (args.companies, LICENSES_PER_COMPANY))
    sandbox.reset(fixture=fixture(args.companies), today=bb.BENCH_TODAY)
    bb.control(sandbox, "POST", "latency", {"ms": args.latency_ms})
    first = products_run(sandbox, args, tmpdir, "licenses, first run", storage=False)
    check(first, sandbox, args, MSP360_WITH_LICENSES)
    bb.log("  %.1f s, %d requests, %d writes" % (first["wall_s"], first["requests"], first["writes"]))
    second = products_run(sandbox, args, tmpdir, "licenses, second run", storage=False)
    check(second, sandbox, args, MSP360_WITH_LICENSES, second=True)
    bb.log("  %.1f s, %d requests, %d writes" % (second["wall_s"], second["requests"], second["writes"]))
    bb.log("products: licenses and storage accounts (first run)")
    sandbox.reset(fixture=fixture(args.companies), today=bb.BENCH_TODAY)
    bb.control(sandbox, "POST", "latency", {"ms": args.latency_ms})
    details = users_with_usage(sandbox, args.period)
    split = products_run(sandbox, args, tmpdir, "licenses and storage accounts, first run", storage=True)
    check(split, sandbox, args, MSP360_WITH_LICENSES + 1 + details)
    split["details_reads"] = details
    bb.log("  %.1f s, %d requests, %d writes" % (split["wall_s"], split["requests"], split["writes"]))
    return [first, second, split]


def report(args, runs):
    """The product runs' table and how the bound is counted (nothing when they did not run)."""
    if not runs:
        return []
    rows = [[r["label"], "%.1f" % r["wall_s"], r["lines"], bb.methods(r["connectwise"]), bb.methods(r["mbs"]),
             r["mbs_requests"], r["writes"], " ".join("%s %d" % (k, v) for k, v in r["actions"].items() if v),
             "%d / %d (x%.2f)" % (r["connectwise_requests"], r["bound"]["connectwise"],
                                  r["connectwise_requests"] / float(r["bound"]["connectwise"]))]
            for r in runs]
    products = ", ".join(sorted(p for p in runs[-1]["by_product"] if p != PRODUCT_ID))
    licenses = runs[0]["licenses"] or {}
    return [
        "Products: %d companies, %d MSP360 licenses each (%s read: %s billed, %s not billed), %d storage accounts; "
        "each company's lines: %s and %s" % (args.companies, LICENSES_PER_COMPANY, licenses.get("read"),
                                             licenses.get("counted"), licenses.get("not_billed"), ACCOUNTS,
                                             PRODUCT_ID, products),
        "",
        bb.markdown_table(["run", "wall s", "lines", "ConnectWise", "MSP360", "MSP360 requests", "writes", "lines by action",
                           "ConnectWise requests / bound"], rows),
        "",
        "MSP360 with licenses: %d requests per run (login, users, companies, billing, licenses; at most %d); with "
        "storage accounts also the accounts and one details read per user with usage (%d users): %d. ConnectWise bound "
        "with several products: 1 codebase + ceil(N/1000) agreement pages + 1 catalog + 1 additions read per agreement "
        "(every product at once) + 1 write per change + 1 re-read per agreement written (every product at once)."
        % (runs[0]["mbs_requests"], MSP360_WITH_LICENSES, runs[-1]["details_reads"], runs[-1]["mbs_requests"]),
        "",
    ]
