"""One company identity: case and whitespace never make two companies (issue 9 point 6)."""

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import UsageError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import company_key
from ansible_collections.mbs.connectwise.plugins.module_utils.usage_sources import normalise_inline


def test_company_key_folds_case_and_whitespace():
    assert company_key("Company0001") == company_key("company0001") == company_key("  COMPANY0001 ")
    assert company_key("Acme  Backup\tLtd") == company_key("acme backup ltd")
    assert company_key("Company0001") != company_key("Company0002")
    assert company_key(None) is None


def test_rows_differing_only_in_case_are_duplicates():
    with pytest.raises(UsageError, match=r"usage\[1\]: duplicate of usage\[0\]"):
        normalise_inline([{"company": "Company0001", "used_bytes": 1},
                          {"company": "company0001", "used_bytes": 2}])
