# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative ensure engine for the "this object exists" modules.

A module declares a :class:`Resource` (``declarations.py``: endpoint, natural key,
fields) and the engine does the rest the same way for every module:

* finds the object by its natural key (more than one match is an error, never
  a guess),
* resolves reference fields given by name to ``{"id": N}`` (``references.py``,
  cached per engine),
* compares only the fields the user gave, ignoring server-owned fields,
* creates with one POST that is never doubled (``client.create_once``), then
  re-reads the natural key so that overlapping runs converge on one object (the
  lowest id wins, a losing run deletes its own duplicate and adopts the winner),
* changes only the differing fields with PATCH operations,
* deletes for ``state: absent`` only after reading the rows that still refer to
  the object (``in_use.py``; ConnectWise refuses such a delete): in use, it fails
  naming them, before any write and in check mode alike,
* in check mode computes the same ``changed``, operation and predicted object
  with reads only: check mode is the same code path with the writes replaced
  by predictions, not an early exit.

There is one path: :meth:`Engine.ensure` of one object is :meth:`Engine.ensure_many`
of one. Many objects of one kind (hundreds of agreements) are read together: one
chunked ``in (...)`` read per collection finds them all and references are fetched
in bulk (one read per reference table, one per name for a reference matched within
its parent), so a run costs a few requests plus one per write instead of several per
object; each object's failure is its own outcome.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.client import field_of
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.create_body import CreateBody
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.in_use import InUse
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.options import wanted_for
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.outcome import Outcome, failed, key_text
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.references import References
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.values import (
    key_tuple,
    patched,
    predicted_create,
    public,
    same_value,
    strip_server_fields,
    wire,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import (
    ApiError,
    InputError,
    NotFoundError,
    OutcomeUnknown,
)


class Planned:
    """One object of a call on its way: its options, references, collection, key and, once decided, outcome."""

    def __init__(self, index, params):
        self.index = index
        self.params = params
        self.desired = None
        # {option: value}: what outcomes and messages name the object by.
        self.key = None
        self.warnings = []
        self.resolved = {}
        self.path = None
        self.filters = None
        self.outcome = None

    @property
    def pending(self):
        return self.outcome is None

    @property
    def match_key(self):
        """What the objects read are grouped by, ``(collection path, folded key)``; None when it cannot be read."""
        if self.path is None or self.filters is None:
            return None
        return (self.path, key_tuple(self.filters))


def _one_per_key(planned):
    """One natural key is one object: ``(firsts, [(repeat, its first)])``; a repeat is the same request."""
    firsts, repeats, first_of = [], [], {}
    for entry in planned:
        key = entry.match_key
        if key is not None and key in first_of:
            repeats.append((entry, first_of[key]))
            continue
        if key is not None:
            first_of[key] = entry
        firsts.append(entry)
    return firsts, repeats


class Engine:
    """Ensures objects of one :class:`Resource` through a ConnectWise client.

    ``deleted_first(referrer, row, parent)``: whether the caller deletes this referring row
    before the object (see :class:`InUse`).
    """

    def __init__(self, client, resource, check_mode=False, deleted_first=None):
        self.client = client
        self.resource = resource
        self.check_mode = check_mode
        self.references = References(client, resource, check_mode)
        self.in_use = InUse(client, resource, deleted_first)
        self.create_body = CreateBody(resource, self.references)
        # Warnings of the whole call rather than of one object (a task-level reference).
        self.warnings = []

    @property
    def unresolved(self):
        """The references check mode could not resolve (:class:`References`)."""
        return self.references.unresolved

    def wanted_for(self, params, state):
        return wanted_for(self.resource, params, state)

    # ---- one object or many: one path ------------------------------------------------------------
    def ensure(self, params, state="present"):
        """Ensure one object: :meth:`ensure_many` of one, its failure raised (``InputError``, ``ApiError``)."""
        [outcome] = self.ensure_many([params], state)
        if outcome.failed:
            raise outcome.cause
        return outcome

    def ensure_many(self, items, state="present", bulk_key=None, shared=()):
        """Ensure the objects ``items`` (each one's options) declare: one :class:`Outcome` each, in order.

        Each item's failure is recorded in its outcome and never stops the others. The objects
        are read per collection (a nested resource's items grouped by their parent's).
        ``bulk_key`` names the key option whose values differ between the items: the existing
        objects are then read in chunked ``in (...)`` reads and the references the items name
        in bulk beforehand (:meth:`References.prefetch_for`); without it each key and each
        reference is read with an equality condition, which is what one object needs.

        ``shared`` names reference options whose value is the task's rather than an
        item's (every agreement's agreement type): resolved once, first, a failure there
        is raised, failing the call with one message instead of every item with the same.
        """
        planned = [Planned(index, params) for index, params in enumerate(items)]
        for entry in planned:
            self._validate(entry, state)
        self._resolve_shared([entry for entry in planned if entry.pending], shared)
        if bulk_key is not None:
            self.references.prefetch_for([entry.desired for entry in planned if entry.pending])
        for entry in planned:
            if entry.pending:
                self._locate(entry, state)
        firsts, repeats = _one_per_key([entry for entry in planned if entry.pending])
        existing = self._find_all(firsts, bulk_key)
        crowded = [entry for entry in firsts if len(existing.get(entry.match_key, [])) > 1]
        if state == "absent":
            self._delete_all(firsts, crowded, existing, bulk_key)
        else:
            self._present_all(firsts, crowded, existing, bulk_key)
        for entry, first in repeats:
            entry.outcome = self._repeat(entry, first)
        return [entry.outcome for entry in planned]

    def _failed(self, entry, exc, warnings=None):
        return failed(self.resource, entry.params, exc, entry.warnings if warnings is None else warnings)

    def _validate(self, entry, state):
        """An item's options checked before the first request; a bad item fails alone."""
        try:
            entry.desired = self.wanted_for(entry.params, state)
        except InputError as exc:
            entry.outcome = self._failed(entry, exc)
            return
        entry.key = {option: entry.desired.get(option) for option in self.resource.key}

    def _resolve_shared(self, planned, shared):
        for option in shared:
            values = {entry.desired[option] for entry in planned if isinstance(entry.desired.get(option), str)}
            for value in sorted(values):
                self.references.resolve(option, self.resource.fields[option].ref, value, warnings=self.warnings)

    def _locate(self, entry, state):
        """Resolve an item's references, collection path and key filters; a failure is the item's."""
        try:
            entry.resolved = self.references.resolve_for(entry.desired, state, entry.warnings)
            entry.path = self.collection_path(entry.params, entry.warnings, state)
            entry.filters = self.key_filters(entry.desired, entry.resolved)
        except (InputError, ApiError) as exc:
            entry.outcome = self._failed(entry, exc)

    def _present_all(self, firsts, crowded, existing, bulk_key):
        """Keys read with at most one object first, and their creates converged; a crowded key
        (perhaps another run's duplicates, about to be removed) after that, read again until settled."""
        self._apply_all([entry for entry in firsts if entry not in crowded], existing, "present")
        self._converge_created(firsts, bulk_key)
        if crowded:
            current = self._settled(crowded, bulk_key, existing if len(crowded) == len(firsts) else None)
            self._apply_all(crowded, current, "present")
            self._converge_created(crowded, bulk_key)

    def _delete_all(self, firsts, crowded, existing, bulk_key):
        """Every key settled and every object's references read before the first delete: deleting one
        object may free another, which check mode, deleting nothing, could not predict."""
        if crowded:
            current = self._settled(crowded, bulk_key, existing)
            existing.update((entry.match_key, current.get(entry.match_key, [])) for entry in crowded)
        for entry in firsts:
            if entry.match_key is None:
                continue
            try:
                current = self.single(existing.get(entry.match_key, []), entry.desired)
                if current is not None:
                    self.in_use.refuse_delete(current, entry.key)
            except (InputError, ApiError) as exc:
                entry.outcome = self._failed(entry, exc)
        self._apply_all([entry for entry in firsts if entry.pending], existing, "absent")

    def _apply_all(self, planned, existing, state):
        for entry in planned:
            try:
                current = self.single(existing.get(entry.match_key, []), entry.desired)
                entry.outcome = self.apply(entry, current, state, entry.warnings)
            except (InputError, ApiError) as exc:
                entry.outcome = self._failed(entry, exc)

    def _repeat(self, entry, first):
        if entry.desired != first.desired:
            return self._failed(entry, InputError("%s is given again (item %d) with other values than item %d"
                                                  % (self.resource.name, entry.index + 1, first.index + 1)))
        earlier = first.outcome
        if earlier.failed:
            return self._failed(entry, InputError(earlier.error))
        return Outcome("none", earlier.object, key=earlier.key, warnings=entry.warnings)

    # ---- finding ---------------------------------------------------------------------------------
    def collection_path(self, params, warnings=None, state="present"):
        """The list path; None when the parent does not exist (yet, in check mode).

        For ``state: absent`` a missing parent is no error: nothing under it exists.
        """
        parent = self.resource.parent
        if parent is None:
            return self.resource.path
        if state == "absent" and not self.references.lookup(parent.ref, params[parent.option]):
            return None
        ref = self.references.resolve(parent.option, parent.ref, params[parent.option], warnings=warnings)
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

    def _find_all(self, planned, bulk_key):
        """The current objects of every readable key of ``planned``: ``{match_key: [rows]}``.

        One read per collection and values of the key options other than ``bulk_key``: an
        equality read, or (``bulk_key``) chunked ``in (...)`` reads of its values.
        """
        bulk_field = None
        if bulk_key is not None:
            field = self.resource.fields[bulk_key]
            bulk_field = "%s/id" % field.api if field.kind == "ref" else field.api
        groups = {}
        for entry in planned:
            if entry.match_key is not None:
                shared = tuple(sorted((k, v) for k, v in entry.filters.items() if k != bulk_field))
                groups.setdefault((entry.path, shared), set()).add(entry.filters.get(bulk_field))
        found = {}
        for (path, shared), values in groups.items():
            extra = cond.matching(dict(shared))
            if bulk_field is None:
                rows = self.client.list(path, conditions=extra)
            else:
                rows = self.client.list_in(path, bulk_field, values, conditions=extra)
            for row in rows:
                filters = {k: field_of(row, k) for k in [bulk_field] + [k for k, _v in shared] if k}
                found.setdefault((path, key_tuple(filters)), []).append(row)
        return found

    def _settled(self, planned, bulk_key, found=None):
        """The objects of ``planned``'s keys once none is crowded (several objects), or the wait is over.

        Overlapping runs may each have created the object a moment ago; each removes its own
        duplicate once it re-reads (the lowest id wins), so a key seen with several objects is
        read again over the client's settle window before it is called ambiguous. Duplicates
        made by hand stay, and are refused after the wait. ``found`` is an answer just read
        with nothing done since: the first re-read then comes after the first pause, not at once.
        """
        keys = [entry.match_key for entry in planned]
        answers = [found] if found is not None else []

        def read():
            return answers.pop() if answers else self._find_all(planned, bulk_key)
        return self.client.poll(read, lambda current: not any(len(current.get(key, [])) > 1 for key in keys))

    def find(self, entry):
        """The one object ``entry``'s key names now (settled), or None; several are an error."""
        if entry.match_key is None:
            return None
        return self.single(self._settled([entry], None).get(entry.match_key, []), entry.desired)

    def single(self, matches, desired):
        if len(matches) > 1:
            key = ", ".join("%s=%r" % (k, desired[k]) for k in self.resource.key)
            raise InputError("%s with %s is ambiguous: %d objects match (ids %s); remove the "
                             "duplicates in ConnectWise or make the name unique"
                             % (self.resource.name, key, len(matches),
                                ", ".join(str(m.get("id")) for m in matches)))
        return matches[0] if matches else None

    # ---- deciding and doing ----------------------------------------------------------------------
    def wanted_values(self, desired, resolved):
        """``{api_field: (kind, value)}`` for the fields the user gave."""
        wanted = {}
        for option, value in desired.items():
            field = self.resource.fields[option]
            if field.kind == "ref":
                value = resolved[option]
            wanted[field.api] = (field.kind, value)
        return wanted

    def apply(self, entry, existing, state, warnings):
        """Make ``existing`` (None: there is none) what ``entry`` asks for ``state``; check mode predicts it.

        A delete comes here only once the object's references were read (:meth:`_delete_all`).
        """
        key = entry.key
        if state == "absent":
            if existing is None:
                return Outcome("none", None, key=key, warnings=warnings)
            if not self.check_mode:
                self.client.delete(entry.path, existing["id"])
            return Outcome("delete", None, before=strip_server_fields(existing), key=key, warnings=warnings)

        wanted = self.wanted_values(entry.desired, entry.resolved)
        if existing is None:
            body = self.create_body.build(entry.desired, entry.resolved, entry.key, wanted, warnings)
            return self.create(entry, body, warnings)
        changes = dict((api, wire(value)) for api, (kind, value) in sorted(wanted.items())
                       if not same_value(kind, existing.get(api), value))
        if not changes:
            return Outcome("none", strip_server_fields(existing), key=key, warnings=warnings)
        if self.check_mode:
            updated = patched(strip_server_fields(existing), changes)
        else:
            updated = strip_server_fields(self.client.patch_fields(entry.path, existing["id"], changes))
        before = {api: existing.get(api) for api in changes}
        return Outcome("update", updated, before=before, after=changes, key=key, warnings=warnings)

    # ---- creating --------------------------------------------------------------------------------
    def create(self, entry, body, warnings):
        """POST once, or predict it; a duplicate ConnectWise refuses (unique names) is adopted.

        A lost answer is looked for by natural key before any second POST (``client.create_once``).
        Whether another run created the same key at the same time is settled after every create
        of the call, with one re-read (:meth:`converge`).
        """
        after = public(body)
        if self.check_mode:
            return Outcome("create", predicted_create(self.resource, after), after=after, key=entry.key, warnings=warnings)
        try:
            created, _adopted = self.client.create_once(entry.path, body, lambda: self.find(entry))
        except ApiError as exc:
            if exc.status != 400 or isinstance(exc, OutcomeUnknown):
                raise
            winner = self.find(entry)
            if winner is None:
                raise
            warnings.append("%s %s was created by another run at the same time (id %s); adopted it"
                            % (self.resource.name, key_text(entry.key), winner.get("id")))
            outcome = self.apply(entry, winner, "present", warnings)
            outcome.converged = {"kept": winner.get("id"), "removed": []}
            return outcome
        return Outcome("create", strip_server_fields(created), after=after, key=entry.key, warnings=warnings)

    # ---- converging when runs overlap --------------------------------------------------------------
    def _converge_created(self, planned, bulk_key):
        """One re-read of every key of ``planned`` this call created, then :meth:`converge` each."""
        if self.check_mode:
            return
        created = [entry for entry in planned if entry.match_key is not None and not entry.pending
                   and entry.outcome.operation == "create" and not entry.outcome.failed]
        if not created:
            return
        try:
            current = self._find_all(created, bulk_key)
        except ApiError as exc:
            for entry in created:
                entry.outcome.warnings.append("%s %s: created, but re-reading it to rule out a duplicate from an "
                                              "overlapping run failed: %s" % (self.resource.name, key_text(entry.key), exc))
            return
        for entry in created:
            try:
                entry.outcome = self.converge(entry, entry.outcome, current.get(entry.match_key, []))
            except (InputError, ApiError) as exc:
                entry.outcome = self._failed(entry, exc, entry.outcome.warnings)

    def converge(self, entry, outcome, matches):
        """Make the key name one object, whoever else created it at the same time.

        Two runs at once (two AWX nodes, a schedule and a manual run) can both find nothing and
        both create. No lock spans AWX's nodes, so each run re-reads the key after its create
        and the rule is deterministic: the lowest id wins; a run whose object lost deletes it
        (only what it created itself) and adopts the winner.
        """
        ours = (outcome.object or {}).get("id")
        others = [m for m in matches if m.get("id") is not None and m.get("id") != ours]
        if ours is None or not others:
            return outcome
        winner = min(others, key=lambda m: m["id"])
        if ours < winner["id"]:
            outcome.converged = {"kept": ours, "removed": []}
            outcome.warnings.append("%s %s: another run created id(s) %s at the same time; ours (id %s, the "
                                    "lowest) is kept and the others are removed by the runs that made them"
                                    % (self.resource.name, key_text(outcome.key),
                                       ", ".join(str(m["id"]) for m in others), ours))
            return outcome
        try:
            self.client.delete(entry.path, ours)
        except NotFoundError:
            pass
        outcome.warnings.append("%s %s: another run created it at the same time (id %s, the lowest id, is "
                                "kept); deleted our duplicate id %s and adopted id %s"
                                % (self.resource.name, key_text(outcome.key), winner["id"], ours, winner["id"]))
        adopted = self.apply(entry, winner, "present", outcome.warnings)
        adopted.converged = {"kept": winner["id"], "removed": [ours]}
        return adopted
