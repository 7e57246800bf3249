import datetime
import decimal

import pytest

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as c


@pytest.mark.parametrize("value, expected", [
    ("Acme", '"Acme"'),
    ('Stark & Wayne "Industries"', '"Stark & Wayne \\"Industries\\""'),
    ("back\\slash", '"back\\\\slash"'),
    ('trailing\\', '"trailing\\\\"'),
    ('\\"', '"\\\\\\""'),
    ("Zürich [AG] (Ltd)", '"Zürich [AG] (Ltd)"'),
    ("", '""'),
    (True, "true"),
    (False, "false"),
    (None, "null"),
    (42, "42"),
    (decimal.Decimal("12.50"), "12.50"),
    (datetime.date(2026, 10, 1), "[2026-10-01T00:00:00Z]"),
    (datetime.datetime(2026, 10, 1, 12, 30, tzinfo=datetime.timezone.utc), "[2026-10-01T12:30:00Z]"),
])
def test_quote(value, expected):
    assert c.quote(value) == expected


def test_every_quote_inside_a_string_is_escaped():
    hostile = 'a"b\\"c\\\\"d'
    rendered = c.quote(hostile)[1:-1]
    i = 0
    while i < len(rendered):
        if rendered[i] == "\\":
            assert rendered[i + 1] in '\\"'
            i += 2
            continue
        assert rendered[i] != '"'
        i += 1


def test_nested_field_and_in_list():
    assert c.condition("company/identifier", "in", ["A", 'B"']) == 'company/identifier in ("A","B\\"")'
    assert c.condition("type/name", "NOT IN", [1, 2]) == "type/name not in (1,2)"


def test_logic_parenthesises_parts():
    assert c.all_of(c.equals("name", "X"), "", c.equals("company/id", 5)) == '(name = "X") and (company/id = 5)'
    assert c.any_of(c.equals("a", 1)) == "a = 1"
    assert c.matching({"name": "X", "company/id": 5}) == '(company/id = 5) and (name = "X")'


@pytest.mark.parametrize("field, op, value", [("bad field", "=", 1), ("name", "==", 1), ("name", "in", [])])
def test_invalid_conditions_are_refused(field, op, value):
    with pytest.raises(ValueError):
        c.condition(field, op, value)


def test_unsupported_value_type():
    with pytest.raises(TypeError):
        c.quote(object())
