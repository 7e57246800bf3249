"""The in-memory ConnectWise database: tables, validation, references, CRUD.

One re-entrant lock guards everything, so concurrent clients (the HTTP server is threaded)
see each write whole. Rows are stored in a canonical form: references as ``{"id": N}``
(rendered with the referenced row's current name on the way out, so a rename shows up
everywhere as it does in ConnectWise), dates as ``2026-10-01T00:00:00Z`` strings, floats as
floats. Validation is driven by ``schema.RESOURCES`` (or the tables a store is given); rules
spanning several fields are in ``rules.py``.
"""

import copy
import threading
from dataclasses import dataclass, field as dc_field

from . import rules
from .clock import Clock
from .coerce import COERCERS, apply_operations
from .errors import ApiError, field_error, invalid_object, not_found
from .query import Selection, order_path
from .schema import LOAD_ORDER, RESOURCES

API_ACTOR = "SandboxAPI"
FIXTURE_ACTOR = "SandboxFixture"


class FixtureError(ValueError):
    """A fixture row that ConnectWise would refuse; the message names the table and row."""


def _fold(value):
    """Comparison form for uniqueness and name lookups: strings case-insensitive, refs by id."""
    if isinstance(value, str):
        return value.strip().casefold()
    if isinstance(value, dict):
        return value.get("id")
    return value


def _is_empty(value):
    return value is None or value == {} or (isinstance(value, str) and not value.strip())


@dataclass
class _DeletePlan:
    deletes: list = dc_field(default_factory=list)
    clears: list = dc_field(default_factory=list)
    blockers: list = dc_field(default_factory=list)


class Store:
    """All ConnectWise tables of one sandbox."""

    def __init__(self, fixture=None, clock=None, resources=None):
        """``resources``: the tables served, by table name (default: ConnectWise's, ``schema.RESOURCES``)."""
        self.clock = clock or Clock()
        self.resources = dict(RESOURCES if resources is None else resources)
        self.load_order = [t for t in LOAD_ORDER if t in self.resources] + \
            [t for t in self.resources if t not in LOAD_ORDER]
        self.lock = threading.RLock()
        self.tables = {}
        self.next_ids = {}
        self.load(fixture or {})

    # ----------------------------------------------------------------- loading
    def load(self, fixture):
        """Replace every table with the fixture's ``connectwise`` rows, validated like API writes.

        Rows go through ``create`` so a fixture cannot hold what ConnectWise would refuse.
        """
        tables = fixture.get("connectwise", {})
        unknown = set(tables) - set(self.resources)
        if unknown:
            raise FixtureError(f"unknown fixture tables: {sorted(unknown)}; known: {sorted(self.resources)}")
        with self.lock:
            previous = self.tables, self.next_ids
            self.tables = {name: {} for name in self.resources}
            self.next_ids = {name: 1 for name in self.resources}
            try:
                for table in self.load_order:
                    for index, row in enumerate(tables.get(table, [])):
                        self._load_row(table, index, row)
            except FixtureError:
                self.tables, self.next_ids = previous  # a bad fixture leaves the old data in place
                raise

    def _load_row(self, table, index, row):
        try:
            self.create(table, row, actor=FIXTURE_ACTOR)
        except ApiError as exc:
            raise FixtureError(f"fixture {table}[{index}] {row!r}: {exc.body}") from exc

    # ----------------------------------------------------------------- reading
    def reference(self, table, row_id):
        """A reference to a row as ConnectWise returns it: id, name/identifier, _info."""
        res = self.resources[table]
        out = {"id": row_id}
        row = self.tables[table].get(row_id)
        if row is not None:
            for key, source in res.display.items():
                value = self._display_value(row, source)
                if value is not None:
                    out[key] = value
        out["_info"] = {f"{res.label}_href": f"/v4_6_release/apis/3.0/{res.path.replace('{parent}', '0')}/{row_id}"}
        return out

    @staticmethod
    def _display_value(row, source):
        if isinstance(source, tuple):
            parts = [row.get(name) for name in source if row.get(name)]
            return " ".join(parts) if parts else None
        return row.get(source)

    def render(self, table, row):
        """A row as the API returns it: null fields omitted, flags ``false`` when never set,
        references expanded, _info last."""
        res = self.resources[table]
        out = {"id": row["id"]}
        for name, spec in res.fields.items():
            value = _stored(spec, row.get(name))
            if name == "id" or spec.write_only or value is None:
                continue
            if spec.kind == "ref" and spec.target:
                value = self.reference(spec.target, value["id"])
            out[name] = copy.deepcopy(value)
        out.update(rules.derived(self, table, row))
        out["_info"] = dict(row["_info"])
        return out

    def value_at(self, table, row, path):
        """The value a canonical condition or orderBy path names (``company/identifier``,
        ``_info/lastUpdated``; see ``query.field_path``)."""
        first, rest = path[0], path[1:]
        spec = self.resources[table].fields.get(first)
        value = rules.derived(self, table, row, (first,)).get(first, _stored(spec, row.get(first)))
        if spec is not None and spec.kind == "ref" and spec.target and isinstance(value, dict) and rest:
            value = self.reference(spec.target, value["id"])
        elif spec is not None and spec.kind == "ref" and spec.target and not rest:
            return None
        for segment in rest:
            value = value.get(segment) if isinstance(value, dict) else None
        return value

    def _parent_rows(self, table, parent_id):
        res = self.resources[table]
        rows = self.tables[table].values()
        if res.parent_field is None:
            return list(rows)
        if parent_id not in self.tables[res.parent_table]:
            raise not_found(f"{self.resources[res.parent_table].label} {parent_id}")
        return [row for row in rows if _fold(row.get(res.parent_field)) == parent_id]

    def _row(self, table, row_id, parent_id=None):
        row = self.tables[table].get(row_id)
        res = self.resources[table]
        if res.parent_field is not None:
            self._parent_rows(table, parent_id)  # 404 for a missing parent
            if row is not None and _fold(row.get(res.parent_field)) != parent_id:
                row = None
        if row is None:
            raise not_found(f"{res.label} {row_id}")
        return row

    def select(self, table, parent_id=None, where=None, order=(), children=None, custom=None):
        """Rows matching parsed ``conditions`` (``where``), ``childConditions`` and
        ``customFieldConditions`` trees, sorted by [(path, descending)], default id asc.
        Field names may be in any case (``query.py``); an unknown one is a ConditionError."""
        selection = Selection(self, table, where, children, custom)
        order = [(order_path(self, table, path), descending) for path, descending in order]
        with self.lock:
            rows = [row for row in self._parent_rows(table, parent_id) if selection.matches(row)]
            rows.sort(key=lambda row: row["id"])
            for path, descending in reversed(order):
                rows.sort(key=lambda row, path=path: _sort_key(self.value_at(table, row, path)), reverse=descending)
            return rows

    def query(self, table, parent_id=None, where=None, order=(), page=1, page_size=25):
        """One page of rendered rows and the total count (the list endpoint)."""
        with self.lock:
            rows = self.select(table, parent_id, where, order)
            start = (page - 1) * page_size
            return len(rows), [self.render(table, row) for row in rows[start:start + page_size]]

    def get(self, table, row_id, parent_id=None):
        with self.lock:
            return self.render(table, self._row(table, row_id, parent_id))

    def rows(self, table):
        """Every row of a table, rendered (for tests that inspect state)."""
        with self.lock:
            return [self.render(table, row) for row in sorted(self.tables[table].values(), key=lambda r: r["id"])]

    # ----------------------------------------------------------------- writing
    def create(self, table, body, parent_id=None, actor=API_ACTOR):
        """POST: validate, assign an id, store, run side effects; return the rendered row."""
        res = self.resources[table]
        with self.lock:
            if res.parent_field is not None:
                parent_id = parent_id if parent_id is not None else self._parent_from_body(res, body)
                self._parent_rows(table, parent_id)
            row = self._build(res, body, None, parent_id)
            row_id = self._new_id(table, body.get("id") if actor == FIXTURE_ACTOR else None)
            now = self.clock.now()
            row["id"] = row_id
            row["_info"] = {"lastUpdated": now, "updatedBy": actor, "dateEntered": now, "enteredBy": actor}
            self.tables[table][row_id] = row
            rules.after_commit(self, res, row)
            return self.render(table, row)

    def add_generated(self, table, row, actor=API_ACTOR):
        """Store a row ConnectWise makes itself (an invoice of agreement invoicing), unvalidated."""
        with self.lock:
            row = dict(row, id=self._new_id(table, None))
            now = self.clock.now()
            row["_info"] = {"lastUpdated": now, "updatedBy": actor, "dateEntered": now, "enteredBy": actor}
            self.tables[table][row["id"]] = row
            return row

    def replace(self, table, row_id, body, parent_id=None, actor=API_ACTOR):
        """PUT: the body is the whole new object (omitted fields become empty)."""
        with self.lock:
            current = self._row(table, row_id, parent_id)
            return self._commit(table, current, self._build(self.resources[table], body, current, parent_id), actor)

    def patch(self, table, row_id, operations, parent_id=None, actor=API_ACTOR):
        """PATCH: apply the operations to the stored object, then validate the result whole."""
        res = self.resources[table]
        with self.lock:
            current = self._row(table, row_id, parent_id)
            draft = {k: copy.deepcopy(v) for k, v in current.items() if k not in ("id", "_info")}
            apply_operations(res, draft, operations)
            return self._commit(table, current, self._build(res, draft, current, parent_id), actor)

    def delete(self, table, row_id, parent_id=None):
        """DELETE: refused while other rows reference this one (restrict), like ConnectWise."""
        with self.lock:
            self._row(table, row_id, parent_id)
            plan = _DeletePlan()
            self._plan_delete(table, row_id, plan)
            blockers = [b for b in plan.blockers if (b[0], b[1]) not in plan.deletes]
            if blockers:
                ref_table, ref_id, ref_field = blockers[0]
                label = self.resources[table].label
                raise ApiError(400, f"Cannot delete {label} {row_id}: it is in use by {self.resources[ref_table].label} "
                                    f"{ref_id} ({ref_field}) and {len(blockers) - 1} more; delete those first",
                               "InvalidObject", [field_error(label, "id", "object is referenced", "InUse")])
            for ref_table, ref_id, ref_field in plan.clears:
                if (ref_table, ref_id) not in plan.deletes:
                    self.tables[ref_table][ref_id][ref_field] = None
            for del_table, del_id in plan.deletes:
                self.tables[del_table].pop(del_id, None)

    # ----------------------------------------------------------------- internals
    def _new_id(self, table, wanted):
        if isinstance(wanted, int) and not isinstance(wanted, bool) and wanted > 0:
            if wanted in self.tables[table]:
                raise FixtureError(f"{table}: duplicate id {wanted}")
            row_id = wanted
        else:
            row_id = self.next_ids[table]
        self.next_ids[table] = max(self.next_ids[table], row_id + 1)
        return row_id

    def _commit(self, table, current, row, actor):
        res = self.resources[table]
        row["id"] = current["id"]
        row["_info"] = dict(current["_info"], lastUpdated=self.clock.now(), updatedBy=actor)
        self.tables[table][current["id"]] = row
        rules.after_commit(self, res, row)
        return self.render(table, row)

    def _parent_from_body(self, res, body):
        """A nested row in a fixture names its parent in the body (agreementId / integration ref)."""
        value = body.get(res.parent_field) if isinstance(body, dict) else None
        if isinstance(value, dict):
            row_id, problem = self.resolve(res.parent_table, value)
            if problem:
                raise invalid_object(res.label, [field_error(res.label, res.parent_field, problem)])
            return row_id
        if isinstance(value, int):
            return value
        raise invalid_object(res.label, [field_error(res.label, res.parent_field, f"{res.parent_field} is required",
                                                     "NullOrEmptyRequired")])

    def _build(self, res, body, current, parent_id):
        """Validate a request body into a stored row (without id and _info), or raise 400."""
        if not isinstance(body, dict):
            raise ApiError(400, f"{res.label} object is invalid: the body must be a JSON object", "InvalidObject")
        errors = []
        row = {}
        for name, spec in res.fields.items():
            if not spec.read_only and name in body:
                row[name] = self._coerce(res, name, spec, body[name], errors)
        if res.parent_field is not None:
            link = parent_id if parent_id is not None else _fold(current.get(res.parent_field))
            row[res.parent_field] = {"id": link} if res.fields[res.parent_field].kind == "ref" else link
        rules.apply_defaults(self, res, row, current)
        for name, spec in res.fields.items():
            needed = spec.required or (current is not None and spec.required_on_update)
            if needed and _is_empty(row.get(name)) and not any(e["field"] == name for e in errors):
                errors.append(field_error(res.label, name, f"{name} is required", "NullOrEmptyRequired"))
        if not errors:
            rules.check(self, res, row, current, errors)
            self._check_unique(res, row, current, errors)
        if errors:
            raise invalid_object(res.label, errors)
        rules.compute(self, res, row)
        return row

    def _coerce(self, res, name, spec, value, errors):
        """One field's value in stored form; appends an InvalidField error when it is not valid."""
        if value is None:
            return None
        problem, result = COERCERS[spec.kind](self, spec, value)
        if problem:
            errors.append(field_error(res.label, name, f"{name} {problem}"))
        return result

    def resolve(self, table, reference):
        """Find the row a reference names: by id, else by the table's key. Returns (id, problem)."""
        res = self.resources[table]
        if reference.get("id") is not None:
            row_id = reference["id"]
            if isinstance(row_id, int) and not isinstance(row_id, bool) and row_id in self.tables[table]:
                return row_id, None
            return None, f"references {res.label} id {row_id!r}, which does not exist"
        if isinstance(reference.get(res.key), str):
            wanted, source = reference[res.key], res.display.get(res.key, res.key)
        elif isinstance(reference.get("name"), str) and "name" in res.display:
            wanted, source = reference["name"], res.display["name"]
        else:
            return None, f"must be a reference with 'id' or '{res.key}'"
        matches = [row["id"] for row in self.tables[table].values()
                   if _fold(self._display_value(row, source)) == _fold(wanted)]
        if len(matches) == 1:
            return matches[0], None
        if not matches:
            return None, f"references {res.label} {wanted!r}, which does not exist"
        return None, f"references {res.label} {wanted!r}, which matches {len(matches)} rows; send its id"

    def _check_unique(self, res, row, current, errors):
        for group in res.unique:
            values = tuple(_fold(row.get(name)) for name in group)
            if any(value is None for value in values):
                continue
            for other in self.tables[res.table].values():
                if current is not None and other["id"] == current["id"]:
                    continue
                if tuple(_fold(other.get(name)) for name in group) == values:
                    errors.append(_duplicate(res, group, row, other))
                    break

    def _referrers(self, table, row_id):
        """(table, row id, field, on_delete) of every row that points to this one."""
        for ref_table, res in self.resources.items():
            for name, spec in res.fields.items():
                points_here = (spec.kind == "ref" and spec.target == table) or \
                              (name == res.parent_field and res.parent_table == table)
                if not points_here:
                    continue
                for other in self.tables[ref_table].values():
                    if _fold(other.get(name)) == row_id:
                        yield ref_table, other["id"], name, spec.on_delete

    def _plan_delete(self, table, row_id, plan):
        if (table, row_id) in plan.deletes:
            return
        plan.deletes.append((table, row_id))
        for ref_table, ref_id, ref_field, policy in list(self._referrers(table, row_id)):
            if policy == "cascade":
                self._plan_delete(ref_table, ref_id, plan)
            elif policy == "clear":
                plan.clears.append((ref_table, ref_id, ref_field))
            else:
                plan.blockers.append((ref_table, ref_id, ref_field))


def _stored(spec, value):
    """A stored value as read: a flag never set is ``false`` (ConnectWise returns and matches it so)."""
    if value is None and spec is not None and spec.kind == "bool":
        return False
    return value


def _duplicate(res, group, row, other):
    """ConnectWise's field error for a duplicate: code ``ObjectExists`` (a company's own wording)."""
    shown = [name for name in group if name != res.parent_field]
    if res.table == "companies":
        message = "Company ID already in use."
    else:
        desc = ", ".join(f"{name} {row.get(name)!r}" for name in shown)
        message = f"A {res.label} with {desc} already exists (id {other['id']})"
    return field_error(res.label, shown[0], message, "ObjectExists")


def _sort_key(value):
    """Sort None first, then booleans, numbers, strings (case-insensitive), like SQL Server."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, str):
        return (3, value.casefold())
    return (4, str(value))
