# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deletes ConnectWise would refuse, refused first: the rows that still refer to an object."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.outcome import key_text
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError


class InUse:
    """Reads the :class:`Referrer` rows of a resource's objects (the lists of parents read once).

    ``deleted_first(referrer, row, parent)``: whether the caller deletes this referring row before
    the object (a teardown's earlier task); a check-mode preview must not count it as a refusal.
    """

    def __init__(self, client, resource, deleted_first=None):
        self.client = client
        self.resource = resource
        self.deleted_first = deleted_first
        self._parent_ids = {}

    def references(self, obj):
        """``[(referrer, row, parent id)]``: the rows that make ConnectWise refuse deleting ``obj`` now."""
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

    def refuse_delete(self, existing, key):
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
                         "delete those first" % (self.resource.name, key_text(key), existing.get("id"), uses))
