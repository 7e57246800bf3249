"""Rate-limit mode (ratelimit.py): a token bucket answering 429 with Retry-After, as ConnectWise's Cloudflare front."""

import subprocess
import sys

import pytest
import requests

from tests.sandbox import Sandbox
from tests.sandbox.ratelimit import RateLimit
from tests.sandbox.app import Request, SandboxApp


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_bucket_allows_a_burst_then_the_rate_and_says_how_long_to_wait():
    clock = FakeClock()
    bucket = RateLimit(rate=4, burst=3, clock=clock)  # a token every 0.25 s (binary fractions: exact)
    assert [bucket.take() for _number in range(3)] == [None, None, None]
    assert bucket.take() == 0.25
    clock.now += 0.125
    assert bucket.take() == 0.125
    clock.now += 0.125
    assert bucket.take() is None and bucket.take() == 0.25
    clock.now += 60  # idle: refills to the burst, not beyond
    assert [bucket.take() is None for _number in range(4)] == [True, True, True, False]
    assert bucket.describe() == {"rate": 4.0, "burst": 3.0, "allowed": 7, "throttled": 4}


def test_no_rate_is_no_limit_and_the_burst_defaults_to_one_second():
    assert RateLimit().take() is None and RateLimit().describe()["rate"] is None
    clock = FakeClock()
    bucket = RateLimit(rate=50, clock=clock)
    assert sum(bucket.take() is None for _number in range(60)) == 50


def test_the_refusal_is_connectwise_s_429_with_a_whole_number_of_seconds():
    status, body, headers = RateLimit.refusal(0.02)
    assert status == 429 and headers == {"Retry-After": "1"}
    assert body == {"error": "ConnectWiseAPI", "message": "Too many requests. Please try again in 1 seconds."}
    assert RateLimit.refusal(2.3)[2] == {"Retry-After": "3"}


@pytest.mark.parametrize("value", [-1, "50", True])
def test_a_bad_rate_is_refused(value):
    with pytest.raises(ValueError, match="rate"):
        RateLimit(rate=value)


def _get(app, path="/v4_6_release/apis/3.0/company/companies", headers=None):
    return app.handle(Request("GET", path, [], headers or {}, b""))


def test_only_connectwise_requests_are_limited_journaled_as_429_and_not_processed():
    app = SandboxApp("demo", today="2026-12-02", rate_limit=1)
    app.rate_limit._clock = lambda: 0.0  # frozen: the one token of the burst is all there is
    app.rate_limit.set(1)
    first, second = _get(app), _get(app)
    assert first.status == 401  # processed (no keys sent): it took the token
    assert second.status == 429 and second.headers == {"Retry-After": "1"}
    assert second.body["error"] == "ConnectWiseAPI"
    assert _get(app, "/mbs/api/Companies").status == 401  # MSP360 is not behind the bucket
    assert _get(app, "/_sandbox/rate-limit").body == {"rate": 1.0, "burst": 1.0, "allowed": 1, "throttled": 1}
    assert [(e["api"], e["status"]) for e in app.journal_entries()] == [
        ("connectwise", 401), ("connectwise", 429), ("mbs", 401)]


def test_the_control_api_sets_and_clears_the_limit_and_it_survives_reset(sb):
    url = sb.url + "/_sandbox/rate-limit"
    assert requests.get(url, timeout=5).json()["rate"] is None
    assert requests.post(url, json={"rate": 2, "burst": 2}, timeout=5).json() == {
        "rate": 2.0, "burst": 2.0, "allowed": 0, "throttled": 0}
    companies = sb.url + "/v4_6_release/apis/3.0/company/companies"
    statuses = [requests.get(companies, timeout=5).status_code for _number in range(4)]
    assert statuses[:2] == [401, 401] and 429 in statuses[2:]
    throttled = [r for r in (requests.get(companies, timeout=5) for _number in range(3)) if r.status_code == 429][0]
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.json()["message"].startswith("Too many requests.")
    sb.reset()
    assert requests.get(url, timeout=5).json()["rate"] == 2.0
    assert requests.post(url, json={"rate": None}, timeout=5).json()["rate"] is None
    assert all(requests.get(companies, timeout=5).status_code == 401 for _number in range(5))
    assert requests.post(url, json={"rate": "fast"}, timeout=5).status_code == 400
    assert requests.post(url, json={"speed": 1}, timeout=5).status_code == 400


def test_sandbox_and_command_line_take_a_rate_limit():
    with Sandbox(port=0, today="2026-12-02", rate_limit=50) as sb:
        assert sb.app.rate_limit.describe()["rate"] == 50.0
        sb.set_rate_limit(None)
        assert sb.app.rate_limit.describe()["rate"] is None
    usage = subprocess.run([sys.executable, "-m", "tests.sandbox", "--help"], capture_output=True, text=True,
                           check=True).stdout
    assert "--rate-limit R" in usage
