# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mbs.connectwise contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an ensure module declares: its :class:`Resource`, each option's :class:`Field`, references.

Declarations are data: the engine (``engine.py``) reads them and does the same for every
resource. They know no endpoint of their own; the collection's resources are declared in
``module_utils/resources.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mbs.connectwise.plugins.module_utils import conditions as cond
from ansible_collections.mbs.connectwise.plugins.module_utils.identity import fold


class _Clear:
    """An option value meaning "this field must be empty" (compared, cleared with a PATCH)."""

    def __repr__(self):
        return "CLEAR"


CLEAR = _Clear()
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
