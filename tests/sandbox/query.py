"""What a list read selects by: field paths as ConnectWise resolves them, and the three filters.

- ``conditions`` compare a row's own fields and its references' (``company/identifier``);
- ``childConditions`` compare the members of an array field (``types/id = 3``,
  ``communicationItems/value like "*@acme.com"``): a comparison holds when one member matches;
- ``customFieldConditions`` compare one custom field at a time (``caption="Backup Tier" and
  value="Gold"``): a row matches when one of its custom fields satisfies the whole expression.

Field names are matched in any case and given back in the resource's own spelling
(``Identifier`` -> ``identifier``); ``lastUpdated`` names ``_info/lastUpdated`` on every resource.
An unknown name is a ``ConditionError`` (the app answers 400). Paths are resolved once per read,
so evaluating a row looks names up directly.
"""

from .conditions import ConditionError, evaluate, evaluate_any, fields_of, map_fields
from .schema import CUSTOM_FIELD_KEYS

INFO_KEYS = ("lastUpdated", "updatedBy", "dateEntered", "enteredBy")


def _spelling(name, choices):
    """The element of ``choices`` equal to ``name`` ignoring case, or None."""
    folded = name.casefold()
    return next((choice for choice in choices if choice.casefold() == folded), None)


def _info_path(path, where):
    key = _spelling(path[0], INFO_KEYS) if len(path) == 1 else None
    if key is None:
        raise ConditionError(f"unknown field {'/'.join(path)!r} {where}: _info has {', '.join(INFO_KEYS)}")
    return ("_info", key)


def _ref_path(store, name, spec, rest):
    """``company/identifier`` and ``company/_info/lastUpdated`` in the target's spelling."""
    if spec.target is None:   # a reference to a table the sandbox does not model: stored as sent
        return (name, *rest)
    if rest[0].casefold() == "_info":
        return (name, *_info_path(rest[1:], f"of {name}"))
    allowed = ("id", *store.resources[spec.target].display)
    key = _spelling(rest[0], allowed)
    if key is None or len(rest) > 1:
        raise ConditionError(f"unknown field {'/'.join((name, *rest))!r}: {name} has {sorted(allowed)}")
    return (name, key)


def field_path(store, table, path):
    """A ``conditions``/``orderBy`` path in canonical form, or ConditionError."""
    res = store.resources[table]
    first, rest = path[0], path[1:]
    if first.casefold() == "_info":
        return _info_path(rest, f"for {res.label}")
    name = _spelling(first, res.fields)
    if name is None and not rest and first.casefold() == "lastupdated":
        return ("_info", "lastUpdated")
    if name is None:
        raise ConditionError(f"unknown field {'/'.join(path)!r} for {res.label}")
    spec = res.fields[name]
    if spec.kind == "list":
        raise ConditionError(f"{name} is an array field of {res.label}: compare its members with childConditions "
                             f"(childConditions={name}/...), not conditions")
    if not rest:
        return (name,)
    if spec.kind == "ref":
        return _ref_path(store, name, spec, rest)
    raise ConditionError(f"field {name!r} of {res.label} has no sub-field {rest[0]!r}")


def order_path(store, table, path):
    """An ``orderBy`` path in canonical form; an unknown name is a ConditionError naming orderBy."""
    try:
        return field_path(store, table, path)
    except ConditionError as exc:
        raise ConditionError(f"orderBy is invalid: {exc}") from exc


def child_path(store, table, path):
    """A ``childConditions`` path (``types/id``) in canonical form, or ConditionError."""
    res = store.resources[table]
    arrays = [name for name, spec in res.fields.items() if spec.kind == "list"]
    name = _spelling(path[0], arrays)
    if name is None:
        raise ConditionError(f"{path[0]!r} is not an array field of {res.label}; its array fields are "
                             f"{', '.join(arrays) or 'none'}")
    items = res.fields[name].items
    key = _spelling(path[1], items) if len(path) > 1 else None
    if key is None:
        raise ConditionError(f"{'/'.join(path)!r}: name a field of the members of {name} ({', '.join(items)})")
    return (name, key, *path[2:])


def custom_field_path(path):
    """A ``customFieldConditions`` field (``caption``, ``value``...), or ConditionError."""
    key = _spelling(path[0], CUSTOM_FIELD_KEYS) if len(path) == 1 else None
    if key is None:
        raise ConditionError(f"unknown custom field property {'/'.join(path)!r}; use {', '.join(CUSTOM_FIELD_KEYS)}")
    return (key,)


def resolved(param, node, rename):
    """``node`` with canonical field names; an unknown name is a ConditionError naming ``param``."""
    if node is None:
        return None
    try:
        return map_fields(node, rename)
    except ConditionError as exc:
        raise ConditionError(f"{param} is invalid: {exc}") from exc


def _members(value):
    return [member for member in value if isinstance(member, dict)] if isinstance(value, list) else []


def _dig(value, path):
    for segment in path:
        value = value.get(segment) if isinstance(value, dict) else None
    return value


class Selection:
    """The parsed filters of one read, resolved against a table; ``matches(row)`` applies them all."""

    def __init__(self, store, table, where=None, children=None, custom=None):
        self.store, self.table = store, table
        self.where = resolved("conditions", where, lambda path: field_path(store, table, path))
        self.children = resolved("childConditions", children, lambda path: child_path(store, table, path))
        self.custom = resolved("customFieldConditions", custom, custom_field_path)
        self.has_custom_fields = "customFields" in store.resources[table].fields

    def paths(self):
        return fields_of(self.where) if self.where is not None else []

    def matches(self, row):
        store, table = self.store, self.table
        if self.where is not None and not evaluate(self.where, lambda path: store.value_at(table, row, path)):
            return False
        if self.children is not None and not evaluate_any(
                self.children, lambda path: [_dig(m, path[1:]) for m in _members(row.get(path[0]))]):
            return False
        if self.custom is not None:
            fields = _members(row.get("customFields")) if self.has_custom_fields else []
            return any(evaluate(self.custom, lambda path, f=f: f.get(path[0])) for f in fields)
        return True
