# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative ensure engine for the "this object exists" modules.

A module declares a :class:`Resource` (endpoint, natural key, fields) and the
engine does the rest the same way for every module:

* finds the object by its natural key (more than one match is an error, never
  a guess),
* resolves reference fields given by name to ``{"id": N}`` (cached per call),
* compares only the fields the user gave, ignoring server-owned fields,
* creates with POST, then re-reads the natural key so that overlapping runs
  converge on one object (the lowest id wins, a losing run deletes its own
  duplicate and adopts the winner),
* changes only the differing fields with PATCH operations,
* deletes for ``state: absent`` only after reading the rows that still refer to
  the object (ConnectWise refuses such a delete): in use, it fails naming them,
  before any write and in check mode alike,
* in check mode computes the same ``changed``, operation and predicted object
  with reads only: check mode is the same code path with the writes replaced
  by predictions, not an early exit.

Many objects of one kind (hundreds of agreements) go through
:meth:`Engine.ensure_many`: one paged ``in (...)`` read finds them all and
references are fetched in bulk (one read per reference table, one per name for a
reference matched within its parent), so a run costs a few requests plus one per
write instead of several per object; each object's failure is its own outcome.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import decimal
import re

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.client import InputError, field_of
from ansible_collections.mbs.connectwise.plugins.module_utils.dates import cw_datetime
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import (
    ApiError,
    NotFoundError,
    OutcomeUnknown,
)

SERVER_OWNED = frozenset(("id", "_info"))


class _Clear:
    """An option value meaning "this field must be empty" (compared, cleared with a PATCH)."""

    def __repr__(self):
        return "CLEAR"


CLEAR = _Clear()
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(T00:00:00(Z)?)?$")
_ID = re.compile(r"^\s*[0-9]+\s*$")
MISSING = "{option}: no {label} named {value!r} in ConnectWise ({path})"
AMBIGUOUS = "{option}: {value!r} matches {count} ConnectWise objects in {path}; it must be unique"


class Match:
    """A reference found by something other than one field (a contact by its full name).

    ``condition(value)`` selects the candidates in one read, ``value_of(row)`` is what the
    given value must equal (both folded), ``fields`` are the fields ``value_of`` reads.
    """

    def __init__(self, fields, condition, value_of):
        self.fields = tuple(fields)
        self.condition = condition
        self.value_of = value_of


def full_name_condition(name):
    """Rows whose first and last name together are ``name``, whichever word the split is at."""
    words = name.split()
    if len(words) == 1:
        return cond.any_of(cond.equals("firstName", words[0]), cond.equals("lastName", words[0]))
    return cond.any_of(*(cond.all_of(cond.equals("firstName", " ".join(words[:cut])),
                                     cond.equals("lastName", " ".join(words[cut:])))
                         for cut in range(1, len(words))))


def full_name(row):
    return " ".join(part for part in (row.get("firstName"), row.get("lastName")) if part)


# Contacts and members are named "First Last" in ConnectWise's screens; matched that way.
FULL_NAME = Match(("firstName", "lastName"), full_name_condition, full_name)


class Ref:
    """A reference field given by name: which table to look it up in, and by what.

    ``match`` is the field compared with the given name, or a :class:`Match`.
    ``within`` scopes the lookup by another, already resolved, reference:
    ``Ref("procurement/subcategories", within=("category", "category/id"))``
    finds the subcategory among the category's own. ``fields`` are read besides
    ``id`` and the match when many are fetched at once (what a :class:`FromRef`
    default takes from the row). ``missing`` and ``ambiguous`` word the failures
    (``str.format`` with ``option``, ``label``, ``value``, ``path``, ``count``,
    ``ids`` and ``scope``, the scoping row's match value). ``created_by_collection``
    says whether an earlier task of a playbook may create the target, so that
    ``--check`` assumes a missing one will exist; customer data (companies,
    contacts) is never assumed. ``ids``: a number (``4711`` or ``"4711"``) given for
    the option is the object's id, not a name.
    """

    def __init__(self, path, match="name", within=None, label=None, fields=(), missing=MISSING,
                 ambiguous=AMBIGUOUS, created_by_collection=True, ids=False):
        self.path = path
        self.ids = ids
        self.match = match
        self.within = within
        self.label = label
        self.fields = tuple(fields)
        self.missing = missing
        self.ambiguous = ambiguous
        self.created_by_collection = created_by_collection

    @property
    def match_fields(self):
        return list(self.match.fields) if isinstance(self.match, Match) else [self.match]

    def candidates(self, value, scope=None):
        """The condition of the one read that finds ``value`` (within ``scope``)."""
        if isinstance(self.match, Match):
            return cond.all_of(cond.matching(scope or {}), self.match.condition(value))
        return cond.matching(dict(scope or {}, **{self.match: value}))

    def matches(self, row, value):
        """Whether a row the read returned is ``value`` (a :class:`Match` reads candidates)."""
        if isinstance(self.match, Match):
            return fold(self.match.value_of(row)) == fold(value)
        return True


class FromRef:
    """A create default taken from the row of another reference: a company's default contact.

    The object's reference ``option`` names the row (already read in bulk, or read by id);
    its ``field`` must hold a reference. When it does not, creating fails with ``missing``
    (``str.format`` with ``row``, that row, whose absent fields read as None).
    """

    def __init__(self, option, field, missing):
        self.option = option
        self.field = field
        self.missing = missing


class _Row(dict):
    """A row for message templates: a field ConnectWise left out reads as None."""

    def __missing__(self, key):
        return None


class Field:
    """One module option and the ConnectWise field it sets.

    ``kind`` is ``str``, ``bool``, ``int``, ``float``, ``date`` or ``ref``.

    ``create_default`` is the option's value when the user leaves it out and the
    object is created (a name for a ``ref``, resolved like a given one). It is
    never compared: a later run does not undo a change made in ConnectWise to a
    value the user never asked for. Options the user gives are always compared.
    A callable ``create_default`` is asked per object, ``f(desired, resolved)``: it
    returns the value (``{"id": N}`` for an already known reference), None for no
    default, or raises ``InputError`` to say why this object has none. A
    :class:`FromRef` takes the value from another reference's row (a new agreement's
    contact is its company's default contact).
    """

    def __init__(self, api, kind="str", ref=None, max_length=None, create_default=None):
        self.api = api
        self.kind = kind
        self.ref = ref
        self.max_length = max_length
        self.create_default = create_default


class Parent:
    """Objects nested under another (cross-references under an integration)."""

    def __init__(self, option, ref):
        self.option = option
        self.ref = ref


class Referrer:
    """Rows that refer to an object and make ConnectWise refuse its delete while they exist.

    ``path`` is where they are listed; ``field`` the reference to the object (``type/id``), or
    None for rows nested under the object itself (``path`` then has ``{id}``: an agreement's
    additions). ``parents`` lists the collection ``{parent}`` in ``path`` runs over (the
    cross-references under every integration).
    """

    def __init__(self, path, field, label, parents=None):
        self.path = path
        self.field = field
        self.label = label
        self.parents = parents


class Resource:
    """What a module manages. ``path`` may contain ``{parent}`` for nested resources.

    ``create_defaults`` are API fields (not options) always sent on create and never
    compared. ``required_on_create`` lists the options ConnectWise needs to create the
    object: each entry is an option name or a tuple of options of which at least one
    must be given (or have a ``create_default``); creating without them fails before
    any write, naming them.
    """

    def __init__(self, name, path, key, fields, create_defaults=None, parent=None,
                 required_on_create=(), referrers=()):
        self.name = name
        self.path = path
        self.key = tuple(key)
        self.fields = fields
        self.create_defaults = dict(create_defaults or {})
        self.parent = parent
        self.required_on_create = tuple(required_on_create)
        self.referrers = tuple(referrers)


class Outcome:
    """What happened (or, in check mode, would happen) to one object."""

    def __init__(self, operation, obj, before=None, after=None, warnings=None, key=None, error=None,
                 converged=None):
        self.operation = operation
        # After a create raced another run's: {"kept": winner id, "removed": [our duplicate's id]}.
        self.converged = converged
        self.object = obj
        self.before = before or {}
        self.after = after or {}
        self.warnings = list(warnings or [])
        self.key = key
        self.error = error

    @property
    def changed(self):
        return self.operation in ("create", "update", "delete") or bool((self.converged or {}).get("removed"))

    @property
    def failed(self):
        return self.error is not None

    def diff(self, label=None):
        diff = {"before": self.before, "after": self.after}
        if label:
            diff["before_header"] = diff["after_header"] = label
        return diff


def option_date(value, option):
    """The date an option gives (``2026-10-01``, or a date); a bad one fails naming the option."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    match = _DATE.match(str(value).strip())
    if not match:
        raise InputError("%s: %r is not a date in the form YYYY-MM-DD" % (option, value))
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise InputError("%s: %r is not a valid calendar date" % (option, value))


def api_date(value, option):
    """``2026-10-01`` (or a date) as ConnectWise writes dates: ``2026-10-01T00:00:00Z``."""
    return cw_datetime(option_date(value, option))


def _number(value):
    try:
        return decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return None


def same_value(kind, current, wanted):
    """Whether a server value already equals what the user asked for."""
    if wanted is CLEAR:
        return current is None or current == "" or current == {}
    if kind == "ref":
        current_id = (current or {}).get("id") if isinstance(current, dict) else None
        return wanted.get("id") is not None and current_id == wanted.get("id")
    if kind == "date":
        return bool(current) and str(current)[:10] == str(wanted)[:10]
    if kind in ("float", "int"):
        return current is not None and _number(current) == _number(wanted)
    if kind == "str":
        return (current or "") == (wanted or "")
    return current == wanted


def strip_server_fields(obj):
    return {k: v for k, v in (obj or {}).items() if k != "_info"}


def patched(obj, changes):
    """The object a PATCH of ``changes`` would return: check mode's prediction (None empties a field)."""
    predicted = dict(obj)
    for field, value in changes.items():
        if value is None:
            predicted.pop(field, None)
        else:
            predicted[field] = value
    return predicted


class Engine:
    """Ensures objects of one :class:`Resource` through a ConnectWise client."""

    def __init__(self, client, resource, check_mode=False, deleted_first=None):
        self.client = client
        self.resource = resource
        self.check_mode = check_mode
        # ``deleted_first(referrer, row)``: whether the caller deletes this referring row before this
        # object (a teardown's earlier task); a check-mode preview must not count it as a refusal.
        self.deleted_first = deleted_first
        self._parent_ids = {}
        self._ref_cache = {}
        # Every referenced row read, by (path, id): what a FromRef default and a scoped
        # reference's message take from it.
        self._rows = {}
        # References check mode could not resolve, as data: a playbook can tell "missing in
        # ConnectWise" from "created by an earlier task" without parsing predictions.
        self.unresolved = []
        # Warnings of the whole call rather than of one object (a task-level reference).
        self.warnings = []

    # ---- input --------------------------------------------------------------------------
    def desired_fields(self, params):
        """``{api_field: value}`` for the options the user gave, validated, refs unresolved."""
        desired = {}
        for option, field in self.resource.fields.items():
            value = params.get(option)
            if value is None:
                continue
            if value is CLEAR:
                desired[option] = value
                continue
            if field.max_length is not None and isinstance(value, str) and len(value) > field.max_length:
                raise InputError("%s: %r is %d characters long; ConnectWise allows at most %d"
                                 % (option, value, len(value), field.max_length))
            if isinstance(value, str) and field.kind in ("str", "ref") and not value.strip() \
                    and (option in self.resource.key or field.kind == "ref"):
                raise InputError("%s must not be empty" % option)
            if field.kind == "date":
                value = api_date(value, option)
            elif field.kind == "ref":
                value = self._reference_value(option, field.ref, value)
            desired[option] = value
        missing = [option for option in self.resource.key if desired.get(option) is None]
        if missing:
            raise InputError("missing required option(s): %s" % ", ".join(missing))
        return desired

    @staticmethod
    def _reference_value(option, ref, value):
        """A reference as given: a name, ``{"id": N}``, or (``ref.ids``) a number meaning its id."""
        if isinstance(value, bool) or not isinstance(value, (str, int, dict)):
            raise InputError("%s must be %s, got %r" % (option, "an id or a name" if ref.ids else "a name", value))
        if ref.ids and (isinstance(value, int) or _ID.match(value if isinstance(value, str) else "")):
            return {"id": int(value)}
        return value

    # ---- references ---------------------------------------------------------------------
    def _remember(self, ref, scope, value, rows):
        for row in rows:
            self._rows[(ref.path, row.get("id"))] = row
        self._ref_cache[_cache_key(ref, scope, value)] = rows

    def prefetch(self, ref, values):
        """Fill the reference cache for many names with one chunked read (``ref.match`` a field)."""
        todo = [v for v in set(values) if _cache_key(ref, None, v) not in self._ref_cache]
        if todo:
            found = self.client.find_by(ref.path, ref.match, todo, fields=["id", ref.match] + list(ref.fields))
            for value in todo:
                self._remember(ref, None, value, found[fold(value)])
        return {v: self._ref_cache[_cache_key(ref, None, v)] for v in values}

    def prefetch_within(self, ref, wanted):
        """Fill the cache for names scoped by a parent: ``wanted`` is ``[(parent id, name)]``.

        One chunked read per distinct name covers every parent it is asked within (a contact
        name among the contacts of 200 companies is one read, not 200).
        """
        parent_field = ref.within[1]
        todo = {}  # fold(name) -> (the name as first given, {parent id: {spellings}})
        for parent_id, value in wanted:
            if _cache_key(ref, {parent_field: parent_id}, value) not in self._ref_cache:
                todo.setdefault(fold(value), (value, {}))[1].setdefault(parent_id, set()).add(value)
        fields = ["id", parent_field] + ref.match_fields + list(ref.fields)
        for value, spellings in todo.values():
            found = self.client.find_by(ref.path, parent_field, list(spellings), fields=fields,
                                        conditions=ref.candidates(value))
            for parent_id, names in spellings.items():
                rows = [row for row in found[fold(parent_id)] if ref.matches(row, value)]
                for name in names:
                    self._remember(ref, {parent_field: parent_id}, name, rows)

    def lookup(self, ref, value, scope=None):
        """All objects of ``ref.path`` that ``value`` names (within ``scope``), cached."""
        cache_key = _cache_key(ref, scope, value)
        if cache_key not in self._ref_cache:
            rows = self.client.list(ref.path, conditions=ref.candidates(value, scope))
            self._remember(ref, scope, value, [row for row in rows if ref.matches(row, value)])
        return self._ref_cache[cache_key]

    def row(self, ref, object_id):
        """The row of a resolved reference: the one read with it, else read by id."""
        if (ref.path, object_id) not in self._rows:
            self._rows[(ref.path, object_id)] = self.client.get_by_id(ref.path, object_id)
        return self._rows[(ref.path, object_id)]

    def resolve(self, option, ref, value, resolved=None, warnings=None, missing_ok=False):
        """``{"id": N}`` for a name; in check mode a missing target becomes a placeholder.

        A placeholder lets ``--check`` preview a run on an empty ConnectWise where
        the target is created by an earlier task of the same run (the product a
        cross-reference points to), instead of failing that preview. ``missing_ok``
        gives the placeholder in a real run too: deleting what cannot exist is no error.
        """
        if isinstance(value, dict) and value.get("id") is not None:
            return {"id": value["id"]}
        placeholder = {ref.match if isinstance(ref.match, str) else "name": value, "_unresolved": True}
        scope, scope_name = None, None
        if ref.within:
            other_option, condition_field = ref.within
            other = (resolved or {}).get(other_option)
            if other is None:
                raise InputError("%s: %r can only be looked up within a %s; give %s too"
                                 % (option, value, other_option, other_option))
            if other.get("id") is None:  # the scope itself is a check-mode placeholder
                return placeholder
            scope = {condition_field: other["id"]}
            other_ref = self.resource.fields[other_option].ref
            if isinstance(other_ref.match, str):
                scope_name = field_of(self._rows.get((other_ref.path, other["id"])), other_ref.match)
            scope_name = other["id"] if scope_name is None else scope_name
        matches = self.lookup(ref, value, scope)
        label = ref.label or option
        words = dict(option=option, label=label, value=value, path=ref.path, count=len(matches),
                     ids=", ".join(str(m.get("id")) for m in matches), scope=scope_name)
        if len(matches) > 1:
            raise InputError(ref.ambiguous.format(**words))
        if not matches:
            if missing_ok:
                return placeholder
            if self.check_mode and ref.created_by_collection:
                entry = {"option": option, "label": label, "name": value, "path": ref.path}
                if entry not in self.unresolved:
                    self.unresolved.append(entry)
                if warnings is not None:
                    warnings.append("%s %r does not exist yet; assuming an earlier task creates it"
                                    % (label, value))
                return placeholder
            raise InputError(ref.missing.format(**words))
        return {"id": matches[0]["id"]}

    def resolve_refs(self, desired, warnings, missing_ok=False):
        """Resolve the given references; scoped ones after the references that scope them."""
        refs = [(option, field) for option, field in self.resource.fields.items()
                if option in desired and field.kind == "ref"]
        refs.sort(key=lambda item: item[1].ref.within is not None)
        resolved = {}
        for option, field in refs:
            resolved[option] = self.resolve(option, field.ref, desired[option], resolved, warnings, missing_ok)
        return resolved

    # ---- finding --------------------------------------------------------------------------
    def collection_path(self, params, warnings=None, state="present"):
        """The list path; None when the parent does not exist (yet, in check mode).

        For ``state: absent`` a missing parent is no error: nothing under it exists.
        """
        parent = self.resource.parent
        if parent is None:
            return self.resource.path
        if state == "absent" and not self.lookup(parent.ref, params[parent.option]):
            return None
        ref = self.resolve(parent.option, parent.ref, params[parent.option], warnings=warnings)
        if ref.get("_unresolved"):
            return None
        return self.resource.path.format(parent=ref["id"])

    def key_filters(self, desired, resolved):
        filters = {}
        for option in self.resource.key:
            field = self.resource.fields[option]
            if field.kind == "ref":
                ref = resolved[option]
                if ref.get("_unresolved"):
                    return None
                filters["%s/id" % field.api] = ref["id"]
            else:
                filters[field.api] = desired[option]
        return filters

    def find(self, path, desired, resolved):
        filters = self.key_filters(desired, resolved)
        if path is None or filters is None:
            return None
        matches = self.settled(lambda: list(self.client.list(path, conditions=cond.matching(filters))),
                               lambda found: len(found) > 1)
        return self.single(matches, desired)

    def settled(self, read, crowded):
        """``read()`` again while ``crowded(answer)`` (a key with several objects), until the wait is over.

        Overlapping runs may each have created the object a moment ago; each removes its own
        duplicate once it re-reads (the lowest id wins), so a key seen with several objects is
        read again over the client's settle window before it is called ambiguous. Duplicates
        made by hand stay, and are refused after the wait.
        """
        return self.client.poll(read, lambda found: not crowded(found))

    def single(self, matches, desired):
        if len(matches) > 1:
            key = ", ".join("%s=%r" % (k, desired[k]) for k in self.resource.key)
            raise InputError("%s with %s is ambiguous: %d objects match (ids %s); remove the "
                             "duplicates in ConnectWise or make the name unique"
                             % (self.resource.name, key, len(matches),
                                ", ".join(str(m.get("id")) for m in matches)))
        return matches[0] if matches else None

    # ---- planning and applying ------------------------------------------------------------
    def wanted_values(self, desired, resolved):
        """``{api_field: (kind, value)}`` for the fields the user gave."""
        wanted = {}
        for option, value in desired.items():
            field = self.resource.fields[option]
            if field.kind == "ref":
                value = resolved[option]
            wanted[field.api] = (field.kind, value)
        return wanted

    def wanted_for(self, params, state):
        """The validated options that decide ``state`` for one object.

        The one ``absent`` rule, with :meth:`resolve_for`: a delete is decided by the natural
        key alone, and a key reference that does not exist means there is nothing to delete
        (the object then has no key filters), in a real run as in check mode.
        """
        desired = self.desired_fields(params)
        if state == "absent":
            return {option: desired[option] for option in self.resource.key}
        return desired

    def resolve_for(self, desired, state, warnings):
        return self.resolve_refs(desired, warnings, missing_ok=state == "absent")

    def ensure(self, params, state="present"):
        warnings = []
        desired = self.wanted_for(params, state)
        resolved = self.resolve_for(desired, state, warnings)
        path = self.collection_path(params, warnings, state)
        existing = self.find(path, desired, resolved)
        return self.apply(path, desired, resolved, existing, state, warnings)

    def apply(self, path, desired, resolved, existing, state, warnings, converge=True, references_read=False):
        key = {option: desired.get(option) for option in self.resource.key}
        if state == "absent":
            if existing is None:
                return Outcome("none", None, key=key, warnings=warnings)
            if not references_read:
                self.refuse_delete_in_use(existing, key)
            if not self.check_mode:
                self.client.delete(path, existing["id"])
            return Outcome("delete", None, before=strip_server_fields(existing), key=key, warnings=warnings)

        wanted = self.wanted_values(desired, resolved)
        if existing is None:
            self.check_required_on_create(desired, key, resolved)
            body = dict(self.resource.create_defaults)
            defaults = self.create_default_values(desired, resolved, warnings)
            body.update((api, _wire(value)) for api, (kind, value) in defaults.items())
            body.update((api, _wire(value)) for api, (kind, value) in wanted.items() if value is not CLEAR)
            return self.create_converged(path, body, desired, resolved, key, warnings, converge)

        changes = dict((api, _wire(value)) for api, (kind, value) in sorted(wanted.items())
                       if not same_value(kind, existing.get(api), value))
        if not changes:
            return Outcome("none", strip_server_fields(existing), key=key, warnings=warnings)
        if self.check_mode:
            updated = patched(strip_server_fields(existing), changes)
        else:
            updated = strip_server_fields(self.client.patch_fields(path, existing["id"], changes))
        before = {api: existing.get(api) for api in changes}
        return Outcome("update", updated, before=before, after=changes, key=key, warnings=warnings)

    # ---- deleting what is in use -------------------------------------------------------------
    def references(self, obj):
        """``[(referrer, row)]``: the rows that make ConnectWise refuse deleting ``obj`` now."""
        found = []
        for referrer in self.resource.referrers:
            if referrer.field is None:
                rows = self.client.list(referrer.path.format(id=obj["id"]))
                found.extend((referrer, row, None) for row in rows)
                continue
            for parent_id in self._parents(referrer):
                path = referrer.path if parent_id is None else referrer.path.format(parent=parent_id)
                rows = self.client.list(path, conditions=cond.equals(referrer.field, obj["id"]))
                found.extend((referrer, row, parent_id) for row in rows)
        if self.deleted_first is not None:
            found = [(r, row, parent) for r, row, parent in found if not self.deleted_first(r, row, parent)]
        return found

    def _parents(self, referrer):
        if referrer.parents is None:
            return [None]
        if referrer.parents not in self._parent_ids:
            rows = self.client.list(referrer.parents, fields=["id"])
            self._parent_ids[referrer.parents] = [row["id"] for row in rows]
        return self._parent_ids[referrer.parents]

    def refuse_delete_in_use(self, existing, key):
        """Refuse (and in check mode predict the refusal of) a delete ConnectWise would refuse.

        ConnectWise refuses deleting a row other rows still refer to. Reading the references first
        makes ``--check`` honest and lets a caller check everything before its first delete.
        """
        blockers = self.references(existing)
        if not blockers:
            return
        by_label = {}
        for referrer, row, _parent in blockers:
            by_label.setdefault(referrer.label, []).append(str(row.get("id")))
        uses = "; ".join("%d %s(s) (ids %s)" % (len(ids), label, ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else ""))
                         for label, ids in by_label.items())
        raise InputError("cannot delete %s %s (id %s): ConnectWise refuses it while it is in use by %s; "
                         "delete those first" % (self.resource.name, _key_text(key), existing.get("id"), uses))

    def check_required_on_create(self, desired, key, resolved=None):
        """Refuse a create ConnectWise would refuse, naming the missing options."""
        missing = []
        for required in self.resource.required_on_create:
            options = (required,) if isinstance(required, str) else tuple(required)
            if not any(o in desired or self.create_default(o, desired, resolved) is not None
                       for o in options):
                missing.append(" or ".join(options))
        if missing:
            raise InputError("cannot create %s %s: ConnectWise requires on create: %s (not given)"
                             % (self.resource.name, ", ".join("%s=%r" % item for item in key.items()),
                                ", ".join(missing)))

    def create_default(self, option, desired, resolved):
        """An option's create default for this object (a callable one is asked)."""
        default = self.resource.fields[option].create_default
        if isinstance(default, FromRef):
            return self.default_from_ref(default, resolved or {})
        return default(desired, resolved or {}) if callable(default) else default

    def default_from_ref(self, default, resolved):
        """``{"id": N}`` from the field of another reference's row, or the declared refusal."""
        reference = resolved.get(default.option) or {}
        if reference.get("id") is None:
            return None
        row = self.row(self.resource.fields[default.option].ref, reference["id"]) or {}
        value = row.get(default.field)
        if isinstance(value, dict) and value.get("id") is not None:
            return {"id": value["id"]}
        raise InputError(default.missing.format(row=_Row(row)))

    def create_default_values(self, desired, resolved, warnings):
        """``{api_field: (kind, value)}`` from the ``create_default`` of options not given."""
        wanted, scope = {}, dict(resolved)
        for option, field in self.resource.fields.items():
            if option in desired or field.create_default is None:
                continue
            value = self.create_default(option, desired, resolved)
            if value is None:
                continue
            if field.kind == "date":
                value = api_date(value, option)
            elif field.kind == "ref":
                value = scope[option] = self.resolve(option, field.ref, value, scope, warnings)
            wanted[field.api] = (field.kind, value)
        return wanted

    def create(self, path, body, desired, resolved):
        """POST, or predict it. A lost answer is looked for by natural key before any second POST."""
        if self.check_mode:
            predicted = _public(body)
            predicted["id"] = None
            return predicted
        created, _adopted = self.client.create_once(path, body, lambda: self.find(path, desired, resolved))
        return strip_server_fields(created)

    # ---- creating, and converging when runs overlap -----------------------------------------
    def create_converged(self, path, body, desired, resolved, key, warnings, converge=True):
        """Create, then make sure the natural key names one object, whoever else created it.

        Two runs at once (two AWX nodes, a schedule and a manual run) can both find nothing and
        both create. No lock spans AWX's nodes, so each run re-reads the key after its create
        and the rule is deterministic: the lowest id wins; a run whose object lost deletes it
        (only what it created itself) and adopts the winner. A duplicate ConnectWise refuses
        (unique names) is adopted the same way.
        """
        after = _public(body)
        if self.check_mode:
            return Outcome("create", self.create(path, body, desired, resolved), after=after, key=key,
                           warnings=warnings)
        try:
            created = self.create(path, body, desired, resolved)
        except ApiError as exc:
            if exc.status != 400 or isinstance(exc, OutcomeUnknown):
                raise
            winner = self.find(path, desired, resolved)
            if winner is None:
                raise
            warnings.append("%s %s was created by another run at the same time (id %s); adopted it"
                            % (self.resource.name, _key_text(key), winner.get("id")))
            outcome = self.apply(path, desired, resolved, winner, "present", warnings)
            outcome.converged = {"kept": winner.get("id"), "removed": []}
            return outcome
        outcome = Outcome("create", created, after=after, key=key, warnings=warnings)
        if converge:
            filters = self.key_filters(desired, resolved)
            matches = list(self.client.list(path, conditions=cond.matching(filters)))
            return self.converge(path, outcome, matches, desired, resolved)
        return outcome

    def converge(self, path, outcome, matches, desired, resolved):
        """Resolve a create that raced another run's: the lowest id wins (see create_converged)."""
        ours = (outcome.object or {}).get("id")
        others = [m for m in matches if m.get("id") is not None and m.get("id") != ours]
        if ours is None or not others:
            return outcome
        winner = min(others, key=lambda m: m["id"])
        if ours < winner["id"]:
            outcome.converged = {"kept": ours, "removed": []}
            outcome.warnings.append("%s %s: another run created id(s) %s at the same time; ours (id %s, the "
                                    "lowest) is kept and the others are removed by the runs that made them"
                                    % (self.resource.name, _key_text(outcome.key),
                                       ", ".join(str(m["id"]) for m in others), ours))
            return outcome
        try:
            self.client.delete(path, ours)
        except NotFoundError:
            pass
        outcome.warnings.append("%s %s: another run created it at the same time (id %s, the lowest id, is "
                                "kept); deleted our duplicate id %s and adopted id %s"
                                % (self.resource.name, _key_text(outcome.key), winner["id"], ours, winner["id"]))
        adopted = self.apply(path, desired, resolved, winner, "present", outcome.warnings)
        adopted.converged = {"kept": winner["id"], "removed": [ours]}
        return adopted

    def ensure_many(self, items, state="present", bulk_key=None, shared=()):
        """Ensure many objects of a top-level resource with bulk reads.

        ``bulk_key`` names the key option whose values differ between items; the
        other key options must be equal for all items. Each item's failure is
        recorded in its :class:`Outcome` and never stops the others.

        ``shared`` names reference options whose value is the task's rather than an
        item's (every agreement's agreement type): resolved once, first, a failure there
        is raised, failing the call with one message instead of every item with the same.
        Every other reference the items name is read in bulk before the first item (see
        :meth:`prefetch_references`).
        """
        outcomes = [None] * len(items)
        wanted = {}
        for index, params in enumerate(items):
            try:
                wanted[index] = self.wanted_for(params, state)
            except InputError as exc:
                outcomes[index] = _failed(self.resource, params, exc, [])
        for option in shared:
            values = {desired[option] for desired in wanted.values() if isinstance(desired.get(option), str)}
            for value in sorted(values):
                self.resolve(option, self.resource.fields[option].ref, value, warnings=self.warnings)
        self.prefetch_references(list(wanted.values()))
        prepared = []
        for index, desired in wanted.items():
            warnings = []
            try:
                resolved = self.resolve_for(desired, state, warnings)
                filters = self.key_filters(desired, resolved)
            except (InputError, ApiError) as exc:
                outcomes[index] = _failed(self.resource, items[index], exc, warnings)
                continue
            prepared.append((index, desired, resolved, filters, warnings))

        existing = self._bulk_find([p for p in prepared if p[3] is not None], bulk_key)
        if state == "absent":
            self._refuse_deletes_in_use(prepared, existing, outcomes, items)
            prepared = [p for p in prepared if outcomes[p[0]] is None]
        first_of_key = {}
        contested = []
        for entry in prepared:
            index, desired, _resolved, filters, warnings = entry
            key = _key_tuple(filters) if filters is not None else None
            if key in first_of_key:
                # One natural key is one object: a repeat is the same request, not a second object.
                outcomes[index] = self._repeat(items, index, first_of_key[key], desired, outcomes, warnings)
                continue
            if key is not None:
                first_of_key[key] = (index, desired)
            if len(existing.get(key, [])) > 1:
                contested.append(entry)  # perhaps another run's duplicates, about to be removed
                continue
            self._apply_one(entry, existing.get(key, []), state, outcomes, items)
        self._converge_many(prepared, outcomes, items, bulk_key)
        if contested:
            current = self._settled_many(contested, bulk_key)
            for entry in contested:
                self._apply_one(entry, current.get(_key_tuple(entry[3]), []), state, outcomes, items)
        return outcomes

    def _apply_one(self, entry, matches, state, outcomes, items):
        index, desired, resolved, filters, warnings = entry
        try:
            current = self.single(matches, desired) if filters is not None else None
            outcomes[index] = self.apply(self.resource.path, desired, resolved, current, state, warnings,
                                         converge=False, references_read=True)
        except (InputError, ApiError) as exc:
            outcomes[index] = _failed(self.resource, items[index], exc, warnings)

    def _settled_many(self, contested, bulk_key):
        """:meth:`settled` for the keys a bulk read found with several objects, one bulk read a round."""
        keys = [_key_tuple(entry[3]) for entry in contested]
        return self.settled(lambda: self._bulk_find(contested, bulk_key),
                            lambda found: any(len(found.get(key, [])) > 1 for key in keys))

    def prefetch_references(self, items):
        """Read the references many objects name in bulk: one chunked read per reference
        table, then one per name for references matched within another (a contact within
        its company). ``items`` are the objects' :meth:`wanted_for` options."""
        refs = [(option, field.ref) for option, field in self.resource.fields.items() if field.kind == "ref"]
        for option, ref in refs:
            if not ref.within and isinstance(ref.match, str):
                names = [item[option] for item in items if isinstance(item.get(option), str)]
                if names:
                    self.prefetch(ref, names)
        for option, ref in refs:
            if ref.within:
                wanted = [(self._known_id(ref.within[0], item.get(ref.within[0])), item[option])
                          for item in items if isinstance(item.get(option), str)]
                wanted = [(parent_id, name) for parent_id, name in wanted if parent_id is not None]
                if wanted:
                    self.prefetch_within(ref, wanted)

    def _known_id(self, option, value):
        """The id a reference option's value names, when known without a request."""
        if isinstance(value, dict):
            return value.get("id")
        rows = self._ref_cache.get(_cache_key(self.resource.fields[option].ref, None, value)) or []
        return rows[0].get("id") if len(rows) == 1 else None

    def _refuse_deletes_in_use(self, prepared, existing, outcomes, items):
        """Every item's references, read before the first delete: a refused item fails, alone."""
        for index, desired, _resolved, filters, warnings in prepared:
            if filters is None:
                continue
            key = {option: desired.get(option) for option in self.resource.key}
            try:
                current = self.single(existing.get(_key_tuple(filters), []), desired)
                if current is not None:
                    self.refuse_delete_in_use(current, key)
            except (InputError, ApiError) as exc:
                outcomes[index] = _failed(self.resource, items[index], exc, warnings)

    def _converge_many(self, prepared, outcomes, items, bulk_key):
        """One bulk re-read of every key this call created, then :meth:`converge` each."""
        if self.check_mode:
            return
        created = [p for p in prepared if p[3] is not None and outcomes[p[0]] is not None
                   and outcomes[p[0]].operation == "create" and not outcomes[p[0]].failed]
        if not created:
            return
        try:
            current = self._bulk_find(created, bulk_key)
        except ApiError as exc:
            for index, _desired, _resolved, _filters, _warnings in created:
                outcomes[index].warnings.append("%s %s: created, but re-reading it to rule out a duplicate "
                                                "from an overlapping run failed: %s"
                                                % (self.resource.name, _key_text(outcomes[index].key), exc))
            return
        for index, desired, resolved, filters, _warnings in created:
            try:
                outcomes[index] = self.converge(self.resource.path, outcomes[index],
                                                current.get(_key_tuple(filters), []), desired, resolved)
            except (InputError, ApiError) as exc:
                outcomes[index] = _failed(self.resource, items[index], exc, outcomes[index].warnings)

    def _repeat(self, items, index, first, desired, outcomes, warnings):
        first_index, first_desired = first
        if desired != first_desired:
            return _failed(self.resource, items[index], InputError(
                "%s is given again (item %d) with other values than item %d"
                % (self.resource.name, index + 1, first_index + 1)), warnings)
        earlier = outcomes[first_index]
        if earlier.failed:
            return _failed(self.resource, items[index], InputError(earlier.error), warnings)
        return Outcome("none", earlier.object, key=earlier.key, warnings=warnings)

    def _bulk_find(self, prepared, bulk_key):
        """All current objects for the prepared items, grouped by their key filters."""
        found = {}
        if not prepared:
            return found
        bulk_field = None
        if bulk_key is not None:
            field = self.resource.fields[bulk_key]
            bulk_field = "%s/id" % field.api if field.kind == "ref" else field.api
        groups = {}
        for _index, _desired, _resolved, filters, _warnings in prepared:
            shared = tuple(sorted((k, v) for k, v in filters.items() if k != bulk_field))
            groups.setdefault(shared, set()).add(filters.get(bulk_field))
        for shared, values in groups.items():
            extra = cond.matching(dict(shared))
            if bulk_field is None:
                rows = self.client.list(self.resource.path, conditions=extra)
            else:
                rows = self.client.list_in(self.resource.path, bulk_field, values, conditions=extra)
            for row in rows:
                filters = {k: field_of(row, k) for k in [bulk_field] + [k for k, _v in shared] if k}
                found.setdefault(_key_tuple(filters), []).append(row)
        return found


AGREEMENTS_PATH = "finance/agreements"
INTEGRATIONS_PATH = "company/managedDevicesIntegrations"
CROSS_REFERENCES_PATH = INTEGRATIONS_PATH + "/{parent}/crossReferences"
CROSS_REFERENCES_OF = INTEGRATIONS_PATH + "/{id}/crossReferences"

# The ``deleted_first`` option of the modules whose objects others refer to (a teardown's plan).
DELETED_FIRST_SPEC = dict(
    type="dict",
    options=dict(
        agreements_named=dict(type="list", elements="str", default=[]),
        cross_references=dict(type="list", elements="dict", default=[], options=dict(
            integration=dict(type="str", required=True),
            type=dict(type="str", required=True),
            level=dict(type="str", required=True),
        )),
    ),
)


def deleted_first_predicate(option):
    """``f(referrer, row, parent)`` for :class:`Engine`: the referring rows a caller deletes first."""
    if not option:
        return None
    names = {fold(n) for n in option.get("agreements_named") or []}
    crosses = {(fold(c["integration"]), fold(c["type"]), fold(c["level"]))
               for c in option.get("cross_references") or []}

    def deleted_first(referrer, row, _parent):
        if referrer.path == AGREEMENTS_PATH:
            return fold(row.get("name")) in names
        if referrer.path in (CROSS_REFERENCES_PATH, CROSS_REFERENCES_OF):
            integration = (row.get("managedDevicesIntegration") or {}).get("name")
            return (fold(integration), fold(row.get("vendorType")), fold(row.get("vendorLevel"))) in crosses
        return False
    return deleted_first


def _cache_key(ref, scope, value):
    return (ref.path, ref.match, tuple(sorted(scope.items())) if scope else None, value)


def _key_text(key):
    return ", ".join("%s=%r" % item for item in (key or {}).items())


def _key_tuple(filters):
    """A natural key as ConnectWise compares it: identifiers and names folded."""
    return tuple(sorted((k, fold(v)) for k, v in filters.items()))


def _failed(resource, params, exc, warnings):
    key = {option: params.get(option) for option in resource.key}
    return Outcome("none", None, key=key, warnings=warnings, error=str(exc))


def _wire(value):
    """A value as sent: resolved references without our bookkeeping marks."""
    if value is CLEAR:
        return None
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if not k.startswith("_")}
    return value


def _public(body):
    return {k: _wire(v) for k, v in body.items()}
