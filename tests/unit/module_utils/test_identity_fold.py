"""One fold for identifiers and names (``identity.fold``), the same for ConnectWise and MSP360."""

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils import identity


@pytest.mark.parametrize("one, other", [
    ("AcmeCorp", "acmecorp"),
    ("  ACMECORP ", "AcmeCorp"),
    ("Acme  Backup\tLtd", "acme backup ltd"),
    ("STRASSE", "Straße"),  # casefold, not lower: what a case-insensitive collation treats as equal
    (1234, "1234"),  # a YAML number given as an identifier is that identifier
])
def test_fold_makes_one_key_of_spellings_of_one_identifier(one, other):
    assert identity.fold(one) == identity.fold(other)


def test_fold_keeps_different_identifiers_apart_and_none_as_none():
    assert identity.fold("Company0001") != identity.fold("Company0002")
    assert identity.fold("Acme Corp") != identity.fold("AcmeCorp")
    assert identity.fold(None) is None


def test_company_key_is_the_same_fold():
    assert identity.company_key is identity.fold
