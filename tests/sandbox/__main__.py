"""``python -m tests.sandbox``: serve the sandbox in the foreground (Ctrl-C stops)."""

import argparse
import logging
import sys

from . import COMPANY_ID, MBS_PASSWORD, MBS_USERNAME, PRIVATE_KEY, PUBLIC_KEY, Sandbox
from .fixtures import generate_fixture


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--fixture", default="demo", help="'demo' or a JSON fixture file")
    parser.add_argument("--companies", type=int, help="generate a fixture with N companies instead")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay added to every API request")
    parser.add_argument("--rate-limit", type=float, metavar="R", help="ConnectWise requests per second, "
                        "then 429 with Retry-After as ConnectWise's Cloudflare front (default: no limit)")
    parser.add_argument("--today", help="the sandbox's today, YYYY-MM-DD (default: the real UTC date); "
                                        "the fixture's usage months and dates move with it")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    fixture = generate_fixture(companies=args.companies) if args.companies else args.fixture
    sandbox = Sandbox(fixture=fixture, port=args.port, host=args.host, latency_ms=args.latency_ms,
                      today=args.today, rate_limit=args.rate_limit)
    try:
        sandbox.bind()
        sys.stdout.write("\n".join([
            f"ConnectWise sandbox on {sandbox.url}",
            f"  site:        {sandbox.host}:{sandbox.port}",
            f"  company id:  {COMPANY_ID}",
            f"  public key:  {PUBLIC_KEY}",
            f"  private key: {PRIVATE_KEY}",
            "  clientId:    any non-empty value",
            f"MSP360 API:    {sandbox.mbs_url}   user {MBS_USERNAME} / password {MBS_PASSWORD}",
            f"Today:         {sandbox.today.isoformat()} (usage months and fixture dates follow it)",
            f"Control API:   {sandbox.url}/_sandbox/(journal|reset|faults|latency|stats|clock|rate-limit)",
            f"Rate limit:    {args.rate_limit or 'none'} ConnectWise requests per second",
            "Ctrl-C stops.",
        ]) + "\n")
        sys.stdout.flush()
        sandbox.serve_forever()
    except KeyboardInterrupt:
        sys.stdout.write("stopping\n")
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
