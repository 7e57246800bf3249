"""From a request body to stored values: one coercer per field kind, and PATCH operations.

A coercer returns ``(problem, value)``: ``problem`` is the field error's text (the caller names the
field), ``value`` the stored form. PATCH applies JSON-patch style operations to a draft of the
row, which is then validated whole like a PUT.
"""

import copy
import re
from datetime import datetime

from .errors import ApiError, field_error, invalid_object

INPUT_DATETIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z?$")


def normalize_datetime(value):
    """``2026-10-01T00:00:00Z`` / ``2026-10-01T00:00:00`` -> ``2026-10-01T00:00:00Z``; else None."""
    match = INPUT_DATETIME_RE.match(value) if isinstance(value, str) else None
    if not match:
        return None
    text = f"{match.group(1)}T{match.group(2)}Z"
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return text


def coerce_str(store, spec, value):
    if not isinstance(value, str):
        return "must be a string", None
    if spec.max_length is not None and len(value) > spec.max_length:
        return f"is {len(value)} characters long; the maximum is {spec.max_length}", value
    return None, value


def coerce_int(store, spec, value):
    ok = isinstance(value, int) and not isinstance(value, bool)
    return (None, value) if ok else ("must be an integer", None)


def coerce_float(store, spec, value):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return (None, float(value)) if ok else ("must be a number", None)


def coerce_bool(store, spec, value):
    return (None, value) if isinstance(value, bool) else ("must be true or false", None)


def coerce_datetime(store, spec, value):
    text = normalize_datetime(value)
    return (None, text) if text else (f"must be a date-time like 2026-10-01T00:00:00Z, not {value!r}", None)


def coerce_enum(store, spec, value):
    for choice in spec.choices:
        if isinstance(value, str) and value.casefold() == choice.casefold():
            return None, choice
    return f"must be one of {', '.join(spec.choices)}, not {value!r}", None


def coerce_ref(store, spec, value):
    if not isinstance(value, dict):
        return "must be a reference object such as {\"id\": 1}", None
    if spec.target is None:
        return None, copy.deepcopy(value)
    row_id, problem = store.resolve(spec.target, value)
    return (problem, None) if problem else (None, {"id": row_id})


def coerce_list(store, spec, value):
    return (None, copy.deepcopy(value)) if isinstance(value, list) else ("must be a list", None)


COERCERS = {
    "str": coerce_str, "int": coerce_int, "float": coerce_float, "bool": coerce_bool,
    "datetime": coerce_datetime, "enum": coerce_enum, "ref": coerce_ref, "list": coerce_list,
}
PATCH_OPS = ("replace", "add", "remove")


def _patch_error(res, path, message):
    return invalid_object(res.label, [field_error(res.label, path or "path", message)])


def apply_operations(res, draft, operations):
    """Apply JSON-patch style operations (replace/add/remove, nested path with '/') to a draft row."""
    if not isinstance(operations, list) or not operations:
        raise ApiError(400, "PATCH body must be a non-empty JSON array of operations", "InvalidObject")
    for operation in operations:
        if not isinstance(operation, dict):
            raise ApiError(400, "each PATCH operation must be an object with op, path and value", "InvalidObject")
        op = str(operation.get("op", "")).lower()
        path = operation.get("path")
        if op not in PATCH_OPS:
            raise _patch_error(res, path, f"op {operation.get('op')!r} is not one of {', '.join(PATCH_OPS)}")
        if not isinstance(path, str) or not path.strip("/"):
            raise _patch_error(res, None, "path is required")
        if op != "remove" and "value" not in operation:
            raise _patch_error(res, path, f"op {op} needs a value")
        _apply_one(res, draft, path.strip("/").split("/"), None if op == "remove" else operation["value"])


def _apply_one(res, draft, segments, value):
    spec = res.fields.get(segments[0])
    if spec is None or spec.read_only:
        what = "is read-only" if spec is not None else f"is not a field of {res.label}"
        raise _patch_error(res, "/".join(segments), f"path {'/'.join(segments)!r} {what}")
    if len(segments) > 1:
        # ConnectWise cannot patch a location inside an object (``type/id``, ``company/identifier``):
        # it answers 200 and changes nothing (its guide: replace the whole reference instead).
        return
    draft[segments[0]] = copy.deepcopy(value)
