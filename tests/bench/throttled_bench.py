"""The billing benchmark's throttled run: the bulk run under the sandbox's rate limit (``ratelimit.py``).

ConnectWise's Cloudflare front answers 429 with Retry-After beyond a rate; the run must bill every
company (0 failed) at the server's pace: its wall time within FACTOR of the ConnectWise requests
the server answered, at the rate. Called by ``billing_bench.bench`` (``--rate-limit``, default 50).
"""

from tests.bench import billing_bench as bb

# A throttled run may take at most this many times the answered requests at the server's rate.
FACTOR = 1.15


def run(sandbox, args, tmpdir):
    """The first bulk run on a fresh fixture under the sandbox's rate limit: 0 failed, at the server's pace.

    None when ``--rate-limit 0`` skips it."""
    if not args.rate_limit:
        return None
    bb.log("throttled: %d companies, the sandbox limited to %g requests per second" % (args.companies, args.rate_limit))
    bb.reset(sandbox, args.companies, args.latency_ms)
    bb.control(sandbox, "POST", "rate-limit", {"rate": args.rate_limit})
    try:
        throttled = bb.bulk_run(sandbox, args, args.companies, tmpdir, "throttled")
    finally:
        bb.control(sandbox, "POST", "rate-limit", {"rate": None})
    counts = throttled["counts"]
    if counts.get("created") != args.companies or counts.get("failed"):
        raise bb.BenchFailure("throttled run: %s, expected %d created and none failed" % (counts, args.companies))
    bb.check_one_addition_each(sandbox, args.period, args.companies, "throttled run")
    throttled["pace_s"] = throttled["connectwise_answered"] / float(args.rate_limit)
    throttled["factor"] = throttled["wall_s"] / throttled["pace_s"]
    if throttled["factor"] > FACTOR:
        raise bb.BenchFailure("throttled run: %.1f s for %d answered requests at %g per second (%.1f s): x%.2f, "
                              "over x%.2f" % (throttled["wall_s"], throttled["connectwise_answered"], args.rate_limit,
                                              throttled["pace_s"], throttled["factor"], FACTOR))
    bb.log("  %.1f s, %d answered, %d throttled (x%.2f the server's pace)" % (
        throttled["wall_s"], throttled["connectwise_answered"], throttled["throttled"], throttled["factor"]))
    return throttled


def report(args, throttled):
    """The throttled run's table: the server's pace against the wall time (nothing when it was skipped)."""
    if not throttled:
        return []
    row = ["throttled first run", "%.1f" % throttled["wall_s"], throttled["connectwise_answered"],
           throttled["throttled"], "%.1f s" % throttled["pace_s"],
           "x%.2f (limit x%.2f)" % (throttled["factor"], FACTOR), throttled["counts"].get("failed", 0),
           " ".join("%s %d" % (k, v) for k, v in throttled["counts"].items() if v)]
    return [
        "Throttled: %d companies, %g ms latency, the sandbox limited to %g ConnectWise requests per second "
        "(429 with Retry-After beyond)" % (args.companies, args.latency_ms, args.rate_limit),
        "",
        bb.markdown_table(["run", "wall s", "ConnectWise answered", "429 answers", "answered / rate", "factor",
                           "failed companies", "actions"], [row]),
        "",
    ]


def summary_rows(args, throttled):
    """The throttled run's row of the summary table (none when it was skipped)."""
    if not throttled:
        return []
    return [["bulk, throttled at %g/s" % args.rate_limit, throttled["companies"], "%.1f" % throttled["wall_s"],
             "%.3f" % (throttled["wall_s"] / throttled["companies"]), throttled["requests"], throttled["writes"]]]
