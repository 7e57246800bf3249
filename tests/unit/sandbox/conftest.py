"""Shared fixtures: one sandbox per test module, reset to its fixture before every test."""

import pytest
from sandbox_helpers import Api, billing_fixture

from tests.sandbox import Sandbox


# The sandbox's clock in these tests: the demo fixture's own date, so its months are as written
# (2026-09..2026-11) whatever day the tests run.
TODAY = "2026-12-02"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(fixture="demo", port=0, today=TODAY) as running:
        yield running


@pytest.fixture
def sb(sandbox):
    sandbox.reset("demo", today=TODAY)
    return sandbox


@pytest.fixture
def api(sb):
    client = Api(sb)
    yield client
    client.session.close()


@pytest.fixture
def billing(sandbox):
    """A sandbox holding billing_fixture(); returns the Api."""
    sandbox.reset(billing_fixture(), today=TODAY)
    client = Api(sandbox)
    yield client
    client.session.close()
