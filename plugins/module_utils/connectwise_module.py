# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``AnsibleModule`` with the collection's connection options and error reporting.

Every module that talks to ConnectWise is a :class:`ConnectWiseModule`: it gets
the documented connection options (with their ``CW_*`` environment fallbacks),
one lazily built client, and one way of turning errors into ``fail_json``.
An ensure module ends in :func:`run_ensure` (one object) or :func:`run_ensure_many`
(one object or hundreds, see :class:`Many`): both turn the engine's outcomes into the
module result the same way for every module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mbs.connectwise.plugins.module_utils.client import (
    ConnectWiseClient,
    InputError,
    connection_argument_spec,
)
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold
from ansible_collections.mbs.connectwise.plugins.module_utils.transport import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    ApiError,
)

OPERATIONS = ("create", "update", "delete", "none")


class ConnectWiseModule(AnsibleModule):

    def __init__(self, argument_spec, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec)
        super(ConnectWiseModule, self).__init__(argument_spec=spec, **kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            try:
                self._client = ConnectWiseClient.from_params(self.params)
            except InputError as exc:
                self.fail_json(msg=str(exc))
        return self._client

    def fail_from(self, exc, **result):
        """One failure shape for every module: a readable message plus structured detail."""
        if isinstance(exc, ApiError):
            self.fail_json(msg=str(exc), error=exc.to_result(), **result)
        self.fail_json(msg=str(exc), **result)

    def exit_outcome(self, outcome, diff_label=None, unresolved=None, **result):
        """Exit with the shape every ensure module returns."""
        if outcome.failed:
            self.fail_json(msg=outcome.error, warnings=outcome.warnings, **result)
        for warning in outcome.warnings:
            self.warn(warning)
        result.update(changed=outcome.changed, operation=outcome.operation, object=outcome.object,
                      unresolved=list(unresolved or []))
        if self._diff and outcome.changed:
            result["diff"] = outcome.diff(diff_label)
        self.exit_json(**result)

    def exit_many(self, many, items, outcomes, warnings=(), diff_label=None):
        """Exit with one result for many objects, failing when any of them failed.

        ``results`` has one entry per item in the order given (the item's ``many.one``, its
        ``operation``, ``id``, ``object``, ``converged`` and ``error``), ``counts`` counts
        each operation and the failures, ``diff`` lists one before/after per changed object
        (``diff_label`` is formatted with the item), and every warning is issued once. A
        task that named one object also returns its ``operation`` and ``object``. Failures
        are ``failed_<many.many>`` ({item: reason}); the results are returned with them.
        """
        results, diffs, failed = [], [], {}
        counts = dict.fromkeys(OPERATIONS + ("failed",), 0)
        warnings = list(warnings)
        for item, outcome in zip(items, outcomes):
            name = item[many.one]
            warnings.extend(outcome.warnings)
            entry = {many.one: name, "operation": "none", "id": None, "object": None, "error": outcome.error,
                     "converged": None}
            if outcome.failed:
                counts["failed"] += 1
                failed[name] = outcome.error
            else:
                entry.update(operation=outcome.operation, object=outcome.object, converged=outcome.converged,
                             id=(outcome.object or {}).get("id"))
                counts[outcome.operation] += 1
                if outcome.changed:
                    diffs.append(outcome.diff(diff_label.format(**item) if diff_label else None))
            results.append(entry)
        result = dict(changed=any(o.changed for o in outcomes if not o.failed), results=results, counts=counts)
        if self.params.get(many.one) is not None and results:
            result.update(operation=results[0]["operation"], object=results[0]["object"])
        if self._diff and diffs:
            result["diff"] = diffs
        for warning in sorted(set(warnings)):
            self.warn(warning)
        if failed:
            msg = next(iter(failed.values())) if len(items) == 1 else "%d of %d %s failed: %s" % (
                len(failed), len(items), many.many, "; ".join("%s: %s" % pair for pair in failed.items()))
            self.fail_json(msg=msg, **dict(result, **{"failed_" + many.many: failed}))
        self.exit_json(**result)


class Many:
    """A task that names one object (option ``one``) or many (option ``many``).

    Each entry of ``many`` is the object's identifier, or a dictionary with the identifier
    under ``key`` (or ``one``) and per-object ``overrides`` of the task's options. An object
    may be named only once (identifiers compare folded, as ConnectWise compares them).
    """

    def __init__(self, one, many, key, overrides):
        self.one = one
        self.many = many
        self.key = key
        self.overrides = tuple(overrides)

    def entries(self, params):
        """``[(identifier, overrides)]``; input errors only, no I/O."""
        single = params.get(self.one) is not None
        entries, seen = [], {}
        for position, entry in enumerate([params[self.one]] if single else params.get(self.many) or [], 1):
            where = self.one if single else "%s[%d]" % (self.many, position)
            identifier, overrides = entry, {}
            if isinstance(entry, dict):
                unknown = sorted(set(entry) - set(self.overrides) - {self.key, self.one})
                if unknown:
                    raise InputError("%s: unknown key(s) %s; allowed: %s (or %s), %s"
                                     % (where, ", ".join(unknown), self.key, self.one, ", ".join(self.overrides)))
                if self.key in entry and self.one in entry:
                    raise InputError("%s: give the %s as %s or as %s, not both" % (where, self.key, self.key, self.one))
                identifier = entry.get(self.key, entry.get(self.one))
                overrides = {k: entry[k] for k in self.overrides if entry.get(k) is not None}
            if isinstance(identifier, bool) or not isinstance(identifier, (str, int)) or not str(identifier).strip():
                raise InputError("%s: a %s %s (a non-empty string) is required, got %r"
                                 % (where, self.one, self.key, identifier))
            identifier = str(identifier)
            if fold(identifier) in seen:
                raise InputError("%s: %s %r is listed more than once (also %s)"
                                 % (where, self.one, identifier, seen[fold(identifier)]))
            seen[fold(identifier)] = where
            entries.append((identifier, overrides))
        return entries


def run_ensure_many(module, engine, many, item, bulk_key, shared=(), diff_label=None):
    """Ensure the objects a :class:`Many` task names, and exit (see :meth:`ConnectWiseModule.exit_many`).

    ``item(identifier, overrides)`` gives one object's options for the engine. Every
    object's input is checked before the first request: a bad value fails the task,
    naming the object. ``bulk_key`` and ``shared`` are :meth:`Engine.ensure_many`'s.
    """
    state = module.params.get("state", "present")
    try:
        items = [item(identifier, overrides) for identifier, overrides in many.entries(module.params)]
        for one in items:
            try:
                engine.wanted_for(one, state)
            except InputError as exc:
                raise InputError("%s %r: %s" % (many.one, one[many.one], exc))
        outcomes = engine.ensure_many(items, state, bulk_key=bulk_key, shared=shared)
    except (InputError, ApiError) as exc:
        module.fail_from(exc)
    module.exit_many(many, items, outcomes, engine.warnings, diff_label)


def run_ensure(module, engine, params=None):
    """Run one ensure for a module and exit; any error ends in ``fail_json``."""
    try:
        outcome = engine.ensure(params or module.params, module.params.get("state", "present"))
    except (InputError, ApiError) as exc:
        module.fail_from(exc)
    module.exit_outcome(outcome, diff_label="%s %s" % (engine.resource.name, " ".join(
        str(module.params.get(k)) for k in engine.resource.key)), unresolved=engine.unresolved)
