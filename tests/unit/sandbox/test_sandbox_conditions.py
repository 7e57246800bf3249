"""The conditions parser: grammar, escapes, operators, and 400 on every syntax error."""

from datetime import datetime, timezone

import pytest

from tests.sandbox.conditions import Comparison, ConditionError, Logical, compare, parse


def test_parses_escaped_quotes_and_backslashes():
    node = parse(r'name = "Stark & Wayne \"Industries\" C:\\dir"')
    assert node == Comparison(("name",), "=", 'Stark & Wayne "Industries" C:\\dir')


def test_parses_nested_fields_lists_dates_and_logic():
    node = parse('(company/identifier in ("A","B") OR id>=3) and effectiveDate < [2026-10-01T00:00:00Z] '
                 'AND inactiveFlag=false and x != null and y not like "a%"')
    assert isinstance(node, Logical) and node.op == "and" and len(node.parts) == 5
    assert node.parts[0] == Logical("or", (Comparison(("company", "identifier"), "in", ["A", "B"]),
                                           Comparison(("id",), ">=", 3)))
    assert node.parts[1].value == datetime(2026, 10, 1, tzinfo=timezone.utc)
    assert node.parts[2].value is False and node.parts[3].value is None and node.parts[4].op == "not like"


def test_date_only_value():
    assert parse("d=[2026-10-01]").value == datetime(2026, 10, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", [
    'name="unterminated', r'name="bad \n escape"', "name=", "name", '="x"', 'name = "a" and',
    '(name="a"', 'name="a")', "name in \"a\"", "name in ()", 'name like 5', "id < null",
    "d=[2026-13-45]", 'name == "a"', 'name = "a" name = "b"', "name not = 1", "id=1 & id=2", "",
])
def test_syntax_errors_raise(text):
    with pytest.raises(ConditionError):
        parse(text)


def test_compare_semantics():
    assert compare("AcmeCorp", "=", "acmecorp")
    assert compare("Acme Corp", "like", "acme%") and compare("Acme Corp", "like", "*corp")
    assert not compare("Acme Corp", "like", "corp%")
    assert compare("Acme Corp", "not contains", "globex") and compare("Acme", "contains", "CM")
    assert compare(None, "=", None) and not compare(None, "!=", None) and not compare(None, "=", "x")
    assert not compare(None, "not in", ["x"])
    assert compare("2026-10-15T00:00:00Z", ">", datetime(2026, 10, 1, tzinfo=timezone.utc))
    assert compare(5, "in", [1, 5]) and compare(2.5, "<", 3)
    assert compare(True, "=", True) and not compare("true", "=", True)


def _identifiers(api, conditions, resource="company/companies"):
    response = api.get(resource, params={"conditions": conditions, "orderBy": "id asc"})
    assert response.status_code == 200, response.text
    return [row.get("identifier") or row["id"] for row in response.json()]


def test_http_quotes_ampersand_and_in_lists(api):
    assert _identifiers(api, r'name="Stark & Wayne \"Industries\""') == ["StarkWayne"]
    assert _identifiers(api, 'identifier in ("Hooli","globex")') == ["Globex", "Hooli"]
    assert _identifiers(api, 'identifier not in ("Hooli","Globex") and name like "%Corp%"') == ["AcmeCorp", "Umbrella"]


def test_http_unicode_backslash_and_brackets_in_names(api):
    for identifier, name in (("Cafe", "Café Zürich ✓"), ("Slash", "Back\\slash \\\" mix"),
                             ("Brackets", "[Brackets] (and) parens, commas")):
        assert api.post("company/companies", {"identifier": identifier, "name": name}).status_code == 201
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        assert _identifiers(api, f'name="{escaped}"') == [identifier]


def test_http_nested_reference_fields_booleans_null_and_dates(api):
    contacts = api.find("company/contacts", 'company/identifier="acmecorp" and defaultFlag=true')
    assert [c["firstName"] for c in contacts] == ["Wile"]
    assert _identifiers(api, 'status/name="Active" and defaultContact/id=null') == ["NoContactLtd"]
    assert len(_identifiers(api, "_info/lastUpdated > [2000-01-01T00:00:00Z]")) == 7
    assert _identifiers(api, "_info/lastUpdated < [2000-01-01]") == []
    assert _identifiers(api, '(identifier="Hooli" or identifier="Globex") and (id>0 or id<0)') == ["Globex", "Hooli"]
    assert _identifiers(api, 'identifier="Hooli" or identifier="Globex" and id<0') == ["Hooli"]


def test_http_syntax_error_is_400_invalid_object(api):
    for text in ('name="unterminated', "identifier = ", "nosuchfield=1", "status/nosuch=1", r'name="a\q"'):
        response = api.get("company/companies", params={"conditions": text})
        assert response.status_code == 400, text
        body = response.json()
        assert body["code"] == "InvalidObject" and body["message"].startswith("conditions")


def test_count_uses_conditions(api):
    assert api.get("company/companies/count").json() == {"count": 7}
    assert api.get("company/companies/count", params={"conditions": 'identifier like "%o%"'}).json() == {"count": 4}
    assert api.get("company/companies/count", params={"conditions": "id=("}).status_code == 400


@pytest.mark.parametrize("actual, values, found", [
    ("GLOBEX", ["hooli", "globex"], True),
    ("Globex", ["Globe", "Globex Corp"], False),
    (2, [1, 2], True),
    (2, [1.0, 2.0], True),
    (2.5, [2, 3], False),
    ("5", [5, 6], True),
    (5, ["5"], True),
    (True, [1], False),
    (1, [True], False),
])
def test_in_matches_as_equality_does(actual, values, found):
    assert compare(actual, "in", values) is found
    assert compare(actual, "not in", values) is not found
    assert found == any(compare(actual, "=", value) for value in values)
