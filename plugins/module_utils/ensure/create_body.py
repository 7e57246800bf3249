# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A new object's POST body: what it gets besides the options given, and what ConnectWise requires."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.declarations import CLEAR, FromRef
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.options import api_date
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.outcome import key_text
from ansible_collections.mbs.connectwise.plugins.module_utils.ensure.values import wire
from ansible_collections.mbs.connectwise.plugins.module_utils.errors import InputError


class _Row(dict):
    """A row for message templates: a field ConnectWise left out reads as None."""

    def __missing__(self, key):
        return None


class CreateBody:
    """Builds the POST body of a :class:`Resource`'s new objects; create defaults are never compared.

    ``references`` (:class:`References`) resolves a default given by name and reads the row a
    :class:`FromRef` default is taken from.
    """

    def __init__(self, resource, references):
        self.resource = resource
        self.references = references

    def build(self, desired, resolved, key, wanted, warnings):
        """The resource's create defaults, the options' defaults, then the ``wanted`` options given.

        A create ConnectWise would refuse (a required option missing) is refused here, first.
        """
        self.check_required(desired, key, resolved)
        body = dict(self.resource.create_defaults)
        defaults = self.default_values(desired, resolved, warnings)
        body.update((api, wire(value)) for api, (kind, value) in defaults.items())
        body.update((api, wire(value)) for api, (kind, value) in wanted.items() if value is not CLEAR)
        return body

    def check_required(self, desired, key, resolved=None):
        """Refuse a create ConnectWise would refuse, naming the missing options."""
        missing = []
        for required in self.resource.required_on_create:
            options = (required,) if isinstance(required, str) else tuple(required)
            if not any(o in desired or self.default(o, desired, resolved) is not None
                       for o in options):
                missing.append(" or ".join(options))
        if missing:
            raise InputError("cannot create %s %s: ConnectWise requires on create: %s (not given)"
                             % (self.resource.name, key_text(key), ", ".join(missing)))

    def default(self, option, desired, resolved):
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
        row = self.references.row(self.resource.fields[default.option].ref, reference["id"]) or {}
        value = row.get(default.field)
        if isinstance(value, dict) and value.get("id") is not None:
            return {"id": value["id"]}
        raise InputError(default.missing.format(row=_Row(row)))

    def default_values(self, desired, resolved, warnings):
        """``{api_field: (kind, value)}`` from the ``create_default`` of options not given."""
        wanted, scope = {}, dict(resolved)
        for option, field in self.resource.fields.items():
            if option in desired or field.create_default is None:
                continue
            value = self.default(option, desired, resolved)
            if value is None:
                continue
            if field.kind == "date":
                value = api_date(value, option)
            elif field.kind == "ref":
                value = scope[option] = self.references.resolve(option, field.ref, value, scope, warnings)
            wanted[field.api] = (field.kind, value)
        return wanted
