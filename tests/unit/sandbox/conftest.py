"""Shared fixtures: one sandbox per test module, reset to its fixture before every test."""

import pytest
from sandbox_helpers import Api, billing_fixture

from tests.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(fixture="demo", port=0) as running:
        yield running


@pytest.fixture
def sb(sandbox):
    sandbox.reset("demo")
    return sandbox


@pytest.fixture
def api(sb):
    client = Api(sb)
    yield client
    client.session.close()


@pytest.fixture
def billing(sandbox):
    """A sandbox holding billing_fixture(); returns the Api."""
    sandbox.reset(billing_fixture())
    client = Api(sandbox)
    yield client
    client.session.close()
