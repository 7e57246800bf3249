"""Fixtures for the module tests."""

import pytest

from ansible.module_utils.common import warnings as ansible_warnings


@pytest.fixture
def warned(monkeypatch):
    """The warnings the module run issued (Ansible keeps them in a process-wide store)."""
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
    return ansible_warnings.get_warning_messages
