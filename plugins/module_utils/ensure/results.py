# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's outcomes as a module's result, the same for every ensure module and for ``setup_info``.

:func:`ensure_one` (one object) and :func:`ensure_many` (one object or hundreds, see
:class:`Many`) return an :class:`Ensured`; the module wrapper (``connectwise_module.py``)
exits with it, ``setup_info`` returns it as a prediction.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold

OPERATIONS = ("create", "update", "delete", "none")


class Ensured:
    """What an ensure module returns, before it exits: the same for the module and for ``setup_info``.

    ``result`` is the module's result, ``warnings`` the messages it issues (each once), ``error``
    the message it fails with (None: it does not fail; ``result`` is returned with the failure too).
    """

    def __init__(self, result, warnings=(), error=None):
        self.result = result
        self.warnings = list(warnings)
        self.error = error


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


def ensure_one(engine, params, diff=False):
    """Ensure one object (``params`` are its options, ``state`` among them): an :class:`Ensured`.

    The result has ``changed``, ``operation``, the ``object``, the ``unresolved`` references (check mode)
    and, with ``diff``, the changed fields before and after. Input and API errors are raised.
    """
    outcome = engine.ensure(params, params.get("state", "present"))
    result = dict(changed=outcome.changed, operation=outcome.operation, object=outcome.object,
                  unresolved=list(engine.unresolved))
    if diff and outcome.changed:
        result["diff"] = outcome.diff("%s %s" % (engine.resource.name, " ".join(
            str(params.get(k)) for k in engine.resource.key)))
    return Ensured(result, outcome.warnings, outcome.error)


def ensure_many(engine, many, params, item, bulk_key, shared=(), diff_label=None, diff=False):
    """Ensure the objects a :class:`Many` task names: an :class:`Ensured`.

    ``item(identifier, overrides)`` gives one object's options for the engine. Every object's
    input is checked before the first request: a bad value raises ``InputError`` naming the object.
    ``bulk_key`` and ``shared`` are :meth:`Engine.ensure_many`'s.

    ``results`` has one entry per item in the order given (the item's ``many.one``, its
    ``operation``, ``id``, ``object``, ``converged`` and ``error``), ``counts`` counts each
    operation and the failures, ``diff`` (with ``diff``) lists one before/after per changed object
    (``diff_label`` is formatted with the item). A task that named one object also returns its
    ``operation`` and ``object``. Failures are ``failed_<many.many>`` ({item: reason}): the
    result then has an ``error``, and is returned with it.
    """
    state = params.get("state", "present")
    items = [item(identifier, overrides) for identifier, overrides in many.entries(params)]
    for one in items:
        try:
            engine.wanted_for(one, state)
        except InputError as exc:
            raise InputError("%s %r: %s" % (many.one, one[many.one], exc))
    outcomes = engine.ensure_many(items, state, bulk_key=bulk_key, shared=shared)
    results, diffs, failed = [], [], {}
    counts = dict.fromkeys(OPERATIONS + ("failed",), 0)
    warnings = list(engine.warnings)
    for one, outcome in zip(items, outcomes):
        name = one[many.one]
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
                diffs.append(outcome.diff(diff_label.format(**one) if diff_label else None))
        results.append(entry)
    result = dict(changed=any(o.changed for o in outcomes if not o.failed), results=results, counts=counts)
    if params.get(many.one) is not None and results:
        result.update(operation=results[0]["operation"], object=results[0]["object"])
    if diff and diffs:
        result["diff"] = diffs
    error = None
    if failed:
        result["failed_" + many.many] = failed
        error = next(iter(failed.values())) if len(items) == 1 else "%d of %d %s failed: %s" % (
            len(failed), len(items), many.many, "; ".join("%s: %s" % pair for pair in failed.items()))
    return Ensured(result, sorted(set(warnings)), error)
