"""``make bench``: the setup benchmark, then the billing benchmark, and both reports together.

    .venv/bin/python -m tests.bench

Each benchmark's own options: ``python -m tests.bench.setup_bench --help``,
``python -m tests.bench.billing_bench --help``. The exit status is non-zero when either fails.
"""

import sys

from tests.bench import billing_bench, setup_bench


def main():
    setup_numbers, setup_failures = setup_bench.bench(setup_bench.parse_args([]))
    billing_numbers, billing_status = billing_bench.run(billing_bench.parse_args([]))
    print(setup_bench.report(setup_numbers))
    print()
    if billing_numbers:
        print(billing_numbers["report"])
    for failure in setup_failures:
        print("SETUP BENCH FAILED: " + failure, file=sys.stderr)
    return 1 if setup_failures or billing_status else 0


if __name__ == "__main__":
    sys.exit(main())
