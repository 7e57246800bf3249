"""ConnectWise ``conditions`` parser and evaluator.

A real tokenizer and recursive-descent parser, so the client's quoting and escaping are
tested against a strict reading of the grammar (a regex-based matcher would accept what
ConnectWise refuses). Grammar::

    expr       := and_expr ("or" and_expr)*
    and_expr   := primary ("and" primary)*
    primary    := "(" expr ")" | comparison
    comparison := FIELD operator value
    operator   := = | != | < | <= | > | >= | contains | like | in
                | not contains | not like | not in
    value      := STRING | NUMBER | DATE | true | false | null | "(" value ("," value)* ")"

Strings are double-quoted, or single-quoted as in the guide's own search samples, with ``\\"``,
``\\'`` and ``\\\\`` as the only escapes; dates are
``[2026-10-01T00:00:00Z]`` or ``[2026-10-01]``. Keywords are case-insensitive, and string
comparison is case-insensitive like SQL Server's default collation. A comparison whose
field is null is false except ``= null`` (SQL semantics).
"""

import operator
import re
from dataclasses import dataclass
from datetime import datetime, timezone


class ConditionError(ValueError):
    """The conditions text is not valid; the message says what and where."""


KEYWORDS = {"and", "or", "not", "contains", "like", "in", "true", "false", "null"}
OPERATORS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<date>\[[^\]\[]*\])
  | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z0-9_/]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_/]*)
""", re.VERBOSE)
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?)?(Z|[+-]00:00)?$")


@dataclass(frozen=True)
class Token:
    kind: str   # lparen rparen comma op string date number word keyword end
    value: object
    pos: int


@dataclass(frozen=True)
class Comparison:
    field: tuple   # path segments, e.g. ("company", "identifier")
    op: str        # "=", "contains", "not in", ...
    value: object  # str, int/float, bool, None, datetime or list of those


@dataclass(frozen=True)
class Logical:
    op: str        # "and" | "or"
    parts: tuple


def parse_datetime(text):
    """Parse a ConnectWise date or date-time; return an aware UTC datetime or None."""
    match = DATE_RE.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups()[:6])
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None


def _read_string(text, start):
    """Read a string quoted with ``text[start]`` (``"`` or ``'``); return (value, end)."""
    quote = text[start]
    out = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            return "".join(out), i + 1
        if char == "\\":
            nxt = text[i + 1:i + 2]
            if nxt not in ('"', "'", "\\"):
                raise ConditionError(f"invalid escape sequence '\\{nxt}' in string at position {i}; only \\\", \\' "
                                     "and \\\\ are allowed")
            out.append(nxt)
            i += 2
            continue
        out.append(char)
        i += 1
    raise ConditionError(f"unterminated string starting at position {start}")


def tokenize(text):
    """Split conditions text into tokens, raising ConditionError on anything unknown."""
    tokens = []
    pos = 0
    while pos < len(text):
        if text[pos] in "\"'":
            value, end = _read_string(text, pos)
            tokens.append(Token("string", value, pos))
            pos = end
            continue
        match = TOKEN_RE.match(text, pos)
        if not match:
            raise ConditionError(f"unexpected character {text[pos]!r} at position {pos}")
        kind = match.lastgroup
        raw = match.group()
        if kind == "date":
            when = parse_datetime(raw[1:-1])
            if when is None:
                raise ConditionError(f"invalid date {raw} at position {pos}")
            tokens.append(Token("date", when, pos))
        elif kind == "number":
            tokens.append(Token("number", float(raw) if "." in raw else int(raw), pos))
        elif kind == "word" and raw.lower() in KEYWORDS:
            tokens.append(Token("keyword", raw.lower(), pos))
        elif kind != "ws":
            tokens.append(Token(kind, raw, pos))
        pos = match.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


class _Parser:
    """Recursive descent over the token list (see the module docstring for the grammar)."""

    def __init__(self, text):
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_keyword(self, *words):
        token = self.peek()
        return token.kind == "keyword" and token.value in words

    def fail(self, expected):
        token = self.peek()
        found = "end of input" if token.kind == "end" else repr(token.value)
        raise ConditionError(f"expected {expected} but found {found} at position {token.pos}")

    def parse(self):
        if self.peek().kind == "end":
            raise ConditionError("is empty")
        node = self.expr()
        if self.peek().kind != "end":
            self.fail("'and', 'or' or end of input")
        return node

    def expr(self):
        parts = [self.and_expr()]
        while self.is_keyword("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Logical("or", tuple(parts))

    def and_expr(self):
        parts = [self.primary()]
        while self.is_keyword("and"):
            self.take()
            parts.append(self.primary())
        return parts[0] if len(parts) == 1 else Logical("and", tuple(parts))

    def primary(self):
        if self.peek().kind == "lparen":
            self.take()
            node = self.expr()
            if self.peek().kind != "rparen":
                self.fail("')'")
            self.take()
            return node
        return self.comparison()

    def comparison(self):
        token = self.peek()
        if token.kind != "word":
            self.fail("a field name")
        self.take()
        field = tuple(token.value.split("/"))
        if "" in field:
            raise ConditionError(f"invalid field name {token.value!r} at position {token.pos}")
        op = self.operator()
        value = self.value(allow_list=op in ("in", "not in"))
        _check_operand(op, value, token)
        return Comparison(field, op, value)

    def operator(self):
        token = self.peek()
        if token.kind == "op":
            self.take()
            return token.value
        if self.is_keyword("contains", "like", "in"):
            return self.take().value
        if self.is_keyword("not"):
            self.take()
            if not self.is_keyword("contains", "like", "in"):
                self.fail("'contains', 'like' or 'in' after 'not'")
            return "not " + self.take().value
        return self.fail("an operator")

    def value(self, allow_list):
        token = self.peek()
        if token.kind in ("string", "number", "date"):
            return self.take().value
        if self.is_keyword("true", "false"):
            return self.take().value == "true"
        if self.is_keyword("null"):
            self.take()
            return None
        if token.kind == "lparen" and allow_list:
            return self.list_value()
        return self.fail("a list '(...)'" if allow_list else "a value")

    def list_value(self):
        self.take()
        items = [self.value(allow_list=False)]
        while self.peek().kind == "comma":
            self.take()
            items.append(self.value(allow_list=False))
        if self.peek().kind != "rparen":
            self.fail("',' or ')' in list")
        self.take()
        return items


def _check_operand(op, value, token):
    """Refuse operator/value pairs that have no meaning (as ConnectWise does)."""
    where = f"for field {token.value!r} at position {token.pos}"
    if op in ("in", "not in") and not isinstance(value, list):
        raise ConditionError(f"'{op}' needs a list {where}")
    if op in ("contains", "not contains", "like", "not like") and not isinstance(value, str):
        raise ConditionError(f"'{op}' needs a string {where}")
    if value is None and op not in ("=", "!="):
        raise ConditionError(f"null can only be compared with = or != {where}")


def parse(text):
    """Parse conditions text into a tree of Comparison/Logical nodes."""
    return _Parser(text).parse()


def fields_of(node):
    """Every field path the tree compares, to check them against the resource."""
    if isinstance(node, Comparison):
        return [node.field]
    return [path for part in node.parts for path in fields_of(part)]


def map_fields(node, rename):
    """The same tree with each comparison's field replaced by ``rename(field)`` (canonical names)."""
    if isinstance(node, Comparison):
        return Comparison(rename(node.field), node.op, node.value)
    return Logical(node.op, tuple(map_fields(part, rename) for part in node.parts))


def evaluate(node, lookup):
    """True when the tree matches; ``lookup(path)`` returns a field's value (None if absent)."""
    if isinstance(node, Logical):
        results = (evaluate(part, lookup) for part in node.parts)
        return all(results) if node.op == "and" else any(results)
    return compare(lookup(node.field), node.op, node.value)


def evaluate_any(node, lookup_all):
    """``evaluate`` where a field names an array's members: ``lookup_all(path)`` returns the value of
    ``path`` in each member, and a comparison is true when one of them matches (``childConditions``)."""
    if isinstance(node, Logical):
        results = (evaluate_any(part, lookup_all) for part in node.parts)
        return all(results) if node.op == "and" else any(results)
    return any(compare(value, node.op, node.value) for value in lookup_all(node.field))


def _pair(actual, expected):
    """Bring a stored value and a condition value to comparable forms, or None."""
    if isinstance(expected, datetime):
        actual_dt = parse_datetime(actual) if isinstance(actual, str) else None
        return (actual_dt, expected) if actual_dt else None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return (actual, expected) if isinstance(actual, bool) and isinstance(expected, bool) else None
    if isinstance(expected, (int, float)):
        if isinstance(actual, (int, float)):
            return actual, expected
        try:
            return float(actual), expected
        except (TypeError, ValueError):
            return None
    if isinstance(actual, str):
        return actual.casefold(), expected.casefold()
    if isinstance(actual, (int, float)):
        try:
            return actual, float(expected)
        except ValueError:
            return None
    return None


def _like_regex(pattern):
    parts = (".*" if char in "%*" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def compare(actual, op, expected):
    """Apply one operator with SQL null semantics and case-insensitive strings."""
    if expected is None:
        return (actual is None) == (op == "=")
    if actual is None or isinstance(actual, (dict, list)):
        return False
    if op in ("in", "not in"):
        found = _is_in(actual, expected)
        return found == (op == "in")
    if op in ("contains", "not contains"):
        found = expected.casefold() in str(actual).casefold()
        return found == (op == "contains")
    if op in ("like", "not like"):
        found = _like_regex(expected).fullmatch(str(actual)) is not None
        return found == (op == "like")
    pair = _pair(actual, expected)
    if pair is None:
        return False
    try:
        return OPERATORS[op](*pair)
    except TypeError:
        return False


def _is_in(actual, expected):
    """``actual in (expected...)`` as ``_equal`` decides it, by set lookup for the common forms.

    The client reads by ``identifier in (...)`` with a hundred values over thousands of rows
    (benchmarks, paging tests); comparing pair by pair made the sandbox the slow part.
    """
    if isinstance(actual, str) and all(isinstance(item, str) for item in expected):
        return actual.casefold() in {item.casefold() for item in expected}
    if _plain_number(actual) and all(_plain_number(item) for item in expected):
        return actual in set(expected)
    return any(_equal(actual, item) for item in expected)


def _plain_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equal(actual, expected):
    if expected is None:
        return actual is None
    pair = _pair(actual, expected)
    return pair is not None and pair[0] == pair[1]
