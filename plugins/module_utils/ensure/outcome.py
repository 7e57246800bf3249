# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the engine did, or in check mode would do, to one object."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Outcome:
    """What happened (or, in check mode, would happen) to one object.

    A failed object has an ``error`` (the message) and its ``cause`` (the exception), which
    :meth:`Engine.ensure` raises for the one object it was asked for.
    """

    def __init__(self, operation, obj, before=None, after=None, warnings=None, key=None, error=None,
                 converged=None, cause=None):
        self.operation = operation
        # After a create raced another run's: {"kept": winner id, "removed": [our duplicate's id]}.
        self.converged = converged
        self.object = obj
        self.before = before or {}
        self.after = after or {}
        self.warnings = list(warnings or [])
        self.key = key
        self.error = error
        self.cause = cause

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


def failed(resource, params, exc, warnings):
    """The outcome of an object that failed with ``exc``: nothing done, the message kept."""
    key = {option: params.get(option) for option in resource.key}
    return Outcome("none", None, key=key, warnings=warnings, error=str(exc), cause=exc)


def key_text(key):
    """An object's natural key as messages name it: ``name='Backup'``."""
    return ", ".join("%s=%r" % item for item in (key or {}).items())
