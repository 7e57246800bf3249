# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""References given by name, resolved to ``{"id": N}``: read one by one or in bulk, cached per engine."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils.client import field_of
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold


def _cache_key(ref, scope, value):
    return (ref.path, ref.match, tuple(sorted(scope.items())) if scope else None, value)


class References:
    """The references the objects of one :class:`Resource` name, and the rows read with them.

    ``unresolved`` lists, as data, the references check mode could not resolve, so a playbook
    can tell "missing in ConnectWise" from "created by an earlier task" without parsing
    predictions.
    """

    def __init__(self, client, resource, check_mode=False):
        self.client = client
        self.resource = resource
        self.check_mode = check_mode
        self._cache = {}
        # Every referenced row read, by (path, id): what a FromRef default and a scoped
        # reference's message take from it.
        self._rows = {}
        self.unresolved = []

    def _remember(self, ref, scope, value, rows):
        for row in rows:
            self._rows[(ref.path, row.get("id"))] = row
        self._cache[_cache_key(ref, scope, value)] = rows

    # ---- reading -------------------------------------------------------------------------------
    def prefetch(self, ref, values):
        """Fill the cache for many names with one chunked read (``ref.match`` a field)."""
        todo = [v for v in set(values) if _cache_key(ref, None, v) not in self._cache]
        if todo:
            found = self.client.find_by(ref.path, ref.match, todo, fields=["id", ref.match] + list(ref.fields))
            for value in todo:
                self._remember(ref, None, value, found[fold(value)])
        return {v: self._cache[_cache_key(ref, None, v)] for v in values}

    def prefetch_within(self, ref, wanted):
        """Fill the cache for names scoped by a parent: ``wanted`` is ``[(parent id, name)]``.

        One chunked read per distinct name covers every parent it is asked within (a contact
        name among the contacts of 200 companies is one read, not 200).
        """
        parent_field = ref.within[1]
        todo = {}  # fold(name) -> (the name as first given, {parent id: {spellings}})
        for parent_id, value in wanted:
            if _cache_key(ref, {parent_field: parent_id}, value) not in self._cache:
                todo.setdefault(fold(value), (value, {}))[1].setdefault(parent_id, set()).add(value)
        fields = ["id", parent_field] + ref.match_fields + list(ref.fields)
        for value, spellings in todo.values():
            found = self.client.find_by(ref.path, parent_field, list(spellings), fields=fields,
                                        conditions=ref.candidates(value))
            for parent_id, names in spellings.items():
                rows = [row for row in found[fold(parent_id)] if ref.matches(row, value)]
                for name in names:
                    self._remember(ref, {parent_field: parent_id}, name, rows)

    def prefetch_for(self, items):
        """Read the references many objects name in bulk: one chunked read per reference
        table, then one per name for references matched within another (a contact within
        its company). ``items`` are the objects' validated options (``options.wanted_for``)."""
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
        rows = self._cache.get(_cache_key(self.resource.fields[option].ref, None, value)) or []
        return rows[0].get("id") if len(rows) == 1 else None

    def lookup(self, ref, value, scope=None):
        """All objects of ``ref.path`` that ``value`` names (within ``scope``), cached."""
        cache_key = _cache_key(ref, scope, value)
        if cache_key not in self._cache:
            rows = self.client.list(ref.path, conditions=ref.candidates(value, scope))
            self._remember(ref, scope, value, [row for row in rows if ref.matches(row, value)])
        return self._cache[cache_key]

    def row(self, ref, object_id):
        """The row of a resolved reference: the one read with it, else read by id."""
        if (ref.path, object_id) not in self._rows:
            self._rows[(ref.path, object_id)] = self.client.get_by_id(ref.path, object_id)
        return self._rows[(ref.path, object_id)]

    # ---- resolving -----------------------------------------------------------------------------
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
            scope_name = self._scope_name(other_option, other["id"])
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
                self._assume_created(option, label, value, ref, warnings)
                return placeholder
            raise InputError(ref.missing.format(**words))
        return {"id": matches[0]["id"]}

    def _scope_name(self, option, object_id):
        """How a scoping row is named in messages: its match value as read, else its id."""
        ref = self.resource.fields[option].ref
        name = field_of(self._rows.get((ref.path, object_id)), ref.match) if isinstance(ref.match, str) else None
        return object_id if name is None else name

    def _assume_created(self, option, label, value, ref, warnings):
        entry = {"option": option, "label": label, "name": value, "path": ref.path}
        if entry not in self.unresolved:
            self.unresolved.append(entry)
        if warnings is not None:
            warnings.append("%s %r does not exist yet; assuming an earlier task creates it" % (label, value))

    def resolve_for(self, desired, state, warnings):
        """Resolve the references ``desired`` gives; scoped ones after the references that scope them.

        For ``state: absent`` a missing reference is a placeholder: nothing can refer to it.
        """
        refs = [(option, field) for option, field in self.resource.fields.items()
                if option in desired and field.kind == "ref"]
        refs.sort(key=lambda item: item[1].ref.within is not None)
        resolved = {}
        for option, field in refs:
            resolved[option] = self.resolve(option, field.ref, desired[option], resolved, warnings,
                                            missing_ok=state == "absent")
        return resolved
