"""Throttling: retried at the server's pace within the wait budget, with fewer requests in flight.

No test sleeps: the retry policy's ``sleep`` records the pauses, and the concurrency limit is
driven by threads that wait on events, never on time.
"""

import threading

import pytest
import requests
from requests.adapters import BaseAdapter

from ansible_collections.mbs.connectwise.plugins.module_utils.client import ConnectWiseClient
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import ApiError, OutcomeUnknown
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import (
    AdaptiveConcurrency,
    RetryPolicy,
    Transport,
)

from ..conftest import API, CONNECTION, SITE

URL = API + "company/companies/1"


def client_recording(pauses, **policy):
    return ConnectWiseClient(retry=RetryPolicy(sleep=pauses.append, **policy), **CONNECTION)


def throttled(mocked, times, retry_after="1", status=429, method="GET", url=URL):
    for _number in range(times):
        mocked.add(method, url, status=status, headers={"Retry-After": retry_after} if retry_after else {},
                   json={"error": "ConnectWiseAPI", "message": "Too many requests. Please try again in 1 seconds."})


def test_a_429_is_retried_past_the_attempt_count_until_it_is_answered(mocked):
    pauses = []
    throttled(mocked, 40)
    mocked.get(URL, json={"id": 1})
    assert client_recording(pauses).get("company/companies/1") == {"id": 1}
    # The old rule gave up after 6 attempts (5 s of the 120 s budget spent).
    assert pauses == [1.0] * 40 and len(mocked.calls) == 41


def test_a_429_without_end_is_retried_until_the_wait_budget_is_spent(mocked):
    pauses = []
    throttled(mocked, 200, retry_after="7")
    with pytest.raises(ApiError) as err:
        client_recording(pauses).get("company/companies/1")
    assert err.value.status == 429 and err.value.code == "ConnectWiseAPI"
    assert sum(pauses) == 119.0 and len(pauses) == 17  # 17 x 7 s; one more would pass 120 s
    assert len(mocked.calls) == 18


def test_a_503_with_retry_after_is_throttling_one_without_is_an_error_retried_by_count(mocked):
    pauses = []
    throttled(mocked, 10, retry_after="2", status=503)
    mocked.get(URL, json={"id": 1})
    assert client_recording(pauses).get("company/companies/1") == {"id": 1}
    assert pauses == [2.0] * 10

    other = API + "company/companies/2"
    throttled(mocked, 10, retry_after=None, status=503, url=other)
    with pytest.raises(ApiError) as err:
        client_recording([]).get("company/companies/2")
    assert err.value.status == 503
    assert len([c for c in mocked.calls if c.request.url == other]) == 6  # max_attempts


def test_a_throttled_post_is_retried_within_the_budget_and_a_503_to_a_post_is_never_resent(mocked):
    pauses = []
    posted = API + "company/companies"
    throttled(mocked, 12, method="POST", url=posted)
    mocked.post(posted, json={"id": 9}, status=201)
    assert client_recording(pauses).create("company/companies", {"identifier": "X"}) == {"id": 9}
    assert len(pauses) == 12

    mocked.replace("POST", posted, status=503, headers={"Retry-After": "1"})
    calls = len(mocked.calls)
    with pytest.raises(OutcomeUnknown):
        client_recording([]).create("company/companies", {"identifier": "Y"})
    assert len(mocked.calls) == calls + 1


def test_retry_after_zero_backs_off_instead_of_spinning(mocked):
    pauses = []
    throttled(mocked, 3, retry_after="0")
    mocked.get(URL, json={"id": 1})
    client_recording(pauses, base_delay=0.5).get("company/companies/1")
    assert all(p > 0 for p in pauses) and len(pauses) == 3


def test_a_retry_after_longer_than_the_budget_left_is_not_waited_for(mocked):
    pauses = []
    throttled(mocked, 5, retry_after="30")
    with pytest.raises(ApiError):
        client_recording(pauses, total_wait=70).get("company/companies/1")
    assert pauses == [30.0, 30.0]


# ---- the concurrency limit -------------------------------------------------------------------------------------

def test_throttling_halves_the_limit_once_per_round_and_clean_answers_raise_it_back():
    limit = AdaptiveConcurrency(8)
    tickets = [limit.acquire() for _number in range(4)]
    for ticket in tickets:  # four throttled answers to requests sent together: one decrease
        limit.release(ticket, throttled=True)
    assert limit.limit == 4 and limit.decreases == 1
    limit.release(limit.acquire(), throttled=True)
    limit.release(limit.acquire(), throttled=True)
    limit.release(limit.acquire(), throttled=True)
    assert limit.limit == 1 and limit.lowest == 1
    limit.release(limit.acquire(), throttled=True)
    assert limit.limit == 1  # never below one request in flight
    cleans = 0
    while limit.limit < 8:
        limit.release(limit.acquire(), clean=True)
        cleans += 1
    assert limit.limit == 8 and 20 <= cleans <= 40  # +1 per round of clean answers: 1+2+...+7
    limit.release(limit.acquire(), clean=True)
    assert limit.limit == 8


def test_a_request_waits_for_a_slot_when_the_limit_is_reached():
    limit = AdaptiveConcurrency(2)
    limit.release(limit.acquire(), throttled=True)  # limit 1
    held = limit.acquire()
    entered = threading.Event()

    def second():
        limit.release(limit.acquire(), clean=True)
        entered.set()
    worker = threading.Thread(target=second)
    worker.start()
    assert not entered.wait(0.05)  # blocked while the one slot is held
    limit.release(held, clean=True)
    assert entered.wait(5)
    worker.join(5)


class GatedServer(BaseAdapter):
    """Answers 429 (Retry-After: 1) to the first ``throttle`` requests at once; holds the others until ``gate``
    opens, counting how many it holds at the same time."""

    def __init__(self, throttle):
        super().__init__()
        self.throttle = throttle
        self.gate = threading.Event()
        self.held = 0
        self.peak = 0
        self.changed = threading.Condition()

    def send(self, request, **kwargs):
        with self.changed:
            throttled = self.throttle > 0
            self.throttle -= throttled
            if not throttled:
                self.held += 1
                self.peak = max(self.peak, self.held)
                self.changed.notify_all()
        if not throttled:
            self.gate.wait(10)
            with self.changed:
                self.held -= 1
        response = requests.models.Response()
        response.status_code = 429 if throttled else 200
        response.headers["Retry-After"] = "1"
        response._content = b"{}"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        """No socket."""


def test_threads_sharing_a_transport_keep_fewer_requests_in_flight_after_a_429():
    server = GatedServer(throttle=1)
    session = requests.Session()
    session.mount("https://", server)
    pauses = []
    transport = Transport(SITE, retry=RetryPolicy(sleep=pauses.append), session=session, pool_size=8)
    server.gate.set()
    assert transport.request("GET", "company/companies").status_code == 200
    # 8 halved by the 429, then a quarter more for the clean answer of the retry.
    assert transport.concurrency.limit == 4.25 and transport.throttled == 1 and pauses == [1.0]
    server.gate.clear()
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(transport.request("GET", "x").status_code))
               for _number in range(8)]
    for thread in threads:
        thread.start()
    with server.changed:
        assert server.changed.wait_for(lambda: server.held == 4, timeout=5)
    assert not server.gate.wait(0.1)  # time for the other four to arrive, were they not held back
    assert server.held == 4
    server.gate.set()
    for thread in threads:
        thread.join(5)
    assert statuses == [200] * 8 and server.peak == 4


def test_no_request_is_sent_while_a_throttled_one_waits_its_retry_after():
    """The server limits the client, not one request: sending meanwhile would only earn more 429s."""
    server = GatedServer(throttle=1)
    server.gate.set()
    session = requests.Session()
    session.mount("https://", server)
    waiting, resume = threading.Event(), threading.Event()

    def sleep(seconds):
        waiting.set()
        assert resume.wait(5)
    transport = Transport(SITE, retry=RetryPolicy(sleep=sleep), session=session, pool_size=8)
    statuses = []
    throttled = threading.Thread(target=lambda: statuses.append(transport.request("GET", "a").status_code))
    throttled.start()
    assert waiting.wait(5)
    other = threading.Thread(target=lambda: statuses.append(transport.request("GET", "b").status_code))
    other.start()
    other.join(0.1)
    assert other.is_alive() and server.peak == 0  # held back while the first waits
    resume.set()
    throttled.join(5)
    other.join(5)
    assert statuses == [200, 200] and server.peak >= 1
